"""Run each example script on a tiny budget, so that the examples cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], check=True, capture_output=True, text=True, timeout=120
    )
    return result.stdout


def test_mountain_car(tmp_path: Path) -> None:
    import imageio.v3 as iio

    path, gif = tmp_path / "mcc", tmp_path / "mcc.gif"
    out = run_example(
        "mountain_car.py",
        *("--preset", "solved", "--seed", "0", "--timesteps", "300", "--eval-episodes", "1"),
        *("--save-path", str(path), "--gif", str(gif), "--max-frames", "3", "--tensorboard-log", str(tmp_path / "tb")),
        "--no-progress-bar",
    )
    assert "Evaluation: MountainCarContinuous-v0: true reward" in out
    assert path.with_suffix(".zip").is_file() and path.with_suffix(".json").is_file()
    assert iio.imread(gif).shape[1:] == (400, 600, 3)


def test_train_cartpole() -> None:
    out = run_example("train_cartpole.py", "--seeds", "0", "1", "--timesteps", "300", "--eval-episodes", "2")
    lines = out.strip().splitlines()
    assert lines[0].startswith("seed 0:") and lines[1].startswith("seed 1:")
    assert "seeds >= 475" in lines[-1]


def test_throughput() -> None:
    out = run_example("throughput.py", "--timesteps", "300", "--repeats", "1", "--n-envs", "2")
    rows = {line.split()[0]: line.split() for line in out.strip().splitlines()[-6:]}
    assert set(rows) == {"reinforce", "+obs_norm", "defaults", "a2c", "ppo", "env"}
    fps = {name: float(row[1]) for name, row in rows.items()}
    assert all(value > 0 for value in fps.values())
    # Each ratio is the rates printed: against plain REINFORCE, A2C, PPO and the raw env (rounding allowed)
    for name, row in rows.items():
        for column, other in ((2, "reinforce"), (3, "a2c"), (4, "ppo")):
            assert float(row[column].rstrip("x")) == pytest.approx(fps[name] / fps[other], rel=0.01, abs=0.006)
        assert float(row[5].rstrip("%")) == pytest.approx(100 * fps[name] / fps["env"], rel=0.01, abs=0.06)


def test_sample_efficiency_with_overrides() -> None:
    out = run_example(
        "sample_efficiency.py",
        *("--preset", "solved", "--actions", "continuous", "--hp", "use_sde=True", "--hp", "sde_sample_freq=1"),
        *("--seeds", "0", "--timesteps", "400", "--eval-freq", "200", "--threshold", "90", "--final-episodes", "2"),
        *("--eval-freq-episodes", "2"),
    )
    lines = out.strip().splitlines()
    overrides = "actions='continuous', use_sde=True, sde_sample_freq=1"
    assert lines[0] == f"solved with {overrides}: threshold 90, evaluations every 200 steps"
    assert lines[1].startswith("seed 0: first >= 90 at ") and "(2 episodes), " in lines[1]
    assert lines[-1].startswith("solved: stays >= 90 in ")


def test_saved_models(tmp_path: Path) -> None:
    out = run_example("saved_models.py", "--timesteps", "300", "--episodes", "2", "--out-dir", str(tmp_path))
    [mountain_car] = [line for line in out.splitlines() if line.startswith("MountainCar, true reward")]
    from_python, from_cli = (float(part.split()[0]) for part in mountain_car.split(": ")[1].split(", "))
    assert from_python == from_cli  # one call in Python scores as the command line does
    assert "--env CartPole-v1" in out and "CartPole saved from Python, evaluated by the command line:" in out
