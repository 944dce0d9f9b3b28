"""
The settings each algorithm is benchmarked with: REINFORCE's own recipes, and the RL Zoo's tuned hyperparameters for
its peers (PPO, SAC, A2C).

* ``reinforce``: the env's entry of ``reinforce.yml``
  (:data:`~sb3_reinforce.experiments.presets.ENV_PRESETS`, the one the command line and the RL Zoo train), default
  hyperparameters and one env elsewhere;
* ``ppo``, ``a2c``, ``sac``: :data:`ZOO_HYPERPARAMS`, SB3 defaults for envs that table lacks. SAC needs a ``Box``
  action space: it gets an ``n/a`` row elsewhere.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from sb3_reinforce.experiments.config import ALGOS, RunConfig
from sb3_reinforce.experiments.envs import EnvSetup
from sb3_reinforce.experiments.mountain_car import MOUNTAIN_CAR
from sb3_reinforce.experiments.presets import ENV_PRESETS

__all__ = [
    "BUDGET_OVERRIDES",
    "DEFAULT_ENVS",
    "ZOO_HYPERPARAMS",
    "action_label",
    "algo_rank",
    "run_config",
    "unsupported",
]

CARTPOLE = "CartPole-v1"
#: The default grid's envs.
DEFAULT_ENVS = (CARTPOLE, MOUNTAIN_CAR)
ZOO_VERSION = "2.9.2"

#: Tuned hyperparameters of rl-baselines3-zoo 2.9.2, copied from ``rl_zoo3/hyperparams/ppo.yml``, ``a2c.yml`` and
#: ``sac.yml`` (https://github.com/DLR-RM/rl-baselines3-zoo/tree/v2.9.2/hyperparams). Keys as in the yml:
#: ``normalize`` (``VecNormalize`` of observations *and* rewards, with the algorithm's ``gamma``), ``n_envs``,
#: ``n_timesteps`` (the zoo's budget), ``lin_<x>`` (linear decay from ``x`` to 0), the rest goes to the constructor.
ZOO_HYPERPARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("ppo", CARTPOLE): dict(
        n_envs=8,
        n_timesteps=100_000,
        policy="MlpPolicy",
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate="lin_0.001",
        clip_range="lin_0.2",
    ),
    ("ppo", MOUNTAIN_CAR): dict(
        normalize=True,
        n_envs=1,
        n_timesteps=20_000,
        policy="MlpPolicy",
        batch_size=256,
        n_steps=8,
        gamma=0.9999,
        learning_rate=7.77e-05,
        ent_coef=0.00429,
        clip_range=0.1,
        n_epochs=10,
        gae_lambda=0.9,
        max_grad_norm=5,
        vf_coef=0.19,
        use_sde=True,
        policy_kwargs=dict(log_std_init=-3.29, ortho_init=False),
    ),
    ("a2c", CARTPOLE): dict(n_envs=8, n_timesteps=500_000, policy="MlpPolicy", ent_coef=0.0),
    ("a2c", MOUNTAIN_CAR): dict(
        normalize=True,
        n_envs=4,
        n_steps=100,
        n_timesteps=100_000,
        policy="MlpPolicy",
        ent_coef=0.0,
        use_sde=True,
        sde_sample_freq=16,
        policy_kwargs=dict(log_std_init=0.0, ortho_init=False),
    ),
    ("sac", MOUNTAIN_CAR): dict(
        n_timesteps=50_000,
        policy="MlpPolicy",
        learning_rate=0.0003,
        buffer_size=50_000,
        batch_size=512,
        ent_coef=0.1,
        train_freq=32,
        gradient_steps=32,
        gamma=0.9999,
        tau=0.01,
        learning_starts=0,
        use_sde=True,
        policy_kwargs=dict(log_std_init=-3.67, net_arch=[64, 64], use_expln=True),
    ),
}

#: Budgets that differ from the zoo's, so that every algorithm gets the same budget on the env: the zoo trains
#: A2C on CartPole-v1 for 500k steps, the common table uses 100k for all.
BUDGET_OVERRIDES: dict[tuple[str, str], int] = {("a2c", CARTPOLE): 100_000}


def run_config(algo: str, env_id: str, timesteps: int | None = None, seed: int = 0) -> RunConfig:
    """
    The run the benchmark trains ``algo`` on ``env_id`` with.

    :param algo: Algorithm name (a key of :data:`~sb3_reinforce.experiments.config.ALGOS`)
    :param env_id: Gymnasium id of the env
    :param timesteps: Budget overriding the per-env default (None: the default)
    :param seed: Seed of the run
    :raise ValueError: For an unknown algorithm (checked by :class:`~sb3_reinforce.experiments.config.RunConfig`)
    """
    if algo == "reinforce" and env_id in ENV_PRESETS:
        name = env_id
        preset = ENV_PRESETS[name]
        config = RunConfig(
            algo,
            copy.deepcopy(preset.setup),
            copy.deepcopy(preset.hyperparams),
            timesteps=preset.timesteps,
            n_envs=preset.n_envs,
            preset=name,
            source=f"{name}'s entry of sb3_reinforce/zoo/hyperparams/reinforce.yml",
        )
    elif algo == "reinforce":
        config = RunConfig(algo, EnvSetup(env_id), source="Reinforce defaults")
    elif (algo, env_id) in ZOO_HYPERPARAMS:
        zoo = copy.deepcopy(ZOO_HYPERPARAMS[(algo, env_id)])
        n_envs = int(zoo.pop("n_envs", 1))
        budget = BUDGET_OVERRIDES.get((algo, env_id), int(zoo.pop("n_timesteps")))
        zoo.pop("n_timesteps", None)
        zoo.pop("policy", None)
        # The zoo normalizes observations and rewards, with the algorithm's discount factor
        normalize = bool(zoo.pop("normalize", False))
        setup = EnvSetup(env_id, normalize_obs=normalize, normalize_reward=normalize)
        source = f"rl-baselines3-zoo {ZOO_VERSION} hyperparams/{algo}.yml"
        config = RunConfig(algo, setup, zoo, timesteps=budget, n_envs=n_envs, source=source)
    else:
        config = RunConfig(algo, EnvSetup(env_id), source="SB3 defaults (no zoo entry)")
    config.seed = seed
    if timesteps is not None:
        config.timesteps = timesteps
    return config


def algo_rank(algo: str) -> int:
    """Position of an algorithm in the tables, and its color (``C<rank>``) in the plots."""
    return list(ALGOS).index(algo) if algo in ALGOS else len(ALGOS)


def unsupported(algo: str, action_space: spaces.Space) -> str | None:
    """Why ``algo`` cannot act in the env's own ``action_space`` (None if it can)."""
    if algo == "sac" and not isinstance(action_space, spaces.Box):
        return f"SAC needs a Box action space, the env has {action_space}"
    if not isinstance(action_space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        return f"{algo} does not support the action space {action_space}"
    return None


def action_label(config: RunConfig, action_space: spaces.Space) -> str:
    """The action interface the agent uses (``bernoulli ±1``, ``continuous``, ``discrete``, ...)."""
    setup = config.env_setup
    if setup.actions == "bernoulli":
        low, high = setup.action_low, setup.action_high
        if low is None and high is None and isinstance(action_space, spaces.Box):
            low, high = float(action_space.low.min()), float(action_space.high.max())
            if low == -high:
                return f"bernoulli ±{high:g}"
        return f"bernoulli {low:g}/{high:g}"
    if isinstance(action_space, spaces.Box):
        return "continuous"
    return type(action_space).__name__.lower()


def env_action_space(env_id: str) -> spaces.Space:
    """The env's own action space."""
    env = gym.make(env_id)
    try:
        return env.action_space
    finally:
        env.close()
