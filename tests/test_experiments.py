"""The experiment layer: run configs, hyperparameter parsing and building, presets, and what every run logs."""

from __future__ import annotations

import configparser
import doctest
import glob
import importlib.metadata
import inspect
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch as th
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import sb3_reinforce
from sb3_reinforce import Reinforce
from sb3_reinforce.benchmark import formatting, plan, summary
from sb3_reinforce.experiments import envs, hyperparameters, mountain_car, policy_kwargs, run
from sb3_reinforce.experiments.config import LinearSchedule, RunConfig, build_kwargs, check_hyperparameters, make_config
from sb3_reinforce.experiments.policy_kwargs import format_policy_kwargs, parse_policy_kwargs, policy_kwargs_to_json
from sb3_reinforce.experiments.presets import PRESETS

from helpers import skip_without_env_extra

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "module",
    [envs, hyperparameters, mountain_car, policy_kwargs, plan, summary, formatting],
    ids=lambda module: module.__name__,
)
def test_doctests(module: ModuleType) -> None:
    # Also when only tests/ is collected (pytest's --doctest-modules covers the package's folders of testpaths)
    results = doctest.testmod(module)
    assert results.attempted > 0 and results.failed == 0


def test_presets_are_unchanged() -> None:
    # The README's numbers were measured with exactly these recipes
    solved, notebook = PRESETS["solved"], PRESETS["notebook"]
    assert solved.hyperparams == dict(
        learning_rate="lin_0.01",
        n_episodes=5,
        gamma=0.99,
        baseline="value",
        gae_lambda=1.0,  # explicit since the defaults study made 0.95 the value baseline's default
        critic_epochs=5,
        n_epochs=1,  # and 10 the default
        minibatch_size=None,  # and 64 (the critic's extra passes use the minibatches)
        normalize_returns=True,
        ent_coef=0.0,  # explicit since 0.2.0 made an entropy bonus that fades the default (none again since 0.3.0)
        normalize_observations=False,  # explicit since 0.3.0 made "auto" the default
        max_grad_norm=10.0,
    )
    assert (solved.setup.actions, solved.setup.shaping, solved.setup.max_episode_steps) == ("bernoulli", "energy", 200)
    assert solved.setup.normalize_obs and not solved.setup.normalize_reward and solved.timesteps == 50_000
    assert notebook.hyperparams["policy_kwargs"] == "notebook" and notebook.hyperparams["gamma"] == 0.95
    assert (notebook.setup.action_low, notebook.setup.action_high, notebook.setup.shaping) == (0.0, 1.0, "seed")
    assert notebook.timesteps == 200_000 and notebook.hyperparams["max_grad_norm"] == 1e6
    # The gSDE variant is MountainCarContinuous-v0's entry with a new noise matrix every step (the unbiased
    # estimator) and a std scaled to match
    continuous, gsde = PRESETS["MountainCarContinuous-v0"], PRESETS["solved-gsde"]
    assert gsde.setup == continuous.setup and gsde.timesteps == continuous.timesteps
    changed = {key: value for key, value in gsde.hyperparams.items() if continuous.hyperparams.get(key) != value}
    assert changed == dict(use_sde=True, sde_sample_freq=1, policy_kwargs=dict(log_std_init=-3.0))
    assert set(gsde.hyperparams) == set(continuous.hyperparams) | {"use_sde", "sde_sample_freq"}
    # The env entries are read from reinforce.yml (tests/test_zoo_entries.py)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_trains_saves_and_evaluates(name: str, tmp_path: Path) -> None:
    skip_without_env_extra(PRESETS[name].setup.env_id)
    result = run.train(make_config(name, seed=0, timesteps=400), save_path=tmp_path / name, eval_episodes=1)
    assert result.model.num_timesteps >= 400 and result.evaluation is not None
    assert result.saved is not None and Path(f"{result.saved}.zip").is_file()
    assert result.model.gamma == PRESETS[name].hyperparams["gamma"]


@pytest.mark.parametrize(
    "hyperparams, error, message",
    [
        ({"gamma": "abc"}, TypeError, "hyperparameter gamma must be a number, got 'abc'"),
        ({"learning_rate": "fast"}, TypeError, "hyperparameter learning_rate must be a number, got 'fast'"),
        ({"gamma": True}, TypeError, "hyperparameter gamma must be a number, got True"),
        ({"n_epsiodes": 3}, ValueError, "unknown hyperparameter 'n_epsiodes' for Reinforce"),
        ({"seed": 3}, ValueError, "'seed' is not a hyperparameter"),
        ({"device": "cpu"}, ValueError, "--device"),
    ],
)
def test_bad_hyperparameters_are_named(hyperparams: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        check_hyperparameters("reinforce", hyperparams)
    with pytest.raises(error, match=re.escape(message)):
        make_config(hyperparams=hyperparams)


def test_gamma_of_a_config_is_checked() -> None:
    config = RunConfig("reinforce", PRESETS["solved"].setup, {"gamma": "abc"})
    with pytest.raises(TypeError, match="hyperparameter gamma must be a number, got 'abc'"):
        run.train(config)
    assert RunConfig("ppo", PRESETS["solved"].setup).gamma == 0.99  # the algorithm's default


def test_build_kwargs() -> None:
    kwargs = build_kwargs(
        {"learning_rate": "lin_0.001", "policy_kwargs": {"net_arch": [8], "activation_fn": "tanh"}, "baseline": "value"}
    )
    assert isinstance(kwargs["learning_rate"], LinearSchedule) and kwargs["learning_rate"](1.0) == 0.001
    # Any number hyperparameter of Reinforce's that takes a schedule: the entropy bonus too
    check_hyperparameters("reinforce", {"ent_coef": "lin_0.03"})
    assert build_kwargs({"ent_coef": "lin_0.03"})["ent_coef"] == LinearSchedule(0.03)
    assert kwargs["policy_kwargs"] == {"net_arch": [8], "activation_fn": th.nn.Tanh} and kwargs["baseline"] == "value"
    notebook = build_kwargs({"policy_kwargs": "notebook"})["policy_kwargs"]
    assert notebook == dict(net_arch=dict(pi=[10], vf=[10]), activation_fn=th.nn.ELU)
    hyperparams = {"policy_kwargs": {"net_arch": [8]}}
    build_kwargs(hyperparams)["policy_kwargs"]["extra"] = 1
    assert hyperparams == {"policy_kwargs": {"net_arch": [8]}}  # the config is not changed by what SB3 adds
    with pytest.raises(ValueError, match=re.escape("activation_fn='Sigmoidal': torch.nn has no class 'Sigmoidal'")):
        build_kwargs({"policy_kwargs": {"activation_fn": "Sigmoidal"}})
    with pytest.raises(
        ValueError, match=re.escape("policy_kwargs must be a dict (dict(...) or {...}) or 'notebook', got 'big'")
    ):
        build_kwargs({"policy_kwargs": "big"})
    # The RL Zoo's notation, as a run config saved by hand may hold it
    zoo = build_kwargs({"policy_kwargs": "dict(activation_fn=nn.ReLU, optimizer_class=th.optim.RMSprop)"})
    assert zoo["policy_kwargs"] == {"activation_fn": th.nn.ReLU, "optimizer_class": th.optim.RMSprop}


@pytest.mark.parametrize("value", ["false", "no", 0, 1, None])
def test_boolean_hyperparameters_must_be_booleans(value: Any) -> None:
    """A string such as "false" would count as true: every boolean hyperparameter is checked (a TypeError naming it)."""
    for name in ("use_sde", "normalize_returns", "reward_to_go", "bootstrap_truncated"):
        with pytest.raises(
            TypeError, match=f"hyperparameter {name} must be a boolean \\(true or false\\), got {re.escape(repr(value))}"
        ):
            make_config(hyperparams={name: value})
    check_hyperparameters("ppo", {"normalize_advantage": False})
    with pytest.raises(TypeError, match="hyperparameter normalize_advantage must be a boolean"):
        check_hyperparameters("ppo", {"normalize_advantage": "false"})


def test_optional_hyperparameters_take_none() -> None:
    """None turns off an optional setting (``--hp minibatch_size=None``); a required number given None is refused."""
    check_hyperparameters("reinforce", {"minibatch_size": None, "target_kl": None, "batch_size": None})
    check_hyperparameters("ppo", {"target_kl": None})
    with pytest.raises(TypeError, match="hyperparameter n_epochs must be a number, got None"):
        check_hyperparameters("reinforce", {"n_epochs": None})


def test_make_config_errors() -> None:
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        make_config(preset="nope")
    with pytest.raises(ValueError, match="Unknown algorithm 'dqn'"):
        make_config(algo="dqn")
    with pytest.raises(ValueError, match="drop --preset"):
        make_config(preset="solved", env_id="CartPole-v1")
    with pytest.raises(ValueError, match="Unknown shaping 'magic'"):
        make_config(shaping="magic")


@pytest.mark.parametrize("algo", ["reinforce", "ppo", "a2c", "sac"])
def test_every_run_logs_the_true_return(algo: str, tmp_path: Path) -> None:
    """Whatever the algorithm, a run of the experiment layer logs rollout/ep_true_rew_mean (TrueReturnLogger)."""
    hyperparams = {"reinforce": {"n_episodes": 2}, "ppo": {"n_steps": 64, "batch_size": 32}, "a2c": {}, "sac": {}}[algo]
    # Long enough for SB3's first log dump: A2C dumps every 100 updates of 5 steps, SAC every 4 episodes
    timesteps = 500 if algo == "a2c" else 200
    actions = "continuous" if algo == "sac" else None
    config = make_config(algo=algo, actions=actions, timesteps=timesteps, max_episode_steps=20, hyperparams=hyperparams)
    result = run.train(config, tensorboard_log=str(tmp_path), eval_episodes=0)
    assert result.num_timesteps >= timesteps
    [run_dir] = glob.glob(str(tmp_path / "*_solved_seed0_1"))
    events = EventAccumulator(run_dir)
    events.Reload()
    assert {"rollout/ep_true_rew_mean", "rollout/ep_shaped_rew_mean"} <= set(events.Tags()["scalars"])


def test_sb3_floor_is_what_the_code_needs() -> None:
    """
    setup.cfg's floor for stable_baselines3 is the first release that supports Gymnasium 1.x (2.4.0), which the
    package requires. Everything else the package uses from SB3 is older: rollout_buffer_class (2.1),
    PyTorchObs (2.2), progress_bar (1.7), sync_envs_normalization, evaluate_policy(return_episode_rewards).
    """
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    requires = setup["options"]["install_requires"]
    assert re.search(r"stable_baselines3>=2\.4\.0,<3\.0", requires)
    assert re.search(r"gymnasium>=1\.0", requires)
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.type_aliases import PyTorchObs  # noqa: F401

    assert "rollout_buffer_class" in OnPolicyAlgorithm.__init__.__code__.co_varnames
    assert tuple(map(int, importlib.metadata.version("stable_baselines3").split(".")[:2])) >= (2, 4)


# -- policy_kwargs: the package's one parser --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "dict(net_arch=[64, 64], activation_fn=nn.ReLU, ortho_init=False)",
            {"net_arch": [64, 64], "activation_fn": th.nn.ReLU, "ortho_init": False},
        ),
        ("dict(activation_fn=nn.Tanh)", {"activation_fn": th.nn.Tanh}),
        ("dict(activation_fn=th.nn.ELU)", {"activation_fn": th.nn.ELU}),
        ("dict(activation_fn='tanh')", {"activation_fn": th.nn.Tanh}),
        ("dict(optimizer_class=th.optim.RMSprop)", {"optimizer_class": th.optim.RMSprop}),
        ("dict(optimizer_class=torch.optim.SGD)", {"optimizer_class": th.optim.SGD}),
        ("dict(optimizer_class='RMSprop')", {"optimizer_class": th.optim.RMSprop}),
        ("dict(optimizer_class='th.optim.Adam')", {"optimizer_class": th.optim.Adam}),
        (
            "dict(optimizer_class=RMSpropTFLike, optimizer_kwargs=dict(eps=1e-5))",
            {"optimizer_class": RMSpropTFLike, "optimizer_kwargs": {"eps": 1e-5}},
        ),
        (
            "dict(log_std_init=-2, net_arch=dict(pi=[256, 256], vf=[256, 256]), use_expln=True)",
            {"log_std_init": -2, "net_arch": {"pi": [256, 256], "vf": [256, 256]}, "use_expln": True},
        ),
        ("{'net_arch': [8], 'activation_fn': 'Tanh'}", {"net_arch": [8], "activation_fn": th.nn.Tanh}),
        ('{"net_arch": [8], "ortho_init": false, "features_extractor_kwargs": null}', None),
        ("notebook", dict(net_arch=dict(pi=[10], vf=[10]), activation_fn=th.nn.ELU)),
    ],
)
def test_parse_policy_kwargs(text: str, expected: dict[str, Any] | None) -> None:
    parsed = parse_policy_kwargs(text)
    if expected is None:  # JSON's spellings read back
        expected = {"net_arch": [8], "ortho_init": False, "features_extractor_kwargs": None}
    assert parsed == expected
    # Saved as JSON, written in the zoo's notation: both read back to the same classes
    assert parse_policy_kwargs(policy_kwargs_to_json(parsed)) == parsed
    assert parse_policy_kwargs(format_policy_kwargs(parsed)) == parsed


@pytest.mark.parametrize(
    "value, message",
    [
        ("dict(activation_fn=nn.Relu)", "activation_fn=nn.Relu: torch.nn has no class 'Relu' (did you mean 'ReLU'?)"),
        ("dict(optimizer_class='RMSProp2')", "optimizer_class='RMSProp2': torch.optim has no class 'RMSProp2'"),
        ("dict(activation_fn=os.system)", "activation_fn=os.system: unknown name 'os.system'"),
        ("dict(net_arch=__import__('os'))", "net_arch=__import__('os'): cannot read"),
        ("dict(net_arch=[64, 64)", "not a Python expression"),
        ("[64, 64]", "policy_kwargs must be a dict"),
        ("dict(net_arch=[64], **extra)", "** is not supported"),
        (
            {"activation_fn": "Sigmoidal"},
            "activation_fn='Sigmoidal': torch.nn has no class 'Sigmoidal' (did you mean 'Sigmoid'?)",
        ),
        ({"optimizer_class": "nn.ReLU"}, "optimizer_class='nn.ReLU': 'nn.ReLU' is not a torch.optim.optimizer.Optimizer"),
    ],
)
def test_policy_kwargs_errors_name_the_part(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_policy_kwargs(value)


def test_policy_kwargs_reach_the_policy() -> None:
    text = (
        "dict(net_arch=[8], activation_fn=nn.ReLU, ortho_init=False, optimizer_class='RMSprop', "
        "optimizer_kwargs=dict(eps=1e-5))"
    )
    model = Reinforce("MlpPolicy", "CartPole-v1", **build_kwargs({"policy_kwargs": text}))
    assert model.policy.activation_fn is th.nn.ReLU and not model.policy.ortho_init
    assert isinstance(model.policy.optimizer, th.optim.RMSprop) and model.policy.optimizer.defaults["eps"] == 1e-5


def _zoo_policy_kwargs() -> list[str]:
    """Every policy_kwargs string of the RL Zoo's hyperparameter files, and of the one shipped with the plugin."""
    import importlib.util

    yaml = pytest.importorskip("yaml")
    folders = [ROOT / "sb3_reinforce" / "zoo" / "hyperparams"]
    spec = importlib.util.find_spec("rl_zoo3")  # its files only: rl_zoo3 itself is not imported
    if spec is not None and spec.origin is not None:
        folders.append(Path(spec.origin).parent / "hyperparams")
    texts = set()
    for folder in folders:
        for file in sorted(folder.glob("*.yml")):
            for entry in (yaml.safe_load(file.read_text()) or {}).values():
                if isinstance(entry, dict) and isinstance(entry.get("policy_kwargs"), str):
                    texts.add(entry["policy_kwargs"])
    return sorted(texts)


def test_every_zoo_policy_kwargs_is_read_as_the_zoo_reads_it() -> None:
    """The zoo ``eval``s these strings with its module's names in scope; the one parser reads them the same."""
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    texts = _zoo_policy_kwargs()
    assert texts
    for text in texts:
        expected = eval(text, {"__builtins__": {}, "dict": dict, "nn": th.nn, "th": th, "RMSpropTFLike": RMSpropTFLike})
        assert parse_policy_kwargs(text) == expected, text


# -- Docs that must agree with the code -------------------------------------------------------------------------------


def test_docs_give_the_sde_sample_freq_default() -> None:
    """The parameter tables (docs/reinforce.md, the README) and Reinforce agree on ``sde_sample_freq`` (-1: per episode)."""
    default = inspect.signature(Reinforce.__init__).parameters["sde_sample_freq"].default
    assert default == -1
    rows = {}
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for row in re.findall(r"^\| `sde_sample_freq` \| ([^|]+) \|", page.read_text(), re.MULTILINE):
            rows[f"{page.name}: {row.strip()}"] = int(row.strip())
    assert any(name.startswith("reinforce.md") for name in rows)  # the algorithm page documents it
    assert all(value == default for value in rows.values()), rows


def test_changelog_matches_the_package_version() -> None:
    versions = re.findall(r"^## (\d+\.\d+\.\d+)", (ROOT / "docs" / "changelog.md").read_text(), re.MULTILINE)
    assert versions and versions[0] == sb3_reinforce.__version__
