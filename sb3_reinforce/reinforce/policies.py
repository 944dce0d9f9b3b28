"""Policies for REINFORCE: SB3's actor-critic policies with a lean action sampler for rollouts."""

from __future__ import annotations

import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    MultiInputActorCriticPolicy,
)
from stable_baselines3.common.type_aliases import PyTorchObs


def sample_actions(policy: ActorCriticPolicy, obs: PyTorchObs) -> th.Tensor:
    """
    Sample actions from the policy, for rollouts only (no gradient, no log-probability, no value).

    REINFORCE needs neither log-probabilities nor values while acting: both are recomputed, with gradients,
    on the whole batch of episodes in ``train()``. Skipping them, and sampling the four common distributions
    straight from their parameters instead of building ``torch.distributions`` objects, roughly halves the
    cost of the per-step policy call, which bounds the training speed on cheap envs.
    The actions follow exactly the distributions of ``policy.get_distribution(obs)``;
    gSDE, other distributions and policy subclasses take that generic path.

    :param policy: The actor-critic policy
    :param obs: Observations, already converted to tensors
    :return: The sampled actions, as ``policy.get_distribution(obs).get_actions()`` returns them
    """
    dist = policy.action_dist
    # Subclasses may change how the distribution is built (action masking, custom heads): respect them
    if type(policy) not in _STOCK_POLICIES or policy.use_sde or type(dist) not in _FAST_SAMPLERS:
        return policy.get_distribution(obs).get_actions()
    features = super(ActorCriticPolicy, policy).extract_features(obs, policy.pi_features_extractor)
    latent_pi = policy.mlp_extractor.forward_actor(features)
    params = policy.action_net(latent_pi)
    if isinstance(dist, CategoricalDistribution):
        return th.multinomial(th.softmax(params, dim=-1), 1).squeeze(-1)
    if isinstance(dist, MultiCategoricalDistribution):
        splits = th.split(params, list(dist.action_dims), dim=1)
        return th.cat([th.multinomial(th.softmax(logits, dim=-1), 1) for logits in splits], dim=1)
    if isinstance(dist, BernoulliDistribution):
        return th.bernoulli(th.sigmoid(params))
    # Diagonal Gaussian: the action net outputs the mean, the std is a state-independent parameter
    return params + th.randn_like(params) * policy.log_std.exp()


_FAST_SAMPLERS = (CategoricalDistribution, MultiCategoricalDistribution, BernoulliDistribution, DiagGaussianDistribution)
_STOCK_POLICIES = (ActorCriticPolicy, ActorCriticCnnPolicy, MultiInputActorCriticPolicy)

MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy
MultiInputPolicy = MultiInputActorCriticPolicy
