"""
Executors: how the runs of a grid are carried out.

:func:`run` trains and evaluates one :class:`~sb3_reinforce.benchmark.plan.RunTask` and returns its record; it
writes no file but its checkpoint, kept where the executor says (a
:class:`~sb3_reinforce.experiments.checkpoints.CheckpointStore`), so any executor can call it where it likes (here: a
local process pool, :class:`LocalExecutor`).
The driver (:mod:`sb3_reinforce.benchmark.driver`) writes each record as it comes back.

A run killed mid-way (its worker process dies, the machine reboots, the grid is stopped) resumes from its newest
checkpoint the next time it runs, bit-exactly: its record is the one an uninterrupted run would have written
(``docs/resume.md``). The local pool keeps checkpoints in ``<out>/checkpoints/``; SB3's algorithms have none (they
cannot resume exactly) and start again.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol

from sb3_reinforce.benchmark.peers import env_action_space, unsupported
from sb3_reinforce.benchmark.plan import RunTask, config_record, env_threshold
from sb3_reinforce.benchmark.summary import steps_to_threshold
from sb3_reinforce.experiments.callbacks import recording_train_time
from sb3_reinforce.experiments.checkpoints import DEFAULT_CHECKPOINT_FREQ, CheckpointStore, FileCheckpoint
from sb3_reinforce.experiments.records import machine_info
from sb3_reinforce.experiments.run import train

__all__ = ["EVAL_SEED", "MAX_EVAL_ENVS", "Executor", "LocalExecutor", "lost_run_record", "run"]

#: Evaluation env ``i`` is reset with seed ``EVAL_SEED + i`` before every evaluation: all runs see the same episodes.
EVAL_SEED = 1_000_000
#: At most this many evaluation envs run side by side (batched policy calls; the episodes are the same).
MAX_EVAL_ENVS = 10


def _base_record(task: RunTask) -> dict[str, Any]:
    return dict(
        key=task.key,
        task=task.to_dict(),
        algo=task.algo,
        env_id=task.env_id,
        seed=task.seed,
        settings=task.settings,
        status="running",
        error=None,
        threshold=env_threshold(task.env_id),
        evaluations=[],
    )


def run(
    task: RunTask, checkpoint: CheckpointStore | None = None, checkpoint_freq: int = DEFAULT_CHECKPOINT_FREQ
) -> dict[str, Any]:
    """
    Train and evaluate one run of the grid on the true reward; write nothing but the run's checkpoint.

    Never raises for a failing run: the record then has ``status="failed"``, the error and its traceback.

    :param task: The run
    :param checkpoint: Where the run keeps its checkpoint (None: none): a run that finds one there resumes from it,
        bit-exactly; it is cleared when the run is done
    :param checkpoint_freq: Env steps between two checkpoints
    :return: The run record: its task and settings, periodic evaluations, final score, timings, machine
        (``resumed_from``: the env steps of the checkpoint the run resumed from, None if it started from scratch;
        ``eval_train_times``: the seconds of training at each periodic evaluation; ``load_at_start`` /
        ``load_at_end``: the 1-minute load average)
    """
    record = _base_record(task)
    # The load average beside each run's timings: a run that shared the cores with others is flagged by it
    record.update(machine=machine_info(), started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), load_at_start=os.getloadavg()[0])
    start = time.perf_counter()
    try:
        action_space = env_action_space(task.env_id)
        config = task.config()
        record["config"] = config_record(config, action_space, task.settings)
        reason = unsupported(task.algo, action_space)
        if reason is not None:
            raise ValueError(reason)
        with recording_train_time():  # each evaluation's seconds of training: the report's time to the threshold
            result = train(
                config,
                eval_episodes=task.final_episodes,
                eval_seed=EVAL_SEED,
                eval_freq=task.eval_freq,
                eval_freq_episodes=task.eval_episodes,
                eval_envs=max(1, min(MAX_EVAL_ENVS, max(task.eval_episodes, task.final_episodes))),
                device="cpu",
                checkpoint=checkpoint,
                checkpoint_freq=checkpoint_freq,
                resume=True,
            )
        record["resumed_from"] = result.resumed_from
        if result.interrupted or result.evaluation is None:
            raise KeyboardInterrupt
        # The timings are kept beside the points, not in them: the points stay those of an uninterrupted run
        record["evaluations"] = [{k: v for k, v in point.items() if k != "train_time"} for point in result.evaluations]
        record["eval_train_times"] = [point.get("train_time") for point in result.evaluations]
        first, stays = steps_to_threshold(
            [point["timesteps"] for point in result.evaluations],
            [point["mean_reward"] for point in result.evaluations],
            record["threshold"],
        )
        final = result.evaluation
        record.update(
            status="ok",
            num_timesteps=result.num_timesteps,
            train_time=result.train_time,
            eval_time=result.eval_time,
            fps=result.fps,
            final=dict(
                mean_reward=final.mean_reward,
                std_reward=final.std_reward,
                mean_length=final.mean_length,
                n_episodes=final.n_episodes,
                solved=None if record["threshold"] is None else bool(final.mean_reward >= record["threshold"]),
            ),
            first_threshold_steps=first,
            stays_threshold_steps=stays,
            wall_time=time.perf_counter() - start,
        )
    except Exception as error:
        record.update(
            status="failed",
            error=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(),
            wall_time=time.perf_counter() - start,
        )
    record.update(finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), load_at_end=os.getloadavg()[0])
    return record


def lost_run_record(task: RunTask, error: BaseException) -> dict[str, Any]:
    """The record of a run that returned none (its worker process died, ...)."""
    record = _base_record(task)
    record.update(
        status="failed",
        error=f"the run crashed outside its own error handling: {type(error).__name__}: {error}",
        config=config_record(task.config(), env_action_space(task.env_id), task.settings),
        wall_time=0.0,
    )
    return record


class Executor(Protocol):
    """Carries out tasks and yields ``(task, record)`` as each finishes, in any order."""

    def map(self, tasks: Sequence[RunTask]) -> Iterator[tuple[RunTask, dict[str, Any]]]: ...


def _init_worker() -> None:
    import torch as th

    th.set_num_threads(1)


class LocalExecutor:
    """
    Run tasks in a pool of local processes (``forkserver`` where available, else ``spawn``), one torch thread each.

    :param workers: Number of processes
    :param checkpoint_dir: Folder of the runs' checkpoints, ``<task key>.zip`` (None: no checkpoints): a run killed
        mid-way resumes from its own the next time the grid runs
    :param checkpoint_freq: Env steps between two checkpoints of a run
    """

    def __init__(
        self, workers: int, checkpoint_dir: str | Path | None = None, checkpoint_freq: int = DEFAULT_CHECKPOINT_FREQ
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.checkpoint_freq = checkpoint_freq

    def checkpoint(self, task: RunTask) -> FileCheckpoint | None:
        """Where ``task`` keeps its checkpoint (None: nowhere)."""
        return None if self.checkpoint_dir is None else FileCheckpoint(self.checkpoint_dir / f"{task.key}.zip")

    @property
    def slots(self) -> int:
        """Runs that can go on at once."""
        return self.workers

    def map(self, tasks: Sequence[RunTask]) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        if not tasks:
            return
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        workers = min(self.workers, len(tasks))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
            futures: dict[Future[dict[str, Any]], RunTask] = {
                pool.submit(run, task, self.checkpoint(task), self.checkpoint_freq): task for task in tasks
            }
            try:
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        record = future.result()
                    except Exception as error:  # the worker process died (BrokenProcessPool, ...): record it, go on
                        record = lost_run_record(task, error)
                    yield task, record
            except (KeyboardInterrupt, GeneratorExit):
                pool.shutdown(wait=False, cancel_futures=True)
                raise
