"""Generic Gymnasium wrappers: Bernoulli-to-continuous actions and reward shaping that keeps the true reward."""

from sb3_reinforce.wrappers.bernoulli_action import BernoulliToContinuous
from sb3_reinforce.wrappers.reward_shaping import (
    SHAPING_KEY,
    TRUE_EPISODE_KEY,
    TRUE_REWARD_KEY,
    PotentialShaping,
    RewardShaping,
)

__all__ = [
    "SHAPING_KEY",
    "TRUE_EPISODE_KEY",
    "TRUE_REWARD_KEY",
    "BernoulliToContinuous",
    "PotentialShaping",
    "RewardShaping",
]
