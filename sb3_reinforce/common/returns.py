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
