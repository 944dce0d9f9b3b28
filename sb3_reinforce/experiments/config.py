"""
The one run configuration (:class:`RunConfig`) and the one way to turn its JSON-friendly hyperparameters into
constructor arguments (:func:`build_kwargs`), shared by the command line, the benchmark and the examples.

Hyperparameters stay JSON-friendly in a config (it is saved beside the model) and become Python objects only when the
model is built:

* ``policy_kwargs="notebook"``: the notebook's policy (:func:`~sb3_reinforce.experiments.mountain_car.notebook_policy_kwargs`);
* ``policy_kwargs={"activation_fn": "Tanh", ...}``: a ``torch.nn`` module name;
* ``"lin_<x>"``: a linear schedule from ``x`` to 0 (the RL Zoo's notation).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import numbers
from dataclasses import dataclass, field
from typing import Any

import torch as th
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_reinforce.experiments.envs import EnvSetup
from sb3_reinforce.experiments.mountain_car import notebook_policy_kwargs
from sb3_reinforce.experiments.presets import DEFAULT_PRESET, PRESETS, Preset
from sb3_reinforce.reinforce import Reinforce

__all__ = [
    "ALGOS",
    "DEFAULT_TIMESTEPS",
    "LinearSchedule",
    "RunConfig",
    "build_kwargs",
    "check_hyperparameters",
    "make_config",
    "parse_hyperparameter",
    "parse_value",
]

#: Algorithms a run can use: REINFORCE and, for comparison, SB3's PPO, SAC and A2C (the benchmark's table order).
ALGOS: dict[str, type[BaseAlgorithm]] = {"reinforce": Reinforce, "ppo": PPO, "sac": SAC, "a2c": A2C}
#: Budget of a run on an env that has no preset.
DEFAULT_TIMESTEPS = 100_000

# Constructor arguments that a run sets itself (the value: the RunConfig field or train() argument that sets it)
_NOT_HYPERPARAMETERS = {"seed": "seed", "tensorboard_log": "tensorboard_log", "verbose": "verbose", "device": "device"}
_SET_BY_THE_RUN = {"self", "policy", "env", "_init_setup_model", *_NOT_HYPERPARAMETERS}


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
        if self.algo not in ALGOS:
            raise ValueError(f"Unknown algorithm {self.algo!r}: expected one of {', '.join(ALGOS)}")

    @property
    def env_id(self) -> str:
        return self.env_setup.env_id

    @property
    def algo_class(self) -> type[BaseAlgorithm]:
        return ALGOS[self.algo]

    @property
    def gamma(self) -> float:
        """Discount factor of the run: the ``gamma`` hyperparameter, or the algorithm's default."""
        gamma = self.hyperparams.get("gamma", _constructor_defaults(self.algo)["gamma"])
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real):
            raise ValueError(f"hyperparameter gamma must be a number, got {gamma!r}")
        return float(gamma)

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


# -- Hyperparameter values -------------------------------------------------------------------------------------------


class _DictCallsToLiterals(ast.NodeTransformer):
    """``dict(a=1)`` -> ``{"a": 1}``, so that :func:`ast.literal_eval` reads the RL Zoo's ``policy_kwargs`` notation."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            if all(keyword.arg is not None for keyword in node.keywords):
                keys: list[ast.expr | None] = [ast.Constant(keyword.arg) for keyword in node.keywords]
                return ast.Dict(keys=keys, values=[keyword.value for keyword in node.keywords])
        return node


def parse_value(text: str) -> Any:
    """
    Read a hyperparameter value: a Python literal (numbers, booleans, None, lists, dicts, ``dict(key=value)``),
    else the string itself (``baseline=value``, ``lin_0.001``).

    >>> parse_value("dict(net_arch=[8], activation_fn='Tanh')")
    {'net_arch': [8], 'activation_fn': 'Tanh'}
    >>> parse_value("3e-3"), parse_value("value"), parse_value("lin_0.001")
    (0.003, 'value', 'lin_0.001')
    """
    text = text.strip()
    try:
        tree = _DictCallsToLiterals().visit(ast.parse(text, mode="eval"))
        return ast.literal_eval(ast.fix_missing_locations(tree))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_hyperparameter(text: str) -> tuple[str, Any]:
    """
    Parse ``key=value`` (value read by :func:`parse_value`).

    :param text: ``key=value``
    :return: ``(key, value)``
    :raise ValueError: If ``text`` is not ``key=value`` with an identifier as key
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"expected key=value, got {text!r}")
    return key, parse_value(raw)


def _constructor_defaults(algo: str) -> dict[str, Any]:
    parameters = inspect.signature(ALGOS[algo].__init__).parameters
    return {name: param.default for name, param in parameters.items() if name not in _SET_BY_THE_RUN}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_hyperparameters(algo: str, hyperparams: dict[str, Any]) -> None:
    """
    Check the names (constructor arguments of the algorithm) and, where the default is a number, that the value is a
    number or a ``lin_<x>`` schedule; the algorithm checks the rest when it is built.

    :raise ValueError: Naming the first bad hyperparameter
    """
    defaults = _constructor_defaults(algo)
    for name, value in hyperparams.items():
        if name in _NOT_HYPERPARAMETERS:
            flag = "--" + _NOT_HYPERPARAMETERS[name].replace("_", "-")
            raise ValueError(f"{name!r} is not a hyperparameter: it is set by the run ({flag} on the command line)")
        if name not in defaults:
            raise ValueError(f"unknown hyperparameter {name!r} for {ALGOS[algo].__name__}; valid names: {', '.join(defaults)}")
        if _is_number(defaults[name]) and not _is_number(value) and not _is_schedule(value):
            raise ValueError(f"hyperparameter {name} must be a number, got {value!r}")


def _is_schedule(value: Any) -> bool:
    if not (isinstance(value, str) and value.startswith("lin_")):
        return False
    return _is_number(parse_value(value[len("lin_") :]))


def _activation(name: str) -> type[th.nn.Module]:
    """``"ELU"``, ``"nn.ELU"``, ``"th.nn.ELU"`` or ``"elu"`` -> ``torch.nn.ELU``."""
    short = name.rsplit(".", 1)[-1]
    for candidate in dir(th.nn):
        if candidate.lower() == short.lower():
            obj = getattr(th.nn, candidate)
            if isinstance(obj, type) and issubclass(obj, th.nn.Module):
                return obj
    raise ValueError(f"unknown activation_fn {name!r}: expected a torch.nn module name such as 'Tanh' or 'ELU'")


def build_kwargs(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """
    Turn JSON-friendly hyperparameters into constructor arguments (policy kwargs, activations, ``lin_<x>`` schedules).

    :raise ValueError: Naming a value that cannot be turned into an argument
    """
    # A deep copy: SB3 adds entries (classes) to the policy_kwargs it is given
    kwargs = copy.deepcopy(hyperparams)
    for key, value in kwargs.items():
        if _is_schedule(value):
            kwargs[key] = LinearSchedule(float(value[len("lin_") :]))
    policy_kwargs = kwargs.get("policy_kwargs")
    if policy_kwargs == "notebook":
        kwargs["policy_kwargs"] = notebook_policy_kwargs()
    elif policy_kwargs is not None and not isinstance(policy_kwargs, dict):
        raise ValueError(f"hyperparameter policy_kwargs must be a dict or 'notebook', got {policy_kwargs!r}")
    elif isinstance(policy_kwargs, dict) and isinstance(policy_kwargs.get("activation_fn"), str):
        kwargs["policy_kwargs"] = {**policy_kwargs, "activation_fn": _activation(policy_kwargs["activation_fn"])}
    return kwargs


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

    * No ``env_id``, or the preset's env: start from the preset (:data:`~sb3_reinforce.experiments.presets.DEFAULT_PRESET`
      by default).
    * Another ``env_id`` with no ``preset``: start from a plain setup for that env (its own action space, no shaping,
      its own time limit, no normalization), the algorithm's default hyperparameters and :data:`DEFAULT_TIMESTEPS`.
      A preset named together with another env is an error: presets are recipes for their own env.
    * ``algo`` other than the preset's: the preset's env setup is kept, its hyperparameters are dropped, so the
      algorithm runs with SB3's defaults.
    * The remaining arguments override the result; ``hyperparams`` are merged into the preset's.

    :raise ValueError: For an unknown preset, env, algorithm or hyperparameter, or a bad combination
    """
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm {algo!r}: expected one of {', '.join(ALGOS)}")
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
    base = PRESETS[preset or DEFAULT_PRESET]
    preset_name: str | None = preset or DEFAULT_PRESET
    if env_id is not None and env_id != base.setup.env_id:
        if preset is not None:
            raise ValueError(
                f"preset {preset!r} is a recipe for {base.setup.env_id}, not {env_id}: "
                f"drop --preset to train on {env_id} from the algorithm's defaults"
            )
        base = Preset(description=f"plain setup for {env_id}", setup=EnvSetup(env_id), timesteps=DEFAULT_TIMESTEPS)
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
