"""
Learning curves of a grid (``curves_<env>.png``): against env steps and against seconds of training, side by side.
matplotlib is optional and imported only here. The files are the same bytes for the same records (no date or
software version in the PNG's metadata, no randomness but the bootstrap's fixed seed).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce.benchmark.peers import algo_rank
from sb3_reinforce.benchmark.stats import evaluation_train_times, interval_estimate
from sb3_reinforce.benchmark.suite import PublishedScore
from sb3_reinforce.experiments.config import ALGOS

__all__ = ["curve_path", "plot_curves", "plots_available"]

#: PNG metadata: none of matplotlib's defaults (its version), so that a rebuild elsewhere gives the same bytes
PNG_METADATA: dict[str, str | None] = {"Software": None}


def plots_available() -> bool:
    """Whether matplotlib (optional: ``pip install matplotlib``) can be imported, for the learning curves."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _iqm_band(values: Sequence[Sequence[float]]) -> tuple[list[float], list[float], list[float]]:
    """The IQM at each point and its 95 % bootstrap band (NaN where a point has one value: no interval)."""
    estimates = [interval_estimate([v]) for v in values]
    low = [np.nan if e["ci_low"] is None else e["ci_low"] for e in estimates]
    high = [np.nan if e["ci_high"] is None else e["ci_high"] for e in estimates]
    return [e["iqm"] for e in estimates], low, high


def _fmt_budget(steps: int) -> str:
    if steps >= 1_000_000:
        return f"{steps / 1_000_000:g}M"
    return f"{steps / 1000:g}k" if steps >= 1000 else str(steps)


def plot_curves(
    records: Sequence[dict[str, Any]],
    env_id: str,
    path: Path,
    threshold: float | None = None,
    random_score: float | None = None,
    published: Sequence[PublishedScore] = (),
) -> bool:
    """
    Learning curves on ``env_id``, per algorithm: the IQM across seeds at each evaluation, shaded with its 95 %
    bootstrap confidence interval (none with a single seed), against env steps (left) and against seconds of
    training (right: the median across seeds of the seconds at each evaluation; runs without recorded times are
    left out of that panel); the threshold, the random policy's score and published scores as horizontal lines.

    :param records: Run records (those of other envs and unfinished runs are ignored)
    :param env_id: The env
    :param path: The PNG file to write
    :param threshold: The threshold line (None: the first run's recorded ``threshold``)
    :param random_score: The random policy's line (None: none)
    :param published: Published scores, drawn as labelled dotted lines on the env-steps panel
    :return: False (and no file) when no run on the env finished
    """
    runs = sorted((r for r in records if r["env_id"] == env_id and r["status"] == "ok"), key=lambda r: r["seed"])
    if not runs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_steps, by_time) = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
    by_algo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_algo[r["algo"]].append(r)
    timed_any = False
    for algo in sorted(by_algo, key=algo_rank):
        color = f"C{algo_rank(algo)}"  # the same color for an algorithm on every env
        points: dict[int, list[float]] = defaultdict(list)
        timed: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        n_timed = 0
        for r in by_algo[algo]:
            for point in r["evaluations"]:
                points[point["target"]].append(point["mean_reward"])
            times = evaluation_train_times(r)
            if times and all(seconds is not None for seconds in times):
                n_timed += 1
                for point, seconds in zip(r["evaluations"], times, strict=True):
                    timed[point["target"]][0].append(point["mean_reward"])
                    timed[point["target"]][1].append(float(seconds or 0.0))
        steps = sorted(points)
        actions = by_algo[algo][0]["config"]["actions"]
        label = f"{algo} ({actions}, {len(by_algo[algo])} seeds)"
        iqm, low, high = _iqm_band([points[s] for s in steps])
        by_steps.plot(steps, iqm, label=label, color=color)
        # A seed that failed mid-grid leaves fewer values at some steps: the band is drawn where there is a CI
        by_steps.fill_between(steps, low, high, color=color, alpha=0.2)
        if n_timed:
            timed_any = True
            targets = sorted(timed)
            median_seconds = [float(np.median(timed[t][1])) for t in targets]
            iqm, low, high = _iqm_band([timed[t][0] for t in targets])
            by_time.plot(median_seconds, iqm, color=color, label=f"{algo} ({n_timed} seeds with times)")
            by_time.fill_between(median_seconds, low, high, color=color, alpha=0.2)
    threshold = runs[0].get("threshold") if threshold is None else threshold
    for ax in (by_steps, by_time):
        if threshold is not None:
            ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
        if random_score is not None:
            ax.axhline(random_score, color="grey", linestyle="-.", linewidth=1, label=f"random policy {random_score:g}")
        ax.grid(alpha=0.3)
    extra_colors = iter(("C4", "C5", "C6", "C8", "C9"))  # algorithms outside the grid (dqn, ars)
    for mark in published:
        color = f"C{algo_rank(mark.algo)}" if mark.algo in ALGOS else next(extra_colors, "C7")
        label = f"published {mark.algo}: {mark.score:g} after {_fmt_budget(mark.timesteps)}"
        by_steps.axhline(mark.score, color=color, linestyle=":", linewidth=1.5, label=label)
    n_episodes = runs[0]["task"]["eval_episodes"]
    by_steps.set_title(f"{env_id}: against env steps")
    by_steps.set_xlabel("env steps")
    by_steps.set_ylabel(f"mean return ({n_episodes} episodes): IQM across seeds, 95 % CI")
    by_time.set_title(f"{env_id}: against seconds of training")
    by_time.set_xlabel("seconds of training (one core; median across seeds)")
    if not timed_any:
        by_time.text(
            0.5,
            0.5,
            "no training times at the evaluations\nin these records",
            transform=by_time.transAxes,
            ha="center",
            va="center",
        )
    by_steps.legend(loc="best", fontsize="x-small")
    if timed_any:
        by_time.legend(loc="best", fontsize="x-small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=100, metadata=PNG_METADATA)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def curve_path(out_dir: Path, env_id: str) -> Path:
    """Where the curves of ``env_id`` go in ``out_dir``."""
    return out_dir / f"curves_{re.sub(r'[^A-Za-z0-9._-]', '_', env_id)}.png"
