"""
Behaviour pinned across refactorings: the exact weights after a short ``learn`` for every baseline x action space x
``n_envs`` (and gSDE), recorded in ``tests/data/pinned_weights.npz`` before the core was redesigned (issue 20).

One change was made on purpose since: with ``baseline="group"`` and several envs, a group's episodes now play one after
the other in one env, seeded through ``VecEnv.seed`` (public API), instead of side by side in several envs seeded
through the VecEnv's private ``_seeds``; the four ``group-*-2`` entries were re-recorded then, and only they.

Re-recorded whole for exact resume (issue 21): every rollout now begins by resetting every env (except the first
after ``learn()``'s own reset), so that only generator states cross the point a run resumes from; an env's state after
a VecEnv's automatic reset cannot be restored. The previous batch ended on such resets (with one env, always), so every
entry changed (an extra reset per batch draws from the env's generator) but the group ones, whose waves already reset
their envs. The
``value_epochs`` entries (importance-weighted minibatch steps, ``n_epochs > 1``) were added then.

The ``preset-*`` entries (added with the defaults study, which changed ``Reinforce``'s defaults) pin every preset and
entry of ``reinforce.yml`` after 3000 steps: a preset that leaned on a default would change with it. They were
recorded after checking that each tuned preset trains bit-identically before and after that change (the untuned
starting points, LunarLander-v3 and the MuJoCo tasks, took the new defaults on purpose). ``preset-LunarLander-v3`` was
re-recorded when that entry became the defaults spelled out (the defaults study's winner), ``preset-Swimmer-v5``,
alone, when that entry took normalized rewards (its probes on tuning seed 0, ``tuning/probes/``), and
``preset-CartPole-v1``, alone, when that entry became the defaults too (10/10 tuning seeds at 500, ``tuning/probes/``).
The four presets with a ``lin_<x>`` learning rate whose last batch runs past the 3000 steps (``preset-Acrobot-v1``,
``preset-MountainCar-v0``, ``preset-MountainCarContinuous-v0``, ``preset-solved-gsde``), and only they, were re-recorded
when the progress remaining stopped at 0 instead of going negative there (a fixed bug: the last update's learning rate
was below 0). When the entropy bonus that fades became a default (0.2.0), every preset and entry that leaned on the
former default named it (``ent_coef=0.0``) and all of them trained bit-identically: nothing was re-recorded. When
observations normalized inside the policy and no entropy bonus became the defaults (0.3.0), they all named both
(``ent_coef=0.0, normalize_observations=False``) and this file passed unchanged.

**Across CPUs the weights are equal up to float rounding, not bit for bit**: the same versions of every package give
different float roundings on an Intel Xeon (where the file was recorded first) and an AMD EPYC (where it was recorded
since 2026-12-02), through the CPU-specific kernels of the matrix products. Measured on 2026-12-02: at most 4.2e-7
apart after the 120 steps of the ``configs()`` runs (weights of scale ~1), and two runs whose initial weights differ by
a relative 3e-7 end at most 1.9e-6 apart after a preset's 3000 steps. The comparisons allow 1e-5 and 1e-4, while
``gamma`` 0.98 instead of 0.99 moves the ``configs()`` weights by 1.2e-3 to 1.5e-2 (but for the group baseline, whose
equally long episodes make ``gamma`` cancel out). A preset is pinned by a fingerprint that tolerates rounding (the norm
of each tensor and 256 weights at fixed positions) rather than a digest of its bytes, recorded after checking on the
AMD machine that each preset's digest was the same before and after ``normalize_observations`` was added (d1f8d51
against the commit that added it).
On one machine the same seed still gives the same weights bit for bit (``test_entry_is_the_gae_candidate``).

**MuJoCo's physics differ between its releases by more than rounding**, and its tasks' contacts amplify any
difference over an episode: measured on 2026-12-03 (one AMD EPYC, the same packages but MuJoCo), the first norm of
``preset-HalfCheetah-v5`` came out 2.45074, 2.45160, 2.44980 and 2.45039 with MuJoCo 2.3.7, 3.1.6, 3.17.0 and 4.0.0,
none of them the recorded 2.45115 (weights up to 1.6e-2 apart; ``preset-Swimmer-v5`` failed the same way; Hopper-v5,
whose episodes end early, passed with 4.0.0). What these entries pin is the preset (its settings, wrappers and
normalization), not a physics engine's numbers, so the MuJoCo presets train on a stand-in (:func:`stand_in_env_id`):
an env with the task's spaces and time limit and :class:`~helpers.SpacesEnv`'s dynamics. Their entries were re-recorded
then, and only they, and pass with MuJoCo 3.17.0 and 4.0.0 alike.

A change that alters the training maths fails here on purpose. If the change is meant to (a new default, a fixed
bug), re-record the file and say why in the commit: ``python tests/test_pinned_weights.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_reinforce import PLAIN_REINFORCE, Reinforce
from sb3_reinforce.experiments.config import make_config
from sb3_reinforce.experiments.envs import make_train_env
from sb3_reinforce.experiments.presets import ALIASES, PRESETS
from sb3_reinforce.experiments.run import build_model

from helpers import BASELINE_SETTINGS, SpacesEnv, make_spaces_env, skip_without_env_extra

PINNED = Path(__file__).parent / "data" / "pinned_weights.npz"
BASELINES: dict[str, dict[str, Any]] = {
    **BASELINE_SETTINGS,
    "value_epochs": {
        "baseline": "value",
        "gae_lambda": 1.0,
        "critic_epochs": 1,
        "n_epochs": 3,
        "minibatch_size": 16,
        "target_kl": 0.1,
    },
}


def configs() -> Iterator[tuple[str, str, str, int, dict[str, Any]]]:
    for baseline in BASELINES:
        for action in ["discrete", "box", "multi_discrete", "multi_binary"]:
            for n_envs in (1, 2):
                yield f"{baseline}-{action}-{n_envs}", baseline, action, n_envs, {}
    for n_envs in (1, 2):
        yield f"value-box-{n_envs}-gsde", "value", "box", n_envs, {"use_sde": True, "sde_sample_freq": 1}
        yield f"none-box-{n_envs}-gsde-episode", "none", "box", n_envs, {"use_sde": True}


#: Presets pinned by their weights after PRESET_STEPS env steps of training (seed 0)
PINNED_PRESETS = [name for name in PRESETS if name not in ALIASES]
PRESET_STEPS = 3000
#: What float rounding on another CPU may move a weight by (the module's docstring): after ``configs()``'s runs, and in
#: a preset's fingerprint
CONFIG_TOLERANCE = 1e-5
PRESET_TOLERANCE = 1e-4


def stand_in_env_id(env_id: str) -> str:
    """
    Register (once) and return the id of a stand-in for a MuJoCo task: :class:`~helpers.SpacesEnv` with the task's
    observation and action spaces, never terminating, cut at the task's time limit (the module's docstring says why).
    """
    stand_in = f"PinnedStandIn-{env_id}"
    if stand_in not in gym.registry:
        task = gym.make(env_id)
        observation_space, action_space = task.observation_space, task.action_space
        task.close()
        gym.register(
            stand_in,
            entry_point=lambda: SpacesEnv(observation_space, action_space, ending="truncate"),
            max_episode_steps=gym.spec(env_id).max_episode_steps,
        )
    return stand_in


def preset_weights(name: str, defaults: dict[str, Any] | None = None) -> np.ndarray:
    """
    The fingerprint of the weights (the presets' networks are large): the norm of each tensor, then 256 weights at
    positions drawn once (seed 0); with ``defaults``, of ``Reinforce("MlpPolicy", env, **defaults)`` on the preset's
    env instead of the preset's model. A MuJoCo task's preset trains on its stand-in (:func:`stand_in_env_id`).
    """
    config = make_config(name, seed=0)
    if str(gym.spec(config.env_id).entry_point).startswith("gymnasium.envs.mujoco"):
        setup = dataclasses.replace(config.env_setup, env_id=stand_in_env_id(config.env_id))
        config = dataclasses.replace(config, env_setup=setup)
    env = make_train_env(config.env_setup, n_envs=config.n_envs, seed=config.seed, gamma=config.gamma)
    if defaults is None:
        model = build_model(config, env, device="cpu")
    else:
        model = Reinforce("MlpPolicy", env, seed=config.seed, device="cpu", **defaults)
    model.learn(PRESET_STEPS)
    tensors = [p.detach().numpy().ravel() for p in model.policy.parameters()]
    weights = np.concatenate(tensors)
    positions = np.sort(np.random.default_rng(0).choice(len(weights), size=min(256, len(weights)), replace=False))
    return np.concatenate([[np.linalg.norm(tensor) for tensor in tensors], weights[positions]])


def trained_weights(baseline: str, action: str, n_envs: int, extra: dict[str, Any]) -> np.ndarray:
    env = make_vec_env(make_spaces_env, n_envs=n_envs, env_kwargs={"action": action})
    model = Reinforce(
        "MlpPolicy",
        env,
        n_episodes=4,
        seed=7,
        **{
            **PLAIN_REINFORCE,  # the settings the weights were recorded with, whatever today's defaults
            "learning_rate": 0.01,
            "policy_kwargs": {"net_arch": [8]},
            **BASELINES[baseline],
            **extra,
        },
    )
    model.learn(120)
    return np.concatenate([p.detach().numpy().ravel() for p in model.policy.parameters()])


@pytest.mark.parametrize("name, baseline, action, n_envs, extra", list(configs()), ids=[c[0] for c in configs()])
def test_weights_are_bit_identical_to_the_pinned_ones(
    name: str, baseline: str, action: str, n_envs: int, extra: dict[str, Any]
) -> None:
    expected = np.load(PINNED)[name]
    weights = trained_weights(baseline, action, n_envs, extra)
    assert weights.shape == expected.shape
    np.testing.assert_allclose(weights, expected, rtol=0, atol=CONFIG_TOLERANCE)


@pytest.mark.parametrize("name", PINNED_PRESETS)
def test_presets_train_bit_identically(name: str) -> None:
    skip_without_env_extra(PRESETS[name].setup.env_id)
    expected = np.load(PINNED)[f"preset-{name}"]
    got = preset_weights(name)
    np.testing.assert_allclose(got, expected, rtol=0, atol=PRESET_TOLERANCE, err_msg=f"{name} trains differently")


#: Entries of reinforce.yml that are Reinforce's defaults spelled out but the entropy bonus and the normalization (their
#: comments say so): the defaults study's ``gae`` candidate, the defaults of 0.1.0 (tuning/defaults/)
ENTRIES_THAT_ARE_GAE = ["CartPole-v1", "LunarLander-v3"]


@pytest.mark.parametrize("env_id", ENTRIES_THAT_ARE_GAE)
def test_entry_is_the_gae_candidate(env_id: str) -> None:
    # The entry trains exactly as Reinforce("MlpPolicy", env, ent_coef=0.0, normalize_observations=False) does, so that
    # its runs and the study's on the same seed are the same runs
    skip_without_env_extra(env_id)
    gae = {"ent_coef": 0.0, "normalize_observations": False}
    assert np.array_equal(preset_weights(env_id), preset_weights(env_id, defaults=gae))


if __name__ == "__main__":
    pinned = {name: trained_weights(*args) for name, *args in configs()}
    pinned.update({f"preset-{name}": preset_weights(name) for name in PINNED_PRESETS})
    np.savez_compressed(PINNED, **pinned)
    print(f"recorded {PINNED}")
