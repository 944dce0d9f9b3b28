"""
The benchmark's page, ``BENCHMARKS.md`` (:func:`markdown_page`): the text of :mod:`~sb3_reinforce.benchmark.page`
with every table, number and sentence drawn from the records, in order: what the records hold, the suite, the
results (:mod:`~sb3_reinforce.benchmark.page_results`), how the grid was run, and every run.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sb3_reinforce.benchmark.formatting import (
    fmt_budget,
    fmt_duration,
    fmt_num,
    fmt_seconds,
    fmt_steps,
    table_header,
    table_row,
)
from sb3_reinforce.benchmark.page import SECTIONS
from sb3_reinforce.benchmark.page_defaults import defaults_section
from sb3_reinforce.benchmark.page_results import (
    across_section,
    env_section,
    row_label,
    seeds_cell,
    when_section,
)
from sb3_reinforce.benchmark.peers import algo_rank, run_config
from sb3_reinforce.benchmark.suite import GRID_BUDGET_CORE_SECONDS, SUITE, planned_runs
from sb3_reinforce.benchmark.summary import (
    env_rank,
    load_flag,
    record_settings,
    report_env_order,
    run_label,
    summarize,
    threshold_times,
)
from sb3_reinforce.benchmark.tables import machine_summaries
from sb3_reinforce.experiments.config import ALGOS

__all__ = ["DEFAULT_PAGE", "TEMPLATE", "markdown_page", "page_records_folder", "records_folder"]

#: The page's template, as the page names it
TEMPLATE = "sb3_reinforce/benchmark/page.py"
#: The page ``--report-only`` writes without ``--page``; the rebuild command a page quotes names any other
DEFAULT_PAGE = "BENCHMARKS.md"
#: The header's line that names the records, ``...records in {runs}/ by: {rebuild}``, as a pattern that finds the
#: records' folder (built from the template, so that the two cannot drift apart)
_BEFORE_RUNS, _AFTER_RUNS = next(line for line in SECTIONS["header"].splitlines() if "{runs}" in line).split("{runs}")
_SOURCE_PATTERN = re.compile(re.escape(_BEFORE_RUNS) + r"(\S+)/runs" + re.escape(_AFTER_RUNS.split("{")[0]))


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
    all_rows = summarize(records, envs)
    # The runs with default settings have their own section: the others compare tuned settings
    rows = [row for row in all_rows if row["settings"] == "tuned"]
    tuned_records = [r for r in records if record_settings(r) == "tuned"]
    runs_folder = records_folder(out_dir, page)
    rebuild = f"python -m sb3_reinforce benchmark --report-only --out {runs_folder}"
    if page.name != DEFAULT_PAGE:
        rebuild += f" --page {page.name}"
    figures = figures or {}
    parts = [
        SECTIONS["header"].format(rebuild=rebuild, runs=f"{runs_folder}/runs", template=TEMPLATE),
        _status_section(records, rows, envs),
        _suite_section(),
        SECTIONS["results"] + "\n" + SECTIONS["timing"],
        *(
            env_section(env_id, rows, tuned_records, _relative(figures[env_id], page.parent) if env_id in figures else None)
            for env_id in envs
        ),
        across_section(rows),
        defaults_section(all_rows),
        when_section(rows, envs),
        _how_section(records, commands, runs_folder, rebuild),
        _per_run_section(records, envs),
    ]
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def records_folder(out_dir: Path, page: Path) -> str:
    """The records' folder as a page at ``page`` names it in its header (``<folder>/runs/``)."""
    return _relative(out_dir, page.parent)


def page_records_folder(page: Path) -> str | None:
    """
    The records' folder an existing page says it was generated from (None: the page does not say so, so this report
    did not write it).

    :param page: A page that exists
    """
    with page.open(encoding="utf-8") as lines:
        head = "".join(itertools.islice(lines, 5))
    found = _SOURCE_PATTERN.search(head)
    return found.group(1) if found else None


def _relative(path: Path, start: Path) -> str:
    """``path`` relative to the folder ``start``, with ``/``: the same text wherever the repository lies."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(start))).as_posix()


def _status_section(records: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]], envs: Sequence[str]) -> str:
    runs = [r for r in records if r["status"] != "n/a"]
    lines = [SECTIONS["status"], *table_header(["env", *ALGOS, "runs", "run time"])]
    for env_id in envs:
        mine = [r for r in runs if r["env_id"] == env_id]
        seconds = sum(float(r.get("wall_time") or 0.0) for r in mine)
        defaults = Counter(r["algo"] for r in mine if record_settings(r) == "defaults")
        cells = [
            _status_cell(env_id, algo, rows) + (f" (+{defaults[algo]} defaults)" if defaults[algo] else "") for algo in ALGOS
        ]
        cells = [env_id, *cells, str(len(mine))]
        lines.append(table_row([*cells, fmt_duration(seconds) if mine else "—"]))
    total = sum(float(r.get("wall_time") or 0.0) for r in runs)
    n_failed = sum(r["status"] == "failed" for r in runs)
    lines.append(table_row(["**all**", *("" for _ in ALGOS), str(len(runs)), fmt_duration(total) if runs else "—"]))
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
    lines += _projection(runs, total)
    return "\n".join(lines) + "\n"


def _projection(runs: Sequence[dict[str, Any]], measured: float) -> list[str]:
    """
    The runs of issue 22's grid (:func:`~sb3_reinforce.benchmark.suite.planned_runs`) not recorded yet, with the
    run time they would take, estimated from the recorded runs: the mean wall time of the same algorithm, settings and
    env; else the seconds per env step of the algorithm's other runs on the env times the budget (marked ``~``:
    another budget or ``n_envs`` runs at another speed); else no estimate. Then where the time goes, by algorithm and
    settings, against the grid's budget.
    """
    ok = [r for r in runs if r["status"] == "ok"]
    rows: list[str] = []
    estimated_by_group: defaultdict[tuple[str, str], float] = defaultdict(float)
    unknown = 0
    for env_id, algo, settings, seeds in planned_runs():
        same_env = [r for r in ok if r["env_id"] == env_id and r["algo"] == algo]
        same = [r for r in same_env if record_settings(r) == settings]
        missing = len(set(seeds) - {r["seed"] for r in same})
        if not missing:
            continue
        if same:
            seconds, how = missing * sum(float(r["wall_time"]) for r in same) / len(same), ""
        elif same_env:
            per_step = sum(float(r["wall_time"]) for r in same_env) / sum(int(r["config"]["timesteps"]) for r in same_env)
            seconds, how = missing * per_step * run_config(algo, env_id, settings=settings).timesteps, "~"
        else:
            unknown += 1
            rows.append(table_row([env_id, algo, settings, str(missing), "no timing on the env yet"]))
            continue
        estimated_by_group[algo, settings] += seconds
        rows.append(table_row([env_id, algo, settings, str(missing), how + fmt_duration(seconds)]))
    if not rows:
        return ["", "Every run of the grid is recorded.", *_time_by_group(runs, estimated_by_group, unknown)]
    estimated = sum(estimated_by_group.values())
    projected = measured + estimated
    return [
        "",
        SECTIONS["still_to_run"],
        "| env | algo | settings | runs | estimated run time |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Projected total: {fmt_duration(measured)} measured + {fmt_duration(estimated)} estimated = "
        f"{fmt_duration(projected)} of one core, {fmt_duration(projected / 2)} on a 2-core machine running two at a "
        "time" + (f", not counting the {_rows(unknown)} with no timing on their env yet." if unknown else "."),
        *_time_by_group(runs, estimated_by_group, unknown),
    ]


def _time_by_group(
    runs: Sequence[dict[str, Any]], estimated_by_group: dict[tuple[str, str], float], unknown: int
) -> list[str]:
    """
    Measured and estimated run time by algorithm and settings, largest first, and the projected total against the
    grid's budget (``unknown``: planned rows with no estimate, left out of the projection).
    """
    measured_by_group: defaultdict[tuple[str, str], float] = defaultdict(float)
    recorded: Counter[tuple[str, str]] = Counter()
    for r in runs:
        measured_by_group[r["algo"], record_settings(r)] += float(r.get("wall_time") or 0.0)
        recorded[r["algo"], record_settings(r)] += 1
    groups = {*measured_by_group, *estimated_by_group}
    total_by_group = {group: measured_by_group[group] + estimated_by_group.get(group, 0.0) for group in groups}
    projected = sum(total_by_group.values())
    if not projected:
        return []
    budget = GRID_BUDGET_CORE_SECONDS
    verdict = "within" if projected <= budget else f"{projected / budget:.2f} times"
    total = "the projection" if estimated_by_group or unknown else "the measured total"
    lines = [
        "",
        f"Where the time goes, against issue 22's budget of about {fmt_duration(budget / 2)} of a 2-core machine "
        f"({fmt_duration(budget)} of one core): {total} is {verdict} that budget"
        + (f", before the {_rows(unknown)} with no timing yet." if unknown else ".")
        + _peers_against_budget(total_by_group, budget),
        "",
        "| algo | settings | runs recorded | measured | estimated | total | share |",
        "|---|---|---|---|---|---|---|",
    ]
    for (algo, settings), seconds in sorted(
        total_by_group.items(), key=lambda item: (-item[1], algo_rank(item[0][0]), item[0][1])
    ):
        cells = [str(recorded[algo, settings]), fmt_duration(measured_by_group[algo, settings])]
        cells += [
            fmt_duration(estimated_by_group.get((algo, settings), 0.0)),
            fmt_duration(seconds),
            f"{seconds / projected:.0%}",
        ]
        lines.append(table_row([algo, settings, *cells]))
    return lines


def _peers_against_budget(total_by_group: dict[tuple[str, str], float], budget: float) -> str:
    """
    Where the peers' runs alone exceed the budget, say so: their settings and budgets are the grid's (the zoo's, the
    constructors'), so no change to REINFORCE's runs could bring the grid within it.
    """
    peers = sum(seconds for (algo, _), seconds in total_by_group.items() if algo != "reinforce")
    if peers <= budget:
        return ""
    return (
        f" The peers' runs alone, whose settings and budgets the grid takes from the zoo and from their constructors, "
        f"come to {fmt_duration(peers)}, {peers / budget:.2f} times the budget: no change to REINFORCE's runs could "
        "bring the grid within it."
    )


def _rows(count: int) -> str:
    return f"{count} row" + ("" if count == 1 else "s")


def _status_cell(env_id: str, algo: str, rows: Sequence[dict[str, Any]]) -> str:
    mine = [row for row in rows if row["env_id"] == env_id and row["algo"] == algo]
    if any(row["not_applicable"] for row in mine):
        return "n/a"
    if mine:
        return ", ".join(seeds_cell(row) + (f" ({row_label(row, rows)})" if len(mine) > 1 else "") for row in mine)
    env = SUITE.get(env_id)
    if env is not None and algo in env.algos:
        return "no records yet"
    if env is not None and any(mark.algo == algo for mark in env.published):
        return "zoo figure only"
    return "—"


def _suite_section() -> str:
    lines = [
        SECTIONS["suite"],
        "| env | budget | threshold | goal (issue 19) | gym threshold | random | published |",
        "|---|---|---|---|---|---|---|",
    ]
    for env in SUITE.values():
        published = ", ".join(
            f"{mark.algo} {fmt_num(mark.score)} ({fmt_budget(mark.timesteps)}" + _version_note(mark.source, env.env_id) + ")"
            for mark in env.published
        )
        gym_threshold = "—" if env.gym_threshold is None else f"{env.gym_threshold:g}"
        cells = [env.env_id, fmt_budget(env.budget), f"{env.target:g}", env.goal, gym_threshold]
        lines.append(table_row([*cells, fmt_num(env.random_score), published]))
    return "\n".join(lines) + "\n"


def _version_note(source: str, env_id: str) -> str:
    """``, Hopper-v3`` when the published figure is on another version of the env; ``, Tianshou`` for Tianshou."""
    if "Tianshou" in source:
        return ", Tianshou"
    name = env_id.rsplit("-v", 1)[0]
    versions = [part.strip() for part in source.split(",") if part.strip().startswith(f"{name}-v")]
    return f", {versions[0]}" if versions else ""


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
    machines = machine_summaries(records)
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
    runs.sort(key=lambda r: (env_rank(r["env_id"], env_order), algo_rank(r["algo"]), r["algo"], r["seed"]))
    header = ["env", "algo", "seed", "final reward", "first ≥ thr.", "stays ≥ thr.", "training s to first ≥ thr."]
    header += ["training s", "wall s", "train fps", "load at start / end", "status"]
    lines = [SECTIONS["per_run"], f"<details>\n<summary>{len(runs)} runs</summary>\n"]
    lines += table_header(header)
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
                "—" if not thr else "n/a" if first_time is None else fmt_seconds(first_time),
                f"{r['train_time']:,.1f}" if r.get("train_time") is not None else "n/a",
                f"{r['wall_time']:,.1f}",
                f"{r['fps']:,.0f}",
                load,
                "ok",
            ]
        else:
            cells = [*("—" for _ in range(5)), f"{float(r.get('wall_time') or 0.0):,.1f}", "—", load]
            cells.append(f"{r['status']}: {r['error']}")
        lines.append(table_row([r["env_id"], run_label(r), str(r["seed"]), *cells]))
    lines.append("\n</details>")
    return "\n".join(lines) + "\n"
