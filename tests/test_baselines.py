"""Baselines: hand-computed advantages, unbiasedness (Monte-Carlo), variance reduction, groups, bad combinations."""

import functools

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import Reinforce

from helpers import BanditEnv, FirstActionEnv, episodes, record_batches


class CyclingLengthEnv(gym.Env):
    """Episode k lasts lengths[k % len(lengths)] steps, reward 1 per step, whatever the actions."""

    observation_space = spaces.Box(0.0, 10.0, shape=(1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, lengths=(1, 3, 2)):
        self.lengths = lengths
        self._episode = -1
        self._step = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._episode += 1
        self._step = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self._step += 1
        done = self._step == self.lengths[self._episode % len(self.lengths)]
        return np.array([self._step], dtype=np.float32), 1.0, done, False, {}


# The first action decides: 0 ends the episode with reward 0, 1 plays 4 steps of reward 1 (return 4 with gamma 1).
# With a softmax policy over logits z (constant observation), J = 4 pi_1 and dJ/dz = pi * (r - J), r = (0, 4).
LengthChoiceEnv = functools.partial(FirstActionEnv, short_reward=0.0, long_rewards=(1.0, 1.0, 1.0, 1.0))


def test_leave_one_out_by_hand_with_episodes_of_different_lengths():
    """
    Returns to go (gamma 1): A = [1], B = [3, 2, 1], C = [2, 1]. Step 0: each episode against the mean of the two
    others; step 1: B against C and C against B; step 2: B runs alone, baseline 0.
    """
    model = Reinforce("MlpPolicy", CyclingLengthEnv(), n_episodes=3, gamma=1.0, baseline="leave_one_out", seed=0)
    [batch, *_] = record_batches(model, 6)
    expected = [[1 - 2.5], [3 - 1.5, 2 - 1, 1 - 0], [2 - 2, 1 - 2]]
    for got, want in zip(episodes(batch, "advantages"), expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_leave_one_out_whole_episode_returns_by_hand():
    """With reward_to_go=False every step of an episode carries G_0; the baseline is the mean of the others' G_0."""
    model = Reinforce(
        "MlpPolicy", CyclingLengthEnv(), n_episodes=3, gamma=1.0, baseline="leave_one_out", reward_to_go=False, seed=0
    )
    [batch, *_] = record_batches(model, 6)
    for got, want in zip(episodes(batch, "advantages"), [[1 - 2.5], [3 - 1.5] * 3, [2 - 2] * 2], strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_running_mean_baseline_by_hand():
    """The first batch has no history (baseline 0); the next one subtracts the first batch's mean return."""
    model = Reinforce("MlpPolicy", CyclingLengthEnv(), n_episodes=3, gamma=1.0, baseline="mean", baseline_decay=0.5, seed=0)
    first, second, third = record_batches(model, 18)[:3]
    np.testing.assert_allclose(first["advantages"], first["returns"])
    first_mean = first["returns"].mean()
    assert first_mean == pytest.approx(10 / 6)
    np.testing.assert_allclose(second["advantages"], second["returns"] - first_mean, atol=1e-6)
    third_baseline = 0.5 * first_mean + 0.5 * second["returns"].mean()
    np.testing.assert_allclose(third["advantages"], third["returns"] - third_baseline, atol=1e-6)


def group_advantages_by_loops(returns: list[np.ndarray], groups: np.ndarray, normalize: bool) -> list[np.ndarray]:
    """A second, loop-by-loop implementation of the group baseline's definition (in float64, as the package)."""
    returns = [episode.astype(np.float64) for episode in returns]
    advantages = []
    for i, episode in enumerate(returns):
        values = []
        for t, value in enumerate(episode):
            peers = [returns[j][t] for j in range(len(returns)) if groups[j] == groups[i] and len(returns[j]) > t]
            others = [returns[j][t] for j in range(len(returns)) if j != i and groups[j] == groups[i] and len(returns[j]) > t]
            if normalize:
                values.append((value - np.mean(peers)) / (np.std(peers) + 1e-8))
            else:
                values.append(value - (np.mean(others) if others else 0.0))
        advantages.append(np.array(values))
    return advantages


@pytest.mark.parametrize("normalize_returns", [True, False])
@pytest.mark.parametrize("n_envs", [1, 2])
def test_group_advantages_match_their_definition(normalize_returns: bool, n_envs: int):
    env = make_vec_env(LengthChoiceEnv, n_envs=n_envs, seed=0)
    model = Reinforce(
        "MlpPolicy", env, n_episodes=6, baseline="group", group_size=3, normalize_returns=normalize_returns, seed=0
    )
    batches = record_batches(model, 200)
    assert len(batches) >= 3
    for batch in batches:
        groups, returns = batch["episode_groups"], episodes(batch, "returns")
        assert sorted(groups.tolist()) == [0, 0, 0, 1, 1, 1]
        # The advantages are leave-one-out within the group; the weights GRPO's standardized ones with normalize_returns
        unbiased = group_advantages_by_loops(returns, groups, normalize=False)
        weights = group_advantages_by_loops(returns, groups, normalize_returns)
        for got, want in zip(episodes(batch, "advantages"), unbiased, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        for got, want in zip(episodes(batch, "weights"), weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    lengths = {int(length) for batch in batches for length in batch["episode_lengths"]}
    assert lengths == {1, 4}  # both outcomes occur, so the groups compare different returns


@pytest.mark.parametrize("n_envs", [1, 2, 3])
def test_a_group_starts_from_one_state(n_envs: int):
    env = make_vec_env("CartPole-v1", n_envs=n_envs, seed=0)
    model = Reinforce("MlpPolicy", env, n_episodes=4, baseline="group", group_size=2, seed=0)
    batches = record_batches(model, 2_000)
    assert len(batches) >= 2
    first_states = []
    for batch in batches:
        for group in (0, 1):
            starts = batch["observations"][batch["episode_starts"]][batch["episode_groups"] == group]
            assert len(starts) == 2
            np.testing.assert_array_equal(starts[0], starts[1])
            first_states.append(starts[0])
    # ...and different groups (and rollouts) start from different states
    assert len({tuple(state) for state in first_states}) == len(first_states)


def gradient_samples(env_fn, baseline: str, n_batches: int, **kwargs) -> np.ndarray:
    """The loss gradient w.r.t. the action net's bias for n_batches batches, at a (practically) fixed policy."""
    model = Reinforce(
        "MlpPolicy",
        env_fn(),
        baseline=baseline,
        learning_rate=1e-12,  # the policy does not move: every batch samples the same estimator
        n_epochs=1,  # one policy step per batch: one gradient sample
        normalize_returns=False,
        gamma=1.0,
        max_grad_norm=1e9,
        policy_kwargs=dict(net_arch=[], optimizer_class=th.optim.SGD, optimizer_kwargs={}),
        seed=0,
        **kwargs,
    )
    gradients: list[np.ndarray] = []
    model.policy.optimizer.register_step_pre_hook(
        lambda *_: gradients.append(model.policy.action_net.bias.grad.numpy().copy())
    )
    while len(gradients) < n_batches:
        model.learn(8_000, reset_num_timesteps=False, log_interval=10**9)
    return np.array(gradients[:n_batches])


BASELINE_KWARGS = {
    "none": {},
    "mean": {},
    "leave_one_out": {},
    "group": dict(group_size=2),  # normalize_returns=False: leave-one-out within the group, unbiased
    "value": dict(critic_epochs=1, gae_lambda=1.0),  # one optimizer step per batch; G_t - V(s_t), unbiased
}


@pytest.mark.parametrize(
    "env_fn,rewards",
    [(lambda: BanditEnv([1.0, -0.5, 2.0]), np.array([1.0, -0.5, 2.0])), (LengthChoiceEnv, np.array([0.0, 4.0]))],
    ids=["bandit", "episodes-of-different-lengths"],
)
def test_baselines_leave_the_expected_gradient_unchanged(env_fn, rewards):
    """
    Mean of 400 batch gradients (8 episodes each) against the exact gradient -pi * (r - J) of the loss at the
    initial policy; the tolerance is 4 standard errors of that mean, per component. The critic of "value" stays
    at its (random) initialization, a fixed baseline; "mean" uses only earlier batches.
    """
    probe = Reinforce("MlpPolicy", env_fn(), policy_kwargs=dict(net_arch=[]), seed=0)
    with th.no_grad():
        pi = th.softmax(probe.policy.action_net(th.ones(1, 1)), dim=-1).numpy()[0]
    exact = -pi * (rewards - pi @ rewards)
    variances = {}
    for baseline, kwargs in BASELINE_KWARGS.items():
        samples = gradient_samples(env_fn, baseline, 400, n_episodes=8, **kwargs)
        standard_error = samples.std(axis=0) / np.sqrt(len(samples))
        assert np.all(np.abs(samples.mean(axis=0) - exact) < 4 * standard_error + 1e-6), (baseline, samples.mean(0), exact)
        variances[baseline] = samples.var(axis=0).sum()
    # The critic-free baselines reduce the variance of the estimate (on the bandit, where the other episodes of a
    # small batch make a noisy baseline, leave-one-out gains least; see docs/ for CartPole)
    assert variances["leave_one_out"] < 0.95 * variances["none"], variances
    assert variances["mean"] < 0.7 * variances["none"], variances


@pytest.mark.parametrize("baseline,kwargs", [(b, k) for b, k in BASELINE_KWARGS.items()])
def test_every_baseline_learns_cartpole(baseline, kwargs):
    model = Reinforce("MlpPolicy", "CartPole-v1", baseline=baseline, learning_rate=3e-3, seed=0, **kwargs)
    model.learn(15_000)
    lengths = [info["l"] for info in model.ep_info_buffer]
    # The critic of "value" takes one gradient step per batch: it starts slowest (61 -> 114 steps here)
    assert np.mean(lengths[-20:]) > 1.5 * np.mean(lengths[:20]), (baseline, np.mean(lengths[:20]), np.mean(lengths[-20:]))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(baseline="group"), ValueError, "baseline='group' needs group_size"),
        (dict(baseline="group", group_size=1), ValueError, "group_size must be >= 2, got 1"),
        (dict(baseline="group", group_size=2.0), TypeError, r"group_size must be an int, got 2\.0"),
        (dict(baseline="group", group_size=3, n_episodes=10), ValueError, "n_episodes=10 must be a multiple of group_size=3"),
        (dict(baseline="value", group_size=2), ValueError, "group_size=2 is only used with baseline='group'"),
        (dict(baseline="leave_one_out", n_episodes=1), ValueError, "needs n_episodes >= 2.*got 1"),
        (dict(baseline="none", baseline_decay=0.5), ValueError, "baseline_decay=0.5 is only used with baseline='mean'"),
        (dict(baseline="mean", baseline_decay=1.0), ValueError, r"baseline_decay must be in \[0.0, 1.0\), got 1.0"),
        (dict(baseline="mean", baseline_decay="0.5"), TypeError, "baseline_decay must be a number"),
        (dict(baseline="rloo"), ValueError, "Unknown baseline 'rloo'"),
    ],
)
def test_bad_baseline_combinations_raise_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        Reinforce("MlpPolicy", "CartPole-v1", **kwargs)


def test_baseline_is_saved_and_loaded(tmp_path):
    model = Reinforce("MlpPolicy", "CartPole-v1", baseline="mean", baseline_decay=0.8, n_episodes=2, seed=0)
    model.learn(200)
    model.save(tmp_path / "model")
    loaded = Reinforce.load(tmp_path / "model")
    assert (loaded.baseline, loaded.baseline_estimator.decay) == ("mean", 0.8)
    assert loaded.baseline_estimator.value == model.baseline_estimator.value and model.baseline_estimator.value > 0
    group = Reinforce("MlpPolicy", "CartPole-v1", baseline="group", group_size=2, n_episodes=4, seed=0)
    group.save(tmp_path / "group")
    assert Reinforce.load(tmp_path / "group").baseline_estimator.group_size == 2
