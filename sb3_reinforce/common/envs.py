"""
Tiny deterministic environments whose returns and policy gradients can be computed by hand.

They play the role of SB3's ``IdentityEnv`` in the tests: each one isolates one thing REINFORCE must get
right (the estimator, returns, truncation vs termination, the sampling of episodes, bad envs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class BanditEnv(gym.Env[np.ndarray, np.int64]):
    """
    A one-step episode: the observation is always ``[1.0]`` and action ``a`` earns ``rewards[a]``, then terminates.

    :param rewards: The reward of each arm
    """

    def __init__(self, rewards: Sequence[float] = (1.0, 0.0)):
        self.rewards = np.asarray(rewards, dtype=np.float64)
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(self.rewards))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.ones(1, dtype=np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.ones(1, dtype=np.float32), float(self.rewards[int(action)]), True, False, {}


class FixedRewardEnv(gym.Env[np.ndarray, np.int64]):
    """
    Episodes of fixed length whose rewards do not depend on the actions: step ``t`` earns ``rewards[t]``.

    The observation is the step index, so a critic can tell the states apart. The last step ends the episode by
    termination or, with ``truncate=True``, by truncation (a time limit), without termination.

    :param rewards: The reward of each step; the episode lasts ``len(rewards)`` steps
    :param truncate: End episodes by truncation (time limit) instead of termination
    """

    def __init__(self, rewards: Sequence[float] = (1.0, 2.0, 3.0), truncate: bool = False):
        self.rewards = np.asarray(rewards, dtype=np.float64)
        self.truncate = truncate
        self.observation_space = spaces.Box(0.0, float(len(self.rewards)), shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._step = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._step = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict]:
        reward = float(self.rewards[self._step])
        self._step += 1
        done = self._step == len(self.rewards)
        obs = np.array([self._step], dtype=np.float32)
        return obs, reward, done and not self.truncate, done and self.truncate, {}


class RandomLengthEnv(gym.Env[np.ndarray, np.int64]):
    """
    Episodes of length ``short`` or ``long``, each with probability 1/2, drawn at reset whatever the policy does.

    A batch of episodes that is an unbiased sample holds as many long episodes as short ones on average; a
    collector that stops as soon as ``n`` episodes have *finished* over-samples the short ones.

    :param short: Length of a short episode
    :param long: Length of a long episode
    """

    def __init__(self, short: int = 1, long: int = 10):
        self.lengths = (short, long)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self._length = short
        self._step = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._length = self.lengths[int(self.np_random.integers(2))]
        self._step = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._step += 1
        return np.zeros(1, dtype=np.float32), 1.0, self._step >= self._length, False, {}


class EndlessEnv(gym.Env[np.ndarray, np.int64]):
    """An env whose episodes never end (no termination, no time limit): a rollout of whole episodes must not hang."""

    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(1, dtype=np.float32), 0.0, False, False, {}


class FirstActionEnv(gym.Env[np.ndarray, np.int64]):
    """
    The first action decides the episode: 0 ends it at once with ``short_reward``; 1 plays ``len(long_rewards)`` steps
    earning ``long_rewards[t]`` at step ``t``, whatever the later actions. The observation is constant, so with a
    softmax policy over logits ``z`` the exact gradient is ``pi * (r - J)`` with ``r = (short_reward, sum(long_rewards))``
    (gamma 1): the later actions' score terms have zero mean and only add variance.

    :param short_reward: Reward of the one-step episode
    :param long_rewards: Rewards of the steps of the long episode
    """

    observation_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, short_reward: float = 0.0, long_rewards: Sequence[float] = (1.0, 1.0, 1.0, 1.0)):
        self.short_reward = float(short_reward)
        self.long_rewards = [float(reward) for reward in long_rewards]
        self._step = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._step = 0
        return np.ones(1, dtype=np.float32), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._step += 1
        if self._step == 1 and action == 0:
            return np.ones(1, dtype=np.float32), self.short_reward, True, False, {}
        done = self._step == len(self.long_rewards)
        return np.ones(1, dtype=np.float32), self.long_rewards[self._step - 1], done, False, {}
