"""normalize_observations: observations standardized inside the policy, by statistics that change between updates."""

import json
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnv, SimpleMultiObsEnv
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_reinforce import Reinforce
from sb3_reinforce.reinforce.actor import NumpyActor, SamplingNoise, TorchActor, make_rollout_actor
from sb3_reinforce.reinforce.observation_normalizer import ObservationNormalizer


class ScaledObsEnv(gym.Env):
    """Episodes of 6 steps whose two observation features have scales 100 and 0.01 around offsets 50 and -3."""

    observation_space = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._step = 0
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return (np.array([50.0, -3.0]) + np.array([100.0, 0.01]) * self.np_random.standard_normal(2)).astype(np.float32)

    def step(self, action):
        self._step += 1
        return self._obs(), float(action), self._step == 6, False, {}


def scaled_obs_env() -> gym.Env:
    return gym.wrappers.TimeLimit(ScaledObsEnv(), max_episode_steps=6)


class BatchObservations(BaseCallback):
    """The observations of each batch, and the normalizer's count when each rollout ends."""

    def __init__(self):
        super().__init__()
        self.batches: list[np.ndarray] = []
        self.counts_at_rollout_end: list[float] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        self.batches.append(self.model.rollout_buffer.observations.copy())
        self.counts_at_rollout_end.append(self.model.policy.features_extractor.count.item())


def test_update_merges_batches_as_running_mean_std():
    normalizer = ObservationNormalizer(spaces.Box(-np.inf, np.inf, shape=(2, 3)))
    reference = RunningMeanStd(shape=(6,))
    rng = np.random.default_rng(0)
    for size in (1, 7, 200):
        batch = (rng.standard_normal((size, 2, 3)) * [[1.0, 10.0, 0.1]] + 5.0).astype(np.float32)
        normalizer.update(th.as_tensor(batch))
        reference.update(batch.reshape(size, 6).astype(np.float64))
    np.testing.assert_allclose(normalizer.count.item(), reference.count)
    np.testing.assert_allclose(normalizer.mean.numpy(), reference.mean, rtol=1e-12)
    np.testing.assert_allclose(normalizer.var.numpy(), reference.var, rtol=1e-12)


def test_forward_standardizes_and_clips():
    normalizer = ObservationNormalizer(spaces.Box(-np.inf, np.inf, shape=(2,)), clip=3.0)
    # Before any update: the observations themselves, clipped
    np.testing.assert_array_equal(normalizer(th.tensor([[1.5, -7.0]])).numpy(), [[1.5, -3.0]])
    normalizer.update(th.tensor([[0.0, 10.0], [4.0, 30.0]]))  # with the initial count 1e-4: mean ~(2, 20), std ~(2, 10)
    mean, std = normalizer.mean.numpy(), np.sqrt(normalizer.var.numpy() + 1e-8)
    np.testing.assert_allclose(mean, [2.0, 20.0], rtol=1e-4)
    np.testing.assert_allclose(std, [2.0, 10.0], rtol=1e-4)
    got = normalizer(th.tensor([[3.0, 20.0], [100.0, -100.0]])).numpy()
    np.testing.assert_allclose(got, [[(3.0 - mean[0]) / std[0], (20.0 - mean[1]) / std[1]], [3.0, -3.0]], rtol=1e-6, atol=1e-6)
    # The rollout actor's numpy form computes the same float32 features, bit for bit
    features = np.array([[3.0, 20.0], [100.0, -100.0], [-1.0, 12.5]], dtype=np.float32)
    np.testing.assert_array_equal(normalizer.numpy_normalizer()(features), normalizer(th.as_tensor(features)).numpy())


def test_statistics_are_those_of_every_batch_learned_from():
    callback = BatchObservations()
    model = Reinforce("MlpPolicy", scaled_obs_env(), n_episodes=4, normalize_observations=True, seed=0)
    assert isinstance(model.policy.features_extractor, ObservationNormalizer)
    model.learn(120, callback=callback)
    # Each batch was played and learned from before the statistics took it in: the batch stays on-policy
    np.testing.assert_allclose(callback.counts_at_rollout_end, 1e-4 + np.cumsum([0] + [len(b) for b in callback.batches[:-1]]))
    reference = RunningMeanStd(shape=(2,))
    for batch in callback.batches:
        reference.update(batch.astype(np.float64))
    normalizer = model.policy.features_extractor
    np.testing.assert_allclose(normalizer.mean.numpy(), reference.mean, rtol=1e-9)
    np.testing.assert_allclose(normalizer.var.numpy(), reference.var, rtol=1e-9)
    seen = np.concatenate(callback.batches)
    # What the policy sees of them: standardized (up to RunningMeanStd's initial count of 1e-4 at variance 1)
    features = normalizer(th.as_tensor(seen)).numpy()
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(features.std(axis=0), 1.0, rtol=0.05)


def test_rollout_actor_normalizes_in_numpy():
    model = Reinforce("MlpPolicy", scaled_obs_env(), n_episodes=4, normalize_observations=True, seed=0).learn(60)
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    assert isinstance(actor, NumpyActor)
    env = ScaledObsEnv()
    env.reset(seed=1)
    observations = np.stack([env._obs() for _ in range(16)])
    expected, _ = TorchActor(model.policy, SamplingNoise(0)).latent(observations)
    got, _ = actor.latent(observations)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_saved_model_predicts_from_raw_observations(tmp_path):
    model = Reinforce("MlpPolicy", scaled_obs_env(), n_episodes=4, normalize_observations=True, seed=0).learn(60)
    model.save(tmp_path / "model.zip")
    loaded = Reinforce.load(tmp_path / "model.zip", env=scaled_obs_env())
    assert loaded.normalize_observations is True
    assert loaded.policy.features_extractor.count.item() == model.policy.features_extractor.count.item()
    env = ScaledObsEnv()
    env.reset(seed=2)
    observations = np.stack([env._obs() for _ in range(32)])
    expected, _ = model.predict(observations, deterministic=True)
    np.testing.assert_array_equal(loaded.predict(observations, deterministic=True)[0], expected)
    evaluate_policy(loaded, Monitor(scaled_obs_env()), n_eval_episodes=2)  # the raw env, no wrapper to restore


def test_same_seed_same_run():
    def run() -> list[np.ndarray]:
        model = Reinforce("MlpPolicy", scaled_obs_env(), n_episodes=4, normalize_observations=True, seed=3).learn(90)
        return [p.detach().numpy().copy() for p in model.policy.state_dict().values()]

    for first, second in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(first, second)


def test_auto_normalizes_box_observations_only():
    normalized = Reinforce("MlpPolicy", scaled_obs_env(), n_episodes=4, normalize_observations="auto", seed=0)
    assert normalized.normalize_observations is True  # what "auto" became
    assert isinstance(normalized.policy.features_extractor, ObservationNormalizer)
    image_env = FakeImageEnv(screen_height=36, screen_width=36)
    already = VecNormalize(DummyVecEnv([scaled_obs_env]), norm_reward=False)
    custom = dict(features_extractor_class=FlattenExtractor)
    for policy, env, kwargs in [
        ("MlpPolicy", IdentityEnv(3), None),  # one-hot
        ("CnnPolicy", image_env, None),  # scaled by normalize_images
        ("MultiInputPolicy", SimpleMultiObsEnv(), None),
        ("MlpPolicy", scaled_obs_env(), custom),
        ("MlpPolicy", already, None),  # VecNormalize's norm_obs does it
    ]:
        model = Reinforce(policy, env, policy_kwargs=kwargs, n_episodes=4, normalize_observations="auto")
        assert model.normalize_observations is False, env
        assert not isinstance(model.policy.features_extractor, ObservationNormalizer), env
    default = Reinforce("MlpPolicy", scaled_obs_env())  # "auto" by default
    assert default.normalize_observations is True and isinstance(default.policy.features_extractor, ObservationNormalizer)
    off = Reinforce("MlpPolicy", scaled_obs_env(), normalize_observations=False)
    assert off.normalize_observations is False and type(off.policy.features_extractor) is FlattenExtractor


def test_a_model_saved_before_the_setting_loads_as_it_was(tmp_path):
    """A model saved before normalize_observations has none in its saved data: it loads without a normalizer."""
    model = Reinforce("MlpPolicy", scaled_obs_env(), n_episodes=4, normalize_observations=False, seed=0).learn(30)
    model.save(tmp_path / "new.zip")
    with zipfile.ZipFile(tmp_path / "new.zip") as new, zipfile.ZipFile(tmp_path / "old.zip", "w") as old:
        for item in new.infolist():
            content = new.read(item)
            if item.filename == "data":
                data = json.loads(content)
                del data["normalize_observations"]
                content = json.dumps(data).encode()
            old.writestr(item, content)
    for env, setting in [(None, False), (scaled_obs_env(), False), (scaled_obs_env(), "auto")]:
        loaded = Reinforce.load(tmp_path / "old.zip", env=env, normalize_observations=setting)
        assert loaded.normalize_observations is False
        assert type(loaded.policy.features_extractor) is FlattenExtractor


@pytest.mark.parametrize(
    "env, policy_kwargs, match",
    [
        (IdentityEnv(3), None, "Box observations"),
        (FakeImageEnv(screen_height=36, screen_width=36), None, "Box observations"),
        (scaled_obs_env(), dict(features_extractor_class=FlattenExtractor), "FlattenExtractor"),
    ],
    ids=["discrete", "image", "custom-extractor"],
)
def test_refused_where_it_cannot_apply(env, policy_kwargs, match: str):
    policy = "CnnPolicy" if isinstance(env, FakeImageEnv) else "MlpPolicy"
    with pytest.raises(ValueError, match=match):
        Reinforce(policy, env, normalize_observations=True, policy_kwargs=policy_kwargs)


@pytest.mark.parametrize("value", ["false", "True", 1, None])
def test_only_true_false_or_auto(value):
    with pytest.raises(TypeError, match=f"normalize_observations must be True, False or 'auto', got {value!r}"):
        Reinforce("MlpPolicy", scaled_obs_env(), normalize_observations=value)
