"""An env for every observation and action space, whose episodes end by termination, by truncation, or either."""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit

Ending = Literal["terminate", "truncate", "mixed"]

OBSERVATION_SPACES: dict[str, spaces.Space] = {
    "box": spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32),
    "box_2d": spaces.Box(-1.0, 1.0, shape=(2, 3), dtype=np.float32),
    "discrete": spaces.Discrete(4),
    "multi_discrete": spaces.MultiDiscrete([2, 3]),
    "multi_binary": spaces.MultiBinary(3),
    "dict": spaces.Dict({"position": spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32), "mode": spaces.Discrete(3)}),
    "image": spaces.Box(0, 255, shape=(36, 36, 1), dtype=np.uint8),
}

ACTION_SPACES: dict[str, spaces.Space] = {
    "discrete": spaces.Discrete(3),
    "box": spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32),
    "multi_discrete": spaces.MultiDiscrete([2, 3]),
    "multi_binary": spaces.MultiBinary(2),
}

MAX_EPISODE_STEPS = 6


class SpacesEnv(gym.Env):
    """
    Random observations from ``observation_space``; the reward is 1 when the action's first component is 0 (or, for a
    Box, negative), so there is something to learn whatever the spaces. With ``ending="terminate"`` an episode
    terminates after 1 to ``MAX_EPISODE_STEPS - 1`` steps; with ``"truncate"`` it never terminates (wrap it in a
    ``TimeLimit``: :func:`make_spaces_env`); with ``"mixed"`` it terminates at each step with probability 0.3.
    """

    def __init__(self, observation_space: spaces.Space, action_space: spaces.Space, ending: Ending = "mixed"):
        self.observation_space = observation_space
        self.action_space = action_space
        self.ending = ending
        self._length = 0
        self._steps = 0

    def _observation(self) -> Any:
        self.observation_space.seed(int(self.np_random.integers(2**31 - 1)))
        observation = self.observation_space.sample()
        # As Taxi and FrozenLake do: a Discrete observation is a plain int, not a numpy scalar
        return int(observation) if isinstance(self.observation_space, spaces.Discrete) else observation

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self._steps = 0
        self._length = int(self.np_random.integers(1, MAX_EPISODE_STEPS))
        return self._observation(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self._steps += 1
        first = np.asarray(action).flatten()[0]
        reward = float(first < 0) if isinstance(self.action_space, spaces.Box) else float(first == 0)
        if self.ending == "terminate":
            terminated = self._steps >= self._length
        elif self.ending == "mixed":
            terminated = bool(self.np_random.random() < 0.3)
        else:
            terminated = False
        return self._observation(), reward, terminated, False, {}


def make_spaces_env(observation: str = "box", action: str = "discrete", ending: Ending = "mixed") -> gym.Env:
    """A :class:`SpacesEnv` of the named spaces, cut by a ``TimeLimit`` of ``MAX_EPISODE_STEPS``."""
    env = SpacesEnv(OBSERVATION_SPACES[observation], ACTION_SPACES[action], ending)
    return TimeLimit(env, max_episode_steps=MAX_EPISODE_STEPS)
