"""
Sample efficiency of a preset over several seeds: from when the periodic evaluations stay at or above a threshold.

Each seed is ``python -m sb3_reinforce train --preset P --seed S --eval-freq F`` (the same experiment API): the
deterministic policy is evaluated on the env's true reward (10 episodes, ``--eval-freq-episodes``; frozen observation
statistics) at step 0, every ``--eval-freq`` steps and at the end, then over 100 episodes (``--final-episodes``). One
line per seed, then a summary.

    python examples/sample_efficiency.py --preset cartpole --seeds 0 1 2 3 4 --threshold 500 --eval-freq 2500
    python examples/sample_efficiency.py --preset solved --seeds 0 1 2 3 4 --threshold 90 --eval-freq 2500

``--actions``, ``--max-episode-steps`` and ``--hp KEY=VALUE`` override the preset as in ``python -m sb3_reinforce train``,
e.g. the gSDE preset with one noise matrix per episode instead of one per step:

    python examples/sample_efficiency.py --preset solved-gsde --hp sde_sample_freq=-1 --seeds 0 1 2 3 4 --threshold 90 \
        --eval-freq 10000
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import torch as th

from sb3_reinforce.benchmark.report import steps_to_threshold
from sb3_reinforce.experiments.config import make_config, parse_hyperparameter
from sb3_reinforce.experiments.run import train


def main(
    preset: str,
    seeds: Sequence[int],
    threshold: float,
    eval_freq: int,
    timesteps: int | None = None,
    actions: str | None = None,
    max_episode_steps: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    final_episodes: int = 100,
    eval_freq_episodes: int = 10,
) -> list[dict]:
    """
    Train the preset (with the given overrides) once per seed with periodic evaluations.

    :return: One record per seed: ``first`` and ``stays`` (env steps, None if never), ``final`` (``final_episodes`` episodes),
        the periodic means and the training time
    """
    th.set_num_threads(1)
    overrides = dict(actions=actions, max_episode_steps=max_episode_steps, **(hyperparams or {}))
    changed = ", ".join(f"{key}={value!r}" for key, value in overrides.items() if value is not None)
    print(f"{preset}{f' with {changed}' if changed else ''}: threshold {threshold:g}, evaluations every {eval_freq} steps")
    records = []
    for seed in seeds:
        config = make_config(
            preset,
            seed=seed,
            timesteps=timesteps,
            actions=actions,
            max_episode_steps=max_episode_steps,
            hyperparams=hyperparams,
        )
        result = train(config, eval_freq=eval_freq, eval_freq_episodes=eval_freq_episodes, eval_episodes=final_episodes)
        steps = [point["timesteps"] for point in result.evaluations]
        means = [point["mean_reward"] for point in result.evaluations]
        first, stays = steps_to_threshold(steps, means, threshold)
        assert result.evaluation is not None
        record = dict(
            seed=seed, first=first, stays=stays, final=result.evaluation.mean_reward, curve=means, time=result.train_time
        )
        records.append(record)
        print(
            f"seed {seed}: first >= {threshold:g} at {first}, stays from {stays}, final {record['final']:.2f} "
            f"({final_episodes} episodes), {result.num_timesteps} steps in {result.train_time:.0f} s; "
            f"evaluations: {' '.join(f'{mean:.0f}' for mean in means)}",
            flush=True,
        )
    reached = [record["stays"] for record in records if record["stays"] is not None]
    finals = ", ".join(f"{record['final']:.2f}" for record in records)
    print(
        f"{preset}: stays >= {threshold:g} in {len(reached)}/{len(records)} seeds, from "
        f"{min(reached, default=None)} to {max(reached, default=None)} steps; finals {finals}"
    )
    return records


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cartpole")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threshold", type=float, default=500.0)
    parser.add_argument("--eval-freq", type=int, default=2500)
    parser.add_argument("--timesteps", type=int, default=None, help="budget (the preset's)")
    parser.add_argument("--actions", choices=["continuous", "bernoulli"], default=None, help="(the preset's)")
    parser.add_argument("--max-episode-steps", type=int, default=None, help="training time limit (the preset's)")
    parser.add_argument("--eval-freq-episodes", type=int, default=10, help="episodes of each periodic evaluation")
    parser.add_argument("--final-episodes", type=int, default=100, help="episodes of the final evaluation")
    parser.add_argument("--hp", type=parse_hyperparameter, action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    main(
        args.preset,
        args.seeds,
        args.threshold,
        args.eval_freq,
        args.timesteps,
        actions=args.actions,
        max_episode_steps=args.max_episode_steps,
        hyperparams=dict(args.hp),
        final_episodes=args.final_episodes,
        eval_freq_episodes=args.eval_freq_episodes,
    )
