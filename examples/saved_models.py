"""
Saved models travel both ways between the command line and Python (docs/cli.md).

1. A model trained and saved the command line's way (``P.zip``, ``P.json``, ``P_vecnormalize.pkl``), loaded in
   Python with its env in one call (:func:`~sb3_reinforce.experiments.load_trained`) and scored the SB3 way
   (``evaluate_policy``): the same true reward as ``python -m sb3_reinforce evaluate --model P``.
2. A model saved from Python (``model.save``), evaluated by the command line with ``--env``.

    python examples/saved_models.py                       # the solved preset, 50k steps, 100 episodes
    python examples/saved_models.py --timesteps 5000 --episodes 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch as th
from stable_baselines3.common.evaluation import evaluate_policy

from sb3_reinforce import Reinforce
from sb3_reinforce.experiments import load_trained, make_config, train


def evaluate_with_the_cli(*args: str) -> dict[str, float]:
    """``python -m sb3_reinforce evaluate ... --json``: stdout is one JSON object."""
    command = [sys.executable, "-m", "sb3_reinforce", "evaluate", *args, "--json"]
    print("$", " ".join(command[1:]))
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main(timesteps: int | None = None, episodes: int = 100, out_dir: str = "models") -> tuple[float, float]:
    """
    Train a MountainCar model as the command line does and score it both ways; save a CartPole model from Python and
    score it with the command line.

    :param timesteps: Training budget of both models (None: the solved preset's, and 10k for CartPole)
    :param episodes: Evaluation episodes
    :param out_dir: Folder of the saved models
    :return: The MountainCar model's mean true reward, from Python and from the command line
    """
    th.set_num_threads(1)
    folder = Path(out_dir)

    # 1. Saved as `python -m sb3_reinforce train --preset solved` saves it; back in Python in one call
    path = folder / "mcc_solved_example"
    train(make_config("solved", timesteps=timesteps), save_path=path, eval_episodes=0)
    model, env = load_trained(path)  # Bernoulli actions, frozen observation statistics, the true reward
    from_python, _ = evaluate_policy(model, env, n_eval_episodes=episodes)
    assert isinstance(from_python, float)
    from_cli = evaluate_with_the_cli("--model", str(path), "--episodes", str(episodes))["mean_reward"]
    print(f"MountainCar, true reward over {episodes} episodes: {from_python:.2f} (Python), {from_cli:.2f} (command line)")

    # 2. Saved from Python (a zip and nothing else): the command line needs its env
    cartpole = folder / "reinforce_cartpole_example"
    Reinforce("MlpPolicy", "CartPole-v1", seed=0).learn(timesteps or 10_000).save(cartpole)
    result = evaluate_with_the_cli("--model", str(cartpole), "--env", "CartPole-v1", "--episodes", str(episodes))
    print(f"CartPole saved from Python, evaluated by the command line: {result['mean_reward']:.2f}")
    return float(from_python), float(from_cli)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--timesteps", type=int, default=None, help="training budget (default: the preset's; 10k for CartPole)"
    )
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes (default: 100)")
    parser.add_argument("--out-dir", default="models", help="folder of the saved models (default: models)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    main(timesteps=args.timesteps, episodes=args.episodes, out_dir=args.out_dir)
