"""Several policy steps per batch (``n_epochs``, ``target_kl``): the importance-weighted loss against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium.wrappers import TimeLimit

from sb3_reinforce import Reinforce
from sb3_reinforce.reinforce.policy_update import PolicyUpdate

from helpers import BanditEnv

# A linear softmax policy on the bandit's constant observation [1]: logits = W * 1 + b
LINEAR = dict(net_arch=dict(pi=[], vf=[]))


def bandit_model(**kwargs) -> Reinforce:
    kwargs = {"n_episodes": 8, "normalize_returns": False, "seed": 0, "policy_kwargs": LINEAR, **kwargs}
    return Reinforce("MlpPolicy", TimeLimit(BanditEnv(rewards=(1.0, 0.0)), 1), **kwargs)


def set_logits(model: Reinforce, logits: tuple[float, float]) -> None:
    with th.no_grad():
        model.policy.action_net.weight.zero_()
        model.policy.action_net.bias.copy_(th.tensor(logits))


def test_importance_weighted_gradient_matches_hand_computation():
    model = bandit_model()
    model.learn(8)  # one batch of 8 one-step episodes, kept in the buffer
    buffer = model.rollout_buffer
    update = PolicyUpdate(model.policy, buffer, None, ent_coef=0.0, vf_coef=0.5, with_critic=False, max_grad_norm=1.0)

    set_logits(model, (0.0, 0.0))  # the policy that "played" the batch: p_old = (0.5, 0.5)
    old_log_probs = update.log_probs()
    new_logits = np.array([0.3, -0.2])
    set_logits(model, tuple(new_logits))
    model.policy.optimizer.zero_grad()
    terms = update.accumulate_gradients(old_log_probs)

    # By hand: L = -1/N sum_i w_i p(a_i) / p_old(a_i); dL/db = -1/N sum_i w_i r_i (onehot(a_i) - p)
    p_new = np.exp(new_logits) / np.exp(new_logits).sum()
    actions = buffer.actions.flatten().astype(int)
    weights = buffer.weights.flatten()
    ratios = p_new[actions] / 0.5
    expected_grad = -np.mean(
        [w * r * (np.eye(2)[a] - p_new) for w, r, a in zip(weights, ratios, actions, strict=True)], axis=0
    )
    np.testing.assert_allclose(model.policy.action_net.bias.grad.numpy(), expected_grad, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(terms.policy, -np.mean(weights * ratios), rtol=1e-5)
    # The k3 estimator of KL(p_old || p): mean of r - 1 - log r over the steps
    np.testing.assert_allclose(terms.approx_kl, np.mean(ratios - 1 - np.log(ratios)), rtol=1e-5)
    assert set(actions) == {0, 1} and 0 < terms.approx_kl


def test_first_importance_weighted_step_is_the_reinforce_step():
    """At pi = pi_old the ratio is 1 and its gradient is the REINFORCE gradient."""
    model = bandit_model()
    model.learn(8)
    update = PolicyUpdate(
        model.policy, model.rollout_buffer, None, ent_coef=0.01, vf_coef=0.5, with_critic=False, max_grad_norm=1.0
    )
    gradients = []
    for old_log_probs in (None, update.log_probs()):
        model.policy.optimizer.zero_grad()
        update.accumulate_gradients(old_log_probs)
        gradients.append([param.grad.clone() for param in model.policy.action_net.parameters()])
    for plain, weighted in zip(*gradients, strict=True):
        th.testing.assert_close(plain, weighted)


def bias_gradient(update: PolicyUpdate, old_log_probs: th.Tensor, indices: np.ndarray | None) -> np.ndarray:
    update.policy.optimizer.zero_grad()
    update.accumulate_gradients(old_log_probs, indices)
    return update.policy.action_net.bias.grad.numpy().copy()


def test_minibatch_terms_are_unbiased_estimates_of_the_batch_loss():
    """A minibatch's gradient is scaled by n_steps / size: over a partition, their weighted mean is the batch's."""
    model = bandit_model(n_episodes=12, ent_coef=0.01)
    model.learn(12)
    update = PolicyUpdate(
        model.policy, model.rollout_buffer, None, ent_coef=0.01, vf_coef=0.5, with_critic=False, max_grad_norm=1.0
    )
    old_log_probs = update.log_probs()
    set_logits(model, (0.4, -0.1))  # away from pi_old: the ratios are not 1
    whole = bias_gradient(update, old_log_probs, None)
    np.testing.assert_allclose(
        bias_gradient(update, old_log_probs, np.random.default_rng(0).permutation(12)), whole, rtol=1e-5
    )
    parts = list(update.minibatches(1, 5, np.random.default_rng(1)))
    assert sorted(np.concatenate(parts).tolist()) == list(range(12)) and [len(part) for part in parts] == [5, 5, 2]
    mean = sum(len(part) / 12 * bias_gradient(update, old_log_probs, part) for part in parts)
    np.testing.assert_allclose(mean, whole, rtol=1e-5, atol=1e-7)


def test_each_epoch_reshuffles_the_minibatches():
    model = bandit_model(n_episodes=12)
    model.learn(12)
    update = PolicyUpdate(
        model.policy, model.rollout_buffer, None, ent_coef=0.0, vf_coef=0.5, with_critic=False, max_grad_norm=1.0
    )
    epochs = list(update.minibatches(3, 4, np.random.default_rng(0)))
    assert len(epochs) == 9
    orders = [np.concatenate(epochs[i : i + 3]) for i in (0, 3, 6)]
    assert all(sorted(order.tolist()) == list(range(12)) for order in orders)
    assert not np.array_equal(orders[0], orders[1])
    assert list(update.minibatches(2, None, np.random.default_rng(0))) == [None, None]


def weights_after(timesteps: int, **kwargs) -> list[th.Tensor]:
    kwargs = {"baseline": "none", "n_epochs": 1, **kwargs}  # plain REINFORCE unless told otherwise
    model = Reinforce("MlpPolicy", "CartPole-v1", n_episodes=4, seed=3, **kwargs)
    model.learn(timesteps)
    return [param.detach().clone() for param in model.policy.parameters()]


def test_tiny_target_kl_stops_after_the_reinforce_step():
    plain = weights_after(400)
    stopped = weights_after(400, n_epochs=5, target_kl=1e-12)
    for a, b in zip(plain, stopped, strict=True):
        assert th.equal(a, b)


@pytest.mark.parametrize("minibatch_size, steps_per_epoch", [(None, 1), (32, None)])
def test_more_epochs_take_more_steps(minibatch_size, steps_per_epoch):
    model = Reinforce(
        "MlpPolicy", "CartPole-v1", n_episodes=4, seed=3, n_epochs=3, minibatch_size=minibatch_size, baseline="value"
    )
    model.learn(300)
    n_steps = model.rollout_buffer.n_steps
    steps_per_epoch = steps_per_epoch or -(-n_steps // minibatch_size)
    assert model.logger.name_to_value["train/policy_steps"] == 1 + 2 * steps_per_epoch
    assert model.logger.name_to_value["train/approx_kl"] > 0
    assert not all(
        th.equal(a, b) for a, b in zip(weights_after(300, baseline="value"), model.policy.parameters(), strict=True)
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_epochs=0), ValueError, "n_epochs"),
        (dict(n_epochs=2.5), TypeError, "n_epochs"),
        (dict(minibatch_size=0), ValueError, "minibatch_size"),
        (dict(target_kl=0.0), ValueError, "target_kl"),
        (dict(target_kl="0.01"), TypeError, "target_kl"),
    ],
)
def test_bad_epoch_settings_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        Reinforce("MlpPolicy", "CartPole-v1", **kwargs)


def test_critic_passes_use_the_minibatches():
    """The critic's extra passes (critic_epochs) step once per minibatch, as the policy's importance-weighted passes."""
    model = Reinforce(
        "MlpPolicy", "CartPole-v1", n_episodes=4, seed=3, baseline="value", n_epochs=2, critic_epochs=3, minibatch_size=32
    )
    model.learn(10)  # one update
    per_pass = -(-model.rollout_buffer.n_steps // 32)
    value_weight = model.policy.value_net.weight
    # The joint REINFORCE step, one joint pass of importance-weighted steps, then two passes of the critic alone
    assert model.policy.optimizer.state[value_weight]["step"].item() == 1 + per_pass + 2 * per_pass
