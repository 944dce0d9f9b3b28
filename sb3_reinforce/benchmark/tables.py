"""
``table.md``: the rows of :func:`~sb3_reinforce.benchmark.summary.summarize` (:func:`markdown_table`), the
normalized score across envs (:func:`markdown_across_envs`) and every run (:func:`markdown_runs`) as Markdown tables,
under the machines and commands that wrote the records (:func:`table_md`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from sb3_reinforce.benchmark.formatting import fmt_iqm, fmt_reach, fmt_solved, fmt_spread, fmt_steps, table_row
from sb3_reinforce.benchmark.peers import DEFAULT_ENVS, algo_rank
from sb3_reinforce.benchmark.summary import env_rank, run_label
from sb3_reinforce.experiments.records import PHYSICS_ENGINES

__all__ = ["machine_summaries", "markdown_across_envs", "markdown_runs", "markdown_table", "table_md"]


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """
    The summary rows as a Markdown table: the final reward's IQM [95 % bootstrap CI] across seeds, the rest as
    medians [25th, 75th percentiles].
    """
    header = [
        "env",
        "algo",
        "actions",
        "n_envs",
        "budget",
        "solved at end",
        "final reward IQM [95 % CI]",
        "first ≥ thr.",
        "stays ≥ thr.",
        "train fps",
        "fps vs ref.",
        "wall s",
        "status",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        reference = _fps_reference(rows, row["env_id"])
        ratio = "—"
        if row["fps"] and reference is not None:
            ratio = f"{np.median(row['fps']) / np.median(reference['fps']):.2f}x {reference['algo']}"
        cells = [
            row["env_id"],
            row["algo"] + ("" if row.get("settings", "tuned") == "tuned" else f" ({row['settings']})"),
            row["actions"],
            "—" if row["n_envs"] is None else str(row["n_envs"]),
            fmt_steps(row["budget"]) if row["budget"] else "—",
            fmt_solved(row),
            fmt_iqm(row["final_iqm"], row["final_ci"]),
            fmt_reach(row, "first"),
            fmt_reach(row, "stays"),
            fmt_spread(row["fps"], lambda x: f"{x:,.0f}"),
            ratio,
            fmt_spread(row["wall_time"], lambda x: f"{x:.0f}"),
            _status(row),
        ]
        lines.append(table_row(cells))
    return "\n".join(lines) + "\n"


def _fps_reference(rows: Sequence[dict[str, Any]], env_id: str) -> dict[str, Any] | None:
    """The row speeds are compared with on ``env_id``: A2C if it ran, else the first algorithm that did."""
    candidates = [row for row in rows if row["env_id"] == env_id and row["fps"]]
    return next((row for row in candidates if row["algo"] == "a2c"), candidates[0] if candidates else None)


def _status(row: dict[str, Any]) -> str:
    if row["not_applicable"]:
        return f"n/a: {row['not_applicable']}"
    if row["n_failed"] == 0:
        return "ok"
    first_error = row["errors"][0]
    first_error = first_error if len(first_error) <= 80 else first_error[:77] + "..."
    return f"{row['n_failed']} failed ({first_error})"


def markdown_across_envs(summary: Sequence[dict[str, Any]], heading: str = "final reward / threshold") -> str:
    """The rows of :func:`~sb3_reinforce.benchmark.stats.summarize_across_envs` as a Markdown table."""
    lines = [f"| algo | envs | runs | {heading}: IQM [95 % CI] | solved at end |", "|---|---|---|---|---|"]
    for row in summary:
        cells = [row["algo"], ", ".join(row["envs"]), str(row["n_runs"]), fmt_iqm(row["iqm"], row["ci"], "{:.3f}")]
        cells.append(f"{row['solved_fraction']:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_runs(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> str:
    """One line per run: final reward (mean ± std over the final episodes), steps to threshold, speed."""
    lines = [
        "| env | algo | seed | final reward | episodes | first ≥ thr. | stays ≥ thr. | train fps | wall s | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = [r for r in records if r["status"] != "n/a"]
    runs.sort(key=lambda r: (env_rank(r["env_id"], env_order), algo_rank(r["algo"]), r["algo"], r["seed"]))
    for r in runs:
        if r["status"] == "ok":
            final = f"{r['final']['mean_reward']:.2f} ± {r['final']['std_reward']:.2f}"
            cells = [
                final,
                str(r["final"]["n_episodes"]),
                fmt_steps(r["first_threshold_steps"]) if r["threshold"] is not None else "—",
                fmt_steps(r["stays_threshold_steps"]) if r["threshold"] is not None else "—",
                f"{r['fps']:,.0f}",
                f"{r['wall_time']:.0f}",
                "ok",
            ]
        else:
            cells = ["—", "—", "—", "—", "—", f"{r.get('wall_time', 0.0):.0f}", f"{r['status']}: {r['error']}"]
        lines.append("| " + " | ".join([r["env_id"], run_label(r), str(r["seed"]), *cells]) + " |")
    return "\n".join(lines) + "\n"


def machine_summaries(records: Sequence[dict[str, Any]]) -> list[str]:
    """The machines and library versions of the records, each with its number of runs, most runs first."""
    counts: Counter[str] = Counter()
    for record in records:
        machine = record.get("machine")
        if machine:
            counts[
                f"{machine['cpu']}, {machine['cpu_count']} CPUs; Python {machine['python']}, torch {machine['torch']}, "
                f"stable-baselines3 {machine['stable_baselines3']}, gymnasium {machine['gymnasium']}, "
                f"numpy {machine.get('numpy', '?')}, sb3_reinforce {machine.get('sb3_reinforce', '?')}"
                # Recorded since 2026-12-03: older records name no physics engine
                + "".join(f", {engine} {machine[engine]}" for engine in PHYSICS_ENGINES if engine in machine)
            ] += 1
    return [f"{text} ({n} runs)" for text, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def table_md(
    records: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    across_envs: Sequence[dict[str, Any]],
    commands: Sequence[str],
    env_order: Sequence[str],
) -> str:
    header = ["# Benchmark", ""]
    header += [f"Machine: {machine}" for machine in machine_summaries(records)] or ["Machine: no finished run"]
    header += [""] + [f"Command: `{command}`" for command in commands]
    header += [
        "",
        "Final reward: deterministic policy, true reward, mean over the final evaluation episodes; its interquartile "
        "mean (IQM) across seeds, with a 95 % percentile-bootstrap confidence interval over the seeds "
        "(scipy.stats.bootstrap, 2000 resamples). Other columns: medians across seeds, [25th, 75th percentile] in "
        "brackets. Solved at end: seeds whose final reward reaches the env's threshold. "
        "First / stays ≥ thr.: env steps of the first periodic evaluation at "
        "or above the env's reward threshold, and of the one from which all later evaluations stay there "
        "(never: not reached). Train fps: env steps per second of training, evaluation excluded.",
        "",
    ]
    thresholds = sorted({(row["env_id"], row["threshold"]) for row in rows}, key=lambda t: env_rank(t[0], env_order))
    header += ["Thresholds: " + ", ".join(f"{env} {thr:g}" for env, thr in thresholds if thr is not None), ""]
    text = "\n".join(header) + "\n" + markdown_table(rows)
    if across_envs:
        text += (
            "\n## Across envs\n\nThe runs with tuned settings on the suite's envs, their final reward normalized "
            "((score - random) / (threshold - random)); IQM over all runs, 95 % CI from a bootstrap stratified over "
            "envs (each env's seeds resampled on their own).\n\n" + markdown_across_envs(across_envs)
        )
    return text + "\n## Per run\n\n" + markdown_runs(records, env_order)
