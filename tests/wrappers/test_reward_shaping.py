from __future__ import annotations

import functools
import math
import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv

import sb3_reinforce.wrappers
from sb3_reinforce.experiments.mountain_car import (
    ENERGY_SCALE,
    energy_shaping,
    mechanical_energy,
    notebook_reward,
    notebook_shaping,
)
from sb3_reinforce.wrappers import (
    SHAPING_KEY,
    TRUE_EPISODE_KEY,
    TRUE_REWARD_KEY,
    BernoulliToContinuous,
    PotentialShaping,
    RewardShaping,
)

# Import paths: the wrappers' constructor arguments stay JSON-friendly (env.spec.to_json, gymnasium.register)
NOTEBOOK_REWARD_PATH = "sb3_reinforce.experiments.mountain_car:notebook_reward"
ENERGY_PATH = "sb3_reinforce.experiments.mountain_car:mechanical_energy"

RIGHT = np.array([1.0], dtype=np.float32)


class CounterEnv(gym.Env[np.ndarray, int]):
    """Deterministic env: obs = [t], reward 1 per step, terminates after ``length`` steps. No ``gym.make`` wrappers."""

    def __init__(self, length: int = 3) -> None:
        self.observation_space = spaces.Box(0.0, 100.0, (1,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.length = length
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._t = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self._t += 1
        return np.array([self._t], dtype=np.float32), 1.0, self._t >= self.length, False, {}


def mountain_car(max_episode_steps: int = 50) -> gym.Env:
    return gym.make("MountainCarContinuous-v0", max_episode_steps=max_episode_steps)


def zero_shaping(*_: Any) -> float:
    return 0.0


def test_wrappers_are_generic() -> None:
    # The package exports the classes and the info keys; MountainCar knowledge lives in experiments/mountain_car.py
    assert set(sb3_reinforce.wrappers.__all__) == {
        "BernoulliToContinuous",
        "PotentialShaping",
        "RewardShaping",
        "SHAPING_KEY",
        "TRUE_EPISODE_KEY",
        "TRUE_REWARD_KEY",
    }
    assert (TRUE_REWARD_KEY, SHAPING_KEY, TRUE_EPISODE_KEY) == ("true_reward", "shaping", "true_episode")
    assert RewardShaping(mountain_car(), NOTEBOOK_REWARD_PATH).shaping_fn is notebook_reward
    assert PotentialShaping(mountain_car(), ENERGY_PATH, gamma=0.9).potential_fn is mechanical_energy


def test_seed_preset_reproduces_notebook() -> None:
    env = notebook_shaping(mountain_car())
    assert isinstance(env, RewardShaping)
    assert env.mode == "replace"
    twin = mountain_car()  # the same env without shaping, to check the true reward
    env.reset(seed=1)
    twin.reset(seed=1)
    env.action_space.seed(1)
    for _ in range(20):
        action = env.action_space.sample()
        next_obs, reward, _, _, info = env.step(action)
        _, twin_reward, _, _, _ = twin.step(action)
        assert reward == 0.1 * float(next_obs[0]) ** 2
        assert reward == math.pow(next_obs[0], 2) * 0.1  # the notebook's calculate_reward(obs[0])
        assert info[SHAPING_KEY] == reward
        assert info[TRUE_REWARD_KEY] == twin_reward


@pytest.mark.parametrize(
    "shaping, mode, expected_mode",
    [
        (notebook_reward, "replace", "replace"),
        (notebook_reward, "add", "add"),
        (zero_shaping, None, "add"),
        (notebook_reward, None, "add"),
        (zero_shaping, "replace", "replace"),
    ],
)
def test_mode_defaults(shaping: Any, mode: str | None, expected_mode: str) -> None:
    env = RewardShaping(mountain_car(), shaping) if mode is None else RewardShaping(mountain_car(), shaping, mode=mode)
    assert env.mode == expected_mode
    env.reset(seed=0)
    next_obs, reward, _, _, info = env.step(RIGHT)
    term = notebook_reward(None, None, next_obs, 0.0, False, False, {}) if shaping is notebook_reward else 0.0
    assert info[SHAPING_KEY] == term
    assert reward == pytest.approx(term if expected_mode == "replace" else info[TRUE_REWARD_KEY] + term)


def test_shaping_receives_transition() -> None:
    calls: list[tuple[Any, ...]] = []

    def shaping(*args: Any) -> float:
        calls.append(args)
        return 0.5

    env = RewardShaping(CounterEnv(length=2), shaping)
    env.reset()
    env.step(1)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == 1.5 and info[TRUE_REWARD_KEY] == 1.0
    (obs0, a0, next0, r0, term0, trunc0, _), (obs1, a1, next1, _, term1, _, _) = calls
    assert (obs0[0], a0, next0[0], r0, term0, trunc0) == (0.0, 1, 1.0, 1.0, False, False)
    assert (obs1[0], a1, next1[0], term1) == (1.0, 0, 2.0, True)
    assert env.last_obs is not None and env.last_obs[0] == 2.0


def test_stacked_wrappers_keep_innermost_true_reward() -> None:
    inner = RewardShaping(CounterEnv(length=2), lambda *_: 10.0)
    env = PotentialShaping(inner, lambda obs: float(obs[0]), gamma=1.0)
    env.reset()
    _, reward, _, _, info = env.step(0)
    assert info[TRUE_REWARD_KEY] == 1.0
    assert info[SHAPING_KEY] == 1.0  # the outermost term: phi(1) - phi(0)
    assert reward == 1.0 + 10.0 + 1.0
    _, _, terminated, _, info = env.step(0)
    assert terminated
    assert info[TRUE_EPISODE_KEY] == {"r": 2.0, "l": 2}


def test_true_episode_statistics_match_monitor() -> None:
    vec_env = make_vec_env(
        "MountainCarContinuous-v0",
        n_envs=1,
        seed=0,
        env_kwargs={"max_episode_steps": 30},
        wrapper_class=notebook_shaping,
    )
    vec_env.reset()
    true_rewards, shaped_rewards = [], []
    for _ in range(30):
        _, rewards, dones, infos = vec_env.step(np.array([[0.5]]))
        true_rewards.append(infos[0][TRUE_REWARD_KEY])
        shaped_rewards.append(float(rewards[0]))
        assert (TRUE_EPISODE_KEY in infos[0]) == bool(dones[0])
    assert dones[0]
    true_episode = infos[0][TRUE_EPISODE_KEY]
    assert true_episode["l"] == 30
    assert true_episode["r"] == pytest.approx(sum(true_rewards)) == pytest.approx(-0.1 * 0.25 * 30)
    # make_vec_env puts Monitor *inside* wrapper_class: its "episode" is the true return as well
    assert infos[0]["episode"]["r"] == pytest.approx(true_episode["r"], abs=1e-5)
    assert sum(shaped_rewards) > 0.0
    vec_env.close()


@settings(max_examples=20, deadline=None)
@given(gamma=st.floats(0.0, 1.0), seed=st.integers(0, 2**16), near_goal=st.booleans())
def test_potential_shaping_telescopes(gamma: float, seed: int, near_goal: bool) -> None:
    env = energy_shaping(mountain_car(50), gamma=gamma)
    assert isinstance(env, PotentialShaping)
    # Starting just below the goal and pushing right terminates; random actions from the valley get truncated
    obs, _ = env.reset(seed=seed, options={"low": 0.40, "high": 0.44} if near_goal else None)
    phi_0 = env.phi(obs)
    env.action_space.seed(seed)
    discounted_sum, t = 0.0, 0
    terminated = truncated = False
    while not (terminated or truncated):
        action = RIGHT if near_goal else env.action_space.sample()
        obs, reward, terminated, truncated, info = env.step(action)
        assert reward == pytest.approx(info[TRUE_REWARD_KEY] + info[SHAPING_KEY])
        discounted_sum += gamma**t * info[SHAPING_KEY]
        t += 1
    assert terminated == near_goal
    phi_T = 0.0 if terminated else env.phi(obs)
    assert discounted_sum == pytest.approx(gamma**t * phi_T - phi_0, rel=1e-9, abs=1e-9)


def test_energy_preset_scale() -> None:
    env = energy_shaping(mountain_car(), gamma=0.99)
    assert isinstance(env, PotentialShaping)
    assert env.scale == ENERGY_SCALE == 5000.0 and env.gamma == 0.99
    goal, valley = np.array([0.45, 0.0]), np.array([-math.pi / 6, 0.0])
    # By hand (ENERGY_SCALE's comment): 5000 * (0.0025 / 3) * (sin(3 * 0.45) - sin(-pi / 2)), about 8.2
    assert env.phi(goal) - env.phi(valley) == pytest.approx(5000 * 0.0025 / 3 * (math.sin(1.35) + 1), rel=1e-12)
    assert PotentialShaping(mountain_car(), mechanical_energy, gamma=0.99, scale=1.0).phi(goal) == mechanical_energy(goal)
    assert PotentialShaping(mountain_car(), mechanical_energy, gamma=0.99).scale == 1.0


@pytest.mark.parametrize(
    "make_wrapped",
    [
        lambda: notebook_shaping(mountain_car()),
        lambda: RewardShaping(gym.make("CartPole-v1"), zero_shaping),
        lambda: energy_shaping(mountain_car(), gamma=0.99),
        lambda: energy_shaping(BernoulliToContinuous(mountain_car()), gamma=0.99),
    ],
)
def test_check_env(make_wrapped: Any) -> None:
    check_env(make_wrapped())


def nan_shaping(*_: Any) -> float:
    return float("nan")


@pytest.mark.parametrize(
    "make_wrapped, error, match",
    [
        (
            lambda: RewardShaping(mountain_car(), "sed"),
            ValueError,
            "`shaping` must be a callable or an import.*'sed'",
        ),
        (lambda: PotentialShaping(mountain_car(), "enrgy", 0.9), ValueError, "`potential` must be.*got 'enrgy'"),
        (lambda: RewardShaping(mountain_car(), "no_such_module:fn"), ValueError, "'no_such_module:fn' cannot be imported"),
        (lambda: RewardShaping(mountain_car(), "math:pi"), TypeError, "'math:pi' names 3.14.*not callable"),
        (lambda: RewardShaping(mountain_car(), 0.1), TypeError, "`shaping` must be a callable.*got 0.1"),
        (lambda: PotentialShaping(mountain_car(), None, 0.9), TypeError, "got None"),
        (lambda: RewardShaping(mountain_car(), notebook_reward, mode="multiply"), ValueError, "'multiply'"),
        (
            lambda: notebook_shaping(gym.make("FrozenLake-v1")),
            ValueError,
            r"Box observation space of shape.*got Discrete",
        ),
        (lambda: energy_shaping(gym.make("CartPole-v1"), 0.9), ValueError, r"shape \(2,\).*\(4,\)"),
        (lambda: energy_shaping(mountain_car(), -0.1), ValueError, r"\[0, 1\], got -0.1"),
        (lambda: energy_shaping(mountain_car(), 1.5), ValueError, "got 1.5"),
        (lambda: energy_shaping(mountain_car(), float("nan")), ValueError, "got nan"),
        (lambda: PotentialShaping(mountain_car(), mechanical_energy, 0.9, scale=math.inf), ValueError, "scale.*inf"),
        # A value of the wrong type is named, not reported as a comparison between str and float
        (
            lambda: PotentialShaping(mountain_car(), mechanical_energy, gamma="x"),
            TypeError,
            "`gamma` must be a real number, got 'x'",
        ),
        (
            lambda: PotentialShaping(mountain_car(), mechanical_energy, 0.9, scale="2"),
            TypeError,
            "`scale` must be a real number",
        ),
        (lambda: PotentialShaping(mountain_car(), mechanical_energy, gamma=True), TypeError, "`gamma`.*got True"),
    ],
)
def test_bad_arguments(make_wrapped: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make_wrapped()


def test_non_finite_shaping_raises() -> None:
    env = RewardShaping(CounterEnv(), nan_shaping)
    env.reset()
    with pytest.raises(ValueError, match=r"shaping function returned a non-finite value nan for observation array\(\[1\.\]"):
        env.step(0)
    env = RewardShaping(CounterEnv(), lambda *_: np.array([1.0, 2.0]))
    env.reset()
    with pytest.raises(ValueError, match=r"must return a scalar, got array\(\[1\., 2\.\]\)"):
        env.step(0)


def test_non_finite_potential_raises() -> None:
    with pytest.raises(ValueError, match=r"potential returned a non-finite value inf for observation array\(\[0\.\]"):
        PotentialShaping(CounterEnv(), lambda obs: math.inf, gamma=0.9).reset()
    env = PotentialShaping(CounterEnv(), lambda obs: math.nan if obs[0] >= 2 else float(obs[0]), gamma=0.9)
    env.reset()
    env.step(0)
    with pytest.raises(ValueError, match=r"non-finite value nan for observation array\(\[2\.\]"):
        env.step(0)


def test_step_before_reset_raises() -> None:
    with pytest.raises(gym.error.ResetNeeded):
        RewardShaping(CounterEnv(), zero_shaping).step(0)


@pytest.mark.parametrize(
    "make_wrapped",
    [lambda: notebook_shaping(mountain_car()), lambda: energy_shaping(mountain_car(), gamma=0.9)],
)
def test_pickle_round_trip(make_wrapped: Any) -> None:
    env = make_wrapped()
    env.reset(seed=2)
    env.step(RIGHT)
    clone = pickle.loads(pickle.dumps(env))
    for _ in range(3):
        expected, result = env.step(RIGHT), clone.step(RIGHT)
        np.testing.assert_array_equal(result[0], expected[0])
        assert result[1:] == expected[1:]


@pytest.mark.parametrize(
    "make_wrapped",
    [
        lambda: RewardShaping(BernoulliToContinuous(mountain_car()), NOTEBOOK_REWARD_PATH, mode="add"),
        lambda: PotentialShaping(BernoulliToContinuous(mountain_car(), low=0.0), ENERGY_PATH, gamma=0.9, scale=100.0),
    ],
)
def test_spec_reconstruction(make_wrapped: Any) -> None:
    env = make_wrapped()
    for spec in (env.spec, EnvSpec.from_json(env.spec.to_json())):
        rebuilt = gym.make(spec)
        assert type(rebuilt) is type(env) and type(rebuilt.env) is BernoulliToContinuous
        assert rebuilt.action_space == env.action_space == spaces.MultiBinary(1)
        assert rebuilt.observation_space == env.observation_space
        assert rebuilt.spec.additional_wrappers == env.spec.additional_wrappers
        env.reset(seed=5)
        rebuilt.reset(seed=5)
        for bit in (1, 0, 1):
            assert rebuilt.step(np.array([bit]))[1:] == env.step(np.array([bit]))[1:]


def test_register_additional_wrappers() -> None:
    env_id = "TestShapedMountainCar-v0"
    gym.register(
        env_id,
        entry_point="gymnasium.envs.classic_control:Continuous_MountainCarEnv",
        max_episode_steps=20,
        additional_wrappers=(
            BernoulliToContinuous.wrapper_spec(low=None, high=None, discrete=False),
            PotentialShaping.wrapper_spec(potential=ENERGY_PATH, gamma=0.99, scale=ENERGY_SCALE),
        ),
    )
    try:
        env = gym.make(env_id)
        assert isinstance(env, PotentialShaping) and env.scale == ENERGY_SCALE
        env.reset(seed=0)
        assert SHAPING_KEY in env.step(np.array([1]))[4]
    finally:
        del gym.registry[env_id]


def test_subproc_vec_env_spawn() -> None:
    # The env factory and the wrapper (with a preset) must survive the trip to a "spawn" subprocess
    bang_bang = BernoulliToContinuous(mountain_car(4)).spec
    vec_env = make_vec_env(
        functools.partial(gym.make, bang_bang),
        n_envs=2,
        seed=0,
        wrapper_class=energy_shaping,  # the RL Zoo's env_wrapper form: a function of the env and keyword arguments
        wrapper_kwargs={"gamma": 0.99},
        vec_env_cls=SubprocVecEnv,
        vec_env_kwargs={"start_method": "spawn"},
    )
    try:
        assert vec_env.action_space == spaces.MultiBinary(1)
        vec_env.reset()
        for _ in range(4):
            _, _, dones, infos = vec_env.step(np.array([[1], [0]]))
        assert all(dones)
        assert [info[TRUE_EPISODE_KEY]["l"] for info in infos] == [4, 4]
        assert [info[TRUE_EPISODE_KEY]["r"] for info in infos] == pytest.approx([-0.4, -0.4])
    finally:
        vec_env.close()
