"""
Bit-exact resume (``sb3_reinforce/reinforce/resume.py``, ``docs/resume.md``): ``learn(N)`` and ``learn(k)``, ``save``,
``load(env=fresh env)``, ``learn(N - num_timesteps, reset_num_timesteps=False)`` give the same weights, optimizer
state, logged values and episode statistics, for every baseline, action space, gSDE, 1 and 4 envs, ``DummyVecEnv`` and
``SubprocVecEnv``, with and without ``VecNormalize``, and several ``k``; checkpoints taken in a rollout resume it.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import KVWriter, Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecNormalize

from sb3_reinforce import Reinforce
from sb3_reinforce.common.schedules import LinearSchedule
from sb3_reinforce.reinforce import resume

from helpers import BASELINE_SETTINGS, make_spaces_env

TOTAL = 200
BASELINES = BASELINE_SETTINGS
ACTIONS = ["discrete", "box", "multi_discrete", "multi_binary"]
SPLITS = [0, 40, 90, 150]
FADING_BONUS = LinearSchedule(0.03)  # 0.2.0's default entropy bonus, a schedule over learn(TOTAL)
# Several envs wait for the batch's longest episode: the scheduler's warning about it is expected here
pytestmark = pytest.mark.filterwarnings("ignore:.*env steps were discarded")


class RecordLogs(KVWriter):
    """Every dump of the logger, without the wall-clock keys (``time/``: fps, elapsed time, iterations of this call)."""

    def __init__(self) -> None:
        self.dumps: list[dict[str, Any]] = []

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        self.dumps.append({"step": step, **{k: v for k, v in key_values.items() if not k.startswith("time/")}})

    def close(self) -> None:
        pass


def make_env(
    action: str = "discrete", n_envs: int = 1, normalize: bool = False, subproc: bool = False, **kwargs: Any
) -> VecEnv:
    env_kwargs = {"action": action, **kwargs}
    vec_env_cls = SubprocVecEnv if subproc else DummyVecEnv
    # fork: the envs' processes start in a few milliseconds (the default, forkserver, imports torch in each)
    vec_env_kwargs = {"start_method": "fork"} if subproc else None
    env = make_vec_env(make_spaces_env, n_envs, env_kwargs=env_kwargs, vec_env_cls=vec_env_cls, vec_env_kwargs=vec_env_kwargs)
    return VecNormalize(env, gamma=0.9) if normalize else env


def new_model(env: VecEnv, logs: RecordLogs, **kwargs: Any) -> Reinforce:
    """
    A small model with constant schedules (unless ``kwargs`` give one): a schedule spans one ``learn`` call, so a run
    split into ``learn(k)`` and ``learn(N - k)`` follows another schedule than ``learn(N)``, as in SB3.
    """
    policy = "MultiInputPolicy" if isinstance(env.observation_space, spaces.Dict) else "MlpPolicy"
    settings = {"n_episodes": 4, "gamma": 0.9, "seed": 7, "policy_kwargs": {"net_arch": [8]}, "learning_rate": 0.01}
    model = Reinforce(policy, env, **{**settings, "ent_coef": 0.0, **kwargs})
    model.set_logger(Logger(None, [logs]))
    return model


def resumed(model: Reinforce, checkpoint: bytes, env_factory: Callable[[], VecEnv], logs: RecordLogs, total: int) -> Reinforce:
    """Load ``checkpoint`` on a fresh env and train it to ``total`` steps, as a new process would."""
    model = Reinforce.load(io.BytesIO(checkpoint), env=env_factory())
    model.set_logger(Logger(None, [logs]))
    model.learn(total - model.num_timesteps, reset_num_timesteps=False)
    return model


def save_bytes(model: Reinforce) -> bytes:
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def assert_same_run(expected: Reinforce, got: Reinforce, expected_logs: RecordLogs, got_logs: RecordLogs) -> None:
    assert got.num_timesteps == expected.num_timesteps and got._n_updates == expected._n_updates
    for (name, want), have in zip(expected.policy.state_dict().items(), got.policy.state_dict().values(), strict=True):
        assert th.equal(want, have), f"{name}: max difference {(want - have).abs().max()}"
    want_opt, have_opt = expected.policy.optimizer.state_dict(), got.policy.optimizer.state_dict()
    assert want_opt["param_groups"] == have_opt["param_groups"]
    for key, state in want_opt["state"].items():
        for name, value in state.items():
            assert th.equal(value, have_opt["state"][key][name]), f"optimizer state {key}.{name}"
    episodes = [[(info["r"], info["l"]) for info in model.ep_info_buffer] for model in (expected, got)]
    assert episodes[0] == episodes[1]
    np.testing.assert_equal(got_logs.dumps, expected_logs.dumps)  # (NaN equals NaN here)


def check_resume(
    split: int,
    env_factory: Callable[[], VecEnv],
    total: int = TOTAL,
    resume_env_factory: Callable[[], VecEnv] | None = None,
    **kwargs: Any,
) -> None:
    expected_logs, got_logs = RecordLogs(), RecordLogs()
    expected = new_model(env_factory(), expected_logs, **kwargs).learn(total)
    first = new_model(env_factory(), got_logs, **kwargs).learn(split)
    got = resumed(first, save_bytes(first), resume_env_factory or env_factory, got_logs, total)
    assert_same_run(expected, got, expected_logs, got_logs)
    for model in (expected, first, got):
        model.get_env().close()  # type: ignore[union-attr]


def cases() -> list[Any]:
    params = []
    for i, (baseline, action) in enumerate((b, a) for b in BASELINES for a in ACTIONS):
        split = SPLITS[i % len(SPLITS)]
        params.append(pytest.param(baseline, action, 1, {}, split, id=f"{baseline}-{action}-1env-k{split}"))
    for i, baseline in enumerate(BASELINES):
        action = ACTIONS[i % len(ACTIONS)]
        params.append(pytest.param(baseline, action, 4, {}, 90, id=f"{baseline}-{action}-4envs"))
    for n_envs in (1, 4):
        params.append(pytest.param("value", "box", n_envs, {"use_sde": True, "sde_sample_freq": 2}, 90, id=f"gsde-{n_envs}"))
        params.append(pytest.param("none", "box", n_envs, {"use_sde": True}, 40, id=f"gsde-episode-{n_envs}"))
    return params


@pytest.mark.parametrize("baseline, action, n_envs, extra, split", cases())
def test_resume_is_bit_exact(baseline: str, action: str, n_envs: int, extra: dict[str, Any], split: int) -> None:
    check_resume(split, lambda: make_env(action, n_envs), **BASELINES[baseline], **extra)


@pytest.mark.parametrize("n_envs", [1, 4])
@pytest.mark.parametrize("baseline", ["mean", "group"])
def test_resume_with_vec_normalize(n_envs: int, baseline: str) -> None:
    check_resume(90, lambda: make_env("box", n_envs, normalize=True), **BASELINES[baseline])


@pytest.mark.parametrize("split", [1, 37, 120, 199, 260])
def test_resume_at_any_step(split: int) -> None:
    check_resume(split, lambda: make_env("multi_discrete", 2), total=260, baseline="value")


def test_resume_with_importance_weighted_epochs() -> None:
    # The epochs after the REINFORCE step shuffle their minibatches with the sampling-noise generator
    check_resume(90, lambda: make_env("box", 2), baseline="value", n_epochs=3, minibatch_size=8)


def test_resume_with_observation_normalizer() -> None:
    # Its running statistics are buffers of the policy: saved with it, they change only in train()
    check_resume(90, lambda: make_env("box", 2), baseline="value", normalize_observations=True)


def test_resume_with_dict_observations() -> None:
    check_resume(90, lambda: make_env("discrete", 2, observation="dict"), baseline="leave_one_out")


@pytest.mark.parametrize(
    "action, kwargs, normalize, subproc_run",
    [("discrete", {"baseline": "group", "group_size": 2}, False, True), ("box", {"use_sde": True}, True, False)],
    ids=["group-subproc-to-subproc", "gsde-vecnormalize-dummy-to-subproc"],
)
def test_resume_on_subproc_vec_env(action: str, kwargs: dict[str, Any], normalize: bool, subproc_run: bool) -> None:
    # The envs' state travels through get_attr/set_attr, whichever process they live in: a run on SubprocVecEnv is
    # the DummyVecEnv run, and either resumes on the other
    check_resume(
        90,
        lambda: make_env(action, 2, normalize=normalize, subproc=subproc_run),
        resume_env_factory=lambda: make_env(action, 2, normalize=normalize, subproc=True),
        **kwargs,
    )


class SaveAt(BaseCallback):
    """Save the model in the middle of a rollout (at its ``at_step``-th env step), as a checkpoint callback would."""

    def __init__(self, at_step: int, stop: bool = False) -> None:
        super().__init__()
        self.at_step, self.stop = at_step, stop
        self.checkpoint: bytes | None = None

    def _on_step(self) -> bool:
        if self.checkpoint is None and self.n_calls == self.at_step:
            self.checkpoint = save_bytes(self.model)  # type: ignore[arg-type]
            return not self.stop
        return True


def test_checkpoint_in_a_rollout_resumes_that_rollout() -> None:
    expected_logs, got_logs = RecordLogs(), RecordLogs()
    factory = lambda: make_env("box", 2, normalize=True)  # noqa: E731
    callback = SaveAt(at_step=33)  # saves, and training goes on
    # An entropy bonus that fades over learn(TOTAL): a checkpoint taken inside it resumes on the same schedule
    schedules = {"ent_coef": FADING_BONUS, "learning_rate": lambda progress: 0.01 * progress}
    expected = new_model(factory(), expected_logs, baseline="mean", use_sde=True, **schedules).learn(TOTAL, callback=callback)
    assert callback.checkpoint is not None
    got = resumed(expected, callback.checkpoint, factory, got_logs, TOTAL)
    assert_same_run(expected, got, RecordLogs(), RecordLogs())
    # The resumed run logs what the run did from the start of the rollout the checkpoint was taken in
    assert 0 < len(got_logs.dumps) < len(expected_logs.dumps)
    np.testing.assert_equal(got_logs.dumps, expected_logs.dumps[-len(got_logs.dumps) :])


def test_training_stopped_in_a_rollout_resumes_that_rollout() -> None:
    expected_logs, got_logs = RecordLogs(), RecordLogs()
    factory = lambda: make_env("discrete", 2)  # noqa: E731
    expected = new_model(factory(), expected_logs, baseline="value", ent_coef=FADING_BONUS).learn(TOTAL)
    callback = SaveAt(at_step=33, stop=True)
    stopped = new_model(factory(), got_logs, baseline="value", ent_coef=FADING_BONUS).learn(TOTAL, callback=callback)
    assert stopped.num_timesteps < TOTAL
    # Saved after learn() returned or from the callback: the same point, the start of the rollout that was cut
    assert callback.checkpoint is not None
    for checkpoint in (save_bytes(stopped), callback.checkpoint):
        logs = RecordLogs()
        logs.dumps = list(got_logs.dumps)
        got = resumed(stopped, checkpoint, factory, logs, TOTAL)
        assert_same_run(expected, got, expected_logs, logs)


def test_load_without_env_then_set_env() -> None:
    expected_logs, got_logs = RecordLogs(), RecordLogs()
    expected = new_model(make_env("discrete", 4), expected_logs, baseline="mean").learn(TOTAL)
    first = new_model(make_env("discrete", 4), got_logs, baseline="mean").learn(90)
    model = Reinforce.load(io.BytesIO(save_bytes(first)))
    model.set_env(make_env("discrete", 4))
    model.set_logger(Logger(None, [got_logs]))
    model.learn(TOTAL - model.num_timesteps, reset_num_timesteps=False)
    assert_same_run(expected, model, expected_logs, got_logs)


def test_interrupted_update_resumes_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    model = new_model(make_env(), RecordLogs())
    model.learn(50)

    def interrupt(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(model.policy.optimizer, "step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        model.learn(50, reset_num_timesteps=False)
    state = model.resume_state()
    assert not state["exact"] and "during an update" in state["reason"]
    loaded = Reinforce.load(io.BytesIO(save_bytes(model)), env=make_env())
    with pytest.warns(UserWarning, match="does not resume exactly: it was saved during an update"):
        loaded.learn(20, reset_num_timesteps=False)


def test_other_versions_refuse_to_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = save_bytes(new_model(make_env(), RecordLogs()).learn(50))
    here = resume.library_versions()
    monkeypatch.setattr(resume, "library_versions", lambda device="cpu": {**here, "torch": "0.0.1"})
    model = Reinforce.load(io.BytesIO(checkpoint), env=make_env())
    with pytest.raises(ValueError, match=r"torch .* \(checkpoint\) vs 0\.0\.1 \(here\).*check_versions=False"):
        model.learn(20, reset_num_timesteps=False)
    model.learn(20)  # a new run (reset_num_timesteps=True) is not a resume: no check
    model = Reinforce.load(io.BytesIO(checkpoint), env=make_env(), check_versions=False)
    with pytest.warns(UserWarning, match="would not be bit-exact: torch"):
        model.learn(20, reset_num_timesteps=False)


def test_another_env_setup_is_refused() -> None:
    checkpoint = save_bytes(new_model(make_env("box", 2, normalize=True), RecordLogs()).learn(50))
    with pytest.raises(ValueError, match="saved with 2 envs, the env given has 3"):
        Reinforce.load(io.BytesIO(checkpoint), env=make_env("box", 3, normalize=True))
    with pytest.raises(ValueError, match="saved with VecNormalize, the env given has none"):
        Reinforce.load(io.BytesIO(checkpoint), env=make_env("box", 2))
    with pytest.raises(ValueError, match="VecNormalize settings"):
        Reinforce.load(io.BytesIO(checkpoint), env=VecNormalize(make_env("box", 2), gamma=0.5))


class CountRollouts(BaseCallback):
    def __init__(self) -> None:
        super().__init__()
        self.rollouts = 0

    def _on_rollout_start(self) -> None:
        self.rollouts += 1

    def _on_step(self) -> bool:
        return True


def test_checkpoint_overhead_per_rollout_is_small() -> None:
    # The resumable point is taken at every rollout start: it must stay far below the cost of a rollout and its update
    # (measured as a ratio in one run: 0.2-0.4 % on the 2-core AMD EPYC)
    model = new_model(make_env("discrete", 4, normalize=True), RecordLogs())
    model.learn(50)
    counter = CountRollouts()
    start = time.perf_counter()
    model.learn(1000, callback=counter, reset_num_timesteps=False)
    per_rollout = (time.perf_counter() - start) / counter.rollouts
    start = time.perf_counter()
    for _ in range(50):
        model._take_resume_point()
    per_resume_point = (time.perf_counter() - start) / 50
    assert counter.rollouts >= 10
    assert per_resume_point < 0.05 * per_rollout
