"""Returns, advantages and truncation vs termination, checked against values computed by hand."""

import numpy as np
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import Reinforce
from sb3_reinforce.reinforce.returns import discounted_returns, episode_returns, gae_advantages

from helpers import FixedRewardEnv, RecordBatchCallback, record_batches

GAMMA = 0.5
REWARDS = [1.0, 2.0, 4.0]
# G_2 = 4, G_1 = 2 + 0.5 * 4 = 4, G_0 = 1 + 0.5 * 4 = 3
REWARD_TO_GO = [3.0, 4.0, 4.0]


def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns(np.array(REWARDS), GAMMA), REWARD_TO_GO)
    # Bootstrapping adds gamma^(T-t) V(s_T): 10 * [0.125, 0.25, 0.5]
    np.testing.assert_allclose(discounted_returns(np.array(REWARDS), GAMMA, bootstrap_value=10.0), [4.25, 6.5, 9.0])
    np.testing.assert_allclose(discounted_returns(np.array(REWARDS), 1.0), [7.0, 6.0, 4.0])
    np.testing.assert_allclose(discounted_returns(np.array(REWARDS), 0.0), REWARDS)


def test_episode_returns_by_hand():
    np.testing.assert_allclose(episode_returns(np.array(REWARDS), GAMMA), [3.0, 3.0, 3.0])
    np.testing.assert_allclose(episode_returns(np.array(REWARDS), GAMMA, bootstrap_value=10.0), [4.25] * 3)
    assert episode_returns(np.zeros(0), GAMMA).shape == (0,)


def test_gae_by_hand():
    values = np.array([1.0, 2.0, 3.0])
    # lambda = 1: Monte-Carlo advantage G_t - V(s_t)
    np.testing.assert_allclose(gae_advantages(np.array(REWARDS), values, GAMMA, 1.0), np.array(REWARD_TO_GO) - values)
    # lambda = 0: one-step TD errors r_t + gamma V(s_{t+1}) - V(s_t), with V(s_T) = 0 at a termination
    np.testing.assert_allclose(gae_advantages(np.array(REWARDS), values, GAMMA, 0.0), [1.0, 1.5, 1.0])
    # ... and V(s_T) = bootstrap value at a truncation
    np.testing.assert_allclose(gae_advantages(np.array(REWARDS), values, GAMMA, 0.0, bootstrap_value=2.0), [1.0, 1.5, 2.0])
    # lambda = 0.5: A_2 = 1, A_1 = 1.5 + 0.25 * 1 = 1.75, A_0 = 1 + 0.25 * 1.75 = 1.4375
    np.testing.assert_allclose(gae_advantages(np.array(REWARDS), values, GAMMA, 0.5), [1.4375, 1.75, 1.0])


def terminal_value(model: Reinforce) -> dict[str, float]:
    """The critic's value of the state where FixedRewardEnv's episodes end (the step index), before train() changes it."""
    return {"v_terminal": model.policy.predict_values(th.tensor([[len(REWARDS)]], dtype=th.float32)).item()}


def make_model(truncate: bool, **kwargs) -> Reinforce:
    env = make_vec_env(FixedRewardEnv, n_envs=1, env_kwargs=dict(rewards=REWARDS, truncate=truncate))
    kwargs = {"n_episodes": 2, "gamma": GAMMA, "normalize_returns": False, "seed": 0, **kwargs}
    if kwargs.get("baseline") == "value":
        kwargs.setdefault("gae_lambda", 1.0)  # Monte-Carlo advantages unless a test says otherwise
    return Reinforce("MlpPolicy", env, policy_kwargs=dict(net_arch=[8]), **kwargs)


@pytest.mark.parametrize("truncate", [False, True])
def test_no_baseline_returns_in_training(truncate: bool):
    # Without a critic a truncated episode is treated as terminal: same returns either way
    batches = record_batches(make_model(truncate, baseline="none"), 12)
    assert len(batches) == 2
    for batch in batches:
        assert batch["truncated"].tolist() == [truncate, truncate]
        np.testing.assert_allclose(batch["returns"], REWARD_TO_GO * 2, rtol=1e-6)
        np.testing.assert_allclose(batch["advantages"], batch["returns"])


def test_whole_episode_returns_in_training():
    [batch] = record_batches(make_model(False, baseline="none", reward_to_go=False), 6)
    np.testing.assert_allclose(batch["returns"], [3.0] * 6)


def test_value_baseline_terminated_episode():
    batches = record_batches(make_model(False, baseline="value"), 18)
    assert len(batches) == 3  # 18 steps, batches of 2 episodes of 3 steps
    for batch in batches:
        # Monte-Carlo advantage G_t - V(s_t) (gae_lambda=1), critic target G_t: never bootstrapped
        np.testing.assert_allclose(batch["returns"], REWARD_TO_GO * 2, rtol=1e-5)
        np.testing.assert_allclose(batch["advantages"], np.array(REWARD_TO_GO * 2) - batch["values"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bootstrap_truncated", [True, False])
def test_value_baseline_truncation(bootstrap_truncated: bool):
    callback = RecordBatchCallback(extra=terminal_value)
    make_model(True, baseline="value", bootstrap_truncated=bootstrap_truncated).learn(24, callback=callback)
    first, *later = callback.batches
    assert len(later) == 3
    # Before the first update the critic is untrained: a truncated episode is treated as terminal
    assert first["n_updates"] == 0
    np.testing.assert_allclose(first["returns"], REWARD_TO_GO * 2, rtol=1e-5)
    for batch in later:
        assert batch["n_updates"] > 0
        if bootstrap_truncated:
            # G_t + gamma^(T-t) V(s_T), with V(s_T) the critic's value of the last observation (the step index 3)
            v_terminal = batch["v_terminal"]
            assert v_terminal != 0.0
            expected = discounted_returns(np.array(REWARDS), GAMMA, bootstrap_value=v_terminal)
            np.testing.assert_allclose(batch["returns"], np.tile(expected, 2), rtol=1e-5)
        else:
            np.testing.assert_allclose(batch["returns"], REWARD_TO_GO * 2, rtol=1e-5)
        np.testing.assert_allclose(batch["advantages"], batch["returns"] - batch["values"], rtol=1e-5, atol=1e-6)


def test_time_limit_wrapper_truncation_is_detected():
    # Episodes cut by gymnasium's TimeLimit (not by the env) are truncated, not terminated
    env = make_vec_env(
        FixedRewardEnv,
        n_envs=1,
        env_kwargs=dict(rewards=REWARDS * 3),
        wrapper_class=TimeLimit,
        wrapper_kwargs=dict(max_episode_steps=3),
    )
    model = Reinforce("MlpPolicy", env, n_episodes=2, gamma=GAMMA, baseline="none", normalize_returns=False)
    [batch] = record_batches(model, 6)
    assert batch["truncated"].tolist() == [True, True]
