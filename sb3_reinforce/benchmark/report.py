"""
The report of a grid, rebuilt from its run records: ``evaluations.csv`` / ``.json``, ``summary.json``, ``table.md``
(the IQM of the final reward with its 95 % bootstrap confidence interval, medians and interquartile ranges across
seeds of the rest, an across-envs summary) and ``curves_<env>.png`` (learning curves; needs matplotlib).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce.benchmark.peers import DEFAULT_ENVS, algo_rank
from sb3_reinforce.benchmark.plots import curve_path, plot_curves
from sb3_reinforce.benchmark.stats import interval_estimate, summarize_across_envs
from sb3_reinforce.experiments.records import machine_info, write_json_atomic, write_text_atomic

__all__ = [
    "evaluation_rows",
    "load_runs",
    "markdown_runs",
    "markdown_table",
    "steps_to_threshold",
    "summarize",
    "write_report",
]


def steps_to_threshold(
    timesteps: Sequence[int], rewards: Sequence[float], threshold: float | None
) -> tuple[int | None, int | None]:
    """
    When a learning curve first reaches ``threshold``, and from when it stays at or above it to the end.

    >>> steps_to_threshold([0, 10, 20, 30], [0.0, 95.0, 80.0, 91.0], 90.0)
    (10, 30)
    >>> steps_to_threshold([0, 10], [95.0, 80.0], 90.0)
    (0, None)

    :param timesteps: Env steps of each evaluation, in order
    :param rewards: Mean reward of each evaluation
    :param threshold: The reward threshold (None: no threshold, both results None)
    :return: ``(first, stays)``: the steps of the first evaluation at or above the threshold, and of the first
        evaluation from which all evaluations are; None when there is none
    """
    if threshold is None:
        return None, None
    above = [reward >= threshold for reward in rewards]
    first = next((steps for steps, ok in zip(timesteps, above, strict=True) if ok), None)
    stays = None
    for steps, ok in zip(reversed(timesteps), reversed(above), strict=True):
        if not ok:
            break
        stays = steps
    return (None if first is None else int(first)), (None if stays is None else int(stays))


def load_runs(out_dir: Path) -> list[dict[str, Any]]:
    """Every run record in ``<out_dir>/runs`` (unreadable files are reported and skipped)."""
    records = []
    for path in sorted((out_dir / "runs").glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as error:
            print(f"Skipping unreadable run file {path}: {error}", file=sys.stderr)
    return records


def _quantiles(values: Sequence[float], qs: Iterable[float]) -> list[float]:
    """Linear-interpolated quantiles that treat ``inf`` (never reached) as larger than everything."""
    ordered = sorted(values)
    results = []
    for q in qs:
        position = q * (len(ordered) - 1)
        low, high = math.floor(position), math.ceil(position)
        if math.isinf(ordered[low]) or math.isinf(ordered[high]):
            results.append(math.inf)
        else:
            results.append(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
    return results


def fmt_steps(value: float | None) -> str:
    if value is None or math.isinf(value):
        return "never"
    if value >= 1000:
        return f"{value / 1000:.1f}".removesuffix(".0") + "k"
    return f"{value:.0f}"


def _fmt_spread(values: Sequence[float], fmt: Any) -> str:
    """``median [q25, q75]`` (just the value for a single seed)."""
    if not values:
        return "—"
    median, q25, q75 = _quantiles(values, (0.5, 0.25, 0.75))
    if len(values) == 1:
        return fmt(median)
    return f"{fmt(median)} [{fmt(q25)}, {fmt(q75)}]"


def _env_rank(env_id: str, env_order: Sequence[str]) -> tuple[int, str]:
    return (env_order.index(env_id) if env_id in env_order else len(env_order), env_id)


def _group_key(record: dict[str, Any]) -> tuple[str, str, int | None]:
    config = record.get("config") or {}
    return record["env_id"], record["algo"], config.get("timesteps")


def summarize(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> list[dict[str, Any]]:
    """
    One row per algorithm x env x budget: statistics across the seeds that finished.

    :param records: Run records (:func:`run_one`), ``n/a`` records included
    :param env_order: Envs to list first, in this order
    :return: The rows, sorted by env then algorithm
    """
    groups: dict[tuple[str, str, int | None], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[_group_key(record)].append(record)
    rows = []
    for (env_id, algo, budget), group in groups.items():
        ok = sorted((r for r in group if r["status"] == "ok"), key=lambda r: r["seed"])
        failed = sorted((r for r in group if r["status"] == "failed"), key=lambda r: r["seed"])
        not_applicable = [r for r in group if r["status"] == "n/a"]
        config: dict[str, Any] = next((r["config"] for r in ok + failed + not_applicable if r.get("config")), {})
        threshold = group[0].get("threshold")
        inf = math.inf
        final = [r["final"]["mean_reward"] for r in ok]
        # Per algorithm x env, one stratum: a plain bootstrap over the seeds (stats.interval_estimate)
        estimate = interval_estimate([final]) if final else None
        rows.append(
            dict(
                env_id=env_id,
                algo=algo,
                actions=config.get("actions", "—"),
                n_envs=config.get("n_envs"),
                budget=budget,
                source=config.get("source"),
                threshold=threshold,
                seeds=[r["seed"] for r in ok],
                n_ok=len(ok),
                n_failed=len(failed),
                not_applicable=not_applicable[0]["error"] if not_applicable else None,
                errors=[f"seed {r['seed']}: {r['error']}" for r in failed],
                solved=_solved(ok),
                solved_fraction=None if threshold is None or not ok + failed else _solved(ok) / len(ok + failed),
                final=final,
                final_iqm=None if estimate is None else estimate["iqm"],
                final_ci=None if estimate is None or estimate["ci_low"] is None else [estimate["ci_low"], estimate["ci_high"]],
                final_std=[r["final"]["std_reward"] for r in ok],
                first=[inf if r["first_threshold_steps"] is None else r["first_threshold_steps"] for r in ok],
                stays=[inf if r["stays_threshold_steps"] is None else r["stays_threshold_steps"] for r in ok],
                fps=[r["fps"] for r in ok],
                wall_time=[r["wall_time"] for r in ok],
            )
        )
    rows.sort(key=lambda row: (_env_rank(row["env_id"], env_order), algo_rank(row["algo"]), row["budget"] or 0))
    return rows


def _solved(records: Sequence[dict[str, Any]]) -> int:
    return sum(bool(r["final"]["solved"]) for r in records)


def markdown_across_envs(summary: Sequence[dict[str, Any]]) -> str:
    """The rows of :func:`summarize_across_envs` as a Markdown table."""
    lines = ["| algo | envs | runs | final reward / threshold: IQM [95 % CI] | solved at end |", "|---|---|---|---|---|"]
    for row in summary:
        cells = [row["algo"], ", ".join(row["envs"]), str(row["n_runs"]), _fmt_iqm(row["iqm"], row["ci"], "{:.3f}")]
        cells.append(f"{row['solved_fraction']:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt_iqm(iqm: float | None, ci: Sequence[float] | None, fmt: str = "{:.1f}") -> str:
    """``iqm [low, high]``; ``(1 seed: no CI)`` when there is no interval."""
    if iqm is None:
        return "—"
    if ci is None:
        return f"{fmt.format(iqm)} (1 seed: no CI)"
    return f"{fmt.format(iqm)} [{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


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
        n_seeds = row["n_ok"] + row["n_failed"]
        solved = "—" if row["not_applicable"] or row["threshold"] is None else f"{row['solved']}/{n_seeds}"
        cells = [
            row["env_id"],
            row["algo"],
            row["actions"],
            "—" if row["n_envs"] is None else str(row["n_envs"]),
            fmt_steps(row["budget"]) if row["budget"] else "—",
            solved,
            _fmt_iqm(row["final_iqm"], row["final_ci"]),
            _reach(row, "first"),
            _reach(row, "stays"),
            _fmt_spread(row["fps"], lambda x: f"{x:,.0f}"),
            ratio,
            _fmt_spread(row["wall_time"], lambda x: f"{x:.0f}"),
            _status(row),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _reach(row: dict[str, Any], kind: str) -> str:
    values = row[kind]
    if row["threshold"] is None or not values:
        return "—"
    reached = sum(not math.isinf(value) for value in values)
    if reached == len(values):
        return _fmt_spread(values, fmt_steps)
    text = "never" if math.isinf(_quantiles(values, (0.5,))[0]) else _fmt_spread(values, fmt_steps)
    return f"{text} ({reached}/{len(values)} seeds)"


def markdown_runs(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> str:
    """One line per run: final reward (mean ± std over the final episodes), steps to threshold, speed."""
    lines = [
        "| env | algo | seed | final reward | episodes | first ≥ thr. | stays ≥ thr. | train fps | wall s | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = [r for r in records if r["status"] != "n/a"]
    runs.sort(key=lambda r: (_env_rank(r["env_id"], env_order), algo_rank(r["algo"]), r["seed"]))
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
        lines.append("| " + " | ".join([r["env_id"], r["algo"], str(r["seed"]), *cells]) + " |")
    return "\n".join(lines) + "\n"


def evaluation_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every evaluation point of every run (``kind="periodic"``, and ``"final"`` for the final evaluation)."""
    rows = []
    for r in records:
        for point in r.get("evaluations", []):
            rows.append(dict(algo=r["algo"], env_id=r["env_id"], seed=r["seed"], status=r["status"], kind="periodic", **point))
        if r["status"] == "ok":
            final = r["final"]
            rows.append(
                dict(
                    algo=r["algo"],
                    env_id=r["env_id"],
                    seed=r["seed"],
                    status=r["status"],
                    kind="final",
                    target=r["config"]["timesteps"],
                    timesteps=r["num_timesteps"],
                    mean_reward=final["mean_reward"],
                    std_reward=final["std_reward"],
                    mean_length=final["mean_length"],
                    n_episodes=final["n_episodes"],
                )
            )
    return rows


def write_report(
    out_dir: Path, env_order: Sequence[str] = DEFAULT_ENVS, command: str | None = None, plots: bool = True
) -> str:
    """
    Regenerate every output of ``out_dir`` from its run files: CSV/JSON of the evaluations, summary, table, curves.

    :param out_dir: The benchmark's output folder
    :param env_order: Envs to list first
    :param command: The command line, written into the table's header (None: the one saved by the last grid run)
    :param plots: Draw the learning curves (needs matplotlib)
    :return: The Markdown table of the summary
    """
    if command is None and (out_dir / "grid.json").exists():
        command = json.loads((out_dir / "grid.json").read_text(encoding="utf-8")).get("command")
    records = load_runs(out_dir)
    evaluations = evaluation_rows(records)
    columns = ["algo", "env_id", "seed", "status", "kind", "target", "timesteps", "mean_reward", "std_reward"]
    columns += ["mean_length", "n_episodes"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(evaluations)
    write_text_atomic(out_dir / "evaluations.csv", buffer.getvalue())
    write_json_atomic(out_dir / "evaluations.json", evaluations)

    rows = summarize(records, env_order)
    across_envs = summarize_across_envs(rows, algo_rank)
    write_json_atomic(out_dir / "summary.json", rows)
    write_json_atomic(out_dir / "summary_across_envs.json", across_envs)
    table = markdown_table(rows)
    machine = machine_info()
    header = [
        "# Benchmark",
        "",
        f"Machine: {machine['cpu']}, {machine['cpu_count']} CPUs; Python {machine['python']}, torch {machine['torch']}, "
        f"stable-baselines3 {machine['stable_baselines3']}, gymnasium {machine['gymnasium']}.",
    ]
    if command:
        header += ["", f"Command: `{command}`"]
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
    thresholds = sorted({(row["env_id"], row["threshold"]) for row in rows}, key=lambda t: _env_rank(t[0], env_order))
    header += ["Thresholds: " + ", ".join(f"{env} {thr:g}" for env, thr in thresholds if thr is not None), ""]
    text = "\n".join(header) + "\n" + table
    if across_envs:
        text += (
            "\n## Across envs\n\nFinal reward divided by the env's threshold; IQM over all runs, 95 % CI from a "
            "bootstrap stratified over envs (each env's seeds resampled on their own).\n\n" + markdown_across_envs(across_envs)
        )
    text += "\n## Per run\n\n" + markdown_runs(records, env_order)
    write_text_atomic(out_dir / "table.md", text)

    for env_id in sorted({r["env_id"] for r in records} if plots else ()):
        plot_curves(records, env_id, curve_path(out_dir, env_id))
    return table
