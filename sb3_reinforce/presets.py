"""
Experiment presets: how an env is presented to the agent, and the hyperparameters that go with it.

An :class:`EnvSetup` says which action interface, reward shaping, training time limit and observation
normalization an agent is trained with. The same setup rebuilds, at evaluation time, the env with the same
interface but the env's **true** reward and its own time limit, so a shaped or shortened training task is
always scored on the real one. The CLI (``python -m sb3_reinforce``) and the benchmark both build their envs here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecNormalize

from sb3_reinforce.wrappers import BernoulliToContinuous, PotentialShaping, RewardShaping

ACTION_INTERFACES = ("continuous", "bernoulli")
SHAPINGS = ("none", "seed", "energy")


@dataclass
class EnvSetup:
    """
    How an env is presented to the agent during training.

    :param env_id: Gymnasium id of the env
    :param actions: ``"continuous"`` (the env's own action space) or ``"bernoulli"`` (a Box env wrapped with
        :class:`~sb3_reinforce.wrappers.BernoulliToContinuous`: one bit per action dimension)
    :param action_low: Value played for bit 0 (``"bernoulli"`` only; None: the Box's lower bound)
    :param action_high: Value played for bit 1 (``"bernoulli"`` only; None: the Box's upper bound)
    :param shaping: ``"none"``, ``"seed"`` (the notebook's ``0.1 * x**2`` replacing the reward) or ``"energy"``
        (potential-based mechanical-energy shaping for MountainCar, added to the reward)
    :param max_episode_steps: Time limit of training episodes (None: the env's own)
    :param normalize_obs: Normalize observations with running statistics (``VecNormalize``, rewards untouched)
    """

    env_id: str
    actions: str = "continuous"
    action_low: float | None = None
    action_high: float | None = None
    shaping: str = "none"
    max_episode_steps: int | None = None
    normalize_obs: bool = False

    def __post_init__(self) -> None:
        if self.actions not in ACTION_INTERFACES:
            raise ValueError(f"Unknown action interface {self.actions!r}: expected one of {', '.join(ACTION_INTERFACES)}")
        if self.shaping not in SHAPINGS:
            raise ValueError(f"Unknown shaping {self.shaping!r}: expected one of {', '.join(SHAPINGS)}")
        if self.env_id not in gym.registry:
            raise ValueError(f"Unknown env id {self.env_id!r}: not registered in Gymnasium")
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {self.max_episode_steps}")


def wrap_env(env: gym.Env, setup: EnvSetup, gamma: float, shaped: bool) -> gym.Env:
    """Apply the setup's action interface and (when ``shaped``) its reward shaping to one env."""
    if setup.actions == "bernoulli":
        env = BernoulliToContinuous(env, low=setup.action_low, high=setup.action_high)
    if shaped and setup.shaping == "seed":
        env = RewardShaping(env, "seed")
    elif shaped and setup.shaping == "energy":
        env = PotentialShaping(env, "energy", gamma=gamma)
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
    Build the training env (``train=True``: shaping and training time limit) or the evaluation env
    (``train=False``: the same action interface, the env's true reward and own time limit).

    Observation normalization is not added here: see :func:`normalize` and :func:`load_normalization`.
    """
    env_kwargs: dict[str, Any] = {}
    if train and setup.max_episode_steps is not None:
        env_kwargs["max_episode_steps"] = setup.max_episode_steps
    if render_mode is not None:
        env_kwargs["render_mode"] = render_mode
    return make_vec_env(
        setup.env_id,
        n_envs=n_envs,
        seed=seed,
        env_kwargs=env_kwargs,
        # A partial of a module-level function: picklable, for SubprocVecEnv
        wrapper_class=functools.partial(wrap_env, setup=setup, gamma=gamma, shaped=train),
        vec_env_cls=vec_env_cls,
    )


def normalize(env: VecEnv, setup: EnvSetup, gamma: float) -> VecEnv:
    """Add the setup's observation normalization (running statistics, updated during training)."""
    if not setup.normalize_obs:
        return env
    return VecNormalize(env, norm_obs=True, norm_reward=False, gamma=gamma)


def load_normalization(env: VecEnv, path: str | None) -> VecEnv:
    """Wrap an evaluation env with saved, frozen normalization statistics (if the model was trained with them)."""
    if path is None:
        return env
    env = VecNormalize.load(path, env)
    env.training = False
    env.norm_reward = False
    return env


@dataclass
class Preset:
    """A named recipe: env setup, algorithm hyperparameters and training budget."""

    description: str
    setup: EnvSetup
    hyperparams: dict[str, Any] = field(default_factory=dict)
    timesteps: int = 100_000
    n_envs: int = 1


def notebook_policy_kwargs() -> dict[str, Any]:
    import torch as th

    # 10 ELU hidden units and a sigmoid (Bernoulli) output, as the Keras model of the notebook
    return dict(net_arch=dict(pi=[10], vf=[10]), activation_fn=th.nn.ELU)


MOUNTAIN_CAR = "MountainCarContinuous-v0"

PRESETS: dict[str, Preset] = {
    "notebook": Preset(
        description="The seed notebook as written: 0/+1 Bernoulli actions, 0.1*x^2 reward, 200-step episodes",
        setup=EnvSetup(
            MOUNTAIN_CAR, actions="bernoulli", action_low=0.0, action_high=1.0, shaping="seed", max_episode_steps=200
        ),
        hyperparams=dict(
            learning_rate=0.01,
            n_episodes=10,
            gamma=0.95,
            baseline="none",
            normalize_returns=True,
            max_grad_norm=1e6,  # the notebook did not clip gradients
            policy_kwargs="notebook",
        ),
        timesteps=200_000,  # the notebook's 100 iterations x 10 episodes x 200 steps
    ),
    "solved": Preset(
        description="The fixed recipe: -1/+1 Bernoulli actions, energy potential shaping, value baseline",
        setup=EnvSetup(MOUNTAIN_CAR, actions="bernoulli", shaping="energy", max_episode_steps=200, normalize_obs=True),
        hyperparams=dict(
            learning_rate=5e-3,
            n_episodes=10,
            gamma=0.99,
            baseline="value",
            normalize_returns=True,
            max_grad_norm=10.0,
        ),
        timesteps=100_000,
    ),
}


def resolve_policy_kwargs(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """Turn the ``policy_kwargs="notebook"`` shorthand (kept as a string so configs stay JSON) into real kwargs."""
    hyperparams = dict(hyperparams)
    if hyperparams.get("policy_kwargs") == "notebook":
        hyperparams["policy_kwargs"] = notebook_policy_kwargs()
    return hyperparams
