"""
Command-line interface: train, evaluate, watch and record agents on the presets of :mod:`sb3_reinforce.presets`.

    python -m sb3_reinforce train --preset solved --seed 0 --save-path models/mcc_solved_seed0
    python -m sb3_reinforce evaluate --model models/mcc_solved_seed0 --episodes 100 --json
    python -m sb3_reinforce enjoy --model models/mcc_solved_seed0 --episodes 3
    python -m sb3_reinforce record --model models/mcc_solved_seed0 --output docs/mountain_car.gif
    python -m sb3_reinforce benchmark --help

``train`` saves, beside the model ``P.zip``, what is needed to use it again (as RL-Zoo does): ``P.json`` (env id,
algorithm, preset, env setup, hyperparameters, seed, budget, versions, command line and evaluation results) and,
when observations are normalized, ``P_vecnormalize.pkl``. ``evaluate``, ``enjoy`` and ``record`` rebuild the env
from them with the same action and observation interface, but the env's **true** reward and its own time limit.

The functions :func:`make_config`, :func:`train`, :func:`load_run`, :func:`evaluate` and :func:`record` are the same
steps as a Python API (``examples/mountain_car.py`` uses them).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3 as sb3
import torch as th
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, EvalCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize, sync_envs_normalization

import sb3_reinforce
from sb3_reinforce import presets
from sb3_reinforce.common.arguments import non_negative_int, positive_int
from sb3_reinforce.presets import ACTION_INTERFACES, PRESETS, SHAPINGS, EnvSetup
from sb3_reinforce.reinforce import Reinforce

__all__ = [
    "ALGOS",
    "CLIError",
    "EvalResult",
    "LoadedRun",
    "TrainConfig",
    "evaluate",
    "load_run",
    "main",
    "make_config",
    "parse_hyperparameter",
    "record",
    "train",
]

PROG = "sb3-reinforce"

#: Algorithms the CLI can train: REINFORCE and, for comparison, SB3's PPO, A2C and SAC (with SB3's defaults).
ALGOS: dict[str, type[BaseAlgorithm]] = {"reinforce": Reinforce, "ppo": PPO, "a2c": A2C, "sac": SAC}

DEFAULT_PRESET = "solved"
#: Budget of a run on an env that has no preset (``--env`` other than the preset's env, no ``--timesteps``).
DEFAULT_TIMESTEPS = 100_000
#: Seed of the evaluation env (``evaluate --seed``, and the final evaluation of ``train``): the same default in
#: both, so that ``train`` and a later ``evaluate`` of the saved model print the same numbers.
DEFAULT_EVAL_SEED = 0

# Constructor arguments that the CLI sets from its own flags, or that are not hyperparameters
_RESERVED_ARGS = {
    "self": None,
    "policy": None,
    "env": None,
    "_init_setup_model": None,
    "seed": "--seed",
    "tensorboard_log": "--tensorboard-log",
    "verbose": "--verbose",
    "device": "--device",
}


class CLIError(Exception):
    """A user error: printed as one line ``sb3-reinforce <command>: error: <message>``, exit code ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """
    Everything that defines a training run; saved as ``P.json`` beside the model ``P.zip``.

    :param env_id: Gymnasium id of the env
    :param algo: Key of :data:`ALGOS`
    :param preset: Name of the preset the run started from (None: a plain setup for an env without preset)
    :param env_setup: How the env is presented to the agent during training
    :param hyperparams: Keyword arguments of the algorithm (JSON-friendly: ``policy_kwargs="notebook"`` shorthand,
        activation functions as names)
    :param seed: Seed of the algorithm and of the training envs
    :param timesteps: Training budget (env steps)
    :param n_envs: Number of training envs
    :param policy: Policy alias
    """

    env_id: str
    algo: str
    preset: str | None
    env_setup: EnvSetup
    hyperparams: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    timesteps: int = DEFAULT_TIMESTEPS
    n_envs: int = 1
    policy: str = "MlpPolicy"

    @property
    def gamma(self) -> float:
        """Discount factor of the run: the ``gamma`` hyperparameter, or the algorithm's default."""
        if "gamma" in self.hyperparams:
            return float(self.hyperparams["gamma"])
        return float(inspect.signature(ALGOS[self.algo].__init__).parameters["gamma"].default)

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
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(
            env_id=data["env_id"],
            algo=data["algo"],
            preset=data.get("preset"),
            env_setup=EnvSetup(**data["env_setup"]),
            hyperparams=dict(data.get("hyperparams", {})),
            seed=int(data.get("seed", 0)),
            timesteps=int(data.get("timesteps", DEFAULT_TIMESTEPS)),
            n_envs=int(data.get("n_envs", 1)),
            policy=data.get("policy", "MlpPolicy"),
        )


def parse_hyperparameter(text: str) -> tuple[str, Any]:
    """
    Parse ``key=value``: the value is read with :func:`ast.literal_eval` (numbers, booleans, None, lists, dicts...),
    and kept as a string when it is not a Python literal (``baseline=value``).

    :param text: ``key=value``
    :return: ``(key, value)``
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = raw.strip()
    return key, value


def algo_arguments(algo: str) -> dict[str, inspect.Parameter]:
    """The hyperparameters that ``--hp`` may set for ``algo``: the constructor's arguments, less the CLI's own."""
    parameters = inspect.signature(ALGOS[algo].__init__).parameters
    return {name: param for name, param in parameters.items() if name not in _RESERVED_ARGS}


def check_hyperparameters(algo: str, hyperparams: dict[str, Any]) -> None:
    """Raise :class:`CLIError` for a name that is not an argument of the algorithm's constructor."""
    valid = algo_arguments(algo)
    for name in hyperparams:
        if _RESERVED_ARGS.get(name):
            raise CLIError(f"hyperparameter {name!r} is set with {_RESERVED_ARGS[name]}, not --hp")
        if name not in valid:
            raise CLIError(f"unknown hyperparameter {name!r} for {ALGOS[algo].__name__}; valid names: {', '.join(valid)}")


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
) -> TrainConfig:
    """
    Build a run's configuration from a preset and overrides (the ``train`` flags).

    * No ``env_id``, or the preset's env: start from the preset (``solved`` by default).
    * Another ``env_id`` with no ``preset``: start from a plain setup for that env (its own action space, no shaping,
      its own time limit, no normalization), the algorithm's default hyperparameters and 100k steps.
      A preset named together with another env is an error: presets are recipes for their own env.
    * ``algo`` other than ``reinforce``: the preset's env setup is kept, its (REINFORCE) hyperparameters are dropped,
      so the algorithm runs with SB3's defaults.
    * The remaining arguments override the result; ``hyperparams`` are merged into the preset's.

    :raise CLIError: for an unknown preset, env, algorithm or hyperparameter, or a bad combination
    """
    if algo not in ALGOS:
        raise CLIError(f"unknown algorithm {algo!r}: expected one of {', '.join(ALGOS)}")
    if preset is not None and preset not in PRESETS:
        raise CLIError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
    base_preset = PRESETS[preset or DEFAULT_PRESET]
    preset_name: str | None = preset or DEFAULT_PRESET
    if env_id is not None and env_id != base_preset.setup.env_id:
        if preset is not None:
            raise CLIError(
                f"preset {preset!r} is a recipe for {base_preset.setup.env_id}, not {env_id}: "
                f"drop --preset to train on {env_id} from the algorithm's defaults"
            )
        try:
            setup = EnvSetup(env_id)
        except ValueError as error:
            raise CLIError(str(error)) from error
        base_preset = presets.Preset(description=f"plain setup for {env_id}", setup=setup, timesteps=DEFAULT_TIMESTEPS)
        preset_name = None

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
    try:
        setup = dataclasses.replace(base_preset.setup, **setup_changes)
    except ValueError as error:
        raise CLIError(str(error)) from error

    # The preset's hyperparameters are tuned for REINFORCE: other algorithms start from SB3's defaults
    merged = dict(base_preset.hyperparams) if algo == "reinforce" else {}
    merged.update(hyperparams or {})
    check_hyperparameters(algo, merged)

    if algo == "sac" and setup.actions == "bernoulli":
        raise CLIError("sac needs a continuous (Box) action space: use --actions continuous (bernoulli gives MultiBinary)")
    return TrainConfig(
        env_id=setup.env_id,
        algo=algo,
        preset=preset_name,
        env_setup=setup,
        hyperparams=merged,
        seed=seed,
        timesteps=base_preset.timesteps if timesteps is None else timesteps,
        n_envs=base_preset.n_envs if n_envs is None else n_envs,
    )


def _activation(name: str) -> type[th.nn.Module]:
    """``"ELU"``, ``"nn.ELU"``, ``"th.nn.ELU"`` or ``"elu"`` -> ``torch.nn.ELU``."""
    short = name.rsplit(".", 1)[-1]
    for candidate in dir(th.nn):
        if candidate.lower() == short.lower():
            obj = getattr(th.nn, candidate)
            if isinstance(obj, type) and issubclass(obj, th.nn.Module):
                return obj
    raise CLIError(f"unknown activation function {name!r}: expected a torch.nn module name such as 'Tanh' or 'ELU'")


def build_hyperparams(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """Turn the JSON-friendly hyperparameters of a config into constructor arguments."""
    kwargs = presets.resolve_policy_kwargs(hyperparams)
    policy_kwargs = kwargs.get("policy_kwargs")
    if isinstance(policy_kwargs, str):
        raise CLIError(f"policy_kwargs must be a dict or 'notebook', got {policy_kwargs!r}")
    if isinstance(policy_kwargs, dict) and isinstance(policy_kwargs.get("activation_fn"), str):
        kwargs["policy_kwargs"] = {**policy_kwargs, "activation_fn": _activation(policy_kwargs["activation_fn"])}
    return kwargs


# ---------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------


class ShapedReturnCallback(BaseCallback):
    """
    Log the return of the reward the agent is trained on (``rollout/ep_shaped_rew_mean``), beside the true return.

    SB3's ``Monitor`` sits inside the shaping wrappers (``make_vec_env``), so ``rollout/ep_rew_mean`` is the env's
    true return; this sums the rewards that the algorithm receives, per env, over each finished episode.
    """

    def __init__(self, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.window = window
        self._running: np.ndarray | None = None
        self._returns: list[float] = []

    def _on_rollout_start(self) -> None:
        # Reinforce starts every rollout with fresh episodes (resetting any half-played one)
        if isinstance(self.model, Reinforce) and self._running is not None:
            self._running[:] = 0.0

    def _on_step(self) -> bool:
        rewards = np.asarray(self.locals["rewards"], dtype=np.float64).reshape(-1)
        dones = np.asarray(self.locals["dones"], dtype=bool).reshape(-1)
        if self._running is None:
            self._running = np.zeros_like(rewards)
        self._running += rewards
        for idx in np.flatnonzero(dones):
            self._returns.append(float(self._running[idx]))
            self._running[idx] = 0.0
        if dones.any():
            self._returns = self._returns[-self.window :]
            self.logger.record("rollout/ep_shaped_rew_mean", float(np.mean(self._returns)))
        return True


class EvalHistoryCallback(BaseCallback):
    """Called by ``EvalCallback`` after each evaluation: keeps ``(timesteps, mean true reward)``."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[int, float]] = []

    def _on_step(self) -> bool:
        assert isinstance(self.parent, EvalCallback)
        self.history.append((self.num_timesteps, float(self.parent.last_mean_reward)))
        return True


@dataclass
class EvalResult:
    """Mean and standard deviation of the true return over ``n_episodes`` episodes."""

    mean_reward: float
    std_reward: float
    n_episodes: int
    env_id: str
    mean_length: float = 0.0
    episode_rewards: list[float] = field(default_factory=list)
    deterministic: bool = True

    def to_json(self) -> str:
        return json.dumps(
            {
                "mean_reward": self.mean_reward,
                "std_reward": self.std_reward,
                "n_episodes": self.n_episodes,
                "env_id": self.env_id,
            }
        )

    def summary(self) -> str:
        return (
            f"{self.env_id}: true reward {self.mean_reward:.2f} +/- {self.std_reward:.2f} over {self.n_episodes} "
            f"{'deterministic' if self.deterministic else 'stochastic'} episodes (mean length {self.mean_length:.1f})"
        )


def make_eval_env(
    config: TrainConfig,
    seed: int | None = DEFAULT_EVAL_SEED,
    vecnormalize_path: str | None = None,
    render_mode: str | None = None,
) -> VecEnv:
    """
    The evaluation env of a run: the training action interface, the env's true reward and own time limit.

    :param vecnormalize_path: Saved observation statistics (frozen); without it, a model trained with normalized
        observations gets a frozen ``VecNormalize`` whose statistics the caller must fill (as ``EvalCallback`` does)
    """
    env = presets.make_env(config.env_setup, n_envs=1, seed=seed, gamma=config.gamma, train=False, render_mode=render_mode)
    if vecnormalize_path is not None:
        return presets.load_normalization(env, vecnormalize_path)
    if config.env_setup.normalize_obs:
        return VecNormalize(env, training=False, norm_obs=True, norm_reward=False, gamma=config.gamma)
    return env


def evaluate_model(model: BaseAlgorithm, env: VecEnv, n_episodes: int, env_id: str, deterministic: bool = True) -> EvalResult:
    """Play ``n_episodes`` episodes and summarize their true returns (``Monitor`` sits inside any shaping)."""
    rewards, lengths = evaluate_policy(
        model, env, n_eval_episodes=n_episodes, deterministic=deterministic, return_episode_rewards=True
    )
    rewards_arr = np.asarray(rewards, dtype=np.float64)
    return EvalResult(
        mean_reward=float(rewards_arr.mean()),
        std_reward=float(rewards_arr.std()),
        n_episodes=len(rewards_arr),
        env_id=env_id,
        mean_length=float(np.mean(lengths)),
        episode_rewards=[float(r) for r in rewards_arr],
        deterministic=deterministic,
    )


def _paths(save_path: str | os.PathLike[str]) -> tuple[Path, Path, Path, Path]:
    """``P`` (with or without ``.zip``) -> ``(P, P.zip, P.json, P_vecnormalize.pkl)``."""
    base = Path(save_path)
    if base.suffix == ".zip":
        base = base.with_suffix("")
    return (
        base,
        base.with_name(base.name + ".zip"),
        base.with_name(base.name + ".json"),
        base.with_name(base.name + "_vecnormalize.pkl"),
    )


def _versions() -> dict[str, str]:
    return {
        "sb3_reinforce": sb3_reinforce.__version__,
        "stable_baselines3": sb3.__version__,
        "gymnasium": gym.__version__,
        "torch": th.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }


def train(
    config: TrainConfig,
    save_path: str | os.PathLike[str] | None = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = True,
    eval_episodes: int = 100,
    eval_seed: int = DEFAULT_EVAL_SEED,
    eval_freq: int = 0,
    eval_freq_episodes: int = 10,
    verbose: int = 0,
    device: str = "auto",
    command: str | None = None,
) -> tuple[BaseAlgorithm, EvalResult | None]:
    """
    Train, save (``P.zip``, ``P.json``, ``P_vecnormalize.pkl``) and evaluate on the true task.

    :param config: The run
    :param save_path: ``P``: where to save (None: do not save)
    :param tensorboard_log: TensorBoard folder (None: no TensorBoard)
    :param progress_bar: Show SB3's progress bar
    :param eval_episodes: Episodes of the final evaluation (0: none)
    :param eval_seed: Seed of the evaluation env
    :param eval_freq: Evaluate on the true task every ``eval_freq`` env steps during training (0: never);
        logged as ``eval/mean_reward`` and kept in ``P.json``
    :param eval_freq_episodes: Episodes of each periodic evaluation
    :param verbose: Verbosity of the algorithm (1: SB3's log tables)
    :param device: Torch device
    :param command: Command line to record in ``P.json``
    :return: The trained model and its final evaluation (None when ``eval_episodes`` is 0)
    """
    algo_cls = ALGOS[config.algo]
    kwargs = build_hyperparams(config.hyperparams)
    try:
        env = presets.make_env(config.env_setup, n_envs=config.n_envs, seed=config.seed, gamma=config.gamma, train=True)
    except (ValueError, TypeError, gym.error.Error) as error:
        raise CLIError(f"cannot build {config.env_id} with {config.env_setup.actions} actions: {error}") from error
    env = presets.normalize(env, config.env_setup, config.gamma)
    try:
        model = algo_cls(
            config.policy, env, seed=config.seed, tensorboard_log=tensorboard_log, verbose=verbose, device=device, **kwargs
        )
    except (ValueError, TypeError, AssertionError) as error:  # SB3 checks action spaces with assert
        env.close()
        raise CLIError(f"cannot build {algo_cls.__name__} on {config.env_id}: {error}") from error

    callbacks: list[BaseCallback] = []
    if config.env_setup.shaping != "none":
        callbacks.append(ShapedReturnCallback())
    history = EvalHistoryCallback()
    if eval_freq > 0:
        eval_env = make_eval_env(config, seed=eval_seed)
        callbacks.append(
            EvalCallback(
                eval_env,
                callback_after_eval=history,
                n_eval_episodes=eval_freq_episodes,
                eval_freq=max(eval_freq // config.n_envs, 1),
                deterministic=True,
                verbose=0,
            )
        )

    tb_log_name = f"{algo_cls.__name__}_{config.preset or config.env_id}_seed{config.seed}"
    start = time.perf_counter()
    interrupted = False
    try:
        model.learn(config.timesteps, callback=CallbackList(callbacks), tb_log_name=tb_log_name, progress_bar=progress_bar)
    except KeyboardInterrupt:
        interrupted = True
        print(f"Interrupted after {model.num_timesteps} steps", file=sys.stderr)
    train_time = time.perf_counter() - start
    print(f"Trained {algo_cls.__name__} on {config.env_id} for {model.num_timesteps} steps in {train_time:.1f} s")

    result = None
    if eval_episodes > 0 and not interrupted:
        eval_env = make_eval_env(config, seed=eval_seed)
        sync_envs_normalization(env, eval_env)
        result = evaluate_model(model, eval_env, eval_episodes, config.env_id)
        eval_env.close()

    if save_path is not None:
        _save_run(model, env, config, save_path, train_time, history.history, result, command)
    env.close()
    if result is not None:
        print(f"Evaluation: {result.summary()}")
    if interrupted:
        raise KeyboardInterrupt
    return model, result


def _save_run(
    model: BaseAlgorithm,
    env: VecEnv,
    config: TrainConfig,
    save_path: str | os.PathLike[str],
    train_time: float,
    history: list[tuple[int, float]],
    result: EvalResult | None,
    command: str | None,
) -> None:
    base, zip_path, json_path, norm_path = _paths(save_path)
    base.parent.mkdir(parents=True, exist_ok=True)
    model.save(zip_path)
    data = config.to_dict()
    data["vecnormalize"] = None
    if isinstance(env, VecNormalize):
        env.save(str(norm_path))
        data["vecnormalize"] = norm_path.name
    data.update(
        num_timesteps=int(model.num_timesteps),
        train_time_s=round(train_time, 2),
        evaluations=[[t, r] for t, r in history],
        final_evaluation=None if result is None else {**json.loads(result.to_json()), "mean_length": result.mean_length},
        versions=_versions(),
        sb3_reinforce_version=sb3_reinforce.__version__,
        command=command,
    )
    json_path.write_text(json.dumps(data, indent=2, default=repr) + "\n")
    print(f"Saved {zip_path}, {json_path.name}" + (f" and {norm_path.name}" if data["vecnormalize"] else ""))


# ---------------------------------------------------------------------------------------------------------------
# Using a saved model
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class LoadedRun:
    """A saved model with its config and (optional) observation statistics."""

    model: BaseAlgorithm
    config: TrainConfig
    vecnormalize_path: str | None

    def make_env(self, seed: int | None = DEFAULT_EVAL_SEED, render_mode: str | None = None) -> VecEnv:
        """The evaluation env (true reward, own time limit) with the model's action and observation interface."""
        return make_eval_env(self.config, seed=seed, vecnormalize_path=self.vecnormalize_path, render_mode=render_mode)


def load_run(model_path: str | os.PathLike[str], device: str = "auto") -> LoadedRun:
    """
    Load ``P.zip`` with ``P.json`` and ``P_vecnormalize.pkl`` from beside it.

    :param model_path: ``P`` or ``P.zip``
    :raise CLIError: if a file is missing (exit code 2) or is not what ``train`` writes (exit code 1)
    """
    _, zip_path, json_path, norm_path = _paths(model_path)
    if not zip_path.is_file():
        raise CLIError(f"model file not found: {zip_path}")
    if not json_path.is_file():
        raise CLIError(f"config file not found: {json_path} (written by `{PROG} train` beside the model)")
    try:
        config = TrainConfig.from_dict(json.loads(json_path.read_text()))
    except (ValueError, KeyError, TypeError) as error:
        raise CLIError(f"{json_path} is not a valid run config: {type(error).__name__}: {error}", exit_code=1) from error
    if config.algo not in ALGOS:
        raise CLIError(f"{json_path}: unknown algorithm {config.algo!r}", exit_code=1)
    try:
        model = ALGOS[config.algo].load(zip_path, device=device)
    except Exception as error:  # a corrupt file fails in many ways (zipfile, pickle, torch, KeyError...)
        raise CLIError(
            f"cannot load {zip_path} as a {config.algo} model: {type(error).__name__}: {error}", exit_code=1
        ) from error
    vecnormalize_path = None
    if config.env_setup.normalize_obs:
        if not norm_path.is_file():
            raise CLIError(
                f"normalization statistics not found: {norm_path} (the model was trained with normalized observations)"
            )
        vecnormalize_path = str(norm_path)
    return LoadedRun(model=model, config=config, vecnormalize_path=vecnormalize_path)


def evaluate(
    model_path: str | os.PathLike[str], n_episodes: int = 100, seed: int = DEFAULT_EVAL_SEED, deterministic: bool = True
) -> EvalResult:
    """Mean true reward of a saved model over ``n_episodes`` episodes (unshaped env, its own time limit)."""
    run = load_run(model_path)
    env = run.make_env(seed=seed)
    try:
        return evaluate_model(run.model, env, n_episodes, run.config.env_id, deterministic=deterministic)
    finally:
        env.close()


def enjoy(
    model_path: str | os.PathLike[str],
    n_episodes: int = 3,
    seed: int = DEFAULT_EVAL_SEED,
    render_mode: str | None = None,
    deterministic: bool = True,
) -> list[float]:
    """Play episodes with a saved model, printing each one's true return and length."""
    run = load_run(model_path)
    env = run.make_env(seed=seed, render_mode=render_mode)
    returns: list[float] = []
    obs = env.reset()
    while len(returns) < n_episodes:
        action, _ = run.model.predict(obs, deterministic=deterministic)  # type: ignore[arg-type]
        obs, _, dones, infos = env.step(action)
        if dones[0]:
            episode = infos[0]["episode"]  # Monitor: the env's own reward (no shaping at evaluation)
            returns.append(float(episode["r"]))
            print(f"Episode {len(returns)}: true return {episode['r']:.2f}, length {episode['l']}")
    env.close()
    print(f"Mean true return over {n_episodes} episodes: {np.mean(returns):.2f} +/- {np.std(returns):.2f}")
    return returns


class _FrameCapture(gym.Wrapper):
    """Render after every reset and step, keeping the frames of each episode (including its last one)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.episodes: list[list[np.ndarray]] = []

    def reset(self, **kwargs: Any) -> Any:
        result = self.env.reset(**kwargs)
        self.episodes.append([np.asarray(self.env.render())])
        return result

    def step(self, action: Any) -> Any:
        result = self.env.step(action)
        self.episodes[-1].append(np.asarray(self.env.render()))
        return result


def _resize(frame: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return frame
    from PIL import Image

    height, width = frame.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))


def record(
    model_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    n_episodes: int = 1,
    seed: int = DEFAULT_EVAL_SEED,
    frame_skip: int = 1,
    fps: float | None = None,
    scale: float = 1.0,
    snapshot: str | os.PathLike[str] | None = None,
    snapshot_index: int | None = None,
    max_frames: int | None = None,
    deterministic: bool = True,
) -> int:
    """
    Render a saved model's episodes (``rgb_array``) to a GIF or MP4, chosen by the ``output`` extension.

    :param frame_skip: Keep one frame in ``frame_skip`` (the last frame of each episode is always kept); the frame
        rate is divided by as much, so the video still plays in real time
    :param fps: Frames per second of the video (None: the env's ``render_fps`` divided by ``frame_skip``)
    :param scale: Resize frames by this factor (1: the env's own frame size)
    :param snapshot: Also save one frame as an image (PNG...)
    :param snapshot_index: Which of the written frames to save (None: the middle of the first episode)
    :param max_frames: Stop after this many rendered frames (None: play the episodes to their end)
    :return: The number of frames written
    """
    import imageio.v3 as iio

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise CLIError(f"unsupported output {output.name!r}: use a .gif or .mp4 file name")
    if frame_skip < 1 or not 0 < scale <= 4:
        raise CLIError("--frame-skip must be >= 1 and --scale in (0, 4]")
    run = load_run(model_path)
    env = presets.make_env(
        run.config.env_setup,
        n_envs=1,
        seed=seed,
        gamma=run.config.gamma,
        train=False,
        render_mode="rgb_array",
        vec_env_cls=DummyVecEnv,
    )
    assert isinstance(env, DummyVecEnv)
    capture = _FrameCapture(env.envs[0])
    env.envs[0] = capture
    vec_env = presets.load_normalization(env, run.vecnormalize_path)

    obs = vec_env.reset()
    finished = 0
    while finished < n_episodes and (max_frames is None or sum(map(len, capture.episodes)) < max_frames):
        action, _ = run.model.predict(obs, deterministic=deterministic)  # type: ignore[arg-type]
        obs, _, dones, _ = vec_env.step(action)
        finished += int(dones[0])
    env_fps = float(capture.metadata.get("render_fps") or 30)
    vec_env.close()

    frames: list[np.ndarray] = []
    for episode in capture.episodes[:n_episodes]:
        kept = episode[::frame_skip]
        if (len(episode) - 1) % frame_skip:
            kept.append(episode[-1])
        frames.extend(_resize(frame, scale) for frame in kept)
    if max_frames is not None:
        frames = frames[:max_frames]
    if not frames:
        raise CLIError("no frame rendered", exit_code=1)
    video_fps = env_fps / frame_skip if fps is None else fps
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        # Pillow: duration of each frame in milliseconds, loop forever
        iio.imwrite(output, np.stack(frames), extension=".gif", duration=1000.0 / video_fps, loop=0)
    else:
        # imageio-ffmpeg (libx264, yuv420p needs even sizes); the default macro block of 16 would resize 600x400 frames
        iio.imwrite(output, np.stack(frames), extension=".mp4", fps=video_fps, macro_block_size=2)
    if snapshot is not None:
        first = len(capture.episodes[0][::frame_skip])
        index = min(first, len(frames)) // 2 if snapshot_index is None else snapshot_index
        if not -len(frames) <= index < len(frames):
            raise CLIError(f"--snapshot-index {index} out of range: {len(frames)} frames written")
        Path(snapshot).parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(Path(snapshot), frames[index])
    print(f"Wrote {len(frames)} frames ({frames[0].shape[1]}x{frames[0].shape[0]}, {video_fps:g} fps) to {output}")
    return len(frames)


# ---------------------------------------------------------------------------------------------------------------
# Argument parsing
# ---------------------------------------------------------------------------------------------------------------

_PRESET_LINES = "\n".join(
    f"  {name:9s} {preset.description} ({preset.setup.env_id}, {preset.timesteps} steps)" for name, preset in PRESETS.items()
)
_TRAIN_EPILOG = f"""
presets (--preset, default {DEFAULT_PRESET}); every other flag overrides the preset's value:
{_PRESET_LINES}

--env: the presets are recipes for {presets.MOUNTAIN_CAR}. With another --env (and no --preset) the run starts from
a plain setup: the env's own action space, no shaping, its own time limit, no observation normalization, the
algorithm's default hyperparameters and {DEFAULT_TIMESTEPS} steps; --actions, --shaping, --hp... still apply.
Naming a preset together with another env is an error.

--algo ppo|a2c|sac: the preset's env setup (actions, shaping, time limit, normalization) is kept, its REINFORCE
hyperparameters are dropped: the algorithm runs with SB3's defaults plus --hp. sac needs --actions continuous.

examples:
  {PROG} train --preset solved --seed 0 --save-path models/mcc_solved_seed0
  {PROG} train --preset notebook --seed 0 --tensorboard-log runs
  {PROG} train --env CartPole-v1 --timesteps 150000 --hp learning_rate=3e-3
  {PROG} train --algo sac --actions continuous --shaping none --timesteps 50000
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _add_model_arguments(parser: argparse.ArgumentParser, episodes: int) -> None:
    parser.add_argument(
        "--model", required=True, help="saved model P or P.zip (P.json and P_vecnormalize.pkl are read beside it)"
    )
    parser.add_argument("--episodes", type=positive_int, default=episodes, help="number of episodes")
    parser.add_argument("--seed", type=int, default=DEFAULT_EVAL_SEED, help="seed of the evaluation env")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the deterministic policy")


def build_parser() -> argparse.ArgumentParser:
    """The ``sb3-reinforce`` argument parser (``benchmark`` forwards its arguments to :mod:`sb3_reinforce.benchmark`)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="REINFORCE for Stable-Baselines3: train, evaluate, watch and record agents on MountainCar and other envs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {sb3_reinforce.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,enjoy,record,benchmark}")

    tr = sub.add_parser(
        "train",
        help="train an agent, save it and evaluate it on the true task",
        description="Train, save (P.zip, P.json, P_vecnormalize.pkl) and evaluate on the env's true reward.",
        epilog=_TRAIN_EPILOG,
        formatter_class=_HelpFormatter,
    )
    tr.add_argument(
        "--preset", choices=sorted(PRESETS), default=None, help=f"recipe to start from (default: {DEFAULT_PRESET})"
    )
    tr.add_argument("--env", default=None, help="Gymnasium env id (default: the preset's env)")
    tr.add_argument("--algo", choices=list(ALGOS), default="reinforce", help="algorithm")
    tr.add_argument(
        "--timesteps", type=positive_int, default=None, help="training budget in env steps (default: the preset's)"
    )
    tr.add_argument("--seed", type=int, default=0, help="seed of the algorithm and the training envs")
    tr.add_argument("--n-envs", type=positive_int, default=None, help="number of training envs (default: the preset's)")
    tr.add_argument(
        "--actions", choices=ACTION_INTERFACES, default=None, help="bernoulli wraps a Box env in BernoulliToContinuous"
    )
    tr.add_argument(
        "--shaping", choices=SHAPINGS, default=None, help="training reward: seed = notebook's 0.1*x^2, energy = potential"
    )
    tr.add_argument("--max-episode-steps", type=positive_int, default=None, help="time limit of training episodes")
    tr.add_argument(
        "--normalize-obs", action=argparse.BooleanOptionalAction, default=None, help="normalize observations (VecNormalize)"
    )
    tr.add_argument(
        "--hp",
        type=parse_hyperparameter,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="algorithm hyperparameter (repeatable), value read as a Python literal, e.g. --hp learning_rate=3e-3 "
        "--hp baseline=value --hp \"policy_kwargs={'net_arch': [64, 64], 'activation_fn': 'Tanh'}\"",
    )
    tr.add_argument("--tensorboard-log", default=None, help="TensorBoard folder (true and shaped returns, losses)")
    tr.add_argument("--save-path", default=None, help="save to P.zip, P.json, P_vecnormalize.pkl (default: models/<run name>)")
    tr.add_argument("--no-save", action="store_true", help="do not save the model")
    tr.add_argument("--eval-episodes", type=non_negative_int, default=100, help="episodes of the final true-reward evaluation")
    tr.add_argument("--eval-seed", type=int, default=DEFAULT_EVAL_SEED, help="seed of the evaluation env")
    tr.add_argument("--eval-freq", type=non_negative_int, default=0, help="evaluate every N steps during training (0: never)")
    tr.add_argument("--eval-freq-episodes", type=positive_int, default=10, help="episodes of each periodic evaluation")
    tr.add_argument("--no-progress-bar", action="store_true", help="hide the progress bar (CI logs)")
    tr.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0, help="SB3 verbosity (1: log tables)")
    tr.add_argument("--device", default="auto", help="torch device")
    tr.add_argument(
        "--num-threads", type=int, default=1, help="torch CPU threads (-1: torch's default); small MLPs run best on 1"
    )

    ev = sub.add_parser(
        "evaluate",
        help="mean true reward of a saved model",
        description="Mean true reward of a saved model: unshaped env, the env's own time limit, deterministic policy.",
        formatter_class=_HelpFormatter,
    )
    _add_model_arguments(ev, episodes=100)
    ev.add_argument("--json", action="store_true", help="print one JSON object on the last line")

    en = sub.add_parser("enjoy", help="play episodes with a saved model", formatter_class=_HelpFormatter)
    _add_model_arguments(en, episodes=3)
    en.add_argument("--render", choices=("none", "human"), default="none", help="human opens a window")

    rec = sub.add_parser("record", help="render a saved model to a GIF or MP4", formatter_class=_HelpFormatter)
    _add_model_arguments(rec, episodes=1)
    rec.add_argument("--output", required=True, help="video file: .gif or .mp4 (mp4 needs imageio-ffmpeg)")
    rec.add_argument("--frame-skip", type=positive_int, default=1, help="keep one frame in N (smaller files)")
    rec.add_argument("--fps", type=float, default=None, help="frame rate (default: the env's, divided by --frame-skip)")
    rec.add_argument("--scale", type=float, default=1.0, help="resize frames by this factor")
    rec.add_argument("--max-frames", type=positive_int, default=None, help="stop after N frames")
    rec.add_argument("--snapshot", default=None, help="also save one frame as an image (e.g. frame.png)")
    rec.add_argument("--snapshot-index", type=int, default=None, help="frame saved by --snapshot (default: mid first episode)")

    sub.add_parser(
        "benchmark",
        help="compare Reinforce with SB3's algorithms (see `benchmark --help`)",
        add_help=False,  # its arguments (and --help) belong to sb3_reinforce.benchmark
    )
    return parser


def _run_benchmark(argv: list[str]) -> int:
    try:
        benchmark = importlib.import_module("sb3_reinforce.benchmark")  # imported only when asked for
    except ImportError as error:
        raise CLIError(f"the benchmark is not available: {error}") from error
    parser = argparse.ArgumentParser(prog=f"{PROG} benchmark", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    benchmark.add_arguments(parser)
    return int(benchmark.run(parser.parse_args(argv)) or 0)


def _train_command(args: argparse.Namespace, argv: list[str]) -> int:
    config = make_config(
        preset=args.preset,
        env_id=args.env,
        algo=args.algo,
        timesteps=args.timesteps,
        seed=args.seed,
        n_envs=args.n_envs,
        actions=args.actions,
        shaping=args.shaping,
        max_episode_steps=args.max_episode_steps,
        normalize_obs=args.normalize_obs,
        hyperparams=dict(args.hp),
    )
    save_path = args.save_path
    if save_path is None and not args.no_save:
        save_path = os.path.join("models", f"{config.algo}_{config.preset or config.env_id}_seed{config.seed}")
    progress_bar = not args.no_progress_bar
    if progress_bar:
        try:
            import rich  # noqa: F401
            import tqdm  # noqa: F401
        except ImportError:
            print("tqdm and rich are not installed (pip install sb3_reinforce[extra]): no progress bar", file=sys.stderr)
            progress_bar = False
    if args.num_threads > 0:
        th.set_num_threads(args.num_threads)
    print(
        f"Training {config.algo} on {config.env_id} (preset {config.preset}, {config.env_setup.actions} actions, "
        f"shaping {config.env_setup.shaping}) for {config.timesteps} steps, seed {config.seed}"
    )
    train(
        config,
        save_path=None if args.no_save else save_path,
        tensorboard_log=args.tensorboard_log,
        progress_bar=progress_bar,
        eval_episodes=args.eval_episodes,
        eval_seed=args.eval_seed,
        eval_freq=args.eval_freq,
        eval_freq_episodes=args.eval_freq_episodes,
        verbose=args.verbose,
        device=args.device,
        command=shlex.join([PROG, *argv]),
    )
    return 0


def _dispatch(args: argparse.Namespace, extra: list[str], argv: list[str]) -> int:
    if args.command == "benchmark":
        return _run_benchmark(extra)
    if args.command == "train":
        return _train_command(args, argv)
    deterministic = not args.stochastic
    if args.command == "evaluate":
        result = evaluate(args.model, n_episodes=args.episodes, seed=args.seed, deterministic=deterministic)
        print(result.summary())
        if args.json:
            print(result.to_json())
        return 0
    if args.command == "enjoy":
        render_mode = None if args.render == "none" else args.render
        enjoy(args.model, n_episodes=args.episodes, seed=args.seed, render_mode=render_mode, deterministic=deterministic)
        return 0
    record(
        args.model,
        args.output,
        n_episodes=args.episodes,
        seed=args.seed,
        frame_skip=args.frame_skip,
        fps=args.fps,
        scale=args.scale,
        snapshot=args.snapshot,
        snapshot_index=args.snapshot_index,
        max_frames=args.max_frames,
        deterministic=deterministic,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """
    Entry point of ``sb3-reinforce`` and ``python -m sb3_reinforce``.

    :param argv: Arguments (default: ``sys.argv[1:]``)
    :return: Exit code: 0 on success, 2 for bad arguments, 1 for a model that cannot be used
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "benchmark":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not (args.command == "enjoy" and args.render == "human"):
        # Headless rendering: pygame needs no display for rgb_array frames
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        return _dispatch(args, extra, argv)
    except CLIError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
