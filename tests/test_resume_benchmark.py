"""
A benchmark run killed mid-way resumes from its checkpoint (``docs/resume.md``), and its record is the one an
uninterrupted run writes: on the local process pool (the grid's process killed with SIGKILL at a random moment, then
the same command again) and on Ray (a worker that dies after a checkpoint, the task retried with no shared disk).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import sb3_reinforce
from sb3_reinforce.benchmark import RunTask, main
from sb3_reinforce.benchmark.executor import run

from helpers import checkpoint_interval

ROOT = Path(sb3_reinforce.__file__).resolve().parents[1]
CARTPOLE = "CartPole-v1"
GRID = ["--algos", "reinforce", "--envs", CARTPOLE, "--seeds", "1", "--timesteps", "10000", "--eval-freq", "2500"]
GRID += ["--eval-episodes", "2", "--final-episodes", "3", "--workers", "1", "--checkpoint-freq", "1500"]
#: What a record says about the run itself (the rest: timings, machine, when it ran, whether it was resumed)
RESULT_KEYS = ("status", "task", "config", "evaluations", "final", "num_timesteps", "first_threshold_steps")
RESULT_KEYS += ("stays_threshold_steps",)


def assert_same_record(expected: dict[str, Any], got: dict[str, Any]) -> None:
    assert expected["status"] == "ok", expected.get("traceback")
    for key in RESULT_KEYS:
        assert got[key] == expected[key], key


def record(out: Path) -> dict[str, Any]:
    return json.loads((out / "runs" / f"reinforce__{CARTPOLE}__seed0.json").read_text())


def test_local_pool_run_killed_at_a_random_moment_resumes(tmp_path: Path) -> None:
    # The grid's one run, uninterrupted (in this process: the record does not depend on where a run ran)
    expected = run(RunTask("reinforce", CARTPOLE, 0, timesteps=10000, eval_freq=2500, eval_episodes=2, final_episodes=3))
    assert expected["resumed_from"] is None

    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "sb3_reinforce", "benchmark", *GRID, "--out", str(out)]
    # Its own process group: the kill takes the pool's worker processes down with the driver
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    # A moment within three checkpoint intervals of the second (of six), drawn at random
    delay = random.uniform(0.0, 3 * checkpoint_interval(process, lambda: next((out / "checkpoints").glob("*.zip"), None)))
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    if (out / "runs" / f"reinforce__{CARTPOLE}__seed0.json").exists():
        pytest.skip(f"the run finished within {delay:.2f} s of its second checkpoint: nothing to resume")

    assert main([*GRID, "--out", str(out)]) == 0  # the same command again
    got = record(out)
    assert got["resumed_from"] is not None and got["resumed_from"] > 0, f"killed {delay:.2f} s after a checkpoint"
    assert_same_record(expected, got)
    assert not list((out / "checkpoints").glob("*.zip"))  # removed with the finished run


def test_ray_task_retried_after_its_worker_died_resumes(ray_address: str) -> None:
    from sb3_reinforce.benchmark.ray_executor import RayCheckpoint, RayExecutor

    def die_after_first_checkpoint(task: RunTask, checkpoint: RayCheckpoint, checkpoint_freq: int) -> dict[str, Any]:
        if checkpoint.read() is not None:  # a retry: the checkpoint came through Ray, not through a disk
            return run(task, checkpoint=checkpoint, checkpoint_freq=checkpoint_freq)

        class Dying:
            def read(self) -> bytes | None:
                return None

            def write(self, data: bytes) -> None:
                checkpoint.write(data)
                os._exit(1)  # the worker process dies, as on a preempted machine

            def clear(self) -> None:
                checkpoint.clear()

        return run(task, checkpoint=Dying(), checkpoint_freq=checkpoint_freq)

    task = RunTask("reinforce", CARTPOLE, seed=0, timesteps=3000, eval_freq=1000, eval_episodes=2, final_episodes=2)
    executor = RayExecutor(ray_address, max_retries=1, function=die_after_first_checkpoint, checkpoint_freq=700)
    [(_, got)] = list(executor.map([task]))
    assert got["resumed_from"] is not None and got["resumed_from"] >= 700, got.get("traceback")
    assert_same_record(run(task), got)
