"""Argument types shared by the command-line tools (``cli.py`` and ``benchmark/driver.py``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """
    An argparse ``type`` for integers ``>= minimum``; accepts integral floats such as ``1e5`` (training budgets).

    :param minimum: Smallest accepted value
    :return: The parsing function, raising ``argparse.ArgumentTypeError`` (exit code 2) on bad input
    """

    def parse(text: str) -> int:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if not value.is_integer() or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return int(value)

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
