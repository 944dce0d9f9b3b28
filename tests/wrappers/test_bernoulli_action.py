from __future__ import annotations

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

from sb3_reinforce.wrappers import BernoulliToContinuous


class BoxActionEnv(gym.Env[np.ndarray, np.ndarray]):
    """Tiny env with a ``Box(shape)`` action space in ``[low, high]``; records the last action it received."""

    def __init__(self, shape: tuple[int, ...] = (3,), low: float = -2.0, high: float = 3.0) -> None:
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Box(low, high, shape, np.float32)
        self.last_action: np.ndarray | None = None
        self._steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._steps = 0
        return self.np_random.uniform(-1.0, 1.0, size=2).astype(np.float32), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.last_action = np.array(action, copy=True)
        self._steps += 1
        obs = self.np_random.uniform(-1.0, 1.0, size=2).astype(np.float32)
        return obs, float(np.sum(action)), False, self._steps >= 10, {}


class ActionSpy(gym.Wrapper[np.ndarray, np.ndarray, np.ndarray, np.ndarray]):
    """Records the action that reaches the inner environment."""

    def __init__(self, env: gym.Env[np.ndarray, np.ndarray]) -> None:
        super().__init__(env)
        self.actions: list[np.ndarray] = []

    def step(self, action: np.ndarray) -> Any:
        self.actions.append(np.array(action, copy=True))
        return self.env.step(action)


def make_spied(**kwargs: Any) -> tuple[BernoulliToContinuous, ActionSpy]:
    spy = ActionSpy(gym.make("MountainCarContinuous-v0"))
    return BernoulliToContinuous(spy, **kwargs), spy


def test_mountain_car_bang_bang() -> None:
    env, spy = make_spied()
    assert env.action_space == spaces.MultiBinary(1)
    assert env.observation_space == spy.observation_space
    env.reset(seed=0)
    env.step(np.array([1]))
    env.step(np.array([0]))
    assert [a.tolist() for a in spy.actions] == [[1.0], [-1.0]]
    assert all(a.dtype == np.float32 for a in spy.actions)


def test_notebook_mapping() -> None:
    env, spy = make_spied(low=0.0, high=1.0)
    env.reset(seed=0)
    env.step(np.array([0]))
    env.step(np.array([1]))
    assert [a.tolist() for a in spy.actions] == [[0.0], [1.0]]


def test_discrete_mode() -> None:
    env, spy = make_spied(discrete=True)
    assert env.action_space == spaces.Discrete(2)
    env.reset(seed=0)
    for action in (1, np.int64(0), np.array(1), np.array([0])):
        env.step(action)
    assert [a.tolist() for a in spy.actions] == [[1.0], [-1.0], [1.0], [-1.0]]


@pytest.mark.parametrize(
    "action",
    [
        1,
        True,
        np.int64(1),
        np.array(1),
        np.array([1]),
        np.array([1], dtype=np.int8),
        np.array([1.0], dtype=np.float32),
        [1],
        [1.0],
    ],
)
def test_accepted_action_forms(action: Any) -> None:
    env, _ = make_spied()
    assert env.action(action).tolist() == [1.0]


@pytest.mark.parametrize(
    "make_env, kwargs",
    [
        (lambda: gym.make("MountainCarContinuous-v0"), {}),
        (lambda: gym.make("MountainCarContinuous-v0"), {"low": 0.0, "high": 1.0}),
        (lambda: gym.make("MountainCarContinuous-v0"), {"discrete": True}),
        (lambda: gym.make("Pendulum-v1"), {}),
        (lambda: gym.make("Pendulum-v1"), {"discrete": True}),
        (BoxActionEnv, {}),
        (BoxActionEnv, {"low": [-1.0, 0.0, 0.5], "high": 2.0}),
    ],
)
def test_check_env(make_env: Any, kwargs: dict[str, Any]) -> None:
    check_env(BernoulliToContinuous(make_env(), **kwargs))


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_bit_mapping_property(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 5), label="n")
    bound = st.floats(-2.0, 3.0, width=32)
    scalar_or_array = st.one_of(bound, st.lists(bound, min_size=n, max_size=n))
    low = data.draw(scalar_or_array, label="low")
    high = data.draw(scalar_or_array, label="high")
    bits = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n), label="bits"))
    dtype = data.draw(st.sampled_from([np.int8, np.int64, np.float32, np.float64, np.bool_]), label="dtype")

    inner = BoxActionEnv((n,))
    env = BernoulliToContinuous(inner, low=low, high=high)
    assert env.action_space == spaces.MultiBinary(n)
    env.reset(seed=0)
    env.step(bits.astype(dtype))

    expected = np.where(bits == 1, np.broadcast_to(high, (n,)), np.broadcast_to(low, (n,))).astype(np.float32)
    assert inner.last_action is not None
    assert inner.last_action.dtype == np.float32
    np.testing.assert_array_equal(inner.last_action, expected)
    assert inner.action_space.contains(inner.last_action)


@pytest.mark.parametrize(
    "make_env, kwargs, error, match",
    [
        (lambda: gym.make("CartPole-v1"), {}, TypeError, "requires a Box action space, got Discrete"),
        (lambda: BoxActionEnv(low=-np.inf, high=np.inf), {}, ValueError, "unbounded"),
        (lambda: BoxActionEnv(low=-np.inf, high=np.inf), {"low": 0.0}, ValueError, "unbounded.*high"),
        (lambda: BoxActionEnv((2, 2)), {}, ValueError, "one-dimensional"),
        (lambda: BoxActionEnv((3,)), {"discrete": True}, ValueError, "single dimension"),
        (lambda: BoxActionEnv((3,)), {"low": [0.0, 1.0]}, ValueError, r"shape \(3,\).*\[0.0, 1.0\]"),
        (lambda: BoxActionEnv((3,)), {"high": [[1.0, 1.0, 1.0]]}, ValueError, r"shape \(3,\), got \[\[1\.0, 1\.0, 1\.0\]\]"),
        (lambda: BoxActionEnv((3,)), {"low": -5.0}, ValueError, "`low`=-5.0 lies outside"),
        (lambda: BoxActionEnv((3,)), {"high": [0.0, 0.0, 3.5]}, ValueError, r"`high`=\[0.0, 0.0, 3.5\] lies outside"),
        (lambda: BoxActionEnv((3,)), {"low": np.nan}, ValueError, "finite.*nan"),
        (lambda: BoxActionEnv((3,)), {"high": "big"}, ValueError, "'big'"),
        (lambda: gym.make("MountainCarContinuous-v0"), {"low": -1.5}, ValueError, "`low`=-1.5 lies outside"),
    ],
)
def test_bad_arguments(make_env: Any, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        BernoulliToContinuous(make_env(), **kwargs)


@pytest.mark.parametrize(
    "n, discrete, action, match",
    [
        (1, False, np.array([2]), r"array\(\[2\]\).*outside \{0, 1\}"),
        (1, False, np.array([0.5]), r"0\.5"),
        (1, False, -1, "-1"),
        (1, False, np.array([np.nan]), "nan"),
        (1, False, np.array([1, 0]), r"shape \(2,\)"),
        (1, False, np.array([[1]]), r"shape \(1, 1\)"),
        (3, False, np.array([1, 0]), r"shape \(3,\).*got shape \(2,\)"),
        (3, False, 1, r"got shape \(\)"),
        (3, False, [1, 0, 2], r"\[1, 0, 2\]"),
        (3, False, ["a", "b", "c"], r"\['a', 'b', 'c'\].*got dtype <U1"),
        (1, True, 2, r"Invalid action 2: expected 0 or 1 for the Discrete\(2\)"),
        (1, True, [1, 0], r"Invalid action \[1, 0\]: .*Discrete\(2\).*got shape \(2,\)"),
    ],
)
def test_bad_actions(n: int, discrete: bool, action: Any, match: str) -> None:
    env = BernoulliToContinuous(BoxActionEnv((n,)), discrete=discrete)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(action)


def test_pickle_round_trip() -> None:
    env = BernoulliToContinuous(gym.make("MountainCarContinuous-v0"), low=np.array([0.0]), high=1.0)
    env.reset(seed=3)
    clone = pickle.loads(pickle.dumps(env))
    assert isinstance(clone, BernoulliToContinuous)
    assert clone.action_space == spaces.MultiBinary(1)
    for bits in ([1], [0], [1]):
        expected = env.step(np.array(bits))
        result = clone.step(np.array(bits))
        np.testing.assert_array_equal(result[0], expected[0])
        assert result[1:4] == expected[1:4]


def test_spec_reconstruction() -> None:
    env = BernoulliToContinuous(gym.make("MountainCarContinuous-v0"), low=np.array([0.0]), high=1.0, discrete=True)
    assert env.spec is not None
    wrapper_spec = env.spec.additional_wrappers[-1]
    assert wrapper_spec.entry_point == "sb3_reinforce.wrappers.bernoulli_action:BernoulliToContinuous"
    # numpy bounds are recorded as plain lists / floats, so the spec also survives JSON
    assert wrapper_spec.kwargs == {"low": [0.0], "high": 1.0, "discrete": True}
    for spec in (env.spec, EnvSpec.from_json(env.spec.to_json())):
        rebuilt = gym.make(spec)
        assert isinstance(rebuilt, BernoulliToContinuous)
        assert rebuilt.action_space == spaces.Discrete(2)
        assert rebuilt.observation_space == env.observation_space
        np.testing.assert_array_equal(rebuilt.low, env.low)


def test_register_additional_wrappers() -> None:
    env_id = "TestBangBangMountainCar-v0"
    gym.register(
        env_id,
        entry_point="gymnasium.envs.classic_control:Continuous_MountainCarEnv",
        max_episode_steps=20,
        additional_wrappers=(BernoulliToContinuous.wrapper_spec(low=None, high=None, discrete=False),),
    )
    try:
        env = gym.make(env_id)
        assert isinstance(env, BernoulliToContinuous)
        assert env.action_space == spaces.MultiBinary(1)
        env.reset(seed=0)
        env.step(np.array([1]))
    finally:
        del gym.registry[env_id]


def test_make_vec_env() -> None:
    vec_env = make_vec_env(
        "MountainCarContinuous-v0", n_envs=2, seed=0, wrapper_class=BernoulliToContinuous, wrapper_kwargs={"low": 0.0}
    )
    assert vec_env.action_space == spaces.MultiBinary(1)
    vec_env.reset()
    _, rewards, _, _ = vec_env.step(np.array([[1], [0]], dtype=np.int8))
    # MountainCarContinuous costs 0.1 * action**2 per step: 0.1 for +1.0, nothing for low=0.0
    np.testing.assert_allclose(rewards, [-0.1, 0.0])
    vec_env.close()
