"""
The report of a grid, rebuilt from its run records alone (``<out>/runs/*.json``, whichever grids, machines or
executors wrote them): ``evaluations.csv`` / ``.json``, ``summary.json``, ``summary_across_envs.json``, ``table.md``
(the IQM of the final reward with its 95 % bootstrap confidence interval, medians and interquartile ranges across
seeds of the rest, an across-envs summary), ``curves_<env>.png`` (learning curves against env steps and seconds of
training; needs matplotlib), and with ``page`` the benchmark's page (``BENCHMARKS.md``: :func:`markdown_page`).

Everything is a function of the records, the suite (:mod:`~sb3_reinforce.benchmark.suite`), the page's text
(:mod:`~sb3_reinforce.benchmark.page`) and ``<out>/grid.json`` (the commands that ran): no clock, no machine
information of the rebuild, no absolute path, sorted inputs, fixed formats and a fixed bootstrap seed, so that a
rebuild anywhere (with the same library versions) gives the same bytes.

Each run is scored against its env's threshold (:func:`report_thresholds`: the suite's target, else the one the
records were written with); a record written with another threshold is rescored from its evaluations
(:func:`rescore`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sb3_reinforce.benchmark.page import SECTIONS
from sb3_reinforce.benchmark.peers import DEFAULT_ENVS, algo_rank
from sb3_reinforce.benchmark.plots import curve_path, plot_curves
from sb3_reinforce.benchmark.stats import evaluation_train_times, interval_estimate, summarize_across_envs
from sb3_reinforce.benchmark.suite import SUITE, SuiteEnv
from sb3_reinforce.experiments.config import ALGOS
from sb3_reinforce.experiments.records import write_json_atomic, write_text_atomic

__all__ = [
    "LOAD_MARGIN",
    "evaluation_rows",
    "fmt_duration",
    "load_flag",
    "load_runs",
    "markdown_page",
    "markdown_runs",
    "markdown_table",
    "read_commands",
    "report_thresholds",
    "rescore",
    "steps_to_threshold",
    "summarize",
    "threshold_times",
    "write_report",
]

#: A run is flagged "loaded" when the load average at its start or end exceeds the CPU count by more than this
LOAD_MARGIN = 0.5
#: The page's template, as the page names it
TEMPLATE = "sb3_reinforce/benchmark/page.py"


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


def fmt_duration(seconds: float) -> str:
    """
    A duration for people: ``42s``, ``3m05s``, ``2h07m``.

    >>> fmt_duration(42.4), fmt_duration(185), fmt_duration(7620)
    ('42s', '3m05s', '2h07m')
    """
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _fmt_seconds(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:,.1f}"


def _fmt_num(value: float) -> str:
    return f"{value:.1f}"


def _fmt_budget(steps: int | None) -> str:
    if not steps:
        return "—"
    if steps >= 1_000_000:
        return f"{steps / 1_000_000:g}M"
    return fmt_steps(steps)


# -- Scoring the records against one threshold per env ---------------------------------------------------------------


def report_thresholds(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """
    The threshold each env's runs are scored against: the env's target in the suite, else the threshold its records
    were written with (the most frequent one, then the highest, should they differ).

    :param records: Run records
    :return: ``{env_id: threshold}`` for every env of the records (None: no threshold)
    """
    recorded: dict[str, Counter[float]] = defaultdict(Counter)
    for record in records:
        recorded[record["env_id"]]  # every env gets an entry, with or without a threshold
        if record.get("threshold") is not None:
            recorded[record["env_id"]][float(record["threshold"])] += 1
    thresholds: dict[str, float | None] = {}
    for env_id, counts in recorded.items():
        if env_id in SUITE:
            thresholds[env_id] = SUITE[env_id].target
        else:
            thresholds[env_id] = max(counts, key=lambda value: (counts[value], value)) if counts else None
    return thresholds


def rescore(record: dict[str, Any], threshold: float | None) -> dict[str, Any]:
    """
    ``record`` scored against ``threshold``: when it was written with another one, a copy whose ``threshold``,
    ``first_threshold_steps``, ``stays_threshold_steps`` and ``final["solved"]`` are recomputed from its evaluations
    and final score, with the threshold it was written with in ``recorded_threshold``.

    :param record: A run record
    :param threshold: The threshold to score it against
    :return: The record itself if it already uses ``threshold``, else the rescored copy
    """
    if record.get("threshold") == threshold:
        return record
    rescored = dict(record, threshold=threshold, recorded_threshold=record.get("threshold"))
    if record["status"] == "ok":
        points = record.get("evaluations") or []
        rescored["first_threshold_steps"], rescored["stays_threshold_steps"] = steps_to_threshold(
            [point["timesteps"] for point in points], [point["mean_reward"] for point in points], threshold
        )
        solved = None if threshold is None else bool(record["final"]["mean_reward"] >= threshold)
        rescored["final"] = dict(record["final"], solved=solved)
    return rescored


def threshold_times(record: dict[str, Any]) -> tuple[float | None, float | None]:
    """
    The seconds of training at the evaluations of ``first_threshold_steps`` and ``stays_threshold_steps``.

    :param record: A finished run's record
    :return: ``(first, stays)``: ``inf`` for a threshold never reached (or not held to the end), None when the
        record has no times at its evaluations or the env no threshold
    """
    if record.get("threshold") is None:
        return None, None
    times = dict(zip((p["timesteps"] for p in record["evaluations"]), evaluation_train_times(record), strict=True))
    results: list[float | None] = []
    for steps in (record["first_threshold_steps"], record["stays_threshold_steps"]):
        if not times or any(seconds is None for seconds in times.values()):
            results.append(None)
        else:
            results.append(math.inf if steps is None else times[steps])
    return results[0], results[1]


def load_flag(record: dict[str, Any]) -> str:
    """
    Whether the machine was loaded during a run, from the 1-minute load average at its start and end.

    >>> load_flag(dict(load_at_start=1.1, load_at_end=2.4, machine=dict(cpu_count=2)))
    'quiet'
    >>> load_flag(dict(load_at_start=3.9, load_at_end=2.0, machine=dict(cpu_count=2)))
    'loaded'
    >>> load_flag(dict(machine=dict(cpu_count=2)))
    'unknown'

    :param record: A run record
    :return: ``"loaded"`` when either load exceeds the machine's CPU count by more than :data:`LOAD_MARGIN` (more
        runnable processes than cores), ``"quiet"`` otherwise, ``"unknown"`` for a record without them
    """
    loads = [record.get("load_at_start"), record.get("load_at_end")]
    cores = (record.get("machine") or {}).get("cpu_count")
    if any(load is None for load in loads) or not cores:
        return "unknown"
    return "loaded" if max(float(load) for load in loads if load is not None) > cores + LOAD_MARGIN else "quiet"


def report_env_order(envs: Iterable[str]) -> list[str]:
    """The envs of the suite in its order, then the others, sorted: the page's order, whichever grids ran."""
    others = sorted(set(envs) - set(SUITE))
    return [*SUITE, *others]


def read_commands(out_dir: Path) -> list[str]:
    """The commands of every grid run into ``out_dir`` (``grid.json``'s ``commands``; older files: ``command``)."""
    path = out_dir / "grid.json"
    if not path.exists():
        return []
    grid = json.loads(path.read_text(encoding="utf-8"))
    commands = grid.get("commands") or ([grid["command"]] if grid.get("command") else [])
    return [str(command) for command in commands]


# -- Summary rows ----------------------------------------------------------------------------------------------------


def _env_rank(env_id: str, env_order: Sequence[str]) -> tuple[int, str]:
    return (env_order.index(env_id) if env_id in env_order else len(env_order), env_id)


def _variant(record: dict[str, Any]) -> str:
    """What the algorithm ran with: its settings' source, and the grid's overrides if any."""
    config = record.get("config") or {}
    overrides = (record.get("task") or {}).get("overrides") or {}
    source = str(config.get("source") or "")
    return source + (f" with {json.dumps(overrides, sort_keys=True)}" if overrides else "")


def _group_key(record: dict[str, Any]) -> tuple[str, str, int | None, str]:
    config = record.get("config") or {}
    return record["env_id"], record["algo"], config.get("timesteps"), _variant(record)


def summarize(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> list[dict[str, Any]]:
    """
    One row per algorithm x env x budget x settings: statistics across the seeds that finished.

    :param records: Run records (:func:`~sb3_reinforce.benchmark.executor.run`), ``n/a`` records included
    :param env_order: Envs to list first, in this order
    :return: The rows, sorted by env, algorithm, budget and settings
    """
    groups: dict[tuple[str, str, int | None, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[_group_key(record)].append(record)
    rows = []
    for (env_id, algo, budget, variant), group in groups.items():
        ok = sorted((r for r in group if r["status"] == "ok"), key=lambda r: r["seed"])
        failed = sorted((r for r in group if r["status"] == "failed"), key=lambda r: r["seed"])
        not_applicable = [r for r in group if r["status"] == "n/a"]
        config: dict[str, Any] = next((r["config"] for r in ok + failed + not_applicable if r.get("config")), {})
        threshold = group[0].get("threshold")
        inf = math.inf
        final = [r["final"]["mean_reward"] for r in ok]
        # Per algorithm x env, one stratum: a plain bootstrap over the seeds (stats.interval_estimate)
        estimate = interval_estimate([final]) if final else None
        times = [threshold_times(r) for r in ok]
        rows.append(
            dict(
                env_id=env_id,
                algo=algo,
                variant=variant,
                actions=config.get("actions", "—"),
                n_envs=config.get("n_envs"),
                budget=budget,
                source=config.get("source"),
                threshold=threshold,
                recorded_thresholds=sorted({r["recorded_threshold"] for r in ok + failed if r.get("recorded_threshold")}),
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
                first_time=[first for first, _ in times],
                stays_time=[stays for _, stays in times],
                fps=[r["fps"] for r in ok],
                train_time=[r.get("train_time") for r in ok],
                wall_time=[r["wall_time"] for r in ok],
                load=[load_flag(r) for r in ok + failed],
            )
        )
    rows.sort(
        key=lambda row: (
            _env_rank(row["env_id"], env_order),
            algo_rank(row["algo"]),
            row["algo"],
            row["budget"] or 0,
            row["variant"],
        )
    )
    return rows


def _solved(records: Sequence[dict[str, Any]]) -> int:
    return sum(bool(r["final"]["solved"]) for r in records)


# -- table.md --------------------------------------------------------------------------------------------------------


def markdown_across_envs(summary: Sequence[dict[str, Any]], heading: str = "final reward / threshold") -> str:
    """The rows of :func:`~sb3_reinforce.benchmark.stats.summarize_across_envs` as a Markdown table."""
    lines = [f"| algo | envs | runs | {heading}: IQM [95 % CI] | solved at end |", "|---|---|---|---|---|"]
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


def _cells(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


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
        lines.append(_cells(cells))
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


def _reach_time(row: dict[str, Any], kind: str) -> str:
    """Seconds of training to the threshold (``first_time`` or ``stays_time``), like :func:`_reach`; n/a unknown."""
    values = row[kind]
    if row["threshold"] is None or not values:
        return "—"
    known = [value for value in values if value is not None]
    if not known:
        return "n/a"
    reached = sum(not math.isinf(value) for value in known)
    text = "never" if math.isinf(_quantiles(known, (0.5,))[0]) else _fmt_spread(known, _fmt_seconds)
    if reached < len(known):
        text += f" ({reached}/{len(known)} seeds)"
    if len(known) < len(values):
        text += f"; n/a for {len(values) - len(known)}"
    return text


def markdown_runs(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> str:
    """One line per run: final reward (mean ± std over the final episodes), steps to threshold, speed."""
    lines = [
        "| env | algo | seed | final reward | episodes | first ≥ thr. | stays ≥ thr. | train fps | wall s | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = [r for r in records if r["status"] != "n/a"]
    runs.sort(key=lambda r: (_env_rank(r["env_id"], env_order), algo_rank(r["algo"]), r["algo"], r["seed"]))
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
    """
    Every evaluation point of every run (``kind="periodic"``, and ``"final"`` for the final evaluation), with the
    seconds of training at each periodic one (``train_time``; None where the record has none).
    """
    rows = []
    for r in records:
        for point, seconds in zip(r.get("evaluations", []), evaluation_train_times(r), strict=True):
            rows.append(
                dict(algo=r["algo"], env_id=r["env_id"], seed=r["seed"], status=r["status"], kind="periodic", **point)
                | dict(train_time=seconds)
            )
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
                    train_time=r.get("train_time"),
                )
            )
    return rows


def _machines(records: Sequence[dict[str, Any]]) -> list[str]:
    """The machines and library versions of the records, each with its number of runs, most runs first."""
    counts: Counter[str] = Counter()
    for record in records:
        machine = record.get("machine")
        if machine:
            counts[
                f"{machine['cpu']}, {machine['cpu_count']} CPUs; Python {machine['python']}, torch {machine['torch']}, "
                f"stable-baselines3 {machine['stable_baselines3']}, gymnasium {machine['gymnasium']}, "
                f"numpy {machine.get('numpy', '?')}, sb3_reinforce {machine.get('sb3_reinforce', '?')}"
            ] += 1
    return [f"{text} ({n} runs)" for text, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _table_md(
    records: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    across_envs: Sequence[dict[str, Any]],
    commands: Sequence[str],
    env_order: Sequence[str],
) -> str:
    header = ["# Benchmark", ""]
    header += [f"Machine: {machine}" for machine in _machines(records)] or ["Machine: no finished run"]
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
    thresholds = sorted({(row["env_id"], row["threshold"]) for row in rows}, key=lambda t: _env_rank(t[0], env_order))
    header += ["Thresholds: " + ", ".join(f"{env} {thr:g}" for env, thr in thresholds if thr is not None), ""]
    text = "\n".join(header) + "\n" + markdown_table(rows)
    if across_envs:
        text += (
            "\n## Across envs\n\nFinal reward divided by the env's threshold; IQM over all runs, 95 % CI from a "
            "bootstrap stratified over envs (each env's seeds resampled on their own).\n\n" + markdown_across_envs(across_envs)
        )
    return text + "\n## Per run\n\n" + markdown_runs(records, env_order)


# -- The page --------------------------------------------------------------------------------------------------------


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to the folder ``start``, with ``/``: the same text wherever the repository lies."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(start))).as_posix()


def _label(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """The algorithm, with its budget and settings when it ran with several on the env."""
    same = [other for other in rows if other["env_id"] == row["env_id"] and other["algo"] == row["algo"]]
    label = row["algo"]
    if len({other["budget"] for other in same}) > 1:
        label += f" {_fmt_budget(row['budget'])}"
    if len({other["variant"] for other in same}) > 1:
        variant = row["variant"]
        short = "defaults" if "defaults" in variant else "tuned" if "yml" in variant else variant
        label += f" ({short})"
    return label


def _published(env: SuiteEnv | None, algo: str) -> str:
    marks = [mark for mark in env.published if mark.algo == algo] if env else []
    return "; ".join(f"{_fmt_num(mark.score)} ({_fmt_budget(mark.timesteps)})" for mark in marks) or "—"


def _normalized(env: SuiteEnv | None, row: dict[str, Any]) -> str:
    if env is None or row["final_iqm"] is None:
        return "—"
    ci = None if row["final_ci"] is None else [env.normalize(value) for value in row["final_ci"]]
    return _fmt_iqm(env.normalize(row["final_iqm"]), ci, "{:.3f}")


def _seeds(row: dict[str, Any]) -> str:
    if row["not_applicable"]:
        return "n/a"
    return str(row["n_ok"]) + (f" ({row['n_failed']} failed)" if row["n_failed"] else "")


def _load_summary(flags: Sequence[str]) -> str:
    counts = Counter(flags)
    return ", ".join(f"{counts[flag]} {flag}" for flag in ("quiet", "loaded", "unknown") if counts[flag]) or "—"


def _status_cell(env_id: str, algo: str, rows: Sequence[dict[str, Any]]) -> str:
    mine = [row for row in rows if row["env_id"] == env_id and row["algo"] == algo]
    if any(row["not_applicable"] for row in mine):
        return "n/a"
    if mine:
        return ", ".join(_seeds(row) + (f" ({_label(row, rows)})" if len(mine) > 1 else "") for row in mine)
    env = SUITE.get(env_id)
    if env is not None and algo in env.algos:
        return "no records yet"
    if env is not None and any(mark.algo == algo for mark in env.published):
        return "zoo figure only"
    return "—"


def _missing(env_id: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The algorithms the grid plans on ``env_id`` that have no record there."""
    env = SUITE.get(env_id)
    seen = {row["algo"] for row in rows if row["env_id"] == env_id}
    return [algo for algo in (env.algos if env else ()) if algo not in seen]


def _status_section(records: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]], envs: Sequence[str]) -> str:
    runs = [r for r in records if r["status"] != "n/a"]
    lines = [SECTIONS["status"], "| env | " + " | ".join(ALGOS) + " | runs | run time |", "|---" * (len(ALGOS) + 3) + "|"]
    for env_id in envs:
        mine = [r for r in runs if r["env_id"] == env_id]
        seconds = sum(float(r.get("wall_time") or 0.0) for r in mine)
        cells = [env_id, *(_status_cell(env_id, algo, rows) for algo in ALGOS), str(len(mine))]
        lines.append(_cells([*cells, fmt_duration(seconds) if mine else "—"]))
    total = sum(float(r.get("wall_time") or 0.0) for r in runs)
    n_failed = sum(r["status"] == "failed" for r in runs)
    lines.append(_cells(["**all**", *("" for _ in ALGOS), str(len(runs)), fmt_duration(total) if runs else "—"]))
    lines.append("")
    if runs:
        started = min((r["started_at"] for r in runs if r.get("started_at")), default=None)
        finished = max((r["finished_at"] for r in runs if r.get("finished_at")), default=None)
        when = f", recorded from {started} to {finished}" if started and finished else ""
        lines.append(
            f"Measured total: {len(runs)} runs ({n_failed} failed), {total:,.0f} s of run time "
            f"({fmt_duration(total)}; one core per run){when}."
        )
    else:
        lines.append("No run records yet.")
    missing = [f"{env_id} ({', '.join(_missing(env_id, rows))})" for env_id in envs if _missing(env_id, rows)]
    if missing:
        lines.append("")
        lines.append(
            "**Not recorded yet**, by env (the algorithms the grid plans there): "
            + "; ".join(missing)
            + ". Until they are, the tables below have no row of theirs and no comparison with them."
        )
    return "\n".join(lines) + "\n"


def _suite_section() -> str:
    lines = [
        SECTIONS["suite"],
        "| env | budget | threshold | goal (issue 19) | gym threshold | random | published |",
        "|---|---|---|---|---|---|---|",
    ]
    for env in SUITE.values():
        published = ", ".join(
            f"{mark.algo} {_fmt_num(mark.score)} ({_fmt_budget(mark.timesteps)}" + _version_note(mark.source, env.env_id) + ")"
            for mark in env.published
        )
        gym_threshold = "—" if env.gym_threshold is None else f"{env.gym_threshold:g}"
        cells = [env.env_id, _fmt_budget(env.budget), f"{env.target:g}", env.goal, gym_threshold]
        lines.append(_cells([*cells, _fmt_num(env.random_score), published]))
    return "\n".join(lines) + "\n"


def _version_note(source: str, env_id: str) -> str:
    """``, Hopper-v3`` when the published figure is on another version of the env; ``, Tianshou`` for Tianshou."""
    if "Tianshou" in source:
        return ", Tianshou"
    name = env_id.rsplit("-v", 1)[0]
    versions = [part.strip() for part in source.split(",") if part.strip().startswith(f"{name}-v")]
    return f", {versions[0]}" if versions else ""


def _env_section(
    env_id: str,
    rows: Sequence[dict[str, Any]],
    records: Sequence[dict[str, Any]],
    figure: str | None,
) -> str:
    env = SUITE.get(env_id)
    mine = [row for row in rows if row["env_id"] == env_id]
    lines = [f"### {env_id}", ""]
    threshold = env.target if env else next((row["threshold"] for row in mine), None)
    facts = [f"Threshold {threshold:g}" if threshold is not None else "No threshold"]
    if env:
        facts += [
            f"issue 19's goal: {env.goal}",
            f"budget {_fmt_budget(env.budget)}",
            f"random policy {_fmt_num(env.random_score)}",
        ]
    lines += ["; ".join(facts) + ".", ""]
    if not mine:
        planned = ", ".join(env.algos) if env else ""
        lines.append(f"No records yet (the grid plans {planned})." if planned else "No records yet.")
        return "\n".join(lines) + "\n"
    for row in mine:
        if row["recorded_thresholds"]:
            written = ", ".join(f"{value:g}" for value in row["recorded_thresholds"])
            lines.append(
                f"The {_label(row, rows)} records were written with threshold {written}: solved, first and stays "
                f"are recomputed here against {threshold:g} from their evaluations and final scores."
            )
            lines.append("")
    missing = _missing(env_id, rows)
    header = ["algo", "seeds", "budget", "n_envs", "solved at end", "final reward IQM [95 % CI]", "normalized"]
    header += ["first ≥ thr.", "stays ≥ thr.", "published"]
    lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for row in mine:
        solved = (
            "—" if row["not_applicable"] or row["threshold"] is None else f"{row['solved']}/{row['n_ok'] + row['n_failed']}"
        )
        seeds = f"n/a: {row['not_applicable']}" if row["not_applicable"] else _seeds(row)
        cells = [_label(row, rows), seeds, "—" if row["not_applicable"] else _fmt_budget(row["budget"])]
        cells += ["—" if row["n_envs"] is None or row["not_applicable"] else str(row["n_envs"]), solved]
        cells += [_fmt_iqm(row["final_iqm"], row["final_ci"]), _normalized(env, row)]
        cells += [_reach(row, "first"), _reach(row, "stays"), _published(env, row["algo"])]
        lines.append(_cells(cells))
    for algo in missing:
        lines.append(_cells([algo, "no records yet", *("—" for _ in header[2:-1]), _published(env, algo)]))
    lines.append("")
    header = ["algo", "training s to first ≥ thr.", "training s to stay ≥ thr.", "training s per run"]
    header += ["wall s per run", "train fps", "machine load"]
    lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for row in mine:
        if row["not_applicable"]:
            continue
        train_time = [value for value in row["train_time"] if value is not None]
        cells = [_label(row, rows), _reach_time(row, "first_time"), _reach_time(row, "stays_time")]
        cells += [_fmt_spread(train_time, lambda x: f"{x:,.1f}"), _fmt_spread(row["wall_time"], lambda x: f"{x:,.1f}")]
        cells += [_fmt_spread(row["fps"], lambda x: f"{x:,.0f}"), _load_summary(row["load"])]
        lines.append(_cells(cells))
    if figure is not None:
        lines += ["", f"![{env_id}: learning curves against env steps and seconds of training]({figure})"]
    return "\n".join(lines) + "\n"


def _across_section(rows: Sequence[dict[str, Any]]) -> str:
    def normalize(env_id: str, score: float) -> float | None:
        return SUITE[env_id].normalize(score) if env_id in SUITE else None

    # Each algorithm's label on the page (with its budget or settings when it has several), in the grid's order
    pairs = [(dict(row, algo=_label(row, rows)), row) for row in rows if not row["not_applicable"]]
    labelled = [row for row, _ in pairs]
    order = {row["algo"]: (algo_rank(source["algo"]), row["algo"]) for row, source in pairs}
    summary = summarize_across_envs(labelled, order.__getitem__, normalize)
    lines = [SECTIONS["across"]]
    if not summary:
        lines.append("No finished run on an env of the suite yet.")
        return "\n".join(lines) + "\n"
    heading = "normalized final reward"
    lines.append(markdown_across_envs(summary, heading))
    env_sets = [set(row["envs"]) for row in summary]
    if len(summary) == 1:
        lines.append(f"Only {summary[0]['algo']} has finished runs on the suite: there is nothing to compare it with yet.")
    elif any(envs != env_sets[0] for envs in env_sets):
        common = set.intersection(*env_sets)
        if common:
            lines.append("On the envs every algorithm ran (" + ", ".join(e for e in SUITE if e in common) + "):\n")
            common_summary = summarize_across_envs(labelled, order.__getitem__, normalize, common)
            lines.append(markdown_across_envs(common_summary, heading))
        else:
            lines.append(
                "No env has finished runs of every algorithm: the rows above cover different envs and do not compare."
            )
    return "\n".join(lines) + "\n"


def _median_reached(values: Sequence[float | None]) -> float | None:
    """The median of the seeds' values that are known (``inf``: never; None: unknown); None if none is."""
    known = [value for value in values if value is not None]
    return _quantiles(known, (0.5,))[0] if known else None


def _verdict(ours: dict[str, Any], peer: dict[str, Any]) -> str:
    """``higher`` / ``lower`` when the final rewards' 95 % CIs do not overlap, else ``unclear`` (``single``: no CI)."""
    if ours["final_ci"] is None or peer["final_ci"] is None:
        return "single"
    if ours["final_ci"][0] > peer["final_ci"][1]:
        return "higher"
    if ours["final_ci"][1] < peer["final_ci"][0]:
        return "lower"
    return "unclear"


def _compare(ours: dict[str, Any], peer: dict[str, Any], rows: Sequence[dict[str, Any]], env: SuiteEnv | None) -> str:
    """One sentence: REINFORCE's row against a peer's, from their numbers only."""
    name = _label(peer, rows)
    a, b = ours["final_iqm"], peer["final_iqm"]
    parts = []
    verdict = dict(
        higher="**higher**",
        lower="**lower**",
        unclear="no clear difference (the 95 % CIs overlap)",
        single="cannot tell (a single seed has no CI)",
    )[_verdict(ours, peer)]
    gap = f"{a - b:+.1f}"
    if env is not None:
        gap += f", {env.normalize(a) - env.normalize(b):+.3f} normalized"
    parts.append(
        f"vs {name}: final reward {verdict}, IQM {_fmt_iqm(a, ours['final_ci'])} against "
        f"{_fmt_iqm(b, peer['final_ci'])} ({gap})"
    )
    if ours["threshold"] is not None:
        parts.append(
            f"seeds solved {ours['solved']}/{ours['n_ok'] + ours['n_failed']} against "
            f"{peer['solved']}/{peer['n_ok'] + peer['n_failed']}"
        )
        ours_t, peer_t = _median_reached(ours["first_time"]), _median_reached(peer["first_time"])
        if ours_t is None or peer_t is None:
            who = [label for label, value in ((_label(ours, rows), ours_t), (name, peer_t)) if value is None]
            parts.append("training seconds to the threshold not recorded for " + " and ".join(who))
        elif math.isinf(ours_t) or math.isinf(peer_t):
            parts.append(
                f"median training seconds to first reach the threshold {_fmt_seconds(ours_t)} against {_fmt_seconds(peer_t)}"
            )
        else:
            ratio = peer_t / ours_t if ours_t > 0 else math.inf
            parts.append(
                f"median training seconds to first reach the threshold {_fmt_seconds(ours_t)} against "
                f"{_fmt_seconds(peer_t)} ({ratio:.2f}x)"
            )
        ours_s, peer_s = _quantiles(ours["stays"], (0.5,))[0], _quantiles(peer["stays"], (0.5,))[0]
        parts.append(f"median env steps to stay at it {fmt_steps(ours_s)} against {fmt_steps(peer_s)}")
    return "; ".join(parts) + "."


def _when_section(rows: Sequence[dict[str, Any]], envs: Sequence[str]) -> str:
    lines = [SECTIONS["when"]]
    verdicts: dict[str, list[str]] = defaultdict(list)
    bullets = []
    for env_id in envs:
        env = SUITE.get(env_id)
        finished = [row for row in rows if row["env_id"] == env_id and row["n_ok"] > 0]
        ours = [row for row in finished if row["algo"] == "reinforce"]
        peers = [row for row in finished if row["algo"] != "reinforce"]
        missing = [algo for algo in _missing(env_id, rows) if algo != "reinforce"]
        no_peer = f"no records of {', '.join(missing)} yet" if missing else "no peer records yet"
        if not ours:
            bullets.append(f"- **{env_id}**: no REINFORCE records yet: no comparison.")
            verdicts["none"].append(env_id)
            continue
        for row in ours:
            who = _label(row, rows)
            head = f"- **{env_id}**" + (f", {who}" if who != "reinforce" else "")
            summary = f"REINFORCE's final reward IQM {_fmt_iqm(row['final_iqm'], row['final_ci'])}"
            if row["threshold"] is not None:
                summary += f", {row['solved']}/{row['n_ok'] + row['n_failed']} seeds solved"
            if not peers:
                bullets.append(f"{head}: {summary}; {no_peer}: no comparison.")
                verdicts["none"].append(env_id)
                continue
            sentences = [_compare(row, peer, rows, env) for peer in peers]
            tail = f"; {no_peer}" if missing else ""
            bullets.append(f"{head}: {summary}{tail}.\n" + "\n".join(f"  - {s}" for s in sentences))
            for peer in peers:
                verdicts[_verdict(row, peer)].append(f"{env_id} vs {_label(peer, rows)}")
    lines += [_verdict_line(verdicts), "", *bullets]
    return "\n".join(lines) + "\n"


def _verdict_line(verdicts: dict[str, list[str]]) -> str:
    """The comparisons of the final reward, counted: higher, lower, no clear difference; the envs with none."""

    def listed(kind: str) -> str:
        items = list(dict.fromkeys(verdicts.get(kind, [])))
        return f"{len(items)}" + (f" ({', '.join(items)})" if items else "")

    return (
        f"REINFORCE's final reward against a peer's, over the comparisons below: higher in {listed('higher')}, lower "
        f"in {listed('lower')}, no clear difference in {listed('unclear')}, no CI (a single seed) in {listed('single')}. "
        "Envs without a comparison yet: "
        f"{listed('none')}."
    )


def _how_section(records: Sequence[dict[str, Any]], commands: Sequence[str], runs_folder: str, rebuild: str) -> str:
    lines = [SECTIONS["how"].format(runs=f"{runs_folder}/runs")]
    if commands:
        lines += ["```bash", *commands, "```", ""]
    else:
        lines += ["No grid command recorded (`grid.json` is missing).", ""]
    settings: Counter[str] = Counter()
    for record in records:
        task = record.get("task")
        if task and record["status"] != "n/a":
            settings[
                f"an evaluation every {task['eval_freq']:,} env steps ({task['eval_episodes']} episodes), "
                f"{task['final_episodes']} episodes for the final one"
            ] += 1
    if settings:
        lines.append(
            "Evaluations in the records: "
            + "; ".join(f"{text} ({n} runs)" for text, n in sorted(settings.items(), key=lambda i: (-i[1], i[0])))
            + "."
        )
        lines.append("")
    machines = _machines(records)
    if machines:
        lines += ["Machines and versions in the records:", ""] + [f"- {machine}" for machine in machines] + [""]
    resumed = [r for r in records if r.get("resumed_from")]
    if resumed:
        lines.append(
            f"{len(resumed)} runs resumed from a checkpoint: their evaluations are those of an uninterrupted run; "
            "their timings leave out the training between their last evaluation and the checkpoint."
        )
        lines.append("")
    lines.append(SECTIONS["rebuild"].format(runs_folder=runs_folder, rebuild=rebuild))
    return "\n".join(lines)


def _per_run_section(records: Sequence[dict[str, Any]], env_order: Sequence[str]) -> str:
    runs = [r for r in records if r["status"] != "n/a"]
    runs.sort(key=lambda r: (_env_rank(r["env_id"], env_order), algo_rank(r["algo"]), r["algo"], r["seed"]))
    header = ["env", "algo", "seed", "final reward", "first ≥ thr.", "stays ≥ thr.", "training s to first ≥ thr."]
    header += ["training s", "wall s", "train fps", "load at start / end", "status"]
    lines = [SECTIONS["per_run"], f"<details>\n<summary>{len(runs)} runs</summary>\n"]
    lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for r in runs:
        loads = [r.get("load_at_start"), r.get("load_at_end")]
        load = "unknown" if None in loads else f"{loads[0]:.2f} / {loads[1]:.2f} ({load_flag(r)})"
        if r["status"] == "ok":
            first_time, _ = threshold_times(r)
            thr = r["threshold"] is not None
            cells = [
                f"{r['final']['mean_reward']:.2f} ± {r['final']['std_reward']:.2f}",
                fmt_steps(r["first_threshold_steps"]) if thr else "—",
                fmt_steps(r["stays_threshold_steps"]) if thr else "—",
                "—" if not thr else "n/a" if first_time is None else _fmt_seconds(first_time),
                f"{r['train_time']:,.1f}" if r.get("train_time") is not None else "n/a",
                f"{r['wall_time']:,.1f}",
                f"{r['fps']:,.0f}",
                load,
                "ok",
            ]
        else:
            cells = [*("—" for _ in range(5)), f"{float(r.get('wall_time') or 0.0):,.1f}", "—", load]
            cells.append(f"{r['status']}: {r['error']}")
        lines.append(_cells([r["env_id"], r["algo"], str(r["seed"]), *cells]))
    lines.append("\n</details>")
    return "\n".join(lines) + "\n"


def markdown_page(
    records: Sequence[dict[str, Any]],
    commands: Sequence[str],
    out_dir: Path,
    page: Path,
    figures: dict[str, Path] | None = None,
) -> str:
    """
    The benchmark's page (``BENCHMARKS.md``) from the run records: what they hold, the suite, per env the final
    reward, seeds solved, env steps and seconds of training to the threshold, timings with the machine's load, the
    learning curves, the normalized score across envs, when to choose REINFORCE, how it was run, and every run. The
    text that is not drawn from the records is :data:`~sb3_reinforce.benchmark.page.SECTIONS`.

    :param records: The run records, each scored against its env's threshold (:func:`rescore`)
    :param commands: The grid commands that wrote them
    :param out_dir: The records' output folder (``<out_dir>/runs``), as the page names it: relative to ``page``
    :param page: Where the page goes (its links are relative to its folder)
    :param figures: The learning curves' files, by env (None: no figures)
    :return: The page's Markdown
    """
    envs = report_env_order(r["env_id"] for r in records)
    rows = summarize(records, envs)
    runs_folder = _relative(out_dir, page.parent)
    rebuild = f"python -m sb3_reinforce benchmark --report-only --out {runs_folder}"
    if page.name != "BENCHMARKS.md":
        rebuild += f" --page {page.name}"
    figures = figures or {}
    parts = [
        SECTIONS["header"].format(rebuild=rebuild, runs=f"{runs_folder}/runs", template=TEMPLATE),
        _status_section(records, rows, envs),
        _suite_section(),
        SECTIONS["results"] + "\n" + SECTIONS["timing"],
        *(
            _env_section(env_id, rows, records, _relative(figures[env_id], page.parent) if env_id in figures else None)
            for env_id in envs
        ),
        _across_section(rows),
        _when_section(rows, envs),
        _how_section(records, commands, runs_folder, rebuild),
        _per_run_section(records, envs),
    ]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def write_report(
    out_dir: Path,
    env_order: Sequence[str] | None = None,
    command: str | None = None,
    plots: bool = True,
    page: Path | None = None,
) -> str:
    """
    Regenerate every output of ``out_dir`` from its run files (CSV/JSON of the evaluations, summary, table, curves),
    and the benchmark's page.

    :param out_dir: The benchmark's output folder
    :param env_order: Envs to list first (None: the suite's order, then the others sorted)
    :param command: A command line for the table's header, instead of those of ``grid.json`` (:func:`read_commands`)
    :param plots: Draw the learning curves (needs matplotlib)
    :param page: Also write the page there (:func:`markdown_page`; None: no page)
    :return: The Markdown table of the summary
    """
    commands = [command] if command else read_commands(out_dir)
    loaded = load_runs(out_dir)
    thresholds = report_thresholds(loaded)
    records = [rescore(record, thresholds[record["env_id"]]) for record in loaded]
    env_order = report_env_order(r["env_id"] for r in records) if env_order is None else env_order
    evaluations = evaluation_rows(records)
    columns = ["algo", "env_id", "seed", "status", "kind", "target", "timesteps", "mean_reward", "std_reward"]
    columns += ["mean_length", "n_episodes", "train_time"]
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
    write_text_atomic(out_dir / "table.md", _table_md(records, rows, across_envs, commands, env_order))

    figures: dict[str, Path] = {}
    for env_id in sorted({r["env_id"] for r in records} if plots else ()):
        env = SUITE.get(env_id)
        path = curve_path(out_dir, env_id)
        drawn = plot_curves(
            records,
            env_id,
            path,
            threshold=thresholds[env_id],
            random_score=None if env is None else env.random_score,
            published=() if env is None else env.published,
        )
        if drawn:
            figures[env_id] = path
    if page is not None:
        write_text_atomic(page, markdown_page(records, commands, out_dir, page, figures))
    return markdown_table(rows)
