"""
The algorithms a run can use (:data:`ALGOS`), and their hyperparameters: read from text (:func:`parse_value`,
``--hp KEY=VALUE``), checked (:func:`check_hyperparameters`) and turned into constructor arguments
(:func:`build_kwargs`).

Hyperparameters stay JSON-friendly in a run config (it is saved beside the model) and become Python objects only when
the model is built:

* ``policy_kwargs``: read by :func:`~sb3_reinforce.experiments.policy_kwargs.parse_policy_kwargs` (the RL Zoo's
  ``dict(net_arch=[64, 64], activation_fn=nn.ReLU)``, ``"notebook"``, class names such as ``"nn.Tanh"``);
* ``"lin_<x>"``: a linear schedule from ``x`` to 0 (the RL Zoo's notation);
* booleans: ``true``/``false`` and the other spellings of YAML 1.1 that the RL Zoo's files accept (``yes``/``no``,
  ``on``/``off``, ``True``/``False``).
"""

from __future__ import annotations

import ast
import copy
import inspect
import math
from typing import Any

from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_reinforce.common.schedules import LinearSchedule
from sb3_reinforce.common.validation import check_bool, check_choice, check_number, is_number
from sb3_reinforce.experiments.policy_kwargs import NAMED_POLICY_KWARGS, parse_policy_kwargs, policy_kwargs_to_json
from sb3_reinforce.reinforce import Reinforce

__all__ = [
    "ALGOS",
    "LinearSchedule",
    "build_kwargs",
    "check_algo",
    "check_hyperparameters",
    "constructor_defaults",
    "parse_hyperparameter",
    "parse_value",
]

#: Algorithms a run can use: REINFORCE and, for comparison, SB3's PPO, SAC and A2C (the benchmark's table order).
ALGOS: dict[str, type[BaseAlgorithm]] = {"reinforce": Reinforce, "ppo": PPO, "sac": SAC, "a2c": A2C}


def check_algo(algo: str) -> str:
    """
    The one check of an algorithm name (run configs, saved runs, the benchmark's overrides).

    :param algo: A key of :data:`ALGOS`
    :return: ``algo``
    :raise ValueError: Naming the unknown algorithm and the known ones
    """
    return check_choice("algorithm", algo, ALGOS)


# Constructor arguments that a run sets itself (the value: the RunConfig field or train() argument that sets it)
NOT_HYPERPARAMETERS = {"seed": "seed", "tensorboard_log": "tensorboard_log", "verbose": "verbose", "device": "device"}
_SET_BY_THE_RUN = {"self", "policy", "env", "_init_setup_model", *NOT_HYPERPARAMETERS}

# The spellings PyYAML (hence the RL Zoo's hyperparameter files) reads as booleans and null (YAML 1.1)
_YAML_SCALARS: dict[str, bool | None] = {
    **dict.fromkeys(("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"), False),
    **dict.fromkeys(("null", "Null", "NULL", "~"), None),
}


class _DictCallsToLiterals(ast.NodeTransformer):
    """``dict(a=1)`` -> ``{"a": 1}``, so that :func:`ast.literal_eval` reads the RL Zoo's notation."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
            if all(keyword.arg is not None for keyword in node.keywords):
                keys: list[ast.expr | None] = [ast.Constant(keyword.arg) for keyword in node.keywords]
                return ast.Dict(keys=keys, values=[keyword.value for keyword in node.keywords])
        return node


def parse_value(text: str) -> Any:
    """
    Read a hyperparameter value: a YAML 1.1 boolean or null (``true``, ``no``, ``off``, ``null``...), a Python literal
    (numbers, booleans, None, lists, dicts, ``dict(key=value)``), else the string itself (``value``, ``lin_0.001``).

    >>> parse_value("false"), parse_value("yes"), parse_value("True"), parse_value("null")
    (False, True, True, None)
    >>> parse_value("dict(net_arch=[8])")
    {'net_arch': [8]}
    >>> parse_value("3e-3"), parse_value("value"), parse_value("lin_0.001")
    (0.003, 'value', 'lin_0.001')
    """
    text = text.strip()
    if text in _YAML_SCALARS:
        return _YAML_SCALARS[text]
    try:
        tree = _DictCallsToLiterals().visit(ast.parse(text, mode="eval"))
        return ast.literal_eval(ast.fix_missing_locations(tree))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_hyperparameter(text: str) -> tuple[str, Any]:
    """
    Parse ``key=value``: the value read by :func:`parse_value`, or, for ``policy_kwargs``, by
    :func:`~sb3_reinforce.experiments.policy_kwargs.parse_policy_kwargs` (kept JSON-friendly: classes by name).

    >>> parse_hyperparameter("policy_kwargs=dict(net_arch=[64], activation_fn=nn.ReLU, ortho_init=False)")
    ('policy_kwargs', {'net_arch': [64], 'activation_fn': 'nn.ReLU', 'ortho_init': False})

    :param text: ``key=value``
    :return: ``(key, value)``
    :raise ValueError: If ``text`` is not ``key=value`` with an identifier as key, or its policy_kwargs cannot be read
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"expected key=value, got {text!r}")
    if key == "policy_kwargs":
        if raw.strip() in NAMED_POLICY_KWARGS:
            return key, raw.strip()
        return key, policy_kwargs_to_json(parse_policy_kwargs(raw))
    return key, parse_value(raw)


def constructor_defaults(algo: str) -> dict[str, Any]:
    """The hyperparameters of ``ALGOS[algo]`` (constructor arguments that a run does not set) and their defaults."""
    parameters = inspect.signature(ALGOS[check_algo(algo)].__init__).parameters
    return {name: param.default for name, param in parameters.items() if name not in _SET_BY_THE_RUN}


def _is_schedule(value: Any) -> bool:
    if not (isinstance(value, str) and value.startswith("lin_")):
        return False
    return is_number(parse_value(value[len("lin_") :]))


def check_hyperparameters(algo: str, hyperparams: dict[str, Any]) -> None:
    """
    Check the names (constructor arguments of the algorithm), the types where the default says what they are (a
    number or a ``lin_<x>`` schedule, a boolean), and that ``policy_kwargs`` can be read; the algorithm checks the
    rest when it is built.

    :raise ValueError: Naming the first unknown algorithm, hyperparameter or bad value
    :raise TypeError: Naming a boolean hyperparameter given something else than a boolean, or a number one given
        something else than a number or a schedule
    """
    defaults = constructor_defaults(algo)
    parameters = inspect.signature(ALGOS[algo].__init__).parameters
    for name, value in hyperparams.items():
        if name in NOT_HYPERPARAMETERS:
            flag = "--" + NOT_HYPERPARAMETERS[name].replace("_", "-")
            raise ValueError(f"{name!r} is not a hyperparameter: it is set by the run ({flag} on the command line)")
        if name not in defaults:
            hint = ""
            if name in inspect.signature(ActorCriticPolicy.__init__).parameters:
                hint = f' ({name} is an argument of the policy: --hp "policy_kwargs=dict({name}=...)")'
            raise ValueError(
                f"unknown hyperparameter {name!r} for {ALGOS[algo].__name__}{hint}; valid names: {', '.join(defaults)}"
            )
        default = defaults[name]
        if value is None and "None" in str(parameters[name].annotation):
            continue  # an optional setting turned off (minibatch_size=None: the whole batch)
        if isinstance(default, bool):
            # A string such as "false" would count as true
            check_bool(f"hyperparameter {name}", value)
        elif (is_number(default) or isinstance(default, LinearSchedule)) and not _is_schedule(value):
            check_number(f"hyperparameter {name}", value, -math.inf)
        if name == "policy_kwargs" and value is not None:
            parse_policy_kwargs(value)


def build_kwargs(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """
    Turn JSON-friendly hyperparameters into constructor arguments (policy kwargs, ``lin_<x>`` schedules).

    :raise ValueError: Naming a value that cannot be turned into an argument
    """
    # A deep copy: SB3 adds entries (classes) to the policy_kwargs it is given
    kwargs = copy.deepcopy(hyperparams)
    for key, value in kwargs.items():
        if _is_schedule(value):
            kwargs[key] = LinearSchedule(float(value[len("lin_") :]))
    if kwargs.get("policy_kwargs") is not None:
        kwargs["policy_kwargs"] = parse_policy_kwargs(kwargs["policy_kwargs"])
    return kwargs
