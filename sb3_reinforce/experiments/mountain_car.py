"""
MountainCarContinuous-v0 knowledge of the seed notebook: its reward, the energy potential that fixes it, its policy.

The wrapper functions take an env and return it wrapped, so they plug into ``make_vec_env(wrapper_class=...)`` and
into an RL Zoo ``env_wrapper`` entry::

    MountainCarContinuous-v0:
      env_wrapper:
        - sb3_reinforce.experiments.mountain_car.energy_shaping: {gamma: 0.99}
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from sb3_reinforce.wrappers import PotentialShaping, RewardShaping

__all__ = [
    "ENERGY_SCALE",
    "MOUNTAIN_CAR",
    "energy_shaping",
    "mechanical_energy",
    "notebook_policy_kwargs",
    "notebook_reward",
    "notebook_shaping",
]

MOUNTAIN_CAR = "MountainCarContinuous-v0"

#: Scale of the energy potential. ``phi(goal at rest) - phi(valley bottom at rest)`` is then
#: ``5000 * 0.0025 / 3 * (sin(1.35) + 1) = 8.2``, and ``phi`` at the speed limit (``|v| = 0.07``) adds ``12.25``:
#: the same order of magnitude as the ``+100`` goal bonus spread over a ~100-step episode.
ENERGY_SCALE = 5000.0


def notebook_reward(
    obs: Any, action: Any, next_obs: Any, reward: float, terminated: bool, truncated: bool, info: dict[str, Any]
) -> float:
    """
    The seed notebook's MountainCar reward, ``0.1 * x**2`` with ``x = next_obs[0]``, the car position after the step.

    The reward grows with the distance to ``x = 0`` on either side, so it rewards swinging up either hill (and is
    larger on the left hill, 0.144 at x = -1.2, than at the flag, 0.02 at x = 0.45).

    >>> import numpy as np
    >>> notebook_reward(None, None, np.array([-0.5, 0.0]), 0.0, False, False, {})
    0.025
    """
    position = float(next_obs[0])
    return 0.1 * position**2


def mechanical_energy(obs: Any) -> float:
    """
    Mechanical energy per unit mass of the car, ``0.5 * v**2 + (0.0025 / 3) * sin(3 * x)``, for ``obs = [x, v]``.

    MountainCar's gravity term ``-0.0025 * cos(3 * x)`` derives from the height ``(0.0025 / 3) * sin(3 * x)``, so
    this energy only grows when the engine pumps it in.

    >>> math.isclose(mechanical_energy([-math.pi / 6, 0.0]), -0.0025 / 3)
    True
    """
    position, velocity = float(obs[0]), float(obs[1])
    return 0.5 * velocity**2 + (0.0025 / 3.0) * math.sin(3.0 * position)


def _check_position_velocity(env: gym.Env, what: str) -> None:
    space = env.observation_space
    if not (isinstance(space, spaces.Box) and space.shape == (2,)):
        raise ValueError(
            f"{what} is for MountainCar and needs a Box observation space of shape (2,) ([position, velocity]), got {space!r}"
        )


def notebook_shaping(env: gym.Env) -> gym.Env:
    """
    The notebook's reward: :func:`notebook_reward` *replacing* the env's reward (kept in ``info["true_reward"]``).

    :param env: A MountainCar env (observations ``[position, velocity]``)
    :return: The wrapped env
    :raises ValueError: If the observation space is not a ``Box`` of shape ``(2,)``
    """
    _check_position_velocity(env, "notebook_shaping")
    return RewardShaping(env, notebook_reward, mode="replace")


def energy_shaping(env: gym.Env, gamma: float = 0.99) -> gym.Env:
    """
    Potential-based shaping with the car's mechanical energy (scale :data:`ENERGY_SCALE`), added to the env's reward.

    :param env: A MountainCar env (observations ``[position, velocity]``)
    :param gamma: The discount factor of the algorithm that learns on the env (the shaping keeps its optimal policy
        only then)
    :return: ``PotentialShaping(env, mechanical_energy, gamma=gamma, scale=ENERGY_SCALE)``
    :raises ValueError: If the observation space is not a ``Box`` of shape ``(2,)``, or ``gamma`` is not in [0, 1]
    """
    _check_position_velocity(env, "energy_shaping")
    return PotentialShaping(env, mechanical_energy, gamma=gamma, scale=ENERGY_SCALE)


def notebook_policy_kwargs() -> dict[str, Any]:
    """10 ELU hidden units and a sigmoid (Bernoulli) output, as the Keras model of the notebook."""
    import torch as th

    return dict(net_arch=dict(pi=[10], vf=[10]), activation_fn=th.nn.ELU)
