"""Schedules of a hyperparameter over training, as SB3 calls them: a function of the progress remaining (1 to 0)."""

from __future__ import annotations


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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinearSchedule) and other.initial_value == self.initial_value

    def __hash__(self) -> int:
        return hash(self.initial_value)

    def to_text(self) -> str:
        """The ``lin_<x>`` notation of the command line, run configs and the RL Zoo's files."""
        return f"lin_{self.initial_value!r}"
