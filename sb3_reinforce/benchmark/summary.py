"""
The run records of a grid, loaded (:func:`load_runs`), scored against one threshold per env and summarized across
seeds: the numbers of every table, figure and page of the report (:mod:`~sb3_reinforce.benchmark.report`).

Each run is scored against its env's threshold (:func:`report_thresholds`: the suite's target, else the one the
records were written with); a record written with another threshold is rescored from its evaluations
(:func:`rescore`). :func:`summarize` gives the rows of ``summary.json`` (one per algorithm x env x budget x
settings), :func:`evaluation_rows` those of ``evaluations.csv``. Nothing here writes a file or reads a clock.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sb3_reinforce.benchmark.peers import DEFAULT_ENVS, algo_rank
from sb3_reinforce.benchmark.stats import evaluation_train_times, interval_estimate
from sb3_reinforce.benchmark.suite import SUITE

__all__ = [
    "LOAD_MARGIN",
    "cpu_name",
    "env_rank",
    "evaluation_rows",
    "load_flag",
    "load_runs",
    "read_commands",
    "record_settings",
    "report_env_order",
    "report_thresholds",
    "rescore",
    "run_label",
    "steps_to_threshold",
    "summarize",
    "threshold_times",
]

#: A run is flagged "loaded" when the load average at its start or end exceeds the CPU count by more than this
LOAD_MARGIN = 0.5


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


def read_commands(out_dir: Path) -> list[str]:
    """The commands of every grid run into ``out_dir`` (``grid.json``'s ``commands``; older files: ``command``)."""
    path = out_dir / "grid.json"
    if not path.exists():
        return []
    grid = json.loads(path.read_text(encoding="utf-8"))
    commands = grid.get("commands") or ([grid["command"]] if grid.get("command") else [])
    return [str(command) for command in commands]


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


def cpu_name(record: dict[str, Any]) -> str:
    """
    The processor a run's record names, without trademark signs and generic words ("unknown" where it names none).

    >>> cpu_name(dict(machine=dict(cpu="Intel(R) Xeon(R) Processor")))
    'Intel Xeon'
    >>> cpu_name(dict(machine=dict(cpu="AMD EPYC")))
    'AMD EPYC'
    >>> cpu_name(dict(status="failed"))
    'unknown'
    """
    cpu = str((record.get("machine") or {}).get("cpu") or "")
    words = [word for word in re.sub(r"\((R|TM)\)", "", cpu).split() if word.lower() not in ("processor", "cpu")]
    return " ".join(words) or "unknown"


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


# -- Summary rows ----------------------------------------------------------------------------------------------------


def report_env_order(envs: Iterable[str]) -> list[str]:
    """The envs of the suite in its order, then the others, sorted: the page's order, whichever grids ran."""
    others = sorted(set(envs) - set(SUITE))
    return [*SUITE, *others]


def env_rank(env_id: str, env_order: Sequence[str]) -> tuple[int, str]:
    return (env_order.index(env_id) if env_id in env_order else len(env_order), env_id)


def record_settings(record: dict[str, Any]) -> str:
    """``tuned`` or ``defaults`` (records written before the grid had settings were all tuned)."""
    return str(record.get("settings") or (record.get("task") or {}).get("settings") or "tuned")


def run_label(record: dict[str, Any]) -> str:
    """The algorithm of a run, with its settings unless tuned: ``ppo``, ``ppo (defaults)``."""
    settings = record_settings(record)
    return record["algo"] + ("" if settings == "tuned" else f" ({settings})")


def _variant(record: dict[str, Any]) -> str:
    """What the algorithm ran with: its settings' source, and the grid's overrides if any."""
    config = record.get("config") or {}
    overrides = (record.get("task") or {}).get("overrides") or {}
    source = str(config.get("source") or "")
    return source + (f" with {json.dumps(overrides, sort_keys=True)}" if overrides else "")


def _group_key(record: dict[str, Any]) -> tuple[str, str, int | None, str, str]:
    config = record.get("config") or {}
    return record["env_id"], record["algo"], config.get("timesteps"), record_settings(record), _variant(record)


def summarize(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> list[dict[str, Any]]:
    """
    One row per algorithm x env x budget x settings: statistics across the seeds that finished.

    :param records: Run records (:func:`~sb3_reinforce.benchmark.executor.run`), ``n/a`` records included
    :param env_order: Envs to list first, in this order
    :return: The rows, sorted by env, algorithm, budget and settings
    """
    groups: dict[tuple[str, str, int | None, str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[_group_key(record)].append(record)
    rows = []
    for (env_id, algo, budget, settings, variant), group in groups.items():
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
                settings=settings,
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
                cpu=[cpu_name(r) for r in ok + failed],
            )
        )
    rows.sort(
        key=lambda row: (
            env_rank(row["env_id"], env_order),
            algo_rank(row["algo"]),
            row["algo"],
            row["budget"] or 0,
            row["variant"],
        )
    )
    return rows


def _solved(records: Sequence[dict[str, Any]]) -> int:
    return sum(bool(r["final"]["solved"]) for r in records)


def evaluation_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """
    Every evaluation point of every run (``kind="periodic"``, and ``"final"`` for the final evaluation), with the
    seconds of training at each periodic one (``train_time``; None where the record has none).
    """
    rows = []
    for r in records:
        settings = record_settings(r)
        for point, seconds in zip(r.get("evaluations", []), evaluation_train_times(r), strict=True):
            rows.append(
                dict(algo=r["algo"], settings=settings, env_id=r["env_id"], seed=r["seed"], status=r["status"])
                | dict(kind="periodic", **point)
                | dict(train_time=seconds)
            )
        if r["status"] == "ok":
            final = r["final"]
            rows.append(
                dict(
                    algo=r["algo"],
                    settings=settings,
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
