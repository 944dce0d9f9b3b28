"""
The seed notebook's experiment, end to end: REINFORCE with a Bernoulli policy on MountainCarContinuous-v0.

Trains with a preset, saves the model (``P.zip``, ``P.json``, ``P_vecnormalize.pkl``), evaluates it from disk on the
**true** task (unshaped reward, the env's own 999-step limit, 100 deterministic episodes) and records a GIF.

    python examples/mountain_car.py                      # preset "solved", seed 0: 92.81 true reward in 50k steps
    python examples/mountain_car.py --preset notebook    # the notebook as written (does not solve the task)

The same steps from the command line::

    python -m sb3_reinforce train --preset solved --seed 0 --save-path models/mountain_car_solved_seed0
    python -m sb3_reinforce evaluate --model models/mountain_car_solved_seed0 --episodes 100
    python -m sb3_reinforce record --model models/mountain_car_solved_seed0 --output models/mountain_car_solved_seed0.gif
"""

from __future__ import annotations

import argparse
import shlex
import sys

import torch as th

from sb3_reinforce.experiments import make_config, media, run
from sb3_reinforce.experiments.presets import PRESETS


def main(
    preset: str = "solved",
    seed: int = 0,
    timesteps: int | None = None,
    eval_episodes: int = 100,
    save_path: str | None = None,
    gif: str | None = None,
    tensorboard_log: str | None = "runs",
    progress_bar: bool = True,
    max_frames: int | None = None,
) -> float:
    """
    Train with a preset, then evaluate and record the saved model.

    :param preset: ``"solved"`` (the fixed recipe) or ``"notebook"`` (the notebook as written)
    :param seed: Seed of the run
    :param timesteps: Training budget (None: the preset's)
    :param eval_episodes: Episodes of the true-reward evaluation
    :param save_path: Where to save the model (None: ``models/mountain_car_<preset>_seed<seed>``)
    :param gif: Where to write the GIF (None: beside the model; ``""``: no GIF)
    :param tensorboard_log: TensorBoard folder (None: no TensorBoard)
    :param progress_bar: Show the progress bar
    :param max_frames: Stop the GIF after this many frames (None: one whole episode)
    :return: The mean true reward
    """
    th.set_num_threads(1)  # small MLPs train fastest on one CPU thread
    save_path = save_path or f"models/mountain_car_{preset}_seed{seed}"
    config = make_config(preset=preset, seed=seed, timesteps=timesteps)
    # Train and save (true and shaped returns go to TensorBoard); the evaluation below reloads the model from disk,
    # as a user of the saved files would
    trained = run.train(
        config,
        save_path=save_path,
        tensorboard_log=tensorboard_log,
        progress_bar=progress_bar,
        eval_episodes=0,
        command=shlex.join([sys.executable, *sys.argv]),
    )
    print(f"Trained for {trained.num_timesteps} steps in {trained.train_time:.1f} s, saved to {trained.saved}")
    result = run.evaluate(save_path, n_episodes=eval_episodes)
    print(f"Evaluation: {result.summary()}")
    if gif != "":
        video = media.record(save_path, gif or f"{save_path}.gif", frame_skip=2, max_frames=max_frames)
        print(f"Wrote {video.n_frames} frames to {gif or f'{save_path}.gif'}")
    return result.mean_reward


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="solved", help="recipe (default: solved)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--timesteps", type=int, default=None, help="training budget (default: the preset's)")
    parser.add_argument("--eval-episodes", type=int, default=100, help="evaluation episodes (default: 100)")
    parser.add_argument("--save-path", default=None, help="model path P (default: models/mountain_car_<preset>_seed<seed>)")
    parser.add_argument("--gif", default=None, help="GIF path (default: P.gif; empty string: no GIF)")
    parser.add_argument("--tensorboard-log", default="runs", help="TensorBoard folder (default: runs)")
    parser.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar")
    parser.add_argument("--max-frames", type=int, default=None, help="stop the GIF after N frames (default: whole episode)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    try:
        main(
            preset=args.preset,
            seed=args.seed,
            timesteps=args.timesteps,
            eval_episodes=args.eval_episodes,
            save_path=args.save_path,
            gif=args.gif,
            tensorboard_log=args.tensorboard_log or None,
            progress_bar=not args.no_progress_bar,
            max_frames=args.max_frames,
        )
    except (ValueError, TypeError) as error:
        print(f"mountain_car.py: error: {error}", file=sys.stderr)
        sys.exit(2)
