"""
Saved models through the command line (in process, ``cli.main``): save paths and what survives Ctrl-C, and models that
travel both ways, from Python to the command line (``--env``) and back (``load_trained``).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from sb3_reinforce import Reinforce, cli
from sb3_reinforce.experiments import load_trained, media, run
from sb3_reinforce.experiments.callbacks import TrueReturnLogger, TrueRewardEvaluator
from sb3_reinforce.experiments.config import make_config
from sb3_reinforce.experiments.saved import RunPaths, choose_save_path
from sb3_reinforce.wrappers import BernoulliToContinuous

# A tiny CartPole run: one episode per update, no final evaluation
TINY_CARTPOLE = [
    "train",
    "--env",
    "CartPole-v1",
    "--preset",
    "none",
    "--timesteps",
    "50",
    "--hp",
    "n_episodes=1",
    "--no-progress-bar",
]


@pytest.fixture(scope="module")
def solved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained by the command line with the solved setup: Bernoulli actions and normalized observations."""
    path = tmp_path_factory.mktemp("solved") / "mcc_solved"
    argv = ["train", "--preset", "solved", "--timesteps", "300", "--hp", "n_episodes=2", "--eval-episodes", "0"]
    assert cli.main([*argv, "--no-progress-bar", "--save-path", str(path)]) == 0
    return path


@pytest.fixture
def python_model(tmp_path: Path) -> Path:
    """A model saved from Python, as the README's quickstart saves it: a zip and nothing else."""
    path = tmp_path / "reinforce_cartpole"
    Reinforce("MlpPolicy", "CartPole-v1", n_episodes=1, seed=0).learn(50).save(path)
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _last_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- Save paths and interruptions --------------------------------------------------------------------------------------


def test_default_save_paths_are_numbered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.chdir(tmp_path)
    for expected in ("reinforce_CartPole-v1_seed0", "reinforce_CartPole-v1_seed0_1", "reinforce_CartPole-v1_seed0_2"):
        assert cli.main([*TINY_CARTPOLE, "--eval-episodes", "0"]) == 0
        assert f"Saved models/{expected}.zip\n" in capsys.readouterr().out
    assert sorted(path.name for path in (tmp_path / "models").glob("*.zip")) == [
        "reinforce_CartPole-v1_seed0.zip",
        "reinforce_CartPole-v1_seed0_1.zip",
        "reinforce_CartPole-v1_seed0_2.zip",
    ]


def test_an_existing_save_path_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model"
    assert cli.main([*TINY_CARTPOLE, "--eval-episodes", "0", "--save-path", str(path)]) == 0
    earlier = path.with_suffix(".zip").read_bytes()
    capsys.readouterr()
    assert cli.main([*TINY_CARTPOLE, "--eval-episodes", "0", "--save-path", f"{path}.zip"]) == 2
    message = f"sb3-reinforce train: error: {path}.zip exists: pass --force to overwrite it, or choose another --save-path"
    assert _last_error(capsys.readouterr().err) == message
    assert path.with_suffix(".zip").read_bytes() == earlier  # nothing trained, nothing written
    assert cli.main([*TINY_CARTPOLE, "--eval-episodes", "0", "--save-path", str(path), "--force", "--seed", "1"]) == 0
    assert path.with_suffix(".zip").read_bytes() != earlier


def test_choose_save_path(tmp_path: Path) -> None:
    default = tmp_path / "run"
    assert choose_save_path(None, default) == default
    # Any file of a run takes its name, an interrupted run's too
    (tmp_path / "run_interrupted.json").write_text("{}")
    assert choose_save_path(None, default) == tmp_path / "run_1"
    assert choose_save_path(tmp_path / "other.zip", default) == tmp_path / "other"
    with pytest.raises(ValueError, match=r"run_interrupted\.json exists: pass --force"):
        choose_save_path(default, default)
    assert choose_save_path(default, default, force=True) == default


def test_ctrl_c_in_the_final_evaluation_keeps_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The model is saved before the final evaluation: Ctrl-C there (exit code 130) loses nothing."""

    def interrupted(self: TrueRewardEvaluator, n_episodes: int) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(TrueRewardEvaluator, "evaluate", interrupted)
    path = tmp_path / "cpev"
    assert cli.main([*TINY_CARTPOLE, "--eval-episodes", "5000", "--save-path", str(path)]) == 130
    out, err = capsys.readouterr()
    assert f"Saved {path}.zip\n" in out and "Final evaluation interrupted (the model was saved before it)" in err
    saved = json.loads(path.with_suffix(".json").read_text())
    assert saved["interrupted"] is False and saved["final_evaluation"] is None and saved["num_timesteps"] >= 50
    assert run.load_run(path).model.num_timesteps == saved["num_timesteps"]


def test_final_evaluation_is_added_to_the_saved_run(tmp_path: Path) -> None:
    result = run.train(
        make_config("none", env_id="CartPole-v1", timesteps=50, hyperparams={"n_episodes": 1}), tmp_path / "m", eval_episodes=2
    )
    assert result.evaluation is not None and not result.evaluation_interrupted
    final = json.loads((tmp_path / "m.json").read_text())["final_evaluation"]
    assert final["n_episodes"] == 2 and final["mean_reward"] == pytest.approx(result.evaluation.mean_reward)


def test_the_earlier_model_is_mentioned_only_when_there_is_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(self: TrueReturnLogger) -> bool:
        raise KeyboardInterrupt

    path = tmp_path / "cp"
    monkeypatch.setattr(TrueReturnLogger, "_on_step", interrupted)
    assert cli.main([*TINY_CARTPOLE, "--save-path", str(path)]) == 130
    out = capsys.readouterr().out
    assert f"Saved {path}_interrupted.zip (interrupted)\n" in out and "earlier model" not in out

    monkeypatch.undo()
    assert cli.main([*TINY_CARTPOLE, "--eval-episodes", "0", "--save-path", str(path), "--force"]) == 0
    monkeypatch.setattr(TrueReturnLogger, "_on_step", interrupted)
    assert cli.main([*TINY_CARTPOLE, "--save-path", str(path), "--force"]) == 130
    assert f"Saved {path}_interrupted.zip (interrupted: the earlier model {path}.zip is kept)\n" in capsys.readouterr().out


def test_run_files_have_the_model_permissions(tmp_path: Path, umask_022: None) -> None:
    """``P.json`` is written through a temporary file, but not with tempfile's owner-only mode."""
    config = make_config(preset="solved", timesteps=50, hyperparams={"n_episodes": 1})
    run.train(config, save_path=tmp_path / "m", eval_episodes=0)
    paths = RunPaths.of(tmp_path / "m")
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in (paths.model, paths.config, paths.vecnormalize)}
    assert set(modes.values()) == {0o644}, modes


# -- Models saved by the command line, in Python ----------------------------------------------------------------------


def test_load_trained_scores_as_the_cli_evaluates(solved_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One call gives the model and its env (Bernoulli wrapper, frozen statistics): ``evaluate_policy`` agrees."""
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", str(solved_model), "--episodes", "3", "--json"]) == 0
    out, err = capsys.readouterr()
    from_cli = json.loads(out)  # stdout: the JSON alone (the summary went to stderr)
    assert "true reward" in err

    model, env = load_trained(solved_model)
    assert isinstance(env, VecNormalize) and not env.training and not env.norm_reward
    assert env.env_is_wrapped(BernoulliToContinuous) == [True]
    mean, std = evaluate_policy(model, env, n_eval_episodes=3)
    assert (mean, std) == pytest.approx((from_cli["mean_reward"], from_cli["std_reward"]))


def test_another_observation_space_names_the_trained_env(solved_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", "--model", str(solved_model), "--env", "Pendulum-v1"]) == 2
    error = _last_error(capsys.readouterr().err)
    assert error.startswith("sb3-reinforce evaluate: error: the model's observation space Box(")
    assert "is not Pendulum-v1's Box(" in error and error.endswith("(the model was trained on MountainCarContinuous-v0)")
    assert error.lower().count("error") == 1


def test_snapshot_index_out_of_range_fails_before_rendering(
    solved_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_rendering(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("rendered")

    monkeypatch.setattr(media, "_FrameCapture", no_rendering)
    output = tmp_path / "car.gif"
    argv = ["record", "--model", str(solved_model), "--output", str(output), "--snapshot", str(tmp_path / "frame.png")]
    assert cli.main([*argv, "--snapshot-index", "4", "--max-frames", "4"]) == 2
    assert _last_error(capsys.readouterr().err).endswith("snapshot_index 4 out of range: at most 4 frames will be written")
    # Without --max-frames, the env's own time limit bounds the frames (MountainCar: 999 steps, 1001 frames)
    assert cli.main([*argv, "--snapshot-index", "-5000"]) == 2
    assert "at most 1001 frames" in capsys.readouterr().err
    assert cli.main(["record", "--model", str(solved_model), "--output", str(output), "--snapshot-index", "1"]) == 2
    assert "snapshot_index needs a snapshot file" in capsys.readouterr().err
    assert not output.exists()


# -- Models saved from Python, on the command line --------------------------------------------------------------------


def test_python_model_needs_its_env(python_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", "--model", str(python_model)]) == 2
    error = _last_error(capsys.readouterr().err)
    assert "config file not found" in error and "--env ENV_ID" in error

    assert cli.main(["evaluate", "--model", str(python_model), "--env", "Acrobot-v1"]) == 2
    error = _last_error(capsys.readouterr().err)
    assert "observation space Box(" in error and "is not Acrobot-v1's Box(" in error


def test_python_model_on_the_cli(python_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["evaluate", "--model", f"{python_model}.zip", "--env", "CartPole-v1", "--episodes", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected, _ = evaluate_policy(Reinforce.load(python_model), make_vec_env("CartPole-v1", seed=0), n_eval_episodes=2)
    assert data["env_id"] == "CartPole-v1" and data["mean_reward"] == pytest.approx(expected)

    assert cli.main(["enjoy", "--model", str(python_model), "--env", "CartPole-v1", "--episodes", "1"]) == 0
    assert "Episode 1: true return" in capsys.readouterr().out
    output = tmp_path / "cartpole.gif"
    assert (
        cli.main(
            ["record", "--model", str(python_model), "--env", "CartPole-v1", "--output", str(output), "--max-frames", "2"]
        )
        == 0
    )
    assert output.read_bytes()[:4] == b"GIF8"


def test_python_model_with_vecnormalize(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--vecnormalize`` loads the statistics saved from Python, frozen, and the score is the true reward."""
    env = VecNormalize(make_vec_env("CartPole-v1", seed=0), norm_reward=True)
    Reinforce("MlpPolicy", env, n_episodes=1, seed=0).learn(100).save(tmp_path / "model")
    env.save(str(tmp_path / "stats.pkl"))
    argv = ["evaluate", "--model", str(tmp_path / "model"), "--env", "CartPole-v1", "--episodes", "2", "--json"]
    assert cli.main([*argv, "--vecnormalize", str(tmp_path / "stats.pkl")]) == 0
    from_cli = json.loads(capsys.readouterr().out)

    model, eval_env = load_trained(tmp_path / "model", env_id="CartPole-v1", vecnormalize_path=tmp_path / "stats.pkl")
    assert isinstance(eval_env, VecNormalize) and not eval_env.training and not eval_env.norm_reward
    assert eval_env.obs_rms.count == env.obs_rms.count  # type: ignore[attr-defined]
    mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=2)
    assert mean == pytest.approx(from_cli["mean_reward"])

    assert cli.main([*argv, "--vecnormalize", str(tmp_path / "missing.pkl")]) == 2
    assert "normalization statistics not found" in capsys.readouterr().err
