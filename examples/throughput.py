"""
Training throughput of Reinforce against SB3's A2C and PPO, and against the raw env step rate, in one run: plain
REINFORCE, the same with observations normalized inside the policy (``+obs_norm``), and Reinforce's defaults.

Absolute speeds depend on the machine and its load: compare the ratios, measured here side by side.

    python examples/throughput.py --env CartPole-v1 --timesteps 30000 --repeats 3 --n-envs 1
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch as th
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv

from sb3_reinforce import PLAIN_REINFORCE, Reinforce


def env_steps_per_second(env_id: str, timesteps: int, n_envs: int, seed: int) -> float:
    """Step rate of the DummyVecEnv alone, with random actions: the ceiling of any single-process trainer."""
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    env.action_space.seed(seed)
    env.reset()
    actions = [np.array([env.action_space.sample() for _ in range(n_envs)]) for _ in range(1000)]
    n_steps = max(1, timesteps // n_envs)
    start = time.perf_counter()
    for step in range(n_steps):
        env.step(actions[step % len(actions)])
    return n_steps * n_envs / (time.perf_counter() - start)


def training_fps(model: BaseAlgorithm, timesteps: int) -> float:
    start = time.perf_counter()
    model.learn(timesteps)
    return model.num_timesteps / (time.perf_counter() - start)


def main(
    env_id: str = "CartPole-v1", timesteps: int = 30_000, repeats: int = 3, n_envs: int = 1, seed: int = 0
) -> dict[str, float]:
    """
    Measure training fps (env steps per second inside ``learn()``, default hyperparameters, same VecEnv for all).

    :param env_id: Gymnasium id of the env
    :param timesteps: Env steps per measurement
    :param repeats: Measurements per algorithm (interleaved; the median is reported)
    :param n_envs: Number of envs of the DummyVecEnv, the same for every algorithm
    :param seed: Seed of the models and envs
    :return: Median steps per second of each entry
    """
    th.set_num_threads(1)

    def vec_env() -> VecEnv:
        return make_vec_env(env_id, n_envs=n_envs, seed=seed)

    builders = {
        # Plain REINFORCE, as measured in docs/performance.md since the lean rollout
        "reinforce": lambda: Reinforce("MlpPolicy", vec_env(), seed=seed, **PLAIN_REINFORCE),
        # The same with the observations standardized inside the policy: the normalizer's cost alone
        "+obs_norm": lambda: Reinforce(
            "MlpPolicy", vec_env(), seed=seed, **{**PLAIN_REINFORCE, "normalize_observations": "auto"}
        ),
        # Reinforce's defaults: also a value baseline with GAE and importance-weighted minibatch passes
        "defaults": lambda: Reinforce("MlpPolicy", vec_env(), seed=seed),
        "a2c": lambda: A2C("MlpPolicy", vec_env(), seed=seed),
        "ppo": lambda: PPO("MlpPolicy", vec_env(), seed=seed),
    }
    samples: dict[str, list[float]] = {name: [] for name in [*builders, "env"]}
    for _ in range(repeats):  # interleave, so that load changes on the machine hit every entry alike
        samples["env"].append(env_steps_per_second(env_id, timesteps, n_envs, seed))
        for name, build in builders.items():
            samples[name].append(training_fps(build(), timesteps))
    medians = {name: float(np.median(values)) for name, values in samples.items()}

    print(f"{env_id}, {n_envs} env(s), {timesteps} steps x {repeats} (median); A2C and PPO with their defaults")
    print(f"torch {th.__version__}, {platform.processor() or platform.machine()}, 1 torch thread")
    print(f"{'':<12}{'steps/s':>10}{'vs plain':>10}{'vs a2c':>9}{'vs ppo':>9}{'of env':>9}")
    for name, fps in medians.items():
        ratios = [fps / medians[other] for other in ("reinforce", "a2c", "ppo")]
        print(f"{name:<12}{fps:>10.0f}{ratios[0]:>9.2f}x{ratios[1]:>8.2f}x{ratios[2]:>8.2f}x{fps / medians['env']:>8.1%}")
    return medians


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium env id")
    parser.add_argument("--timesteps", type=int, default=30_000, help="env steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per algorithm")
    parser.add_argument("--n-envs", type=int, default=1, help="envs of the DummyVecEnv, the same for every algorithm")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.env, args.timesteps, args.repeats, args.n_envs, args.seed)
