"""The grid: its runs (:class:`RunTask`), which of them are still to run, and the command that reproduces it."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from sb3_reinforce.benchmark.peers import action_label, env_action_space, run_config, unsupported
from sb3_reinforce.benchmark.suite import SUITE
from sb3_reinforce.benchmark.summary import record_settings
from sb3_reinforce.common.schedules import LinearSchedule
from sb3_reinforce.experiments.config import RunConfig, parse_hyperparameter
from sb3_reinforce.experiments.hyperparameters import check_algo, constructor_defaults
from sb3_reinforce.experiments.mountain_car import MOUNTAIN_CAR
from sb3_reinforce.experiments.zoo_entries import zoo_normalization

__all__ = [
    "EVALUATIONS_PER_RUN",
    "RunTask",
    "config_record",
    "env_threshold",
    "expected_cost",
    "is_finished",
    "parse_overrides",
    "plan",
    "reproduce_command",
    "run_key",
]

#: Reinforce's hyperparameters whose defaults a ``--settings defaults`` record keeps (the JSON-friendly ones that
#: shape the training; not ``policy_kwargs``, ``device``, logging)
_REINFORCE_DEFAULTS = (
    "learning_rate",
    "n_episodes",
    "batch_size",
    "gamma",
    "baseline",
    "gae_lambda",
    "reward_to_go",
    "normalize_returns",
    "bootstrap_truncated",
    "normalize_observations",
    "ent_coef",
    "vf_coef",
    "critic_epochs",
    "n_epochs",
    "minibatch_size",
    "target_kl",
    "max_grad_norm",
    "use_sde",
    "sde_sample_freq",
)
#: Periodic evaluations of a run when the grid does not set their frequency
EVALUATIONS_PER_RUN = 20
#: Rough training speeds (env steps/s on one core), used only to start the slowest runs first.
_EXPECTED_FPS: dict[tuple[str, str], float] = {("sac", MOUNTAIN_CAR): 100.0, ("ppo", MOUNTAIN_CAR): 300.0}
_EXPECTED_FPS_DEFAULT = {"sac": 100.0, "ppo": 1500.0, "a2c": 2000.0, "reinforce": 1500.0}


def env_threshold(env_id: str) -> float | None:
    """
    The reward threshold the benchmark scores ``env_id`` against (recorded in each run's ``threshold``): its target
    in the suite (:data:`~sb3_reinforce.benchmark.suite.SUITE`), else the gym spec's ``reward_threshold``.

    >>> env_threshold("CartPole-v1"), env_threshold("Pendulum-v1"), env_threshold("Taxi-v4")
    (500.0, -200.0, 8)
    """
    if env_id in SUITE:
        return SUITE[env_id].target
    return gym.spec(env_id).reward_threshold


def run_key(algo: str, env_id: str, seed: int | None, settings: str = "tuned") -> str:
    """
    File-name-safe identifier of a run (``seed=None``: the ``n/a`` record of an algorithm x env).

    >>> run_key("ppo", "ALE/Pong-v5", 3), run_key("ppo", "Acrobot-v1", 1000, "defaults")
    ('ppo__ALE_Pong-v5__seed3', 'ppo-defaults__Acrobot-v1__seed1000')
    """
    safe_env = re.sub(r"[^A-Za-z0-9._-]", "_", env_id)
    label = algo if settings == "tuned" else f"{algo}-{settings}"
    return f"{label}__{safe_env}__" + ("na" if seed is None else f"seed{seed}")


@dataclass(frozen=True)
class RunTask:
    """
    One (algorithm, env, seed) of the grid: all an executor needs. Two tasks with equal fields give the same run: a
    finished run file whose task equals the requested one is not run again.

    :param algo: Algorithm name
    :param env_id: Gymnasium id of the env
    :param seed: Seed of the training env and of the model
    :param timesteps: Training budget (None: the per-env default)
    :param eval_freq: Evaluate every ``eval_freq`` env steps
    :param eval_episodes: Episodes per periodic evaluation
    :param final_episodes: Episodes of the final evaluation
    :param overrides: Hyperparameters replacing the configured ones; ``normalize`` (the zoo's option: a bool or
        ``dict(norm_obs=..., norm_reward=...)``) replaces the env setup's normalization, as the zoo's ``-params`` does
    :param settings: ``tuned`` (the algorithm's tuned settings for the env) or ``defaults`` (its constructor's
        defaults on the plain env): :data:`~sb3_reinforce.benchmark.peers.SETTINGS`
    """

    algo: str
    env_id: str
    seed: int
    timesteps: int | None = None
    eval_freq: int = 5000
    eval_episodes: int = 10
    final_episodes: int = 100
    overrides: dict[str, Any] = field(default_factory=dict)
    settings: str = "tuned"

    @property
    def key(self) -> str:
        return run_key(self.algo, self.env_id, self.seed, self.settings)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def config(self) -> RunConfig:
        """The run's configuration: the benchmark's settings for the algorithm and env, with the overrides."""
        config = run_config(self.algo, self.env_id, self.timesteps, seed=self.seed, settings=self.settings)
        overrides = dict(self.overrides)
        if "normalize" in overrides:
            setup = config.env_setup
            setup.normalize_obs, setup.normalize_reward = zoo_normalization(self.env_id, overrides.pop("normalize"))
        config.hyperparams.update(overrides)
        return config


def config_record(config: RunConfig, action_space: gym.spaces.Space, settings: str = "tuned") -> dict[str, Any]:
    """
    The settings of a run, as its record shows them. A run of Reinforce's defaults also records what they were: they
    change with this package (SB3's are fixed by the SB3 version each record holds), and a record made with other
    defaults is then no longer "finished" (:func:`is_finished`).
    """
    record = dict(
        timesteps=config.timesteps,
        n_envs=config.n_envs,
        actions=action_label(config, action_space),
        hyperparams=config.hyperparams,
        setup=dataclasses.asdict(config.env_setup),
        source=config.source,
    )
    if settings == "defaults" and config.algo == "reinforce":
        record["defaults"] = {
            key: value.to_text() if isinstance(value, LinearSchedule) else value
            for key, value in constructor_defaults("reinforce").items()
            if key in _REINFORCE_DEFAULTS
        }
    return record


def parse_overrides(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """
    Parse ``ALGO:KEY=VALUE`` items (VALUE read as :func:`~sb3_reinforce.experiments.config.parse_value` reads it).

    >>> parse_overrides(["ppo:learning_rate=1e-3", "ppo:policy_kwargs=dict(net_arch=[8])"])["ppo"]["policy_kwargs"]
    {'net_arch': [8]}

    :raise ValueError: For an item that is not ``ALGO:KEY=VALUE`` with a known algorithm
    """
    overrides: dict[str, dict[str, Any]] = defaultdict(dict)
    for item in items:
        algo, sep, assignment = item.partition(":")
        if not sep:
            raise ValueError(f"Invalid --hyperparams item {item!r}: expected ALGO:KEY=VALUE")
        key, value = parse_hyperparameter(assignment)
        overrides[check_algo(algo)][key] = value
    return dict(overrides)


def seeds(values: Sequence[int]) -> list[int]:
    """One number N: seeds 0..N-1; several numbers: those seeds."""
    return list(range(values[0])) if len(values) == 1 else list(dict.fromkeys(values))


def plan(
    algos: Sequence[str],
    envs: Sequence[str],
    seed_values: Sequence[int],
    overrides: dict[str, dict[str, Any]],
    timesteps: int | None = None,
    eval_freq: int | None = None,
    eval_episodes: int = 10,
    final_episodes: int = 100,
    settings: str = "tuned",
) -> tuple[list[RunTask], list[dict[str, Any]]]:
    """
    The runs of the grid, and the ``n/a`` records of the algorithm x env pairs that cannot run.

    ``eval_freq=None`` evaluates each run :data:`EVALUATIONS_PER_RUN` times, whatever its budget (the zoo trains SAC
    20k steps on Pendulum-v1 and A2C 1M).
    """
    tasks: list[RunTask] = []
    not_applicable: list[dict[str, Any]] = []
    for env_id in dict.fromkeys(envs):
        action_space = env_action_space(env_id)
        for algo in dict.fromkeys(algos):
            config = run_config(algo, env_id, timesteps, settings=settings)
            reason = unsupported(algo, action_space)
            if reason is not None:
                not_applicable.append(
                    dict(
                        key=run_key(algo, env_id, None, settings),
                        algo=algo,
                        env_id=env_id,
                        seed=None,
                        settings=settings,
                        status="n/a",
                        error=reason,
                        threshold=env_threshold(env_id),
                        config=config_record(config, action_space, settings),
                        evaluations=[],
                    )
                )
                continue
            run_eval_freq = eval_freq or max(1, config.timesteps // EVALUATIONS_PER_RUN)
            for seed in seeds(seed_values):
                task = RunTask(
                    algo,
                    env_id,
                    seed,
                    timesteps,
                    run_eval_freq,
                    eval_episodes,
                    final_episodes,
                    overrides.get(algo, {}),
                    settings,
                )
                tasks.append(task)
    return tasks, not_applicable


def expected_cost(task: RunTask) -> float:
    """Rough seconds a run takes, to start the slowest first (they then overlap with the many short ones)."""
    budget = task.config().timesteps
    fps = _EXPECTED_FPS.get((task.algo, task.env_id), _EXPECTED_FPS_DEFAULT.get(task.algo, 1000.0))
    return budget / fps


def is_finished(task: RunTask, record_path: Path) -> bool:
    """
    Whether ``record_path`` holds a successful run of exactly ``task`` with today's settings: a run recorded before a
    preset or a zoo setting changed is run again.
    """
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    recorded_task = {**(record.get("task") or {}), "settings": record_settings(record)}
    if record.get("status") != "ok" or recorded_task != _as_json(task.to_dict()):
        return False
    today = config_record(task.config(), env_action_space(task.env_id), task.settings)
    return _with_former_defaults(record) == _as_json(today)


#: Reinforce's defaults that a release changed: each release that changed one, oldest first, with the value before
#: it. Every entry and preset names these since (tests/test_benchmark.py), so a run of an earlier release whose
#: settings do not name one ran with the value of that release, and is the run that today's settings, naming it,
#: describe
_FORMER_DEFAULTS: dict[str, tuple[tuple[tuple[int, ...], Any], ...]] = {
    "ent_coef": (((0, 2, 0), 0.0), ((0, 3, 0), "lin_0.03")),
    "normalize_observations": (((0, 3, 0), False),),
}


#: Reinforce's parameters added since records were first kept, with the value that does what the code did before
#: them: a record of the defaults made before one was added ran with that value
_ADDED_PARAMETERS: dict[str, Any] = {"normalize_observations": False}


def _with_former_defaults(record: dict[str, Any]) -> Any:
    """The settings of ``record`` (its ``config``), with the former defaults it ran with spelled out."""
    config = record.get("config")
    version = (record.get("machine") or {}).get("sb3_reinforce")
    if record.get("algo") != "reinforce" or version is None or not isinstance(config, dict):
        return config
    release = tuple(int(part) for part in re.findall(r"\d+", str(version))[:3])
    former = {}
    for key, changes in _FORMER_DEFAULTS.items():
        # The value before the first change that came after the record's release (none: the value of today)
        then = [value for changed_in, value in changes if release < changed_in]
        if then:
            former[key] = then[0]
    config = {**config, "hyperparams": {**former, **(config.get("hyperparams") or {})}}
    if isinstance(config.get("defaults"), dict):
        config["defaults"] = {**_ADDED_PARAMETERS, **config["defaults"]}
    return config


def _as_json(value: Any) -> Any:
    """``value`` as it reads back from a JSON file (tuples become lists, ...)."""
    return json.loads(json.dumps(value))


def reproduce_command(
    algos: Sequence[str],
    envs: Sequence[str],
    seed_values: Sequence[int],
    timesteps: int | None,
    workers: int,
    out: str,
    eval_freq: int | None,
    eval_episodes: int,
    final_episodes: int,
    hyperparams: Sequence[str],
    settings: str = "tuned",
) -> str:
    """The shell command that reproduces the grid, every setting spelled out and quoted for the shell."""
    parts = ["python", "-m", "sb3_reinforce.benchmark", "--algos", *algos, "--envs", *envs, "--seeds"]
    parts += [str(seed) for seed in seed_values]
    if timesteps is not None:
        parts += ["--timesteps", str(timesteps)]
    parts += ["--workers", str(workers), "--out", str(out)]
    if eval_freq is not None:
        parts += ["--eval-freq", str(eval_freq)]
    parts += ["--eval-episodes", str(eval_episodes), "--final-episodes", str(final_episodes)]
    if hyperparams:
        parts += ["--hyperparams", *hyperparams]
    if settings != "tuned":
        parts += ["--settings", settings]
    return shlex.join(parts)
