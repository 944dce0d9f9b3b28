"""
The state of generators a run depends on, captured and restored for bit-exact resume (:mod:`~sb3_reinforce.reinforce.resume`).

The global generators (torch's, numpy's, Python's), the model's spaces', the rollout's sampling noise and each env's
``np_random`` (through ``VecEnv.get_attr``/``set_attr``, so ``SubprocVecEnv`` works), with ``VecNormalize``'s running
statistics; and the library versions a resumed run must share with the run that saved it.
"""

from __future__ import annotations

import copy
import platform
import random
from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, unwrap_vec_normalize

if TYPE_CHECKING:
    from sb3_reinforce.reinforce.actor import SamplingNoise

__all__ = [
    "VERSIONED",
    "capture_env_state",
    "check_env_state",
    "global_generators_state",
    "library_versions",
    "restore_env_state",
    "restore_global_generators",
    "restore_sampling_noise",
    "restore_space",
    "sampling_noise_state",
    "space_state",
]

#: What a resumed run must share with the run that saved it to be bit-exact
VERSIONED = ("torch", "stable_baselines3", "numpy", "gymnasium", "sb3_reinforce", "machine", "device")
_VEC_NORMALIZE_SETTINGS = ("norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma", "epsilon")


def library_versions(device: th.device | str = "cpu") -> dict[str, str]:
    """The versions, machine type and device a resumed run must share with the run that saved it (:data:`VERSIONED`)."""
    import gymnasium
    import stable_baselines3

    import sb3_reinforce  # here: this module is imported while sb3_reinforce itself is

    return dict(
        torch=th.__version__,
        stable_baselines3=stable_baselines3.__version__,
        numpy=np.__version__,
        gymnasium=gymnasium.__version__,
        sb3_reinforce=sb3_reinforce.__version__,
        machine=platform.machine(),
        device=th.device(device).type,
    )


# -- Generators ------------------------------------------------------------------------------------------------------


def _generator_state(generator: np.random.Generator) -> dict[str, Any]:
    return dict(generator.bit_generator.state)  # (a fresh dict at every read)


def _with_state(generator: np.random.Generator | None, state: dict[str, Any]) -> np.random.Generator:
    """``generator`` set in place to ``state``, or a new generator if its bit generator is of another kind."""
    if generator is None or type(generator.bit_generator).__name__ != state["bit_generator"]:
        generator = np.random.Generator(getattr(np.random, state["bit_generator"])())
    generator.bit_generator.state = state
    return generator


def space_state(space: spaces.Space) -> dict[str, Any]:
    # The private `_np_random`: the public property would seed a space never sampled from, changing what is saved
    own = getattr(space, "_np_random", None)
    children: Any = None
    if isinstance(space, spaces.Dict):
        children = {key: space_state(sub) for key, sub in space.spaces.items()}
    elif isinstance(space, spaces.Tuple):
        children = [space_state(sub) for sub in space.spaces]
    return {"own": None if own is None else _generator_state(own), "children": children}


def restore_space(space: spaces.Space, state: dict[str, Any]) -> None:
    own = state["own"]
    space._np_random = None if own is None else _with_state(getattr(space, "_np_random", None), own)  # type: ignore[assignment]
    if isinstance(space, spaces.Dict) and state["children"] is not None:
        for key, sub in space.spaces.items():
            restore_space(sub, state["children"][key])
    elif isinstance(space, spaces.Tuple) and state["children"] is not None:
        for sub, sub_state in zip(space.spaces, state["children"], strict=True):
            restore_space(sub, sub_state)


def sampling_noise_state(noise: SamplingNoise) -> dict[str, Any]:
    # The blocks already drawn are part of the stream: the next actions come from their unread part
    return dict(
        rng=_generator_state(noise.rng),
        blocks={kind: block.copy() for kind, block in noise._blocks.items()},
        positions=dict(noise._positions),
    )


def restore_sampling_noise(noise: SamplingNoise, state: dict[str, Any]) -> None:
    noise.rng = _with_state(noise.rng, state["rng"])
    noise._blocks = {kind: block.copy() for kind, block in state["blocks"].items()}
    noise._positions = dict(state["positions"])


def global_generators_state(device: th.device) -> dict[str, Any]:
    cuda = device.type == "cuda" and th.cuda.is_available() and th.cuda.is_initialized()
    return dict(
        torch=th.get_rng_state().numpy().copy(),
        cuda=[state.numpy().copy() for state in th.cuda.get_rng_state_all()] if cuda else None,
        numpy=np.random.get_state(),
        python=random.getstate(),
    )


def restore_global_generators(state: dict[str, Any]) -> None:
    th.set_rng_state(th.from_numpy(state["torch"].copy()))
    if state["cuda"] is not None and th.cuda.is_available():
        th.cuda.set_rng_state_all([th.from_numpy(cuda_state.copy()) for cuda_state in state["cuda"]])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


# -- Envs ------------------------------------------------------------------------------------------------------------


def capture_env_state(env: VecEnv | None, reset_by_learn: bool = False) -> dict[str, Any] | None:
    """
    What the envs carry from one rollout to the next, at a point where the next thing they do is a reset of every env.

    :param env: The training env (None: nothing to capture)
    :param reset_by_learn: The state is taken right before ``learn()``'s reset (``_setup_learn``): a resumed run
        must reset the envs at its start too
    :return: Each env's ``np_random`` state, the seeds and options pending for the next reset, ``VecNormalize``'s
        statistics; None without an env
    """
    if env is None:
        return None
    base = env.unwrapped
    try:
        generators: list[dict[str, Any]] | None = [_generator_state(gen) for gen in env.get_attr("np_random")]
    except (AttributeError, NotImplementedError):  # not a Gymnasium env: its randomness cannot be restored
        generators = None
    vec_normalize = unwrap_vec_normalize(env)
    return dict(
        n_envs=env.num_envs,
        generators=generators,
        # What VecEnv.seed() / set_options() left for the next reset (SB3's VecEnv attributes)
        seeds=copy.copy(getattr(base, "_seeds", None)),
        options=copy.deepcopy(getattr(base, "_options", None)),
        vec_normalize=None
        if vec_normalize is None
        else dict(
            settings={name: getattr(vec_normalize, name) for name in _VEC_NORMALIZE_SETTINGS},
            obs_rms=copy.deepcopy(getattr(vec_normalize, "obs_rms", None)),
            ret_rms=copy.deepcopy(vec_normalize.ret_rms),
            returns=vec_normalize.returns.copy(),
        ),
        reset_by_learn=reset_by_learn,
    )


def check_env_state(env: VecEnv, state: dict[str, Any]) -> None:
    """
    Check that ``env`` can take the state :func:`capture_env_state` took: the same number of envs, and the same use and
    settings of ``VecNormalize``.

    :raise ValueError: Naming what differs
    """
    if env.num_envs != state["n_envs"]:
        raise ValueError(f"the checkpoint was saved with {state['n_envs']} envs, the env given has {env.num_envs}")
    vec_normalize = unwrap_vec_normalize(env)
    saved_stats = state["vec_normalize"]
    if (vec_normalize is None) != (saved_stats is None):
        had = "with" if saved_stats is not None else "without"
        has = "has one" if vec_normalize is not None else "has none"
        raise ValueError(f"the checkpoint was saved {had} VecNormalize, the env given {has}: resume on the same env setup")
    if vec_normalize is not None:
        settings = {name: getattr(vec_normalize, name) for name in _VEC_NORMALIZE_SETTINGS}
        if settings != saved_stats["settings"]:
            raise ValueError(f"VecNormalize settings {settings} differ from the checkpoint's {saved_stats['settings']}")


def restore_env_state(env: VecEnv, state: dict[str, Any]) -> None:
    """
    Put the envs back in the state :func:`capture_env_state` took (a fresh env of the same run).

    :raise ValueError: If the env cannot take it (:func:`check_env_state`)
    """
    check_env_state(env, state)
    vec_normalize = unwrap_vec_normalize(env)
    saved_stats = state["vec_normalize"]
    if vec_normalize is not None:
        if saved_stats["obs_rms"] is not None:
            vec_normalize.obs_rms = copy.deepcopy(saved_stats["obs_rms"])
        vec_normalize.ret_rms = copy.deepcopy(saved_stats["ret_rms"])
        vec_normalize.returns = saved_stats["returns"].copy()
    if state["generators"] is not None:
        # A DummyVecEnv hands out its envs' own generators: set in place; other VecEnvs hand out copies: send them back
        in_process = isinstance(env.unwrapped, DummyVecEnv)
        for idx, (generator, saved) in enumerate(zip(env.get_attr("np_random"), state["generators"], strict=True)):
            restored = _with_state(generator, saved)
            if restored is not generator or not in_process:
                env.set_attr("np_random", restored, indices=idx)
    base = env.unwrapped
    if state["seeds"] is not None and hasattr(base, "_seeds"):
        base._seeds = list(state["seeds"])
    if state["options"] is not None and hasattr(base, "_options"):
        base._options = copy.deepcopy(state["options"])


# -- The algorithm ---------------------------------------------------------------------------------------------------
