"""
Tests of the benchmark on Ray (``--ray-address``): the same numbers as the local pool, dead workers, retries,
cancellation, and the error when Ray is missing.

One local Ray instance (2 CPUs, started by this module, loopback only) serves every test; they skip when Ray is not
installed (``pip install "sb3-reinforce[ray]"``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import sb3_reinforce
from sb3_reinforce.benchmark import RunTask, main
from sb3_reinforce.benchmark.executor import run
from sb3_reinforce.benchmark.ray_executor import RAY_INSTALL, RayExecutor

CARTPOLE = "CartPole-v1"
TINY = ["--envs", CARTPOLE, "--timesteps", "300", "--eval-freq", "100", "--eval-episodes", "2", "--final-episodes", "2"]
#: The columns of table.md that depend on the run's numbers only (not on the machine's speed)
RESULT_COLUMNS = slice(0, 9)
ROOT = str(Path(sb3_reinforce.__file__).resolve().parents[1])


def test_missing_ray_is_reported_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(ImportError, match='pip install "sb3-reinforce\\[ray\\]"'):
        RayExecutor("auto")
    argv = ["--algos", "reinforce", "--seeds", "1", *TINY, "--out", str(tmp_path), "--ray-address", "auto"]
    assert main(argv) == 2
    assert RAY_INSTALL in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())  # nothing was trained


def _runs(out: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in (out / "runs").glob("*.json")}


def _result_rows(out: Path) -> list[list[str]]:
    """The rows of the summary table, without the speed columns."""
    table = (out / "table.md").read_text().split("\n## ")[0]
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith(f"| {CARTPOLE} |")]
    return [row[RESULT_COLUMNS] for row in rows]


def test_ray_gives_the_same_numbers_as_the_local_pool(ray_address: str, tmp_path: Path, capsys: Any) -> None:
    grid = ["--algos", "reinforce", "a2c", "--seeds", "2", *TINY]
    assert main([*grid, "--workers", "2", "--out", str(tmp_path / "local")]) == 0
    assert main([*grid, "--out", str(tmp_path / "ray"), "--ray-address", ray_address]) == 0
    assert "4 to run as Ray tasks on" in capsys.readouterr().out
    local, remote = _runs(tmp_path / "local"), _runs(tmp_path / "ray")
    assert sorted(local) == sorted(remote) and len(local) == 4
    for key, record in local.items():
        assert remote[key]["status"] == record["status"] == "ok"
        assert remote[key]["evaluations"] == record["evaluations"], key
        assert remote[key]["final"] == record["final"], key
        assert remote[key]["task"] == record["task"]
    assert _result_rows(tmp_path / "ray") == _result_rows(tmp_path / "local")
    assert len(_result_rows(tmp_path / "local")) == 2

    # Resume works the same: the runs Ray wrote are skipped by the local pool
    assert main([*grid, "--workers", "2", "--out", str(tmp_path / "ray")]) == 0
    assert "4 runs: 4 already finished (skipped), 0 to run" in capsys.readouterr().out


def test_dead_worker_is_a_failed_run_and_the_grid_finishes(ray_address: str, tmp_path: Path, capsys: Any) -> None:
    def die_on_seed_1(task: RunTask) -> dict[str, Any]:
        if task.seed == 1:
            os._exit(1)  # the worker process dies: no record, no exception
        return run(task)

    import argparse

    from sb3_reinforce.benchmark.driver import add_arguments, run_grid

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    # ppo:n_steps=-5 makes the PPO runs raise inside the task: failed records, not retried
    argv = ["--algos", "reinforce", "ppo", "--seeds", "2", *TINY, "--hyperparams", "ppo:n_steps=-5"]
    args = parser.parse_args([*argv, "--out", str(tmp_path), "--ray-address", ray_address])
    executor = RayExecutor(ray_address, max_retries=0, function=die_on_seed_1)
    assert run_grid(args, executor=executor) == 1

    runs = _runs(tmp_path)
    assert runs["reinforce__CartPole-v1__seed0"]["status"] == "ok"
    dead = runs["reinforce__CartPole-v1__seed1"]
    assert dead["status"] == "failed" and "WorkerCrashedError" in dead["error"] and "after 0 retries" in dead["error"]
    raised = runs["ppo__CartPole-v1__seed0"]
    assert raised["status"] == "failed" and "n_steps" in raised["traceback"]
    table = (tmp_path / "table.md").read_text()
    assert "| CartPole-v1 | reinforce | discrete | 1 | 300 | 0/2 |" in table and "1 failed (seed 1: " in table
    assert "2 failed (seed 0: " in table  # the PPO row
    assert "[4/4 done, 3 failed, 0 running" in capsys.readouterr().err


def test_dead_worker_is_retried(ray_address: str, tmp_path: Path) -> None:
    marker = tmp_path / "died_once"

    def die_once(task: RunTask) -> dict[str, Any]:
        if not marker.exists():  # the test's processes share this disk; the benchmark does not need one
            marker.touch()
            os._exit(1)
        record = run(task)
        record["imported_from"] = sb3_reinforce.__file__
        return record

    task = RunTask("reinforce", CARTPOLE, seed=0, timesteps=100, eval_freq=100, eval_episodes=1, final_episodes=1)
    [(_, record)] = list(RayExecutor(ray_address, max_retries=1, function=die_once).map([task]))
    assert marker.exists() and record["status"] == "ok"
    assert record["imported_from"].startswith(ROOT)  # the workers run this checkout


def test_interrupt_cancels_outstanding_tasks(ray_address: str) -> None:
    import ray

    def slow_unless_seed_0(task: RunTask) -> dict[str, Any]:
        if task.seed != 0:
            time.sleep(120)
        return dict(status="ok", seed=task.seed)

    tasks = [RunTask("reinforce", CARTPOLE, seed=seed) for seed in range(3)]
    executor = RayExecutor(ray_address, function=slow_unless_seed_0)
    results = executor.map(tasks)
    task, record = next(results)
    assert task.seed == 0 and record["seed"] == 0
    pending = list(executor.pending)
    assert len(pending) == 2
    start = time.perf_counter()
    results.close()  # what Ctrl-C in the driver's loop does to the generator
    for ref in pending:
        with pytest.raises(ray.exceptions.TaskCancelledError):
            ray.get(ref, timeout=60)
    assert time.perf_counter() - start < 60


def test_invalid_arguments(ray_address: str) -> None:
    with pytest.raises(ValueError, match="max_retries must be >= 0, got -1"):
        RayExecutor(ray_address, max_retries=-1)
    with pytest.raises(ValueError, match="must not be empty"):
        RayExecutor(" ")


def test_unreachable_cluster_is_reported_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    pytest.importorskip("ray", reason='needs ray: pip install "sb3-reinforce[ray]"')

    def refuse(self: RayExecutor) -> None:  # Ray itself keeps trying for minutes before it gives up
        raise ConnectionError("Could not find any running Ray instance")

    monkeypatch.setattr(RayExecutor, "connect", refuse)
    argv = ["--algos", "reinforce", "--seeds", "1", *TINY, "--out", str(tmp_path), "--ray-address", "127.0.0.1:1"]
    assert main(argv) == 2
    assert "cannot connect to the Ray cluster at 127.0.0.1:1: ConnectionError: Could not find" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
