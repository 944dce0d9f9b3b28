"""The rollout actor: the frozen policy compiled for acting must be the policy itself, for every space and option."""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
    StateDependentNoiseDistribution,
)
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import FakeImageEnv, IdentityEnv, SimpleMultiObsEnv
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import polyak_update

from sb3_reinforce import Reinforce
from sb3_reinforce.reinforce.actor import NumpyActor, SamplingNoise, TorchActor, make_rollout_actor

from helpers import IDENTITY_ENVS, RecordNoise, make_spaces_env, softmax


class BoxActionEnv(gym.Env):
    """Episodes of 5 steps with a Box action of any shape; the reward prefers actions near 0.5."""

    observation_space = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)

    def __init__(self, shape=(2, 2)):
        self.action_space = spaces.Box(-1.0, 1.0, shape=shape, dtype=np.float32)
        self._step = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._step = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        assert action.shape == self.action_space.shape, action.shape
        assert self.action_space.contains(action.astype(np.float32))
        self._step += 1
        return self.observation_space.sample(), -float(np.sum((action - 0.5) ** 2)), self._step == 5, False, {}


ENVS = {**IDENTITY_ENVS, "Box(2,2)": lambda: BoxActionEnv((2, 2))}


def distribution_params(model: Reinforce, observations: np.ndarray) -> dict[str, np.ndarray]:
    """The parameters of policy.get_distribution(obs), in the actor's terms (probabilities rather than logits)."""
    obs, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        dist = model.policy.get_distribution(obs)
        if isinstance(dist, CategoricalDistribution):
            return {"probs": dist.distribution.probs.numpy()}
        if isinstance(dist, MultiCategoricalDistribution):
            return {"probs": th.cat([d.probs for d in dist.distribution], dim=1).numpy()}
        if isinstance(dist, BernoulliDistribution):
            return {"probs": dist.distribution.probs.numpy()}
        if isinstance(dist, DiagGaussianDistribution):
            return {"mean": dist.distribution.mean.numpy(), "std": dist.distribution.stddev.numpy()}
        assert isinstance(dist, StateDependentNoiseDistribution)
        return {"mean": dist.distribution.mean.numpy(), "noise": dist.get_noise(dist._latent_sde).numpy()}


def actor_params(model: Reinforce, actor, observations: np.ndarray) -> dict[str, np.ndarray]:
    params = actor.params(observations)
    dist = model.policy.action_dist
    if isinstance(dist, CategoricalDistribution):
        return {"probs": softmax(params["logits"])}
    if isinstance(dist, MultiCategoricalDistribution):
        splits = np.split(params["logits"], np.cumsum(dist.action_dims)[:-1], axis=1)
        return {"probs": np.concatenate([softmax(logits) for logits in splits], axis=1)}
    if isinstance(dist, BernoulliDistribution):
        return {"probs": 1.0 / (1.0 + np.exp(-params["logits"]))}
    return params


def perturb(model: Reinforce) -> None:
    """Move the weights away from SB3's initialization (tiny action-net gains), so that the comparison means something."""
    with th.no_grad():
        generator = th.Generator().manual_seed(0)
        for parameter in model.policy.parameters():
            parameter.add_(0.5 * th.randn(parameter.shape, generator=generator))


@pytest.mark.parametrize("space,use_sde", [(space, False) for space in ENVS] + [("Box", True), ("Box(2,2)", True)])
@pytest.mark.parametrize("n_obs", [1, 4, 64])
def test_numpy_actor_has_the_policy_distribution(space: str, use_sde: bool, n_obs: int):
    env = ENVS[space]()
    model = Reinforce("MlpPolicy", env, use_sde=use_sde, policy_kwargs=dict(net_arch=[32, 16]), seed=0)
    perturb(model)
    if use_sde:
        model.policy.reset_noise(4)  # n_obs == 4: one exploration matrix per env; otherwise the shared one
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    assert isinstance(actor, NumpyActor)
    observations = np.stack([env.observation_space.sample() for _ in range(n_obs)])
    expected, got = distribution_params(model, observations), actor_params(model, actor, observations)
    assert expected.keys() == got.keys()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("activation_fn", [th.nn.Tanh, th.nn.ReLU, th.nn.ELU, th.nn.LeakyReLU, th.nn.Sigmoid, th.nn.Identity])
@pytest.mark.parametrize("squash_output", [False, True])
def test_numpy_actor_activations_and_squashed_gsde(activation_fn, squash_output: bool):
    policy_kwargs = dict(net_arch=[16, 16], activation_fn=activation_fn, squash_output=squash_output)
    model = Reinforce("MlpPolicy", BoxActionEnv((3,)), use_sde=squash_output, policy_kwargs=policy_kwargs, seed=1)
    perturb(model)
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    assert isinstance(actor, NumpyActor)
    observations = np.stack([model.observation_space.sample() for _ in range(32)])
    expected, got = distribution_params(model, observations), actor_params(model, actor, observations)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-5, err_msg=key)
    if squash_output:  # gSDE actions: tanh(mean + noise), as the policy's own sample()
        obs, _ = model.policy.obs_to_tensor(observations)
        with th.no_grad():
            reference = model.policy.get_distribution(obs).get_actions().numpy()
        np.testing.assert_allclose(actor.sample(observations), reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("discrete_obs", [True, False])
def test_numpy_actor_one_hot_observations(discrete_obs: bool):
    class DiscreteObsEnv(IdentityEnv):
        def __init__(self):
            super().__init__(5, ep_length=4)
            if not discrete_obs:
                self.observation_space = spaces.MultiBinary(5)

    model = Reinforce("MlpPolicy", DiscreteObsEnv(), policy_kwargs=dict(net_arch=[8]), seed=0)
    perturb(model)
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    assert isinstance(actor, NumpyActor)
    observations = np.stack([model.observation_space.sample() for _ in range(16)])
    np.testing.assert_allclose(
        actor_params(model, actor, observations)["probs"], distribution_params(model, observations)["probs"], rtol=1e-5
    )


@pytest.mark.parametrize("policy,env", [("CnnPolicy", "image"), ("MultiInputPolicy", "dict")])
def test_torch_actor_has_the_policy_distribution(policy: str, env: str):
    if env == "image":
        environment = FakeImageEnv(screen_height=36, screen_width=36, n_channels=1, discrete=True)
        kwargs = dict(features_extractor_kwargs=dict(features_dim=16))
    else:
        environment, kwargs = SimpleMultiObsEnv(random_start=False), dict(net_arch=[16])
    model = Reinforce(policy, environment, policy_kwargs=kwargs, seed=0)
    perturb(model)
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    assert isinstance(actor, TorchActor)
    samples = [model.observation_space.sample() for _ in range(8)]  # channel-first, as VecTransposeImage gives them
    observations = {k: np.stack([s[k] for s in samples]) for k in samples[0]} if env == "dict" else np.stack(samples)
    expected, got = distribution_params(model, observations), actor_params(model, actor, observations)
    np.testing.assert_allclose(got["probs"], expected["probs"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("space", list(ENVS))
def test_sampling_follows_the_policy_distribution(space: str):
    """The actions drawn through SamplingNoise have the policy's distribution (mean and std of 20k draws)."""
    env = ENVS[space]()
    model = Reinforce("MlpPolicy", env, policy_kwargs=dict(net_arch=[8]), seed=0)
    with th.no_grad():
        model.policy.action_net.bias.copy_(th.linspace(-1.0, 1.0, model.policy.action_net.bias.numel()))
    observations = np.stack([env.observation_space.sample()] * 20_000)
    fast = make_rollout_actor(model.policy, SamplingNoise(0)).sample(observations).astype(np.float64)
    obs, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        reference = model.policy.get_distribution(obs).get_actions().double().numpy()
    assert fast.shape == reference.shape
    np.testing.assert_allclose(fast.mean(0), reference.mean(0), atol=0.03)
    np.testing.assert_allclose(fast.std(0), reference.std(0), atol=0.03)


# The policy's probabilities in the observation of the frequency test, in the order of ``probs`` (each sub-action's
# categories in turn; each bit's probability of 1). Distinct, bits away from 1/2: swapping two categories or inverting
# a bit moves a frequency by 0.1 or more, 40 standard errors of 40k draws.
TARGET_PROBABILITIES = {
    "Discrete": (spaces.Discrete(4), [0.1, 0.2, 0.3, 0.4]),
    "MultiDiscrete": (spaces.MultiDiscrete([2, 3]), [0.25, 0.75, 0.5, 0.15, 0.35]),
    "MultiBinary": (spaces.MultiBinary(3), [0.15, 0.35, 0.7]),
}


def action_frequencies(actions: np.ndarray, space: spaces.Space) -> np.ndarray:
    """How often each category of each sub-action (each bit of a MultiBinary) was drawn, in the order of ``probs``."""
    if isinstance(space, spaces.Discrete):
        return np.bincount(actions.astype(int), minlength=int(space.n)) / len(actions)
    if isinstance(space, spaces.MultiDiscrete):
        columns = actions.astype(int).T
        return np.concatenate([np.bincount(c, minlength=int(n)) / len(c) for c, n in zip(columns, space.nvec, strict=True)])
    return actions.mean(axis=0)


@pytest.mark.parametrize("space", list(TARGET_PROBABILITIES))
@pytest.mark.parametrize("actor_class,n_obs", [(NumpyActor, 1), (NumpyActor, 8), (TorchActor, 8)])
def test_sampling_frequencies_match_the_policy_probabilities(space: str, actor_class, n_obs: int):
    """
    40k actions drawn by the actor in one observation, in calls of ``n_obs`` observations (across noise blocks): the
    frequency of each category, or of each bit set, is the policy's probability within 5 binomial standard errors
    (0.0125 at most). The action net's bias is shifted so that the policy has ``TARGET_PROBABILITIES`` there.
    """
    action_space, probabilities = TARGET_PROBABILITIES[space]
    model = Reinforce("MlpPolicy", make_spaces_env("box", action_space), policy_kwargs=dict(net_arch=[8]))
    perturb(model)
    observation = np.array([[0.3, -0.5, 0.8]], dtype=np.float32)
    p = np.array(probabilities)
    # Categorical logits are log(p) up to a constant per sub-action; Bernoulli ones log(p / (1 - p))
    logits = np.log(p / (1 - p)) if space == "MultiBinary" else np.log(p)
    with th.no_grad():  # through the features extractor (the observation normalizer, by default)
        features = model.policy.pi_features_extractor(model.policy.obs_to_tensor(observation)[0])
        latent_pi = model.policy.mlp_extractor.forward_actor(features)
        model.policy.action_net.bias += th.as_tensor(logits, dtype=th.float32) - model.policy.action_net(latent_pi)[0]
    expected = distribution_params(model, observation)["probs"][0]
    np.testing.assert_allclose(expected, p, atol=1e-5)

    actor = actor_class(model.policy, SamplingNoise(0))
    n_draws = 40_000
    observations = np.repeat(observation, n_obs, axis=0)
    actions = np.concatenate([actor.sample(observations) for _ in range(n_draws // n_obs)])
    standard_errors = np.sqrt(expected * (1 - expected) / n_draws)
    np.testing.assert_array_less(np.abs(action_frequencies(actions, action_space) - expected), 5 * standard_errors)


def test_sampling_noise_is_reproducible_across_block_boundaries():
    first, second = SamplingNoise(7, block_size=10), SamplingNoise(7, block_size=10)
    draws = [first.take("gumbel", (3, 2)) for _ in range(5)]
    for draw in draws:
        np.testing.assert_array_equal(draw, second.take("gumbel", (3, 2)))
    assert draws[0].dtype == np.float32
    assert not np.array_equal(draws[0], draws[1])
    with pytest.raises(ValueError, match="Unknown noise kind 'uniform'"):
        first.take("uniform", (1,))


@pytest.mark.parametrize("shape", [(1,), (3,), (2, 2)])
@pytest.mark.parametrize("use_sde", [False, True])
def test_every_box_shape_learn_save_load_predict(tmp_path, shape, use_sde: bool):
    env = make_vec_env(BoxActionEnv, n_envs=2, env_kwargs=dict(shape=shape), seed=0)
    model = Reinforce("MlpPolicy", env, n_episodes=2, use_sde=use_sde, policy_kwargs=dict(net_arch=[8]), seed=0)
    model.learn(600)
    assert model._n_updates >= 50
    assert model.rollout_buffer.actions.shape[1] == int(np.prod(shape))
    model.save(tmp_path / "model")
    loaded = Reinforce.load(tmp_path / "model", env=env)
    obs = env.reset()
    for deterministic in (True, False):
        actions, _ = loaded.predict(obs, deterministic=deterministic)
        assert actions.shape == (2, *shape)
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    loaded.learn(100)  # and it keeps training after loading


@pytest.mark.parametrize("space", list(ENVS))
def test_mode_is_the_policy_deterministic_action(space: str):
    env = ENVS[space]()
    model = Reinforce("MlpPolicy", env, policy_kwargs=dict(net_arch=[16]), seed=0)
    perturb(model)
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    observations = np.stack([env.observation_space.sample() for _ in range(64)])
    obs, _ = model.policy.obs_to_tensor(observations)
    with th.no_grad():
        reference = model.policy.get_distribution(obs).get_actions(deterministic=True).numpy()
    np.testing.assert_allclose(actor.mode(observations), reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_envs", [1, 3])
def test_gsde_noise_is_resampled_for_each_episode(n_envs: int):
    """With sde_sample_freq=-1 each episode explores with its own noise matrix: the env that ends one gets a new one."""
    env = make_vec_env(BoxActionEnv, n_envs=n_envs, env_kwargs=dict(shape=(2,)), seed=0)
    model = Reinforce("MlpPolicy", env, n_episodes=n_envs, use_sde=True, policy_kwargs=dict(net_arch=[8]), seed=0)
    actor = make_rollout_actor(model.policy, SamplingNoise(0))
    actor.reset_noise(n_envs)
    before = (actor._noise_mat.copy(), actor._noise_mats.copy())
    actor.reset_noise(n_envs, np.array([0]))
    assert not np.array_equal(actor._noise_mats[0], before[1][0])
    np.testing.assert_array_equal(actor._noise_mats[1:], before[1][1:])  # the other envs keep their matrices
    assert (n_envs == 1) != np.array_equal(actor._noise_mat, before[0])

    # In a rollout: episodes of one env (5 steps each) use different noise, steps within an episode the same one
    callback = RecordNoise()
    model.learn(10 * n_envs, callback=callback)
    matrices = callback.matrices[:10]
    assert all(np.array_equal(matrices[0], m) for m in matrices[1:5])
    assert not np.array_equal(matrices[4], matrices[5])


def torch_mode(model: Reinforce, observations: np.ndarray) -> np.ndarray:
    """The deterministic actions computed from the policy's weights as they are now, by hand: argmax of the logits."""
    with th.no_grad():
        features = model.policy.pi_features_extractor(th.as_tensor(observations))  # normalized observations
        logits = model.policy.action_net(model.policy.mlp_extractor.forward_actor(features))
    return logits.argmax(dim=1).numpy()


def test_predict_follows_every_kind_of_weight_change(tmp_path):
    """
    Issue 23: ``predict`` once went through a numpy copy of the weights that missed edits made through ``.data`` and
    SB3's own ``polyak_update``. It is SB3's torch path again: every edit below must show in the actions.
    """
    assert Reinforce.predict is OnPolicyAlgorithm.predict
    model = Reinforce("MlpPolicy", "CartPole-v1", n_episodes=2, seed=0)
    observations = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    other = Reinforce("MlpPolicy", "CartPole-v1", seed=1)
    action_net = model.policy.action_net

    def edit_with_polyak() -> None:
        polyak_update(other.policy.parameters(), model.policy.parameters(), tau=1.0)

    def replace_data() -> None:
        action_net.weight.data = -10 * action_net.weight.data.clone()

    edits = {
        "learn": lambda: model.learn(300),
        ".data.mul_": lambda: [p.data.mul_(-1) for p in model.policy.parameters()],
        ".data =": replace_data,
        ".data.copy_": lambda: action_net.bias.data.copy_(th.tensor([50.0, -50.0])),
        "polyak_update": edit_with_polyak,
        "set_parameters": lambda: model.set_parameters(Reinforce("MlpPolicy", "CartPole-v1", seed=2).get_parameters()),
    }
    previous = model.predict(observations, deterministic=True)[0]
    for name, edit in edits.items():
        edit()
        actions = model.predict(observations, deterministic=True)[0]
        np.testing.assert_array_equal(actions, torch_mode(model, observations), err_msg=f"after {name}")
        assert not np.array_equal(actions, previous), f"{name} did not change the actions: the check would be empty"
        previous = actions
    model.save(tmp_path / "model")
    loaded = Reinforce.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(observations, deterministic=True)[0], previous)


def test_stochastic_and_unsupported_predict_stay_sb3s():
    model = Reinforce("CnnPolicy", FakeImageEnv(screen_height=36, screen_width=36, n_channels=1), n_episodes=2, seed=0)
    observation = model.observation_space.sample()
    model.predict(observation, deterministic=True)
    actions = [model.predict(observation)[0] for _ in range(50)]
    assert len({int(action) for action in actions}) > 1  # sampled, not the mode
