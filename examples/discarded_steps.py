"""
How many env steps a REINFORCE rollout discards with several envs (``rollout/discarded_fraction``), by ``n_envs`` and
``n_episodes``, on CartPole-v1 with the default hyperparameters otherwise.

    python examples/discarded_steps.py --timesteps 100000
"""

from __future__ import annotations

import argparse
import warnings

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import PLAIN_REINFORCE, Reinforce


class CountDiscarded(BaseCallback):
    """Sum the scheduler's discarded and total env steps over every rollout."""

    def __init__(self) -> None:
        super().__init__()
        self.discarded, self.total = 0, 0

    def _on_rollout_end(self) -> None:
        scheduler = self.model.episode_scheduler
        self.discarded += scheduler.discarded_steps
        self.total += scheduler.n_steps * len(scheduler.in_batch)

    def _on_step(self) -> bool:
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--n-envs", type=int, nargs="+", default=[1, 4, 8, 16])
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # the warning about discarded steps is what is measured here
    for n_envs in args.n_envs:
        for n_episodes in sorted({10, 4 * n_envs}) if n_envs > 1 else [10]:
            counter = CountDiscarded()
            env = make_vec_env(args.env, n_envs=n_envs, seed=0)
            # Plain REINFORCE, as docs/reinforce.md measured (the share depends on how the episode lengths evolve)
            model = Reinforce("MlpPolicy", env, n_episodes=n_episodes, seed=0, **PLAIN_REINFORCE)
            model.learn(args.timesteps, callback=counter)
            share = counter.discarded / max(counter.total, 1)
            print(f"n_envs={n_envs:2d} n_episodes={n_episodes:2d}: {share:6.1%} of {counter.total} env steps discarded")


if __name__ == "__main__":
    main()
