"""Gymnasium wrappers: Bernoulli-to-continuous actions and reward shaping."""

from sb3_reinforce.wrappers.bernoulli_action import BernoulliToContinuous
from sb3_reinforce.wrappers.reward_shaping import (
    MOUNTAIN_CAR_ENERGY_SCALE,
    POTENTIAL_PRESETS,
    SHAPING_KEY,
    SHAPING_PRESETS,
    TRUE_EPISODE_KEY,
    TRUE_REWARD_KEY,
    PotentialFn,
    PotentialShaping,
    RewardShaping,
    ShapingFn,
    mountain_car_energy,
    no_shaping,
    seed_shaping,
    zero_potential,
)

__all__ = [
    "MOUNTAIN_CAR_ENERGY_SCALE",
    "POTENTIAL_PRESETS",
    "SHAPING_KEY",
    "SHAPING_PRESETS",
    "TRUE_EPISODE_KEY",
    "TRUE_REWARD_KEY",
    "BernoulliToContinuous",
    "PotentialFn",
    "PotentialShaping",
    "RewardShaping",
    "ShapingFn",
    "mountain_car_energy",
    "no_shaping",
    "seed_shaping",
    "zero_potential",
]
