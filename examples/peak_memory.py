"""
Peak memory of one REINFORCE update on a long CNN batch, with and without ``batch_size`` (gradient accumulation).

Each variant runs in a fresh process: a ``CnnPolicy`` on 84x84 grey images, a batch of ``--frames`` frames (episodes
of 1000 steps) written straight into the episode buffer, then one ``train()``. The figure is the growth of the
process's peak resident memory (``ru_maxrss``) during the update, over what the buffer and the model already hold.

    python examples/peak_memory.py --frames 20000 --batch-sizes 0 2048 512
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def one_update(frames: int, batch_size: int | None, episode_length: int = 1000) -> dict[str, float]:
    """Fill a CNN model's buffer with ``frames`` frames and measure the peak memory of one update."""
    import gymnasium as gym
    import torch as th
    from stable_baselines3.common.envs import FakeImageEnv

    from sb3_reinforce import Reinforce

    th.set_num_threads(1)
    env = FakeImageEnv(screen_height=84, screen_width=84, n_channels=1, discrete=True)
    env = gym.wrappers.TimeLimit(env, max_episode_steps=episode_length)
    model = Reinforce("CnnPolicy", env, n_episodes=frames // episode_length, batch_size=batch_size, seed=0)
    model._setup_learn(frames)  # the logger that train() writes to
    buffer = model.rollout_buffer
    rng = np.random.default_rng(0)
    obs_shape = model.observation_space.shape
    assert obs_shape is not None
    for step in range(frames):
        done = (step + 1) % episode_length == 0
        obs = rng.integers(0, 256, size=(1, *obs_shape), dtype=np.uint8)
        buffer.add(obs, rng.integers(0, 4, size=(1, 1)), np.ones(1, np.float32), np.ones(1, bool), np.array([done]))
        if done:
            buffer.end_episodes([{}], np.array([True]), np.array([-1]))
    buffer.finalize()
    model._compute_returns(buffer)
    before = peak_rss_mb()
    start = time.perf_counter()
    model.train()
    return {
        "frames": frames,
        "batch_size": batch_size or 0,
        "peak_before_update_mb": before,
        "peak_during_update_mb": peak_rss_mb(),
        "update_growth_mb": peak_rss_mb() - before,
        "update_seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20_000, help="frames in the batch (a multiple of 1000)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[0, 2048, 512], help="0: the whole batch at once")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:  # one measurement, in this fresh process
        print(json.dumps(one_update(args.frames, args.child or None)))
        return
    print(f"One REINFORCE update, CnnPolicy (NatureCNN), 84x84x1 frames, batch of {args.frames} frames")
    print(f"{'batch_size':>12}{'buffer+model MB':>17}{'update +MB':>12}{'update s':>10}")
    for batch_size in args.batch_sizes:
        command = [sys.executable, __file__, "--frames", str(args.frames), "--child", str(batch_size)]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        label = "whole batch" if batch_size == 0 else str(batch_size)
        print(
            f"{label:>12}{result['peak_before_update_mb']:>17.0f}{result['update_growth_mb']:>12.0f}"
            f"{result['update_seconds']:>10.1f}"
        )


if __name__ == "__main__":
    main()
