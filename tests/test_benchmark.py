"""Tests of the benchmark grid (``python -m sb3_reinforce.benchmark``): outputs, resume, failures, arguments."""

from __future__ import annotations

import csv
import importlib.util
import inspect
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecNormalize, sync_envs_normalization

from sb3_reinforce import Reinforce
from sb3_reinforce.benchmark import EVAL_SEED, ZOO_HYPERPARAMS, RunTask, main, parse_overrides, run_grid, steps_to_threshold
from sb3_reinforce.benchmark.driver import add_arguments
from sb3_reinforce.benchmark.executor import run
from sb3_reinforce.benchmark.peers import action_label, env_action_space, run_config, unsupported
from sb3_reinforce.benchmark.plan import (
    _FORMER_DEFAULTS,
    _REINFORCE_DEFAULTS,
    _with_former_defaults,
    config_record,
    is_finished,
    plan,
    reproduce_command,
)
from sb3_reinforce.experiments.config import LinearSchedule, build_kwargs, make_config
from sb3_reinforce.experiments.envs import make_eval_env, make_train_env
from sb3_reinforce.experiments.policy_kwargs import parse_policy_kwargs, policy_kwargs_to_json
from sb3_reinforce.experiments.presets import PRESETS
from sb3_reinforce.wrappers import BernoulliToContinuous, PotentialShaping

CARTPOLE = "CartPole-v1"
MCC = "MountainCarContinuous-v0"
TINY = ["--envs", CARTPOLE, "--timesteps", "300", "--eval-freq", "100", "--eval-episodes", "2", "--final-episodes", "2"]
TINY += ["--workers", "2"]


@pytest.fixture(scope="module")
def shared_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 algorithms x 1 env x 2 seeds grid of 300 steps, run once; tests read it, or change a copy (``tiny_grid``)."""
    out = tmp_path_factory.mktemp("grid")
    assert main(["--algos", "reinforce", "a2c", "--seeds", "2", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def tiny_grid(shared_grid: Path, tmp_path: Path) -> Path:
    """A private copy of the shared grid, for the tests that change it: the tests do not depend on their order."""
    return Path(shutil.copytree(shared_grid, tmp_path / "grid", copy_function=shutil.copy2))


def test_tiny_grid_outputs(shared_grid: Path) -> None:
    tiny_grid = shared_grid
    runs = sorted(path.name for path in (tiny_grid / "runs").glob("*.json"))
    assert runs == [f"{algo}__CartPole-v1__seed{seed}.json" for algo in ("a2c", "reinforce") for seed in (0, 1)]

    with open(tiny_grid / "evaluations.csv") as csv_file:
        rows = list(csv.DictReader(csv_file))
    assert {(row["algo"], row["seed"]) for row in rows} == {(a, s) for a in ("a2c", "reinforce") for s in ("0", "1")}
    periodic = [row for row in rows if row["kind"] == "periodic" and row["algo"] == "reinforce" and row["seed"] == "0"]
    # Step 0, every 100 steps below the budget, and the end of training (recorded with target = budget)
    assert [int(row["target"]) for row in periodic] == [0, 100, 200, 300]
    assert all(int(row["n_episodes"]) == 2 for row in periodic)
    finals = [row for row in rows if row["kind"] == "final"]
    assert len(finals) == 4 and all(int(row["n_episodes"]) == 2 for row in finals)
    assert len(json.loads((tiny_grid / "evaluations.json").read_text())) == len(rows)

    record = json.loads((tiny_grid / "runs" / "reinforce__CartPole-v1__seed0.json").read_text())
    assert record["status"] == "ok" and record["num_timesteps"] >= 300
    assert record["fps"] > 0 and record["train_time"] > 0 and record["wall_time"] >= record["train_time"]
    # The suite's target (sb3_reinforce.benchmark.suite), not the gym spec's 475
    assert record["config"]["actions"] == "discrete" and record["threshold"] == 500.0
    assert len(record["eval_train_times"]) == len(record["evaluations"])

    table = (tiny_grid / "table.md").read_text()
    assert "| CartPole-v1 | reinforce | discrete | 1 | 300 |" in table
    assert "| CartPole-v1 | a2c | discrete | 8 | 300 |" in table
    assert "x a2c" in table  # the speed ratio column
    assert (tiny_grid / "curves_CartPole-v1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tiny_grid / "summary.json").read_text())
    assert [(row["algo"], row["n_ok"]) for row in summary] == [("reinforce", 2), ("a2c", 2)]


def test_report_only(tiny_grid: Path) -> None:
    table = (tiny_grid / "table.md").read_text()
    curves = (tiny_grid / "curves_CartPole-v1.png").read_bytes()
    (tiny_grid / "table.md").unlink()
    (tiny_grid / "curves_CartPole-v1.png").unlink()
    page = tiny_grid / "page" / "BENCHMARKS.md"
    assert main(["--report-only", "--out", str(tiny_grid), "--page", str(page)]) == 0
    assert (tiny_grid / "table.md").read_text() == table  # the command comes back from grid.json
    assert "Command: `python -m sb3_reinforce.benchmark --algos reinforce a2c --envs CartPole-v1 --seeds 2 " in table
    assert (tiny_grid / "curves_CartPole-v1.png").read_bytes() == curves
    # The page, its links relative to its folder
    text = page.read_text()
    assert "--report-only --out ..\n" in text and "](../curves_CartPole-v1.png)" in text


def test_report_only_keeps_a_page_of_other_records(
    tiny_grid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --page, the report on a probe's folder does not replace the page generated from other records."""
    assert tiny_grid == tmp_path / "grid"
    monkeypatch.chdir(tmp_path)
    assert main(["--report-only", "--out", "grid"]) == 0  # no page yet: written
    page = tmp_path / "BENCHMARKS.md"
    assert "Generated from the run records in grid/runs/ by:" in page.read_text()
    assert main(["--report-only", "--out", "grid"]) == 0  # the same records: rebuilt
    shutil.copytree(tiny_grid, tmp_path / "probe")
    before = page.read_bytes()
    capsys.readouterr()
    assert main(["--report-only", "--out", "probe"]) == 2
    error = capsys.readouterr().err
    assert "BENCHMARKS.md holds the report on the records in grid/runs/, not on probe: pass --out grid" in error
    assert "--page PATH" in error
    assert page.read_bytes() == before
    # A hand-written page of that name is not replaced either; --page names the page to write
    page.write_text("# My notes\n")
    assert main(["--report-only", "--out", "grid"]) == 2
    assert "BENCHMARKS.md is not a generated page" in capsys.readouterr().err
    # A folder without records: nothing to report on (it wrote an empty report)
    assert main(["--report-only", "--out", "nothing", "--page", "elsewhere.md"]) == 2
    assert "no run records in nothing/runs/" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.md").exists() and not (tmp_path / "nothing").exists()
    assert main(["--report-only", "--out", "probe", "--page", "BENCHMARKS.md"]) == 0
    assert "Generated from the run records in probe/runs/ by:" in page.read_text()


def test_rerun_skips_finished_runs_and_reports_failures(tiny_grid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {path.name: path.stat().st_mtime_ns for path in (tiny_grid / "runs").glob("*.json")}
    capsys.readouterr()
    # The same grid, plus a PPO run with an invalid hyperparameter (the test hook: --hyperparams)
    argv = ["--algos", "reinforce", "a2c", "ppo", *TINY, "--out", str(tiny_grid)]
    assert main([*argv, "--hyperparams", "ppo:n_steps=-5", "--seeds", "0", "1"]) == 1
    captured = capsys.readouterr()
    output = captured.out + captured.err  # results on stdout, the progress lines on stderr
    command = json.loads((tiny_grid / "grid.json").read_text())["command"]
    assert shlex.split(command)[-2:] == ["--hyperparams", "ppo:n_steps=-5"]
    assert "6 runs: 4 already finished (skipped), 2 to run" in output
    assert "failed, " in output and "ppo CartPole-v1 seed 0: FAILED" in captured.err
    after = {path.name: path.stat().st_mtime_ns for path in (tiny_grid / "runs").glob("*.json")}
    assert all(after[name] == mtime for name, mtime in before.items())

    record = json.loads((tiny_grid / "runs" / "ppo__CartPole-v1__seed1.json").read_text())
    assert record["status"] == "failed" and "n_steps" in record["traceback"]
    assert record["config"]["hyperparams"]["n_steps"] == -5
    table = (tiny_grid / "table.md").read_text()
    assert "| CartPole-v1 | ppo | discrete | 8 | 300 | 0/2 |" in table and "2 failed (seed 0: " in table
    assert "| CartPole-v1 | reinforce | discrete | 1 | 300 | " in table  # the finished runs are still reported

    # --force runs a finished run again
    assert main(["--algos", "a2c", *TINY, "--seeds", "0", "0", "--out", str(tiny_grid), "--force"]) == 0
    assert "1 runs: 0 already finished (skipped), 1 to run" in capsys.readouterr().out
    assert (tiny_grid / "runs" / "a2c__CartPole-v1__seed0.json").stat().st_mtime_ns > before["a2c__CartPole-v1__seed0.json"]


def test_rerun_trains_again_a_run_whose_settings_changed(tiny_grid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A record written before a preset (or zoo setting) changed: same task, other hyperparameters
    path = tiny_grid / "runs" / "reinforce__CartPole-v1__seed0.json"
    record = json.loads(path.read_text())
    record["config"]["hyperparams"]["learning_rate"] = 0.123
    path.write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["--algos", "reinforce", *TINY, "--seeds", "0", "1", "--out", str(tiny_grid)]) == 0
    assert "2 runs: 1 already finished (skipped), 1 to run" in capsys.readouterr().out
    assert json.loads(path.read_text())["config"]["hyperparams"] == PRESETS["cartpole"].hyperparams


def test_not_applicable_row(tmp_path: Path) -> None:
    assert main(["--algos", "sac", "--envs", CARTPOLE, "--seeds", "1", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "runs" / "sac__CartPole-v1__na.json").read_text())
    assert record["status"] == "n/a" and "Box" in record["error"]
    assert "| CartPole-v1 | sac | discrete | 1 | 100k | — |" in (tmp_path / "table.md").read_text()
    assert "n/a: SAC needs a Box action space" in (tmp_path / "table.md").read_text()


def test_unknown_env_or_algo_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--envs", "CartPol-v1", "--out", str(tmp_path)]) == 2
    assert "unknown env id(s): CartPol-v1 (did you mean CartPole-v1?)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--algos", "dqn", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "invalid choice: 'dqn'" in capsys.readouterr().err
    assert main(["--hyperparams", "ppo-learning_rate=1", "--out", str(tmp_path)]) == 2
    assert "Invalid --hyperparams item 'ppo-learning_rate=1': expected ALGO:KEY=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_module_entry_point_exit_code_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sb3_reinforce.benchmark", "--envs", "NoSuchEnv-v0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "unknown env id(s): NoSuchEnv-v0" in result.stderr


@pytest.mark.parametrize(
    "rewards, expected",
    [
        ([0.0, 95.0, 80.0, 91.0], (10, 30)),
        ([0.0, 95.0, 91.0, 90.0], (10, 10)),
        ([0.0, 10.0, 20.0, 30.0], (None, None)),
        ([95.0, 80.0, 85.0, 89.9], (0, None)),
    ],
)
def test_steps_to_threshold(rewards: list[float], expected: tuple[int | None, int | None]) -> None:
    assert steps_to_threshold([0, 10, 20, 30], rewards, 90.0) == expected
    assert steps_to_threshold([0, 10, 20, 30], rewards, None) == (None, None)


def test_algo_configs() -> None:
    box, discrete = gym.spaces.Box(-1.0, 1.0, (1,)), gym.spaces.Discrete(2)
    # REINFORCE: each env's entry of reinforce.yml, the recipe the command line trains
    for env_id in (MCC, CARTPOLE, "Acrobot-v1"):
        reinforce = run_config("reinforce", env_id)
        entry = PRESETS[env_id]
        assert (reinforce.env_setup, reinforce.hyperparams, reinforce.timesteps) == (
            entry.setup,
            entry.hyperparams,
            entry.timesteps,
        )
        assert reinforce.preset == env_id
    assert action_label(run_config("reinforce", MCC), box) == "continuous"
    # The Bernoulli recipe's label, for a run that asks for it
    assert action_label(make_config("solved"), box) == "bernoulli ±1"
    # Envs without an entry: the defaults
    reinforce_taxi = run_config("reinforce", "Taxi-v4")
    assert reinforce_taxi.hyperparams == {} and reinforce_taxi.preset is None

    ppo_mcc = run_config("ppo", MCC)
    assert action_label(ppo_mcc, box) == "continuous" and ppo_mcc.timesteps == 20_000 and ppo_mcc.n_envs == 1
    # The zoo's normalize: true: observations and rewards, with the algorithm's gamma
    ppo_env = make_train_env(ppo_mcc.env_setup, gamma=ppo_mcc.gamma)
    assert isinstance(ppo_env, VecNormalize) and ppo_env.norm_obs and ppo_env.norm_reward and ppo_env.gamma == 0.9999
    assert run_config("sac", MCC).timesteps == 50_000
    assert run_config("a2c", CARTPOLE).timesteps == 500_000  # the zoo's budget (capped at 1M)
    a2c_mcc = run_config("a2c", MCC)
    assert a2c_mcc.env_setup.normalize_obs and a2c_mcc.env_setup.normalize_reward and a2c_mcc.gamma == 0.99
    assert unsupported("sac", discrete) is not None and unsupported("sac", box) is None
    ppo_acrobot = run_config("ppo", "Acrobot-v1", timesteps=123)
    assert ppo_acrobot.hyperparams["n_steps"] == 256 and ppo_acrobot.n_envs == 16 and ppo_acrobot.timesteps == 123
    # The zoo's -v4 entries serve the suite's MuJoCo -v5 tasks, with the classes of policy_kwargs by name
    ppo_hopper = run_config("ppo", "Hopper-v5")
    assert "Hopper-v4's entry" in ppo_hopper.source and ppo_hopper.hyperparams["policy_kwargs"]["activation_fn"] == "nn.ReLU"
    # No zoo entry: SB3's defaults, for the default budget
    assert run_config("ppo", "Taxi-v4").hyperparams == {} and run_config("ppo", "Taxi-v4").source.startswith("SB3")


def test_defaults_records_name_every_parameter_that_shapes_training() -> None:
    """
    A record of Reinforce's defaults keeps the defaults that shape training, so that a record made with other
    defaults is run again: a new constructor parameter must join that list, or this one, which says why it need not.
    """
    not_recorded = {
        *("policy", "env", "policy_kwargs", "device", "verbose", "tensorboard_log", "seed", "stats_window_size"),
        "_init_setup_model",
        # Unused with the default value baseline (the group and moving-average baselines' settings), or only a guard
        *("group_size", "baseline_decay", "max_episode_steps"),
    }
    parameters = set(inspect.signature(Reinforce).parameters)
    assert parameters == set(_REINFORCE_DEFAULTS) | not_recorded, parameters ^ (set(_REINFORCE_DEFAULTS) | not_recorded)
    # The records keep gae_lambda=None, which the value baseline resolves: if its default changed, records made with the
    # old one would still read as finished (make config_record keep the resolved value, and run them again)
    model = Reinforce("MlpPolicy", "CartPole-v1", device="cpu")
    assert inspect.signature(Reinforce).parameters["gae_lambda"].default is None
    assert model.baseline_estimator.gae_lambda == 0.95  # type: ignore[attr-defined]


def test_every_preset_names_the_defaults_that_changed() -> None:
    """
    Presets and entries name each Reinforce default that a release changed: they train as they did, and a record of
    an earlier release whose settings do not name it is known to have run with the value before (is_finished).
    """
    for name in PRESETS:
        assert set(_FORMER_DEFAULTS) <= set(make_config(name).hyperparams), name


def test_a_record_of_an_earlier_release_ran_with_the_defaults_of_then(tmp_path: Path) -> None:
    task = RunTask("reinforce", CARTPOLE, 1000)
    named = config_record(task.config(), env_action_space(CARTPOLE))["hyperparams"]
    assert named["ent_coef"] == 0.0 and named["normalize_observations"] is False  # the entry names them
    path = tmp_path / "record.json"

    def without(*keys: str) -> dict[str, Any]:
        return {key: value for key, value in named.items() if key not in keys}

    def finished(version: str, hyperparams: dict[str, Any], settings_task: RunTask = task) -> bool:
        record = dict(status="ok", algo="reinforce", task=settings_task.to_dict(), machine={"sb3_reinforce": version})
        record["config"] = dict(config_record(settings_task.config(), env_action_space(CARTPOLE), settings_task.settings))
        record["config"]["hyperparams"] = hyperparams
        path.write_text(json.dumps(record))
        return is_finished(settings_task, path)

    # 0.1.0: no entropy bonus, no normalizer by default; 0.2.0: a bonus that fades, no normalizer; 0.3.0: neither
    assert finished("0.1.0", without("ent_coef", "normalize_observations"))
    assert finished("0.2.0", without("normalize_observations"))
    assert not finished("0.2.0", without("ent_coef"))  # made with the bonus that fades
    assert finished("0.3.0", named)
    assert not finished("0.3.0", without("normalize_observations"))  # made with the normalizer of "auto"
    assert not finished("0.1.0", {**named, "ent_coef": 0.01})
    # A run of an earlier release's defaults is not a run of today's
    defaults = RunTask("reinforce", CARTPOLE, 1000, settings="defaults")
    assert finished("0.3.0", {}, defaults)
    assert not finished("0.2.0", {}, defaults) and not finished("0.1.0", {}, defaults)


def test_a_defaults_record_from_before_a_parameter_was_added_ran_without_it(tmp_path: Path) -> None:
    """A parameter added since (normalize_observations) is read as the value that does what the code did before it."""
    task = RunTask("reinforce", CARTPOLE, 1000, settings="defaults")
    path = tmp_path / "record.json"

    def record(defaults: dict[str, Any]) -> dict[str, Any]:
        config = {**config_record(task.config(), env_action_space(CARTPOLE), "defaults"), "defaults": defaults}
        return dict(status="ok", algo="reinforce", task=task.to_dict(), machine={"sb3_reinforce": "0.3.0"}, config=config)

    def finished(defaults: dict[str, Any]) -> bool:
        path.write_text(json.dumps(record(defaults)))
        return is_finished(task, path)

    today = config_record(task.config(), env_action_space(CARTPOLE), "defaults")["defaults"]
    assert today["normalize_observations"] == "auto"
    assert finished(today)
    unnamed = {key: value for key, value in today.items() if key != "normalize_observations"}
    assert _with_former_defaults(record(unnamed))["defaults"] == {**today, "normalize_observations": False}
    assert not finished(unnamed)  # it ran without the normalizer: not today's defaults
    assert not finished({**today, "normalize_observations": True})


def test_defaults_settings(tmp_path: Path) -> None:
    """settings="defaults": the constructor's defaults on the plain env, for the suite's budget, under its own key."""
    for algo in ("reinforce", "ppo", "a2c"):
        config = run_config(algo, "Acrobot-v1", settings="defaults")
        assert config.hyperparams == {} and config.n_envs == 1 and config.timesteps == 500_000
        assert not config.env_setup.normalize_obs and "defaults" in config.source
    assert run_config("reinforce", "Taxi-v4", settings="defaults").timesteps == 100_000  # outside the suite
    task = RunTask("ppo", "Acrobot-v1", 1000, settings="defaults")
    assert task.key == "ppo-defaults__Acrobot-v1__seed1000" and RunTask("ppo", "Acrobot-v1", 1000).key != task.key
    with pytest.raises(ValueError, match="'best'"):
        run_config("ppo", "Acrobot-v1", settings="best")
    # Without --eval-freq, 20 evaluations per run whatever its budget
    tasks, _ = plan(["ppo", "sac"], ["Pendulum-v1"], [1000, 1001], {})
    assert {(t.algo, t.eval_freq) for t in tasks} == {("ppo", 5_000), ("sac", 1_000)}
    tasks, _ = plan(["reinforce"], ["Acrobot-v1"], [7, 7], {}, settings="defaults", eval_freq=123)
    assert [(t.key, t.eval_freq) for t in tasks] == [("reinforce-defaults__Acrobot-v1__seed7", 123)]
    # A record of Reinforce's defaults keeps what they were: made with other defaults, it is run again
    [task] = tasks
    config = config_record(task.config(), env_action_space("Acrobot-v1"), "defaults")
    assert config["defaults"]["n_epochs"] == inspect.signature(Reinforce).parameters["n_epochs"].default
    assert config["defaults"]["normalize_observations"] == "auto"
    with pytest.MonkeyPatch.context() as patch:  # a default schedule, as 0.2.0's entropy bonus, in the CLI's notation
        defaults = {"ent_coef": LinearSchedule(0.03), "gamma": 0.99}
        patch.setattr("sb3_reinforce.benchmark.plan.constructor_defaults", lambda algo: defaults)
        scheduled = config_record(task.config(), env_action_space("Acrobot-v1"), "defaults")["defaults"]
        assert scheduled == {"ent_coef": "lin_0.03", "gamma": 0.99}
    assert "defaults" not in config_record(RunTask("ppo", "Acrobot-v1", 7, settings="defaults").config(), None, "defaults")
    path = tmp_path / "record.json"
    record = dict(status="ok", task=task.to_dict(), config=config)
    path.write_text(json.dumps(record))
    assert is_finished(task, path)
    record["config"] = dict(config, defaults=dict(config["defaults"], n_epochs=1))
    path.write_text(json.dumps(record))
    assert not is_finished(task, path)

    kwargs = build_kwargs(run_config("ppo", CARTPOLE).hyperparams)
    assert isinstance(kwargs["learning_rate"], LinearSchedule) and kwargs["learning_rate"](0.25) == pytest.approx(0.00025)
    assert parse_overrides(["a2c:policy_kwargs=dict(net_arch=[8], ortho_init=False)", "a2c:ent_coef=0.01"]) == {
        "a2c": {"policy_kwargs": {"net_arch": [8], "ortho_init": False}, "ent_coef": 0.01}
    }


def test_normalize_override_replaces_the_env_setup_not_a_hyperparameter() -> None:
    """``ALGO:normalize=...`` is the zoo's env option: VecNormalize's switches, never a constructor argument."""
    overrides = parse_overrides(["reinforce:normalize=dict(norm_obs=True, norm_reward=True)", "reinforce:gae_lambda=1.0"])
    config = RunTask("reinforce", "Pendulum-v1", 0, overrides=overrides["reinforce"]).config()
    assert (config.env_setup.normalize_obs, config.env_setup.normalize_reward) == (True, True)
    assert "normalize" not in config.hyperparams and config.hyperparams["gae_lambda"] == 1.0
    # The entry's own setup is untouched (Pendulum-v1 normalizes observations only)
    plain = RunTask("reinforce", "Pendulum-v1", 0).config()
    assert (plain.env_setup.normalize_obs, plain.env_setup.normalize_reward) == (True, False)
    config = RunTask("ppo", "CartPole-v1", 0, overrides=parse_overrides(["ppo:normalize=false"])["ppo"]).config()
    assert not config.env_setup.normalized
    with pytest.raises(ValueError, match=r"normalize must be a bool or dict.*got 3"):
        RunTask("reinforce", "Pendulum-v1", 0, overrides={"normalize": 3}).config()


def test_eval_env_true_reward_and_frozen_normalization() -> None:
    config = make_config("solved")  # the Bernoulli recipe: a wrapped action interface and a shorter training limit
    train_env = make_train_env(config.env_setup, n_envs=config.n_envs, seed=0, gamma=config.gamma)
    eval_env = make_eval_env(config.env_setup, gamma=config.gamma, n_envs=2, seed=EVAL_SEED)
    assert isinstance(train_env, VecNormalize) and isinstance(eval_env, VecNormalize)
    assert not eval_env.training and not eval_env.norm_reward and not train_env.norm_reward
    train_inner, eval_inner = train_env.venv.envs[0], eval_env.venv.envs[0]  # type: ignore[attr-defined]
    # Same action interface; shaping and the 200-step limit only in training
    assert isinstance(eval_inner, BernoulliToContinuous) and isinstance(train_inner.env, BernoulliToContinuous)
    assert isinstance(train_inner, PotentialShaping)
    assert train_inner.spec is not None and eval_inner.spec is not None
    assert train_inner.spec.max_episode_steps == 200 and eval_inner.spec.max_episode_steps == 999
    train_env.reset()
    for _ in range(20):
        train_env.step(np.ones((1, 1), dtype=np.int8))
    sync_envs_normalization(train_env, eval_env)
    eval_rms, train_rms = eval_env.obs_rms, train_env.obs_rms
    assert isinstance(eval_rms, RunningMeanStd) and isinstance(train_rms, RunningMeanStd)
    np.testing.assert_allclose(eval_rms.mean, train_rms.mean)
    assert eval_rms is not train_rms and train_rms.count > 1


def test_zoo_table_matches_installed_rl_zoo3() -> None:
    spec = importlib.util.find_spec("rl_zoo3")
    if spec is None or spec.origin is None:
        pytest.skip('needs rl_zoo3: pip install "sb3-reinforce[zoo]"')
    import yaml

    folder = Path(spec.origin).parent / "hyperparams"
    for (algo, env_id), ours in ZOO_HYPERPARAMS.items():
        theirs = yaml.safe_load((folder / f"{algo}.yml").read_text())[env_id]
        if isinstance(theirs.get("policy_kwargs"), str):  # classes by name, as the table keeps them
            theirs["policy_kwargs"] = policy_kwargs_to_json(parse_policy_kwargs(theirs["policy_kwargs"]))
        assert ours == theirs, (algo, env_id)


def test_run_task_key_is_file_safe() -> None:
    assert RunTask("ppo", "ALE/Pong-v5", 3).key == "ppo__ALE_Pong-v5__seed3"


def test_reproduce_command_is_shell_quoted() -> None:
    items = ["a2c:policy_kwargs=dict(net_arch=[8])", "ppo:learning_rate=lin_0.001"]
    command = reproduce_command(["a2c", "ppo"], [CARTPOLE], [2], None, 1, "out dir", 100, 2, 2, items)
    assert "'a2c:policy_kwargs=dict(net_arch=[8])'" in command
    argv = shlex.split(command)
    assert argv[:3] == ["python", "-m", "sb3_reinforce.benchmark"]
    assert argv[argv.index("--out") + 1] == "out dir" and argv[-2:] == items


class InProcessExecutor:
    """Runs the tasks one after the other in this process, recording what was printed before the first run."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.before_training = ""

    def map(self, tasks: Any) -> Any:
        self.before_training = self.capsys.readouterr().err
        for task in tasks:
            yield task, run(task)


def test_missing_matplotlib_is_reported_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--algos", "reinforce", "--seeds", "1", *TINY, "--out", str(tmp_path)])
    executor = InProcessExecutor(capsys)
    assert run_grid(args, executor=executor) == 0
    assert "matplotlib is not installed (pip install matplotlib)" in executor.before_training
    assert (tmp_path / "table.md").exists() and not list(tmp_path.glob("*.png"))


def test_executor_run_returns_a_record_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    task = RunTask("reinforce", CARTPOLE, seed=0, timesteps=200, eval_freq=100, eval_episodes=2, final_episodes=2)
    record = run(task)
    assert list(tmp_path.iterdir()) == []
    assert record["status"] == "ok" and record["task"] == task.to_dict() and record["key"] == task.key
    assert [point["target"] for point in record["evaluations"]] == [0, 100, 200]
    assert record["final"]["n_episodes"] == 2 and record["fps"] > 0 and record["machine"]["cpu_count"]
    failed = run(RunTask("ppo", CARTPOLE, seed=0, timesteps=100, overrides={"n_steps": -5}))
    assert failed["status"] == "failed" and "n_steps" in failed["error"]


class InterruptedExecutor:
    """Returns one run, then Ctrl-C arrives (as it would in the driver's loop over any executor)."""

    slots = 2

    def map(self, tasks: Any) -> Any:
        yield tasks[0], run(tasks[0])
        raise KeyboardInterrupt


def test_ctrl_c_keeps_finished_runs_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--algos", "reinforce", "--seeds", "2", *TINY, "--out", str(tmp_path)])
    assert run_grid(args, executor=InterruptedExecutor()) == 130
    err = capsys.readouterr().err
    assert "[1/2 done, 0 failed, 1 running" in err and "Interrupted: 1 finished runs kept" in err
    [kept] = list((tmp_path / "runs").glob("*.json"))
    assert json.loads(kept.read_text())["status"] == "ok"
    assert "| CartPole-v1 | reinforce | discrete | 1 | 300 | " in (tmp_path / "table.md").read_text()
    assert main(["--algos", "reinforce", "--seeds", "2", *TINY, "--out", str(tmp_path)]) == 0
    assert "2 runs: 1 already finished (skipped), 1 to run" in capsys.readouterr().out
