"""
Train, save and evaluate runs: the API under the command line, the benchmark and the examples.

Nothing here prints: functions return results and raise ``ValueError`` / ``TypeError`` naming the bad value
(:class:`RunFilesError`, a ``ValueError``, for saved files that are not what :func:`train` writes).

``train(config, save_path="P")`` writes, beside the model ``P.zip``, what is needed to use it again (as the RL Zoo
does): ``P.json`` (the :class:`~sb3_reinforce.experiments.config.RunConfig`, versions, command line, evaluations)
and, when the env is normalized, ``P_vecnormalize.pkl``. Each file is written under a temporary name and renamed.
The model is saved as soon as training ends, before the final evaluation: an evaluation stopped by Ctrl-C never loses
it. An interrupted training is saved as ``P_interrupted`` (with ``"interrupted": true`` in its JSON), so an earlier
model at ``P`` is never replaced by a partial one. ``train`` itself overwrites the files at ``P`` (as SB3's
``save`` does); :func:`~sb3_reinforce.experiments.saved.choose_save_path` picks a path that does not.

``train(config, checkpoint=FileCheckpoint(...), resume=True)`` writes checkpoints every ``checkpoint_freq`` env steps
and on Ctrl-C, and continues a killed run from its newest one, bit-exactly
(:mod:`~sb3_reinforce.experiments.checkpoints`, ``docs/resume.md``).

Loading (:func:`load_run`, :func:`~sb3_reinforce.experiments.saved.load_trained`) lives in
:mod:`sb3_reinforce.experiments.saved`; its names are importable from here too.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_reinforce.experiments.callbacks import ShapedReturnLogger, TrueReturnLogger, TrueRewardEvaluator
from sb3_reinforce.experiments.checkpoints import (
    DEFAULT_CHECKPOINT_FREQ,
    CheckpointStore,
    ResumedEvaluator,
    check_same_run,
    make_checkpointer,
    read_checkpoint,
    supports_checkpoints,
)
from sb3_reinforce.experiments.config import RunConfig, build_kwargs, check_hyperparameters
from sb3_reinforce.experiments.envs import make_eval_env, make_train_env
from sb3_reinforce.experiments.records import machine_info, write_json_atomic
from sb3_reinforce.experiments.saved import (
    DEFAULT_EVAL_SEED,
    LoadedRun,
    RunFilesError,
    RunPaths,
    choose_save_path,
    load_run,
    load_trained,
)

__all__ = [
    "DEFAULT_EVAL_SEED",
    "EvalResult",
    "LoadedRun",
    "RunFilesError",
    "RunPaths",
    "TrainResult",
    "build_model",
    "choose_save_path",
    "evaluate",
    "load_run",
    "load_trained",
    "train",
]


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

    @classmethod
    def from_episodes(
        cls, rewards: Sequence[float], lengths: Sequence[int], env_id: str, deterministic: bool = True
    ) -> EvalResult:
        rewards_arr = np.asarray(rewards, dtype=np.float64)
        return cls(
            mean_reward=float(rewards_arr.mean()),
            std_reward=float(rewards_arr.std()),
            n_episodes=len(rewards_arr),
            env_id=env_id,
            mean_length=float(np.mean(lengths)),
            episode_rewards=[float(r) for r in rewards_arr],
            deterministic=deterministic,
        )

    def to_json(self) -> str:
        """The JSON line of ``evaluate --json``."""
        keys = ("mean_reward", "std_reward", "n_episodes", "env_id")
        return json.dumps({key: getattr(self, key) for key in keys})

    def summary(self) -> str:
        return (
            f"{self.env_id}: true reward {self.mean_reward:.2f} +/- {self.std_reward:.2f} over {self.n_episodes} "
            f"{'deterministic' if self.deterministic else 'stochastic'} episodes (mean length {self.mean_length:.1f})"
        )


@dataclass
class TrainResult:
    """
    What :func:`train` returns.

    :param model: The trained model
    :param config: The run
    :param evaluation: The final evaluation on the true task (None: not asked for, or interrupted)
    :param evaluations: The periodic evaluations (``target``, ``timesteps``, ``mean_reward``, ...)
    :param train_time: Seconds of ``learn()``, periodic evaluations excluded
    :param eval_time: Seconds spent in periodic evaluations
    :param interrupted: Training was stopped by ``KeyboardInterrupt`` (the model is what it had learned so far)
    :param saved: The base path ``P`` the run was saved to (``P_interrupted`` if interrupted; None: not saved)
    :param evaluation_interrupted: The final evaluation was stopped by ``KeyboardInterrupt`` (the model was saved
        before it)
    :param resumed_from: The env steps of the checkpoint the run resumed from (None: it started from scratch)
    """

    model: BaseAlgorithm
    config: RunConfig
    evaluation: EvalResult | None
    evaluations: list[dict[str, Any]]
    train_time: float
    eval_time: float
    interrupted: bool = False
    saved: Path | None = None
    evaluation_interrupted: bool = False
    resumed_from: int | None = None

    @property
    def num_timesteps(self) -> int:
        return int(self.model.num_timesteps)

    @property
    def fps(self) -> float:
        return self.num_timesteps / max(self.train_time, 1e-9)


def build_model(
    config: RunConfig, env: VecEnv, tensorboard_log: str | None = None, verbose: int = 0, device: str = "auto"
) -> BaseAlgorithm:
    """
    The algorithm of ``config`` on ``env``, with its hyperparameters.

    :raise ValueError: Naming the hyperparameter or the env the algorithm rejects
    """
    check_hyperparameters(config.algo, config.hyperparams)
    kwargs = build_kwargs(config.hyperparams)
    try:
        return config.algo_class(
            config.policy, env, seed=config.seed, tensorboard_log=tensorboard_log, verbose=verbose, device=device, **kwargs
        )
    except (ValueError, TypeError, AssertionError) as error:  # SB3 checks action spaces with assert
        raise ValueError(f"cannot build {config.algo_class.__name__} on {config.env_id}: {error}") from error


def train(
    config: RunConfig,
    save_path: str | os.PathLike[str] | None = None,
    tensorboard_log: str | None = None,
    progress_bar: bool = False,
    eval_episodes: int = 100,
    eval_seed: int = DEFAULT_EVAL_SEED,
    eval_freq: int = 0,
    eval_freq_episodes: int = 10,
    eval_envs: int = 1,
    verbose: int = 0,
    device: str = "auto",
    command: str | None = None,
    callbacks: Sequence[BaseCallback] = (),
    checkpoint: CheckpointStore | None = None,
    checkpoint_freq: int = DEFAULT_CHECKPOINT_FREQ,
    resume: bool = False,
) -> TrainResult:
    """
    Train ``config``, save it (``P.zip``, ``P.json``, ``P_vecnormalize.pkl``) and evaluate it on the true task.

    Every run logs ``rollout/ep_true_rew_mean`` (:class:`~sb3_reinforce.experiments.callbacks.TrueReturnLogger`) and, with
    shaping, ``rollout/ep_shaped_rew_mean``. The model is saved before the final evaluation, whose result is then
    added to ``P.json``; Ctrl-C during that evaluation stops it and keeps the saved model.

    :param config: The run
    :param save_path: ``P``: where to save (None: do not save); files already there are overwritten
    :param tensorboard_log: TensorBoard folder (None: no TensorBoard)
    :param progress_bar: Show SB3's progress bar
    :param eval_episodes: Episodes of the final evaluation (0: none)
    :param eval_seed: Seed of the first evaluation env (every evaluation replays the same episodes)
    :param eval_freq: Evaluate every ``eval_freq`` env steps during training, at step 0 and at the end (0: never)
    :param eval_freq_episodes: Episodes of each periodic evaluation
    :param eval_envs: Number of evaluation envs (stepped side by side; they change which episodes are played)
    :param verbose: Verbosity of the algorithm (1: SB3's log tables)
    :param device: Torch device
    :param command: Command line to record in ``P.json``
    :param callbacks: More callbacks (their state is not in the checkpoints)
    :param checkpoint: Where the run writes its checkpoints (:mod:`~sb3_reinforce.experiments.checkpoints`): every
        ``checkpoint_freq`` env steps and on Ctrl-C; cleared once the run is saved and evaluated. None, or an algorithm
        of SB3 (which cannot resume exactly): no checkpoints
    :param checkpoint_freq: Env steps between two checkpoints (0: only on Ctrl-C)
    :param resume: Continue the run from the checkpoint in ``checkpoint``, bit-exactly, if there is one (the same
        run, evaluations included, as if it had never stopped; ``docs/resume.md``); else start it
    :return: The model, its evaluations and timings
    :raise ValueError: For a run that cannot be built (bad hyperparameter, env, action space), or a checkpoint of
        another run
    """
    check_hyperparameters(config.algo, config.hyperparams)  # before config.gamma is used to build the env
    try:
        env = make_train_env(config.env_setup, n_envs=config.n_envs, seed=config.seed, gamma=config.gamma)
    except (ValueError, TypeError, gym.error.Error) as error:
        raise ValueError(f"cannot build {config.env_id} with {config.env_setup.actions} actions: {error}") from error
    store = checkpoint if checkpoint is not None and supports_checkpoints(config.algo_class) else None
    evaluation = dict(eval_episodes=eval_episodes, eval_seed=eval_seed, eval_freq=eval_freq)
    evaluation.update(eval_freq_episodes=eval_freq_episodes, eval_envs=eval_envs)
    run_info = dict(config=json.loads(json.dumps(config.to_dict(), default=repr)), evaluation=evaluation, command=command)
    try:
        model, run_state = _start_or_resume(config, env, store, resume, run_info, tensorboard_log, verbose, device)
    except ValueError:
        env.close()
        raise
    eval_env = make_eval_env(config.env_setup, gamma=config.gamma, n_envs=eval_envs, seed=eval_seed)
    evaluator_class = TrueRewardEvaluator if run_state is None else ResumedEvaluator
    evaluator = evaluator_class(eval_env, eval_freq, eval_freq_episodes, budget=config.timesteps, eval_seed=eval_seed)
    run_callbacks: list[BaseCallback] = [TrueReturnLogger(), evaluator, *callbacks]
    if config.env_setup.shaping != "none":
        run_callbacks.insert(1, ShapedReturnLogger())
    checkpointer = None
    if store is not None:
        checkpointer = make_checkpointer(store, checkpoint_freq, run_callbacks, run_info, run_state)
        run_callbacks.append(checkpointer)

    tb_log_name = f"{config.algo_class.__name__}_{config.preset or config.env_id}_seed{config.seed}"
    interrupted = False
    # A resumed run continues to the same budget: its remaining steps, with the step counter carried on
    steps = config.timesteps if run_state is None else max(config.timesteps - model.num_timesteps, 0)
    prior_train_time, prior_eval_time = (0.0, 0.0) if run_state is None else (run_state["train_time"], evaluator.eval_time)
    start = time.perf_counter()
    try:
        model.learn(
            steps,
            callback=CallbackList(run_callbacks),
            tb_log_name=tb_log_name,
            reset_num_timesteps=run_state is None,
            progress_bar=progress_bar,
        )
    except KeyboardInterrupt:
        interrupted = True
        if checkpointer is not None:
            checkpointer.write_now()  # resumable from the start of the rollout it was in
    except BaseException:
        env.close()
        eval_env.close()
        raise
    learn_time = time.perf_counter() - start
    train_time = max(prior_train_time + learn_time - (evaluator.eval_time - prior_eval_time), 1e-9)
    result = TrainResult(model, config, None, evaluator.evaluations, train_time, evaluator.eval_time, interrupted)
    result.resumed_from = None if run_state is None else int(run_state["num_timesteps"])
    try:
        # Saved first: nothing after training (the evaluation, a Ctrl-C during it) can lose the model
        paths = None
        if save_path is not None:
            paths = RunPaths.of(save_path).interrupted if interrupted else RunPaths.of(save_path)
            _save_model(result, env, paths)
            _write_run_file(result, paths, command, normalized=isinstance(env, VecNormalize))
            result.saved = paths.base
        if eval_episodes > 0 and not interrupted:
            try:
                rewards, lengths = evaluator.evaluate(eval_episodes)
            except KeyboardInterrupt:
                result.evaluation_interrupted = True
            else:
                result.evaluation = EvalResult.from_episodes(rewards, lengths, config.env_id)
                if paths is not None:
                    _write_run_file(result, paths, command, normalized=isinstance(env, VecNormalize))
        if store is not None and not interrupted and not result.evaluation_interrupted:
            store.clear()  # the run is done: nothing to resume
    finally:
        eval_env.close()
        env.close()
    return result


def _start_or_resume(
    config: RunConfig,
    env: VecEnv,
    store: CheckpointStore | None,
    resume: bool,
    run_info: dict[str, Any],
    tensorboard_log: str | None,
    verbose: int,
    device: str,
) -> tuple[BaseAlgorithm, dict[str, Any] | None]:
    """
    A new model on ``env``, or, with ``resume`` and a checkpoint in ``store``, the checkpoint's model and run state.

    :raise ValueError: If the checkpoint is of another run (other config or evaluation settings), naming what differs
    """
    data = store.read() if store is not None and resume else None
    if data is None:
        if store is not None:
            store.clear()  # a checkpoint left by another run must never be resumed into this one
        return build_model(config, env, tensorboard_log, verbose, device), None
    model_file, run_state = read_checkpoint(data)
    check_same_run(run_state, run_info)
    model = config.algo_class.load(model_file, env=env, device=device, tensorboard_log=tensorboard_log, verbose=verbose)
    return model, run_state


def _save_model(result: TrainResult, env: VecEnv, paths: RunPaths) -> None:
    """Write the model and its statistics under temporary names, then rename them."""
    paths.base.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{paths.base.name}.", dir=paths.base.parent))
    try:
        result.model.save(tmp_dir / "model.zip")
        if isinstance(env, VecNormalize):
            env.save(str(tmp_dir / "vecnormalize.pkl"))
            os.replace(tmp_dir / "vecnormalize.pkl", paths.vecnormalize)
        os.replace(tmp_dir / "model.zip", paths.model)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _write_run_file(result: TrainResult, paths: RunPaths, command: str | None, normalized: bool) -> None:
    """Write ``P.json``: the run config, what training did, the evaluations so far, versions and command line."""
    data = result.config.to_dict()
    evaluation = result.evaluation
    versions = machine_info()
    data.update(
        vecnormalize=paths.vecnormalize.name if normalized else None,
        num_timesteps=result.num_timesteps,
        interrupted=result.interrupted,
        train_time_s=round(result.train_time, 2),
        evaluations=result.evaluations,
        final_evaluation=None
        if evaluation is None
        else {**json.loads(evaluation.to_json()), "mean_length": evaluation.mean_length},
        versions=versions,
        sb3_reinforce_version=versions["sb3_reinforce"],
        command=command,
    )
    write_json_atomic(paths.config, data)


def evaluate(
    model: str | os.PathLike[str] | LoadedRun,
    n_episodes: int = 100,
    seed: int = DEFAULT_EVAL_SEED,
    deterministic: bool = True,
) -> EvalResult:
    """
    Mean true reward of a saved model over ``n_episodes`` episodes (unshaped env, its own time limit).

    :param model: ``P`` or ``P.zip`` saved by :func:`train`, or a model loaded by :func:`load_run` (for instance a
        model saved from Python, with its ``env_id``)
    :param n_episodes: Number of episodes
    :param seed: Seed of the evaluation env
    :param deterministic: Play the deterministic policy
    """
    run = model if isinstance(model, LoadedRun) else load_run(model)
    env = run.make_env(seed=seed)
    try:
        rewards, lengths = evaluate_policy(
            run.model, env, n_eval_episodes=n_episodes, deterministic=deterministic, return_episode_rewards=True
        )
    finally:
        env.close()
    return EvalResult.from_episodes(rewards, lengths, run.config.env_id, deterministic=deterministic)  # type: ignore[arg-type]
