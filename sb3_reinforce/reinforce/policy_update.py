"""
The loss of one REINFORCE update on a finished batch, its gradient accumulated chunk by chunk.

The first gradient step of an update is the REINFORCE estimator itself. The optional further steps on the same batch
(``n_epochs > 1``) weight each step's term by the importance ratio ``pi(a_t|s_t) / pi_old(a_t|s_t)`` of the policy
being updated to the one that played the batch: the per-step surrogate of TRPO and PPO (Schulman et al., 2015 and
2017), whose gradient at ``pi = pi_old`` is the REINFORCE gradient. It corrects the actions' probabilities, not the
states' distribution, so it is only accurate while the policy stays close to ``pi_old``: ``target_kl`` stops the
update once the policies' KL divergence grows past it. Unlike PPO, the ratio is not clipped.

Those epochs go over the batch's steps in shuffled minibatches (``minibatch_size``) or whole (None). A minibatch's
terms are scaled by ``n_steps / minibatch_size``: each is an unbiased estimate of the whole batch's loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy

from sb3_reinforce.reinforce.critic import critic_loss
from sb3_reinforce.reinforce.episode_buffer import EpisodeRolloutBuffer, EpisodeRolloutSamples
from sb3_reinforce.reinforce.policies import actor_and_critic_parameters


@dataclass
class LossTerms:
    """The terms of one gradient step's loss, summed over the batch's chunks (plain floats, for the logger)."""

    policy: float = 0.0
    entropy: float = 0.0
    value: float = 0.0
    #: Estimated ``KL(pi_old || pi)`` over the steps, before the step (0 for the REINFORCE step)
    approx_kl: float = 0.0
    #: Norm of the actor's gradient, and of the critic's (0 without a critic), before clipping
    grad_norm: float = 0.0
    value_grad_norm: float = 0.0


class PolicyUpdate:
    """
    Accumulates the gradient of the loss on a finished batch (see :class:`~sb3_reinforce.Reinforce`).

    :param policy: The policy (and critic) being updated
    :param buffer: The finished batch
    :param batch_size: Steps per forward/backward pass (None: the whole batch at once)
    :param ent_coef: Entropy coefficient
    :param vf_coef: Value-loss coefficient (used with a critic only)
    :param with_critic: Whether the loss trains the critic too
    :param max_grad_norm: Bound on the norm of the actor's gradient, and separately of the critic's
    """

    def __init__(
        self,
        policy: ActorCriticPolicy,
        buffer: EpisodeRolloutBuffer,
        batch_size: int | None,
        ent_coef: float,
        vf_coef: float,
        with_critic: bool,
        max_grad_norm: float,
    ):
        self.policy = policy
        self.buffer = buffer
        self.batch_size = batch_size
        self.ent_coef = ent_coef
        self.vf_coef = vf_coef
        self.with_critic = with_critic
        self.max_grad_norm = max_grad_norm
        self.actor_params, self.critic_params = actor_and_critic_parameters(policy)
        self.discrete = isinstance(policy.action_space, spaces.Discrete)

    def _actions(self, rollout_data: EpisodeRolloutSamples) -> th.Tensor:
        # Discrete actions are stored as floats
        return rollout_data.actions.long().flatten() if self.discrete else rollout_data.actions

    def log_probs(self) -> th.Tensor:
        """``log pi(a_t|s_t)`` of the batch's actions under the current policy, step by step, without gradient."""
        with th.no_grad():
            return th.cat(
                [
                    self.policy.get_distribution(data.observations).log_prob(self._actions(data))
                    for data in self.buffer.get(self.batch_size)
                ]
            )

    def accumulate_gradients(self, old_log_probs: th.Tensor | None = None, indices: np.ndarray | None = None) -> LossTerms:
        """
        Backpropagate the loss into the parameters' ``.grad`` (the caller zeroes and steps).

        :param old_log_probs: The behaviour policy's log-probabilities of every step of the batch (:meth:`log_probs`,
            taken before the first step): the policy term is then importance-weighted. None: the REINFORCE term
        :param indices: The steps of a minibatch (None: the whole batch, in chunks of ``batch_size``)
        :return: The loss terms
        """
        terms = LossTerms()
        chunks, scale = self.buffer.step_samples(indices, self.batch_size)
        # Every term is a sum over the steps of an episode, averaged over the N episodes of the batch (see
        # Reinforce's docstring): the chunks of `batch_size` steps add up to exactly the whole-batch gradient
        per_episode = scale / self.buffer.n_episodes
        start = 0
        for rollout_data in chunks:
            actions = self._actions(rollout_data)
            steps = slice(start, start + len(actions)) if indices is None else indices
            start += len(actions)
            values = None
            if self.with_critic:
                values, log_prob, entropy = self.policy.evaluate_actions(rollout_data.observations, actions)
            else:
                # No critic in the loss: skip the value network's forward and backward passes
                distribution = self.policy.get_distribution(rollout_data.observations)
                log_prob, entropy = distribution.log_prob(actions), distribution.entropy()

            if old_log_probs is None:
                # The REINFORCE estimator averaged over episodes, -1/N sum_i sum_t w_t grad log pi(a_t|s_t)
                policy_loss = -(rollout_data.weights * log_prob).sum() * per_episode
            else:
                log_ratio = log_prob - old_log_probs[steps]
                ratio = th.exp(log_ratio)
                policy_loss = -(rollout_data.weights * ratio).sum() * per_episode
                # The (k3) estimator of KL(pi_old || pi): unbiased and never negative (Schulman, 2020)
                terms.approx_kl += ((ratio - 1) - log_ratio).sum().item() * scale / self.buffer.n_steps
            # Entropy loss favor exploration (approximated by -log_prob when there is no analytical form)
            entropy_loss = (log_prob if entropy is None else -entropy).sum() * per_episode
            loss = policy_loss + self.ent_coef * entropy_loss
            if values is not None:
                # Value loss using the Monte-Carlo (lambda-)returns as targets
                value_loss = critic_loss(rollout_data.returns, values, self.buffer.n_episodes) * scale
                loss = loss + self.vf_coef * value_loss
                terms.value += value_loss.item()
            loss.backward()
            terms.policy += policy_loss.item()
            terms.entropy += entropy_loss.item()
        return terms

    def step(
        self, old_log_probs: th.Tensor | None = None, indices: np.ndarray | None = None, target_kl: float | None = None
    ) -> LossTerms | None:
        """
        One gradient step (see :meth:`accumulate_gradients`), gradients clipped.

        :param target_kl: Skip the step if the estimated KL divergence from the batch's policy exceeds it
        :return: The step's loss terms, or None if the step was skipped for ``target_kl``
        :raise RuntimeError: On a non-finite loss, before the step (the weights are unchanged)
        """
        optimizer = self.policy.optimizer
        optimizer.zero_grad()
        terms = self.accumulate_gradients(old_log_probs, indices)
        if target_kl is not None and terms.approx_kl > target_kl:
            optimizer.zero_grad()  # this step would take the policy too far from the batch's
            return None
        loss = terms.policy + self.ent_coef * terms.entropy + self.vf_coef * terms.value
        if not np.isfinite(loss):
            # Stop before the step rather than write NaN into the weights (and into the next checkpoint)
            optimizer.zero_grad()
            raise RuntimeError(
                f"Non-finite loss {loss} (policy_gradient_loss={terms.policy}): training stopped before this update, "
                f"the weights are unchanged. Lower the learning rate (now {optimizer.param_groups[0]['lr']}) or "
                "check the env's rewards."
            )
        # The actor's and the critic's norms clipped separately: a large value error cannot shrink the policy step
        terms.grad_norm = th.nn.utils.clip_grad_norm_(self.actor_params, self.max_grad_norm).item()
        if self.with_critic:
            terms.value_grad_norm = th.nn.utils.clip_grad_norm_(self.critic_params, self.max_grad_norm).item()
        optimizer.step()
        return terms

    def minibatches(self, n_epochs: int, minibatch_size: int | None, rng: np.random.Generator) -> Iterator[np.ndarray | None]:
        """
        The steps of each minibatch of ``n_epochs`` passes over the batch, shuffled anew at each pass.

        :param minibatch_size: Steps per minibatch (None: each pass is the whole batch, yielded as None)
        :param rng: Generator of the shuffles
        """
        for _ in range(n_epochs):
            if minibatch_size is None or minibatch_size >= self.buffer.n_steps:
                yield None
                continue
            order = rng.permutation(self.buffer.n_steps)
            for start in range(0, self.buffer.n_steps, minibatch_size):
                yield order[start : start + minibatch_size]
