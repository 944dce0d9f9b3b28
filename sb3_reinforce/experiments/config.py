"""
The one run configuration (:class:`RunConfig`), built from a preset and overrides by :func:`make_config`, and
described in words for the command line (:func:`describe_run`).

Its hyperparameters are JSON-friendly (it is saved beside the model): :mod:`sb3_reinforce.experiments.hyperparameters`
reads, checks and builds them. The names it defined before are still importable from here.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_reinforce.common.validation import check_number
from sb3_reinforce.experiments.envs import EnvSetup, describe_env_setup
from sb3_reinforce.experiments.hyperparameters import (
    ALGOS,
    LinearSchedule,
    build_kwargs,
    check_algo,
    check_hyperparameters,
    constructor_defaults,
    parse_hyperparameter,
    parse_value,
)
from sb3_reinforce.experiments.presets import DEFAULT_PRESET, ENV_PRESETS, NO_PRESET, PRESETS, Preset

__all__ = [
    "ALGOS",
    "DEFAULT_TIMESTEPS",
    "LinearSchedule",
    "RunConfig",
    "build_kwargs",
    "check_hyperparameters",
    "describe_run",
    "make_config",
    "parse_hyperparameter",
    "parse_value",
]

#: Budget of a run on an env that has no preset.
DEFAULT_TIMESTEPS = 100_000


@dataclass
class RunConfig:
    """
    Everything that defines a training run; saved as ``P.json`` beside the model ``P.zip``.

    :param algo: Key of :data:`ALGOS`
    :param env_setup: How the env is presented to the agent during training
    :param hyperparams: Keyword arguments of the algorithm, JSON-friendly (see the module docstring)
    :param seed: Seed of the algorithm and of the training envs
    :param timesteps: Training budget (env steps)
    :param n_envs: Number of training envs
    :param policy: Policy alias
    :param preset: Name of the preset the run started from (None: none)
    :param source: Where the hyperparameters come from (a preset, the RL Zoo, SB3's defaults)
    """

    algo: str
    env_setup: EnvSetup
    hyperparams: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    timesteps: int = DEFAULT_TIMESTEPS
    n_envs: int = 1
    policy: str = "MlpPolicy"
    preset: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        check_algo(self.algo)

    @property
    def env_id(self) -> str:
        return self.env_setup.env_id

    @property
    def algo_class(self) -> type[BaseAlgorithm]:
        return ALGOS[self.algo]

    @property
    def gamma(self) -> float:
        """Discount factor of the run: the ``gamma`` hyperparameter, or the algorithm's default."""
        gamma = self.hyperparams.get("gamma", constructor_defaults(self.algo)["gamma"])
        return check_number("hyperparameter gamma", gamma, 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "algo": self.algo,
            "preset": self.preset,
            "policy": self.policy,
            "env_setup": dataclasses.asdict(self.env_setup),
            "gamma": self.gamma,
            "hyperparams": self.hyperparams,
            "seed": self.seed,
            "timesteps": self.timesteps,
            "n_envs": self.n_envs,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        return cls(
            algo=data["algo"],
            env_setup=EnvSetup(**data["env_setup"]),
            hyperparams=dict(data.get("hyperparams", {})),
            seed=int(data.get("seed", 0)),
            timesteps=int(data.get("timesteps", DEFAULT_TIMESTEPS)),
            n_envs=int(data.get("n_envs", 1)),
            policy=data.get("policy", "MlpPolicy"),
            preset=data.get("preset"),
            source=data.get("source"),
        )


# -- Runs from presets -----------------------------------------------------------------------------------------------


def make_config(
    preset: str | None = None,
    env_id: str | None = None,
    algo: str = "reinforce",
    timesteps: int | None = None,
    seed: int = 0,
    n_envs: int | None = None,
    actions: str | None = None,
    shaping: str | None = None,
    max_episode_steps: int | None = None,
    normalize_obs: bool | None = None,
    hyperparams: dict[str, Any] | None = None,
) -> RunConfig:
    """
    Build a run's configuration from a preset and overrides.

    Which recipe a run starts from is explicit:

    * ``preset`` names one of :data:`~sb3_reinforce.experiments.presets.PRESETS` (``env_id``, if given, must be its
      env: presets are recipes for their own env);
    * an ``env_id`` with no ``preset``: the env's tuned entry of ``reinforce.yml``
      (:data:`~sb3_reinforce.experiments.presets.ENV_PRESETS`) if it has one;
    * ``preset="none"`` (:data:`~sb3_reinforce.experiments.presets.NO_PRESET`), or an ``env_id`` with no entry:
      a plain setup for the env (its own action space and reward, its own time limit, no normalization), the
      algorithm's default hyperparameters and :data:`DEFAULT_TIMESTEPS`;
    * neither: :data:`~sb3_reinforce.experiments.presets.DEFAULT_PRESET`.

    An ``algo`` other than the preset's keeps the preset's env setup and drops its hyperparameters, so the algorithm
    runs with SB3's defaults. The remaining arguments override the result; ``hyperparams`` are merged into the
    preset's.

    :param preset: Name of a preset, :data:`~sb3_reinforce.experiments.presets.NO_PRESET`, or None (see above)
    :param env_id: Gymnasium id of the env (None: the preset's)
    :param algo: Key of :data:`ALGOS`
    :param timesteps: Training budget (None: the preset's)
    :param seed: Seed of the algorithm and of the training envs
    :param n_envs: Number of training envs (None: the preset's)
    :param actions: Action interface of the env setup (None: the preset's)
    :param shaping: Reward shaping of the env setup (None: the preset's)
    :param max_episode_steps: Time limit of training episodes (None: the preset's)
    :param normalize_obs: Whether to normalize observations (None: the preset's)
    :param hyperparams: Hyperparameters merged into the preset's (JSON-friendly, see the module docstring)
    :raise ValueError: For an unknown preset, env, algorithm or hyperparameter, or a bad combination
    :raise TypeError: For a boolean hyperparameter that is not a boolean, or a number one that is not a number
    """
    check_algo(algo)
    if preset is not None and preset != NO_PRESET and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: expected one of {', '.join([*PRESETS, NO_PRESET])}")
    if preset is None and env_id in ENV_PRESETS and algo == ENV_PRESETS[env_id].algo:
        preset = env_id
    preset_name: str | None
    if preset == NO_PRESET or (preset is None and env_id is not None):
        plain_env = env_id or PRESETS[DEFAULT_PRESET].setup.env_id
        base = Preset(description=f"plain setup for {plain_env}", setup=EnvSetup(plain_env), timesteps=DEFAULT_TIMESTEPS)
        preset_name = None
    else:
        preset_name = preset or DEFAULT_PRESET
        base = PRESETS[preset_name]
        if env_id is not None and env_id != base.setup.env_id:
            raise ValueError(
                f"preset {preset_name!r} is a recipe for {base.setup.env_id}, not {env_id}: "
                f"drop --preset (or use --preset {NO_PRESET}) to train on {env_id} from the algorithm's defaults"
            )

    setup_changes: dict[str, Any] = {}
    if actions is not None:
        setup_changes["actions"] = actions
        if actions == "continuous":
            setup_changes.update(action_low=None, action_high=None)
    if shaping is not None:
        setup_changes["shaping"] = shaping
    if max_episode_steps is not None:
        setup_changes["max_episode_steps"] = max_episode_steps
    if normalize_obs is not None:
        setup_changes["normalize_obs"] = normalize_obs
    setup = dataclasses.replace(base.setup, **setup_changes)

    # A preset's hyperparameters are tuned for its algorithm: other algorithms start from SB3's defaults
    merged = copy.deepcopy(base.hyperparams) if algo == base.algo else {}
    merged.update(hyperparams or {})
    check_hyperparameters(algo, merged)
    if algo == "sac" and setup.actions == "bernoulli":
        raise ValueError("sac needs a continuous (Box) action space: use --actions continuous (bernoulli gives MultiBinary)")
    return RunConfig(
        algo=algo,
        env_setup=setup,
        hyperparams=merged,
        seed=seed,
        timesteps=base.timesteps if timesteps is None else timesteps,
        n_envs=base.n_envs if n_envs is None else n_envs,
        preset=preset_name,
        source=None if preset_name is None else f"preset {preset_name}",
    )


def _format_value(value: Any) -> str:
    # Strings as typed on the command line (lin_0.01, value), the rest as JSON (false, {"net_arch": [8]})
    return value if isinstance(value, str) else json.dumps(value)


def describe_run(config: RunConfig) -> list[str]:
    """
    What a run will do, in words: the recipe it starts from, the env as the agent sees it and the hyperparameters
    (the command line prints these lines before training).

    :param config: The run
    :return: Three lines
    """
    name = config.algo_class.__name__
    if config.preset is None:
        recipe = f"no preset: {name}'s defaults"
    else:
        recipe = f"preset {config.preset}; --preset {NO_PRESET} for {name}'s defaults"
    if config.hyperparams:
        values = ", ".join(f"{key}={_format_value(value)}" for key, value in config.hyperparams.items())
        hyperparams = f"{values} (the rest: {name}'s defaults)"
    else:
        hyperparams = f"{name}'s defaults"
    return [
        f"Training {config.algo} on {config.env_id} for {config.timesteps} steps, seed {config.seed} ({recipe})",
        f"Env: {describe_env_setup(config.env_setup)}",
        f"Hyperparameters: {hyperparams}",
    ]
