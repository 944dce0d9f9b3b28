"""
The settings each algorithm is benchmarked with: REINFORCE's own recipes, and the RL Zoo's tuned hyperparameters for
its peers (PPO, SAC, A2C).

* ``reinforce``: the env's entry of ``reinforce.yml``
  (:data:`~sb3_reinforce.experiments.presets.ENV_PRESETS`, the one the command line and the RL Zoo train), default
  hyperparameters and one env elsewhere;
* ``ppo``, ``a2c``, ``sac``: :data:`ZOO_HYPERPARAMS` with the zoo's budget capped at :data:`ZOO_BUDGET_CAP`, SB3
  defaults for envs that table lacks. SAC needs a ``Box`` action space: it gets an ``n/a`` row elsewhere.

With ``settings="defaults"`` (:data:`SETTINGS`), every algorithm runs with its constructor's defaults instead, on the
plain env (one env, no normalization, no shaping), for the suite's budget: the "defaults" comparison of issue 19.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from sb3_reinforce.benchmark.suite import SUITE
from sb3_reinforce.experiments.config import ALGOS, DEFAULT_TIMESTEPS, RunConfig
from sb3_reinforce.experiments.envs import EnvSetup
from sb3_reinforce.experiments.mountain_car import MOUNTAIN_CAR
from sb3_reinforce.experiments.presets import ENV_PRESETS

__all__ = [
    "DEFAULT_ENVS",
    "SETTINGS",
    "ZOO_BUDGET_CAP",
    "ZOO_ENV_IDS",
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
#: What an algorithm runs with: ``tuned`` (REINFORCE's entry, the zoo's hyperparameters) or ``defaults``
SETTINGS = ("tuned", "defaults")
#: Issue 22 caps the zoo's budgets at 1M env steps
ZOO_BUDGET_CAP = 1_000_000
#: The zoo has entries for the MuJoCo tasks' -v4, not their -v5 (the same robots; -v5 fixes bugs): those serve
ZOO_ENV_IDS = {"Hopper-v5": "Hopper-v4", "HalfCheetah-v5": "HalfCheetah-v4", "Swimmer-v5": "Swimmer-v4"}
_MUJOCO_PPO_KWARGS = dict(
    log_std_init=-2, ortho_init=False, activation_fn="nn.ReLU", net_arch=dict(pi=[256, 256], vf=[256, 256])
)

#: Tuned hyperparameters of rl-baselines3-zoo 2.9.2, copied from ``rl_zoo3/hyperparams/ppo.yml``, ``a2c.yml`` and
#: ``sac.yml`` (https://github.com/DLR-RM/rl-baselines3-zoo/tree/v2.9.2/hyperparams). Keys as in the yml:
#: ``normalize`` (``VecNormalize`` of observations *and* rewards, with the algorithm's ``gamma``), ``n_envs``,
#: ``n_timesteps`` (the zoo's budget), ``lin_<x>`` (linear decay from ``x`` to 0), the rest goes to the constructor;
#: classes in ``policy_kwargs`` by name (``"nn.ReLU"``). ``tests/test_zoo.py`` compares them with the installed zoo's.
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
    ("ppo", "Acrobot-v1"): dict(
        normalize=True,
        n_envs=16,
        n_timesteps=1_000_000,
        policy="MlpPolicy",
        n_steps=256,
        gae_lambda=0.94,
        gamma=0.99,
        n_epochs=4,
        ent_coef=0.0,
    ),
    ("ppo", "MountainCar-v0"): dict(
        normalize=True,
        n_envs=16,
        n_timesteps=1_000_000,
        policy="MlpPolicy",
        n_steps=16,
        gae_lambda=0.98,
        gamma=0.99,
        n_epochs=4,
        ent_coef=0.0,
    ),
    ("ppo", "Pendulum-v1"): dict(
        n_envs=4,
        n_timesteps=100_000,
        policy="MlpPolicy",
        n_steps=1024,
        gae_lambda=0.95,
        gamma=0.9,
        n_epochs=10,
        ent_coef=0.0,
        learning_rate=0.001,
        clip_range=0.2,
        use_sde=True,
        sde_sample_freq=4,
    ),
    ("ppo", "LunarLander-v3"): dict(
        n_envs=16,
        n_timesteps=1_000_000,
        policy="MlpPolicy",
        n_steps=1024,
        batch_size=64,
        gae_lambda=0.98,
        gamma=0.999,
        n_epochs=4,
        ent_coef=0.01,
    ),
    ("ppo", "Hopper-v4"): dict(
        normalize=True,
        n_envs=1,
        policy="MlpPolicy",
        n_timesteps=1_000_000,
        batch_size=32,
        n_steps=512,
        gamma=0.999,
        learning_rate=9.80828e-05,
        ent_coef=0.00229519,
        clip_range=0.2,
        n_epochs=5,
        gae_lambda=0.99,
        max_grad_norm=0.7,
        vf_coef=0.835671,
        policy_kwargs=_MUJOCO_PPO_KWARGS,
    ),
    ("ppo", "HalfCheetah-v4"): dict(
        normalize=True,
        n_envs=1,
        policy="MlpPolicy",
        n_timesteps=1_000_000,
        batch_size=64,
        n_steps=512,
        gamma=0.98,
        learning_rate=2.0633e-05,
        ent_coef=0.000401762,
        clip_range=0.1,
        n_epochs=20,
        gae_lambda=0.92,
        max_grad_norm=0.8,
        vf_coef=0.58096,
        policy_kwargs=_MUJOCO_PPO_KWARGS,
    ),
    ("ppo", "Swimmer-v4"): dict(
        normalize=True,
        n_timesteps=1_000_000,
        policy="MlpPolicy",
        gamma=0.9999,
        n_envs=4,
        n_steps=1024,
        batch_size=256,
        learning_rate=0.0006,
        gae_lambda=0.98,
    ),
    ("a2c", "Acrobot-v1"): dict(normalize=True, n_envs=16, n_timesteps=500_000, policy="MlpPolicy", ent_coef=0.0),
    ("a2c", "MountainCar-v0"): dict(normalize=True, n_envs=16, n_timesteps=1_000_000, policy="MlpPolicy", ent_coef=0.0),
    ("a2c", "Pendulum-v1"): dict(
        normalize=True,
        n_envs=8,
        n_timesteps=1_000_000,
        policy="MlpPolicy",
        ent_coef=0.0,
        max_grad_norm=0.5,
        n_steps=8,
        gae_lambda=0.9,
        vf_coef=0.4,
        gamma=0.9,
        use_rms_prop=True,
        normalize_advantage=False,
        learning_rate="lin_7e-4",
        use_sde=True,
        policy_kwargs=dict(log_std_init=-2, ortho_init=False),
    ),
    ("a2c", "LunarLander-v3"): dict(
        n_envs=8, n_timesteps=200_000, policy="MlpPolicy", gamma=0.995, n_steps=5, learning_rate="lin_0.00083", ent_coef=1e-05
    ),
    ("a2c", "Hopper-v4"): dict(normalize=True, n_timesteps=1_000_000, policy="MlpPolicy"),
    ("a2c", "HalfCheetah-v4"): dict(normalize=True, n_timesteps=1_000_000, policy="MlpPolicy"),
    ("a2c", "Swimmer-v4"): dict(normalize=True, n_timesteps=1_000_000, policy="MlpPolicy", gamma=0.9999),
    ("sac", "Pendulum-v1"): dict(n_timesteps=20_000, policy="MlpPolicy", learning_rate=0.001),
}


def run_config(algo: str, env_id: str, timesteps: int | None = None, seed: int = 0, settings: str = "tuned") -> RunConfig:
    """
    The run the benchmark trains ``algo`` on ``env_id`` with.

    :param algo: Algorithm name (a key of :data:`~sb3_reinforce.experiments.config.ALGOS`)
    :param env_id: Gymnasium id of the env
    :param timesteps: Budget overriding the per-env default (None: the default)
    :param seed: Seed of the run
    :param settings: ``tuned`` or ``defaults`` (:data:`SETTINGS`)
    :raise ValueError: For an unknown algorithm (checked by :class:`~sb3_reinforce.experiments.config.RunConfig`)
        or settings
    """
    zoo_key = (algo, ZOO_ENV_IDS.get(env_id, env_id))
    if settings not in SETTINGS:
        raise ValueError(f"Unknown settings {settings!r}: expected one of {', '.join(SETTINGS)}")
    if settings == "defaults":
        name = ALGOS[algo].__name__ if algo in ALGOS else algo
        budget = SUITE[env_id].budget if env_id in SUITE else DEFAULT_TIMESTEPS
        config = RunConfig(algo, EnvSetup(env_id), timesteps=budget, source=f"{name} defaults, the plain env")
    elif algo == "reinforce" and env_id in ENV_PRESETS:
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
    elif zoo_key in ZOO_HYPERPARAMS:
        zoo = copy.deepcopy(ZOO_HYPERPARAMS[zoo_key])
        n_envs = int(zoo.pop("n_envs", 1))
        budget = min(int(zoo.pop("n_timesteps")), ZOO_BUDGET_CAP)
        zoo.pop("policy", None)
        # The zoo normalizes observations and rewards, with the algorithm's discount factor
        normalize = bool(zoo.pop("normalize", False))
        setup = EnvSetup(env_id, normalize_obs=normalize, normalize_reward=normalize)
        source = f"rl-baselines3-zoo {ZOO_VERSION} hyperparams/{algo}.yml" + (
            f" ({zoo_key[1]}'s entry)" if zoo_key[1] != env_id else ""
        )
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
