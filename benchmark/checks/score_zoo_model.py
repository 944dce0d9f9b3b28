"""
Score a model trained by the RL Zoo's train script as the benchmark's final evaluation counts: 100 deterministic
episodes on the env's own reward, the training run's observation statistics frozen.

Two sets of episodes: the benchmark's own (evaluation env ``i`` reset with seed ``EVAL_SEED + i``, the episodes every
benchmark record was scored on, so that the score compares with a record run by run), and the check's (one env
seeded 2,000,000, the episodes of the checks measured before 2026-12-03). ``--seeds`` adds other sets: on an env
whose return depends on the start state (Pendulum's angle), the spread across sets is the evaluation's own noise.

    python benchmark/checks/score_zoo_model.py /tmp/zoo_check/1000 a2c Pendulum-v1 --seeds 12345 777
"""

import argparse
from pathlib import Path

import numpy as np
from rl_zoo3 import ALGOS
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from sb3_reinforce.benchmark.executor import EVAL_SEED, MAX_EVAL_ENVS

CHECK_SEED = 2_000_000
EPISODES = 100


def score(folder: Path, algo: str, env_id: str, seed: int, n_envs: int) -> str:
    """Mean ± std of the true return of the zoo's model in ``folder``, ``EPISODES`` deterministic episodes from ``seed``."""
    run = folder / algo / f"{env_id}_1"
    model = ALGOS[algo].load(run / f"{env_id}.zip", device="cpu")
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)  # env i: seed + i, as the benchmark's evaluator resets it
    stats = run / env_id / "vecnormalize.pkl"
    if stats.exists():
        env = VecNormalize.load(str(stats), env)
        env.training, env.norm_reward = False, False
    rewards, _ = evaluate_policy(model, env, n_eval_episodes=EPISODES, deterministic=True, return_episode_rewards=True)
    env.close()
    return f"{np.mean(rewards):.1f} ± {np.std(rewards):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Score a model of rl_zoo3.train on the benchmark's episodes.")
    parser.add_argument("folder", type=Path, help="the -f folder of rl_zoo3.train")
    parser.add_argument("algo")
    parser.add_argument("env_id")
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="more episode sets: one env from each seed")
    args = parser.parse_args()
    sets = [("the benchmark's episodes", EVAL_SEED, MAX_EVAL_ENVS), ("the check's", CHECK_SEED, 1)]
    sets += [(f"seed {seed}", seed, 1) for seed in args.seeds]
    scores = ", ".join(f"{name} {score(args.folder, args.algo, args.env_id, seed, n)}" for name, seed, n in sets)
    print(f"{args.algo} {args.env_id} seed {args.folder.name}: {scores} ({EPISODES} deterministic episodes each)")


if __name__ == "__main__":
    main()
