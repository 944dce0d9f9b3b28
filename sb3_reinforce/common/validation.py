"""
The package's one way of checking a setting: a ``TypeError`` for a value of the wrong type, a ``ValueError`` for one out
of range, each naming the setting and the value. Booleans are not numbers here, and strings are not booleans: a
``"false"`` read from a file or a command line must fail loudly rather than count as true.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, overload

import numpy as np


def _got(value: Any) -> str:
    return f"got {value!r} of type {type(value).__name__}"


def is_number(value: Any) -> bool:
    """
    Whether ``value`` is a real number: a Python or numpy int or float, not a bool.

    >>> is_number(3), is_number(np.float32(0.5)), is_number(True), is_number("1")
    (True, True, False, False)

    :param value: Any value
    """
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def check_bool(name: str, value: Any) -> bool:
    """
    :param name: The setting's name, for the error message
    :param value: Its value
    :return: ``value`` as a Python bool
    :raises TypeError: if it is not a bool (``np.bool_`` included)
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a boolean (true or false), {_got(value)}")
    return bool(value)


@overload
def check_int(name: str, value: Any, minimum: int | None = None, allow_none: Literal[False] = False) -> int: ...


@overload
def check_int(name: str, value: Any, minimum: int | None = None, allow_none: bool = ...) -> int | None: ...


def check_int(name: str, value: Any, minimum: int | None = None, allow_none: bool = False) -> int | None:
    """
    :param name: The setting's name, for the error message
    :param value: Its value
    :param minimum: The smallest accepted value (None: no bound)
    :param allow_none: Whether None is accepted (returned as is)
    :return: ``value`` as a Python int (or None where ``allow_none``)
    :raises TypeError: if it is not an int (a bool is not)
    :raises ValueError: if it is below ``minimum``
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int{' or None' if allow_none else ''}, {_got(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_number(
    name: str, value: Any, low: float, high: float = float("inf"), low_inclusive: bool = True, high_inclusive: bool = True
) -> float:
    """
    :param name: The setting's name, for the error message
    :param value: Its value
    :param low: Lower bound of the accepted interval
    :param high: Upper bound of the accepted interval
    :param low_inclusive: Whether ``low`` itself is accepted
    :param high_inclusive: Whether ``high`` itself is accepted
    :return: ``value`` as a Python float
    :raises TypeError: if it is not a real number (a bool is not)
    :raises ValueError: if it is outside the interval from ``low`` to ``high`` (NaN always is)
    """
    if not is_number(value):
        raise TypeError(f"{name} must be a number, {_got(value)}")
    in_range = (value >= low if low_inclusive else value > low) and (value <= high if high_inclusive else value < high)
    if not in_range:
        brackets = ("[" if low_inclusive else "(") + f"{low}, {high}" + ("]" if high_inclusive else ")")
        raise ValueError(f"{name} must be in {brackets}, got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """
    :param name: What ``value`` names (``"baseline"``, ``"algorithm"``), for the error message
    :param value: The choice made
    :param choices: The accepted choices
    :return: ``value``
    :raises ValueError: if ``value`` is not one of ``choices``
    """
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"Unknown {name} {value!r}: expected one of {', '.join(map(repr, choices))}")
    return value
