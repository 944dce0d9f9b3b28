"""Smoke tests of the command-line interface (``python -m sb3_reinforce``), on tiny budgets."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sb3_reinforce import cli
from sb3_reinforce.experiments import config as run_config
from sb3_reinforce.experiments import run
from sb3_reinforce.experiments.callbacks import ShapedReturnLogger
from sb3_reinforce.experiments.envs import EnvSetup
from sb3_reinforce.experiments.mountain_car import MOUNTAIN_CAR
from sb3_reinforce.experiments.presets import PRESETS

CLI = [sys.executable, "-m", "sb3_reinforce"]
# A tiny REINFORCE run: 2 episodes of at most 200 steps per update
# (evaluations use the env's own 999-step limit: keep their episodes few)
TINY = ["--timesteps", "300", "--eval-episodes", "1", "--no-progress-bar", "--hp", "n_episodes=2"]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m sb3_reinforce ARGS``, run in this process (one import of torch for the whole file)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        returncode = cli.main(list(args))
    result = subprocess.CompletedProcess([*CLI, *args], returncode, stdout.getvalue(), stderr.getvalue())
    if check:
        result.check_returncode()
    return result


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained with the default preset, as a user would."""
    tmp_path = tmp_path_factory.mktemp("model")
    path = tmp_path / "mcc"
    result = run_cli("train", "--seed", "1", "--save-path", str(path), "--tensorboard-log", str(tmp_path / "tb"), *TINY)
    assert "Evaluation: MountainCarContinuous-v0: true reward" in result.stdout
    return path


def test_train_saves_model_config_and_normalization(model_path: Path) -> None:
    for suffix in (".zip", ".json", "_vecnormalize.pkl"):
        assert (model_path.parent / (model_path.name + suffix)).is_file()
    config = json.loads(model_path.with_suffix(".json").read_text())
    assert config["env_id"] == "MountainCarContinuous-v0"
    assert config["algo"] == "reinforce"
    assert config["preset"] == "solved"
    assert config["env_setup"]["actions"] == "bernoulli"
    assert config["env_setup"]["shaping"] == "energy"
    assert config["gamma"] == 0.99
    assert config["hyperparams"]["n_episodes"] == 2  # --hp overrides the preset
    assert config["hyperparams"]["baseline"] == "value"  # the rest of the preset is kept
    assert config["seed"] == 1 and config["timesteps"] == 300
    assert config["sb3_reinforce_version"]
    assert config["command"].startswith("sb3-reinforce train")
    assert config["vecnormalize"] == "mcc_vecnormalize.pkl"
    # TensorBoard: true and shaped returns
    assert list((model_path.parent / "tb").glob("Reinforce_solved_seed1_1/events.out.tfevents.*"))


def test_evaluate_json(model_path: Path) -> None:
    result = run_cli("evaluate", "--model", str(model_path), "--episodes", "1", "--json")
    data = json.loads(result.stdout)  # stdout is the JSON alone: `evaluate --json | jq` works
    assert "true reward" in result.stderr  # the human summary
    assert set(data) == {"mean_reward", "std_reward", "n_episodes", "env_id"}
    assert data["n_episodes"] == 1 and data["env_id"] == "MountainCarContinuous-v0"
    assert isinstance(data["mean_reward"], float) and isinstance(data["std_reward"], float)
    # The default evaluation seed is the one of train's final evaluation: the same numbers
    final = json.loads(model_path.with_suffix(".json").read_text())["final_evaluation"]
    assert data["mean_reward"] == pytest.approx(final["mean_reward"])
    # The path with .zip works too
    assert run.evaluate(f"{model_path}.zip", n_episodes=1).mean_reward == pytest.approx(data["mean_reward"])


def test_enjoy(model_path: Path) -> None:
    result = run_cli("enjoy", "--model", str(model_path), "--episodes", "1")
    assert "Mean true return over 1 episodes" in result.stdout
    assert "Episode 1: true return" in result.stdout


def test_record_gif(model_path: Path, tmp_path: Path) -> None:
    import imageio.v3 as iio

    output, snapshot = tmp_path / "car.gif", tmp_path / "frame.png"
    run_cli("record", "--model", str(model_path), "--output", str(output), "--max-frames", "4", "--snapshot", str(snapshot))
    assert output.read_bytes()[:4] == b"GIF8"
    frames = iio.imread(output)
    assert frames.ndim == 4 and 2 <= frames.shape[0] <= 4
    assert frames.shape[1:3] == (400, 600)  # MountainCar renders 600x400
    assert frames.std() > 0  # not a blank image
    assert iio.imread(snapshot).shape[:2] == (400, 600)


def test_record_mp4(model_path: Path, tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v3 as iio

    output = tmp_path / "car.mp4"
    assert (
        cli.main(["record", "--model", str(model_path), "--output", str(output), "--max-frames", "4", "--scale", "0.5"]) == 0
    )
    frames = iio.imread(output)
    assert frames.shape[1:3] == (200, 300)


@pytest.mark.parametrize(
    "args",
    [
        ["--algo", "ppo", "--hp", "n_steps=64", "--hp", "batch_size=32"],
        ["--algo", "a2c", "--no-normalize-obs"],
        ["--algo", "sac", "--actions", "continuous", "--shaping", "none", "--hp", "learning_starts=1000"],
        ["--env", "CartPole-v1", "--hp", "policy_kwargs={'net_arch': [8], 'activation_fn': 'Tanh'}"],
        ["--env", "CartPole-v1", "--hp", "policy_kwargs=dict(net_arch=[8], activation_fn=nn.ReLU, ortho_init=False)"],
        ["--preset", "notebook", "--hp", "n_episodes=1"],
    ],
)
def test_train_variants(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model"
    assert (
        cli.main(["train", "--timesteps", "100", "--eval-episodes", "0", "--no-progress-bar", "--save-path", str(path), *args])
        == 0
    )
    assert "Saved" in capsys.readouterr().out
    # The saved files rebuild the evaluation env with the training interface
    loaded = run.load_run(path)
    env = loaded.make_env()
    assert env.action_space == loaded.model.action_space
    action, _ = loaded.model.predict(env.reset(), deterministic=True)  # type: ignore[arg-type]
    env.step(action)


def test_make_config() -> None:
    notebook = run_config.make_config(preset="notebook")
    assert notebook.env_setup == PRESETS["notebook"].setup and notebook.timesteps == 200_000
    assert notebook.hyperparams["gamma"] == 0.95 and notebook.gamma == 0.95

    # Another env: its entry of reinforce.yml, overridden
    cartpole = run_config.make_config(env_id="CartPole-v1", hyperparams={"learning_rate": 3e-3})
    assert cartpole.preset == "CartPole-v1" and cartpole.hyperparams["learning_rate"] == 3e-3
    assert cartpole.hyperparams == {**PRESETS["CartPole-v1"].hyperparams, "learning_rate": 3e-3}
    # An env without an entry: a plain setup with the algorithm's defaults
    plain_env = run_config.make_config(env_id="MountainCarContinuous-v0", preset="none", hyperparams={"learning_rate": 3e-3})
    assert plain_env.preset is None and plain_env.hyperparams == {"learning_rate": 3e-3}
    assert plain_env.env_setup.actions == "continuous" and plain_env.env_setup.shaping == "none"
    assert not plain_env.env_setup.normalize_obs and plain_env.env_setup.max_episode_steps is None

    # Another algorithm: the preset's env setup, SB3's default hyperparameters
    ppo = run_config.make_config(algo="ppo", timesteps=5, max_episode_steps=300, normalize_obs=False)
    assert ppo.hyperparams == {} and ppo.env_setup.shaping == "energy" and ppo.env_setup.actions == "bernoulli"
    assert ppo.timesteps == 5 and ppo.env_setup.max_episode_steps == 300 and not ppo.env_setup.normalize_obs

    continuous = run_config.make_config(preset="notebook", actions="continuous")
    assert continuous.env_setup.action_low is None and continuous.env_setup.action_high is None

    assert run_config.RunConfig.from_dict(json.loads(json.dumps(notebook.to_dict()))) == notebook


def test_presets_are_chosen_explicitly() -> None:
    """``--env E`` alone trains E's entry of reinforce.yml; ``--preset none``, or an env without one, plain defaults."""
    assert run_config.make_config().preset == "solved"  # neither --preset nor --env: the documented default
    assert run_config.make_config(env_id=MOUNTAIN_CAR).preset == MOUNTAIN_CAR
    assert run_config.make_config(env_id="Taxi-v4").preset is None
    for config in (run_config.make_config(env_id=MOUNTAIN_CAR, preset="none"), run_config.make_config(preset="none")):
        assert config.env_id == MOUNTAIN_CAR and config.preset is None and config.hyperparams == {}
        assert config.env_setup == EnvSetup(MOUNTAIN_CAR)  # Box actions, its own reward and time limit
        assert config.timesteps == run_config.DEFAULT_TIMESTEPS
    assert run_config.make_config(preset="none", env_id="CartPole-v1").env_setup == EnvSetup("CartPole-v1")
    assert run_config.make_config(preset="solved", env_id=MOUNTAIN_CAR).preset == "solved"
    # What train prints before training: the recipe, the env as the agent sees it, the hyperparameters
    plain = run_config.describe_run(run_config.make_config(env_id=MOUNTAIN_CAR, preset="none"))
    assert plain == [
        f"Training reinforce on {MOUNTAIN_CAR} for 100000 steps, seed 0 (no preset: Reinforce's defaults)",
        "Env: Box(-1.0, 1.0, (1,), float32) actions, the env's own reward, its own time limit",
        "Hyperparameters: Reinforce's defaults",
    ]
    solved = run_config.describe_run(run_config.make_config(hyperparams={"use_sde": False}))
    assert solved[0].endswith("(preset solved; --preset none for Reinforce's defaults)")
    assert solved[1].startswith("Env: Bernoulli actions (MultiBinary(1): bit 0 plays -1, bit 1 plays 1)")
    assert solved[2].startswith("Hyperparameters: learning_rate=lin_0.01, n_episodes=5,") and "use_sde=false" in solved[2]


def test_action_space_is_described_as_it_is() -> None:
    """Issue 18: Acrobot-v1's Discrete actions are not called "continuous"."""
    [_, env_line, _] = run_config.describe_run(run_config.make_config(env_id="Acrobot-v1"))
    assert env_line.startswith("Env: Discrete(3) actions, the env's own reward, its own time limit")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("learning_rate=3e-3", ("learning_rate", 3e-3)),
        ("n_episodes=5", ("n_episodes", 5)),
        ("normalize_returns=False", ("normalize_returns", False)),
        ("baseline=value", ("baseline", "value")),
        ("baseline=none", ("baseline", "none")),  # a string: YAML's null is `null` or `~`
        ("policy_kwargs={'net_arch': [64, 64]}", ("policy_kwargs", {"net_arch": [64, 64]})),
        ("policy_kwargs=notebook", ("policy_kwargs", "notebook")),
        # The RL Zoo's notation, as the benchmark's --hyperparams reads it: one parser for both; classes by name
        (
            "policy_kwargs=dict(net_arch=[8], activation_fn='Tanh')",
            ("policy_kwargs", {"net_arch": [8], "activation_fn": "nn.Tanh"}),
        ),
        (
            "policy_kwargs=dict(net_arch=[64, 64], activation_fn=nn.ReLU, ortho_init=False)",
            ("policy_kwargs", {"net_arch": [64, 64], "activation_fn": "nn.ReLU", "ortho_init": False}),
        ),
        ("learning_rate=lin_0.001", ("learning_rate", "lin_0.001")),
        # Booleans as the RL Zoo's YAML (1.1) reads them
        *[(f"use_sde={word}", ("use_sde", True)) for word in ("true", "True", "TRUE", "yes", "Yes", "on", "ON")],
        *[(f"use_sde={word}", ("use_sde", False)) for word in ("false", "False", "FALSE", "no", "No", "off", "OFF")],
        ("batch_size=null", ("batch_size", None)),
    ],
)
def test_parse_hyperparameter(text: str, expected: tuple[str, Any]) -> None:
    assert run_config.parse_hyperparameter(text) == expected


def test_hp_false_trains_without_gsde(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--hp use_sde=false`` on the gSDE preset trains without gSDE, and the run's JSON stores a JSON false."""
    path = tmp_path / "no_gsde"
    argv = ["train", "--preset", "solved-gsde", "--hp", "use_sde=false", "--hp", "n_episodes=1", "--timesteps", "10"]
    assert cli.main([*argv, "--eval-episodes", "0", "--no-progress-bar", "--save-path", str(path)]) == 0
    assert "use_sde=false" in capsys.readouterr().out
    assert json.loads(path.with_suffix(".json").read_text())["hyperparams"]["use_sde"] is False
    assert run.load_run(path).model.use_sde is False


BAD_TRAIN_ARGS = {
    "env": (["--env", "NoSuchEnv-v0"], "NoSuchEnv-v0"),
    "preset": (["--preset", "nope"], "invalid choice: 'nope'"),
    "algo": (["--algo", "dqn"], "invalid choice: 'dqn'"),
    "hp_name": (["--hp", "n_epsiodes=3"], "unknown hyperparameter 'n_epsiodes'"),
    "hp_policy_argument": (
        ["--hp", "optimizer_class='RMSprop'"],
        """unknown hyperparameter 'optimizer_class' for Reinforce (optimizer_class is an argument of the policy: """
        """--hp "policy_kwargs=dict(optimizer_class=...)")""",
    ),
    "hp_reserved": (["--hp", "seed=3"], "--seed"),
    "hp_format": (["--hp", "n_episodes"], "expected key=value, got 'n_episodes'"),
    "hp_value": (["--hp", "n_episodes=-1"], "n_episodes must be >= 1, got -1"),
    "hp_gamma": (["--hp", "gamma=abc"], "hyperparameter gamma must be a number, got 'abc'"),
    "hp_policy_kwargs": (["--hp", "policy_kwargs=[8]"], "policy_kwargs must be a dict"),
    "hp_policy_kwargs_part": (
        ["--hp", "policy_kwargs=dict(net_arch=[8], activation_fn=nn.Relu)"],
        "activation_fn=nn.Relu: torch.nn has no class 'Relu' (did you mean 'ReLU'?)",
    ),
    "hp_bool": (["--hp", "use_sde=maybe"], "hyperparameter use_sde must be a boolean (true or false), got 'maybe'"),
    "hp_bool_number": (["--hp", "normalize_returns=1"], "hyperparameter normalize_returns must be a boolean"),
    "env_typo": (["--env", "CartPol-v1"], "error: unknown env 'CartPol-v1'; did you mean 'CartPole-v1'?"),
    "sac_bernoulli": (["--algo", "sac"], "--actions continuous"),
    "preset_other_env": (["--preset", "notebook", "--env", "CartPole-v1"], "--preset none"),
    "bernoulli_discrete": (["--env", "CartPole-v1", "--actions", "bernoulli"], "requires a Box action space"),
    "sac_discrete": (["--algo", "sac", "--env", "CartPole-v1"], "only supports"),
}


@pytest.mark.parametrize("name", list(BAD_TRAIN_ARGS))
def test_bad_train_arguments(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    args, message = BAD_TRAIN_ARGS[name]
    try:
        code = cli.main(["train", "--timesteps", "10", "--no-save", "--no-progress-bar", *args])
    except SystemExit as error:  # argparse
        code = error.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert "error:" in last and message in last
    assert "Traceback" not in err


def test_console_script_bad_input() -> None:
    """End to end, through the ``sb3-reinforce`` console script: a one-line error, exit code 2, no traceback."""
    script = Path(sys.executable).parent / "sb3-reinforce"
    command = [str(script)] if script.exists() else CLI
    result = subprocess.run([*command, "train", "--env", "NoSuchEnv-v0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "sb3-reinforce train: error: unknown env 'NoSuchEnv-v0': not registered in Gymnasium"


def test_bad_model_files(model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", "--model", str(tmp_path / "missing")]) == 2
    assert "model file not found" in capsys.readouterr().err

    no_config = tmp_path / "no_config"
    no_config.with_suffix(".zip").write_bytes(model_path.with_suffix(".zip").read_bytes())
    assert cli.main(["evaluate", "--model", str(no_config)]) == 2
    assert "config file not found" in capsys.readouterr().err

    garbage = tmp_path / "garbage"
    garbage.with_suffix(".zip").write_text("not a model")
    garbage.with_suffix(".json").write_text(model_path.with_suffix(".json").read_text())
    assert cli.main(["enjoy", "--model", f"{garbage}.zip"]) == 1
    err = capsys.readouterr().err
    assert "cannot load" in err and len(err.strip().splitlines()) == 1

    garbage.with_suffix(".json").write_text("{")
    assert cli.main(["record", "--model", str(garbage), "--output", str(tmp_path / "x.gif")]) == 1
    assert "not a valid run config" in capsys.readouterr().err

    assert cli.main(["record", "--model", str(model_path), "--output", str(tmp_path / "x.avi")]) == 2
    assert "unsupported output 'x.avi'" in capsys.readouterr().err


def test_benchmark_is_delegated(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmark`` forwards its arguments to ``sb3_reinforce.benchmark`` (a stand-in module here)."""
    seen: dict[str, Any] = {}
    fake = types.ModuleType("sb3_reinforce.benchmark")

    def add_arguments(parser: Any) -> None:
        parser.add_argument("--seeds", type=int, nargs="+", default=[0])

    def run_grid(args: Any) -> int:
        seen["seeds"] = args.seeds
        return 0

    fake.add_arguments = add_arguments  # type: ignore[attr-defined]
    fake.run_grid = run_grid  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sb3_reinforce.benchmark", fake)
    assert cli.main(["benchmark", "--seeds", "3", "4"]) == 0
    assert seen["seeds"] == [3, 4]


def test_benchmark_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sb3_reinforce.benchmark", None)  # makes the import fail
    assert cli.main(["benchmark"]) == 2
    assert "benchmark is not available" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as error:
        cli.main(["train", "--help"])
    assert error.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--preset", "--env", "--algo", "--timesteps", "--actions", "--shaping", "--hp", "--tensorboard-log"):
        assert flag in out
    assert "plain setup" in out  # how --env interacts with the presets
    # Each default is written once (argparse's ArgumentDefaultsHelpFormatter used to add a second one)
    assert "(default:" not in out and "(solved without --env; none:" in out

    with pytest.raises(SystemExit) as error:
        cli.main(["benchmark", "--help"])
    assert error.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--final-episodes" in out and "(default: 100)" in out
    assert re.search(r"\(default[^)]*\) \(default", out) is None
    assert "(default: None)" not in out and "(default: False)" not in out and "(default: [])" not in out


def test_interrupted_training_keeps_the_earlier_model(model_path: Path, tmp_path: Path) -> None:
    """An interrupted run is saved beside, as P_interrupted, with ``interrupted: true``; P itself is untouched."""
    from stable_baselines3.common.callbacks import BaseCallback

    class InterruptAt(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= 50:
                raise KeyboardInterrupt
            return True

    path = tmp_path / "mcc"
    for suffix in (".zip", ".json", "_vecnormalize.pkl"):
        (tmp_path / f"mcc{suffix}").write_bytes((model_path.parent / f"{model_path.name}{suffix}").read_bytes())
    earlier = path.with_suffix(".zip").read_bytes()
    config = run_config.make_config(timesteps=300, hyperparams={"n_episodes": 2})
    result = run.train(config, save_path=path, eval_episodes=1, callbacks=[InterruptAt()])
    assert result.interrupted and result.evaluation is None
    assert result.saved == tmp_path / "mcc_interrupted"
    assert path.with_suffix(".zip").read_bytes() == earlier
    saved = json.loads((tmp_path / "mcc_interrupted.json").read_text())
    assert saved["interrupted"] is True and 50 <= saved["num_timesteps"] < 300
    assert run.load_run(tmp_path / "mcc_interrupted").model.num_timesteps == saved["num_timesteps"]
    assert not json.loads(path.with_suffix(".json").read_text())["interrupted"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_failed_save_keeps_the_earlier_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saving writes temporary files and renames them: a save that fails leaves the earlier files as they were."""
    config = run_config.make_config(timesteps=100, hyperparams={"n_episodes": 1})
    path = tmp_path / "model"
    run.train(config, save_path=path, eval_episodes=0)
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(earlier) == {"model.zip", "model.json", "model_vecnormalize.pkl"}

    def broken_save(self: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(run.VecNormalize, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        run.train(config, save_path=path, eval_episodes=0)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == earlier


def test_shaped_return_callback() -> None:
    callback = ShapedReturnLogger()
    logged: dict[str, float] = {}
    logger = types.SimpleNamespace(record=lambda key, value: logged.__setitem__(key, value))
    callback.model = types.SimpleNamespace(logger=logger)  # type: ignore[assignment]
    for rewards, dones in (([1.0, 2.0], [False, False]), ([1.0, 2.0], [True, False]), ([0.5, 1.0], [False, True])):
        callback.locals = {"rewards": np.array(rewards), "dones": np.array(dones)}
        callback._on_step()
    assert logged["rollout/ep_shaped_rew_mean"] == pytest.approx((2.0 + 5.0) / 2)
