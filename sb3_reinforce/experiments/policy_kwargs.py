"""
The package's one reader of ``policy_kwargs``: the RL Zoo's notation, JSON-friendly dicts, and named recipes.

The RL Zoo writes ``policy_kwargs`` in its hyperparameter files as a Python expression that it ``eval``\\ s with
``nn`` and ``th`` in scope. :func:`parse_policy_kwargs` reads the same expressions without ``eval``: literals,
``dict(...)`` calls and the classes they name, nothing else. It serves the command line's ``--hp``, the run configs
saved beside models and the RL Zoo plugin (``sb3_reinforce.zoo``), which imports it without importing ``rl_zoo3``.

>>> parse_policy_kwargs("dict(net_arch=[64, 64], activation_fn=nn.ReLU, ortho_init=False)")
{'net_arch': [64, 64], 'activation_fn': <class 'torch.nn.modules.activation.ReLU'>, 'ortho_init': False}
>>> parse_policy_kwargs({"optimizer_class": "RMSprop", "optimizer_kwargs": {"eps": 1e-5}})["optimizer_class"]
<class 'torch.optim.rmsprop.RMSprop'>
>>> format_policy_kwargs(parse_policy_kwargs("dict(activation_fn='tanh', net_arch=dict(pi=[8], vf=[8]))"))
'dict(activation_fn=nn.Tanh, net_arch=dict(pi=[8], vf=[8]))'
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping
from typing import Any

import torch as th
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

from sb3_reinforce.experiments.mountain_car import notebook_policy_kwargs

__all__ = [
    "NAMED_POLICY_KWARGS",
    "format_policy_kwargs",
    "parse_policy_kwargs",
    "policy_kwargs_to_json",
]

#: Recipes named by a string instead of a dict (``policy_kwargs="notebook"``): the value builds the dict.
NAMED_POLICY_KWARGS: dict[str, Callable[[], dict[str, Any]]] = {"notebook": notebook_policy_kwargs}

# Classes an expression may name, by the prefixes the zoo's files use (its exp_manager imports `nn` and `th`)
_MODULE_PREFIXES = ("nn.", "th.nn.", "torch.nn.")
_OPTIMIZER_PREFIXES = ("th.optim.", "torch.optim.", "optim.")
_BARE_CLASSES: dict[str, type] = {"RMSpropTFLike": RMSpropTFLike}
# Keys whose string values name a class (``activation_fn='Tanh'``, ``optimizer_class='RMSprop'``)
_CLASS_KEYS = {"activation_fn": "module", "optimizer_class": "optimizer"}
# JSON's spellings, so that a dict printed as JSON reads back
_JSON_NAMES = {"true": True, "false": False, "null": None}


def _modules() -> dict[str, type]:
    return {name: obj for name, obj in vars(th.nn).items() if isinstance(obj, type) and issubclass(obj, th.nn.Module)}


def _optimizers() -> dict[str, type]:
    optimizers = {
        name: obj for name, obj in vars(th.optim).items() if isinstance(obj, type) and issubclass(obj, th.optim.Optimizer)
    }
    return {**optimizers, **_BARE_CLASSES}


def _lookup(name: str, classes: dict[str, type], what: str, ignore_case: bool = False) -> type:
    """A class by its name (or, ``ignore_case``, as ``'tanh'``), else an error suggesting the closest."""
    if name in classes:
        return classes[name]
    by_lower = {key.lower(): value for key, value in classes.items()}
    if ignore_case and name.lower() in by_lower:
        return by_lower[name.lower()]
    # Compared without case: 'Relu' is closest to 'ReLU'
    names_by_lower = {key.lower(): key for key in classes}
    close = difflib.get_close_matches(name.lower(), list(names_by_lower), n=1)
    hint = f" (did you mean {names_by_lower[close[0]]!r}?)" if close else ""
    raise ValueError(f"{what} has no class {name!r}{hint}")


def _class_from_dotted(dotted: str) -> type:
    """``nn.ReLU``, ``th.nn.ReLU``, ``th.optim.RMSprop``, ``RMSpropTFLike``... -> the class (names as Python spells them)."""
    for prefix in _MODULE_PREFIXES:
        if dotted.startswith(prefix) and "." not in dotted[len(prefix) :]:
            return _lookup(dotted[len(prefix) :], _modules(), "torch.nn")
    for prefix in _OPTIMIZER_PREFIXES:
        if dotted.startswith(prefix) and "." not in dotted[len(prefix) :]:
            return _lookup(dotted[len(prefix) :], _optimizers(), "torch.optim")
    if dotted in _BARE_CLASSES:
        return _BARE_CLASSES[dotted]
    raise ValueError(
        f"unknown name {dotted!r}: expected a class of torch.nn (nn.ReLU) or torch.optim (th.optim.RMSprop), "
        f"or {', '.join(_BARE_CLASSES)}"
    )


def _class_from_string(key: str, name: str) -> type:
    """The class a string names under a class-valued key: ``'Tanh'``, ``'nn.Tanh'``, ``'rmsprop'``..."""
    kind = _CLASS_KEYS[key]
    # A bare name may be written in any case, as the first CLI accepted it ('elu')
    if "." in name:
        cls = _class_from_dotted(name)
    elif kind == "module":
        cls = _lookup(name, _modules(), "torch.nn", ignore_case=True)
    else:
        cls = _lookup(name, _optimizers(), "torch.optim", ignore_case=True)
    base = th.nn.Module if kind == "module" else th.optim.Optimizer
    if not issubclass(cls, base):
        raise ValueError(f"{name!r} is not a {base.__module__}.{base.__name__}")
    return cls


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted_name(node.value)
        return None if parent is None else f"{parent}.{node.attr}"
    return None


def _read(node: ast.expr) -> Any:
    """The value of one node of the expression: literals, ``dict(...)``, lists, tuples and class names only."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _read(node.operand)
        if isinstance(operand, (int, float)) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_read(item) for item in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        result = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                raise ValueError(f"cannot read {ast.unparse(node)!r}: ** is not supported")
            key = _read(key_node)
            result[key] = _read_value(key, value_node)
        return result
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        if any(keyword.arg is None for keyword in node.keywords):
            raise ValueError(f"cannot read {ast.unparse(node)!r}: ** is not supported")
        return {keyword.arg: _read_value(keyword.arg, keyword.value) for keyword in node.keywords}
    if isinstance(node, ast.Name) and node.id in _JSON_NAMES:
        return _JSON_NAMES[node.id]
    dotted = _dotted_name(node)
    if dotted is not None:
        return _class_from_dotted(dotted)
    raise ValueError(f"cannot read {ast.unparse(node)!r}: expected a literal, dict(...), or a class such as nn.ReLU")


def _read_value(key: Any, node: ast.expr) -> Any:
    try:
        value = _read(node)
        if key in _CLASS_KEYS and isinstance(value, str):
            value = _class_from_string(key, value)
    except ValueError as error:
        raise ValueError(f"{key}={ast.unparse(node)}: {error}") from None
    return value


def _resolve(value: Any) -> Any:
    """A copy of a dict given as Python objects, with the strings of class-valued keys turned into classes."""
    if isinstance(value, Mapping):
        resolved = {}
        for key, item in value.items():
            try:
                resolved[key] = (
                    _class_from_string(key, item) if key in _CLASS_KEYS and isinstance(item, str) else _resolve(item)
                )
            except ValueError as error:
                raise ValueError(f"{key}={item!r}: {error}") from None
        return resolved
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value


def parse_policy_kwargs(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """
    Read ``policy_kwargs`` as the policy's constructor takes them (classes as classes).

    :param value: A name of :data:`NAMED_POLICY_KWARGS` (``"notebook"``), the RL Zoo's expression
        (``"dict(net_arch=[64, 64], activation_fn=nn.ReLU, optimizer_class=th.optim.RMSprop)"``, JSON's
        ``true``/``false``/``null`` accepted too), or a dict whose ``activation_fn`` / ``optimizer_class`` may be
        class names (``"Tanh"``, ``"nn.Tanh"``, ``"RMSprop"``, ``"th.optim.RMSprop"``, ``"RMSpropTFLike"``)
    :return: A new dict (the caller's value is not changed; SB3 adds entries to the dict it is given)
    :raise ValueError: Naming the part that cannot be read
    :raise TypeError: If ``value`` is neither a string nor a dict
    """
    if isinstance(value, Mapping):
        try:
            return _resolve(value)
        except ValueError as error:
            raise ValueError(f"cannot read policy_kwargs {dict(value)!r}: {error}") from None
    if not isinstance(value, str):
        raise TypeError(f"policy_kwargs must be a dict or a string, got {value!r} of type {type(value).__name__}")
    text = value.strip()
    if text in NAMED_POLICY_KWARGS:
        return NAMED_POLICY_KWARGS[text]()
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"cannot read policy_kwargs {text!r}: not a Python expression ({error.msg})") from None
    is_dict_call = isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and tree.func.id == "dict"
    if not (isinstance(tree, ast.Dict) or is_dict_call):
        names = " or ".join(repr(name) for name in NAMED_POLICY_KWARGS)
        raise ValueError(f"policy_kwargs must be a dict (dict(...) or {{...}}) or {names}, got {text!r}")
    try:
        return _read(tree)
    except ValueError as error:
        raise ValueError(f"cannot read policy_kwargs {text!r}: {error}") from None


def _class_name(cls: type) -> str:
    if issubclass(cls, th.nn.Module) and getattr(th.nn, cls.__name__, None) is cls:
        return f"nn.{cls.__name__}"
    if getattr(th.optim, cls.__name__, None) is cls:
        return f"th.optim.{cls.__name__}"
    if _BARE_CLASSES.get(cls.__name__) is cls:
        return cls.__name__
    raise ValueError(f"cannot name class {cls.__module__}.{cls.__qualname__}: not in torch.nn or torch.optim")


def policy_kwargs_to_json(policy_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """
    The JSON-friendly form of parsed ``policy_kwargs``, as run configs save them: classes become the names
    :func:`parse_policy_kwargs` reads back (``"nn.ReLU"``, ``"th.optim.RMSprop"``), tuples become lists.

    >>> policy_kwargs_to_json({"activation_fn": th.nn.ReLU, "net_arch": (8, 8)})
    {'activation_fn': 'nn.ReLU', 'net_arch': [8, 8]}
    """

    def convert(value: Any) -> Any:
        if isinstance(value, type):
            return _class_name(value)
        if isinstance(value, Mapping):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(item) for item in value]
        return value

    return convert(policy_kwargs)


def format_policy_kwargs(policy_kwargs: Mapping[str, Any]) -> str:
    """
    Write ``policy_kwargs`` in the RL Zoo's notation, which the zoo ``eval``\\ s and :func:`parse_policy_kwargs` reads.

    :param policy_kwargs: Policy keyword arguments, classes as classes
    :return: For instance ``"dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.Tanh)"``
    """

    def write(value: Any) -> str:
        if isinstance(value, type):
            return _class_name(value)
        if isinstance(value, Mapping):
            if all(isinstance(key, str) and key.isidentifier() for key in value):
                return f"dict({', '.join(f'{key}={write(item)}' for key, item in value.items())})"
            return "{" + ", ".join(f"{key!r}: {write(item)}" for key, item in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(write(item) for item in value) + "]"
        if isinstance(value, tuple):
            return "(" + ", ".join(write(item) for item in value) + ("," if len(value) == 1 else "") + ")"
        return repr(value)

    return write(policy_kwargs)
