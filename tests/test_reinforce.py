"""REINFORCE: the gradient estimator, episode sampling, action spaces, vectorized envs and bad input."""

import csv
import functools

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import SimpleMultiObsEnv
from stable_baselines3.common.logger import configure
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import SubprocVecEnv

from sb3_reinforce import Reinforce
from sb3_reinforce.reinforce.env_checks import check_finite_step

from helpers import (
    IDENTITY_ENVS,
    BanditEnv,
    EndlessEnv,
    FirstActionEnv,
    FixedRewardEnv,
    RandomLengthEnv,
    RecordNoise,
    record_batches,
    softmax,
)


def test_is_an_sb3_on_policy_algorithm():
    assert issubclass(Reinforce, OnPolicyAlgorithm)
    assert set(Reinforce.policy_aliases) == {"MlpPolicy", "CnnPolicy", "MultiInputPolicy"}


def linear_policy_params(model: Reinforce) -> tuple[np.ndarray, np.ndarray]:
    action_net = model.policy.action_net
    return action_net.weight.detach().numpy().copy(), action_net.bias.detach().numpy().copy()


def one_sgd_step_model(env, **kwargs) -> Reinforce:
    """
    A linear policy trained by plain SGD (lr 1, no clipping): one update, one policy step (and one critic step),
    moves the weights by minus the gradient.
    """
    kwargs = {"learning_rate": 1.0, "baseline": "none", "normalize_returns": False, "max_grad_norm": 1e9, **kwargs}
    kwargs.setdefault("n_epochs", 1)
    if kwargs["baseline"] == "value":
        kwargs.setdefault("critic_epochs", 1)
        kwargs.setdefault("gae_lambda", 1.0)
    policy_kwargs = dict(net_arch=[], optimizer_class=th.optim.SGD, optimizer_kwargs={})
    return Reinforce("MlpPolicy", env, policy_kwargs=policy_kwargs, **kwargs)


@pytest.mark.parametrize("normalize_returns", [False, True])
def test_gradient_matches_hand_computed_reinforce_gradient(normalize_returns: bool):
    """
    On a 3-armed bandit with a linear softmax policy, logits = W x + b with x = [1],
    grad_b log pi(a) = onehot(a) - pi, so the REINFORCE loss -mean_i(G_i log pi(a_i)) has gradient
    -mean_i(G_i (onehot(a_i) - pi)). One plain SGD step (lr 1, no clipping) must move b (and W) by minus that.
    """
    rewards = np.array([1.0, -0.5, 2.0])
    model = one_sgd_step_model(BanditEnv(rewards), n_episodes=16, normalize_returns=normalize_returns, seed=3)
    weight, bias = linear_policy_params(model)
    [batch] = record_batches(model, 1)  # smaller than one rollout: still one full update
    assert model._n_updates == 1
    actions = batch["actions"].astype(int).flatten()
    assert len(actions) == 16 and len(set(actions)) > 1

    pi = softmax(weight @ np.ones(1) + bias)
    weights = rewards[actions]
    if normalize_returns:
        weights = (weights - weights.mean()) / (weights.std(ddof=1) + 1e-8)
    grad_bias = -np.mean([g * (np.eye(3)[a] - pi) for g, a in zip(weights, actions, strict=True)], axis=0)

    new_weight, new_bias = linear_policy_params(model)
    np.testing.assert_allclose(bias - new_bias, grad_bias, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(weight - new_weight, grad_bias[:, None] * 1.0, rtol=1e-4, atol=1e-6)


def test_gradient_bernoulli_two_step_reward_to_go():
    """
    Bernoulli policy (MultiBinary(1)) on a two-step episode with rewards (1, 3) and gamma 0.5:
    the weights are G_0 = 2.5 and G_1 = 3, and grad_b log p(a) = a - sigmoid(b) for a logit b.
    """

    class TwoStepBinaryEnv(FixedRewardEnv):
        def __init__(self):
            super().__init__(rewards=(1.0, 3.0))
            self.action_space = spaces.MultiBinary(1)

    model = one_sgd_step_model(TwoStepBinaryEnv(), n_episodes=4, gamma=0.5, seed=1)
    weight, bias = linear_policy_params(model)
    [batch] = record_batches(model, 1)
    np.testing.assert_allclose(batch["returns"], [2.5, 3.0] * 4)
    actions = batch["actions"].flatten()
    observations = np.tile([0.0, 1.0], 4)  # the step index
    p = 1.0 / (1.0 + np.exp(-(weight[0, 0] * observations + bias[0])))
    per_step = batch["returns"] * (actions - p)
    n_episodes = 4
    new_weight, new_bias = linear_policy_params(model)
    np.testing.assert_allclose(bias - new_bias, [-per_step.sum() / n_episodes], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(weight - new_weight, [[-(per_step * observations).sum() / n_episodes]], rtol=1e-4, atol=1e-6)


# Action 0 at the first step ends the episode with reward 1; action 1 plays 10 steps for 1.2 in total
ShortOrLongEnv = functools.partial(FirstActionEnv, short_reward=1.0, long_rewards=(0.0,) * 9 + (1.2,))


def test_gradient_is_averaged_over_episodes_not_steps():
    """
    With episodes of different lengths, the REINFORCE estimator is 1/N sum_i sum_t G_t grad log pi(a_t|s_t).
    Averaging over the steps instead would divide by the batch's total length, which depends on the actions taken,
    and push toward the short episode here although the long one pays more.
    """
    model = one_sgd_step_model(ShortOrLongEnv(), n_episodes=6, gamma=1.0, seed=2)
    weight, bias = linear_policy_params(model)
    [batch] = record_batches(model, 1)
    lengths = batch["episode_lengths"]
    assert set(lengths) == {1, 10}, lengths  # the seed gives both kinds of episode
    pi = softmax(weight @ np.ones(1) + bias)
    actions = batch["actions"].astype(int).flatten()
    per_step = [g * (np.eye(2)[a] - pi) for g, a in zip(batch["returns"], actions, strict=True)]
    expected = -np.sum(per_step, axis=0) / len(lengths)
    np.testing.assert_allclose(bias - linear_policy_params(model)[1], expected, rtol=1e-4, atol=1e-6)


def test_learns_the_best_arm():
    model = Reinforce("MlpPolicy", BanditEnv([0.0, 1.0, 0.2]), learning_rate=0.05, baseline="none", seed=0)
    model.learn(600)
    obs = np.ones((1, 1), dtype=np.float32)
    assert model.predict(obs, deterministic=True)[0].item() == 1


@pytest.mark.parametrize("vec_env_cls", [None, SubprocVecEnv])
def test_episode_sample_is_not_biased_toward_short_episodes(vec_env_cls):
    """
    Half of RandomLengthEnv's episodes last 1 step, half 10 steps. With 4 envs and 4 episodes per batch, stopping
    at the first 4 *finished* episodes would give mostly short ones (a short episode is done after one step);
    the batch must hold long ones half of the time.
    """
    env = make_vec_env(RandomLengthEnv, n_envs=4, seed=0, vec_env_cls=vec_env_cls)
    model = Reinforce("MlpPolicy", env, n_episodes=4, learning_rate=1e-6, policy_kwargs=dict(net_arch=[4]), seed=0)
    batches = record_batches(model, 4 * 10 * (60 if vec_env_cls else 150))
    env.close()
    lengths = np.concatenate([batch["episode_lengths"] for batch in batches])
    assert all(len(batch["episode_lengths"]) == 4 for batch in batches)
    assert set(lengths) == {1, 10}
    long_fraction = np.mean(lengths == 10)
    # Binomial(n >= 240, 1/2): 0.5 +- 0.1 is more than 3 standard deviations
    assert abs(long_fraction - 0.5) < 0.1, long_fraction


def test_episode_statistics_come_from_the_batch_only():
    """rollout/ep_len_mean must not count the discarded episodes, which finish only when short."""
    env = make_vec_env(RandomLengthEnv, n_envs=4, seed=0)
    model = Reinforce("MlpPolicy", env, n_episodes=2, stats_window_size=100_000, learning_rate=1e-6, seed=0)
    batch_lengths = np.concatenate([batch["episode_lengths"] for batch in record_batches(model, 2_000)])
    logged_lengths = np.array([info["l"] for info in model.ep_info_buffer])
    np.testing.assert_array_equal(np.sort(logged_lengths), np.sort(batch_lengths))


def test_stopping_mid_rollout_then_continuing_keeps_episodes_whole():
    class StopAfter(BaseCallback):
        def __init__(self, n_steps: int):
            super().__init__()
            self.n_steps = n_steps

        def _on_step(self) -> bool:
            return self.n_calls < self.n_steps

    model = Reinforce("MlpPolicy", FixedRewardEnv(rewards=(1.0, 1.0, 1.0)), n_episodes=2, seed=0)
    model.learn(100, callback=StopAfter(1))  # stops after the first step of the first episode
    assert model._n_updates == 0
    for batch in record_batches(model, 12, reset_num_timesteps=False):
        assert batch["episode_lengths"].tolist() == [3, 3]
    np.testing.assert_array_equal(model.rollout_buffer.observations.flatten(), [0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("n_envs,n_episodes", [(1, 3), (2, 5), (4, 2)])
def test_vectorized_envs_collect_exactly_n_episodes(n_envs: int, n_episodes: int):
    env = make_vec_env(FixedRewardEnv, n_envs=n_envs, env_kwargs=dict(rewards=(1.0, 1.0, 1.0)))
    model = Reinforce("MlpPolicy", env, n_episodes=n_episodes, gamma=1.0, baseline="none", normalize_returns=False)
    batches = record_batches(model, 60)
    for batch in batches:
        assert batch["episode_lengths"].tolist() == [3] * n_episodes
        np.testing.assert_allclose(batch["returns"], [3.0, 2.0, 1.0] * n_episodes)
    # Every env steps until the last episode of the batch ends: ceil(n_episodes / n_envs) episodes of 3 steps
    steps_per_rollout = -(-n_episodes // n_envs) * 3 * n_envs
    assert model.num_timesteps == len(batches) * steps_per_rollout


SPACE_ENVS = {**IDENTITY_ENVS, "DictObs": lambda: SimpleMultiObsEnv(random_start=False)}


@pytest.mark.parametrize("space", list(SPACE_ENVS))
@pytest.mark.parametrize("baseline", ["none", "value"])
def test_action_and_observation_spaces(space: str, baseline: str):
    policy = "MultiInputPolicy" if space == "DictObs" else "MlpPolicy"
    env = make_vec_env(
        SPACE_ENVS[space], n_envs=2, wrapper_class=gym.wrappers.TimeLimit, wrapper_kwargs={"max_episode_steps": 20}
    )
    model = Reinforce(policy, env, n_episodes=3, baseline=baseline, policy_kwargs=dict(net_arch=[16]), seed=0)
    before = [parameter.detach().clone() for parameter in model.policy.parameters()]
    model.learn(100)
    assert model._n_updates >= 1
    assert any(not th.equal(old, new) for old, new in zip(before, model.policy.parameters(), strict=True))
    obs = env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape == (2, *env.action_space.shape)
    assert all(env.action_space.contains(action) for action in actions)


@pytest.mark.parametrize("sde_sample_freq", [-1, 4])
def test_gsde(sde_sample_freq: int):
    model = Reinforce(
        "MlpPolicy",
        "Pendulum-v1",
        n_episodes=2,
        use_sde=True,
        sde_sample_freq=sde_sample_freq,
        policy_kwargs=dict(net_arch=[16]),
        seed=0,
    )
    callback = RecordNoise()
    model.learn(400, callback=callback)  # one batch: two Pendulum episodes of 200 steps
    assert model._n_updates >= 1 and len(callback.matrices) == 400
    matrices = callback.matrices
    new_matrix_at = [step for step in range(1, 400) if not np.array_equal(matrices[step - 1], matrices[step])]
    # Every 4 steps of the rollout, or with -1 at the start of each episode
    assert new_matrix_at == (list(range(4, 400, 4)) if sde_sample_freq == 4 else [200])


def test_policy_subclass_is_not_bypassed_by_the_fast_sampler():
    class NeverActionZero(ActorCriticPolicy):
        def _get_action_dist_from_latent(self, latent_pi):
            logits = self.action_net(latent_pi).clone()
            logits[:, 0] = -1e9  # an action mask
            return self.action_dist.proba_distribution(action_logits=logits)

    model = Reinforce(NeverActionZero, BanditEnv([1.0, 0.0, 0.5]), n_episodes=50, seed=0)
    [batch] = record_batches(model, 1)
    assert 0 not in batch["actions"]


def test_same_seed_same_result():
    def train(seed: int) -> list[np.ndarray]:
        model = Reinforce("MlpPolicy", "CartPole-v1", n_episodes=4, seed=seed, policy_kwargs=dict(net_arch=[16]))
        model.learn(1_000)
        return [p.detach().numpy().copy() for p in model.policy.parameters()]

    first, second, other = train(5), train(5), train(6)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first, other, strict=True))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(n_episodes=0), ValueError, "n_episodes must be >= 1, got 0"),
        (dict(n_episodes=2.5), TypeError, "n_episodes must be an int, got 2.5"),
        (dict(gamma=1.5), ValueError, r"gamma must be in \[0.0, 1.0\], got 1.5"),
        (dict(gamma=-0.1), ValueError, "gamma .* got -0.1"),
        (dict(gamma="0.9"), TypeError, "gamma must be a number, got '0.9'"),
        (dict(gae_lambda=1.2), ValueError, "gae_lambda .* got 1.2"),
        (dict(gae_lambda=0.9, baseline="none"), ValueError, "gae_lambda=0.9 is only used with baseline='value'"),
        (dict(baseline="median"), ValueError, "Unknown baseline .median."),
        (dict(baseline="value", reward_to_go=False), ValueError, "reward_to_go=False"),
        (dict(ent_coef=-0.01), ValueError, "ent_coef .* got -0.01"),
        (dict(ent_coef=lambda progress: progress - 0.5), ValueError, r"ent_coef\(0.0\) .* got -0.5"),
        (dict(vf_coef=-1.0), ValueError, "vf_coef .* got -1.0"),
        (dict(max_grad_norm=0.0), ValueError, "max_grad_norm .* got 0.0"),
        (dict(learning_rate=-1e-3), ValueError, "learning_rate .* got -0.001"),
        (dict(max_episode_steps=0), ValueError, "max_episode_steps must be >= 1, got 0"),
        (dict(critic_epochs=0), ValueError, "critic_epochs must be >= 1, got 0"),
    ],
)
def test_bad_hyperparameters_raise_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        Reinforce("MlpPolicy", "CartPole-v1", **kwargs)


def test_unsupported_action_space():
    class TupleActionEnv(FixedRewardEnv):
        def __init__(self):
            super().__init__()
            self.action_space = spaces.Tuple((spaces.Discrete(2), spaces.Discrete(2)))

    with pytest.raises(TypeError, match="does not support the action space Tuple"):
        Reinforce("MlpPolicy", TupleActionEnv())


def test_non_finite_reward_raises():
    with pytest.raises(ValueError, match="non-finite reward nan"):
        Reinforce("MlpPolicy", FixedRewardEnv(rewards=(1.0, float("nan")))).learn(10)
    with pytest.raises(ValueError, match="non-finite reward inf"):
        Reinforce("MlpPolicy", FixedRewardEnv(rewards=(float("inf"),))).learn(10)


def test_non_finite_observation_raises():
    class NanObsEnv(FixedRewardEnv):
        def step(self, action):
            obs, *rest = super().step(action)
            return np.full_like(obs, np.nan), *rest

    with pytest.raises(ValueError, match=r"non-finite observation \(env index 0\): \[nan\]"):
        Reinforce("MlpPolicy", NanObsEnv()).learn(10)


@pytest.mark.parametrize("n_values", [4, 1000])  # the Python-float path for small steps, numpy for large ones
def test_finite_check_of_a_step(n_values: int) -> None:
    check = check_finite_step
    obs, rewards, active = np.ones((2, n_values)), np.ones(2, dtype=np.float32), np.array([True, False])
    check(rewards, obs, active)
    # Huge but finite values whose sum overflows are not an error
    check(rewards, np.full((2, n_values), 1e308), active)
    check(rewards, np.full((2, n_values), 7, dtype=np.int64), active)
    # A non-finite reward of an env outside the batch is ignored; of a batch env, it is named
    check(np.array([1.0, np.nan], dtype=np.float32), obs, active)
    with pytest.raises(ValueError, match=r"non-finite reward -inf \(env index 0\)"):
        check(np.array([-np.inf, 1.0], dtype=np.float32), obs, active)
    for bad in (np.nan, np.inf):
        bad_obs = obs.copy()
        bad_obs[1, -1] = bad
        with pytest.raises(ValueError, match=r"non-finite observation \(env index 1\)"):
            check(rewards, bad_obs, active)


def test_diverging_update_is_refused_and_weights_stay_finite():
    class CorruptReturns(BaseCallback):
        """Stands for any numerical accident upstream of the loss (overflowing returns, a bad critic...)."""

        def _on_rollout_end(self) -> None:
            self.model.rollout_buffer.weights[0] = np.nan

        def _on_step(self) -> bool:
            return True

    model = Reinforce("MlpPolicy", BanditEnv([1.0, 0.0]), normalize_returns=False, baseline="none", seed=0)
    model.learn(20)
    before = [p.detach().clone() for p in model.policy.parameters()]
    with pytest.raises(RuntimeError, match=r"Non-finite loss nan .*before this update, the weights are unchanged"):
        model.learn(20, callback=CorruptReturns())
    for p, q in zip(before, model.policy.parameters(), strict=True):
        th.testing.assert_close(p, q.detach())


def test_cnn_policy():
    from stable_baselines3.common.envs import FakeImageEnv

    env = make_vec_env(
        FakeImageEnv,
        env_kwargs=dict(screen_height=40, screen_width=40, n_channels=1, discrete=True),
        wrapper_class=gym.wrappers.TimeLimit,
        wrapper_kwargs={"max_episode_steps": 5},
    )
    model = Reinforce(
        "CnnPolicy", env, n_episodes=2, policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=16)), seed=0
    )
    model.learn(20)
    assert model._n_updates >= 2


def test_endless_episode_raises_instead_of_hanging():
    model = Reinforce("MlpPolicy", EndlessEnv(), max_episode_steps=50)
    with pytest.raises(RuntimeError, match=r"ran for 50 steps without ending.*TimeLimit"):
        model.learn(10)
    assert model.num_timesteps == 50


@pytest.mark.parametrize("gae_lambda", [1.0, 0.7])
@pytest.mark.parametrize("ent_coef", [0.0, 0.3])
def test_gradient_of_every_loss_term(gae_lambda: float, ent_coef: float):
    """
    Linear softmax actor and linear critic on FixedRewardEnv (obs = step index s, rewards 1, 2, 3, gamma 0.9).
    The loss is 1/N sum_i sum_t [-A_t log pi(a_t|s_t) - c_e H(pi(.|s_t)) + c_v (V(s_t) - R_t)^2] with GAE(lambda)
    advantages A_t computed from the initial critic and targets R_t = A_t + V(s_t). By hand, for logits z = w s + b:
    d(-log pi(a))/dz = pi - onehot(a), dH/dz = -pi * (log pi + H), and d(V - R)^2/db_v = 2 (V - R).
    One plain SGD step (lr 1, no clipping) must move every parameter by minus that gradient.
    """
    gamma, vf_coef, n_episodes = 0.9, 0.4, 3
    model = one_sgd_step_model(
        FixedRewardEnv(rewards=(1.0, 2.0, 3.0)),
        n_episodes=n_episodes,
        gamma=gamma,
        baseline="value",
        gae_lambda=gae_lambda,
        ent_coef=ent_coef,
        vf_coef=vf_coef,
        seed=4,
    )
    weight, bias = linear_policy_params(model)
    value_w = model.policy.value_net.weight.item()
    value_b = model.policy.value_net.bias.item()
    [batch] = record_batches(model, 1)
    actions = batch["actions"].astype(int).flatten()

    states = np.array([0.0, 1.0, 2.0])
    rewards = np.array([1.0, 2.0, 3.0])
    values = value_w * states + value_b
    next_values = np.r_[values[1:], 0.0]  # terminated: V(s_T) = 0
    deltas = rewards + gamma * next_values - values
    advantages = np.zeros(3)
    running = 0.0
    for t in reversed(range(3)):
        running = deltas[t] + gamma * gae_lambda * running
        advantages[t] = running
    targets = advantages + values

    grad_w, grad_b = np.zeros_like(weight), np.zeros_like(bias)
    grad_vw, grad_vb = 0.0, 0.0
    for step, action in enumerate(actions):
        t = step % 3
        pi = softmax(weight[:, 0] * states[t] + bias)
        entropy = -(pi * np.log(pi)).sum()
        dz = advantages[t] * (pi - np.eye(2)[action]) - ent_coef * (-pi * (np.log(pi) + entropy))
        grad_b += dz / n_episodes
        grad_w[:, 0] += dz * states[t] / n_episodes
        dv = vf_coef * 2.0 * (values[t] - targets[t]) / n_episodes
        grad_vb += dv
        grad_vw += dv * states[t]

    new_weight, new_bias = linear_policy_params(model)
    np.testing.assert_allclose(bias - new_bias, grad_b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(weight - new_weight, grad_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(value_b - model.policy.value_net.bias.item(), grad_vb, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(value_w - model.policy.value_net.weight.item(), grad_vw, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("baseline", ["none", "value"])
def test_batch_size_accumulates_exactly_the_whole_batch_gradient(baseline: str):
    """Chunks of batch_size steps sum to the whole-batch gradient: the same update, with bounded memory."""
    env_kwargs = dict(rewards=(1.0, 2.0, 3.0, 4.0, 5.0))

    def trained(batch_size: int | None) -> list[np.ndarray]:
        model = Reinforce(
            "MlpPolicy",
            FixedRewardEnv(**env_kwargs),
            n_episodes=7,
            batch_size=batch_size,
            baseline=baseline,
            ent_coef=0.1,
            policy_kwargs=dict(net_arch=[8]),
            seed=3,
        )
        model.learn(35 * 3)
        assert model._n_updates == 3
        return [p.detach().numpy().copy() for p in model.policy.parameters()]

    whole = trained(None)
    for batch_size in (1, 4, 35, 1000):
        for a, b in zip(whole, trained(batch_size), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("batch_size", [0, -3])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be >= 1, got {batch_size}"):
        Reinforce("MlpPolicy", "CartPole-v1", batch_size=batch_size)
    with pytest.raises(TypeError, match=r"batch_size must be an int or None, got 2\.0"):
        Reinforce("MlpPolicy", "CartPole-v1", batch_size=2.0)


def test_non_finite_terminal_observation_raises_where_it_appears():
    """A truncated episode is bootstrapped with V(s_T): a NaN s_T must fail at that step, not as a NaN loss later."""

    class NanAtTimeLimit(FixedRewardEnv):
        def step(self, action):
            obs, reward, terminated, truncated, info = super().step(action)
            return (np.full_like(obs, np.nan) if truncated else obs), reward, terminated, truncated, info

    env = make_vec_env(NanAtTimeLimit, env_kwargs=dict(rewards=(1.0, 1.0), truncate=True))
    model = Reinforce("MlpPolicy", env, n_episodes=2, baseline="value")
    with pytest.raises(ValueError, match=r"non-finite terminal observation \(env index 0\)"):
        model.learn(10)
    assert model._n_updates == 0


def test_critic_epochs_take_more_critic_steps_only():
    """
    critic_epochs=3 with plain SGD (lr 0.01) on a linear critic: the actor moves by one gradient step, the critic by
    three successive steps on the same targets R_t, each of gradient vf_coef * 2 (V(s_t) - R_t) / N (per episode).
    """
    lr, vf_coef, n_episodes = 0.01, 0.5, 2
    kwargs = dict(n_episodes=n_episodes, gamma=1.0, baseline="value", seed=1, vf_coef=vf_coef, learning_rate=lr)
    model = one_sgd_step_model(FixedRewardEnv(rewards=(1.0, 2.0, 3.0)), critic_epochs=3, **kwargs)
    reference = one_sgd_step_model(FixedRewardEnv(rewards=(1.0, 2.0, 3.0)), **kwargs)
    w, b = model.policy.value_net.weight.item(), model.policy.value_net.bias.item()
    [batch] = record_batches(model, 1)
    reference.learn(1)
    # The actor took the same single step as with critic_epochs=1
    for a, c in zip(linear_policy_params(model), linear_policy_params(reference), strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-7)
    states = np.tile([0.0, 1.0, 2.0], n_episodes)
    targets = batch["returns"]
    for _ in range(3):
        error = w * states + b - targets
        w, b = w - lr * vf_coef * 2 * (error * states).sum() / n_episodes, b - lr * vf_coef * 2 * error.sum() / n_episodes
    assert model.policy.value_net.weight.item() == pytest.approx(w, rel=1e-5)
    assert model.policy.value_net.bias.item() == pytest.approx(b, rel=1e-5)


def test_schedules_follow_the_progress_and_end_at_zero(tmp_path):
    """
    The learning rate and the entropy bonus are read at each update's progress ``1 - num_timesteps / total_timesteps``.
    The last batch of whole episodes runs past ``total_timesteps``: a schedule decayed to 0 ends at 0 there, not below
    (a negative learning rate would climb the loss in the last update).
    """
    model = Reinforce(
        "MlpPolicy",
        FixedRewardEnv(),  # 3 steps per episode, 6 per update
        n_episodes=2,
        baseline="none",
        seed=0,
        learning_rate=lambda progress: 1e-3 * progress,
        ent_coef=lambda progress: 0.05 * progress,
    )
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(57)  # 10 updates, the last after 60 steps
    assert model.num_timesteps == 60
    assert model._current_progress_remaining == 0.0
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0 and model._current_ent_coef() == 0.0
    # SB3 dumps an update's train/ keys with the next rollout's: updates 1-9 are in the file
    with open(tmp_path / "progress.csv", encoding="utf-8") as file:
        logged = [row for row in csv.DictReader(file) if row["train/ent_coef"]]
    progress = 1 - 6 * np.arange(1, 10) / 57
    np.testing.assert_allclose([float(row["train/ent_coef"]) for row in logged], 0.05 * progress)
    np.testing.assert_allclose([float(row["train/learning_rate"]) for row in logged], 1e-3 * progress)


def test_constant_schedule_of_the_entropy_bonus_is_the_constant():
    def weights(ent_coef) -> list[np.ndarray]:
        model = Reinforce(
            "MlpPolicy", "CartPole-v1", n_episodes=2, seed=3, ent_coef=ent_coef, policy_kwargs=dict(net_arch=[8])
        )
        model.learn(300)
        return [p.detach().numpy().copy() for p in model.policy.parameters()]

    for a, b in zip(weights(0.1), weights(lambda _: 0.1), strict=True):
        np.testing.assert_array_equal(a, b)
