"""
A rollout buffer that holds complete episodes of variable length, for REINFORCE.

SB3's ``RolloutBuffer`` stores a fixed ``n_steps x n_envs`` block and cuts episodes at its edge, bootstrapping the
rest with the critic. REINFORCE instead needs whole episodes (SB3 issue #1059), so this buffer records the steps
of the episodes that belong to the current batch, whatever their length, and computes Monte-Carlo returns on them.
It plugs into SB3 through ``OnPolicyAlgorithm``'s ``rollout_buffer_class`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer
from stable_baselines3.common.type_aliases import PyTorchObs

from sb3_reinforce.reinforce.baselines import Baseline
from sb3_reinforce.reinforce.env_checks import check_finite_terminal_observation
from sb3_reinforce.reinforce.returns import discounted_returns, episode_returns

Observation = np.ndarray | dict[str, np.ndarray]


class EpisodeRolloutSamples(NamedTuple):
    observations: PyTorchObs
    actions: th.Tensor
    #: The critic's targets
    returns: th.Tensor
    #: The policy-gradient weight of each step: advantage, normalized or not
    weights: th.Tensor


def _map(observations: Observation, function: Callable[[np.ndarray], np.ndarray]) -> Observation:
    if isinstance(observations, dict):
        return {key: function(value) for key, value in observations.items()}
    return function(observations)


def _store(target: Observation, index: int | slice, value: Observation) -> None:
    """``target[index] = value`` (key by key for dict observations), reshaped as SB3's buffers do (discrete obs)."""
    if isinstance(target, dict):
        assert isinstance(value, dict)
        for key, array in target.items():
            array[index] = np.reshape(value[key], array[index].shape)
    else:
        target[index] = np.reshape(value, target[index].shape)  # type: ignore[arg-type]


class EpisodeRolloutBuffer(BaseBuffer):
    """
    Rollout buffer for complete episodes collected from ``n_envs`` environments.

    Steps are added one vectorized env step at a time into preallocated arrays (their capacity doubles when a
    rollout outgrows it and is kept for the next rollouts), with a mask telling which envs are playing an episode
    of the batch (the others play episodes that are discarded). ``finalize()`` then lays the batch out flat,
    episode after episode, and ``compute_returns_and_advantage()`` computes, per episode, the discounted reward-to-go
    ``G_t`` (default) or the whole-episode return ``G_0``, then asks the baseline
    (:mod:`~sb3_reinforce.reinforce.baselines`) for the advantages and the policy-gradient weights.

    An episode cut by a time limit is not terminal: its last state may be bootstrapped with a critic's
    value ``V(s_T)``; a terminated episode always ends with value 0.

    :param buffer_size: Initial capacity, in vectorized steps (it grows as needed)
    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device of the tensors returned by ``get()``
    :param gamma: Discount factor
    :param gae_lambda: Accepted for SB3's ``rollout_buffer_class`` hook; the value baseline owns its GAE factor
    :param n_envs: Number of parallel environments
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gamma: float = 0.99,
        gae_lambda: float = 1.0,
        n_envs: int = 1,
    ):
        super().__init__(max(int(buffer_size), 1), observation_space, action_space, device=device, n_envs=n_envs)
        self.gamma = gamma
        self._allocate(self.buffer_size)
        self.reset()

    def _empty_obs(self, capacity: int) -> Observation:
        shapes: Any = self.obs_shape
        if isinstance(self.observation_space, spaces.Dict):
            return {
                key: np.zeros((capacity, self.n_envs, *shapes[key]), dtype=space.dtype)  # type: ignore[arg-type]
                for key, space in self.observation_space.spaces.items()
            }
        return np.zeros((capacity, self.n_envs, *shapes), dtype=self.observation_space.dtype)  # type: ignore[arg-type]

    def _allocate(self, capacity: int) -> None:
        self.buffer_size = capacity
        self._obs = self._empty_obs(capacity)
        self._actions = np.zeros((capacity, self.n_envs, self.action_dim), dtype=np.float32)
        self._rewards = np.zeros((capacity, self.n_envs), dtype=np.float32)
        self._active = np.zeros((capacity, self.n_envs), dtype=bool)
        self._dones = np.zeros((capacity, self.n_envs), dtype=bool)

    def _grow(self) -> None:
        """Double the capacity, keeping the steps recorded so far."""
        steps = slice(0, self.pos)
        old_obs, old_arrays = self._obs, (self._actions, self._rewards, self._active, self._dones)
        self._allocate(2 * self.buffer_size)
        _store(self._obs, steps, _map(old_obs, lambda array: array[steps]))
        for new_array, old_array in zip((self._actions, self._rewards, self._active, self._dones), old_arrays, strict=True):
            new_array[steps] = old_array[steps]

    def reset(self) -> None:
        """Forget every step; start a new batch (the arrays are kept)."""
        super().reset()
        # (step index, env index) -> (observation after the last step, truncated?, group label)
        self._episode_ends: dict[tuple[int, int], tuple[Observation | None, bool, int]] = {}
        self.finalized = False

    def add(  # type: ignore[override]
        self,
        obs: Observation,
        actions: np.ndarray,
        rewards: np.ndarray,
        active: np.ndarray,
        dones: np.ndarray,
    ) -> None:
        """
        Record one vectorized env step (copied: a VecEnv may reuse its arrays from one step to the next).

        :param obs: Observations the actions were taken in, one row per env
        :param actions: Actions taken (before any clipping), one row per env
        :param rewards: Rewards received
        :param active: Which envs play an episode that belongs to the batch
        :param dones: Which envs ended an episode at this step
        """
        if self.pos == self.buffer_size:
            self._grow()
        pos = self.pos
        # The common case without any reshape: this runs at every env step
        if isinstance(obs, np.ndarray) and obs.shape == self._obs.shape[1:]:  # type: ignore[union-attr]
            self._obs[pos] = obs  # type: ignore[index]
        else:
            _store(self._obs, pos, obs)
        self._actions[pos] = actions if actions.ndim == 2 else actions.reshape(self.n_envs, self.action_dim)
        self._rewards[pos] = rewards
        self._active[pos] = active
        self._dones[pos] = dones  # finalize() reads it only where `active`
        self.pos += 1

    def end_episodes(self, infos: list[dict[str, Any]], ended: np.ndarray, groups: np.ndarray) -> None:
        """
        Record how the batch episodes that ended at the last step added ended: by a time limit (truncated, with the
        observation it stopped in, for a critic's bootstrap) or not.

        :param infos: The VecEnv's infos of that step
        :param ended: Which envs ended an episode of the batch at that step
        :param groups: The group of each env's episode (-1: no groups)
        """
        for env_idx in np.flatnonzero(ended):
            info = infos[env_idx]
            truncated = bool(info.get("TimeLimit.truncated", False))
            terminal_obs = info.get("terminal_observation")
            if truncated and terminal_obs is not None:
                check_finite_terminal_observation(terminal_obs, int(env_idx))
            self._episode_ends[(self.pos - 1, int(env_idx))] = (terminal_obs, truncated, int(groups[env_idx]))

    def finalize(self) -> None:
        """Lay out the recorded episodes flat, env by env and episode after episode."""
        # Env-major order keeps each env's episodes contiguous (an env only ever collects a run of episodes)
        steps, envs = np.nonzero(self._active[: self.pos].T)[::-1]
        self.observations = _map(self._obs, lambda array: array[steps, envs])
        self.actions = self._actions[steps, envs]
        self.rewards = self._rewards[steps, envs]
        is_end = self._dones[steps, envs]
        if len(steps) == 0 or not is_end[-1] or len(self._episode_ends) != is_end.sum():
            raise RuntimeError("EpisodeRolloutBuffer.finalize() called with an unfinished episode in the batch")
        ends = np.flatnonzero(is_end) + 1
        self.episode_starts = np.r_[0, ends[:-1]]
        self.episode_slices = [slice(start, end) for start, end in zip(self.episode_starts, ends, strict=True)]
        episode_ends = [self._episode_ends[(int(steps[end - 1]), int(envs[end - 1]))] for end in ends]
        self.truncated = np.array([truncated for _, truncated, _ in episode_ends], dtype=bool)
        self.episode_groups = np.array([group for _, _, group in episode_ends], dtype=np.int64)
        # VecEnvs always report the terminal observation of an episode that ended
        terminal = [obs for obs, truncated, _ in episode_ends if truncated and obs is not None]
        self.terminal_observations: Observation | None = None
        if terminal:
            if isinstance(terminal[0], dict):
                self.terminal_observations = {key: np.stack([obs[key] for obs in terminal]) for key in terminal[0]}  # type: ignore[index]
            else:
                self.terminal_observations = np.stack(terminal)  # type: ignore[arg-type]
        self.finalized = True

    @property
    def n_episodes(self) -> int:
        return len(self.episode_slices)

    @property
    def n_steps(self) -> int:
        """Number of steps in the batch."""
        return len(self.rewards)

    @property
    def episode_lengths(self) -> np.ndarray:
        return np.array([episode.stop - episode.start for episode in self.episode_slices])

    def episode_returns(self) -> list[np.ndarray]:
        """The returns, episode by episode (views of ``returns``)."""
        return [self.returns[episode] for episode in self.episode_slices]

    def compute_returns_and_advantage(  # type: ignore[override]
        self,
        baseline: Baseline,
        values: np.ndarray | None = None,
        bootstrap_values: np.ndarray | None = None,
        reward_to_go: bool = True,
        normalize: bool = True,
    ) -> None:
        """
        Compute the returns (the critic's targets), the advantages and the policy-gradient weights of the batch.

        :param baseline: What is subtracted from the returns (:mod:`~sb3_reinforce.reinforce.baselines`)
        :param values: The critic's ``V(s_t)`` for every step of the batch, with a critic baseline only
        :param bootstrap_values: ``V(s_T)`` of the last state of each truncated episode, in episode order,
            or None to treat truncated episodes as terminal
        :param reward_to_go: Use the reward-to-go ``G_t`` (True) or the whole-episode return ``G_0`` (False)
        :param normalize: Standardize the weights (see :meth:`Baseline.policy_weights`)
        """
        assert self.finalized, "Call finalize() first"
        if (values is None) == baseline.uses_critic:
            raise ValueError(f"values must be given with a critic baseline and only then (baseline={baseline!r})")
        self.reward_to_go = reward_to_go
        self.bootstrap_values = np.zeros(self.n_episodes, dtype=np.float32)
        if bootstrap_values is not None:
            self.bootstrap_values[self.truncated] = bootstrap_values
        self.values = np.zeros(self.n_steps, dtype=np.float32) if values is None else values.astype(np.float32)
        if baseline.uses_critic:
            # GAE; the critic regresses on the lambda-returns
            self.advantages = baseline.advantages(self)
            self.returns = self.advantages + self.values
        else:
            estimator = discounted_returns if reward_to_go else episode_returns
            returns = [
                estimator(self.rewards[episode], self.gamma, float(last_value))
                for episode, last_value in zip(self.episode_slices, self.bootstrap_values, strict=True)
            ]
            self.returns = np.concatenate(returns)
            self.advantages = baseline.advantages(self)
        self.weights = baseline.policy_weights(self, normalize).cpu().numpy()

    def obs_to_torch(self, observations: Observation) -> PyTorchObs:
        if isinstance(observations, dict):
            return {key: self.to_torch(value) for key, value in observations.items()}
        return self.to_torch(observations)

    def get(self, batch_size: int | None = None) -> Generator[EpisodeRolloutSamples, None, None]:  # type: ignore[override]
        """
        The batch, as tensors, in consecutive chunks of ``batch_size`` steps (None: the whole batch at once).

        REINFORCE takes one gradient step on the whole batch: the chunks only bound the memory of the forward and
        backward passes, their gradients are accumulated.
        """
        if not self.finalized:
            raise RuntimeError("EpisodeRolloutBuffer.get() called before the batch was complete (finalize())")
        size = self.n_steps if batch_size is None else batch_size
        for start in range(0, self.n_steps, size):
            yield self._get_samples(np.arange(start, min(start + size, self.n_steps)))

    def step_samples(
        self, indices: np.ndarray | None, batch_size: int | None = None
    ) -> tuple[Iterator[EpisodeRolloutSamples], float]:
        """
        The samples of one gradient step: a minibatch, or the whole batch in chunks of ``batch_size``.

        :param indices: The minibatch's steps (None: the whole batch)
        :param batch_size: Steps per chunk of the whole batch (None: one chunk)
        :return: The samples, and the scale ``n_steps / len(indices)`` that makes a minibatch's loss, summed over its
            steps, an unbiased estimate of the batch's (1.0 for the whole batch)
        """
        if indices is None:
            return self.get(batch_size), 1.0
        if not self.finalized:
            raise RuntimeError("EpisodeRolloutBuffer.step_samples() called before the batch was complete (finalize())")
        return iter([self._get_samples(indices)]), self.n_steps / len(indices)

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> EpisodeRolloutSamples:  # type: ignore[override]
        return EpisodeRolloutSamples(
            observations=self.obs_to_torch(_map(self.observations, lambda array: array[batch_inds])),
            actions=self.to_torch(self.actions[batch_inds]),
            returns=self.to_torch(self.returns[batch_inds]),
            weights=self.to_torch(self.weights[batch_inds]),
        )
