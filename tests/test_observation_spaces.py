"""Every observation space through ``learn``, with episodes that end by termination and by truncation (issue 18)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import Reinforce

from helpers import OBSERVATION_SPACES, make_spaces_env


class RecordEndings(BaseCallback):
    """How each batch's episodes ended, and the critic's bootstrap value ``V(s_T)`` of each (0: none)."""

    def __init__(self) -> None:
        super().__init__()
        self.truncated: list[np.ndarray] = []
        self.bootstrap_values: list[np.ndarray] = []

    def _on_rollout_end(self) -> None:
        self.truncated.append(self.model.rollout_buffer.truncated.copy())
        self.bootstrap_values.append(self.model.rollout_buffer.bootstrap_values.copy())

    def _on_step(self) -> bool:
        return True


def policy_for(observation: str) -> str:
    return {"dict": "MultiInputPolicy", "image": "CnnPolicy"}.get(observation, "MlpPolicy")


@pytest.mark.parametrize("n_envs", [1, 2])
@pytest.mark.parametrize("ending", ["terminate", "truncate"])
@pytest.mark.parametrize("observation", list(OBSERVATION_SPACES))
def test_every_observation_space_learns_with_either_ending(observation: str, ending: str, n_envs: int) -> None:
    env = make_vec_env(make_spaces_env, n_envs=n_envs, env_kwargs={"observation": observation, "ending": ending})
    # The value baseline bootstraps truncated episodes from the critic's V(terminal observation) after its first update
    model = Reinforce(policy_for(observation), env, n_episodes=3, baseline="value", seed=0, policy_kwargs={"net_arch": [8]})
    callback = RecordEndings()
    model.learn(40, callback=callback)
    assert model._n_updates >= 2
    truncated = np.concatenate(callback.truncated)
    if ending == "truncate":
        assert truncated.all()
        # The first batch treats the time limit as terminal (untrained critic); later ones bootstrap every episode
        assert not callback.bootstrap_values[0].any()
        assert all(np.all(b != 0) and np.isfinite(b).all() for b in callback.bootstrap_values[1:])
    else:
        assert not truncated.any()
        assert not np.concatenate(callback.bootstrap_values).any()
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.policy.parameters())


@pytest.mark.parametrize("observation", ["box", "box_2d", "dict"])
@pytest.mark.parametrize("where", ["observation", "terminal observation"])
def test_non_finite_float_observations_are_refused_in_every_float_space(observation: str, where: str) -> None:
    def poisoned_env():  # type: ignore[no-untyped-def]
        env = make_spaces_env(observation, ending="truncate")
        inner = env.unwrapped
        original = inner.step

        def step(action):  # type: ignore[no-untyped-def]
            obs, reward, terminated, truncated, info = original(action)
            # After the 6th step the TimeLimit truncates: poison that (terminal) observation, or an earlier one
            if (where == "terminal observation") == (inner._steps == 6):
                target = obs["position"] if isinstance(obs, dict) else obs
                target.flat[0] = np.nan
            return obs, reward, terminated, truncated, info

        inner.step = step
        return env

    model = Reinforce(policy_for(observation), make_vec_env(poisoned_env, n_envs=2), n_episodes=2, baseline="value", seed=0)
    with pytest.raises(ValueError, match=f"non-finite {where}"):
        model.learn(200)


def test_discrete_observations_bootstrap_from_their_own_state() -> None:
    """SB3's ``test_discrete_obs_space``: Taxi's observation is a plain int, ended by a time limit."""
    taxi = max(env_id for env_id in gym.registry if env_id.startswith("Taxi-"))  # v3 before gymnasium 1.1, then v4
    model = Reinforce("MlpPolicy", taxi, n_episodes=2, baseline="value", seed=0)
    assert isinstance(model.observation_space, spaces.Discrete)
    callback = RecordEndings()
    model.learn(600, callback=callback)
    assert model._n_updates >= 2 and len(callback.truncated) >= 2
    # Random play does not deliver the passenger within Taxi's 200 steps here: every episode hits the time limit;
    # after the critic's first update each is bootstrapped with V(s_T) of its own final state
    assert np.concatenate(callback.truncated).all()
    assert not callback.bootstrap_values[0].any()
    later = np.concatenate(callback.bootstrap_values[1:])
    assert np.all(later != 0) and np.isfinite(later).all()
