"""
Which episodes of a VecEnv's envs belong to a REINFORCE batch.

A batch must be an unbiased sample of complete episodes: whether an episode belongs to it is decided when the episode
starts, before its length is known (stopping as soon as ``n_episodes`` episodes have *finished* would over-sample
short ones). The scheduler makes that decision and nothing else; the rollout asks it after every step.
"""

from __future__ import annotations

import warnings

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

# Warn (once) when a rollout discards more than this share of its env steps
WASTE_WARNING_FRACTION = 0.25


class EpisodeScheduler:
    """
    Decide which envs play an episode of the batch, start the batch's episodes and end the batch.

    - Without groups, the batch holds the first ``n_episodes`` episodes to *start* from the beginning of the rollout,
      each followed to its end, however long: every env starts one at once, and an env that finishes one starts the
      next while the batch needs more. Episodes left half-played by the previous rollout came from an older policy:
      the envs are reset first.
    - With groups of ``group_size`` episodes started from one state (GRPO), episodes are played in *waves*: every env
      is reset with :meth:`VecEnv.seed` (env ``i`` gets ``seed + i``), env ``i`` playing group ``k + i`` of the
      current set of ``n_envs`` groups; ``group_size`` waves with the same seed play these groups' episodes.

    Envs with no batch episode left to play keep stepping (a VecEnv steps all its envs) until the batch ends: their
    steps are *discarded* (counted in :attr:`discarded_steps`) and their episodes left out of the statistics.

    :param n_episodes: Episodes per batch
    :param group_size: Episodes per group (None: no groups)
    :param max_episode_steps: Bound on the length of a batch episode (see :meth:`check_lengths`)
    """

    def __init__(self, n_episodes: int, group_size: int | None = None, max_episode_steps: int = 100_000):
        # (validated by the algorithm, which builds the scheduler)
        self.n_episodes = n_episodes
        self.group_size = group_size
        self.max_episode_steps = max_episode_steps
        #: Which envs play an episode of the batch at the current step: loggers read it to count only batch episodes
        self.in_batch = np.zeros(0, dtype=bool)
        #: The group of each env's current batch episode (-1: none, or no groups)
        self.groups = np.zeros(0, dtype=np.int64)
        #: Env steps of the current rollout that belong to no batch episode
        self.discarded_steps = 0
        self.n_steps = 0
        self.n_started = 0
        # A counter rather than in_batch.sum() at every step: the rollout's per-step work is kept small
        self._n_in_batch = 0
        self._episode_start_step = np.zeros(0, dtype=np.int64)
        self._set_seeds = np.zeros(0, dtype=np.int64)
        self._wave = 0
        self._warned = False

    def start(self, env: VecEnv, episodes_started: np.ndarray | None, rng: np.random.Generator) -> np.ndarray | None:
        """
        Start a rollout.

        :param env: The training env
        :param episodes_started: Whether each env has just started an episode (the algorithm's ``_last_episode_starts``)
        :param rng: Draws the seeds of the groups
        :return: The observations if the envs were reset, else None
        """
        n_envs = env.num_envs
        self.n_started, self.discarded_steps, self.n_steps = 0, 0, 0
        self._episode_start_step = np.zeros(n_envs, dtype=np.int64)
        self.groups = np.full(n_envs, -1, dtype=np.int64)
        if self.group_size is not None:
            n_groups = self.n_episodes // self.group_size
            # One seed per wave set: env i of the set plays group (set * n_envs + i), reset with seed + i
            self._set_seeds = rng.integers(2**31 - 1, size=-(-n_groups // n_envs))
            self._wave = 0
            return self._start_wave(env)
        self.in_batch = np.arange(n_envs) < self.n_episodes
        self.n_started = self._n_in_batch = int(self.in_batch.sum())
        if episodes_started is not None and np.all(episodes_started):
            return None
        return env.reset()  # type: ignore[return-value]

    def _start_wave(self, env: VecEnv) -> np.ndarray:
        n_envs, group_size = env.num_envs, self.group_size or 1
        wave_set = self._wave // group_size
        groups = wave_set * n_envs + np.arange(n_envs)
        self.in_batch = groups < self.n_episodes // group_size
        self.groups = np.where(self.in_batch, groups, -1)
        self._n_in_batch = int(self.in_batch.sum())
        self.n_started += self._n_in_batch
        self._wave += 1
        self._episode_start_step[:] = self.n_steps
        env.seed(int(self._set_seeds[wave_set]))
        return env.reset()  # type: ignore[return-value]

    @property
    def batch_complete(self) -> bool:
        return self._n_in_batch == 0

    def step(self, env: VecEnv, dones: np.ndarray) -> np.ndarray | None:
        """
        Book a step: batch episodes that ended free their env, which starts the next batch episode if the batch needs
        one (without groups); when a wave is over, the next one starts.

        :return: The observations if the envs were reset for a new wave, else None
        """
        self.n_steps += 1
        self.discarded_steps += len(self.in_batch) - self._n_in_batch
        episode_ended = bool(np.count_nonzero(dones))
        if episode_ended:
            self._episode_start_step[dones] = self.n_steps
            for env_idx in np.flatnonzero(dones & self.in_batch):
                # With groups, new episodes only start with the next wave
                if self.group_size is None and self.n_started < self.n_episodes:
                    self.n_started += 1
                else:
                    self.in_batch[env_idx] = False
                    self.groups[env_idx] = -1
                    self._n_in_batch -= 1
        self.check_lengths(env.num_envs)
        # The batch (or a wave) can only end at a step where an episode ended
        if self._n_in_batch > 0 or not episode_ended:
            return None
        if self.group_size is not None and self.n_started < self.n_episodes:
            return self._start_wave(env)
        self._warn_about_waste(env.num_envs)
        return None

    def _warn_about_waste(self, n_envs: int) -> None:
        if self.discarded_fraction > WASTE_WARNING_FRACTION and not self._warned:
            self._warned = True
            warnings.warn(
                f"{self.discarded_fraction:.0%} of this rollout's env steps were discarded: with n_envs={n_envs} "
                f"and n_episodes={self.n_episodes}, envs wait for the batch's longest episode. More episodes per env "
                "waste less (docs/reinforce.md, 'Several envs').",
                UserWarning,
                stacklevel=4,
            )

    @property
    def discarded_fraction(self) -> float:
        """The share of the rollout's env steps so far that belong to no batch episode."""
        return self.discarded_steps / max(self.n_steps * len(self.in_batch), 1)

    def check_lengths(self, n_envs: int) -> None:
        """Raise if a batch episode has run ``max_episode_steps`` steps: REINFORCE needs episodes that end."""
        if self.n_steps < self.max_episode_steps:
            return
        if np.any(self.n_steps - self._episode_start_step[self.in_batch] >= self.max_episode_steps):
            raise RuntimeError(
                f"An episode ran for {self.max_episode_steps} steps without ending (max_episode_steps="
                f"{self.max_episode_steps}); this rollout had already taken {self.n_steps * n_envs} env steps. "
                "REINFORCE learns from complete episodes: wrap the env in gymnasium.wrappers.TimeLimit (or register "
                "it with max_episode_steps), or raise max_episode_steps."
            )
