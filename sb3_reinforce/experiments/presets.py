"""
Named recipes: an env setup, the algorithm's hyperparameters and a training budget.

:data:`PRESETS` is the one registry; ``python -m sb3_reinforce train --preset NAME``, the examples and the benchmark
read it. It holds two kinds of recipe:

* **each env's tuned entry**, named by its env id (``"CartPole-v1"``, ...), read from RL Zoo's file ``reinforce.yml``
  (:mod:`sb3_reinforce.experiments.zoo_entries`): the zoo and the command line train the same recipe, written once.
  ``--env E`` alone trains it. To tune or add one, edit the yml;
* **variants** of the seed notebook's MountainCar experiment, defined below: the notebook as written, and the
  Bernoulli and gSDE recipes that fix it. To add one, add an entry (hyperparameters JSON-friendly: see
  :mod:`sb3_reinforce.experiments.config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sb3_reinforce.experiments.envs import EnvSetup
from sb3_reinforce.experiments.mountain_car import MOUNTAIN_CAR
from sb3_reinforce.experiments.zoo_entries import zoo_presets

__all__ = ["ALIASES", "DEFAULT_PRESET", "NO_PRESET", "PRESETS", "Preset"]


@dataclass
class Preset:
    """
    A named recipe.

    :param description: One line for ``--help``
    :param setup: The env as the agent sees it during training
    :param hyperparams: Constructor arguments of the algorithm (JSON-friendly)
    :param timesteps: Training budget (env steps)
    :param n_envs: Number of training envs
    :param algo: The algorithm the hyperparameters are for (a key of :data:`~sb3_reinforce.experiments.config.ALGOS`)
    """

    description: str
    setup: EnvSetup
    hyperparams: dict[str, Any] = field(default_factory=dict)
    timesteps: int = 100_000
    n_envs: int = 1
    algo: str = "reinforce"


#: The preset of a run that names neither a preset nor an env.
DEFAULT_PRESET = "solved"
#: ``--preset none``: no recipe, the env's plain setup and the algorithm's default hyperparameters.
NO_PRESET = "none"

#: Every env's tuned entry of ``reinforce.yml``, by env id
ENV_PRESETS: dict[str, Preset] = zoo_presets()
_CONTINUOUS = ENV_PRESETS[MOUNTAIN_CAR]

PRESETS: dict[str, Preset] = {
    "notebook": Preset(
        description="The seed notebook as written: 0/+1 Bernoulli actions, 0.1*x^2 reward, 200-step episodes",
        setup=EnvSetup(
            MOUNTAIN_CAR, actions="bernoulli", action_low=0.0, action_high=1.0, shaping="seed", max_episode_steps=200
        ),
        hyperparams=dict(
            learning_rate=0.01,
            n_episodes=10,
            gamma=0.95,
            baseline="none",
            normalize_returns=True,
            n_epochs=1,  # one gradient step per batch, as the notebook
            ent_coef=0.0,
            normalize_observations=False,
            max_grad_norm=1e6,  # the notebook did not clip gradients
            policy_kwargs="notebook",
        ),
        timesteps=200_000,  # the notebook's 100 iterations x 10 episodes x 200 steps
    ),
    "solved": Preset(
        description="The fixed recipe: -1/+1 Bernoulli actions, energy potential shaping, value baseline",
        setup=EnvSetup(MOUNTAIN_CAR, actions="bernoulli", shaping="energy", max_episode_steps=200, normalize_obs=True),
        hyperparams=dict(
            # Small batches and a high lr find the climb fast (>= 90 from <= 15k steps); the decay to 0 holds it
            learning_rate="lin_0.01",
            n_episodes=5,
            gamma=0.99,
            baseline="value",
            gae_lambda=1.0,  # Monte-Carlo advantages
            # Five critic steps per batch: a baseline that keeps up with a policy changing every 5 episodes
            critic_epochs=5,
            n_epochs=1,  # plain REINFORCE: one policy step per batch
            minibatch_size=None,  # the critic's passes on the whole batch
            normalize_returns=True,
            ent_coef=0.0,
            normalize_observations=False,
            max_grad_norm=10.0,
        ),
        timesteps=50_000,
    ),
    "solved-gsde": Preset(
        description="MountainCarContinuous-v0's entry with gSDE exploration, a new noise matrix every step",
        setup=_CONTINUOUS.setup,
        # gSDE's std is sigma * |z(s)| over the 64 latent features: with log_std_init -3 it starts at 0.04-0.18 across
        # states (mean 0.11), close to the Gaussian entry's 0.135
        hyperparams={
            **_CONTINUOUS.hyperparams,
            "use_sde": True,
            "sde_sample_freq": 1,
            "policy_kwargs": dict(log_std_init=-3.0),
        },
        timesteps=_CONTINUOUS.timesteps,
    ),
    **ENV_PRESETS,
}

#: Older names of env entries, kept working: ``--preset cartpole`` is ``--env CartPole-v1``
ALIASES = {"cartpole": "CartPole-v1", "solved-continuous": MOUNTAIN_CAR}
PRESETS.update({alias: PRESETS[env_id] for alias, env_id in ALIASES.items()})
