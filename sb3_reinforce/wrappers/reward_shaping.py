"""Reward shaping wrappers that keep the environment's own reward in ``info``.

* ``RewardShaping`` - adds a shaping term ``shaping(obs, action, next_obs, reward, terminated, truncated, info)``
  to the reward, or replaces the reward with it.
* ``PotentialShaping`` - potential-based shaping ``F = gamma * phi(s') - phi(s)`` (Ng, Harada & Russell, 1999),
  which leaves the optimal policy unchanged.

Both wrappers write, on every step:

* ``info["true_reward"]`` (:data:`TRUE_REWARD_KEY`): the reward of the environment before any shaping. When shaping
  wrappers are stacked, the innermost value is kept, so it is always the environment's own reward.
* ``info["shaping"]`` (:data:`SHAPING_KEY`): the shaping term added (or substituted) by this wrapper; with stacked
  wrappers the outermost one wins.

and, on the last step of an episode (``terminated or truncated``):

* ``info["true_episode"] = {"r": true_return, "l": length}`` (:data:`TRUE_EPISODE_KEY`): the undiscounted sum of
  ``info["true_reward"]`` over the episode and its length, to log the real return beside the shaped one.
  Which return SB3's ``Monitor`` (``info["episode"]``, ``rollout/ep_rew_mean``) reports depends on where it sits:
  ``make_vec_env(..., wrapper_class=RewardShaping)`` puts ``Monitor`` *inside* the wrapper, so it sees the true
  reward; an algorithm given an already-wrapped env (``Reinforce("MlpPolicy", RewardShaping(env, fn))``) adds
  ``Monitor`` *outside*, so it sees the shaped reward.

The wrappers know nothing about any particular task: the shaping term and the potential are callables (or import
paths ``"module:function"``, which keep ``env.spec`` JSON-friendly). The MountainCar functions of the seed notebook
live with the experiments, in :mod:`sb3_reinforce.experiments.mountain_car`.
"""

from __future__ import annotations

import copy
import importlib
import math
import numbers
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.core import ActType, ObsType

__all__ = [
    "SHAPING_KEY",
    "TRUE_EPISODE_KEY",
    "TRUE_REWARD_KEY",
    "PotentialFn",
    "PotentialShaping",
    "RewardShaping",
    "ShapingFn",
]

#: ``info`` key holding the environment's own (unshaped) reward of the step.
TRUE_REWARD_KEY = "true_reward"
#: ``info`` key holding the shaping term of the step.
SHAPING_KEY = "shaping"
#: ``info`` key holding ``{"r": true_return, "l": length}`` on the last step of an episode.
TRUE_EPISODE_KEY = "true_episode"

#: ``shaping(obs, action, next_obs, reward, terminated, truncated, info) -> float``
ShapingFn = Callable[[Any, Any, Any, float, bool, bool, dict[str, Any]], SupportsFloat]
#: ``potential(obs) -> float``
PotentialFn = Callable[[Any], SupportsFloat]

_MODES = ("add", "replace")


def _resolve_callable(value: Any, name: str) -> Any:
    """
    Return ``value`` if it is callable, or the callable that the import path ``"package.module:function"`` names.

    An import path keeps the wrapper's constructor arguments JSON-friendly, so ``env.spec.to_json()`` and
    ``gymnasium.register(additional_wrappers=...)`` work with it.
    """
    if callable(value):
        return value
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a callable or an import path 'module:function', got {value!r}")
    module_name, sep, attribute = value.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"`{name}` must be a callable or an import path 'module:function', got {value!r}")
    try:
        resolved = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"`{name}`={value!r} cannot be imported: {error}") from error
    if not callable(resolved):
        raise TypeError(f"`{name}`={value!r} names {resolved!r}, which is not callable")
    return resolved


def _real_number(value: Any, name: str) -> float:
    """``value`` as a float; a TypeError naming ``name`` if it is not a real number (bools included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r} of type {type(value).__name__}")
    return float(value)


def _finite_float(value: Any, what: str, obs: Any) -> float:
    """Check that ``value`` is one finite number and return it as a float."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"The {what} must return a number, got {value!r} for observation {obs!r}") from error
    if array.size != 1:
        raise ValueError(f"The {what} must return a scalar, got {value!r} for observation {obs!r}")
    result = float(array.reshape(()))
    if not math.isfinite(result):
        raise ValueError(f"The {what} returned a non-finite value {value!r} for observation {obs!r}")
    return result


# -- Wrappers --------------------------------------------------------------------------------------------------------


class _ShapedRewardWrapper(gym.Wrapper[ObsType, ActType, ObsType, ActType]):
    """
    Common step logic: compute the shaping term, fill ``info`` and track the true episodic return.

    Subclasses implement :meth:`_on_reset` and :meth:`_shape`.
    """

    def __init__(self, env: gym.Env[ObsType, ActType]) -> None:
        super().__init__(env)
        self.last_obs: ObsType | None = None
        self._true_return = 0.0
        self._length = 0

    def _on_reset(self, obs: ObsType) -> None:
        """Hook called with the first observation of an episode."""

    def _shape(
        self,
        obs: ObsType,
        action: ActType,
        next_obs: ObsType,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> tuple[float, float]:
        """Return ``(shaped_reward, shaping_term)``."""
        raise NotImplementedError

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[ObsType, dict[str, Any]]:
        """Reset the environment, the stored observation and the true-return accumulator."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._on_reset(obs)
        self.last_obs = copy.deepcopy(obs)
        self._true_return = 0.0
        self._length = 0
        return obs, info

    def step(self, action: ActType) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the environment, shape the reward and record the true reward in ``info``."""
        if self.last_obs is None:
            raise gym.error.ResetNeeded(f"Cannot call {type(self).__name__}.step() before reset()")
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        shaped_reward, shaping = self._shape(
            self.last_obs, action, next_obs, float(reward), bool(terminated), bool(truncated), info
        )
        # Keep the innermost value when shaping wrappers are stacked: it is the environment's own reward
        info.setdefault(TRUE_REWARD_KEY, float(reward))
        info[SHAPING_KEY] = shaping
        self._true_return += float(info[TRUE_REWARD_KEY])
        self._length += 1
        if terminated or truncated:
            info.setdefault(TRUE_EPISODE_KEY, {"r": self._true_return, "l": self._length})
        self.last_obs = copy.deepcopy(next_obs)
        return next_obs, shaped_reward, terminated, truncated, info


class RewardShaping(_ShapedRewardWrapper[ObsType, ActType], gym.utils.RecordConstructorArgs):
    """
    Add a shaping term to the reward, or replace the reward with it.

    The term is ``shaping(obs, action, next_obs, reward, terminated, truncated, info)``, where ``obs`` is the
    observation before the step, ``next_obs`` the one after it and ``reward`` the reward of the wrapped
    environment. Arbitrary shaping can change the optimal policy (the seed notebook's ``0.1 * x**2`` rewards
    hovering high on the left hill); use :class:`PotentialShaping` to avoid that.

    The environment's reward stays available as ``info["true_reward"]``, the term as ``info["shaping"]`` and,
    at the end of an episode, the true return as ``info["true_episode"]["r"]`` (see the module docstring).

    Pickling: a module-level function pickles by reference. A lambda or a local function cannot be pickled with
    :mod:`pickle` (``SubprocVecEnv`` and ``make_vec_env`` use ``cloudpickle`` on the env *factory*, which handles
    them, but ``pickle.dumps(env)`` does not): prefer a module-level function.

    Example:
        >>> import gymnasium as gym
        >>> from sb3_reinforce.wrappers import RewardShaping
        >>> env = RewardShaping(gym.make("CartPole-v1"), lambda obs, action, next_obs, *_: -abs(float(next_obs[2])))
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step(0)
        >>> reward == 1.0 + info["shaping"], info["true_reward"]
        (True, 1.0)

        The same term replacing the environment's reward:

        >>> env = RewardShaping(gym.make("CartPole-v1"), lambda obs, action, next_obs, *_: 0.5, mode="replace")
        >>> _ = env.reset(seed=0)
        >>> env.step(0)[1]
        0.5

    :param env: Environment to wrap
    :param shaping: A callable ``shaping(obs, action, next_obs, reward, terminated, truncated, info) -> float``,
        or the import path ``"module:function"`` of one
    :param mode: ``"add"`` adds the term to the environment's reward, ``"replace"`` returns the term alone
    :raises TypeError: If ``shaping`` is neither a callable nor a string.
    :raises ValueError: If ``shaping`` is a string that does not import, if ``mode`` is not ``"add"`` /
        ``"replace"``, and (in :meth:`step`) if the shaping term is not a finite number.

    Change logs:
     * 0.1.0 - Initially added
     * 0.2.0 - Presets (``"seed"``) moved to :mod:`sb3_reinforce.experiments.mountain_car`; ``mode`` defaults to ``"add"``
    """

    def __init__(self, env: gym.Env[ObsType, ActType], shaping: str | ShapingFn, mode: str = "add") -> None:
        shaping_fn: ShapingFn = _resolve_callable(shaping, "shaping")
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}, got {mode!r}")

        gym.utils.RecordConstructorArgs.__init__(self, shaping=shaping, mode=mode)
        _ShapedRewardWrapper.__init__(self, env)

        self.shaping_fn = shaping_fn
        self.mode = mode

    def _shape(
        self,
        obs: ObsType,
        action: ActType,
        next_obs: ObsType,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> tuple[float, float]:
        term = _finite_float(
            self.shaping_fn(obs, action, next_obs, reward, terminated, truncated, info), "shaping function", next_obs
        )
        return (term if self.mode == "replace" else reward + term), term


class PotentialShaping(_ShapedRewardWrapper[ObsType, ActType], gym.utils.RecordConstructorArgs):
    """
    Potential-based reward shaping: add ``F = gamma * phi(s') - phi(s)`` to the reward.

    Paper: Ng, Harada & Russell (1999), "Policy invariance under reward transformations: Theory and application to
    reward shaping", ICML. https://people.eecs.berkeley.edu/~pabbeel/cs287-fa09/readings/NgHaradaRussell-shaping-ICML1999.pdf

    Here ``phi(s) = scale * potential(s)``. The discounted sum of the terms over an episode telescopes,
    ``sum_t gamma**t * F_t = gamma**T * phi(s_T) - phi(s_0)``, so shaping changes every return by an amount that
    does not depend on the actions and the optimal policy is unchanged. This holds only if ``gamma`` is the
    discount factor of the algorithm (``Reinforce(gamma=...)``, ``PPO(gamma=...)``): pass the same value.
    Terminal states have zero potential (``phi(s') = 0`` when ``terminated``); on truncation (time limit) the real
    ``phi(s')`` is used, since the episode could have gone on.

    The environment's reward stays available as ``info["true_reward"]``, ``F`` as ``info["shaping"]`` and, at the
    end of an episode, the true return as ``info["true_episode"]["r"]`` (see the module docstring).

    Pickling: as for :class:`RewardShaping`, prefer module-level functions to lambdas.

    Example:
        >>> import gymnasium as gym
        >>> import numpy as np
        >>> from sb3_reinforce.wrappers import PotentialShaping
        >>> height = lambda obs: float(obs[0])  # the position of the MountainCar car
        >>> env = PotentialShaping(gym.make("MountainCarContinuous-v0"), height, gamma=0.99, scale=10.0)
        >>> obs, _ = env.reset(seed=0)
        >>> next_obs, reward, terminated, truncated, info = env.step(np.array([1.0], dtype=np.float32))
        >>> bool(np.isclose(info["shaping"], 0.99 * 10.0 * next_obs[0] - 10.0 * obs[0]))
        True
        >>> bool(np.isclose(reward, info["true_reward"] + info["shaping"]))
        True

    :param env: Environment to wrap
    :param potential: A callable ``potential(obs) -> float``, or the import path ``"module:function"`` of one
    :param gamma: Discount factor, in ``[0, 1]``; must be the ``gamma`` of the algorithm that learns on the env
    :param scale: Multiplies the potential
    :raises TypeError: If ``potential`` is neither a callable nor a string, or ``gamma`` / ``scale`` is not a number.
    :raises ValueError: If ``potential`` is a string that does not import, if ``gamma`` is not in ``[0, 1]`` or
        ``scale`` is not finite, and (in :meth:`reset` / :meth:`step`) if the potential is not a finite number.

    Change logs:
     * 0.1.0 - Initially added
     * 0.2.0 - Presets (``"energy"``) moved to :mod:`sb3_reinforce.experiments.mountain_car`; ``scale`` defaults to 1
    """

    def __init__(
        self,
        env: gym.Env[ObsType, ActType],
        potential: str | PotentialFn,
        gamma: float,
        scale: float = 1.0,
    ) -> None:
        potential_fn: PotentialFn = _resolve_callable(potential, "potential")
        gamma_value = _real_number(gamma, "gamma")
        if not 0.0 <= gamma_value <= 1.0:
            raise ValueError(f"`gamma` must be in [0, 1], got {gamma!r}")
        scale_value = _real_number(scale, "scale")
        if not math.isfinite(scale_value):
            raise ValueError(f"`scale` must be finite, got {scale!r}")

        gym.utils.RecordConstructorArgs.__init__(self, potential=potential, gamma=gamma, scale=scale)
        _ShapedRewardWrapper.__init__(self, env)

        self.potential_fn = potential_fn
        self.gamma = gamma_value
        self.scale = scale_value
        self.last_potential = 0.0

    def phi(self, obs: Any) -> float:
        """
        The scaled potential ``scale * potential(obs)``.

        :param obs: An observation of the wrapped environment
        :return: The potential, a finite float
        :raises ValueError: If the potential is not a finite number
        """
        return self.scale * _finite_float(self.potential_fn(obs), "potential", obs)

    def _on_reset(self, obs: ObsType) -> None:
        self.last_potential = self.phi(obs)

    def _shape(
        self,
        obs: ObsType,
        action: ActType,
        next_obs: ObsType,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
    ) -> tuple[float, float]:
        # phi(terminal) = 0 (Ng et al., 1999); a truncated episode keeps the real potential
        next_potential = 0.0 if terminated else self.phi(next_obs)
        term = self.gamma * next_potential - self.last_potential
        self.last_potential = next_potential
        return reward + term, term
