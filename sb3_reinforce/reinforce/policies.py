"""Policies for REINFORCE: SB3's actor-critic policies (the actor is compiled for rollouts by ``actor.py``)."""

from stable_baselines3.common.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from torch import nn

MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy
MultiInputPolicy = MultiInputActorCriticPolicy


def actor_and_critic_parameters(policy: ActorCriticPolicy) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The parameters of the actor (with any part shared with the critic) and those of the critic alone."""
    critic_modules = [policy.value_net, policy.mlp_extractor.value_net]
    if not policy.share_features_extractor:
        critic_modules.append(policy.vf_features_extractor)
    critic_ids = {id(p) for module in critic_modules for p in module.parameters()}
    actor = [p for p in policy.parameters() if id(p) not in critic_ids]
    critic = [p for p in policy.parameters() if id(p) in critic_ids]
    return actor, critic
