"""
Checks of what the env hands the rollout: finite rewards and observations, and episodes that end.

They fail at the step where the env goes wrong, naming the env, not an update later as NaN weights.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.vec_env import VecEnv


def check_finite_observations(observations: Any, what: str = "observation", env_indices: Any = None) -> None:
    """Raise, naming the env, if a float observation of the batch ``observations`` (one row per env) is NaN or inf."""
    for key, obs in observations.items() if isinstance(observations, dict) else [(None, observations)]:
        obs = np.asarray(obs)
        if obs.dtype.kind == "f" and not np.isfinite(obs).all():
            row = int(np.flatnonzero(~np.isfinite(obs.reshape(len(obs), -1)).all(axis=1))[0])
            env_idx = row if env_indices is None else env_indices[row]
            where = "" if key is None else f" under key {key!r}"
            raise ValueError(f"The env returned a non-finite {what}{where} (env index {env_idx}): {obs[row]}")


def check_finite_terminal_observation(observation: Any, env_idx: int) -> None:
    """Raise if the last observation of a truncated episode is not finite: its ``V(s_T)`` would be a NaN loss later."""
    # A batch of one row (np.asarray: a Discrete observation is a plain int)
    batch: np.ndarray | dict[str, np.ndarray]
    if isinstance(observation, dict):
        batch = {key: np.asarray(obs)[None] for key, obs in observation.items()}
    else:
        batch = np.asarray(observation)[None]
    check_finite_observations(batch, "terminal observation", [env_idx])


def check_finite_step(rewards: np.ndarray, observations: Any, in_batch: np.ndarray) -> None:
    """Fail at the step where the env goes wrong, not later as NaN weights."""
    # The common case first, as cheaply as possible: this runs at every env step. A sum is finite if and only if
    # every term is (or it overflowed: then the exact checks below find nothing); for the few numbers of a step,
    # Python floats cost less than numpy reductions
    if isinstance(observations, np.ndarray):
        if observations.size <= 256:
            if math.isfinite(sum(observations.ravel().tolist(), sum(rewards.tolist()))):
                return
        elif math.isfinite(sum(rewards.tolist())) and (observations.dtype.kind != "f" or np.isfinite(observations).all()):
            return
    if not np.isfinite(rewards).all() and not np.all(np.isfinite(rewards[in_batch])):
        bad = int(np.flatnonzero(~np.isfinite(rewards) & in_batch)[0])
        raise ValueError(
            f"The env returned a non-finite reward {float(rewards[bad])} (env index {bad}): "
            "REINFORCE would turn it into NaN weights. Check the env's reward (and any reward wrapper)."
        )
    check_finite_observations(observations)


def warn_about_env(env: VecEnv, n_episodes: int, max_episode_steps: int) -> None:
    """
    Warn, at construction, about an env that will waste the rollout's time: one without a time limit (an endless
    episode fails only after ``max_episode_steps`` steps) or more envs than episodes per batch.
    """
    limits = [getattr(spec, "max_episode_steps", None) for spec in env.get_attr("spec")]
    wrapped = env.env_is_wrapped(TimeLimit)
    if not all(limit is not None or is_wrapped for limit, is_wrapped in zip(limits, wrapped, strict=True)):
        warnings.warn(
            "No time limit found on the env (no gymnasium.wrappers.TimeLimit, no max_episode_steps in its spec). "
            "REINFORCE learns from complete episodes: an episode that never ends raises only after max_episode_steps="
            f"{max_episode_steps} steps. Wrap the env in TimeLimit if its episodes may not end.",
            UserWarning,
            stacklevel=3,
        )
    if env.num_envs > n_episodes:
        warnings.warn(
            f"n_envs={env.num_envs} > n_episodes={n_episodes}: {env.num_envs - n_episodes} envs never play an episode "
            "of the batch, and every step they take is discarded. Use n_envs <= n_episodes.",
            UserWarning,
            stacklevel=3,
        )
