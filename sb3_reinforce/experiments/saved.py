"""
Saved models: the files a run writes beside its model (:class:`RunPaths`), save paths that never overwrite an earlier
run (:func:`choose_save_path`), and loading a model together with the env it acts in (:func:`load_trained`,
:func:`load_run`).

A model saved by :func:`~sb3_reinforce.experiments.run.train` (the command line's ``train``) has its run config
``P.json`` and, when normalized, ``P_vecnormalize.pkl`` beside ``P.zip``: loading rebuilds its env from them (action
wrapper, frozen observation statistics). A model saved from Python (``model.save("P")``) has no ``P.json``: name its
env (``env_id``) and, if it was trained with ``VecNormalize``, the saved statistics (``vecnormalize_path``).

    >>> from stable_baselines3.common.evaluation import evaluate_policy
    >>> model, env = load_trained("models/mcc_solved_seed0")  # doctest: +SKIP
    >>> evaluate_policy(model, env, n_eval_episodes=100)  # doctest: +SKIP
    (92.8..., 0.07...)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.vec_env import VecEnv, VecTransposeImage

from sb3_reinforce.experiments.config import RunConfig
from sb3_reinforce.experiments.envs import EnvSetup, check_env_id, load_normalization, make_env
from sb3_reinforce.experiments.hyperparameters import ALGOS, check_algo

__all__ = [
    "DEFAULT_EVAL_SEED",
    "LoadedRun",
    "RunFilesError",
    "RunPaths",
    "choose_save_path",
    "load_run",
    "load_trained",
]

#: Seed of the evaluation env, the same in ``train``'s final evaluation and in ``evaluate``, so that both print the
#: same numbers for a saved model.
DEFAULT_EVAL_SEED = 0


class RunFilesError(ValueError):
    """Saved run files that exist but are not what :func:`train` writes (corrupt model, invalid config)."""


@dataclass(frozen=True)
class RunPaths:
    """``P`` (given with or without ``.zip``) and the files saved beside it."""

    base: Path

    @classmethod
    def of(cls, save_path: str | os.PathLike[str]) -> RunPaths:
        base = Path(save_path)
        return cls(base.with_suffix("") if base.suffix == ".zip" else base)

    @property
    def model(self) -> Path:
        return self.base.with_name(self.base.name + ".zip")

    @property
    def config(self) -> Path:
        return self.base.with_name(self.base.name + ".json")

    @property
    def vecnormalize(self) -> Path:
        return self.base.with_name(self.base.name + "_vecnormalize.pkl")

    @property
    def interrupted(self) -> RunPaths:
        """Where a run stopped by Ctrl-C is saved: ``P_interrupted``."""
        return RunPaths(self.base.with_name(self.base.name + "_interrupted"))

    def existing(self) -> list[Path]:
        """The files of this run, and of its interrupted run, that exist."""
        candidates = (self.model, self.config, self.vecnormalize)
        interrupted = self.interrupted
        return [
            path for path in (*candidates, interrupted.model, interrupted.config, interrupted.vecnormalize) if path.exists()
        ]


def choose_save_path(save_path: str | os.PathLike[str] | None, default: str | os.PathLike[str], force: bool = False) -> Path:
    """
    Where a new run is saved, without overwriting an earlier one unless asked to.

    :param save_path: The path the user chose (None: use ``default``)
    :param default: The default path ``P``: the first of ``P``, ``P_1``, ``P_2``... with no file yet is used, as the
        RL Zoo numbers its runs
    :param force: Overwrite the files of an explicit ``save_path``
    :return: The base path ``P`` (without ``.zip``)
    :raise ValueError: If an explicit ``save_path`` has files and ``force`` is False, naming the first one
    """
    if save_path is None:
        base = RunPaths.of(default)
        candidate, number = base, 0
        while candidate.existing():
            number += 1
            candidate = RunPaths(base.base.with_name(f"{base.base.name}_{number}"))
        return candidate.base
    paths = RunPaths.of(save_path)
    existing = paths.existing()
    if existing and not force:
        raise ValueError(f"{existing[0]} exists: pass --force to overwrite it, or choose another --save-path")
    return paths.base


def _same_space(model_space: spaces.Space, env_space: spaces.Space) -> bool:
    if model_space == env_space:
        return True
    # SB3 transposes channel-last images for the policy; predict() transposes them back
    return (
        isinstance(env_space, spaces.Box)
        and is_image_space(env_space)
        and VecTransposeImage.transpose_space(env_space) == model_space
    )


@dataclass
class LoadedRun:
    """
    A saved model with its config and (optional) normalization statistics.

    :param model: The model
    :param config: Its run config (for a model saved from Python: a plain setup of the env it was given)
    :param vecnormalize_path: Saved ``VecNormalize`` statistics (None: none)
    :param trained_on: The env the model was trained on, as its run file says (None: no run file)
    """

    model: BaseAlgorithm
    config: RunConfig
    vecnormalize_path: str | None
    trained_on: str | None = None

    def make_env(self, seed: int | None = DEFAULT_EVAL_SEED, render_mode: str | None = None, **kwargs: Any) -> VecEnv:
        """
        The evaluation env (true reward, own time limit) with the model's action and observation interface.

        :param seed: Seed of the env (None: random)
        :param render_mode: Render mode of the envs (None: none)
        :param kwargs: More arguments of :func:`~sb3_reinforce.experiments.envs.make_env` (``n_envs``, ``vec_env_cls``)
        :raise ValueError: If the env cannot be built for the model, or its spaces are not the model's
        """
        env_id = self.config.env_id
        trained = f" (the model was trained on {self.trained_on})" if self.trained_on not in (None, env_id) else ""
        setup = self.config.env_setup
        try:
            env = make_env(setup, seed=seed, gamma=self.config.gamma, train=False, render_mode=render_mode, **kwargs)
        except (TypeError, ValueError, AssertionError, gym.error.Error) as error:
            raise ValueError(f"cannot build {env_id} for the model{trained}: {error}") from error
        # Checked before the statistics are loaded: VecNormalize's own shape error would not name the envs
        for kind in ("observation", "action"):
            model_space, env_space = getattr(self.model, f"{kind}_space"), getattr(env, f"{kind}_space")
            if not _same_space(model_space, env_space):
                env.close()
                hint = ""
                if kind == "action" and self.trained_on is None:
                    hint = "; a model trained through an action wrapper (BernoulliToContinuous...) is used in Python, wrapped"
                raise ValueError(f"the model's {kind} space {model_space} is not {env_id}'s {env_space}{trained}{hint}")
        if self.vecnormalize_path is None:
            return env
        try:
            return load_normalization(env, self.vecnormalize_path)
        except Exception as error:  # a corrupt pickle fails in many ways
            env.close()
            raise RunFilesError(f"cannot load {self.vecnormalize_path}: {type(error).__name__}: {error}") from error


def _read_config(paths: RunPaths) -> RunConfig:
    try:
        return RunConfig.from_dict(json.loads(paths.config.read_text()))
    except (ValueError, KeyError, TypeError) as error:
        raise RunFilesError(f"{paths.config} is not a valid run config: {type(error).__name__}: {error}") from error


def load_run(
    model_path: str | os.PathLike[str],
    env_id: str | None = None,
    vecnormalize_path: str | os.PathLike[str] | None = None,
    algo: str | None = None,
    device: str = "auto",
) -> LoadedRun:
    """
    Load ``P.zip`` with ``P.json`` and ``P_vecnormalize.pkl`` from beside it, or a model saved from Python.

    :param model_path: ``P`` or ``P.zip``
    :param env_id: The env to act in: required for a model with no ``P.json`` (saved from Python); for a model with
        one, another env with the same spaces and the run's action interface (None: the run's env)
    :param vecnormalize_path: Saved ``VecNormalize`` statistics (None: ``P_vecnormalize.pkl`` if the run normalized)
    :param algo: A key of :data:`~sb3_reinforce.experiments.hyperparameters.ALGOS` (None: the run file's, else
        ``"reinforce"``)
    :param device: Torch device of the model
    :raise ValueError: If a file is missing, or the arguments contradict the run file
    :raise RunFilesError: If a file is not what :func:`train` writes
    """
    paths = RunPaths.of(model_path)
    if not paths.model.is_file():
        raise ValueError(f"model file not found: {paths.model}")
    if algo is not None:
        check_algo(algo)
    trained_on = None
    if paths.config.is_file():
        config = _read_config(paths)
        trained_on = config.env_id
        if algo is not None and algo != config.algo:
            raise ValueError(f"{paths.config} says the model is a {config.algo} model, not {algo}")
        if env_id is not None and env_id != config.env_id:
            check_env_id(env_id)
            config = dataclasses.replace(config, env_setup=dataclasses.replace(config.env_setup, env_id=env_id))
    elif env_id is None:
        raise ValueError(
            f"config file not found: {paths.config} (written by `sb3-reinforce train` beside the model); "
            "for a model saved from Python, name its env: --env ENV_ID (and --vecnormalize PATH if it was normalized)"
        )
    else:
        setup = EnvSetup(env_id, normalize_obs=vecnormalize_path is not None)
        config = RunConfig(algo or "reinforce", setup, source=f"model saved from Python ({paths.model.name})")
    try:
        model = ALGOS[config.algo].load(paths.model, device=device)
    except Exception as error:  # a corrupt file fails in many ways (zipfile, pickle, torch, KeyError...)
        raise RunFilesError(f"cannot load {paths.model} as a {config.algo} model: {type(error).__name__}: {error}") from error
    if vecnormalize_path is not None:
        if not Path(vecnormalize_path).is_file():
            raise ValueError(f"normalization statistics not found: {vecnormalize_path}")
    elif config.env_setup.normalized:
        if not paths.vecnormalize.is_file():
            raise ValueError(f"normalization statistics not found: {paths.vecnormalize} (the model was trained with them)")
        vecnormalize_path = paths.vecnormalize
    return LoadedRun(
        model=model,
        config=config,
        vecnormalize_path=None if vecnormalize_path is None else str(vecnormalize_path),
        trained_on=trained_on,
    )


def load_trained(
    model_path: str | os.PathLike[str],
    env_id: str | None = None,
    vecnormalize_path: str | os.PathLike[str] | None = None,
    seed: int | None = DEFAULT_EVAL_SEED,
    n_envs: int = 1,
    render_mode: str | None = None,
    algo: str | None = None,
    device: str = "auto",
) -> tuple[BaseAlgorithm, VecEnv]:
    """
    Load a saved model and the env to evaluate it in, in one call.

    The env is the true task as the model sees it: the action wrapper it was trained with (``BernoulliToContinuous``
    for the MountainCar presets), its observation statistics frozen (``VecNormalize`` with ``training=False`` and
    ``norm_reward=False``), the env's own reward (no shaping) and time limit. So ``evaluate_policy(model, env)`` scores
    the true reward, as ``sb3-reinforce evaluate`` does.

    :param model_path: ``P`` or ``P.zip``, saved by :func:`~sb3_reinforce.experiments.run.train` (the command line's
        ``train``) or from Python (then ``env_id`` is required)
    :param env_id: The env of a model saved from Python (see :func:`load_run`)
    :param vecnormalize_path: Its saved ``VecNormalize`` statistics, if it was trained with them
    :param seed: Seed of the env (None: random)
    :param n_envs: Number of envs of the returned VecEnv
    :param render_mode: Render mode of the envs (``"human"``, ``"rgb_array"``; None: none)
    :param algo: The algorithm of a model saved from Python (None: ``"reinforce"``)
    :param device: Torch device of the model
    :return: ``(model, env)``
    :raise ValueError: If a file is missing or the env does not fit the model
    """
    run = load_run(model_path, env_id=env_id, vecnormalize_path=vecnormalize_path, algo=algo, device=device)
    return run.model, run.make_env(seed=seed, render_mode=render_mode, n_envs=n_envs)
