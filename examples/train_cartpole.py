"""
REINFORCE with its DEFAULT hyperparameters on CartPole-v1, over several seeds.

Each seed trains ``Reinforce("MlpPolicy", "CartPole-v1", seed=seed)`` for ``--timesteps`` steps, then evaluates the
deterministic policy over 20 episodes; one line per seed, then a summary (CartPole-v1 counts as solved at 475).
``--plain`` trains plain REINFORCE instead (``PLAIN_REINFORCE``, the defaults before the defaults study, which
docs/cartpole.md's history measured).

    python examples/train_cartpole.py --seeds 0 1 2 3 4 --timesteps 150000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_reinforce import PLAIN_REINFORCE, Reinforce
from sb3_reinforce.experiments.callbacks import TrueReturnLogger

ENV_ID = "CartPole-v1"
SOLVED_THRESHOLD = 475.0


def train_and_evaluate(
    seed: int, timesteps: int, eval_episodes: int, tensorboard_log: str | None, plain: bool = False
) -> tuple[float, float, float]:
    """
    Train one seed with default hyperparameters (``plain``: ``PLAIN_REINFORCE``) and evaluate it.

    :return: Mean and standard deviation of the deterministic evaluation return, and the training wall time (s)
    """
    settings = PLAIN_REINFORCE if plain else {}
    model = Reinforce("MlpPolicy", ENV_ID, seed=seed, tensorboard_log=tensorboard_log, **settings)
    start = time.perf_counter()
    # CartPole is not shaped: rollout/ep_true_rew_mean is logged only by shaped envs, but every run carries the logger
    model.learn(timesteps, tb_log_name=f"Reinforce_{ENV_ID}_seed{seed}", callback=TrueReturnLogger())
    wall = time.perf_counter() - start
    eval_env = make_vec_env(ENV_ID, n_envs=1, seed=10_000 + seed)
    mean_reward, std_reward = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes, deterministic=True)
    return float(mean_reward), float(std_reward), wall


def main(
    seeds: Sequence[int] = (0,),
    timesteps: int = 150_000,
    eval_episodes: int = 20,
    tensorboard_log: str | None = None,
    plain: bool = False,
) -> int:
    """
    Train and evaluate every seed; print one line per seed and a summary.

    :param seeds: Seeds to run, one after the other
    :param timesteps: Training budget per seed
    :param eval_episodes: Deterministic evaluation episodes per seed
    :param tensorboard_log: TensorBoard folder (None: no TensorBoard)
    :param plain: Train plain REINFORCE (``PLAIN_REINFORCE``) instead of the defaults
    :return: The number of seeds that reached the threshold
    """
    th.set_num_threads(1)  # small MLPs train fastest on one CPU thread
    means = []
    for seed in seeds:
        mean_reward, std_reward, wall = train_and_evaluate(seed, timesteps, eval_episodes, tensorboard_log, plain)
        means.append(mean_reward)
        print(f"seed {seed}: {mean_reward:.1f} +/- {std_reward:.1f} over {eval_episodes} episodes", end=" ")
        print(f"({timesteps} steps, {wall:.0f} s)")
    n_solved = sum(mean >= SOLVED_THRESHOLD for mean in means)
    settings = "PLAIN_REINFORCE" if plain else "defaults"
    print(
        f"{ENV_ID}, Reinforce {settings}, {timesteps} steps: {n_solved}/{len(means)} seeds >= {SOLVED_THRESHOLD:g}, "
        f"mean {np.mean(means):.1f}, min {np.min(means):.1f}"
    )
    return n_solved


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (default: 0)")
    parser.add_argument("--timesteps", type=int, default=150_000, help="training steps per seed (default: 150000)")
    parser.add_argument("--eval-episodes", type=int, default=20, help="evaluation episodes (default: 20)")
    parser.add_argument("--tensorboard-log", default=None, help="TensorBoard folder (default: none)")
    parser.add_argument("--plain", action="store_true", help="plain REINFORCE (PLAIN_REINFORCE) instead of the defaults")
    args = parser.parse_args()
    main(args.seeds, args.timesteps, args.eval_episodes, args.tensorboard_log, args.plain)
