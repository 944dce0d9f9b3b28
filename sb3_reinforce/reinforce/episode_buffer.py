"""
A rollout buffer that holds complete episodes of variable length, for REINFORCE.

SB3's ``RolloutBuffer`` stores a fixed ``n_steps x n_envs`` block and cuts episodes at its edge, bootstrapping the
rest with the critic. REINFORCE instead needs whole episodes (SB3 issue #1059), so this buffer records the steps
of the episodes that belong to the current batch, whatever their length, and computes Monte-Carlo returns on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.type_aliases import PyTorchObs

from sb3_reinforce.common.returns import discounted_returns, episode_returns, gae_advantages

Observation = np.ndarray | dict[str, np.ndarray]


class EpisodeRolloutSamples(NamedTuple):
    observations: PyTorchObs
    actions: th.Tensor
    returns: th.Tensor
    advantages: th.Tensor
    old_values: th.Tensor


def _stack(observations: list[Observation]) -> Observation:
    if isinstance(observations[0], dict):
        return {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}  # type: ignore[index]
    return np.stack(observations)  # type: ignore[arg-type]


def _select(observations: Observation, index: np.ndarray | tuple) -> Observation:
    if isinstance(observations, dict):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


class EpisodeRolloutBuffer:
    """
    Rollout buffer for complete episodes collected from ``n_envs`` environments.

    Steps are added one vectorized env step at a time, with a mask telling which envs are playing an episode
    of the batch (the others play episodes that are discarded). ``finalize()`` then lays the batch out flat,
    episode after episode, and ``compute_returns_and_advantage()`` computes, per episode, either

    - the discounted reward-to-go ``G_t`` (default) or the whole-episode return ``G_0``, used as is as the
      policy-gradient weight (no baseline), or
    - the GAE(lambda) advantage against a learned critic (value baseline); ``gae_lambda=1`` gives the
      Monte-Carlo advantage ``G_t - V(s_t)``. The critic is regressed on ``advantage + V(s_t)``.

    An episode cut by a time limit is not terminal: its last state may be bootstrapped with a critic's
    value ``V(s_T)``; a terminated episode always ends with value 0.

    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device of the tensors returned by ``get()``
    :param gamma: Discount factor
    :param gae_lambda: GAE factor (only used with a value baseline)
    :param n_envs: Number of parallel environments
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "cpu",
        gamma: float = 0.99,
        gae_lambda: float = 1.0,
        n_envs: int = 1,
    ):
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = th.device(device)
        self.gamma = gamma
        self.gae_lambda = gae_lambda
        self.n_envs = n_envs
        self.reset()

    def reset(self) -> None:
        """Forget every step; start a new batch."""
        self._step_obs: list[Observation] = []
        self._step_actions: list[np.ndarray] = []
        self._step_rewards: list[np.ndarray] = []
        self._step_active: list[np.ndarray] = []
        self._step_dones: list[np.ndarray] = []
        # (step index, env index) -> (observation after the last step, truncated?)
        self._episode_ends: dict[tuple[int, int], tuple[Observation | None, bool]] = {}
        self.finalized = False

    def add(
        self,
        obs: Observation,
        actions: np.ndarray,
        rewards: np.ndarray,
        active: np.ndarray,
        dones: np.ndarray,
        infos: list[dict],
    ) -> None:
        """
        Record one vectorized env step.

        :param obs: Observations the actions were taken in, one row per env
        :param actions: Actions taken (before any clipping), one row per env
        :param rewards: Rewards received
        :param active: Which envs play an episode that belongs to the batch
        :param dones: Which envs ended an episode at this step
        :param infos: The VecEnv's infos (``terminal_observation`` and ``TimeLimit.truncated`` are read)
        """
        step = len(self._step_rewards)
        for env_idx in np.flatnonzero(dones & active):
            info = infos[env_idx]
            truncated = bool(info.get("TimeLimit.truncated", False))
            self._episode_ends[(step, int(env_idx))] = (info.get("terminal_observation"), truncated)
        # Copies: a VecEnv may reuse its arrays from one step to the next
        self._step_obs.append({key: np.array(value) for key, value in obs.items()} if isinstance(obs, dict) else np.array(obs))
        self._step_actions.append(actions)
        self._step_rewards.append(np.array(rewards))
        self._step_active.append(active.copy())
        self._step_dones.append(dones & active)

    def finalize(self) -> None:
        """Lay out the recorded episodes flat, env by env and episode after episode."""
        active = np.stack(self._step_active)  # (n_steps, n_envs)
        dones = np.stack(self._step_dones)
        # Env-major order keeps each env's episodes contiguous (an env only ever collects a run of episodes)
        steps, envs = np.nonzero(active.T)[::-1]
        self.observations = _select(_stack(self._step_obs), (steps, envs))
        self.actions = np.stack(self._step_actions)[steps, envs]
        self.rewards = np.stack(self._step_rewards)[steps, envs].astype(np.float32)
        is_end = dones[steps, envs]
        if len(steps) == 0 or not is_end[-1] or len(self._episode_ends) != is_end.sum():
            raise RuntimeError("EpisodeRolloutBuffer.finalize() called with an unfinished episode in the batch")
        ends = np.flatnonzero(is_end) + 1
        self.episode_slices = [slice(start, end) for start, end in zip(np.r_[0, ends[:-1]], ends, strict=True)]
        episode_ends = [self._episode_ends[(int(steps[end - 1]), int(envs[end - 1]))] for end in ends]
        self.truncated = np.array([truncated for _, truncated in episode_ends], dtype=bool)
        # VecEnvs always report the terminal observation of an episode that ended
        self.terminal_observations: list[Observation] = [
            obs for obs, truncated in episode_ends if truncated and obs is not None
        ]
        self.finalized = True

    @property
    def n_episodes(self) -> int:
        return len(self.episode_slices)

    @property
    def size(self) -> int:
        """Number of steps in the batch."""
        return len(self.rewards)

    @property
    def episode_lengths(self) -> np.ndarray:
        return np.array([episode.stop - episode.start for episode in self.episode_slices])

    @property
    def episode_rewards(self) -> np.ndarray:
        """Undiscounted sum of rewards of each episode."""
        return np.array([self.rewards[episode].sum() for episode in self.episode_slices])

    def compute_returns_and_advantage(
        self,
        values: np.ndarray | None,
        bootstrap_values: np.ndarray | None,
        reward_to_go: bool = True,
    ) -> None:
        """
        Compute the policy-gradient weights (``advantages``) and the critic's targets (``returns``).

        :param values: The critic's ``V(s_t)`` for every step of the batch (value baseline), or None
            (no baseline: the weights are the returns themselves)
        :param bootstrap_values: ``V(s_T)`` of the last state of each truncated episode, in episode order,
            or None to treat truncated episodes as terminal
        :param reward_to_go: Use the reward-to-go ``G_t`` (True) or the whole-episode return ``G_0`` (False);
            only without a value baseline
        """
        assert self.finalized, "Call finalize() first"
        bootstrap = np.zeros(self.n_episodes, dtype=np.float32)
        if bootstrap_values is not None:
            bootstrap[self.truncated] = bootstrap_values
        self.bootstrap_values = bootstrap
        self.returns = np.empty(self.size, dtype=np.float32)
        self.advantages = np.empty(self.size, dtype=np.float32)
        self.values = np.zeros(self.size, dtype=np.float32) if values is None else values.astype(np.float32)
        estimator: Callable[[np.ndarray, float, float], np.ndarray] = discounted_returns if reward_to_go else episode_returns
        for episode, last_value in zip(self.episode_slices, bootstrap, strict=True):
            rewards = self.rewards[episode]
            if values is None:
                self.returns[episode] = estimator(rewards, self.gamma, float(last_value))
                self.advantages[episode] = self.returns[episode]
            else:
                advantages = gae_advantages(rewards, self.values[episode], self.gamma, self.gae_lambda, float(last_value))
                self.advantages[episode] = advantages
                self.returns[episode] = advantages + self.values[episode]

    def to_torch(self, array: np.ndarray) -> th.Tensor:
        return th.as_tensor(array, device=self.device)

    def obs_to_torch(self, observations: Observation) -> PyTorchObs:
        if isinstance(observations, dict):
            return {key: self.to_torch(value) for key, value in observations.items()}
        return self.to_torch(observations)

    def get(self) -> EpisodeRolloutSamples:
        """The whole batch, as tensors (REINFORCE takes one gradient step on all of it)."""
        if not self.finalized:
            raise RuntimeError("EpisodeRolloutBuffer.get() called before the batch was complete (finalize())")
        return EpisodeRolloutSamples(
            observations=self.obs_to_torch(self.observations),
            actions=self.to_torch(self.actions),
            returns=self.to_torch(self.returns),
            advantages=self.to_torch(self.advantages),
            old_values=self.to_torch(self.values),
        )
