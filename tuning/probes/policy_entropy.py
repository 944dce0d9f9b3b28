"""
How fast does a policy stop exploring? The mean entropy (nats) of its action distribution over a fixed grid of
observations, every ``--every`` env steps of training, for Reinforce's and PPO's defaults on the plain env.

Written for MountainCar-v0 (tuning/README.md, "Probes"): its reward is -1 per step until an episode reaches the flag,
so until one does, an update has nothing to follow, and whatever it does to the policy is drift. A policy that has
stopped exploring before an episode escapes will not escape.

    python tuning/probes/policy_entropy.py --env MountainCar-v0 --seed 1 --steps 100000 \
        --run reinforce --run reinforce:target_kl=0.01 --run ppo
"""

from __future__ import annotations

import argparse
import ast
import itertools
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_reinforce import Reinforce
from sb3_reinforce.benchmark.formatting import table_header, table_row

ALGOS: dict[str, type[BaseAlgorithm]] = {"reinforce": Reinforce, "ppo": PPO}


class EntropyAndKL(BaseCallback):
    """
    Every ``every`` steps, the policy's mean action entropy over ``observations`` (a fixed grid); and after each
    update, the KL it moved the policy by, as the algorithm logs it (``train/approx_kl``).
    """

    def __init__(self, observations: np.ndarray, every: int):
        super().__init__()
        self.observations, self.every = observations, every
        self.entropies: dict[int, float] = {}
        self.approx_kls: list[tuple[int, float]] = []

    def _measure(self) -> None:
        policy = self.model.policy
        assert isinstance(policy, ActorCriticPolicy)
        obs, _ = policy.obs_to_tensor(self.observations)
        with th.no_grad():
            entropy = policy.get_distribution(obs).entropy()
        assert entropy is not None  # None only for a squashed Gaussian, which an on-policy MlpPolicy does not use
        self.entropies[self.num_timesteps] = float(entropy.mean())

    def _on_training_start(self) -> None:
        self._measure()

    def _on_rollout_start(self) -> None:
        # A new rollout starts after the previous update, whose logged values are still there
        approx_kl = self.model.logger.name_to_value.get("train/approx_kl")
        if approx_kl is not None:
            self.approx_kls.append((self.num_timesteps, float(approx_kl)))

    def _on_step(self) -> bool:
        if self.num_timesteps % self.every == 0:
            self._measure()
        return True


def observation_grid(space: gym.spaces.Box, per_dim: int = 10) -> np.ndarray:
    """``per_dim`` evenly spaced values per dimension of a bounded Box, every combination."""
    axes = [np.linspace(low, high, per_dim) for low, high in zip(space.low, space.high, strict=True)]
    return np.stack([a.ravel() for a in np.meshgrid(*axes)], axis=1).astype(space.dtype)


def parse_run(text: str) -> tuple[str, dict[str, Any]]:
    """``algo[:key=value,...]`` -> the algorithm and its constructor overrides."""
    algo, _, rest = text.partition(":")
    if algo not in ALGOS:
        raise ValueError(f"unknown algo {algo!r} in --run {text!r} (known: {sorted(ALGOS)})")
    overrides: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        overrides[key] = ast.literal_eval(value)
    return algo, overrides


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="MountainCar-v0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--run", action="append", default=[], help="algo[:key=value,...], repeatable")
    args = parser.parse_args(argv)
    space = gym.make(args.env).observation_space
    if not isinstance(space, gym.spaces.Box):
        raise TypeError(f"{args.env} has {space}: a grid of observations needs a Box")
    grid = observation_grid(space)
    callbacks = {}
    for text in args.run or ["reinforce", "ppo"]:
        algo, overrides = parse_run(text)
        callbacks[text] = EntropyAndKL(grid, args.every)
        ALGOS[algo]("MlpPolicy", args.env, seed=args.seed, **overrides).learn(args.steps, callback=callbacks[text])
    steps = sorted({step for callback in callbacks.values() for step in callback.entropies})
    print(f"Mean action entropy (nats) over a {len(grid)}-point observation grid, {args.env}, seed {args.seed}\n")
    print_table(
        [f"{step // 1000}k" for step in steps],
        {
            text: [f"{callback.entropies[step]:.2f}" if step in callback.entropies else "" for step in steps]
            for text, callback in callbacks.items()
        },
    )
    windows = list(itertools.pairwise(steps))
    print("\nMean train/approx_kl of the updates in each window (the KL an update moved the policy by)\n")
    kl_rows = {}
    for text, callback in callbacks.items():
        means = [[kl for step, kl in callback.approx_kls if start < step <= end] for start, end in windows]
        kl_rows[text] = [f"{np.mean(kls):.4f}" if kls else "" for kls in means]
    print_table([f"{start // 1000}k-{end // 1000}k" for start, end in windows], kl_rows)


def print_table(columns: Sequence[str], rows: dict[str, list[str]]) -> None:
    """A Markdown table: one row per run, named in its first column."""
    print("\n".join(table_header(["run", *columns])))
    for text, cells in rows.items():
        print(table_row([text, *cells]))


if __name__ == "__main__":
    main()
