"""
A rollout buffer that holds complete episodes of variable length, for REINFORCE.

SB3's ``RolloutBuffer`` stores a fixed ``n_steps x n_envs`` block and cuts episodes at its edge, bootstrapping the
rest with the critic. REINFORCE instead needs whole episodes (SB3 issue #1059), so this buffer records the steps
of the episodes that belong to the current batch, whatever their length, and computes Monte-Carlo returns on them.
It plugs into SB3 through ``OnPolicyAlgorithm``'s ``rollout_buffer_class`` hook.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer
from stable_baselines3.common.type_aliases import PyTorchObs

from sb3_reinforce.common.returns import (
    discounted_returns,
    episode_returns,
    gae_advantages,
    group_advantages,
    leave_one_out_advantages,
)

Observation = np.ndarray | dict[str, np.ndarray]


class EpisodeRolloutSamples(NamedTuple):
    observations: PyTorchObs
    actions: th.Tensor
    returns: th.Tensor
    advantages: th.Tensor
    old_values: th.Tensor


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
    episode after episode, and ``compute_returns_and_advantage()`` computes, per episode, either

    - the discounted reward-to-go ``G_t`` (default) or the whole-episode return ``G_0``, used as is as the
      policy-gradient weight (no baseline), or
    - the GAE(lambda) advantage against a learned critic (value baseline); ``gae_lambda=1`` gives the
      Monte-Carlo advantage ``G_t - V(s_t)``. The critic is regressed on ``advantage + V(s_t)``.

    An episode cut by a time limit is not terminal: its last state may be bootstrapped with a critic's
    value ``V(s_T)``; a terminated episode always ends with value 0.

    :param buffer_size: Initial capacity, in vectorized steps (it grows as needed)
    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device of the tensors returned by ``get()``
    :param gamma: Discount factor
    :param gae_lambda: GAE factor (only used with a value baseline)
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
        self.gae_lambda = gae_lambda
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

    def end_episode(self, env_idx: int, terminal_obs: Observation | None, truncated: bool, group: int = -1) -> None:
        """Record how the batch episode of ``env_idx`` ended at the last step added (and its group, if any)."""
        self._episode_ends[(self.pos - 1, int(env_idx))] = (terminal_obs, truncated, group)

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

    @property
    def episode_rewards(self) -> np.ndarray:
        """Undiscounted sum of rewards of each episode."""
        return np.array([self.rewards[episode].sum() for episode in self.episode_slices])

    def compute_returns_and_advantage(  # type: ignore[override]
        self,
        values: np.ndarray | None,
        bootstrap_values: np.ndarray | None,
        reward_to_go: bool = True,
        baseline: str = "none",
        return_baseline: float = 0.0,
        normalize_groups: bool = True,
    ) -> None:
        """
        Compute the policy-gradient weights (``advantages``) and the returns (the critic's targets).

        :param values: The critic's ``V(s_t)`` for every step of the batch (``baseline="value"`` only), else None
        :param bootstrap_values: ``V(s_T)`` of the last state of each truncated episode, in episode order,
            or None to treat truncated episodes as terminal
        :param reward_to_go: Use the reward-to-go ``G_t`` (True) or the whole-episode return ``G_0`` (False);
            not with a value baseline
        :param baseline: ``"none"``: the weights are the returns; ``"mean"``: the returns minus ``return_baseline``;
            ``"leave_one_out"``: minus the mean of the other episodes' returns
            (:func:`~sb3_reinforce.common.returns.leave_one_out_advantages`); ``"group"``: compared within each group
            (:func:`~sb3_reinforce.common.returns.group_advantages`); ``"value"``: GAE against ``values``
        :param return_baseline: The constant subtracted with ``baseline="mean"``
        :param normalize_groups: With ``baseline="group"``, divide by each group's std (GRPO)
        """
        assert self.finalized, "Call finalize() first"
        if (values is None) == (baseline == "value"):
            raise ValueError(f"values must be given with baseline='value' and only then (baseline={baseline!r})")
        bootstrap = np.zeros(self.n_episodes, dtype=np.float32)
        if bootstrap_values is not None:
            bootstrap[self.truncated] = bootstrap_values
        self.bootstrap_values = bootstrap
        self.returns = np.empty(self.n_steps, dtype=np.float32)
        self.advantages = np.empty(self.n_steps, dtype=np.float32)
        self.values = np.zeros(self.n_steps, dtype=np.float32) if values is None else values.astype(np.float32)
        if values is not None:
            for episode, last_value in zip(self.episode_slices, bootstrap, strict=True):
                rewards, episode_values = self.rewards[episode], self.values[episode]
                self.advantages[episode] = gae_advantages(
                    rewards, episode_values, self.gamma, self.gae_lambda, float(last_value)
                )
                self.returns[episode] = self.advantages[episode] + episode_values
            return
        estimator: Callable[[np.ndarray, float, float], np.ndarray] = discounted_returns if reward_to_go else episode_returns
        returns = [
            estimator(self.rewards[episode], self.gamma, float(last_value))
            for episode, last_value in zip(self.episode_slices, bootstrap, strict=True)
        ]
        self.returns[:] = np.concatenate(returns)
        if baseline == "none":
            self.advantages[:] = self.returns
        elif baseline == "mean":
            self.advantages[:] = self.returns - np.float32(return_baseline)
        elif baseline == "leave_one_out":
            self.advantages[:] = np.concatenate(leave_one_out_advantages(returns, per_step=reward_to_go))
        elif baseline == "group":
            if np.any(self.episode_groups < 0):
                raise RuntimeError("baseline='group' needs the group of every episode (end_episode(..., group=...))")
            grouped = group_advantages(returns, self.episode_groups, normalize=normalize_groups, per_step=reward_to_go)
            self.advantages[:] = np.concatenate(grouped)
        else:
            raise ValueError(f"Unknown baseline {baseline!r}")

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

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> EpisodeRolloutSamples:  # type: ignore[override]
        return EpisodeRolloutSamples(
            observations=self.obs_to_torch(_map(self.observations, lambda array: array[batch_inds])),
            actions=self.to_torch(self.actions[batch_inds]),
            returns=self.to_torch(self.returns[batch_inds]),
            advantages=self.to_torch(self.advantages[batch_inds]),
            old_values=self.to_torch(self.values[batch_inds]),
        )
