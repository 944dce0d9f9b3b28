"""
``train --checkpoint-freq N`` and ``train --resume`` (``docs/resume.md``): a training process killed with SIGKILL at a
random moment, or stopped by Ctrl-C, then resumed, ends with the weights, periodic evaluations and final evaluation of
a run that was never stopped.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch as th

import sb3_reinforce
from sb3_reinforce.cli import main
from sb3_reinforce.experiments import checkpoints

from helpers import checkpoint_interval

ROOT = Path(sb3_reinforce.__file__).resolve().parents[1]
# A CartPole run of a few seconds with several checkpoints and periodic evaluations
RUN = ["train", "--env", "CartPole-v1", "--timesteps", "10000", "--seed", "3", "--hp", "n_episodes=4", "--n-envs", "2"]
RUN += ["--eval-freq", "2500", "--eval-freq-episodes", "2", "--eval-episodes", "3", "--checkpoint-freq", "1500"]
RUN += ["--no-progress-bar"]


def weights(path: Path) -> dict[str, th.Tensor]:
    with zipfile.ZipFile(path) as archive:
        return th.load(io.BytesIO(archive.read("policy.pth")))


def assert_same_run(expected: Path, got: Path) -> None:
    """The models ``P.zip`` and the run files ``P.json`` of two runs: same weights, steps and evaluations."""
    want, have = weights(expected.with_suffix(".zip")), weights(got.with_suffix(".zip"))
    assert want.keys() == have.keys()
    for name in want:
        assert th.equal(want[name], have[name]), name
    want_run, have_run = (json.loads(path.with_suffix(".json").read_text()) for path in (expected, got))
    for key in ("num_timesteps", "evaluations", "final_evaluation"):
        assert have_run[key] == want_run[key], key


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("uninterrupted") / "run"
    assert main([*RUN, "--save-path", str(path)]) == 0
    assert not Path(f"{path}_checkpoint.zip").exists()  # removed once the run is done
    return path


def start(path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "sb3_reinforce", *RUN, "--save-path", str(path)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_sigkill_at_a_random_moment_then_resume(uninterrupted: Path, tmp_path: Path) -> None:
    path = tmp_path / "run"
    checkpoint = Path(f"{path}_checkpoint.zip")
    process = start(path)
    # A moment within three checkpoint intervals of the second (of six), drawn at random
    delay = random.uniform(0.0, 3 * checkpoint_interval(process, lambda: checkpoint))
    time.sleep(delay)
    process.kill()  # SIGKILL: nothing of the run's own clean-up happens
    process.wait()
    if path.with_suffix(".zip").exists():
        pytest.skip(f"the run finished within {delay:.2f} s of its second checkpoint: nothing to resume")
    assert checkpoint.exists()
    assert main([*RUN, "--save-path", str(path), "--resume"]) == 0, f"killed {delay:.2f} s after the second checkpoint"
    assert not checkpoint.exists()
    assert_same_run(uninterrupted, path)


def test_ctrl_c_then_resume(uninterrupted: Path, tmp_path: Path) -> None:
    path = tmp_path / "run"
    checkpoint = Path(f"{path}_checkpoint.zip")
    process = start(path)
    time.sleep(random.uniform(0.0, 3 * checkpoint_interval(process, lambda: checkpoint)))
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=120)[0].decode()
    if process.returncode == 0:
        pytest.skip("the run finished before Ctrl-C reached it")
    assert process.returncode == 130, output
    assert "Interrupted after" in output and Path(f"{path}_interrupted.zip").exists()
    # Ctrl-C wrote a checkpoint of where the run was (or, in the middle of an update, kept the previous one)
    assert main([*RUN, "--save-path", str(path), "--resume"]) == 0
    assert_same_run(uninterrupted, path)


def test_resume_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run"
    assert main([*RUN, "--save-path", str(path), "--resume"]) == 2
    assert "nothing to resume: no checkpoint" in capsys.readouterr().err
    ppo = ["train", "--env", "CartPole-v1", "--algo", "ppo", "--timesteps", "100", "--save-path", str(path)]
    assert main([*ppo, "--resume"]) == 2
    assert "--resume and --checkpoint-freq need --algo reinforce" in capsys.readouterr().err
    assert main([*RUN, "--no-save"]) == 2
    assert "--checkpoint-freq needs a saved run" in capsys.readouterr().err

    # A run stopped after its first checkpoint (a callback raising stands in for a crash)
    short = ["train", "--env", "CartPole-v1", "--timesteps", "3000", "--hp", "n_episodes=4", "--eval-episodes", "0"]
    short += ["--checkpoint-freq", "500", "--no-progress-bar", "--save-path", str(path)]
    original = checkpoints.Checkpointer._write

    def crash_after_first(self: checkpoints.Checkpointer, state: dict) -> None:
        original(self, state)
        raise MemoryError("the machine ran out of memory")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoints.Checkpointer, "_write", crash_after_first)
        with pytest.raises(MemoryError):
            main(short)
    assert Path(f"{path}_checkpoint.zip").exists()
    assert main(short) == 2  # a new run would overwrite it
    assert "run_checkpoint.zip exists (a run there was stopped): --resume continues it" in capsys.readouterr().err
    other = [arg if arg != "3000" else "4000" for arg in short]
    assert main([*other, "--resume"]) == 2
    assert "the checkpoint is of another run: timesteps 3000 (checkpoint) vs 4000 (here)" in capsys.readouterr().err
    assert main([*short, "--resume"]) == 0
    assert "Resumed from" in capsys.readouterr().out
