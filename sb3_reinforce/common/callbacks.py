"""Callbacks that work with any SB3 algorithm (on- or off-policy), not only with :class:`~sb3_reinforce.Reinforce`."""

from __future__ import annotations

from collections import deque

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from sb3_reinforce.wrappers import TRUE_EPISODE_KEY


class TrueReturnLogger(BaseCallback):
    """
    Log ``rollout/ep_true_rew_mean``: the mean *true* (unshaped) return of the last ``window`` training episodes.

    A shaped return says nothing about whether the task is solved. The reward-shaping wrappers report the env's
    own return of each finished episode in ``info["true_episode"]`` (:data:`~sb3_reinforce.wrappers.TRUE_EPISODE_KEY`);
    this callback collects it from the ``infos`` of every step and records the windowed mean at the end of each
    rollout, so it is dumped with SB3's own ``rollout/`` keys (PPO, A2C, SAC, ..., Reinforce).

    With :class:`~sb3_reinforce.Reinforce` and several envs, only the episodes of the batch are counted: its
    rollout exposes the mask ``active`` of the envs playing a batch episode, and the discarded episodes that
    finish while the last batch episodes are played out are biased toward short ones.

    :param window: Number of episodes the mean is taken over (SB3's ``stats_window_size`` is 100)
    :param verbose: Verbosity level
    """

    def __init__(self, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        self.window = window
        self.true_returns: deque[float] = deque(maxlen=window)

    def _on_training_start(self) -> None:
        # Like SB3's ep_info_buffer: a fresh run (reset_num_timesteps=True) starts with fresh statistics
        if self.model.num_timesteps == 0:
            self.true_returns.clear()

    def _on_step(self) -> bool:
        infos = self.locals.get("infos", [])
        active = self.locals.get("active")
        for env_idx, info in enumerate(infos):
            true_episode = info.get(TRUE_EPISODE_KEY)
            if true_episode is not None and (active is None or bool(np.asarray(active)[env_idx])):
                self.true_returns.append(float(true_episode["r"]))
        return True

    def _on_rollout_end(self) -> None:
        if self.true_returns:
            self.logger.record("rollout/ep_true_rew_mean", float(np.mean(self.true_returns)))
