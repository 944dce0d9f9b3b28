"""
The tuned recipe of each env of the suite, read from RL Zoo's hyperparameter file ``reinforce.yml``.

:data:`ZOO_HYPERPARAMS_FILE` is the one source of these recipes: ``python -m sb3_reinforce train --env E`` and the
benchmark read it through :func:`zoo_presets`, ``python -m sb3_reinforce.zoo train --env E`` reads it as the zoo's
own file. An entry is translated, not copied: :func:`preset_from_zoo_entry` maps the zoo's keys to an
:class:`~sb3_reinforce.experiments.envs.EnvSetup`, a budget and the algorithm's hyperparameters, and refuses what it
cannot map (an unknown wrapper, an ``env_kwargs`` other than the time limit), so the command line never trains a
different recipe from the one the zoo trains. :func:`zoo_entry_from_preset` is its inverse (tests check both ways).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sb3_reinforce.experiments.envs import EnvSetup
from sb3_reinforce.experiments.hyperparameters import parse_value

if TYPE_CHECKING:
    from sb3_reinforce.experiments.presets import Preset

__all__ = [
    "ZOO_HYPERPARAMS_FILE",
    "load_zoo_entries",
    "preset_from_zoo_entry",
    "zoo_entry_from_preset",
    "zoo_normalization",
    "zoo_presets",
]

#: Shipped as package data beside :mod:`sb3_reinforce.zoo`, which hands it to the zoo's ``train``.
ZOO_HYPERPARAMS_FILE = Path(__file__).resolve().parents[1] / "zoo" / "hyperparams" / "reinforce.yml"

# Wrappers of the zoo's ``env_wrapper`` lists that have an EnvSetup field: dotted path -> how the setup says it
BERNOULLI_WRAPPER = "sb3_reinforce.wrappers.BernoulliToContinuous"
SHAPING_WRAPPERS = {
    "sb3_reinforce.experiments.mountain_car.energy_shaping": "energy",
    "sb3_reinforce.experiments.mountain_car.notebook_shaping": "seed",
}
# Keys of an entry that are not the algorithm's hyperparameters
_SETUP_KEYS = ("env_wrapper", "env_kwargs", "normalize", "n_timesteps", "n_envs", "policy")


@functools.cache
def load_zoo_entries(path: Path = ZOO_HYPERPARAMS_FILE) -> dict[str, dict[str, Any]]:
    """
    The entries of a zoo hyperparameter file, by env id (the zoo's ``default`` entry left out).

    :param path: The file (the one shipped with the package by default)
    :return: Each env's entry as PyYAML reads it
    """
    with open(path) as file:
        entries = yaml.safe_load(file)
    return {env_id: entry for env_id, entry in entries.items() if env_id != "default"}


def _wrappers(env_id: str, entry: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ``env_wrapper`` list as (dotted path, keyword arguments) pairs, in the zoo's three spellings."""
    wrappers = entry.get("env_wrapper") or []
    if isinstance(wrappers, (str, dict)):
        wrappers = [wrappers]
    pairs: list[tuple[str, dict[str, Any]]] = []
    for wrapper in wrappers:
        if isinstance(wrapper, str):
            pairs.append((wrapper, {}))
        elif isinstance(wrapper, dict) and len(wrapper) == 1:
            (name, kwargs), *_ = wrapper.items()
            pairs.append((name, dict(kwargs or {})))
        else:
            raise ValueError(f"{env_id}: cannot read the env_wrapper item {wrapper!r}")
    return pairs


def zoo_normalization(env_id: str, normalize: Any) -> tuple[bool, bool]:
    """``(norm_obs, norm_reward)`` of the zoo's ``normalize`` (a bool, or a ``dict(...)`` of VecNormalize's options)."""
    if isinstance(normalize, str):
        normalize = parse_value(normalize)
    if isinstance(normalize, bool):
        return normalize, normalize
    if isinstance(normalize, dict) and set(normalize) <= {"norm_obs", "norm_reward"}:
        return bool(normalize.get("norm_obs", True)), bool(normalize.get("norm_reward", True))
    raise ValueError(f"{env_id}: normalize must be a bool or dict(norm_obs=..., norm_reward=...), got {normalize!r}")


def preset_from_zoo_entry(env_id: str, entry: dict[str, Any]) -> Preset:
    """
    Translate one entry of the zoo's file into a preset.

    :param env_id: The entry's env
    :param entry: The entry, as :func:`load_zoo_entries` returns it
    :return: A :class:`~sb3_reinforce.experiments.presets.Preset` with the entry's setup, budget and hyperparameters
    :raise ValueError: Naming what the command line cannot reproduce (an unknown wrapper or ``env_kwargs``, a shaping
        whose ``gamma`` is not the algorithm's, a policy other than ``MlpPolicy``) or the zoo cannot (a ``lin_<x>``
        schedule of another hyperparameter than ``learning_rate``)
    """
    from sb3_reinforce.experiments.presets import Preset  # at call time: presets imports this module

    hyperparams = {key: value for key, value in entry.items() if key not in _SETUP_KEYS}
    for key, value in hyperparams.items():
        if isinstance(value, str) and value.startswith("lin_") and key != "learning_rate":
            # The zoo makes a schedule of lin_<x> for a few keys of its own algorithms' (_preprocess_schedules); of
            # Reinforce's, learning_rate only: it would hand this one the string
            raise ValueError(f"{env_id}: {key}={value!r}: the RL Zoo reads lin_<x> as a schedule for learning_rate only")
    setup: dict[str, Any] = {}
    for name, kwargs in _wrappers(env_id, entry):
        if name == BERNOULLI_WRAPPER and set(kwargs) <= {"low", "high"}:
            setup.update(actions="bernoulli", action_low=kwargs.get("low"), action_high=kwargs.get("high"))
        elif name in SHAPING_WRAPPERS:
            setup["shaping"] = SHAPING_WRAPPERS[name]
            # Potential-based shaping is neutral only with the algorithm's own discount
            if "gamma" in kwargs and kwargs["gamma"] != hyperparams.get("gamma", kwargs["gamma"]):
                raise ValueError(f"{env_id}: {name} has gamma={kwargs['gamma']}, the algorithm {hyperparams['gamma']}")
        else:
            raise ValueError(f"{env_id}: the wrapper {name} with {kwargs} has no equivalent on the command line")
    env_kwargs = dict(entry.get("env_kwargs") or {})
    if set(env_kwargs) - {"max_episode_steps"}:
        raise ValueError(f"{env_id}: env_kwargs other than max_episode_steps are not supported, got {env_kwargs}")
    setup["max_episode_steps"] = env_kwargs.get("max_episode_steps")
    setup["normalize_obs"], setup["normalize_reward"] = zoo_normalization(env_id, entry.get("normalize", False))
    if entry.get("policy", "MlpPolicy") != "MlpPolicy":
        raise ValueError(f"{env_id}: only MlpPolicy entries can be presets, got {entry['policy']!r}")
    return Preset(
        description="its entry of reinforce.yml (tuning/README.md: how it was chosen, or that it is not tuned yet)",
        setup=EnvSetup(env_id, **setup),
        hyperparams=hyperparams,
        timesteps=int(entry["n_timesteps"]),
        n_envs=int(entry.get("n_envs", 1)),
    )


def zoo_entry_from_preset(preset: Preset) -> dict[str, Any]:
    """
    The entry of the zoo's file that trains ``preset`` (the inverse of :func:`preset_from_zoo_entry`).

    :param preset: A :class:`~sb3_reinforce.experiments.presets.Preset` of Reinforce
    :return: The entry, as PyYAML reads it back
    """
    setup = preset.setup
    entry: dict[str, Any] = {}
    wrappers: list[Any] = []
    if setup.actions == "bernoulli":
        bounds = {key: value for key, value in (("low", setup.action_low), ("high", setup.action_high)) if value is not None}
        wrappers.append({BERNOULLI_WRAPPER: bounds} if bounds else BERNOULLI_WRAPPER)
    for name, shaping in SHAPING_WRAPPERS.items():
        if setup.shaping == shaping:
            wrappers.append({name: {"gamma": preset.hyperparams["gamma"]}} if shaping == "energy" else name)
    if wrappers:
        entry["env_wrapper"] = wrappers
    if setup.max_episode_steps is not None:
        entry["env_kwargs"] = {"max_episode_steps": setup.max_episode_steps}
    if setup.normalized:
        entry["normalize"] = f"dict(norm_obs={setup.normalize_obs}, norm_reward={setup.normalize_reward})"
    entry["n_timesteps"] = float(preset.timesteps)
    entry["policy"] = "MlpPolicy"
    if preset.n_envs != 1:
        entry["n_envs"] = preset.n_envs
    entry.update(preset.hyperparams)
    return entry


def zoo_presets(path: Path = ZOO_HYPERPARAMS_FILE) -> dict[str, Preset]:
    """Every entry of the zoo's file as a preset, by env id."""
    return {env_id: preset_from_zoo_entry(env_id, entry) for env_id, entry in load_zoo_entries(path).items()}
