"""Argument types shared by the command-line tools (``cli.py`` and ``benchmark/driver.py``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sb3_reinforce.common.validation import check_int


def _number(text: str) -> int | float | str:
    """The number ``text`` spells (an int where it is integral, as ``1e5``), else ``text`` itself."""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


def int_at_least(minimum: int) -> Callable[[str], int]:
    """
    An argparse ``type`` for integers ``>= minimum``, checked by :func:`~sb3_reinforce.common.validation.check_int`;
    accepts integral floats such as ``1e5`` (training budgets).

    :param minimum: Smallest accepted value
    :return: The parsing function, raising ``argparse.ArgumentTypeError`` (exit code 2) with the check's message
    """

    def parse(text: str) -> int:
        try:
            return check_int("value", _number(text), minimum)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = f"int_at_least_{minimum}"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """
    Keep the layout of descriptions and epilogs, and add ``(default: X)`` to an option's help once: not when the help
    already says what the default is, nor for defaults that say nothing (None, False, an empty list).
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if action.default is None or action.default is False or action.default == [] or "default" in help_text:
            return help_text
        return super()._get_help_string(action)
