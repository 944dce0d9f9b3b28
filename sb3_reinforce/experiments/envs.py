"""
How an env is presented to the agent (:class:`EnvSetup`), and the two envs built from it.

* The **training env** (:func:`make_train_env`): the setup's action interface, reward shaping, training time limit and
  ``VecNormalize`` statistics, updated while training.
* The **evaluation env** (:func:`make_eval_env`): the same action interface and *frozen* observation statistics, but
  the env's **true** reward and its own time limit, so a shaped or shortened training task is scored on the real one.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecNormalize

from sb3_reinforce.experiments.mountain_car import energy_shaping, notebook_shaping
from sb3_reinforce.wrappers import BernoulliToContinuous

__all__ = [
    "ACTION_INTERFACES",
    "SHAPINGS",
    "EnvSetup",
    "check_env_id",
    "describe_env_setup",
    "env_extra",
    "load_normalization",
    "make_env",
    "make_eval_env",
    "make_train_env",
]

ACTION_INTERFACES = ("continuous", "bernoulli")


def _notebook(env: gym.Env, gamma: float) -> gym.Env:
    return notebook_shaping(env)


#: Training rewards by name: ``wrap(env, gamma) -> env`` (None: the env's own reward). Add an entry to extend.
SHAPINGS: dict[str, Callable[[gym.Env, float], gym.Env] | None] = {
    "none": None,
    "seed": _notebook,  # the notebook's 0.1 * x**2, replacing the reward
    "energy": energy_shaping,  # potential-based, added to the reward
}


def closest_env_id(env_id: str) -> str | None:
    """The registered Gymnasium id closest to a mistyped ``env_id``, or None if none is close."""
    # Compared without case: "cartpole-v1" is as likely a typo as "CartPol-v1"
    by_lower = {registered.lower(): registered for registered in gym.registry}
    close = difflib.get_close_matches(env_id.lower(), list(by_lower), n=1, cutoff=0.8)
    return by_lower[close[0]] if close else None


#: Extra of sb3-reinforce that installs the envs of a Gymnasium family (the module of their entry point)
ENV_EXTRAS = {"gymnasium.envs.box2d": "suite", "gymnasium.envs.mujoco": "suite"}


def env_extra(env_id: str) -> str | None:
    """
    The extra of sb3-reinforce an env needs beyond the default install (``"suite"`` for Box2D and MuJoCo), or None.

    >>> env_extra("LunarLander-v3"), env_extra("CartPole-v1")
    ('suite', None)
    """
    entry_point = str(gym.spec(env_id).entry_point)
    return next((extra for module, extra in ENV_EXTRAS.items() if entry_point.startswith(module)), None)


def check_env_id(env_id: str) -> None:
    """
    :raise ValueError: If ``env_id`` is not registered in Gymnasium, suggesting the closest registered id
    """
    if env_id in gym.registry:
        return
    closest = closest_env_id(env_id)
    if closest is not None:
        raise ValueError(f"unknown env {env_id!r}; did you mean {closest!r}?")
    raise ValueError(f"unknown env {env_id!r}: not registered in Gymnasium")


@dataclass
class EnvSetup:
    """
    How an env is presented to the agent during training.

    :param env_id: Gymnasium id of the env
    :param actions: ``"continuous"`` (the env's own action space) or ``"bernoulli"`` (a Box env wrapped with
        :class:`~sb3_reinforce.wrappers.BernoulliToContinuous`: one bit per action dimension)
    :param action_low: Value played for bit 0 (``"bernoulli"`` only; None: the Box's lower bound)
    :param action_high: Value played for bit 1 (``"bernoulli"`` only; None: the Box's upper bound)
    :param shaping: A key of :data:`SHAPINGS`: ``"none"``, ``"seed"`` (the notebook's ``0.1 * x**2`` replacing the
        reward) or ``"energy"`` (potential-based mechanical-energy shaping for MountainCar, added to the reward)
    :param max_episode_steps: Time limit of training episodes (None: the env's own)
    :param normalize_obs: Normalize observations with running statistics (``VecNormalize``)
    :param normalize_reward: Normalize training rewards too (``VecNormalize(norm_reward=True)``, as the RL Zoo's
        ``normalize: true``); evaluation always sees the true reward
    """

    env_id: str
    actions: str = "continuous"
    action_low: float | None = None
    action_high: float | None = None
    shaping: str = "none"
    max_episode_steps: int | None = None
    normalize_obs: bool = False
    normalize_reward: bool = False

    def __post_init__(self) -> None:
        if self.actions not in ACTION_INTERFACES:
            raise ValueError(f"Unknown action interface {self.actions!r}: expected one of {', '.join(ACTION_INTERFACES)}")
        if self.shaping not in SHAPINGS:
            raise ValueError(f"Unknown shaping {self.shaping!r}: expected one of {', '.join(SHAPINGS)}")
        check_env_id(self.env_id)
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {self.max_episode_steps}")

    @property
    def normalized(self) -> bool:
        return self.normalize_obs or self.normalize_reward


def wrap_env(env: gym.Env, setup: EnvSetup, gamma: float, shaped: bool) -> gym.Env:
    """Apply the setup's action interface and (when ``shaped``) its reward shaping to one env."""
    if setup.actions == "bernoulli":
        env = BernoulliToContinuous(env, low=setup.action_low, high=setup.action_high)
    shaping = SHAPINGS[setup.shaping]
    if shaped and shaping is not None:
        env = shaping(env, gamma)
    return env


def make_env(
    setup: EnvSetup,
    n_envs: int = 1,
    seed: int | None = None,
    gamma: float = 0.99,
    train: bool = True,
    render_mode: str | None = None,
    vec_env_cls: type[DummyVecEnv] | type[SubprocVecEnv] | None = None,
) -> VecEnv:
    """
    The envs without normalization: the training task (``train=True``: shaping and training time limit) or the true
    task (``train=False``: the same action interface, the env's true reward and own time limit).
    """
    env_kwargs: dict[str, Any] = {}
    if train and setup.max_episode_steps is not None:
        env_kwargs["max_episode_steps"] = setup.max_episode_steps
    if render_mode is not None:
        env_kwargs["render_mode"] = render_mode
    try:
        return make_vec_env(
            setup.env_id,
            n_envs=n_envs,
            seed=seed,
            env_kwargs=env_kwargs,
            # A partial of a module-level function: picklable, for SubprocVecEnv
            wrapper_class=functools.partial(wrap_env, setup=setup, gamma=gamma, shaped=train),
            vec_env_cls=vec_env_cls,
        )
    except gym.error.DependencyNotInstalled as error:
        extra = env_extra(setup.env_id)
        if extra is None:
            raise
        raise ImportError(f'{setup.env_id} needs {error}: install it with pip install "sb3-reinforce[{extra}]"') from error


def make_train_env(setup: EnvSetup, n_envs: int = 1, seed: int | None = None, gamma: float = 0.99) -> VecEnv:
    """The training env, with running ``VecNormalize`` statistics when the setup normalizes."""
    env = make_env(setup, n_envs=n_envs, seed=seed, gamma=gamma, train=True)
    if not setup.normalized:
        return env
    return VecNormalize(env, norm_obs=setup.normalize_obs, norm_reward=setup.normalize_reward, gamma=gamma)


def make_eval_env(
    setup: EnvSetup,
    gamma: float = 0.99,
    n_envs: int = 1,
    seed: int | None = 0,
    vecnormalize_path: str | None = None,
    render_mode: str | None = None,
    vec_env_cls: type[DummyVecEnv] | type[SubprocVecEnv] | None = None,
) -> VecEnv:
    """
    The evaluation env: the training action interface, the true reward, the env's own time limit, frozen statistics.

    :param vecnormalize_path: Saved observation statistics; without it, a setup with normalized observations gets a
        frozen ``VecNormalize`` that the caller fills from the training env (SB3's ``sync_envs_normalization``)
    """
    env = make_env(setup, n_envs=n_envs, seed=seed, gamma=gamma, train=False, render_mode=render_mode, vec_env_cls=vec_env_cls)
    if vecnormalize_path is not None:
        return load_normalization(env, vecnormalize_path)
    if setup.normalized:
        return VecNormalize(env, training=False, norm_obs=setup.normalize_obs, norm_reward=False, gamma=gamma)
    return env


def load_normalization(env: VecEnv, path: str) -> VecNormalize:
    """Wrap an evaluation env with saved, frozen statistics; rewards are left unnormalized (the true reward)."""
    normalized = VecNormalize.load(path, env)
    normalized.training = False
    normalized.norm_reward = False
    return normalized


def _bound(values: np.ndarray) -> str:
    # One number when every dimension has the same bound
    unique = np.unique(values)
    return f"{unique[0]:g}" if unique.size == 1 else str(values.tolist())


_SHAPING_WORDS = {
    "none": "the env's own reward",
    "seed": "the notebook's 0.1*x^2 reward (seed shaping)",
    "energy": "the env's reward plus energy shaping",
}


def describe_env_setup(setup: EnvSetup) -> str:
    """
    The env as the agent sees it during training, in words: its action space (read from the env), reward, time limit
    and normalization.

    >>> describe_env_setup(EnvSetup("Acrobot-v1"))
    "Discrete(3) actions, the env's own reward, its own time limit"
    >>> describe_env_setup(EnvSetup("MountainCarContinuous-v0", actions="bernoulli", max_episode_steps=200))
    "Bernoulli actions (MultiBinary(1): bit 0 plays -1, bit 1 plays 1), the env's own reward, 200-step training episodes"
    """
    try:
        env = gym.make(setup.env_id)
        action_space = env.action_space
        env.close()
    except Exception:  # an env that cannot be built here fails with a clear error when training builds it
        action_space = None
    if setup.actions == "bernoulli" and isinstance(action_space, spaces.Box):
        low = np.broadcast_to(action_space.low if setup.action_low is None else setup.action_low, action_space.shape)
        high = np.broadcast_to(action_space.high if setup.action_high is None else setup.action_high, action_space.shape)
        bits = spaces.MultiBinary(int(np.prod(action_space.shape)))
        actions = f"Bernoulli actions ({bits}: bit 0 plays {_bound(low)}, bit 1 plays {_bound(high)})"
    elif setup.actions == "bernoulli":
        actions = "Bernoulli actions"
    else:
        actions = "the env's own actions" if action_space is None else f"{action_space} actions"
    parts = [actions, _SHAPING_WORDS.get(setup.shaping, f"{setup.shaping} reward shaping")]
    parts.append(
        "its own time limit" if setup.max_episode_steps is None else f"{setup.max_episode_steps}-step training episodes"
    )
    if setup.normalize_obs:
        parts.append("normalized observations")
    if setup.normalize_reward:
        parts.append("normalized rewards")
    return ", ".join(parts)
