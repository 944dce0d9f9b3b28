"""
How the report writes its numbers, for ``table.md`` (:mod:`~sb3_reinforce.benchmark.tables`) and the page
(:mod:`~sb3_reinforce.benchmark.page_builder`): env steps (``12.5k``), seconds, durations (``3m05s``), budgets
(``1M``), an IQM with its confidence interval, a median with its interquartile range across seeds, the steps or
seconds to the threshold, and a Markdown table row. Fixed formats: the same records give the same text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "fmt_budget",
    "fmt_duration",
    "fmt_iqm",
    "fmt_num",
    "fmt_reach",
    "fmt_reach_time",
    "fmt_seconds",
    "fmt_solved",
    "fmt_spread",
    "fmt_steps",
    "quantiles",
    "table_row",
]


def quantiles(values: Sequence[float], qs: Iterable[float]) -> list[float]:
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


def fmt_steps(value: float | None) -> str:
    if value is None or math.isinf(value):
        return "never"
    if value >= 1000:
        return f"{value / 1000:.1f}".removesuffix(".0") + "k"
    return f"{value:.0f}"


def fmt_spread(values: Sequence[float], fmt: Any) -> str:
    """``median [q25, q75]`` (just the value for a single seed)."""
    if not values:
        return "—"
    median, q25, q75 = quantiles(values, (0.5, 0.25, 0.75))
    if len(values) == 1:
        return fmt(median)
    return f"{fmt(median)} [{fmt(q25)}, {fmt(q75)}]"


def fmt_duration(seconds: float) -> str:
    """
    A duration for people: ``42s``, ``3m05s``, ``2h07m``.

    >>> fmt_duration(42.4), fmt_duration(185), fmt_duration(7620)
    ('42s', '3m05s', '2h07m')
    """
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def fmt_seconds(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:,.1f}"


def fmt_num(value: float) -> str:
    return f"{value:.1f}"


def fmt_budget(steps: int | None) -> str:
    if not steps:
        return "—"
    if steps >= 1_000_000:
        return f"{steps / 1_000_000:g}M"
    return fmt_steps(steps)


def fmt_iqm(iqm: float | None, ci: Sequence[float] | None, fmt: str = "{:.1f}") -> str:
    """``iqm [low, high]``; ``(1 seed: no CI)`` when there is no interval."""
    if iqm is None:
        return "—"
    if ci is None:
        return f"{fmt.format(iqm)} (1 seed: no CI)"
    return f"{fmt.format(iqm)} [{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


def fmt_solved(row: dict[str, Any]) -> str:
    """A summary row's seeds solved at the end, ``solved/seeds`` (``—`` without a threshold, or not applicable)."""
    if row["not_applicable"] or row["threshold"] is None:
        return "—"
    return f"{row['solved']}/{row['n_ok'] + row['n_failed']}"


def table_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def table_header(cells: Sequence[str]) -> list[str]:
    """The first two lines of a Markdown table: the row of its column names, then the separator."""
    return [table_row(cells), "|---" * len(cells) + "|"]


def fmt_reach(row: dict[str, Any], kind: str) -> str:
    values = row[kind]
    if row["threshold"] is None or not values:
        return "—"
    reached = sum(not math.isinf(value) for value in values)
    if reached == len(values):
        return fmt_spread(values, fmt_steps)
    text = "never" if math.isinf(quantiles(values, (0.5,))[0]) else fmt_spread(values, fmt_steps)
    return f"{text} ({reached}/{len(values)} seeds)"


def fmt_reach_time(row: dict[str, Any], kind: str) -> str:
    """Seconds of training to the threshold (``first_time`` or ``stays_time``), like :func:`fmt_reach`; n/a unknown."""
    values = row[kind]
    if row["threshold"] is None or not values:
        return "—"
    known = [value for value in values if value is not None]
    if not known:
        return "n/a"
    reached = sum(not math.isinf(value) for value in known)
    text = "never" if math.isinf(quantiles(known, (0.5,))[0]) else fmt_spread(known, fmt_seconds)
    if reached < len(known):
        text += f" ({reached}/{len(known)} seeds)"
    if len(known) < len(values):
        text += f"; n/a for {len(values) - len(known)}"
    return text
