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

:func:`write_report` writes it all; the work is done by :mod:`~sb3_reinforce.benchmark.summary` (loading, scoring
and summarizing the records), :mod:`~sb3_reinforce.benchmark.tables` (``table.md``),
:mod:`~sb3_reinforce.benchmark.plots` (the curves) and :mod:`~sb3_reinforce.benchmark.page_builder` (the page),
whose public functions this module also exports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from sb3_reinforce.benchmark.formatting import fmt_duration
from sb3_reinforce.benchmark.page_builder import markdown_page
from sb3_reinforce.benchmark.page_results import across_envs_summary
from sb3_reinforce.benchmark.plots import curve_path, plot_curves
from sb3_reinforce.benchmark.suite import SUITE
from sb3_reinforce.benchmark.summary import (
    LOAD_MARGIN,
    evaluation_rows,
    load_flag,
    load_runs,
    read_commands,
    record_settings,
    report_env_order,
    report_thresholds,
    rescore,
    steps_to_threshold,
    summarize,
    threshold_times,
)
from sb3_reinforce.benchmark.tables import markdown_runs, markdown_table, table_md
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
    columns = ["algo", "settings", "env_id", "seed", "status", "kind", "target", "timesteps", "mean_reward", "std_reward"]
    columns += ["mean_length", "n_episodes", "train_time"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(evaluations)
    write_text_atomic(out_dir / "evaluations.csv", buffer.getvalue())
    write_json_atomic(out_dir / "evaluations.json", evaluations)

    rows = summarize(records, env_order)
    # As on the page: the tuned runs (the defaults runs compare among themselves there, in their own section)
    across_envs = across_envs_summary([row for row in rows if row["settings"] == "tuned"])
    write_json_atomic(out_dir / "summary.json", rows)
    write_json_atomic(out_dir / "summary_across_envs.json", across_envs)
    write_text_atomic(out_dir / "table.md", table_md(records, rows, across_envs, commands, env_order))

    figures: dict[str, Path] = {}
    for env_id in sorted({r["env_id"] for r in records} if plots else ()):
        env = SUITE.get(env_id)
        path = curve_path(out_dir, env_id)
        drawn = plot_curves(
            [r for r in records if record_settings(r) == "tuned"],  # the defaults runs have a table, no curves
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
