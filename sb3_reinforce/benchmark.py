"""
Benchmark: a grid of algorithms x envs x seeds, trained and scored side by side in one run on one machine.

``python -m sb3_reinforce benchmark`` (or ``python -m sb3_reinforce.benchmark``) trains every
(algorithm, env, seed) of the grid in a local process pool, evaluates each run periodically on the env's
**true** reward, and writes to ``--out``:

* ``runs/<algo>__<env>__seed<N>.json``: one file per run, written atomically when the run ends; a re-run of the
  same grid skips the runs that finished (status ``ok``) with the same settings, so an interrupted grid resumes
  (failed runs are run again; ``--force`` runs everything again, e.g. after a code change: the settings compared
  do not include the code);
* ``evaluations.csv`` / ``evaluations.json``: every evaluation point of every run;
* ``summary.json`` and ``table.md``: per algorithm x env, the median and interquartile range across seeds of
  the final reward, of the env steps to the env's reward threshold, and of the training speed;
* ``curves_<env>.png``: learning curves (mean and min-max spread across seeds) per env;
* ``grid.json``: the command and arguments of the last grid run (``--report-only`` rewrites the report from the
  run files with it).

Algorithms and their settings:

* ``reinforce``: :class:`~sb3_reinforce.Reinforce` with the recommended settings per env: default hyperparameters
  and one env on CartPole-v1, ``presets.PRESETS["solved"]`` (Bernoulli +-1 actions, energy potential shaping,
  observation normalization, value baseline) on MountainCarContinuous-v0, defaults elsewhere;
* ``ppo``, ``a2c``, ``sac``: Stable-Baselines3 with the tuned hyperparameters of rl-baselines3-zoo 2.9.2
  (:data:`ZOO_HYPERPARAMS`), SB3 defaults for envs that table lacks. SAC needs a ``Box`` action space: it gets an
  ``n/a`` row elsewhere.

Evaluation (:class:`TrueRewardEvalCallback`) uses an env with the same action interface as training, the
training run's frozen observation-normalization statistics, but the env's own reward and time limit, always the
same episode seeds (:data:`EVAL_SEED`) and deterministic actions. The training speed (``fps``) counts env steps
per second of ``learn()`` excluding the time spent evaluating.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import dataclasses
import io
import json
import math
import multiprocessing
import os
import platform
import re
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_reinforce.common.arguments import non_negative_int, positive_int
from sb3_reinforce.presets import PRESETS, EnvSetup, make_env, normalize, resolve_policy_kwargs
from sb3_reinforce.reinforce import Reinforce

__all__ = [
    "ALGOS",
    "DEFAULT_ENVS",
    "EVAL_SEED",
    "ZOO_HYPERPARAMS",
    "AlgoConfig",
    "LinearSchedule",
    "RunTask",
    "TrueRewardEvalCallback",
    "add_arguments",
    "algo_config",
    "main",
    "run",
    "run_one",
    "steps_to_threshold",
    "write_report",
]

#: Algorithms the benchmark can run, in the order of the table.
ALGOS: dict[str, type[BaseAlgorithm]] = {"reinforce": Reinforce, "ppo": PPO, "sac": SAC, "a2c": A2C}
#: The default grid's envs.
DEFAULT_ENVS = ("CartPole-v1", "MountainCarContinuous-v0")
#: Evaluation env ``i`` is reset with seed ``EVAL_SEED + i`` before every evaluation: all runs see the same episodes.
EVAL_SEED = 1_000_000
#: Budget of envs with no zoo entry and of ``reinforce`` outside the recommended settings.
DEFAULT_TIMESTEPS = 100_000
#: At most this many evaluation envs run side by side (batched policy calls; the episodes are the same).
MAX_EVAL_ENVS = 10

CARTPOLE = "CartPole-v1"
MOUNTAIN_CAR = "MountainCarContinuous-v0"

#: Tuned hyperparameters of rl-baselines3-zoo 2.9.2, copied from ``rl_zoo3/hyperparams/ppo.yml``, ``a2c.yml`` and
#: ``sac.yml`` (https://github.com/DLR-RM/rl-baselines3-zoo/tree/v2.9.2/hyperparams). Keys as in the yml:
#: ``normalize`` (``VecNormalize`` of observations *and* rewards, with the algorithm's ``gamma``), ``n_envs``,
#: ``n_timesteps`` (the zoo's budget), ``lin_<x>`` (linear decay from ``x`` to 0), the rest goes to the constructor.
ZOO_HYPERPARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("ppo", CARTPOLE): dict(
        n_envs=8,
        n_timesteps=100_000,
        policy="MlpPolicy",
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate="lin_0.001",
        clip_range="lin_0.2",
    ),
    ("ppo", MOUNTAIN_CAR): dict(
        normalize=True,
        n_envs=1,
        n_timesteps=20_000,
        policy="MlpPolicy",
        batch_size=256,
        n_steps=8,
        gamma=0.9999,
        learning_rate=7.77e-05,
        ent_coef=0.00429,
        clip_range=0.1,
        n_epochs=10,
        gae_lambda=0.9,
        max_grad_norm=5,
        vf_coef=0.19,
        use_sde=True,
        policy_kwargs=dict(log_std_init=-3.29, ortho_init=False),
    ),
    ("a2c", CARTPOLE): dict(n_envs=8, n_timesteps=500_000, policy="MlpPolicy", ent_coef=0.0),
    ("a2c", MOUNTAIN_CAR): dict(
        normalize=True,
        n_envs=4,
        n_steps=100,
        n_timesteps=100_000,
        policy="MlpPolicy",
        ent_coef=0.0,
        use_sde=True,
        sde_sample_freq=16,
        policy_kwargs=dict(log_std_init=0.0, ortho_init=False),
    ),
    ("sac", MOUNTAIN_CAR): dict(
        n_timesteps=50_000,
        policy="MlpPolicy",
        learning_rate=0.0003,
        buffer_size=50_000,
        batch_size=512,
        ent_coef=0.1,
        train_freq=32,
        gradient_steps=32,
        gamma=0.9999,
        tau=0.01,
        learning_starts=0,
        use_sde=True,
        policy_kwargs=dict(log_std_init=-3.67, net_arch=[64, 64], use_expln=True),
    ),
}

#: Budgets that differ from the zoo's, so that every algorithm gets the same budget on the env: the zoo trains
#: A2C on CartPole-v1 for 500k steps, the common table uses 100k for all.
BUDGET_OVERRIDES: dict[tuple[str, str], int] = {("a2c", CARTPOLE): 100_000}

#: Rough training speeds (env steps/s on one core), used only to start the slowest runs first.
_EXPECTED_FPS: dict[tuple[str, str], float] = {("sac", MOUNTAIN_CAR): 100.0, ("ppo", MOUNTAIN_CAR): 300.0}
_EXPECTED_FPS_DEFAULT = {"sac": 100.0, "ppo": 1500.0, "a2c": 2000.0, "reinforce": 1500.0}


class LinearSchedule:
    """
    Linear decay from ``initial_value`` (start of training) to 0 (end), rl-baselines3-zoo's ``lin_<x>``.

    >>> LinearSchedule(0.001)(0.5)
    0.0005

    :param initial_value: The value at the start of training
    """

    def __init__(self, initial_value: float) -> None:
        self.initial_value = float(initial_value)

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.initial_value

    def __repr__(self) -> str:
        return f"LinearSchedule({self.initial_value})"


# -- Settings of one (algorithm, env) ---------------------------------------------------------------------------------


@dataclass
class AlgoConfig:
    """
    How one algorithm is trained on one env.

    :param algo: Algorithm name (a key of :data:`ALGOS`)
    :param setup: The env as the agent sees it (action interface, shaping, training time limit)
    :param n_envs: Number of training envs (``DummyVecEnv``)
    :param timesteps: Training budget in env steps
    :param hyperparams: Constructor arguments, JSON-friendly (``lin_<x>`` strings for linear schedules)
    :param normalize: ``VecNormalize`` keyword arguments of the training env (None: no normalization)
    :param source: Where the settings come from
    :param unsupported: Why the algorithm cannot run on the env (None: it can)
    """

    algo: str
    setup: EnvSetup
    n_envs: int
    timesteps: int
    hyperparams: dict[str, Any]
    normalize: dict[str, Any] | None
    source: str
    unsupported: str | None = None

    @property
    def gamma(self) -> float:
        return float(self.hyperparams.get("gamma", 0.99))

    def actions(self, action_space: spaces.Space) -> str:
        """Label of the action interface the agent uses (``bernoulli ±1``, ``continuous``, ``discrete``, ...)."""
        if self.setup.actions == "bernoulli":
            low, high = self.setup.action_low, self.setup.action_high
            if low is None and high is None and isinstance(action_space, spaces.Box):
                low, high = float(action_space.low.min()), float(action_space.high.max())
                if low == -high:
                    return f"bernoulli ±{high:g}"
            return f"bernoulli {low:g}/{high:g}"
        if isinstance(action_space, spaces.Box):
            return "continuous"
        return type(action_space).__name__.lower()


def _supports(algo: str, action_space: spaces.Space) -> str | None:
    """Why ``algo`` cannot act in ``action_space`` (None if it can)."""
    if algo == "sac" and not isinstance(action_space, spaces.Box):
        return f"SAC needs a Box action space, the env has {action_space}"
    if not isinstance(action_space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)):
        return f"{algo} does not support the action space {action_space}"
    return None


def algo_config(algo: str, env_id: str, action_space: spaces.Space, timesteps: int | None = None) -> AlgoConfig:
    """
    The settings :func:`run_one` trains ``algo`` on ``env_id`` with.

    :param algo: Algorithm name (a key of :data:`ALGOS`)
    :param env_id: Gymnasium id of the env
    :param action_space: The env's own action space
    :param timesteps: Budget overriding the per-env default (None: the default)
    :return: The configuration
    """
    if algo not in ALGOS:
        raise ValueError(f"Unknown algorithm {algo!r}: expected one of {', '.join(ALGOS)}")
    if algo == "reinforce" and env_id == MOUNTAIN_CAR:
        preset = PRESETS["solved"]
        config = AlgoConfig(
            algo,
            dataclasses.replace(preset.setup),
            n_envs=preset.n_envs,
            timesteps=preset.timesteps,
            hyperparams=copy.deepcopy(preset.hyperparams),
            normalize=dict(norm_obs=True, norm_reward=False) if preset.setup.normalize_obs else None,
            source='sb3_reinforce.presets.PRESETS["solved"]',
        )
    elif algo == "reinforce":
        source = "Reinforce defaults" + (" (recommended for CartPole-v1)" if env_id == CARTPOLE else "")
        config = AlgoConfig(algo, EnvSetup(env_id), 1, DEFAULT_TIMESTEPS, {}, None, source)
    elif (algo, env_id) in ZOO_HYPERPARAMS:
        zoo = copy.deepcopy(ZOO_HYPERPARAMS[(algo, env_id)])
        n_envs = int(zoo.pop("n_envs", 1))
        budget = BUDGET_OVERRIDES.get((algo, env_id), int(zoo.pop("n_timesteps")))
        zoo.pop("n_timesteps", None)
        zoo.pop("policy", None)
        norm_kwargs = None
        if zoo.pop("normalize", False):
            # The zoo normalizes observations and rewards, with the algorithm's discount factor
            norm_kwargs = dict(norm_obs=True, norm_reward=True, **({"gamma": zoo["gamma"]} if "gamma" in zoo else {}))
        source = f"rl-baselines3-zoo 2.9.2 hyperparams/{algo}.yml"
        config = AlgoConfig(algo, EnvSetup(env_id), n_envs, budget, zoo, norm_kwargs, source)
    else:
        config = AlgoConfig(algo, EnvSetup(env_id), 1, DEFAULT_TIMESTEPS, {}, None, "SB3 defaults (no zoo entry)")
    if timesteps is not None:
        config.timesteps = timesteps
    config.unsupported = _supports(algo, action_space)
    return config


def _constructor_kwargs(config: AlgoConfig) -> dict[str, Any]:
    """Turn the JSON-friendly hyperparameters into constructor arguments (schedules, policy kwargs)."""
    # A deep copy: SB3 adds entries (classes) to the policy_kwargs it is given
    kwargs = resolve_policy_kwargs(copy.deepcopy(config.hyperparams))
    for key, value in kwargs.items():
        if isinstance(value, str) and value.startswith("lin_"):
            kwargs[key] = LinearSchedule(float(value[len("lin_") :]))
    return kwargs


# -- One run ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTask:
    """
    One (algorithm, env, seed) of the grid. Two tasks with equal fields give the same run: a finished run file
    whose task equals the requested one is not run again.

    :param algo: Algorithm name
    :param env_id: Gymnasium id of the env
    :param seed: Seed of the training env and of the model
    :param timesteps: Training budget (None: the per-env default)
    :param eval_freq: Evaluate every ``eval_freq`` env steps
    :param eval_episodes: Episodes per periodic evaluation
    :param final_episodes: Episodes of the final evaluation
    :param overrides: Hyperparameters replacing the configured ones
    """

    algo: str
    env_id: str
    seed: int
    timesteps: int | None = None
    eval_freq: int = 5000
    eval_episodes: int = 10
    final_episodes: int = 100
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return run_key(self.algo, self.env_id, self.seed)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_key(algo: str, env_id: str, seed: int | None) -> str:
    """File-name-safe identifier of a run (``seed=None``: the ``n/a`` record of an algorithm x env)."""
    safe_env = re.sub(r"[^A-Za-z0-9._-]", "_", env_id)
    return f"{algo}__{safe_env}__" + ("na" if seed is None else f"seed{seed}")


class TrueRewardEvalCallback(BaseCallback):
    """
    Evaluate the model on the env's true reward at step 0, every ``eval_freq`` env steps and at the end of training.

    Before each evaluation the observation-normalization statistics of the training env (if any) are copied,
    frozen, into the evaluation env, and its envs are reseeded with ``eval_seed + i``, so every evaluation of every
    run plays the same episodes. Evaluations are due at steps ``0, eval_freq, 2 * eval_freq, ...`` below
    ``budget``, and once more when training ends (recorded with ``target = budget``). The time spent evaluating is
    accumulated in ``eval_time`` so that it can be excluded from the training speed.

    :param eval_env: The evaluation env: the training action interface, the true reward, the env's own time limit
        (wrapped in a ``VecNormalize`` if the training env is)
    :param eval_freq: Evaluate every ``eval_freq`` env steps (summed over the training envs)
    :param n_eval_episodes: Episodes per evaluation
    :param budget: The training budget (the target step recorded for the final evaluation)
    :param eval_seed: Seed of the first evaluation env
    :param verbose: Verbosity level: 0 no output, 1 one line per evaluation
    """

    def __init__(
        self, eval_env: VecEnv, eval_freq: int, n_eval_episodes: int, budget: int, eval_seed: int = EVAL_SEED, verbose: int = 0
    ):
        super().__init__(verbose=verbose)
        self.eval_env = eval_env
        self.eval_freq = eval_freq
        self.n_eval_episodes = n_eval_episodes
        self.budget = budget
        self.eval_seed = eval_seed
        self.evaluations: list[dict[str, Any]] = []
        self.eval_time = 0.0
        self._next_target = 0

    def evaluate(self, n_episodes: int) -> tuple[list[float], list[int]]:
        """
        Play ``n_episodes`` deterministic episodes of the current policy on the evaluation env.

        :param n_episodes: Number of episodes
        :return: The true return and the length of each episode
        """
        sync_normalization(self.model.get_env(), self.eval_env)
        self.eval_env.seed(self.eval_seed)
        rewards, lengths = evaluate_policy(
            self.model, self.eval_env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True, warn=False
        )
        return list(map(float, rewards)), list(map(int, lengths))  # type: ignore[arg-type]

    def _record(self, target: int) -> None:
        start = time.perf_counter()
        rewards, lengths = self.evaluate(self.n_eval_episodes)
        self.eval_time += time.perf_counter() - start
        point = dict(
            target=target,
            timesteps=int(self.num_timesteps),
            mean_reward=float(np.mean(rewards)),
            std_reward=float(np.std(rewards)),
            mean_length=float(np.mean(lengths)),
            n_episodes=len(rewards),
        )
        self.evaluations.append(point)
        if self.verbose >= 1:
            print(f"Eval at {self.num_timesteps} steps: {point['mean_reward']:.2f} +/- {point['std_reward']:.2f}")

    def _on_training_start(self) -> None:
        self._record(0)
        self._next_target = self.eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next_target and self._next_target < self.budget:
            self._record(self._next_target)
            while self._next_target <= self.num_timesteps:
                self._next_target += self.eval_freq
        return True

    def _on_training_end(self) -> None:
        self._record(self.budget)


def sync_normalization(train_env: VecEnv | None, eval_env: VecEnv) -> None:
    """Copy the observation-normalization statistics of the training env into the (frozen) evaluation env."""
    if not isinstance(eval_env, VecNormalize):
        return
    train_norm = train_env
    while train_norm is not None and not isinstance(train_norm, VecNormalize):
        train_norm = getattr(train_norm, "venv", None)
    if train_norm is None:
        raise RuntimeError("The evaluation env normalizes observations but the training env does not")
    eval_env.obs_rms = train_norm.obs_rms.copy()


def steps_to_threshold(
    timesteps: Sequence[int], rewards: Sequence[float], threshold: float | None
) -> tuple[int | None, int | None]:
    """
    When a learning curve first reaches ``threshold``, and from when it stays at or above it to the end.

    >>> steps_to_threshold([0, 10, 20, 30], [0.0, 95.0, 80.0, 91.0], 90.0)
    (10, 30)
    >>> steps_to_threshold([0, 10], [95.0, 80.0], 90.0)
    (0, None)

    :param timesteps: Env steps of each evaluation, in order
    :param rewards: Mean reward of each evaluation
    :param threshold: The reward threshold (None: no threshold, both results None)
    :return: ``(first, stays)``: the steps of the first evaluation at or above the threshold, and of the first
        evaluation from which all evaluations are; None when there is none
    """
    if threshold is None:
        return None, None
    above = [reward >= threshold for reward in rewards]
    first = next((steps for steps, ok in zip(timesteps, above, strict=True) if ok), None)
    stays = None
    for steps, ok in zip(reversed(timesteps), reversed(above), strict=True):
        if not ok:
            break
        stays = steps
    return (None if first is None else int(first)), (None if stays is None else int(stays))


def _build_envs(config: AlgoConfig, seed: int, n_eval_envs: int) -> tuple[VecEnv, VecEnv]:
    """The training env (shaping, training time limit, normalization) and the matching evaluation env."""
    setup = config.setup
    train_env = make_env(setup, n_envs=config.n_envs, seed=seed, gamma=config.gamma, train=True)
    eval_env = make_env(setup, n_envs=n_eval_envs, seed=EVAL_SEED, gamma=config.gamma, train=False)
    if config.algo == "reinforce":
        # The package's own recipe: observation normalization only, as presets.normalize builds it
        train_env = normalize(train_env, setup, config.gamma)
    elif config.normalize is not None:
        train_env = VecNormalize(train_env, **config.normalize)
    if isinstance(train_env, VecNormalize):
        eval_env = VecNormalize(
            eval_env,
            training=False,
            norm_obs=train_env.norm_obs,
            norm_reward=False,
            clip_obs=train_env.clip_obs,
            epsilon=train_env.epsilon,
        )
    return train_env, eval_env


def _train_and_evaluate(task: RunTask, config: AlgoConfig, record: dict[str, Any]) -> None:
    """Train one run, filling ``record`` with its evaluations, speed and final score."""
    start = time.perf_counter()
    n_eval_envs = max(1, min(MAX_EVAL_ENVS, max(task.eval_episodes, task.final_episodes)))
    train_env, eval_env = _build_envs(config, task.seed, n_eval_envs)
    model = ALGOS[task.algo]("MlpPolicy", train_env, seed=task.seed, device="cpu", verbose=0, **_constructor_kwargs(config))
    callback = TrueRewardEvalCallback(eval_env, task.eval_freq, task.eval_episodes, budget=config.timesteps)
    learn_start = time.perf_counter()
    try:
        model.learn(total_timesteps=config.timesteps, callback=callback)
    finally:
        learn_time = time.perf_counter() - learn_start
        record["evaluations"] = callback.evaluations
    train_time = max(learn_time - callback.eval_time, 1e-9)
    rewards, lengths = callback.evaluate(task.final_episodes)
    threshold = record["threshold"]
    steps = [point["timesteps"] for point in callback.evaluations]
    first, stays = steps_to_threshold(steps, [point["mean_reward"] for point in callback.evaluations], threshold)
    final_mean = float(np.mean(rewards))
    record.update(
        status="ok",
        num_timesteps=int(model.num_timesteps),
        train_time=train_time,
        eval_time=callback.eval_time,
        fps=model.num_timesteps / train_time,
        final=dict(
            mean_reward=final_mean,
            std_reward=float(np.std(rewards)),
            mean_length=float(np.mean(lengths)),
            n_episodes=len(rewards),
            solved=None if threshold is None else bool(final_mean >= threshold),
        ),
        first_threshold_steps=first,
        stays_threshold_steps=stays,
        wall_time=time.perf_counter() - start,
    )
    train_env.close()
    eval_env.close()


def run_one(task: RunTask, out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """
    Train and evaluate one run, and write its record to ``<out_dir>/runs/<key>.json`` (atomically).

    Never raises for a failing run: the record then has ``status="failed"``, the error and its traceback.

    :param task: The run
    :param out_dir: The benchmark's output folder
    :return: The run record
    """
    env_spec = gym.spec(task.env_id)
    record: dict[str, Any] = dict(
        key=task.key,
        task=task.to_dict(),
        algo=task.algo,
        env_id=task.env_id,
        seed=task.seed,
        status="running",
        error=None,
        threshold=env_spec.reward_threshold,
        evaluations=[],
        machine=machine_info(),
        started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    start = time.perf_counter()
    try:
        action_space = _action_space(task.env_id)
        config = algo_config(task.algo, task.env_id, action_space, task.timesteps)
        config.hyperparams.update(copy.deepcopy(task.overrides))
        record["config"] = _config_record(config, action_space)
        if config.unsupported is not None:
            raise ValueError(config.unsupported)
        _train_and_evaluate(task, config, record)
    except Exception as error:
        record.update(
            status="failed",
            error=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(),
            wall_time=time.perf_counter() - start,
        )
    record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_json_atomic(Path(out_dir) / "runs" / f"{task.key}.json", record)
    return record


def _config_record(config: AlgoConfig, action_space: spaces.Space) -> dict[str, Any]:
    return dict(
        timesteps=config.timesteps,
        n_envs=config.n_envs,
        actions=config.actions(action_space),
        hyperparams=config.hyperparams,
        normalize=config.normalize,
        setup=dataclasses.asdict(config.setup),
        source=config.source,
    )


def _action_space(env_id: str) -> spaces.Space:
    env = gym.make(env_id)
    try:
        return env.action_space
    finally:
        env.close()


def _init_worker() -> None:
    import torch as th

    th.set_num_threads(1)


# -- Files ------------------------------------------------------------------------------------------------------------


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to a temporary file next to ``path``, then rename it over ``path``."""
    write_text_atomic(path, json.dumps(data, indent=2, default=repr) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def load_runs(out_dir: Path) -> list[dict[str, Any]]:
    """Every run record in ``<out_dir>/runs`` (unreadable files are reported and skipped)."""
    records = []
    for path in sorted((out_dir / "runs").glob("*.json")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as error:
            print(f"Skipping unreadable run file {path}: {error}", file=sys.stderr)
    return records


def machine_info() -> dict[str, Any]:
    """CPU, core count and library versions of this machine."""
    import stable_baselines3
    import torch as th

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), cpu)
    except OSError:
        pass
    return dict(
        cpu=cpu,
        cpu_count=os.cpu_count(),
        python=platform.python_version(),
        torch=th.__version__,
        stable_baselines3=stable_baselines3.__version__,
        gymnasium=gym.__version__,
        numpy=np.__version__,
        platform=platform.platform(),
    )


# -- Report -----------------------------------------------------------------------------------------------------------


def _quantiles(values: Sequence[float], qs: Iterable[float]) -> list[float]:
    """Linear-interpolated quantiles that treat ``inf`` (never reached) as larger than everything."""
    ordered = sorted(values)
    results = []
    for q in qs:
        position = q * (len(ordered) - 1)
        low, high = math.floor(position), math.ceil(position)
        if math.isinf(ordered[low]) or math.isinf(ordered[high]):
            results.append(math.inf)
        else:
            results.append(ordered[low] + (ordered[high] - ordered[low]) * (position - low))
    return results


def _fmt_steps(value: float | None) -> str:
    if value is None or math.isinf(value):
        return "never"
    if value >= 1000:
        return f"{value / 1000:.1f}".removesuffix(".0") + "k"
    return f"{value:.0f}"


def _fmt_spread(values: Sequence[float], fmt: Any) -> str:
    """``median [q25, q75]`` (just the value for a single seed)."""
    if not values:
        return "—"
    median, q25, q75 = _quantiles(values, (0.5, 0.25, 0.75))
    if len(values) == 1:
        return fmt(median)
    return f"{fmt(median)} [{fmt(q25)}, {fmt(q75)}]"


def _algo_rank(algo: str) -> int:
    return list(ALGOS).index(algo) if algo in ALGOS else len(ALGOS)


def _env_rank(env_id: str, env_order: Sequence[str]) -> tuple[int, str]:
    return (env_order.index(env_id) if env_id in env_order else len(env_order), env_id)


def _group_key(record: dict[str, Any]) -> tuple[str, str, int | None]:
    config = record.get("config") or {}
    return record["env_id"], record["algo"], config.get("timesteps")


def summarize(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> list[dict[str, Any]]:
    """
    One row per algorithm x env x budget: statistics across the seeds that finished.

    :param records: Run records (:func:`run_one`), ``n/a`` records included
    :param env_order: Envs to list first, in this order
    :return: The rows, sorted by env then algorithm
    """
    groups: dict[tuple[str, str, int | None], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[_group_key(record)].append(record)
    rows = []
    for (env_id, algo, budget), group in groups.items():
        ok = sorted((r for r in group if r["status"] == "ok"), key=lambda r: r["seed"])
        failed = sorted((r for r in group if r["status"] == "failed"), key=lambda r: r["seed"])
        not_applicable = [r for r in group if r["status"] == "n/a"]
        config: dict[str, Any] = next((r["config"] for r in ok + failed + not_applicable if r.get("config")), {})
        threshold = group[0].get("threshold")
        inf = math.inf
        rows.append(
            dict(
                env_id=env_id,
                algo=algo,
                actions=config.get("actions", "—"),
                n_envs=config.get("n_envs"),
                budget=budget,
                source=config.get("source"),
                threshold=threshold,
                seeds=[r["seed"] for r in ok],
                n_ok=len(ok),
                n_failed=len(failed),
                not_applicable=not_applicable[0]["error"] if not_applicable else None,
                errors=[f"seed {r['seed']}: {r['error']}" for r in failed],
                solved=sum(bool(r["final"]["solved"]) for r in ok),
                final=[r["final"]["mean_reward"] for r in ok],
                final_std=[r["final"]["std_reward"] for r in ok],
                first=[inf if r["first_threshold_steps"] is None else r["first_threshold_steps"] for r in ok],
                stays=[inf if r["stays_threshold_steps"] is None else r["stays_threshold_steps"] for r in ok],
                fps=[r["fps"] for r in ok],
                wall_time=[r["wall_time"] for r in ok],
            )
        )
    rows.sort(key=lambda row: (_env_rank(row["env_id"], env_order), _algo_rank(row["algo"]), row["budget"] or 0))
    return rows


def _fps_reference(rows: Sequence[dict[str, Any]], env_id: str) -> dict[str, Any] | None:
    """The row speeds are compared with on ``env_id``: A2C if it ran, else the first algorithm that did."""
    candidates = [row for row in rows if row["env_id"] == env_id and row["fps"]]
    return next((row for row in candidates if row["algo"] == "a2c"), candidates[0] if candidates else None)


def _status(row: dict[str, Any]) -> str:
    if row["not_applicable"]:
        return f"n/a: {row['not_applicable']}"
    if row["n_failed"] == 0:
        return "ok"
    first_error = row["errors"][0]
    first_error = first_error if len(first_error) <= 80 else first_error[:77] + "..."
    return f"{row['n_failed']} failed ({first_error})"


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The summary rows as a Markdown table (medians and [25th, 75th] percentiles across seeds)."""
    header = [
        "env",
        "algo",
        "actions",
        "n_envs",
        "budget",
        "solved at end",
        "final reward",
        "first ≥ thr.",
        "stays ≥ thr.",
        "train fps",
        "fps vs ref.",
        "wall s",
        "status",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        reference = _fps_reference(rows, row["env_id"])
        ratio = "—"
        if row["fps"] and reference is not None:
            ratio = f"{np.median(row['fps']) / np.median(reference['fps']):.2f}x {reference['algo']}"
        n_seeds = row["n_ok"] + row["n_failed"]
        solved = "—" if row["not_applicable"] or row["threshold"] is None else f"{row['solved']}/{n_seeds}"
        cells = [
            row["env_id"],
            row["algo"],
            row["actions"],
            "—" if row["n_envs"] is None else str(row["n_envs"]),
            _fmt_steps(row["budget"]) if row["budget"] else "—",
            solved,
            _fmt_spread(row["final"], lambda x: f"{x:.1f}"),
            _reach(row, "first"),
            _reach(row, "stays"),
            _fmt_spread(row["fps"], lambda x: f"{x:,.0f}"),
            ratio,
            _fmt_spread(row["wall_time"], lambda x: f"{x:.0f}"),
            _status(row),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _reach(row: dict[str, Any], kind: str) -> str:
    values = row[kind]
    if row["threshold"] is None or not values:
        return "—"
    reached = sum(not math.isinf(value) for value in values)
    if reached == len(values):
        return _fmt_spread(values, _fmt_steps)
    text = "never" if math.isinf(_quantiles(values, (0.5,))[0]) else _fmt_spread(values, _fmt_steps)
    return f"{text} ({reached}/{len(values)} seeds)"


def markdown_runs(records: Sequence[dict[str, Any]], env_order: Sequence[str] = DEFAULT_ENVS) -> str:
    """One line per run: final reward (mean ± std over the final episodes), steps to threshold, speed."""
    lines = [
        "| env | algo | seed | final reward | episodes | first ≥ thr. | stays ≥ thr. | train fps | wall s | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    runs = [r for r in records if r["status"] != "n/a"]
    runs.sort(key=lambda r: (_env_rank(r["env_id"], env_order), _algo_rank(r["algo"]), r["seed"]))
    for r in runs:
        if r["status"] == "ok":
            final = f"{r['final']['mean_reward']:.2f} ± {r['final']['std_reward']:.2f}"
            cells = [
                final,
                str(r["final"]["n_episodes"]),
                _fmt_steps(r["first_threshold_steps"]) if r["threshold"] is not None else "—",
                _fmt_steps(r["stays_threshold_steps"]) if r["threshold"] is not None else "—",
                f"{r['fps']:,.0f}",
                f"{r['wall_time']:.0f}",
                "ok",
            ]
        else:
            cells = ["—", "—", "—", "—", "—", f"{r.get('wall_time', 0.0):.0f}", f"{r['status']}: {r['error']}"]
        lines.append("| " + " | ".join([r["env_id"], r["algo"], str(r["seed"]), *cells]) + " |")
    return "\n".join(lines) + "\n"


def evaluation_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every evaluation point of every run (``kind="periodic"``, and ``"final"`` for the final evaluation)."""
    rows = []
    for r in records:
        for point in r.get("evaluations", []):
            rows.append(dict(algo=r["algo"], env_id=r["env_id"], seed=r["seed"], status=r["status"], kind="periodic", **point))
        if r["status"] == "ok":
            final = r["final"]
            rows.append(
                dict(
                    algo=r["algo"],
                    env_id=r["env_id"],
                    seed=r["seed"],
                    status=r["status"],
                    kind="final",
                    target=r["config"]["timesteps"],
                    timesteps=r["num_timesteps"],
                    mean_reward=final["mean_reward"],
                    std_reward=final["std_reward"],
                    mean_length=final["mean_length"],
                    n_episodes=final["n_episodes"],
                )
            )
    return rows


def plot_curves(records: Sequence[dict[str, Any]], env_id: str, path: Path) -> bool:
    """
    Learning curves on ``env_id``: per algorithm, the mean across seeds and the min-max spread, threshold line.

    :return: False (and no file) when no run on the env finished
    """
    runs = [r for r in records if r["env_id"] == env_id and r["status"] == "ok"]
    if not runs:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    by_algo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        by_algo[r["algo"]].append(r)
    for algo in sorted(by_algo, key=_algo_rank):
        points: dict[int, list[float]] = defaultdict(list)
        for r in by_algo[algo]:
            for point in r["evaluations"]:
                points[point["target"]].append(point["mean_reward"])
        steps = np.array(sorted(points))
        values = [points[s] for s in steps]
        actions = by_algo[algo][0]["config"]["actions"]
        label = f"{algo} ({actions}, {len(by_algo[algo])} seeds)"
        color = f"C{_algo_rank(algo)}"  # the same color for an algorithm on every env
        ax.plot(steps, [np.mean(v) for v in values], label=label, color=color)
        ax.fill_between(steps, [min(v) for v in values], [max(v) for v in values], color=color, alpha=0.2)
    threshold = runs[0].get("threshold")
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    n_episodes = runs[0]["task"]["eval_episodes"]
    ax.set_title(f"{env_id}: deterministic evaluation on the true reward")
    ax.set_xlabel("env steps")
    ax.set_ylabel(f"mean return ({n_episodes} episodes)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)
    return True


def curve_path(out_dir: Path, env_id: str) -> Path:
    return out_dir / f"curves_{re.sub(r'[^A-Za-z0-9._-]', '_', env_id)}.png"


def write_report(out_dir: Path, env_order: Sequence[str] = DEFAULT_ENVS, command: str | None = None) -> str:
    """
    Regenerate every output of ``out_dir`` from its run files: CSV/JSON of the evaluations, summary, table, curves.

    :param out_dir: The benchmark's output folder
    :param env_order: Envs to list first
    :param command: The command line, written into the table's header (None: the one saved by the last grid run)
    :return: The Markdown table of the summary
    """
    if command is None and (out_dir / "grid.json").exists():
        command = json.loads((out_dir / "grid.json").read_text(encoding="utf-8")).get("command")
    records = load_runs(out_dir)
    evaluations = evaluation_rows(records)
    columns = ["algo", "env_id", "seed", "status", "kind", "target", "timesteps", "mean_reward", "std_reward"]
    columns += ["mean_length", "n_episodes"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(evaluations)
    write_text_atomic(out_dir / "evaluations.csv", buffer.getvalue())
    write_json_atomic(out_dir / "evaluations.json", evaluations)

    rows = summarize(records, env_order)
    write_json_atomic(out_dir / "summary.json", rows)
    table = markdown_table(rows)
    machine = machine_info()
    header = [
        "# Benchmark",
        "",
        f"Machine: {machine['cpu']}, {machine['cpu_count']} CPUs; Python {machine['python']}, torch {machine['torch']}, "
        f"stable-baselines3 {machine['stable_baselines3']}, gymnasium {machine['gymnasium']}.",
    ]
    if command:
        header += ["", f"Command: `{command}`"]
    header += [
        "",
        "Medians across seeds, [25th, 75th percentile] in brackets. Final reward: deterministic policy, true reward, "
        "mean over the final evaluation episodes. First / stays ≥ thr.: env steps of the first periodic evaluation at "
        "or above the env's reward threshold, and of the one from which all later evaluations stay there "
        "(never: not reached). Train fps: env steps per second of training, evaluation excluded.",
        "",
    ]
    thresholds = sorted({(row["env_id"], row["threshold"]) for row in rows}, key=lambda t: _env_rank(t[0], env_order))
    header += ["Thresholds: " + ", ".join(f"{env} {thr:g}" for env, thr in thresholds if thr is not None), ""]
    text = "\n".join(header) + "\n" + table + "\n## Per run\n\n" + markdown_runs(records, env_order)
    write_text_atomic(out_dir / "table.md", text)

    for env_id in sorted({r["env_id"] for r in records}):
        plot_curves(records, env_id, curve_path(out_dir, env_id))
    return table


# -- Command line -----------------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the benchmark's options to ``parser`` (the ``benchmark`` sub-command of ``python -m sb3_reinforce``).

    :param parser: The parser to extend
    """
    parser.add_argument("--algos", nargs="+", choices=list(ALGOS), default=list(ALGOS), help="Algorithms to compare")
    parser.add_argument("--envs", nargs="+", default=list(DEFAULT_ENVS), metavar="ENV_ID", help="Gymnasium env ids")
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=non_negative_int,
        default=[3],
        metavar="N",
        help="One number N: seeds 0..N-1; several numbers: those seeds (one seed S alone: --seeds S S)",
    )
    parser.add_argument(
        "--timesteps", type=positive_int, default=None, help="Training budget of every run (None: per algorithm and env)"
    )
    parser.add_argument(
        "--workers", type=positive_int, default=os.cpu_count() or 1, help="Runs in parallel; defaults to the CPU count"
    )
    parser.add_argument("--out", default="benchmark_results", help="Output folder")
    parser.add_argument("--eval-freq", type=positive_int, default=5000, help="Evaluate every N env steps")
    parser.add_argument("--eval-episodes", type=positive_int, default=10, help="Episodes per evaluation")
    parser.add_argument("--final-episodes", type=positive_int, default=100, help="Episodes of the final evaluation")
    parser.add_argument(
        "--hyperparams",
        nargs="+",
        default=[],
        metavar="ALGO:KEY=VALUE",
        help="Override a hyperparameter of an algorithm on every env, e.g. ppo:learning_rate=0.001",
    )
    parser.add_argument(
        "--force", action="store_true", help="Run again the runs that already finished (after a code change, ...)"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="Only regenerate the table, CSV/JSON and curves from the run files"
    )


def parse_overrides(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """
    Parse ``ALGO:KEY=VALUE`` items (VALUE a Python literal, else a string) into ``{algo: {key: value}}``.

    >>> parse_overrides(["ppo:learning_rate=1e-3", "ppo:policy_kwargs=dict(net_arch=[8])"])["ppo"]["learning_rate"]
    0.001
    """
    overrides: dict[str, dict[str, Any]] = defaultdict(dict)
    for item in items:
        match = re.fullmatch(r"([^:=]+):([A-Za-z_][A-Za-z0-9_]*)=(.*)", item)
        if match is None or match.group(1) not in ALGOS:
            raise ValueError(f"Invalid --hyperparams item {item!r}: expected ALGO:KEY=VALUE with ALGO in {', '.join(ALGOS)}")
        algo, key, text = match.groups()
        overrides[algo][key] = _literal(text)
    return dict(overrides)


def _literal(text: str) -> Any:
    call = re.fullmatch(r"dict\((.*)\)", text.strip(), flags=re.DOTALL)
    if call is not None:
        # rl-baselines3-zoo writes policy_kwargs as dict(key=value, ...)
        tree = ast.parse(f"f({call.group(1)})", mode="eval")
        assert isinstance(tree.body, ast.Call)
        return {kw.arg: ast.literal_eval(kw.value) for kw in tree.body.keywords}
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _seeds(values: Sequence[int]) -> list[int]:
    return list(range(values[0])) if len(values) == 1 else list(dict.fromkeys(values))


def _plan(args: argparse.Namespace, overrides: dict[str, dict[str, Any]]) -> tuple[list[RunTask], list[dict[str, Any]]]:
    """The runs of the grid, and the ``n/a`` records of the algorithm x env pairs that cannot run."""
    tasks, not_applicable = [], []
    for env_id in dict.fromkeys(args.envs):
        action_space = _action_space(env_id)
        for algo in dict.fromkeys(args.algos):
            config = algo_config(algo, env_id, action_space, args.timesteps)
            if config.unsupported is not None:
                not_applicable.append(
                    dict(
                        key=run_key(algo, env_id, None),
                        algo=algo,
                        env_id=env_id,
                        seed=None,
                        status="n/a",
                        error=config.unsupported,
                        threshold=gym.spec(env_id).reward_threshold,
                        config=_config_record(config, action_space),
                        evaluations=[],
                    )
                )
                continue
            for seed in _seeds(args.seeds):
                tasks.append(
                    RunTask(
                        algo=algo,
                        env_id=env_id,
                        seed=seed,
                        timesteps=args.timesteps,
                        eval_freq=args.eval_freq,
                        eval_episodes=args.eval_episodes,
                        final_episodes=args.final_episodes,
                        overrides=overrides.get(algo, {}),
                    )
                )
    return tasks, not_applicable


def _expected_cost(task: RunTask) -> float:
    """Rough seconds a run takes, to start the slowest first (they then overlap with the many short ones)."""
    budget = task.timesteps
    if budget is None:
        budget = algo_config(task.algo, task.env_id, spaces.Box(-1, 1, (1,)), None).timesteps
    fps = _EXPECTED_FPS.get((task.algo, task.env_id), _EXPECTED_FPS_DEFAULT.get(task.algo, 1000.0))
    return budget / fps


def _is_finished(task: RunTask, out_dir: Path) -> bool:
    path = out_dir / "runs" / f"{task.key}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return record.get("status") == "ok" and record.get("task") == json.loads(json.dumps(task.to_dict()))


def _progress_line(done: int, total: int, record: dict[str, Any]) -> str:
    name = f"[{done}/{total}] {record['algo']} {record['env_id']} seed {record['seed']}"
    if record["status"] != "ok":
        return f"{name}: FAILED after {record.get('wall_time', 0.0):.0f} s: {record['error']}"
    final = record["final"]
    return (
        f"{name}: final {final['mean_reward']:.2f} ± {final['std_reward']:.2f}, "
        f"first ≥ thr. {_fmt_steps(record['first_threshold_steps'])}, stays {_fmt_steps(record['stays_threshold_steps'])}, "
        f"{record['fps']:,.0f} fps, {record['wall_time']:.0f} s"
    )


def _lost_run_record(task: RunTask, error: Exception) -> dict[str, Any]:
    """The record of a run that could not write its own (its worker process died, ...)."""
    action_space = _action_space(task.env_id)
    return dict(
        key=task.key,
        task=task.to_dict(),
        algo=task.algo,
        env_id=task.env_id,
        seed=task.seed,
        status="failed",
        error=f"the run crashed outside its own error handling: {type(error).__name__}: {error}",
        threshold=gym.spec(task.env_id).reward_threshold,
        config=_config_record(algo_config(task.algo, task.env_id, action_space, task.timesteps), action_space),
        evaluations=[],
        wall_time=0.0,
    )


def _execute(tasks: Sequence[RunTask], out_dir: Path, workers: int) -> list[dict[str, Any]]:
    """Run ``tasks`` in a process pool, printing one line per finished run."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    records = []
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context, initializer=_init_worker) as pool:
        futures: dict[Future[dict[str, Any]], RunTask] = {pool.submit(run_one, task, str(out_dir)): task for task in tasks}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                task = futures[future]
                try:
                    record = future.result()
                except Exception as error:  # the worker process died (BrokenProcessPool, ...): record it, go on
                    record = _lost_run_record(task, error)
                    write_json_atomic(out_dir / "runs" / f"{task.key}.json", record)
                records.append(record)
                print(_progress_line(done, len(tasks), record), flush=True)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return records


def _check_args(args: argparse.Namespace) -> str | None:
    """An error message for arguments the parser cannot check (None if all are valid)."""
    unknown = [env_id for env_id in args.envs if env_id not in gym.registry]
    if unknown:
        import difflib

        hints = [difflib.get_close_matches(env_id, list(gym.registry), n=1, cutoff=0.8) for env_id in unknown]
        hint = "".join(f" (did you mean {match[0]}?)" for match in hints if match)
        return f"unknown env id(s): {', '.join(unknown)}{hint}"
    bad_algos = [algo for algo in args.algos if algo not in ALGOS]
    if bad_algos:
        return f"unknown algorithm(s): {', '.join(bad_algos)}; expected some of {', '.join(ALGOS)}"
    if len(args.seeds) == 1 and args.seeds[0] < 1:
        return "--seeds N needs N >= 1"
    return None


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces the grid, every setting spelled out."""
    parts = ["python -m sb3_reinforce.benchmark", "--algos", *args.algos, "--envs", *args.envs, "--seeds"]
    parts += [str(seed) for seed in args.seeds]
    if args.timesteps is not None:
        parts += ["--timesteps", str(args.timesteps)]
    parts += ["--workers", str(args.workers), "--out", str(args.out), "--eval-freq", str(args.eval_freq)]
    parts += ["--eval-episodes", str(args.eval_episodes), "--final-episodes", str(args.final_episodes)]
    if args.hyperparams:
        parts += ["--hyperparams", *args.hyperparams]
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    """
    Run the benchmark grid described by ``args`` (see :func:`add_arguments`) and write its report.

    :param args: Parsed arguments
    :return: Exit code: 0 if every run succeeded, 1 if some failed, 2 for invalid arguments
    """
    error = _check_args(args)
    try:
        overrides = parse_overrides(args.hyperparams)
    except (ValueError, SyntaxError) as parse_error:
        error = error or str(parse_error)
    if error is not None:
        print(f"benchmark: error: {error}", file=sys.stderr)
        return 2
    out_dir = Path(args.out)
    env_order = list(dict.fromkeys([*args.envs, *DEFAULT_ENVS]))
    command = _command(args)
    if args.report_only:
        print(write_report(out_dir, env_order))
        return 0

    try:
        tasks, not_applicable = _plan(args, overrides)
    except Exception as plan_error:  # the env cannot be built (missing dependency, ...)
        print(f"benchmark: error: {type(plan_error).__name__}: {plan_error}", file=sys.stderr)
        return 2
    write_json_atomic(out_dir / "grid.json", dict(command=command, args=vars(args)))
    for record in not_applicable:
        write_json_atomic(out_dir / "runs" / f"{record['key']}.json", record)
        print(f"n/a: {record['algo']} on {record['env_id']}: {record['error']}")
    todo = [task for task in tasks if args.force or not _is_finished(task, out_dir)]
    todo.sort(key=_expected_cost, reverse=True)
    workers = min(args.workers, max(len(todo), 1))
    print(f"{len(tasks)} runs: {len(tasks) - len(todo)} already finished (skipped), {len(todo)} to run on {workers} workers")
    start = time.perf_counter()
    records = _execute(todo, out_dir, workers) if todo else []
    print(f"Grid done in {time.perf_counter() - start:.0f} s")

    print(write_report(out_dir, env_order, command=command))
    print(f"Results in {out_dir}/: table.md, evaluations.csv, evaluations.json, summary.json, curves_*.png, runs/")
    return 1 if any(record["status"] != "ok" for record in records) else 0


def main(argv: list[str] | None = None) -> int:
    """
    Entry point of ``python -m sb3_reinforce.benchmark``.

    :param argv: Command-line arguments (None: ``sys.argv[1:]``)
    :return: The exit code
    """
    parser = argparse.ArgumentParser(
        prog="python -m sb3_reinforce.benchmark",
        description="Train a grid of algorithms x envs x seeds and report them side by side.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    # Run the imported module, not __main__, so that the worker processes unpickle `sb3_reinforce.benchmark.run_one`
    from sb3_reinforce import benchmark

    sys.exit(benchmark.main())
