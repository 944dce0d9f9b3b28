"""
RL Zoo integration (``sb3_reinforce.zoo``), on tiny budgets.

Everything that imports ``rl_zoo3`` runs in a subprocess, as a user would run it: importing the zoo patches
Gymnasium's ``TimeLimit`` for the whole process, which must not leak into the other test files. The subprocesses
get the repository root on ``PYTHONPATH`` and run from a temporary folder, so the shipped ``reinforce.yml`` is found
through the package, never through the working directory. These tests are skipped when ``rl_zoo3`` is not
installed, except the one checking the error that a missing ``rl_zoo3`` raises.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

import sb3_reinforce
from sb3_reinforce import Reinforce
from sb3_reinforce.zoo import HYPERPARAMS_FILE, INSTALL_HINT, register
from sb3_reinforce.zoo.cli import main, zoo_arguments
from sb3_reinforce.zoo.sampler import BASELINES, convert_reinforce_params, sample_reinforce_params, to_yaml_entry

HAS_ZOO = importlib.util.find_spec("rl_zoo3") is not None
HAS_OPTUNA = importlib.util.find_spec("optuna") is not None
needs_zoo = pytest.mark.skipif(not HAS_ZOO, reason='needs rl_zoo3: pip install "sb3-reinforce[zoo]"')
needs_optuna = pytest.mark.skipif(not HAS_OPTUNA, reason='needs optuna: pip install "sb3-reinforce[zoo]"')

REPO_ROOT = Path(sb3_reinforce.__file__).resolve().parents[1]
ZOO = [sys.executable, "-m", "sb3_reinforce.zoo"]
# Keys of an entry that the zoo consumes itself; all other keys are passed to the algorithm
ZOO_KEYS = {"n_timesteps", "policy", "n_envs", "normalize", "env_wrapper", "env_kwargs", "frame_stack", "callback"}
# A trial: 2 evaluations (1 episode each) of a 600-step training run
TINY_TRIAL = ["-n", "600", "--n-evaluations", "2", "--eval-episodes", "1", "--no-optim-plots", "--n-startup-trials", "1"]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", SDL_VIDEODRIVER="dummy", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return env


def run(args: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def run_python(code: str, cwd: Path) -> Any:
    """Run ``code`` in a fresh interpreter; it prints one JSON document as its last line."""
    result = run([sys.executable, "-c", textwrap.dedent(code)], cwd)
    return json.loads(result.stdout.strip().splitlines()[-1])


def load_journal_study(path: Path, name: str) -> Any:
    import optuna

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.load_study(study_name=name, storage=storage)


def test_missing_rl_zoo3_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import rl_zoo3` raise ImportError, as if it were not installed
    for name in [name for name in sys.modules if name.startswith("rl_zoo3")] + ["rl_zoo3"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=re.escape(INSTALL_HINT)):
        register()
    with pytest.raises(ImportError, match=re.escape(INSTALL_HINT)):
        main(["train", "--env", "CartPole-v1"])


def test_entry_point_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    shipped = ["--conf-file", str(HYPERPARAMS_FILE)]
    assert zoo_arguments("train", ["--env", "CartPole-v1"]) == ["--env", "CartPole-v1", "--algo", "reinforce", *shipped]
    # The user's hyperparameter file, in any spelling, wins
    for conf in (["-conf", "my.yml"], ["--conf-file", "my.yml"], ["--conf-file=my.yml"]):
        assert zoo_arguments("train", conf) == [*conf, "--algo", "reinforce"]
    # Another algorithm keeps the zoo's own files; enjoy and record_video read the run's saved config
    assert zoo_arguments("train", ["--algo", "ppo"]) == ["--algo", "ppo"]
    assert zoo_arguments("enjoy", ["-f", "logs"]) == ["-f", "logs", "--algo", "reinforce"]
    assert main([]) == 2
    assert main(["bogus"]) == 2
    assert "error: unknown command 'bogus'" in capsys.readouterr().err


def test_shipped_yml_entries_are_reinforce_arguments() -> None:
    entries = yaml.safe_load(HYPERPARAMS_FILE.read_text())
    assert {"CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCarContinuous-v0"} <= set(entries)
    reinforce_args = set(inspect.signature(Reinforce).parameters)
    for env_id, entry in entries.items():
        assert "n_timesteps" in entry, env_id
        unknown = set(entry) - ZOO_KEYS - reinforce_args
        assert not unknown, f"{env_id}: {unknown} are neither zoo keys nor Reinforce arguments"


def test_best_entry_keeps_the_base_setup() -> None:
    base = {"n_timesteps": 1e5, "policy": "MlpPolicy", "normalize": True, "policy_kwargs": "dict(log_std_init=-0.5)"}
    tuned = convert_reinforce_params({"one_minus_gamma": 0.01, "net_arch": "tiny", "activation_fn": "relu", "n_episodes": 4})
    entry = to_yaml_entry(tuned, base)
    assert entry["normalize"] is True and entry["n_timesteps"] == 1e5 and entry["n_episodes"] == 4
    assert entry["gamma"] == pytest.approx(0.99)
    assert entry["policy_kwargs"] == "dict(log_std_init=-0.5, net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.ReLU)"
    # It stays writable by safe_dump (no classes, no numpy scalars)
    assert yaml.safe_load(yaml.safe_dump(entry)) == entry


@needs_optuna
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_every_sample_builds_a_model(env_id: str) -> None:
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    n_actions = 1 if env_id == "Pendulum-v1" else 0
    baselines = set()
    for _ in range(20):
        trial = study.ask()
        kwargs = sample_reinforce_params(trial, n_actions=n_actions, n_envs=1, additional_args={})
        # What the zoo's --trial-id and `best` rebuild from the stored values is what the trial trained with
        assert convert_reinforce_params(trial.params) == kwargs
        assert ("log_std_init" in kwargs["policy_kwargs"]) == (n_actions > 0)
        # Whenever minibatches are used (importance-weighted or extra critic passes), the trial says which
        uses_minibatches = kwargs["n_epochs"] > 1 or (kwargs["baseline"] == "value" and kwargs["critic_epochs"] > 1)
        assert ("minibatch_size" in kwargs) == uses_minibatches, kwargs
        baselines.add(kwargs["baseline"])
        # Applied, as the zoo does, on top of an entry tuned with a critic: raises on an invalid combination
        Reinforce("MlpPolicy", env_id, **{"baseline": "value", "gae_lambda": 0.9, **kwargs})
        study.tell(trial, 0.0)
    assert baselines == set(BASELINES)


@needs_zoo
def test_register_adds_reinforce_to_the_zoo(tmp_path: Path) -> None:
    result = run_python(
        """
        import json
        from sb3_reinforce.zoo import register
        register()
        register()  # idempotent
        import rl_zoo3, rl_zoo3.train
        from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
        print(json.dumps([
            rl_zoo3.ALGOS["reinforce"].__module__,
            rl_zoo3.train.ALGOS is rl_zoo3.ALGOS,
            HYPERPARAMS_SAMPLER["reinforce"].__name__,
            HYPERPARAMS_CONVERTER["reinforce"].__name__,
        ]))
        """,
        tmp_path,
    )
    assert result == ["sb3_reinforce.reinforce.reinforce", True, "sample_reinforce_params", "convert_reinforce_params"]


@needs_zoo
def test_train_enjoy_record_evaluate_round_trip(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    train = run(
        [*ZOO, "train", "-f", str(logs), *"--env CartPole-v1 -n 1500 --seed 3 --eval-freq 500 --eval-episodes 1".split()],
        tmp_path,
    )
    assert f"Loading hyperparameters from: {HYPERPARAMS_FILE}" in train.stdout
    run_dir = logs / "reinforce" / "CartPole-v1_1"
    assert (run_dir / "CartPole-v1.zip").is_file() and (run_dir / "best_model.zip").is_file()
    config = yaml.load((run_dir / "CartPole-v1" / "config.yml").read_text(), Loader=yaml.UnsafeLoader)
    shipped = yaml.safe_load(HYPERPARAMS_FILE.read_text())["CartPole-v1"]
    assert dict(config) == shipped

    # The time limit ends an episode by 500 steps: 1000 hold at least one whole episode, however well it balances
    enjoy = run([*ZOO, "enjoy", "--env", "CartPole-v1", "-f", str(logs), "--no-render", "-n", "1000"], tmp_path)
    assert re.search(r"Mean reward: \d+\.\d+ \+/- ", enjoy.stdout), enjoy.stdout

    evaluate = run([*ZOO, "evaluate", "--env", "CartPole-v1", "-f", str(logs), "--n-episodes", "3"], tmp_path)
    true_mean = float(re.search(r"Env's own reward \(Monitor\): (-?\d+\.\d+)", evaluate.stdout).group(1))  # type: ignore[union-attr]
    wrapped_mean = float(re.search(r"after the env_wrapper list: (-?\d+\.\d+)", evaluate.stdout).group(1))  # type: ignore[union-attr]
    # No reward wrapper on CartPole: both sums are the env's reward, 1 per step
    assert true_mean == wrapped_mean >= 1.0

    run([*ZOO, "record_video", "--env", "CartPole-v1", "-f", str(logs), "-n", "50"], tmp_path)
    assert list((run_dir / "videos").glob("*.mp4"))


@needs_zoo
def test_optimize_two_trials_with_pruner(tmp_path: Path) -> None:
    storage = tmp_path / "study.log"
    optimize = "--env CartPole-v1 -optimize --n-trials 2 --n-jobs 1 --sampler tpe --pruner median --study-name two --seed 0"
    result = run(
        [*ZOO, "train", *optimize.split(), "--storage", str(storage), "-f", str(tmp_path / "logs"), *TINY_TRIAL], tmp_path
    )
    assert "Sampler: tpe - Pruner: median" in result.stdout
    study = load_journal_study(storage, "two")
    assert [trial.number for trial in study.trials] == [0, 1]
    assert all(trial.state.name in ("COMPLETE", "PRUNED") for trial in study.trials)
    # Each trial reported its intermediate evaluations to the pruner
    assert all(len(trial.intermediate_values) >= 1 for trial in study.trials)
    assert list((tmp_path / "logs" / "reinforce").glob("report_CartPole-v1_2-trials-600-tpe-median_*.csv"))


@needs_zoo
def test_two_workers_share_one_journal_study(tmp_path: Path) -> None:
    storage = tmp_path / "shared" / "study.log"
    budgets = {0: 2, 1: 3}
    workers = []
    for seed, n_trials in budgets.items():
        # Same storage and study name; different seeds, or both samplers would propose the same values
        optimize = f"--env CartPole-v1 -optimize --n-trials {n_trials} --study-name shared --seed {seed}"
        args = [*ZOO, "train", *optimize.split(), "--storage", str(storage), "-f", str(tmp_path / f"logs{seed}"), *TINY_TRIAL]
        workers.append(
            subprocess.Popen(
                args, cwd=tmp_path, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], "\n".join(output[-3000:] for output in outputs)

    study = load_journal_study(storage, "shared")
    total = sum(budgets.values())
    # Nothing lost, nothing duplicated: trial numbers 0..total-1 once each, every one finished
    assert sorted(trial.number for trial in study.trials) == list(range(total))
    assert len({trial._trial_id for trial in study.trials}) == total
    assert all(trial.state.name in ("COMPLETE", "PRUNED") for trial in study.trials)
    # Each worker ran its own budget of trials (Optuna logs the ones a process finishes)
    ran = [set(map(int, re.findall(r"Trial (\d+) (?:finished|pruned)", output))) for output in outputs]
    assert [len(numbers) for numbers in ran] == list(budgets.values())
    assert ran[0].isdisjoint(ran[1])

    # The best trial, printed and written back as an entry that the zoo trains from
    tuned = tmp_path / "tuned.yml"
    best = run([*ZOO, "best", "--storage", str(storage), "--study-name", "shared", "--output", str(tuned)], tmp_path)
    best_trial = study.best_trial
    assert f"Best trial: number {best_trial.number}, value {best_trial.value:.2f}" in best.stdout
    assert f"{total} trials" in best.stdout
    entry = yaml.safe_load(tuned.read_text())["CartPole-v1"]
    assert entry["n_episodes"] == best_trial.params["n_episodes"]
    assert entry["gamma"] == pytest.approx(1 - best_trial.params["one_minus_gamma"])
    assert entry["n_timesteps"] == yaml.safe_load(HYPERPARAMS_FILE.read_text())["CartPole-v1"]["n_timesteps"]
    tiny = "--env CartPole-v1 -n 300 --eval-freq -1 --seed 0".split()
    train = run([*ZOO, "train", *tiny, "-conf", str(tuned), "-f", str(tmp_path / "logs_tuned")], tmp_path)
    assert f"Loading hyperparameters from: {tuned}" in train.stdout
    assert (tmp_path / "logs_tuned" / "reinforce" / "CartPole-v1_1" / "CartPole-v1.zip").is_file()
