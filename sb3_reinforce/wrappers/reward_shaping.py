"""Reward shaping wrappers that keep the environment's own reward in ``info``.

* ``RewardShaping`` - adds a shaping term ``shaping(obs, action, next_obs, reward, terminated, truncated, info)``
  to the reward, or replaces the reward with it (the seed notebook's ``0.1 * position**2``).
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
  reward; an algorithm given an already-wrapped env (``Reinforce("MlpPolicy", RewardShaping(env, "seed"))``) adds
  ``Monitor`` *outside*, so it sees the shaped reward.

Presets are module-level functions, so a wrapped environment can be pickled (``SubprocVecEnv``, ``env.spec``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.core import ActType, ObsType

__all__ = [
    "MOUNTAIN_CAR_ENERGY_SCALE",
    "POTENTIAL_PRESETS",
    "SHAPING_KEY",
    "SHAPING_PRESETS",
    "TRUE_EPISODE_KEY",
    "TRUE_REWARD_KEY",
    "PotentialFn",
    "PotentialShaping",
    "RewardShaping",
    "ShapingFn",
    "mountain_car_energy",
    "no_shaping",
    "seed_shaping",
    "zero_potential",
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

#: Default ``scale`` of the ``"energy"`` potential. ``phi(goal at rest) - phi(valley bottom at rest)`` is then
#: ``5000 * 0.0025 / 3 * (sin(1.35) + 1) = 8.2``, and ``phi`` at the speed limit (``|v| = 0.07``) adds ``12.25``:
#: the same order of magnitude as the ``+100`` goal bonus spread over a ~100-step episode.
MOUNTAIN_CAR_ENERGY_SCALE = 5000.0


# -- Presets ---------------------------------------------------------------------------------------------------------


def no_shaping(
    obs: Any, action: Any, next_obs: Any, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]
) -> float:
    """
    Zero shaping term (preset ``"none"``).

    >>> no_shaping(None, None, None, -1.0, False, False, {})
    0.0
    """
    return 0.0


def seed_shaping(
    obs: Any, action: Any, next_obs: Any, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]
) -> float:
    """
    The seed notebook's MountainCar reward, ``0.1 * x**2`` with ``x = next_obs[0]``, the car position after the step.

    Preset ``"seed"``; ``RewardShaping`` uses it with ``mode="replace"`` by default, as the notebook did. The reward
    grows with the distance to ``x = 0`` on either side, so it rewards swinging up either hill.

    >>> import numpy as np
    >>> seed_shaping(None, None, np.array([-0.5, 0.0]), 0.0, False, False, {})
    0.025
    """
    position = float(next_obs[0])
    return 0.1 * position**2


def zero_potential(obs: Any) -> float:
    """
    Constant zero potential (preset ``"none"``): no shaping at all.

    >>> zero_potential(None)
    0.0
    """
    return 0.0


def mountain_car_energy(obs: Any) -> float:
    """
    Mechanical energy per unit mass of the MountainCar car, ``0.5 * v**2 + (0.0025 / 3) * sin(3 * x)`` (preset ``"energy"``).

    ``obs = [x, v]``. MountainCar's gravity term ``-0.0025 * cos(3 * x)`` derives from the height
    ``(0.0025 / 3) * sin(3 * x)``, so this energy only grows when the engine pumps it in. ``PotentialShaping``
    multiplies it by ``scale`` (default :data:`MOUNTAIN_CAR_ENERGY_SCALE`).

    >>> import math
    >>> math.isclose(mountain_car_energy([-math.pi / 6, 0.0]), -0.0025 / 3)
    True
    """
    position, velocity = float(obs[0]), float(obs[1])
    return 0.5 * velocity**2 + (0.0025 / 3.0) * math.sin(3.0 * position)


#: Shaping presets of ``RewardShaping``, by name.
SHAPING_PRESETS: dict[str, ShapingFn] = {"none": no_shaping, "seed": seed_shaping}
#: Potential presets of ``PotentialShaping``, by name.
POTENTIAL_PRESETS: dict[str, PotentialFn] = {"none": zero_potential, "energy": mountain_car_energy}

# Default ``mode`` of ``RewardShaping`` per preset (callables: "add"), default ``scale`` of ``PotentialShaping``
_PRESET_MODES = {"seed": "replace"}
_PRESET_SCALES = {"energy": MOUNTAIN_CAR_ENERGY_SCALE}
_MODES = ("add", "replace")


def _resolve_preset(value: Any, presets: dict[str, Any], what: str) -> Any:
    """Return the preset called ``value`` or the callable ``value`` itself."""
    if isinstance(value, str):
        if value not in presets:
            raise ValueError(f"Unknown {what} preset {value!r}, valid presets are: {', '.join(map(repr, presets))}")
        return presets[value]
    if callable(value):
        return value
    raise TypeError(f"`{what}` must be a preset name ({', '.join(map(repr, presets))}) or a callable, got {value!r}")


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

    Presets (:data:`SHAPING_PRESETS`): ``"seed"`` (:func:`seed_shaping`, the notebook's ``0.1 * next_obs[0]**2``,
    used with ``mode="replace"`` by default) and ``"none"`` (:func:`no_shaping`).

    Pickling: presets are module-level functions and pickle by reference. A lambda or a local function cannot be
    pickled with :mod:`pickle` (``SubprocVecEnv`` and ``make_vec_env`` use ``cloudpickle`` on the env *factory*, which
    handles them, but ``pickle.dumps(env)`` does not): prefer a module-level function.

    Example:
        >>> import gymnasium as gym
        >>> import numpy as np
        >>> from sb3_reinforce.wrappers import RewardShaping
        >>> env = RewardShaping(gym.make("MountainCarContinuous-v0"), "seed")
        >>> _ = env.reset(seed=0)
        >>> next_obs, reward, terminated, truncated, info = env.step(np.array([1.0], dtype=np.float32))
        >>> reward == 0.1 * float(next_obs[0]) ** 2
        True
        >>> round(info["true_reward"], 3), info["shaping"] == reward
        (-0.1, True)

        A callable shaping term, added to the environment's reward:

        >>> env = RewardShaping(gym.make("CartPole-v1"), lambda obs, action, next_obs, *_: -abs(float(next_obs[2])))
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step(0)
        >>> reward == 1.0 + info["shaping"], info["true_reward"]
        (True, 1.0)

    :param env: Environment to wrap
    :param shaping: A preset name from :data:`SHAPING_PRESETS` or a callable
        ``shaping(obs, action, next_obs, reward, terminated, truncated, info) -> float``
    :param mode: ``"add"`` adds the term to the environment's reward, ``"replace"`` returns the term alone.
        ``None`` means the preset's default: ``"replace"`` for ``"seed"``, ``"add"`` for everything else.
    :raises TypeError: If ``shaping`` is neither a string nor a callable.
    :raises ValueError: If ``shaping`` is an unknown preset, if ``mode`` is not ``"add"`` / ``"replace"``,
        if ``"seed"`` is used on an environment without a ``Box`` observation space, and (in :meth:`step`)
        if the shaping term is not a finite number.

    Change logs:
     * 0.1.0 - Initially added
    """

    def __init__(self, env: gym.Env[ObsType, ActType], shaping: str | ShapingFn, mode: str | None = None) -> None:
        shaping_fn: ShapingFn = _resolve_preset(shaping, SHAPING_PRESETS, "shaping")
        mode_default = _PRESET_MODES.get(shaping, "add") if isinstance(shaping, str) else "add"
        resolved_mode = mode_default if mode is None else mode
        if resolved_mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}, got {mode!r}")
        if shaping == "seed" and not isinstance(env.observation_space, spaces.Box):
            raise ValueError(
                f"The 'seed' shaping preset reads the position next_obs[0] and needs a Box observation space, "
                f"got {env.observation_space!r}"
            )

        gym.utils.RecordConstructorArgs.__init__(self, shaping=shaping, mode=mode)
        _ShapedRewardWrapper.__init__(self, env)

        self.shaping_fn = shaping_fn
        self.mode = resolved_mode

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

    Presets (:data:`POTENTIAL_PRESETS`): ``"energy"`` (:func:`mountain_car_energy`, MountainCar's mechanical energy,
    default ``scale`` :data:`MOUNTAIN_CAR_ENERGY_SCALE`) and ``"none"`` (:func:`zero_potential`).
    Pickling: as for :class:`RewardShaping`, prefer module-level functions to lambdas.

    Example:
        >>> import gymnasium as gym
        >>> import numpy as np
        >>> from sb3_reinforce.wrappers import PotentialShaping
        >>> env = PotentialShaping(gym.make("MountainCarContinuous-v0"), "energy", gamma=0.99)
        >>> obs, _ = env.reset(seed=0)
        >>> next_obs, reward, terminated, truncated, info = env.step(np.array([1.0], dtype=np.float32))
        >>> phi = lambda o: env.scale * mountain_car_energy(o)
        >>> bool(np.isclose(info["shaping"], 0.99 * phi(next_obs) - phi(obs)))
        True
        >>> bool(np.isclose(reward, info["true_reward"] + info["shaping"]))
        True

    :param env: Environment to wrap
    :param potential: A preset name from :data:`POTENTIAL_PRESETS` or a callable ``potential(obs) -> float``
    :param gamma: Discount factor, in ``[0, 1]``; must be the ``gamma`` of the algorithm that learns on the env
    :param scale: Multiplies the potential. ``None`` means the preset's default:
        :data:`MOUNTAIN_CAR_ENERGY_SCALE` for ``"energy"``, ``1.0`` for everything else.
    :raises TypeError: If ``potential`` is neither a string nor a callable.
    :raises ValueError: If ``potential`` is an unknown preset, if ``"energy"`` is used on an environment whose
        observation space is not a ``Box`` of shape ``(2,)``, if ``gamma`` is not in ``[0, 1]`` or ``scale`` is not
        finite, and (in :meth:`reset` / :meth:`step`) if the potential is not a finite number.

    Change logs:
     * 0.1.0 - Initially added
    """

    def __init__(
        self,
        env: gym.Env[ObsType, ActType],
        potential: str | PotentialFn,
        gamma: float,
        scale: float | None = None,
    ) -> None:
        potential_fn: PotentialFn = _resolve_preset(potential, POTENTIAL_PRESETS, "potential")
        if potential == "energy":
            space = env.observation_space
            if not (isinstance(space, spaces.Box) and space.shape == (2,)):
                raise ValueError(
                    "The 'energy' potential preset is for MountainCar and needs a Box observation space of shape (2,) "
                    f"([position, velocity]), got {space!r}"
                )
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"`gamma` must be in [0, 1], got {gamma!r}")
        scale_default = _PRESET_SCALES.get(potential, 1.0) if isinstance(potential, str) else 1.0
        resolved_scale = scale_default if scale is None else scale
        if not math.isfinite(resolved_scale):
            raise ValueError(f"`scale` must be finite, got {scale!r}")

        gym.utils.RecordConstructorArgs.__init__(self, potential=potential, gamma=gamma, scale=scale)
        _ShapedRewardWrapper.__init__(self, env)

        self.potential_fn = potential_fn
        self.gamma = float(gamma)
        self.scale = float(resolved_scale)
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
