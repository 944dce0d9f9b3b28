"""
The benchmark's page (``BENCHMARKS.md``) and report, rebuilt from run records alone: byte for byte the same on every
rebuild and wherever the folder lies, from every record present (several grids merged), each env scored against the
suite's threshold, with the training seconds to that threshold and the machine's load, and the comparisons drawn from
the numbers.
"""

from __future__ import annotations

import csv
import json
import shutil
from importlib.metadata import PackageNotFoundError
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import sb3_reinforce
from sb3_reinforce.benchmark import RunTask, main
from sb3_reinforce.benchmark.driver import write_grid_file
from sb3_reinforce.benchmark.executor import run
from sb3_reinforce.benchmark.page_builder import _time_by_group
from sb3_reinforce.benchmark.page_results import _below_published
from sb3_reinforce.benchmark.plan import env_threshold
from sb3_reinforce.benchmark.report import (
    load_flag,
    read_commands,
    report_thresholds,
    rescore,
    summarize,
    threshold_times,
)
from sb3_reinforce.benchmark.stats import evaluation_train_times
from sb3_reinforce.benchmark.suite import GRID_BUDGET_CORE_SECONDS, SUITE, random_policy_score
from sb3_reinforce.benchmark.tables import machine_summaries
from sb3_reinforce.experiments.records import machine_info

ROOT = Path(sb3_reinforce.__file__).resolve().parents[1]
CARTPOLE, PENDULUM, TOY = "CartPole-v1", "Pendulum-v1", "Toy-v0"  # Toy-v0: an env outside the suite and gym
GRID_COMMANDS = ["python -m sb3_reinforce.benchmark --algos reinforce ppo --envs CartPole-v1 --seeds 5 --out out"]
GRID_COMMANDS += ["python -m sb3_reinforce.benchmark --algos reinforce sac --envs Pendulum-v1 Toy-v0 --seeds 5 --out out"]


def make_record(
    algo: str,
    env_id: str,
    seed: int,
    curve: list[float],
    final: float,
    threshold: float | None,
    times: list[float] | None = None,
    loads: tuple[float, float] | None = None,
    status: str = "ok",
) -> dict[str, Any]:
    """A run record as :func:`~sb3_reinforce.benchmark.executor.run` writes it, with made-up numbers."""
    steps = [1000 * i for i in range(len(curve))]
    evaluations = [
        dict(target=s, timesteps=s, mean_reward=r, std_reward=1.0, mean_length=10.0, n_episodes=5)
        for s, r in zip(steps, curve, strict=True)
    ]
    task = dict(algo=algo, env_id=env_id, seed=seed, timesteps=None, eval_freq=1000, eval_episodes=5, final_episodes=20)
    record: dict[str, Any] = dict(
        key=f"{algo}__{env_id}__seed{seed}",
        task=dict(task, overrides={}),
        algo=algo,
        env_id=env_id,
        seed=seed,
        status=status,
        error=None if status == "ok" else "ValueError: boom",
        threshold=threshold,
        evaluations=evaluations,
        machine=dict(
            cpu="Test CPU",
            cpu_count=2,
            platform="Linux",
            python="3.11.7",
            sb3_reinforce="0.1.0",
            stable_baselines3="2.9.2",
            gymnasium="1.4.0",
            torch="2.13.0+cpu",
            numpy="2.4.6",
        ),
        started_at=f"2026-12-01T10:{seed:02d}:00+0000",
        config=dict(timesteps=steps[-1], n_envs=1, actions="discrete", hyperparams={}, setup={}, source=f"{algo} test"),
        wall_time=10.0 + seed,
        finished_at=f"2026-12-01T10:{seed:02d}:30+0000",
    )
    if times is not None:
        record["eval_train_times"] = times
    if loads is not None:
        record.update(load_at_start=loads[0], load_at_end=loads[1])
    if status == "ok":
        first = next((s for s, r in zip(steps, curve, strict=True) if threshold is not None and r >= threshold), None)
        record.update(
            resumed_from=None,
            num_timesteps=steps[-1],
            train_time=5.0 + seed,
            eval_time=1.0,
            fps=1000.0 + seed,
            final=dict(
                mean_reward=final,
                std_reward=2.0,
                mean_length=10.0,
                n_episodes=20,
                solved=None if threshold is None else final >= threshold,
            ),
            first_threshold_steps=first,
            stays_threshold_steps=first,  # the curves below stay once they reach it
        )
    return record


def fixture_records() -> list[dict[str, Any]]:
    """
    Two grids' records: on CartPole, REINFORCE (times and loads recorded) ends higher than PPO (older records: no
    times, no loads, written with the gym threshold 475); on Pendulum, lower than SAC; on Toy-v0 (outside the suite)
    REINFORCE alone. Plus a failed run and SAC's ``n/a`` record on CartPole.
    """
    records = []
    for seed in range(5):
        curve = [20.0, 300.0, 500.0, 500.0]
        times = [0.0, 1.0 + seed / 10, 2.0 + seed / 10, 3.0 + seed / 10]
        records.append(make_record("reinforce", CARTPOLE, seed, curve, 500.0, 500.0, times, (1.0, 1.2)))
        curve = [20.0, 100.0, 480.0, 490.0]
        records.append(make_record("ppo", CARTPOLE, seed, curve, 300.0 + 10 * seed, 475.0))
        curve = [-1200.0, -800.0, -400.0, -300.0 - seed]
        loads = (3.5, 1.0) if seed == 0 else (1.0, 1.0)
        records.append(make_record("reinforce", PENDULUM, seed, curve, -300.0 - 5 * seed, -200.0, [0.0, 2, 4, 6], loads))
        curve = [-1200.0, -180.0, -160.0, -150.0]
        records.append(make_record("sac", PENDULUM, seed, curve, -150.0 - seed, -200.0, [0.0, 30, 60, 90], (2.0, 2.1)))
        records.append(make_record("reinforce", TOY, seed, [0.0, 5.0, 10.0], 9.0 + seed, 8.0, [0.0, 0.5, 1.0]))
    records.append(make_record("ppo", PENDULUM, 0, [-1200.0], 0.0, -200.0, status="failed"))
    not_applicable = make_record("sac", CARTPOLE, 0, [0.0], 0.0, 475.0, status="n/a")
    not_applicable.update(key="sac__CartPole-v1__na", seed=None, evaluations=[], error="SAC needs a Box action space")
    records.append(not_applicable)
    return records


def write_records(out: Path, records: list[dict[str, Any]], commands: list[str] = GRID_COMMANDS) -> None:
    (out / "runs").mkdir(parents=True)
    for record in records:
        (out / "runs" / f"{record['key']}.json").write_text(json.dumps(record, indent=2))
    # grid.json as the last grid wrote it: its arguments name only its own envs
    args = dict(algos=["reinforce", "sac"], envs=[PENDULUM, TOY])
    (out / "grid.json").write_text(json.dumps(dict(command=commands[-1], args=args, commands=commands)))


def build(repo: Path) -> dict[str, bytes]:
    """``--report-only`` in ``repo`` (records in ``repo/benchmark/results``), as from its root: every output's bytes."""
    out, page = repo / "benchmark" / "results", repo / "BENCHMARKS.md"
    assert main(["--report-only", "--out", str(out), "--page", str(page)]) == 0
    inputs = ("grid.json",)  # and runs/
    outputs = {path.relative_to(repo).as_posix(): path.read_bytes() for path in out.glob("*.*") if path.name not in inputs}
    return {**outputs, "BENCHMARKS.md": page.read_bytes()}


def assert_rebuilds_byte_for_byte(repo: Path, tmp_path: Path) -> dict[str, bytes]:
    """Built twice, rebuilt after removing every output, and in a copy elsewhere ("a fresh clone"): the same bytes."""
    first = build(repo)
    assert build(repo) == first
    for name in first:
        (repo / name).unlink()
    assert build(repo) == first
    clone = tmp_path / "elsewhere" / "clone"
    shutil.copytree(repo / "benchmark" / "results" / "runs", clone / "benchmark" / "results" / "runs")
    if (repo / "benchmark" / "results" / "grid.json").exists():
        shutil.copy(repo / "benchmark" / "results" / "grid.json", clone / "benchmark" / "results")
    assert build(clone) == first
    assert str(tmp_path) not in first["BENCHMARKS.md"].decode()  # no absolute path
    return first


@pytest.fixture(scope="module")
def fixture_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    repo = tmp_path_factory.mktemp("repo")
    write_records(repo / "benchmark" / "results", fixture_records())
    assert main(["--report-only", "--out", str(repo / "benchmark" / "results"), "--page", str(repo / "BENCHMARKS.md")]) == 0
    return (repo / "BENCHMARKS.md").read_text(encoding="utf-8")


def test_page_from_fixture_records_is_byte_identical(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write_records(repo / "benchmark" / "results", fixture_records())
    outputs = assert_rebuilds_byte_for_byte(repo, tmp_path)
    assert {"benchmark/results/curves_CartPole-v1.png", "benchmark/results/curves_Toy-v0.png"} <= set(outputs)
    png = outputs["benchmark/results/curves_Pendulum-v1.png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and b"Software" not in png and b"matplotlib" not in png


def test_page_from_the_committed_records_is_byte_identical(tmp_path: Path) -> None:
    # The records and grid.json alone, copied as into a fresh clone, rebuild the committed page and every committed
    # output (figures, tables) byte for byte; the fixture test above checks the rebuild's other invariants
    committed = ROOT / "benchmark" / "results"
    if not list((committed / "runs").glob("*.json")):
        pytest.skip("no committed benchmark records")
    repo = tmp_path / "repo"
    shutil.copytree(committed / "runs", repo / "benchmark" / "results" / "runs")
    shutil.copy(committed / "grid.json", repo / "benchmark" / "results")
    rebuilt = build(repo)
    for name, content in rebuilt.items():
        assert content == (ROOT / name).read_bytes(), (
            f"{name} is not its records' rebuild: python -m sb3_reinforce benchmark --report-only --out benchmark/results"
        )
    page = rebuilt["BENCHMARKS.md"].decode()
    assert "--report-only --out benchmark/results\n" in page
    assert "![CartPole-v1: learning curves against env steps and seconds of training](benchmark/results/curves_" in page


def test_page_reports_every_record_of_several_grids(fixture_page: str) -> None:
    page = fixture_page
    # Both grids' commands, and the envs of both (grid.json's last arguments name only Pendulum and Toy)
    assert "```bash\n" + "\n".join(GRID_COMMANDS) + "\n```" in page
    for env_id in (CARTPOLE, PENDULUM, TOY):
        assert f"### {env_id}\n" in page
    # Every env of the suite, with or without records, in the suite's order; Toy-v0 after them
    positions = [page.index(f"### {env_id}\n") for env_id in [*SUITE, TOY]]
    assert positions == sorted(positions)
    assert "### Acrobot-v1\n\nThreshold -85; issue 19's goal: IQM ≥ -85, every seed ≥ -100; budget 500k" in page
    assert "No records yet (the grid plans reinforce, ppo, a2c)." in page
    # The status table: seeds per algorithm, failed runs, n/a, runs planned but not recorded, the zoo's figures only
    assert "| CartPole-v1 | 5 | 5 | n/a | no records yet | 10 | 2m00s |" in page
    assert "| Pendulum-v1 | 5 | 0 (1 failed) | 5 | no records yet | 11 | 2m10s |" in page
    assert "| Hopper-v5 | no records yet | no records yet | zoo figure only | no records yet | 0 | — |" in page
    assert "Measured total: 26 runs (1 failed), 310 s of run time (5m10s; one core per run)" in page
    # Still to run, estimated from the records: REINFORCE's CartPole runs took 10-14 s (mean 12) on seeds 0-4, none
    # of the held-out seeds 1000-1009 is recorded; its defaults (50k steps), at the tuned runs' 60 s per 15k steps
    assert "| CartPole-v1 | reinforce | tuned | 10 | 2m00s |" in page
    assert "| CartPole-v1 | ppo | tuned | 5 | 1m00s |" in page
    assert "| CartPole-v1 | a2c | tuned | 5 | no timing on the env yet |" in page
    assert "| CartPole-v1 | reinforce | defaults | 5 | ~16m40s |" in page
    assert "Projected total: 5m10s measured + " in page
    # Where the time goes: measured (REINFORCE's 15 records of 12 s; PPO's 5 of 12 s and a failed one of 10 s) plus
    # estimated (the rows above), largest first, each group's share of the 6h17m projected
    assert "the projection is within that budget, before the 40 rows with no timing yet." in page
    assert "| reinforce | defaults | 0 | 0s | 5h50m | 5h50m | 93% |" in page
    assert "| reinforce | tuned | 15 | 3m00s | 4m00s | 7m00s | 2% |" in page
    assert "| ppo | tuned | 6 | 1m10s | 1m00s | 2m10s | 1% |" in page


def test_time_by_group_says_how_far_over_the_budget() -> None:
    # 20 h measured for PPO plus 4 h estimated for A2C, against 16 h of one core: 1.50 times the budget
    assert GRID_BUDGET_CORE_SECONDS == 16 * 3600
    runs = [{"algo": "ppo", "settings": "tuned", "task": {"settings": "tuned"}, "wall_time": 10 * 3600.0}] * 2
    lines = _time_by_group(runs, {("a2c", "tuned"): 4 * 3600.0}, unknown=0)
    assert "the projection is 1.50 times that budget. The peers' runs alone, " in lines[1]
    assert "come to 24h00m, 1.50 times the budget: no change to REINFORCE's runs could bring the grid within it." in lines[1]
    assert lines[-2:] == ["| ppo | tuned | 2 | 20h00m | 0s | 20h00m | 83% |", "| a2c | tuned | 0 | 0s | 4h00m | 4h00m | 17% |"]
    # REINFORCE's 20 h over a budget of 16 h: the peers' 4 h fit, so no sentence about them
    reinforce_runs = [{**run, "algo": "reinforce"} for run in runs]
    lines = _time_by_group(reinforce_runs, {("a2c", "tuned"): 4 * 3600.0}, unknown=0)
    assert lines[1].endswith("the projection is 1.50 times that budget.")
    # Nothing left to estimate: the total is measured
    lines = _time_by_group(runs * 2, {}, unknown=0)
    assert "(16h00m of one core): the measured total is 2.50 times that budget." in lines[1]


def test_page_scores_each_env_against_the_suite_threshold(fixture_page: str) -> None:
    page = fixture_page
    # PPO's records were written with 475: rescored against the suite's 500 (final 300-340: 0 solved)
    assert "The ppo records were written with threshold 475: solved, first and stays are recomputed here against 500" in page
    assert "The sac records were written" not in page  # an n/a record has nothing to rescore
    assert "| sac | n/a: SAC needs a Box action space | — | — | — |" in page
    ppo_row = next(line for line in page.splitlines() if line.startswith("| ppo | 5 | 3k | 1 | 0/5 | "))
    assert "| never (0/5 seeds) | never (0/5 seeds) | 500.0 (100k) |" in ppo_row
    reinforce_row = next(line for line in page.splitlines() if line.startswith("| reinforce | 5 | 3k | 1 | 5/5 | "))
    # Normalized: (score - random) / (target - random), 1 at the target; first and stays at the 2k-step evaluation
    assert "| 500.0 [500.0, 500.0] | 1.000 [1.000, 1.000] | 2k [2k, 2k] | 2k [2k, 2k] | — |" in reinforce_row
    # The suite's table: threshold, issue 19's goal, gym threshold, random, published figures
    assert "| Pendulum-v1 | 1M | -200 | IQM ≥ -200, every seed ≥ -300 | — | -1207.6 | ppo -172.2 (100k), sac -157.0" in page


def test_page_times_to_threshold_and_load(fixture_page: str) -> None:
    page = fixture_page
    # CartPole: REINFORCE's seconds at its 2k-step evaluation (2.0-2.4); PPO's older records have no times: n/a
    speed = "| 7.0 [6.0, 8.0] | 12.0 [11.0, 13.0] | 1,002 [1,001, 1,003] |"
    # The CPU column: the processor each record names, without its generic words ("Test CPU")
    assert f"| reinforce | 2.2 [2.1, 2.3] | 2.2 [2.1, 2.3] {speed} 5 quiet | 5 Test |" in page
    assert f"| ppo | n/a | n/a {speed} 5 unknown | 5 Test |" in page
    # Pendulum: seed 0 started with a load of 3.5 on 2 CPUs; REINFORCE never reaches -200
    assert "| reinforce | never (0/5 seeds) | never (0/5 seeds) | " in page and "| 4 quiet, 1 loaded | 5 Test |" in page
    assert "| 3.50 / 1.00 (loaded) | ok |" in page
    assert "| CartPole-v1 | ppo | 0 | 300.00 ± 2.00 | never | never | n/a | 5.0 | 10.0 | 1,000 | unknown | ok |" in page


def test_when_to_choose_reinforce_is_drawn_from_the_numbers(fixture_page: str) -> None:
    when = fixture_page.split("## When to choose REINFORCE")[1].split("## How it was run")[0]
    assert "higher in 1 (CartPole-v1 vs ppo), lower in 1 (Pendulum-v1 vs sac), no clear difference in 0" in when
    assert "Envs without a comparison yet: 8 (Acrobot-v1, MountainCar-v0, " in when
    cartpole = when.split("- **CartPole-v1**: ")[1].split("\n- **")[0]
    assert cartpole.startswith("REINFORCE's final reward IQM 500.0 [500.0, 500.0], 5/5 seeds solved; no records of a2c yet.")
    # PPO's IQM: the mean of its middle 3 finals (310, 320, 330); normalized with CartPole's random score 23.68
    assert "vs ppo: final reward **higher**, IQM 500.0 [500.0, 500.0] against 320.0 [" in cartpole
    assert f"(+180.0, {180.0 / (500.0 - 23.68):+.3f} normalized)" in cartpole
    assert "seeds solved 5/5 against 0/5" in cartpole
    assert "training seconds to the threshold not recorded for ppo" in cartpole
    # PPO's CI [310, 330] lies below the zoo's published 500: the sentence says so, and the count names it
    assert "ppo's whole CI lies below the zoo's published 500.0 (rl-baselines3-zoo benchmark.md" in cartpole
    assert "published figure (their whole 95 % CI): 1 (CartPole-v1 vs ppo)." in when
    pendulum = when.split("- **Pendulum-v1**: ")[1].split("\n- **")[0]
    assert "vs sac: final reward **lower**" in pendulum
    assert "median training seconds to first reach the threshold never against 30.0" in pendulum
    assert "- **Toy-v0**: REINFORCE's final reward IQM 11.0 [" in when and "no peer records yet: no comparison." in when
    across = fixture_page.split("## Across envs")[1].split("## When")[0]
    assert "| reinforce | CartPole-v1, Pendulum-v1 | 10 |" in across  # Toy-v0 has no random score: left out
    assert "On the envs every algorithm ran" not in across  # ppo, sac and reinforce share no env
    assert "No env has finished runs of every algorithm" in across


def test_below_published_needs_the_whole_ci_of_tuned_runs_below_the_mark() -> None:
    hopper = SUITE["Hopper-v5"]  # the zoo publishes PPO 2410.4 there
    ppo = dict(algo="ppo", settings="tuned", final_ci=[452.7, 1004.2])
    mark = _below_published(ppo, hopper)
    assert mark is not None and mark.algo == "ppo" and mark.score == pytest.approx(2410.435)
    assert _below_published({**ppo, "final_ci": [452.7, 2500.0]}, hopper) is None  # the CI reaches the mark
    assert _below_published({**ppo, "settings": "defaults"}, hopper) is None  # the zoo publishes tuned runs only
    assert _below_published({**ppo, "final_ci": None}, hopper) is None  # one seed: no CI
    assert _below_published(ppo, None) is None  # an env outside the suite has no marks


def test_summary_rows_keep_settings_apart() -> None:
    records = fixture_records()[:2]
    defaults = make_record("reinforce", CARTPOLE, 0, [20.0, 30.0], 30.0, 500.0)
    defaults["config"]["source"] = "Reinforce defaults"
    rows = summarize([*records, defaults], [CARTPOLE])
    assert [(row["algo"], row["variant"], row["n_ok"]) for row in rows] == [
        ("reinforce", "Reinforce defaults", 1),
        ("reinforce", "reinforce test", 1),
        ("ppo", "ppo test", 1),
    ]


def defaults_record(algo: str, env_id: str, seed: int, final: float) -> dict[str, Any]:
    """A run of ``--settings defaults``, as the executor writes it."""
    record = make_record(algo, env_id, seed, [final, final], final, SUITE[env_id].target)
    record.update(key=f"{algo}-defaults__{env_id}__seed{seed}", settings="defaults")
    record["task"]["settings"] = "defaults"
    record["config"]["source"] = f"{algo} defaults, the plain env"
    return record


def test_defaults_runs_have_their_own_table(tmp_path: Path) -> None:
    """Runs with default settings: one table of their own, an across-env score over the envs all of them ran."""
    defaults = [defaults_record("reinforce", CARTPOLE, seed, 500.0 - seed) for seed in range(3)]
    defaults += [defaults_record("ppo", CARTPOLE, seed, 200.0 + seed) for seed in range(3)]
    defaults += [defaults_record("reinforce", PENDULUM, seed, -1000.0) for seed in range(3)]  # PPO has none there
    repo = tmp_path / "repo"
    write_records(repo / "benchmark" / "results", [*fixture_records(), *defaults])
    page = assert_rebuilds_byte_for_byte(repo, tmp_path)["BENCHMARKS.md"].decode()
    section = page.split("## Out of the box")[1].split("\n## ")[0]
    assert "| env | budget | reinforce | ppo | a2c |" in section  # a2c is planned: a column without records
    # IQM of 3 seeds: their mean; solved against the suite's threshold 500
    assert "| CartPole-v1 | 1k | 499.0 [" in section and "(1/3 solved) | 201.0 [" in section and "(0/3 solved) |" in section
    assert "| Pendulum-v1 | 1k | -1000.0 [-1000.0, -1000.0] (0/3 solved) | no records yet | no records yet |" in section
    assert "Seeds: reinforce 0-2; ppo 0-2." in section
    assert "Across the envs every algorithm with records ran (CartPole-v1):" in section
    normalized = (499.0 - SUITE[CARTPOLE].random_score) / (500.0 - SUITE[CARTPOLE].random_score)
    assert f"| reinforce | CartPole-v1 | 3 | {normalized:.3f} [" in section
    # Against each peer: PPO's 200-202 against 498-500, intervals apart
    pair_rows = [line for line in section.splitlines() if line.startswith("| ppo | CartPole-v1 | 3 / 3 | ")]
    assert len(pair_rows) == 1 and pair_rows[0].endswith("| higher |")
    # Nowhere else: the tuned sections and the "when" section are those of the fixture alone
    across = page.split("## Across envs")[1].split("## Out of the box")[0]
    assert "| reinforce | CartPole-v1, Pendulum-v1 | 10 |" in across
    assert "(defaults)" not in page.split("## Per run")[0]
    assert "| CartPole-v1 | reinforce (defaults) | 0 | 500.00 ± 2.00 |" in page.split("## Per run")[1]
    # The report's files say which runs are which, and compare the tuned ones as the page does
    results = repo / "benchmark" / "results"
    with open(results / "evaluations.csv") as csv_file:
        finals = [row for row in csv.DictReader(csv_file) if row["kind"] == "final" and row["env_id"] == CARTPOLE]
    assert {(row["algo"], row["settings"]) for row in finals} >= {("reinforce", "tuned"), ("reinforce", "defaults")}
    assert "| CartPole-v1 | reinforce (defaults) | 0 | 500.00 ± 2.00 |" in (results / "table.md").read_text()
    across_json = {row["algo"]: row for row in json.loads((results / "summary_across_envs.json").read_text())}
    assert across_json["reinforce"]["envs"] == ["CartPole-v1", "Pendulum-v1"]
    assert f"{across_json['reinforce']['iqm']:.3f}" in across.split("| reinforce | CartPole-v1, Pendulum-v1 | 10 |")[1]
    assert across_json["reinforce"]["n_runs"] == 10  # the fixture's tuned runs alone


def test_rescore_thresholds_times_and_load() -> None:
    record = make_record("ppo", CARTPOLE, 0, [20.0, 480.0, 500.0, 490.0], 499.0, 475.0, times=[0.0, 1.0, 2.0, 3.0])
    assert rescore(record, 475.0) is record
    rescored = rescore(record, 500.0)
    assert rescored["recorded_threshold"] == 475.0 and record["threshold"] == 475.0  # the record is not changed
    assert (rescored["first_threshold_steps"], rescored["stays_threshold_steps"]) == (2000, None)
    assert rescored["final"]["solved"] is False and record["final"]["solved"] is True
    assert threshold_times(rescored) == (2.0, float("inf"))
    assert threshold_times(dict(record, eval_train_times=None)) == (None, None)  # an older record: unknown
    assert evaluation_train_times(dict(record, eval_train_times=[1.0])) == [None] * 4  # not one per evaluation
    assert report_thresholds([record, dict(record, env_id=TOY), dict(record, env_id="Other-v0", threshold=None)]) == {
        CARTPOLE: 500.0,
        TOY: 475.0,
        "Other-v0": None,
    }
    assert load_flag(dict(record, load_at_start=2.5, load_at_end=2.0)) == "quiet"
    assert load_flag(dict(record, load_at_start=2.6, load_at_end=2.0)) == "loaded"
    assert load_flag(record) == "unknown"


def test_grid_file_keeps_every_command(tmp_path: Path) -> None:
    # A grid.json written before the list existed: its one command is kept first
    (tmp_path / "grid.json").write_text(json.dumps(dict(command="python old", args={})))
    write_grid_file(tmp_path, "python new", dict(envs=[CARTPOLE]))
    write_grid_file(tmp_path, "python old", dict(envs=[CARTPOLE]))  # a command run again is listed once
    grid = json.loads((tmp_path / "grid.json").read_text())
    assert grid["command"] == "python old" and grid["commands"] == ["python old", "python new"]
    assert read_commands(tmp_path) == ["python old", "python new"] and read_commands(tmp_path / "none") == []


def test_records_name_the_physics_engines_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    # A MuJoCo task's numbers differ between MuJoCo releases: a record names the engines' versions, where installed
    installed = {"mujoco": "9.8.7"}

    def version(name: str) -> str:
        if name not in installed:
            raise PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr("importlib.metadata.version", version)
    machine = machine_info()
    assert machine["mujoco"] == "9.8.7" and "box2d" not in machine
    assert machine_summaries([dict(machine=machine)])[0].endswith(", mujoco 9.8.7 (1 runs)")
    # Records written before the engines were recorded read as they did
    del machine["mujoco"]
    assert machine_summaries([dict(machine=machine)])[0].endswith(f"sb3_reinforce {sb3_reinforce.__version__} (1 runs)")


def test_suite_thresholds_and_random_scores() -> None:
    for env_id, env in SUITE.items():
        assert env_threshold(env_id) == env.target
        assert env.normalize(env.random_score) == 0.0 and env.normalize(env.target) == pytest.approx(1.0)
        if env_id in ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"):
            assert gym.spec(env_id).reward_threshold == env.gym_threshold
    # Envs outside the suite keep the gym spec's threshold
    assert env_threshold("Taxi-v4") == gym.spec("Taxi-v4").reward_threshold
    # The random scores written in the suite, measured again on the cheap envs
    for env_id in ("CartPole-v1", "MountainCar-v0", "Pendulum-v1"):
        assert random_policy_score(env_id) == pytest.approx(SUITE[env_id].random_score, abs=0.01)


def test_runs_record_the_training_seconds_at_each_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    # The 1-minute load average, read when the run starts and when it ends
    loads = iter([(0.25, 0.5, 0.5), (1.75, 0.5, 0.5)])
    monkeypatch.setattr("sb3_reinforce.benchmark.executor.os.getloadavg", lambda: next(loads))
    record = run(RunTask("reinforce", CARTPOLE, seed=0, timesteps=600, eval_freq=200, eval_episodes=2, final_episodes=2))
    assert record["status"] == "ok" and record["threshold"] == 500.0  # the suite's target, not the gym's 475
    times = record["eval_train_times"]
    assert len(times) == len(record["evaluations"]) == 4 and "train_time" not in record["evaluations"][0]
    assert times == sorted(times) and times[-1] <= record["train_time"] + 1e-6
    # The evaluation at step 0 comes before any training: its clock is a small fraction of the run's (about 1e-5)
    assert record["evaluations"][0]["timesteps"] == 0 and 0.0 <= times[0] < 0.01 * times[-1]
    assert (record["load_at_start"], record["load_at_end"]) == (0.25, 1.75)
