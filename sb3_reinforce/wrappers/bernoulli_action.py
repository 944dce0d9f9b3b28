"""Bernoulli (bit-vector) actions for environments with a bounded continuous action space.

* ``BernoulliToContinuous`` - exposes ``MultiBinary(n)`` (or ``Discrete(2)``) on top of a ``Box(n,)`` action space,
  mapping each bit to one of two values per dimension ("bang-bang" control).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.core import ObsType

__all__ = ["BernoulliToContinuous"]

#: What ``low`` / ``high`` accept: a scalar (broadcast to every dimension) or one value per dimension.
BoundLike = float | Sequence[float] | np.ndarray


def _as_plain(value: BoundLike | None) -> float | list[float] | None:
    """Turn numpy scalars / arrays into Python floats / lists so that ``env.spec`` stays comparable and JSON-friendly."""
    if value is None:
        return None
    return np.asarray(value, dtype=np.float64).tolist()


class BernoulliToContinuous(
    gym.ActionWrapper[ObsType, "np.ndarray | int", np.ndarray],
    gym.utils.RecordConstructorArgs,
):
    """
    Expose a bounded ``Box(n,)`` action space as ``MultiBinary(n)``: bit ``0`` plays ``low[i]``, bit ``1`` plays ``high[i]``.

    With SB3, ``MultiBinary`` makes ``MlpPolicy`` use a ``BernoulliDistribution``: one sigmoid output per dimension,
    which is exactly the policy of the seed MountainCar notebook. By default ``low`` / ``high`` are the bounds of the
    wrapped ``Box``, so ``MountainCarContinuous-v0`` gets full throttle left (``-1.0``) or right (``+1.0``), i.e.
    bang-bang control. ``low=0.0, high=1.0`` reproduces the notebook's own mapping (``env.step([action])`` with a
    boolean action), in which the car can only push right or coast and can never push left.

    With ``discrete=True`` the exposed space is ``Discrete(2)`` instead (only for a one-dimensional ``Box``), so that
    algorithms that need a ``Discrete`` action space (DQN, ...) can drive the environment too.

    Actions may be numpy arrays of any integer, boolean or float dtype holding only ``0`` / ``1`` (as SB3 passes
    them), lists, or, for ``discrete=True`` or ``n == 1``, a plain ``int``.

    Example:
        >>> import gymnasium as gym
        >>> import numpy as np
        >>> from sb3_reinforce.wrappers import BernoulliToContinuous
        >>> env = gym.make("MountainCarContinuous-v0")
        >>> env.action_space
        Box(-1.0, 1.0, (1,), float32)
        >>> env = BernoulliToContinuous(env)
        >>> env.action_space
        MultiBinary(1)
        >>> env.action(np.array([1])), env.action(np.array([0]))
        (array([1.], dtype=float32), array([-1.], dtype=float32))
        >>> _ = env.reset(seed=0)
        >>> _ = env.step(np.array([1]))

        The notebook's mapping, and the ``Discrete(2)`` variant:

        >>> notebook_env = BernoulliToContinuous(gym.make("MountainCarContinuous-v0"), low=0.0, high=1.0)
        >>> notebook_env.action([0]), notebook_env.action([1])
        (array([0.], dtype=float32), array([1.], dtype=float32))
        >>> BernoulliToContinuous(gym.make("Pendulum-v1"), discrete=True).action_space
        Discrete(2)

    :param env: Environment with a bounded ``Box`` action space of shape ``(n,)``
    :param low: Value played for bit ``0``: a scalar (broadcast to every dimension) or an array of shape ``(n,)``.
        Defaults to ``env.action_space.low``. Must lie inside the ``Box``.
    :param high: Value played for bit ``1``: a scalar or an array of shape ``(n,)``.
        Defaults to ``env.action_space.high``. Must lie inside the ``Box``.
        ``high`` does not have to be larger than ``low``.
    :param discrete: Expose ``Discrete(2)`` instead of ``MultiBinary(1)``; requires ``n == 1``.
    :raises TypeError: If the action space of ``env`` is not a ``Box``.
    :raises ValueError: If the ``Box`` is not one-dimensional, if a default bound is infinite,
        if ``low`` / ``high`` have the wrong shape, are not finite or lie outside the ``Box``,
        or if ``discrete=True`` and ``n > 1``.

    Change logs:
     * 0.1.0 - Initially added
    """

    def __init__(
        self,
        env: gym.Env[ObsType, np.ndarray],
        low: BoundLike | None = None,
        high: BoundLike | None = None,
        discrete: bool = False,
    ) -> None:
        box = env.action_space
        if not isinstance(box, spaces.Box):
            raise TypeError(f"BernoulliToContinuous requires a Box action space, got {box!r}")
        if len(box.shape) != 1:
            raise ValueError(
                f"BernoulliToContinuous requires a one-dimensional Box action space of shape (n,), got {box!r} "
                "(SB3 does not support multi-dimensional MultiBinary action spaces)"
            )
        n = int(box.shape[0])
        if discrete and n != 1:
            raise ValueError(f"discrete=True requires a Box action space with a single dimension, got {box!r}")

        low_array = self._validate_bound("low", low, box.low, box)
        high_array = self._validate_bound("high", high, box.high, box)

        gym.utils.RecordConstructorArgs.__init__(self, low=_as_plain(low), high=_as_plain(high), discrete=discrete)
        gym.ActionWrapper.__init__(self, env)

        self.n = n
        self.discrete = discrete
        self.low: np.ndarray = low_array
        self.high: np.ndarray = high_array
        # Discrete yields np.int64 and MultiBinary int8 arrays, both accepted by `action`
        self.action_space = spaces.Discrete(2) if discrete else spaces.MultiBinary(n)  # type: ignore[assignment]

    @staticmethod
    def _validate_bound(name: str, value: BoundLike | None, default: np.ndarray, box: spaces.Box) -> np.ndarray:
        """Broadcast ``value`` (or the Box ``default``) to shape ``(n,)`` in the Box dtype and check it lies in the Box."""
        if value is None:
            if not np.all(np.isfinite(default)):
                raise ValueError(
                    f"The action space {box!r} is unbounded ({name}={default}): pass finite `{name}` values explicitly"
                )
            return default.astype(box.dtype).copy()

        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"`{name}` must be a number or an array of numbers, got {value!r}") from error
        if array.ndim == 0:
            array = np.full(box.shape, array, dtype=np.float64)
        if array.shape != box.shape:
            raise ValueError(f"`{name}` must be a scalar or have shape {box.shape}, got {value!r} with shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"`{name}` must be finite, got {value!r}")
        # Compare in the Box dtype, the values that will actually be sent to the environment
        cast = array.astype(box.dtype)
        if np.any(cast < box.low) or np.any(cast > box.high):
            raise ValueError(f"`{name}`={value!r} lies outside the action space {box!r} (low={box.low}, high={box.high})")
        return cast

    def _bits(self, action: Any) -> np.ndarray:
        """Validate ``action`` and return it as a boolean array of shape ``(n,)``."""
        array = np.asarray(action)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"Invalid action {action!r}: expected {self._expected()}, got dtype {array.dtype}")
        if self.discrete or self.n == 1:
            # Plain ints, 0-d arrays and shape (1,) arrays are all one bit
            if array.size != 1 or array.ndim > 1:
                raise ValueError(f"Invalid action {action!r}: expected {self._expected()}, got shape {array.shape}")
            array = array.reshape(1)
        elif array.shape != (self.n,):
            raise ValueError(f"Invalid action {action!r}: expected {self._expected()}, got shape {array.shape}")
        is_zero = array == 0
        is_one = array == 1
        if not np.all(is_zero | is_one):
            raise ValueError(f"Invalid action {action!r}: expected {self._expected()}, got values outside {{0, 1}}")
        return is_one

    def _expected(self) -> str:
        if self.discrete:
            return "0 or 1 for the Discrete(2) action space"
        return f"a bit vector of shape ({self.n},) with values in {{0, 1}}"

    def action(self, action: np.ndarray | int) -> np.ndarray:
        """
        Map a bit vector to the continuous action: ``high[i]`` where bit ``i`` is ``1``, ``low[i]`` where it is ``0``.

        :param action: Bits, of shape ``(n,)`` (or an ``int`` for ``discrete=True`` / ``n == 1``)
        :return: The action for the wrapped environment, in the dtype of its ``Box``
        :raises ValueError: If ``action`` is not a valid bit vector (wrong shape, a value other than 0 or 1)
        """
        return np.where(self._bits(action), self.high, self.low)
