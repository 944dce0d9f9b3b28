"""``reinforce.yml`` is the one source of each env's recipe: the command line and the RL Zoo cannot drift apart."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from sb3_reinforce.experiments import make_config
from sb3_reinforce.experiments.presets import ALIASES, ENV_PRESETS, PRESETS
from sb3_reinforce.experiments.zoo_entries import (
    ZOO_HYPERPARAMS_FILE,
    load_zoo_entries,
    preset_from_zoo_entry,
    zoo_entry_from_preset,
)

ENTRIES = load_zoo_entries()


@pytest.mark.parametrize("env_id", sorted(ENTRIES))
def test_entry_round_trips_through_a_preset(env_id: str) -> None:
    entry = ENTRIES[env_id]
    assert zoo_entry_from_preset(preset_from_zoo_entry(env_id, entry)) == {**entry, "n_timesteps": float(entry["n_timesteps"])}


@pytest.mark.parametrize("env_id", sorted(ENTRIES))
def test_the_command_line_trains_the_entry(env_id: str) -> None:
    """``--env E`` alone starts from E's entry; ``--preset none`` from the algorithm's defaults."""
    config = make_config(env_id=env_id)
    preset = preset_from_zoo_entry(env_id, ENTRIES[env_id])
    assert (config.env_setup, config.hyperparams, config.timesteps, config.n_envs) == (
        preset.setup,
        preset.hyperparams,
        preset.timesteps,
        preset.n_envs,
    )
    assert config.preset == env_id and PRESETS[env_id] is ENV_PRESETS[env_id]
    plain = make_config(env_id=env_id, preset="none")
    assert plain.hyperparams == {} and plain.preset is None


def test_aliases_are_the_entries_not_copies() -> None:
    for alias, env_id in ALIASES.items():
        assert PRESETS[alias] is ENV_PRESETS[env_id]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(env_wrapper=["gymnasium.wrappers.ClipAction"]), "no equivalent on the command line"),
        (dict(env_kwargs={"continuous": True}), "env_kwargs other than max_episode_steps"),
        (dict(normalize="dict(norm_obs=True, clip_obs=5.0)"), "normalize must be"),
        (dict(policy="CnnPolicy"), "only MlpPolicy"),
        (dict(ent_coef="lin_0.03"), "ent_coef='lin_0.03': the RL Zoo reads lin_<x> as a schedule for learning_rate only"),
        (
            dict(env_wrapper=[{"sb3_reinforce.experiments.mountain_car.energy_shaping": {"gamma": 0.9}}], gamma=0.99),
            "gamma=0.9",
        ),
    ],
)
def test_an_entry_the_command_line_cannot_reproduce_is_refused(change: dict[str, Any], message: str) -> None:
    entry = {**copy.deepcopy(ENTRIES["MountainCarContinuous-v0"]), **change}
    with pytest.raises(ValueError, match=message):
        preset_from_zoo_entry("MountainCarContinuous-v0", entry)


def test_the_zoo_file_has_no_entry_the_loader_skips() -> None:
    with open(ZOO_HYPERPARAMS_FILE) as file:
        raw = yaml.safe_load(file)
    assert set(raw) == {"default", *ENTRIES}


# Attributes of a built model that every hyperparameter of an entry sets
COMPARED = """
    names = ["gamma", "n_episodes", "baseline", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm", "critic_epochs",
             "n_epochs", "target_kl", "normalize_returns", "use_sde", "sde_sample_freq", "batch_size"]
    def describe(model):
        env = model.get_env()
        described = {name: repr(getattr(model, name)) for name in names}
        described["learning_rate"] = [model.lr_schedule(p) for p in (1.0, 0.5, 0.0)]
        described["policy"] = repr(model.policy)
        described["log_std"] = repr(getattr(model.policy, "log_std", None))
        described["env"] = [type(env).__name__, getattr(env, "norm_obs", None), getattr(env, "norm_reward", None),
                            repr(env.observation_space), repr(env.action_space), env.get_attr("spec")[0].max_episode_steps,
                            repr(env.envs[0])]
        return described
"""


def test_the_zoo_builds_the_same_model_as_the_command_line(tmp_path: Path) -> None:
    """For every entry, RL Zoo's ExperimentManager and the command line build the same model and env."""
    pytest.importorskip("rl_zoo3", reason='needs rl_zoo3: pip install "sb3-reinforce[zoo]"')
    # Every entry is built, the suite's Box2D and MuJoCo envs too
    pytest.importorskip("Box2D", reason='needs Box2D: pip install "sb3-reinforce[suite]"')
    pytest.importorskip("mujoco", reason='needs MuJoCo: pip install "sb3-reinforce[suite]"')
    script = textwrap.dedent(
        f"""
        import argparse, json
        from sb3_reinforce.zoo import HYPERPARAMS_FILE, register
        from sb3_reinforce.experiments import make_config
        from sb3_reinforce.experiments.envs import make_train_env
        from sb3_reinforce.experiments.run import build_model
        from sb3_reinforce.experiments.zoo_entries import load_zoo_entries
        register()
        from rl_zoo3.exp_manager import ExperimentManager
        {textwrap.indent(textwrap.dedent(COMPARED), "        ").strip()}
        built = {{}}
        for env_id in load_zoo_entries():
            manager = ExperimentManager(
                argparse.Namespace(env_kwargs=None), "reinforce", env_id, {str(tmp_path / "logs")!r},
                eval_freq=-1, config=str(HYPERPARAMS_FILE), seed=0, verbose=0,
            )
            zoo_model, _ = manager.setup_experiment()
            config = make_config(env_id=env_id)
            cli_model = build_model(config, make_train_env(config.env_setup, config.n_envs, seed=0, gamma=config.gamma))
            built[env_id] = [describe(zoo_model), describe(cli_model)]
        print(json.dumps(built))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    built = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(built) == set(ENTRIES)
    for env_id, (zoo, cli) in built.items():
        # The wrappers' reprs name the same classes; the zoo adds its Monitor below them, as the command line does
        assert zoo == cli, env_id
