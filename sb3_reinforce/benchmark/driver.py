"""
The benchmark's driver: parse the grid, skip the runs already done, hand the rest to an executor (the local process
pool, or Ray tasks with ``--ray-address``), write each record as it comes back (atomically, so an interrupted grid
resumes with ``--out`` reused, whichever executor ran it), then write the report. A run cut short resumes from its
checkpoint (``--checkpoint-freq``), with the record it would have had.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym

from sb3_reinforce.benchmark.executor import Executor, LocalExecutor
from sb3_reinforce.benchmark.formatting import fmt_duration, fmt_steps
from sb3_reinforce.benchmark.page_builder import DEFAULT_PAGE, page_records_folder, records_folder
from sb3_reinforce.benchmark.peers import DEFAULT_ENVS, SETTINGS
from sb3_reinforce.benchmark.plan import (
    EVALUATIONS_PER_RUN,
    RunTask,
    expected_cost,
    is_finished,
    parse_overrides,
    plan,
    reproduce_command,
)
from sb3_reinforce.benchmark.plots import plots_available
from sb3_reinforce.benchmark.report import write_report
from sb3_reinforce.benchmark.stats import require_scipy
from sb3_reinforce.benchmark.summary import read_commands
from sb3_reinforce.common.arguments import HelpFormatter, non_negative_int, positive_int
from sb3_reinforce.experiments.checkpoints import DEFAULT_CHECKPOINT_FREQ
from sb3_reinforce.experiments.config import ALGOS
from sb3_reinforce.experiments.envs import closest_env_id
from sb3_reinforce.experiments.records import write_json_atomic

__all__ = ["CHECKPOINTS", "add_arguments", "fmt_duration", "main", "run_grid", "write_grid_file"]

#: Folder of ``--out`` where the local pool keeps the runs' checkpoints (removed as each run finishes)
CHECKPOINTS = "checkpoints"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the benchmark's options to ``parser`` (the ``benchmark`` sub-command of ``python -m sb3_reinforce``).

    :param parser: The parser to extend
    """
    parser.add_argument("--algos", nargs="+", choices=list(ALGOS), default=list(ALGOS), help="Algorithms to compare")
    parser.add_argument("--envs", nargs="+", default=list(DEFAULT_ENVS), metavar="ENV_ID", help="Gymnasium env ids")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=non_negative_int,
        default=[3],
        metavar="N",
        help="One number N: seeds 0..N-1; several numbers: those seeds (one seed S alone: --seeds S S)",
    )
    parser.add_argument(
        "--timesteps", type=positive_int, default=None, help="Training budget of every run (default: per algorithm and env)"
    )
    parser.add_argument(
        "--workers", type=positive_int, default=os.cpu_count() or 1, help="Runs in parallel (default: the CPU count)"
    )
    parser.add_argument("--out", default="benchmark_results", help="Output folder")
    parser.add_argument(
        "--eval-freq",
        type=positive_int,
        default=None,
        help=f"Evaluate every N env steps (default: {EVALUATIONS_PER_RUN} evaluations per run, whatever its budget)",
    )
    parser.add_argument("--eval-episodes", type=positive_int, default=10, help="Episodes per evaluation")
    parser.add_argument("--final-episodes", type=positive_int, default=100, help="Episodes of the final evaluation")
    parser.add_argument(
        "--hyperparams",
        nargs="+",
        default=[],
        metavar="ALGO:KEY=VALUE",
        help="Override a hyperparameter of an algorithm on every env, e.g. ppo:learning_rate=0.001; ALGO:normalize=... "
        "replaces the env's normalization as the zoo's option does, e.g. 'reinforce:normalize=dict(norm_obs=True, "
        "norm_reward=True)'",
    )
    parser.add_argument(
        "--settings",
        choices=SETTINGS,
        default="tuned",
        help="tuned: REINFORCE's reinforce.yml entry and the RL Zoo's hyperparameters for its peers; defaults: every "
        "algorithm's constructor defaults on the plain env, for the suite's budget",
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDRESS",
        help="Run the grid as Ray tasks on this existing Ray cluster (auto, HOST:PORT or ray://HOST:10001) instead of "
        '--workers local processes; needs pip install "sb3-reinforce[ray]" and sb3_reinforce on every node',
    )
    parser.add_argument(
        "--max-retries",
        type=non_negative_int,
        default=2,
        help="With --ray-address: how many times a run whose worker process died is run again",
    )
    parser.add_argument(
        "--checkpoint-freq",
        type=non_negative_int,
        default=DEFAULT_CHECKPOINT_FREQ,
        metavar="N",
        help="Checkpoint each Reinforce run every N env steps, so that a killed run resumes from there, bit-exactly "
        "(local pool: in OUT/checkpoints/; Ray: in the driver's object store); 0: no checkpoints",
    )
    parser.add_argument("--force", action="store_true", help="Run again the runs that already finished (after a code change)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="Train nothing: rebuild the table, CSV/JSON, curves and the page (--page) from all the run files of --out, "
        "whichever grids wrote them",
    )
    parser.add_argument(
        "--page",
        default=None,
        metavar="PATH",
        help=f"The Markdown page --report-only writes (default: {DEFAULT_PAGE}, the repository's page when run from "
        "its root, which it replaces only with a report on the records it was generated from)",
    )


def _check_args(args: argparse.Namespace) -> str | None:
    """An error message for arguments the parser cannot check (None if all are valid)."""
    unknown = [env_id for env_id in args.envs if env_id not in gym.registry]
    if unknown:
        hints = [closest_env_id(env_id) for env_id in unknown]
        hint = "".join(f" (did you mean {match}?)" for match in hints if match)
        return f"unknown env id(s): {', '.join(unknown)}{hint}"
    if len(args.seeds) == 1 and args.seeds[0] < 1:
        return "--seeds N needs N >= 1"
    if args.report_only:
        runs = Path(args.out) / "runs"
        if not any(runs.glob("*.json")):
            return f"no run records in {runs}/: --out names the output folder of a grid to report on"
        if args.page is None:
            return _default_page_error(Path(args.out))
    return None


def _default_page_error(out_dir: Path) -> str | None:
    """
    Why the default page must not take the report on ``out_dir`` (None: it may): an existing page generated from
    other records (a report on a probe's folder would silently replace the repository's BENCHMARKS.md).
    """
    page = Path(DEFAULT_PAGE)
    if not page.is_file():
        return None
    folder = page_records_folder(page)
    if folder == records_folder(out_dir, page):
        return None
    if folder is None:
        return f"{page} is not a generated page: pass --page PATH to write the report elsewhere (--page {page} replaces it)"
    return (
        f"{page} holds the report on the records in {folder}/runs/, not on {out_dir}: pass --out {folder} to rebuild "
        f"it, or --page PATH to write this report elsewhere (--page {page} replaces it)"
    )


def progress_line(done: int, failed: int, total: int, slots: int, elapsed: float) -> str:
    """
    The grid's progress, the same for every executor: runs done (of which failed), running, time, ETA.

    The ETA assumes the remaining runs take as long on average as the finished ones did (wall time of the grid per
    finished run); the slowest runs start first, so it is pessimistic early on.

    >>> progress_line(done=3, failed=1, total=8, slots=2, elapsed=90.0)
    '[3/8 done, 1 failed, 2 running, 1m30s elapsed, ETA 2m30s]'
    >>> progress_line(done=0, failed=0, total=8, slots=2, elapsed=1.0)
    '[0/8 done, 0 failed, 2 running, 1s elapsed, ETA ?]'

    :param done: Runs finished, failed ones included
    :param failed: Runs that failed
    :param total: Runs of this invocation (the skipped ones excluded)
    :param slots: Runs that can go on at once (workers, or the Ray cluster's CPUs)
    :param elapsed: Seconds since the first run started
    :raise ValueError: For counts that do not add up
    """
    if not 0 <= failed <= done <= total or slots < 1:
        raise ValueError(f"invalid progress: done={done}, failed={failed}, total={total}, slots={slots}")
    running = min(slots, total - done)
    eta = "?" if done == 0 else fmt_duration(elapsed / done * (total - done))
    return f"[{done}/{total} done, {failed} failed, {running} running, {fmt_duration(elapsed)} elapsed, ETA {eta}]"


def _run_line(record: dict) -> str:
    name = f"{record['algo']} {record['env_id']} seed {record['seed']}"
    if record["status"] != "ok":
        return f"{name}: FAILED after {record.get('wall_time', 0.0):.0f} s: {record['error']}"
    final = record["final"]
    return (
        f"{name}: final {final['mean_reward']:.2f} ± {final['std_reward']:.2f}, "
        f"first ≥ thr. {fmt_steps(record['first_threshold_steps'])}, stays {fmt_steps(record['stays_threshold_steps'])}, "
        f"{record['fps']:,.0f} fps, {record['wall_time']:.0f} s"
    )


def _make_executor(args: argparse.Namespace, workers: int) -> Executor:
    freq = args.checkpoint_freq
    if args.ray_address is None:
        return LocalExecutor(workers, checkpoint_dir=Path(args.out) / CHECKPOINTS if freq > 0 else None, checkpoint_freq=freq)
    from sb3_reinforce.benchmark.ray_executor import RayExecutor  # Ray is optional: imported only when asked for

    executor = RayExecutor(args.ray_address, max_retries=args.max_retries, checkpoint_freq=freq)
    try:
        executor.connect()
    except Exception as error:  # ConnectionError, or Ray's own errors for a malformed address
        raise ValueError(
            f"cannot connect to the Ray cluster at {args.ray_address}: {type(error).__name__}: {error}"
        ) from error
    return executor


def _run_tasks(executor: Executor, todo: list[RunTask], runs_dir: Path) -> tuple[int, bool]:
    """Run ``todo``, writing each record as it comes back; the number of failed runs, and whether Ctrl-C stopped it."""
    start = time.perf_counter()
    done = failed = 0
    try:
        for task, record in executor.map(todo):
            write_json_atomic(runs_dir / f"{task.key}.json", record)
            done += 1
            failed += record["status"] != "ok"
            slots = getattr(executor, "slots", 1)
            progress = progress_line(done, failed, len(todo), slots, time.perf_counter() - start)
            print(f"{progress} {_run_line(record)}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        # The executor has cancelled the outstanding runs; the finished ones are on disk
        print(f"\nInterrupted: {done} finished runs kept in {runs_dir}/; the same command resumes", file=sys.stderr)
        return failed, True
    print(f"Grid done in {fmt_duration(time.perf_counter() - start)}", file=sys.stderr)
    return failed, False


def write_grid_file(out_dir: Path, command: str, args: dict[str, Any]) -> None:
    """
    Write ``<out_dir>/grid.json``: this grid's command and arguments, and ``commands``, the command of every grid run
    into ``out_dir`` (each once, in the order they first ran), which the page lists.

    :param out_dir: The grid's output folder
    :param command: This grid's command (:func:`~sb3_reinforce.benchmark.plan.reproduce_command`)
    :param args: Its parsed arguments
    """
    commands = read_commands(out_dir)
    write_json_atomic(
        out_dir / "grid.json", dict(command=command, args=args, commands=list(dict.fromkeys([*commands, command])))
    )


def run_grid(args: argparse.Namespace, executor: Executor | None = None) -> int:
    """
    Run the benchmark grid described by ``args`` (see :func:`add_arguments`) and write its report.

    :param args: Parsed arguments
    :param executor: Carries out the runs (None: a :class:`~sb3_reinforce.benchmark.executor.LocalExecutor` with
        ``args.workers`` processes)
    :return: Exit code: 0 if every run succeeded, 1 if some failed, 2 for invalid arguments or a missing
        dependency, 130 when interrupted (Ctrl-C; the report then covers the runs that finished)
    """
    error = _check_args(args)
    try:
        overrides = parse_overrides(args.hyperparams)
    except ValueError as parse_error:
        error = error or str(parse_error)
    if error is not None:
        print(f"benchmark: error: {error}", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    # Optional dependencies are checked before any training, not when the report is written
    plots = plots_available()
    try:
        require_scipy()
    except ImportError as import_error:
        print(f"benchmark: error: {import_error}", file=sys.stderr)
        return 2
    if not plots:
        print("matplotlib is not installed (pip install matplotlib): the learning curves are skipped", file=sys.stderr)
    if args.report_only:
        # From every record of --out, whichever grids wrote them: not only the last grid's envs and algorithms
        page = Path(args.page or DEFAULT_PAGE)
        print(write_report(out_dir, plots=plots, page=page))
        print(f"Page: {page}; results in {out_dir}/")
        return 0

    try:
        tasks, not_applicable = plan(
            args.algos,
            args.envs,
            args.seeds,
            overrides,
            args.timesteps,
            args.eval_freq,
            args.eval_episodes,
            args.final_episodes,
            args.settings,
        )
    except Exception as plan_error:  # the env cannot be built (missing dependency, ...)
        print(f"benchmark: error: {type(plan_error).__name__}: {plan_error}", file=sys.stderr)
        return 2
    command = reproduce_command(
        args.algos,
        args.envs,
        args.seeds,
        args.timesteps,
        args.workers,
        args.out,
        args.eval_freq,
        args.eval_episodes,
        args.final_episodes,
        args.hyperparams,
        args.settings,
    )
    write_grid_file(out_dir, command, vars(args))
    runs_dir = out_dir / "runs"
    for record in not_applicable:
        write_json_atomic(runs_dir / f"{record['key']}.json", record)
        print(f"n/a: {record['algo']} on {record['env_id']}: {record['error']}")
    todo = [task for task in tasks if args.force or not is_finished(task, runs_dir / f"{task.key}.json")]
    if args.force:
        shutil.rmtree(out_dir / CHECKPOINTS, ignore_errors=True)  # a run forced again starts from scratch
    todo.sort(key=expected_cost, reverse=True)
    workers = min(args.workers, max(len(todo), 1))
    where = f"on {workers} workers" if args.ray_address is None else f"as Ray tasks on {args.ray_address}"
    print(f"{len(tasks)} runs: {len(tasks) - len(todo)} already finished (skipped), {len(todo)} to run {where}")
    if executor is None:
        try:
            executor = _make_executor(args, workers)
        except (ImportError, ValueError) as executor_error:  # before any training
            print(f"benchmark: error: {executor_error}", file=sys.stderr)
            return 2
    failed, interrupted = _run_tasks(executor, todo, runs_dir)

    # The same report as --report-only (the suite's env order): a grid leaves the outputs a rebuild would write
    print(write_report(out_dir, plots=plots))
    print(f"Results in {out_dir}/: table.md, evaluations.csv, evaluations.json, summary.json, curves_*.png, runs/")
    if interrupted:
        return 130
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of ``python -m sb3_reinforce.benchmark``.

    :param argv: Command-line arguments (None: ``sys.argv[1:]``)
    :return: The exit code
    """
    parser = argparse.ArgumentParser(
        prog="python -m sb3_reinforce.benchmark",
        description="Train a grid of algorithms x envs x seeds and report them side by side.",
        formatter_class=HelpFormatter,
    )
    add_arguments(parser)
    return run_grid(parser.parse_args(argv))
