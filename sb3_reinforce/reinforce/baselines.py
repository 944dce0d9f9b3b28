"""
Baselines: what REINFORCE subtracts from the returns to reduce the variance of its gradient.

Each baseline is an object that validates its own options, owns its state (saved with the model, as an attribute of
:class:`~sb3_reinforce.Reinforce`) and computes the advantages of a finished batch of episodes. The algorithm and the
buffer only ask it; no other module knows which baseline is in use. Normalization happens in one place,
:meth:`Baseline.policy_weights`, which GRPO's group baseline overrides to standardize group by group.

``"none"``, ``"mean"``, ``"leave_one_out"`` and ``"value"`` leave the expected gradient unchanged (a baseline that does
not depend on the episode's own actions); ``"group"`` with ``normalize_returns=True`` rescales each group (GRPO).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch as th

from sb3_reinforce.common.validation import check_choice, check_int, check_number
from sb3_reinforce.reinforce.returns import gae_advantages, group_advantages, leave_one_out_advantages

if TYPE_CHECKING:
    from sb3_reinforce.reinforce.episode_buffer import EpisodeRolloutBuffer


class Baseline:
    """
    No baseline: the policy-gradient weight of a step is its return, plain REINFORCE (Williams, 1992).

    Subclasses override :meth:`advantages` (and, for state, :meth:`update`); options are constructor arguments.
    """

    name: ClassVar[str] = "none"
    #: Whether the baseline is a learned critic ``V(s)`` (the policy's value head is then trained and used)
    uses_critic: ClassVar[bool] = False
    #: Whether the episodes of a batch come in groups started from one state (see :class:`GroupBaseline`)
    group_size: int | None = None

    def check(self, n_episodes: int, reward_to_go: bool) -> None:
        """Raise a ``ValueError`` if the baseline cannot work with these settings of the algorithm."""

    def advantages(self, buffer: EpisodeRolloutBuffer) -> np.ndarray:
        """
        The advantages of the finished batch, before any normalization: the spread the baseline leaves.

        :param buffer: The batch, with its returns computed (``buffer.returns``, ``buffer.episode_slices``)
        :return: One advantage per step, float32
        """
        return buffer.returns.copy()

    def policy_weights(self, buffer: EpisodeRolloutBuffer, normalize: bool) -> th.Tensor:
        """
        The weights of ``log pi(a_t|s_t)`` in the loss: the advantages, standardized over the batch with ``normalize``.
        """
        weights = buffer.to_torch(buffer.advantages)
        if normalize and len(weights) > 1:
            weights = (weights - weights.mean()) / (weights.std() + 1e-8)
        return weights

    def update(self, buffer: EpisodeRolloutBuffer) -> None:
        """Update the baseline's state after the batch was used (never before: a batch never sees itself)."""

    def diagnostics(self) -> dict[str, float]:
        """What the algorithm logs of the baseline's state, as ``train/<key>``."""
        return {}

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in vars(self).items() if not key.startswith("_"))
        return f"{type(self).__name__}({options})"


class RunningMeanBaseline(Baseline):
    """
    A running average of the returns, ``b <- d * b + (1 - d) * mean(G)``, updated after each batch so that a batch's
    baseline never depends on the batch itself (the textbook baseline, Sutton & Barto, section 13.4). With
    ``normalize_returns=True`` the batch standardization removes any constant: this baseline only matters without it.

    :param decay: The decay ``d`` of the average, in [0, 1)
    """

    name = "mean"

    def __init__(self, decay: float = 0.9):
        self.decay = check_number("baseline_decay", decay, 0.0, 1.0, high_inclusive=False)
        # None until a first batch has been seen
        self.value: float | None = None

    def advantages(self, buffer: EpisodeRolloutBuffer) -> np.ndarray:
        return buffer.returns - np.float32(self.value or 0.0)

    def update(self, buffer: EpisodeRolloutBuffer) -> None:
        batch_mean = float(buffer.returns.mean())
        previous = batch_mean if self.value is None else self.value
        self.value = self.decay * previous + (1.0 - self.decay) * batch_mean

    def diagnostics(self) -> dict[str, float]:
        return {"return_baseline": float(self.value or 0.0)}


class LeaveOneOutBaseline(Baseline):
    """
    For step ``t`` of episode ``i``, the mean of the returns from step ``t`` of the *other* episodes of the batch that
    last more than ``t`` steps, 0 if none (RLOO: Kool et al., 2019; Ahmadian et al., 2024,
    https://arxiv.org/abs/2402.14740). With ``reward_to_go=False``: the mean of the other episodes' returns.
    """

    name = "leave_one_out"

    def check(self, n_episodes: int, reward_to_go: bool) -> None:
        if n_episodes < 2:
            raise ValueError(f"baseline='leave_one_out' needs n_episodes >= 2 (the other episodes), got {n_episodes}")

    def advantages(self, buffer: EpisodeRolloutBuffer) -> np.ndarray:
        return np.concatenate(leave_one_out_advantages(buffer.episode_returns(), per_step=buffer.reward_to_go))


class GroupBaseline(Baseline):
    """
    Episodes come in groups of ``group_size`` started from the same initial state, and each is compared with its group
    (GRPO, Shao et al., 2024, https://arxiv.org/abs/2402.03300). The advantages are leave-one-out within the group
    (unbiased); with ``normalize_returns=True`` the weights are GRPO's ``(G - mean_group) / (std_group + 1e-8)`` per step
    over the group's episodes still running at that step, which rescales each group and is not unbiased. How the
    groups are played: :class:`~sb3_reinforce.reinforce.episode_scheduler.EpisodeScheduler`. Truncated episodes are
    treated as terminal.

    :param group_size: Episodes per group, >= 2 (``n_episodes`` must be a multiple of it)
    """

    name = "group"

    def __init__(self, group_size: int):
        self.group_size = check_int("group_size", group_size, minimum=2)

    def check(self, n_episodes: int, reward_to_go: bool) -> None:
        assert self.group_size is not None
        if n_episodes % self.group_size != 0:
            raise ValueError(f"n_episodes={n_episodes} must be a multiple of group_size={self.group_size}")

    def _grouped(self, buffer: EpisodeRolloutBuffer, normalize: bool) -> np.ndarray:
        if np.any(buffer.episode_groups < 0):
            raise RuntimeError("baseline='group' needs the group of every episode (end_episodes(..., groups=...))")
        advantages = group_advantages(
            buffer.episode_returns(), buffer.episode_groups, normalize=normalize, per_step=buffer.reward_to_go
        )
        return np.concatenate(advantages)

    def advantages(self, buffer: EpisodeRolloutBuffer) -> np.ndarray:
        return self._grouped(buffer, normalize=False)

    def policy_weights(self, buffer: EpisodeRolloutBuffer, normalize: bool) -> th.Tensor:
        # GRPO standardizes within each group, never over the batch
        return buffer.to_torch(self._grouped(buffer, normalize=True) if normalize else buffer.advantages)


class ValueBaseline(Baseline):
    """
    A learned state-value baseline ``V(s_t)`` (the policy's value head), with the Generalized Advantage Estimator
    GAE(``gae_lambda``) (Schulman et al., 2015, https://arxiv.org/abs/1506.02438): ``gae_lambda=1`` gives the
    Monte-Carlo advantage ``G_t - V(s_t)``. The critic is regressed on ``advantage + V(s_t)``.

    :param gae_lambda: The GAE factor, in [0, 1] (0.95, as PPO's, won the defaults study: ``tuning/defaults/``)
    """

    name = "value"
    uses_critic = True

    def __init__(self, gae_lambda: float = 0.95):
        self.gae_lambda = check_number("gae_lambda", gae_lambda, 0.0, 1.0)

    def check(self, n_episodes: int, reward_to_go: bool) -> None:
        if not reward_to_go:
            raise ValueError("reward_to_go=False (whole-episode returns) cannot be combined with baseline='value'")

    def advantages(self, buffer: EpisodeRolloutBuffer) -> np.ndarray:
        advantages = np.empty(buffer.n_steps, dtype=np.float32)
        for episode, last_value in zip(buffer.episode_slices, buffer.bootstrap_values, strict=True):
            advantages[episode] = gae_advantages(
                buffer.rewards[episode], buffer.values[episode], buffer.gamma, self.gae_lambda, float(last_value)
            )
        return advantages


# Options whose value makes no difference to any baseline: gae_lambda = 1 is plain Monte-Carlo
NEUTRAL_OPTIONS = {"gae_lambda": 1.0}

BASELINES: dict[str, type[Baseline]] = {
    cls.name: cls for cls in (Baseline, RunningMeanBaseline, LeaveOneOutBaseline, GroupBaseline, ValueBaseline)
}


def make_baseline(baseline: str | Baseline, **options: Any) -> Baseline:
    """
    The baseline object for ``Reinforce(baseline=...)``: a name of :data:`BASELINES` with the options of that class
    (an option left at None is not given), or a :class:`Baseline` instance, used as it is.

    >>> make_baseline("group", group_size=4)
    GroupBaseline(group_size=4)
    >>> make_baseline("none", group_size=4)
    Traceback (most recent call last):
    ...
    ValueError: group_size=4 is only used with baseline='group' (got baseline='none')
    """
    given = {key: value for key, value in options.items() if value is not None and value != NEUTRAL_OPTIONS.get(key)}
    if isinstance(baseline, Baseline):
        if given:
            raise ValueError(f"{', '.join(given)} cannot be given with a Baseline instance: pass them to its constructor")
        return baseline
    cls = BASELINES[check_choice("baseline", baseline, BASELINES)]
    given.update({key: value for key, value in options.items() if key in _options(cls) and value is not None})
    for key, value in given.items():
        owner = next((other.name for other in BASELINES.values() if key in _options(other)), None)
        if key not in _options(cls):
            raise ValueError(f"{key}={value!r} is only used with baseline={owner!r} (got baseline={baseline!r})")
    if cls is GroupBaseline and "group_size" not in given:
        raise ValueError("baseline='group' needs group_size (the number of episodes started from one state)")
    return cls(**{_options(cls)[key]: value for key, value in given.items()})


def _options(cls: type[Baseline]) -> dict[str, str]:
    """The algorithm's names of a baseline's options, mapped to the names of its constructor's arguments."""
    return {
        RunningMeanBaseline: {"baseline_decay": "decay"},
        GroupBaseline: {"group_size": "group_size"},
        ValueBaseline: {"gae_lambda": "gae_lambda"},
    }.get(cls, {})
