"""Tests of the benchmark's statistics (IQM, bootstrap CIs), its progress line and its report of them."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import trim_mean

from sb3_reinforce.benchmark import stats
from sb3_reinforce.benchmark.driver import add_arguments, fmt_duration, progress_line, run_grid
from sb3_reinforce.benchmark.peers import algo_rank
from sb3_reinforce.benchmark.report import markdown_table, summarize
from sb3_reinforce.benchmark.stats import BENCHMARK_INSTALL, interval_estimate, iqm, summarize_across_envs


def test_iqm_by_hand() -> None:
    # Sorted: -100, 0, 1, 2, 3, 4, 5, 100; the middle half is 1, 2, 3, 4
    assert iqm([3.0, -100.0, 1.0, 100.0, 0.0, 5.0, 2.0, 4.0]) == 2.5
    scores = np.random.default_rng(0).normal(size=17)
    assert iqm(scores) == pytest.approx(trim_mean(scores, 0.25))
    with pytest.raises(ValueError, match="at least one score, got none"):
        iqm([])


def test_interval_contains_the_iqm_and_narrows_with_more_seeds() -> None:
    population = np.random.default_rng(1).normal(100.0, 20.0, size=200)
    widths = []
    for n_seeds in (5, 20, 200):
        estimate = interval_estimate([population[:n_seeds]])
        assert estimate["n"] == n_seeds and estimate["iqm"] == pytest.approx(trim_mean(population[:n_seeds], 0.25))
        assert estimate["ci_low"] < estimate["iqm"] < estimate["ci_high"]
        widths.append(estimate["ci_high"] - estimate["ci_low"])
    assert widths[0] > widths[1] > widths[2]


def test_bootstrap_is_deterministic_given_its_seed() -> None:
    scores = [[1.0, 5.0, 2.0, 8.0, 3.0]]
    assert interval_estimate(scores, seed=3) == interval_estimate(scores, seed=3)
    assert interval_estimate(scores, seed=3)["ci_high"] != interval_estimate(scores, n_resamples=50, seed=4)["ci_high"]


def test_stratified_bootstrap_keeps_each_env_s_share() -> None:
    # Two envs of 4 seeds each, far apart: a stratified resample always holds 4 runs of each, a pooled one does not
    low, high = [0.0, 0.0, 0.0, 0.1], [1.0, 1.0, 1.0, 1.1]
    stratified = interval_estimate([low, high])
    pooled = interval_estimate([low + high])
    assert stratified["iqm"] == pooled["iqm"] == pytest.approx(iqm(low + high))
    assert stratified["ci_high"] - stratified["ci_low"] < 0.1
    assert pooled["ci_high"] - pooled["ci_low"] > 0.3


def test_no_interval_from_one_seed_and_invalid_inputs() -> None:
    assert interval_estimate([[7.0]]) == dict(iqm=7.0, ci_low=None, ci_high=None, n=1, confidence=0.95)
    assert interval_estimate([[1.0, 2.0], [3.0]])["ci_low"] is None  # one env with a single seed
    assert interval_estimate([[5.0, 5.0, 5.0]])["ci_low"] == 5.0
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\), got 95"):
        interval_estimate([[1.0, 2.0]], confidence=95)
    with pytest.raises(ValueError, match=r"got sizes \[2, 0\]"):
        interval_estimate([[1.0, 2.0], []])


def _record(algo: str, env_id: str, seed: int, final: float, threshold: float, status: str = "ok") -> dict[str, Any]:
    record: dict[str, Any] = dict(
        algo=algo, env_id=env_id, seed=seed, status=status, threshold=threshold, error="boom", evaluations=[]
    )
    record["config"] = dict(timesteps=1000, n_envs=1, actions="discrete", source="test")
    if status == "ok":
        record.update(
            final=dict(mean_reward=final, std_reward=0.0, solved=final >= threshold),
            first_threshold_steps=None,
            stays_threshold_steps=None,
            fps=100.0,
            wall_time=1.0,
        )
    return record


def test_summary_and_table_report_iqm_ci_and_solved_fraction() -> None:
    finals = [100.0, 480.0, 500.0, 490.0]
    records = [_record("reinforce", "CartPole-v1", seed, final, 475.0) for seed, final in enumerate(finals)]
    records.append(_record("reinforce", "CartPole-v1", 4, 0.0, 475.0, status="failed"))
    records.append(_record("a2c", "CartPole-v1", 0, 500.0, 475.0))
    records += [_record("reinforce", "Other-v0", seed, final, 50.0) for seed, final in enumerate([10.0, 60.0])]
    rows = summarize(records, ["CartPole-v1", "Other-v0"])
    reinforce = rows[0]
    assert reinforce["final_iqm"] == pytest.approx(485.0)  # mean of 480 and 490
    assert reinforce["final_ci"][0] <= 485.0 <= reinforce["final_ci"][1]
    assert reinforce["solved"] == 3 and reinforce["solved_fraction"] == pytest.approx(3 / 5)  # the failed seed counts
    table = markdown_table(rows)
    assert "final reward IQM [95 % CI]" in table
    ci = reinforce["final_ci"]
    assert f"| 3/5 | 485.0 [{ci[0]:.1f}, {ci[1]:.1f}] |" in table
    assert "| 1/1 | 500.0 (1 seed: no CI) |" in table  # a2c

    thresholds = {"CartPole-v1": 475.0, "Other-v0": 50.0}

    def normalize(env_id: str, score: float) -> float:
        return score / thresholds[env_id]

    assert [row["algo"] for row in summarize_across_envs(rows, normalize, algo_rank)] == ["reinforce", "a2c"]
    across = {row["algo"]: row for row in summarize_across_envs(rows, normalize)}
    assert across["reinforce"]["envs"] == ["CartPole-v1", "Other-v0"] and across["reinforce"]["n_runs"] == 6
    normalized = [f / 475.0 for f in finals] + [10.0 / 50.0, 60.0 / 50.0]
    assert across["reinforce"]["iqm"] == pytest.approx(iqm(normalized))
    assert across["reinforce"]["solved_fraction"] == pytest.approx(4 / 7)
    assert across["a2c"]["ci"] is None


def test_progress_line() -> None:
    assert progress_line(3, 1, 8, 2, 90.0) == "[3/8 done, 1 failed, 2 running, 1m30s elapsed, ETA 2m30s]"
    assert progress_line(7, 0, 8, 4, 70.0) == "[7/8 done, 0 failed, 1 running, 1m10s elapsed, ETA 10s]"
    assert progress_line(0, 0, 8, 2, 0.4).endswith("ETA ?]")
    assert fmt_duration(7620) == "2h07m"
    with pytest.raises(ValueError, match="done=3, failed=4"):
        progress_line(3, 4, 8, 2, 1.0)


def test_missing_scipy_is_reported_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "scipy.stats", None)  # makes `import scipy.stats` fail
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--algos", "reinforce", "--envs", "CartPole-v1", "--seeds", "1", "--out", str(tmp_path)])
    assert run_grid(args, executor=None) == 2
    assert BENCHMARK_INSTALL in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_statistics_import_neither_torch_nor_sb3() -> None:
    """
    The statistics read plain records: loaded in a fresh interpreter and used, they import neither torch nor SB3, even
    indirectly. The module is loaded from its file, as the package's ``__init__`` imports the algorithm (hence torch):
    any import of the package from the statistics would still load them and fail the test.
    """
    code = f"""
import importlib.util
import sys

spec = importlib.util.spec_from_file_location("stats", {stats.__file__!r})
stats = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stats)
stats.interval_estimate([[1.0, 2.0, 3.0], [2.0, 4.0]])
row = dict(algo="reinforce", env_id="CartPole-v1", final=[400.0, 500.0], threshold=475.0, solved=1, n_ok=2, n_failed=0)
stats.summarize_across_envs([row], lambda env_id, score: score / 500.0)
print(*sorted(name for name in ("torch", "stable_baselines3", "sb3_reinforce") if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == [], f"imported by the statistics: {result.stdout}"
