r"""
Return and advantage estimators for complete episodes.

Each function takes the rewards of *one* episode, ``r_0 ... r_{T-1}``, and a ``bootstrap_value`` standing for
the value of the state reached after the last step: ``0`` when the episode terminated (the true value of a
terminal state) and ``V(s_T)`` when a time limit truncated it and a trained critic is used to estimate what
the episode would still have earned (Pardo et al., 2018, "Time Limits in Reinforcement Learning").
"""

from __future__ import annotations

import numpy as np


def discounted_returns(rewards: np.ndarray, gamma: float, bootstrap_value: float = 0.0) -> np.ndarray:
    r"""
    Discounted reward-to-go of every step of an episode.

    .. math::
        G_t = \sum_{k=t}^{T-1} \gamma^{k-t} r_k + \gamma^{T-t} V(s_T)

    :param rewards: Rewards of one episode, shape ``(T,)``
    :param gamma: Discount factor
    :param bootstrap_value: Value of the state after the last step (0 at a termination)
    :return: The returns ``G_t``, shape ``(T,)``, float32
    """
    returns = np.empty(len(rewards), dtype=np.float64)
    running = float(bootstrap_value)
    for step in reversed(range(len(rewards))):
        running = float(rewards[step]) + gamma * running
        returns[step] = running
    return returns.astype(np.float32)


def episode_returns(rewards: np.ndarray, gamma: float, bootstrap_value: float = 0.0) -> np.ndarray:
    r"""
    Discounted return of the whole episode, ``G_0``, repeated for every step (Williams' original estimator).

    Unbiased like the reward-to-go, but noisier: an action is also credited with the rewards earned before it.

    :param rewards: Rewards of one episode, shape ``(T,)``
    :param gamma: Discount factor
    :param bootstrap_value: Value of the state after the last step (0 at a termination)
    :return: ``G_0`` repeated, shape ``(T,)``, float32
    """
    if len(rewards) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.full(len(rewards), discounted_returns(rewards, gamma, bootstrap_value)[0], dtype=np.float32)


def gae_advantages(
    rewards: np.ndarray, values: np.ndarray, gamma: float, gae_lambda: float, bootstrap_value: float = 0.0
) -> np.ndarray:
    r"""
    Generalized Advantage Estimation (Schulman et al., 2015, https://arxiv.org/abs/1506.02438) over one episode.

    .. math::
        \delta_t = r_t + \gamma V(s_{t+1}) - V(s_t), \qquad
        A_t = \sum_{k=t}^{T-1} (\gamma\lambda)^{k-t} \delta_k, \qquad V(s_T) = \text{bootstrap\_value}

    With ``gae_lambda=1`` this is the Monte-Carlo advantage ``G_t - V(s_t)``; the critic's targets are
    ``A_t + V(s_t)`` (the lambda-returns).

    :param rewards: Rewards of one episode, shape ``(T,)``
    :param values: Critic's values ``V(s_t)`` of the visited states, shape ``(T,)``
    :param gamma: Discount factor
    :param gae_lambda: Bias-variance trade-off of the estimator, in [0, 1]
    :param bootstrap_value: Value of the state after the last step (0 at a termination)
    :return: The advantages ``A_t``, shape ``(T,)``, float32
    """
    advantages = np.empty(len(rewards), dtype=np.float64)
    next_value = float(bootstrap_value)
    running = 0.0
    for step in reversed(range(len(rewards))):
        delta = float(rewards[step]) + gamma * next_value - float(values[step])
        running = delta + gamma * gae_lambda * running
        advantages[step] = running
        next_value = float(values[step])
    return advantages.astype(np.float32)


def _padded(returns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The episodes' per-step returns as a zero-padded ``(n_episodes, max_length)`` matrix, and its mask."""
    lengths = np.array([len(episode) for episode in returns])
    mask = np.arange(max(lengths.max(initial=0), 1))[None, :] < lengths[:, None]
    padded = np.zeros(mask.shape, dtype=np.float64)
    padded[mask] = np.concatenate(returns) if returns else []
    return padded, mask


def _unpad(padded: np.ndarray, returns: list[np.ndarray]) -> list[np.ndarray]:
    return [padded[idx, : len(episode)].astype(np.float32) for idx, episode in enumerate(returns)]


def leave_one_out_advantages(returns: list[np.ndarray], per_step: bool = True) -> list[np.ndarray]:
    r"""
    Advantages against the leave-one-out baseline: the mean return of the *other* episodes (Kool et al., 2019,
    "Buy 4 REINFORCE samples, get a baseline for free!"; Ahmadian et al., 2024, RLOO, arXiv 2402.14740).

    With per-step returns (reward-to-go), the baseline of step ``t`` of episode ``i`` is the mean of the returns
    from step ``t`` of the other episodes that are still running at step ``t`` (that last more than ``t`` steps),
    and 0 when no other episode is: a time-dependent baseline ``b_i(t)``. It is built from the other episodes only,
    which are independent of episode ``i``, so the gradient estimate stays unbiased.

    .. math::
        A_{i,t} = G_{i,t} - \frac{1}{|J_t| } \sum_{j \in J_t} G_{j,t}, \qquad J_t = \{j \ne i : T_j > t\}

    :param returns: Per-step returns of each episode (``G_{i,t}``)
    :param per_step: False when every step of an episode carries the same whole-episode return ``G_{i,0}``:
        the baseline is then the mean of the other episodes' returns, whatever their length
    :return: The advantages, episode by episode, float32
    """
    if not per_step:
        totals = np.array([episode[0] if len(episode) else 0.0 for episode in returns], dtype=np.float64)
        others = (totals.sum() - totals) / max(len(totals) - 1, 1)
        return [(episode - other).astype(np.float32) for episode, other in zip(returns, others, strict=True)]
    padded, mask = _padded(returns)
    sums, counts = padded.sum(axis=0), mask.sum(axis=0)
    other_counts = counts[None, :] - mask
    baseline = np.divide(sums[None, :] - padded, other_counts, out=np.zeros_like(padded), where=other_counts > 0)
    return _unpad(padded - baseline, returns)


def group_advantages(
    returns: list[np.ndarray], groups: np.ndarray, normalize: bool = True, per_step: bool = True, eps: float = 1e-8
) -> list[np.ndarray]:
    r"""
    Group-relative advantages (GRPO, Shao et al., 2024, arXiv 2402.03300): each episode is compared with the other
    episodes of its group, which started from the same initial state.

    - ``normalize=True``: GRPO's ``A = (G - mean_group(G)) / (std_group(G) + eps)``, per step ``t`` over the group's
      episodes still running at ``t`` (with whole-episode returns: over the whole group). The division by the
      group's std rescales each group (an adaptive step size per initial state); it is *not* an unbiased estimate
      of the policy gradient (Liu et al., 2025, "Understanding R1-Zero-Like Training", arXiv 2503.20783).
    - ``normalize=False``: the leave-one-out baseline within the group (:func:`leave_one_out_advantages`): unbiased.

    :param returns: Per-step returns of each episode
    :param groups: Group label of each episode
    :param normalize: Divide by the group's standard deviation, as GRPO
    :param per_step: False when every step carries the whole-episode return (see :func:`leave_one_out_advantages`)
    :param eps: Added to the standard deviation
    :return: The advantages, episode by episode, float32
    """
    advantages: list[np.ndarray] = [np.empty(0, np.float32)] * len(returns)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        episodes = [returns[idx] for idx in members]
        if normalize and per_step:
            padded, mask = _padded(episodes)
            counts = np.maximum(mask.sum(axis=0), 1)
            mean = padded.sum(axis=0) / counts
            std = np.sqrt((((padded - mean) ** 2) * mask).sum(axis=0) / counts)
            result = _unpad((padded - mean) / (std + eps), episodes)
        elif normalize:
            totals = np.array([episode[0] if len(episode) else 0.0 for episode in episodes], dtype=np.float64)
            scores = (totals - totals.mean()) / (totals.std() + eps)
            result = [np.full(len(episode), score, dtype=np.float32) for episode, score in zip(episodes, scores, strict=True)]
        else:
            result = leave_one_out_advantages(episodes, per_step=per_step)
        for idx, advantage in zip(members, result, strict=True):
            advantages[idx] = advantage
    return advantages
