"""
The tests' shared helpers (pytest puts ``tests/`` on the path: ``from helpers import ...``).

- Tiny deterministic envs whose returns and policy gradients can be computed by hand. They play the role of SB3's
  ``IdentityEnv``: each one isolates one thing REINFORCE must get right (the estimator, returns, truncation vs
  termination, the sampling of episodes, bad envs).
- :class:`SpacesEnv`: an env for every observation and action space, whose episodes end by termination, by
  truncation, or either; :data:`IDENTITY_ENVS`: SB3's identity envs, one per action space.
- :class:`RecordBatchCallback` (and :func:`record_batches`, :func:`episodes`): a copy of every batch the algorithm
  trains on, as SB3's ``test_gae.py`` checks its buffer; :func:`softmax`.
"""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete

from sb3_reinforce.experiments.envs import env_extra

# -- Envs whose returns and gradients are computed by hand -----------------------------------------------------------


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


# -- Every observation and action space ------------------------------------------------------------------------------

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


def make_spaces_env(observation: str = "box", action: str | spaces.Space = "discrete", ending: Ending = "mixed") -> gym.Env:
    """A :class:`SpacesEnv` of the named spaces (or of this action space), cut by a ``TimeLimit`` of ``MAX_EPISODE_STEPS``."""
    env = SpacesEnv(OBSERVATION_SPACES[observation], ACTION_SPACES[action] if isinstance(action, str) else action, ending)
    return TimeLimit(env, max_episode_steps=MAX_EPISODE_STEPS)


#: SB3's identity envs (the action that matches the observation earns 1), one per action space, 8 steps per episode.
IDENTITY_ENVS: dict[str, Callable[[], gym.Env]] = {
    "Discrete": lambda: IdentityEnv(4, ep_length=8),
    "Box": lambda: IdentityEnvBox(ep_length=8),
    "MultiDiscrete": lambda: IdentityEnvMultiDiscrete(2, ep_length=8),
    "MultiBinary": lambda: IdentityEnvMultiBinary(3, ep_length=8),
}


# -- The batches an algorithm trains on ------------------------------------------------------------------------------

#: What :class:`RecordBatchCallback` copies from the episode buffer: the flat per-step arrays, then one entry per episode.
BATCH_FIELDS = (
    "observations",
    "actions",
    "returns",
    "advantages",
    "values",
    "weights",
    "episode_lengths",
    "episode_starts",
    "episode_groups",
    "truncated",
)


class RecordBatchCallback(BaseCallback):
    """
    Keep a copy of each batch at the end of its rollout, before ``train()`` uses it: the buffer's :data:`BATCH_FIELDS`
    and ``n_updates``, the number of updates made before the batch.

    :param extra: Further entries, computed from the model at the end of each rollout (e.g. a critic's value)
    """

    def __init__(self, extra: Callable[[BaseAlgorithm], dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.extra = extra
        self.batches: list[dict[str, Any]] = []

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        batch = {name: copy.deepcopy(getattr(buffer, name)) for name in BATCH_FIELDS}
        batch["n_updates"] = self.model._n_updates
        if self.extra is not None:
            batch.update(self.extra(self.model))
        self.batches.append(batch)

    def _on_step(self) -> bool:
        return True


class RecordNoise(BaseCallback):
    """The gSDE noise matrix that acted at each step of the first env (the actor's single matrix with one env)."""

    def __init__(self) -> None:
        super().__init__()
        self.matrices: list[np.ndarray] = []

    def _on_step(self) -> bool:
        actor = self.locals["actor"]
        self.matrices.append((actor._noise_mat if self.training_env.num_envs == 1 else actor._noise_mats[0]).copy())
        return True


def record_batches(model: BaseAlgorithm, total_timesteps: int, **learn_kwargs: Any) -> list[dict[str, Any]]:
    """``model.learn(total_timesteps)``, returning the batches it trained on (:class:`RecordBatchCallback`)."""
    callback = RecordBatchCallback()
    model.learn(total_timesteps, callback=callback, **learn_kwargs)
    return callback.batches


def softmax(logits: np.ndarray) -> np.ndarray:
    """The probabilities of a categorical distribution of these logits (along the last axis)."""
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def episodes(batch: dict[str, Any], name: str) -> list[np.ndarray]:
    """The per-step array ``batch[name]`` cut into the batch's episodes."""
    return np.split(batch[name], batch["episode_starts"][1:])


def skip_without_env_extra(env_id: str) -> None:
    """Skip a test on an env of the suite whose extra (Box2D, MuJoCo: ``sb3-reinforce[suite]``) is not installed."""
    extra = env_extra(env_id)
    if extra is not None:
        module = "Box2D" if "box2d" in str(gym.spec(env_id).entry_point) else "mujoco"
        pytest.importorskip(module, reason=f'needs {module}: pip install "sb3-reinforce[{extra}]"')


#: The settings of each baseline that the pinned-weights and exact-resume matrices train with
BASELINE_SETTINGS: dict[str, dict[str, Any]] = {
    "none": {"baseline": "none"},
    "mean": {"baseline": "mean", "normalize_returns": False},
    "leave_one_out": {"baseline": "leave_one_out"},
    "group": {"baseline": "group", "group_size": 2},
    "value": {"baseline": "value", "gae_lambda": 0.9, "critic_epochs": 2},
}


def checkpoint_interval(process: subprocess.Popen[bytes], find_checkpoint: Callable[[], Path | None]) -> float:
    """
    Wait for a run's first checkpoint and the one after it; return the seconds between the two. A kill drawn within a
    few such intervals lands while the run is still going, on a fast machine as on a slow one.

    :param process: The training process
    :param find_checkpoint: Where its checkpoint is (None: not written yet)
    """
    deadline = time.monotonic() + 120.0
    writes: list[tuple[int, float]] = []  # (modification time, when it was seen)
    while len(writes) < 2:
        assert process.poll() is None, "the run ended before its second checkpoint"
        assert time.monotonic() < deadline, "no second checkpoint written"
        path = find_checkpoint()
        try:
            stamp = None if path is None else path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp is not None and (not writes or stamp != writes[-1][0]):
            writes.append((stamp, time.monotonic()))
        time.sleep(0.005)
    return writes[1][1] - writes[0][1]
