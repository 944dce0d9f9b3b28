"""
The learned value baseline's critic: its values on a batch, its loss and its extra gradient steps.

The critic is the policy's own value head (SB3's ``ActorCriticPolicy``), trained with the policy's optimizer.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_reinforce.reinforce.episode_buffer import EpisodeRolloutBuffer
from sb3_reinforce.reinforce.policies import actor_and_critic_parameters


def critic_values(
    policy: ActorCriticPolicy, buffer: EpisodeRolloutBuffer, bootstrap: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """
    :param bootstrap: Whether to value the last state of the truncated episodes (for their bootstrap)
    :return: ``V(s_t)`` of every step of the finished batch, and ``V(s_T)`` of each truncated episode (or None)
    """
    with th.no_grad():
        values = policy.predict_values(buffer.obs_to_torch(buffer.observations)).flatten().cpu().numpy()
        terminal_obs = buffer.terminal_observations
        if not bootstrap or terminal_obs is None:
            return values, None
        return values, policy.predict_values(buffer.obs_to_torch(terminal_obs)).flatten().cpu().numpy()


def critic_loss(returns: th.Tensor, values: th.Tensor, n_episodes: int) -> th.Tensor:
    """The critic's squared error, summed over the steps and averaged over the episodes of the batch."""
    return ((returns - values.flatten()) ** 2).sum() / n_episodes


def fit_critic(
    policy: ActorCriticPolicy,
    buffer: EpisodeRolloutBuffer,
    minibatches: Iterable[np.ndarray | None],
    batch_size: int | None,
    vf_coef: float,
    max_grad_norm: float,
) -> None:
    """
    More gradient steps of the critic alone on the batch's targets (the actor, shared layers included, stays).

    :param minibatches: The steps of each gradient step (None: the whole batch, in chunks of ``batch_size``), as
        :meth:`~sb3_reinforce.reinforce.policy_update.PolicyUpdate.minibatches` yields them; a minibatch's loss is
        scaled by ``n_steps / len(minibatch)``, an unbiased estimate of the batch's
    """
    actor_params, critic_params = actor_and_critic_parameters(policy)
    for indices in minibatches:
        policy.optimizer.zero_grad(set_to_none=True)
        chunks, scale = buffer.step_samples(indices, batch_size)
        for rollout_data in chunks:
            values = policy.predict_values(rollout_data.observations)
            (vf_coef * scale * critic_loss(rollout_data.returns, values, buffer.n_episodes)).backward()
        for parameter in actor_params:
            parameter.grad = None  # Adam skips parameters without a gradient
        th.nn.utils.clip_grad_norm_(critic_params, max_grad_norm)
        policy.optimizer.step()
