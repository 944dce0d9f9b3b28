"""The SB3 flow: save/load, parameters, set_env, evaluate_policy, callbacks, continuation and TensorBoard."""

import glob
import os

import numpy as np
import pytest
import torch as th
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sb3_reinforce import Reinforce
from sb3_reinforce.experiments.callbacks import TrueReturnLogger
from sb3_reinforce.experiments.mountain_car import energy_shaping

SMALL = dict(n_episodes=3, policy_kwargs=dict(net_arch=[16]))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("baseline", ["none", "value"])
def test_save_load_same_actions(tmp_path, env_id: str, baseline: str):
    model = Reinforce("MlpPolicy", env_id, baseline=baseline, seed=0, **SMALL).learn(500)
    observations = np.stack([model.observation_space.sample() for _ in range(20)])
    actions, _ = model.predict(observations, deterministic=True)

    model.save(tmp_path / "model")
    for loaded in (Reinforce.load(tmp_path / "model"), Reinforce.load(tmp_path / "model", env=make_vec_env(env_id))):
        np.testing.assert_array_equal(loaded.predict(observations, deterministic=True)[0], actions)
        assert loaded.baseline == baseline and loaded.n_episodes == 3 and loaded._n_updates == model._n_updates
        for p, q in zip(model.policy.parameters(), loaded.policy.parameters(), strict=True):
            th.testing.assert_close(p, q)
    # A loaded model with an env trains on
    loaded = Reinforce.load(tmp_path / "model", env=make_vec_env(env_id))
    loaded.learn(200, reset_num_timesteps=False)
    assert loaded._n_updates > model._n_updates


def test_get_set_parameters_and_set_env():
    source = Reinforce("MlpPolicy", "CartPole-v1", seed=0, **SMALL).learn(300)
    target = Reinforce("MlpPolicy", "CartPole-v1", seed=1, **SMALL)
    observations = np.stack([source.observation_space.sample() for _ in range(20)])
    target.set_parameters(source.get_parameters())
    np.testing.assert_array_equal(
        target.predict(observations, deterministic=True)[0], source.predict(observations, deterministic=True)[0]
    )

    new_env = make_vec_env("CartPole-v1", seed=3)
    target.set_env(new_env)
    assert target.get_env() is new_env
    target.learn(200)
    assert target._n_updates >= 1


def test_evaluate_policy_and_learns_cartpole_a_little():
    model = Reinforce("MlpPolicy", "CartPole-v1", seed=0, policy_kwargs=dict(net_arch=[32]))
    # Stochastic evaluation: an untrained argmax policy can balance the pole for a while by chance
    before, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=20, deterministic=False)
    model.learn(8_000)
    after, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=20, deterministic=False)
    assert after > 1.5 * before, (before, after)


def test_callbacks_eval_checkpoint_progress_bar(tmp_path):
    eval_callback = EvalCallback(make_vec_env("CartPole-v1"), eval_freq=100, n_eval_episodes=2, log_path=str(tmp_path))
    checkpoint = CheckpointCallback(save_freq=150, save_path=str(tmp_path / "ckpt"), name_prefix="reinforce")
    model = Reinforce("MlpPolicy", "CartPole-v1", seed=0, **SMALL)
    model.learn(600, callback=[eval_callback, checkpoint], progress_bar=True)
    assert len(np.load(tmp_path / "evaluations.npz")["timesteps"]) >= 4
    checkpoints = sorted(glob.glob(str(tmp_path / "ckpt" / "reinforce_*_steps.zip")))
    assert len(checkpoints) >= 3
    Reinforce.load(checkpoints[-1])


def test_callback_can_stop_training():
    from stable_baselines3.common.callbacks import CallbackList, StopTrainingOnMaxEpisodes

    model = Reinforce("MlpPolicy", "CartPole-v1", seed=0, **SMALL)
    model.learn(100_000, callback=CallbackList([StopTrainingOnMaxEpisodes(max_episodes=5)]))
    assert model.num_timesteps < 1000


def test_reset_num_timesteps_false_continues():
    model = Reinforce("MlpPolicy", "CartPole-v1", seed=0, **SMALL)
    model.learn(300)
    first = model.num_timesteps
    model.learn(300, reset_num_timesteps=False)
    assert first >= 300 and model.num_timesteps >= first + 300
    model.learn(100)
    assert model.num_timesteps < first + 300  # reset: counts from zero again


def test_tensorboard_keys(tmp_path):
    # Shaped training env, so the true return is logged beside the shaped one
    env = make_vec_env(
        "MountainCarContinuous-v0",
        env_kwargs=dict(max_episode_steps=50),
        wrapper_class=energy_shaping,
        wrapper_kwargs=dict(gamma=0.99),
    )
    model = Reinforce("MlpPolicy", env, baseline="value", tensorboard_log=str(tmp_path), seed=0, **SMALL)
    model.learn(600, log_interval=1, callback=TrueReturnLogger())
    [run_dir] = glob.glob(str(tmp_path / "Reinforce_*"))
    assert os.path.basename(run_dir) == "Reinforce_1"
    events = EventAccumulator(run_dir)
    events.Reload()
    keys = set(events.Tags()["scalars"])
    expected = {
        "rollout/ep_rew_mean",
        "rollout/ep_len_mean",
        "rollout/ep_true_rew_mean",
        "time/fps",
        "train/policy_gradient_loss",
        "train/entropy_loss",
        "train/value_loss",
        "train/explained_variance",
        "train/learning_rate",
        "train/episodes_per_update",
        "train/return_mean",
        "train/return_std",
        "train/grad_norm",
        "train/std",
    }
    assert expected <= keys, expected - keys
    assert all(event.value == 3 for event in events.Scalars("train/episodes_per_update"))
    assert all(np.isfinite(event.value) for event in events.Scalars("train/policy_gradient_loss"))


def test_log_interval(tmp_path):
    model = Reinforce("MlpPolicy", "CartPole-v1", tensorboard_log=str(tmp_path), seed=0, **SMALL)
    model.learn(1_000, log_interval=3)
    events = EventAccumulator(glob.glob(str(tmp_path / "Reinforce_*"))[0])
    events.Reload()
    n_logged = len(events.Scalars("time/fps"))
    n_updates = model._n_updates
    assert n_logged == (n_updates + 1) // 3 or n_logged == n_updates // 3, (n_logged, n_updates)
    assert n_logged >= 2


@pytest.mark.parametrize("model_class", [PPO, A2C])
def test_same_interface_as_sb3(model_class):
    """Reinforce is used exactly like A2C and PPO: same calls, same return types."""
    for model in (model_class("MlpPolicy", "CartPole-v1", n_steps=16), Reinforce("MlpPolicy", "CartPole-v1", **SMALL)):
        assert model.learn(64) is model
        action, state = model.predict(model.observation_space.sample(), deterministic=True)
        assert model.action_space.contains(action) and state is None
