"""Learning curves of a grid (``curves_<env>.png``); matplotlib is optional and imported only here."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce.benchmark.peers import algo_rank
from sb3_reinforce.benchmark.stats import interval_estimate

__all__ = ["curve_path", "plot_curves", "plots_available"]


def plots_available() -> bool:
    """Whether matplotlib (optional: ``pip install matplotlib``) can be imported, for the learning curves."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_curves(records: Sequence[dict[str, Any]], env_id: str, path: Path) -> bool:
    """
    Learning curves on ``env_id``: per algorithm, the IQM across seeds at each evaluation, shaded with its 95 %
    bootstrap confidence interval (none with a single seed), and the env's threshold.

    :return: False (and no file) when no run on the env finished
    """
    runs = [r for r in records if r["env_id"] == env_id and r["status"] == "ok"]
    if not runs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    by_algo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_algo[r["algo"]].append(r)
    for algo in sorted(by_algo, key=algo_rank):
        points: dict[int, list[float]] = defaultdict(list)
        for r in by_algo[algo]:
            for point in r["evaluations"]:
                points[point["target"]].append(point["mean_reward"])
        steps = np.array(sorted(points))
        values = [points[s] for s in steps]
        actions = by_algo[algo][0]["config"]["actions"]
        label = f"{algo} ({actions}, {len(by_algo[algo])} seeds)"
        color = f"C{algo_rank(algo)}"  # the same color for an algorithm on every env
        estimates = [interval_estimate([v]) for v in values]
        ax.plot(steps, [e["iqm"] for e in estimates], label=label, color=color)
        # A seed that failed mid-grid leaves fewer values at some steps: the band is drawn where there is a CI
        low = [np.nan if e["ci_low"] is None else e["ci_low"] for e in estimates]
        high = [np.nan if e["ci_high"] is None else e["ci_high"] for e in estimates]
        ax.fill_between(steps, low, high, color=color, alpha=0.2)
    threshold = runs[0].get("threshold")
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    n_episodes = runs[0]["task"]["eval_episodes"]
    ax.set_title(f"{env_id}: deterministic evaluation on the true reward")
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"mean return ({n_episodes} episodes): IQM across seeds, 95 % CI")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def curve_path(out_dir: Path, env_id: str) -> Path:
    return out_dir / f"curves_{re.sub(r'[^A-Za-z0-9._-]', '_', env_id)}.png"
