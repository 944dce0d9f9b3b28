"""Callbacks usable with any SB3 algorithm."""

import glob

import numpy as np
import pytest
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.env_util import make_vec_env
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_reinforce import Reinforce
from sb3_reinforce.experiments.callbacks import ShapedReturnLogger, TrueReturnLogger
from sb3_reinforce.wrappers import RewardShaping

ALGO_KWARGS = {
    Reinforce: dict(n_episodes=2),
    PPO: dict(n_steps=32, batch_size=32, n_epochs=1),
    A2C: dict(n_steps=8),
    SAC: dict(learning_starts=10, train_freq=8, gradient_steps=1, buffer_size=500),
}


def shaped_env(n_envs: int = 1):
    # Constant shaping +1 per step replacing the reward: the true return (-0.1 * sum a^2 per step) differs from it
    return make_vec_env(
        "MountainCarContinuous-v0",
        n_envs=n_envs,
        seed=0,
        env_kwargs=dict(max_episode_steps=20),
        wrapper_class=RewardShaping,
        wrapper_kwargs=dict(shaping=lambda *args: 1.0, mode="replace"),
    )


@pytest.mark.parametrize("model_class", list(ALGO_KWARGS))
def test_true_return_logged_for_any_algorithm(tmp_path, model_class):
    logger = TrueReturnLogger(window=5)
    model = model_class("MlpPolicy", shaped_env(), tensorboard_log=str(tmp_path), seed=0, **ALGO_KWARGS[model_class])
    model.learn(200, log_interval=1, callback=logger)
    [run_dir] = glob.glob(str(tmp_path / "*_1"))
    events = EventAccumulator(run_dir)
    events.Reload()
    logged = [event.value for event in events.Scalars("rollout/ep_true_rew_mean")]
    assert logged, "rollout/ep_true_rew_mean was never dumped"
    # The env's own reward is -0.1 * a^2 <= 0 per step, while the shaped one is +1: the logged mean is the true one
    assert all(value <= 0.0 for value in logged)
    assert len(logger.true_returns) == 5 and all(r <= 0.0 for r in logger.true_returns)
    # SB3's Monitor sits inside the shaping wrapper (make_vec_env): it reports the true return too
    assert np.mean(logger.true_returns) == pytest.approx(np.mean([info["r"] for info in model.ep_info_buffer][-5:]), abs=1e-4)


def test_reinforce_counts_only_batch_episodes():
    logger = TrueReturnLogger()
    # 4 envs, 2 episodes per batch: the 2 idle envs play discarded episodes that must not be counted
    model = Reinforce("MlpPolicy", shaped_env(n_envs=4), n_episodes=2, seed=0)
    model.learn(80 * 3, callback=logger)
    assert len(logger.true_returns) == 2 * model._n_updates


def test_fresh_run_resets_statistics():
    logger = TrueReturnLogger()
    model = Reinforce("MlpPolicy", shaped_env(), n_episodes=2, seed=0)
    model.learn(40, callback=logger)
    logger.true_returns.append(123.0)
    model.learn(40, callback=logger, reset_num_timesteps=False)
    assert 123.0 in logger.true_returns
    model.learn(40, callback=logger)  # reset_num_timesteps=True: a new run, as SB3 does with ep_info_buffer
    assert 123.0 not in logger.true_returns and len(logger.true_returns) == 2


@pytest.mark.parametrize(
    "window,error,match",
    [
        (0, ValueError, "window must be >= 1, got 0"),
        (-1, ValueError, "window must be >= 1, got -1"),
        (2.5, TypeError, "window must be an int, got 2.5"),
        (True, TypeError, "window must be an int, got True"),
    ],
)
def test_bad_window(window, error, match):
    for callback_class in (TrueReturnLogger, ShapedReturnLogger):
        with pytest.raises(error, match=match):
            callback_class(window=window)
