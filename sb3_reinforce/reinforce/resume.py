"""
Bit-exact resume: what :class:`~sb3_reinforce.Reinforce` saves and loads beyond SB3's weights and settings, so that

    model.learn(N)

and

    model.learn(k); model.save(path)
    model = Reinforce.load(path, env=fresh_env)
    model.learn(N - model.num_timesteps, reset_num_timesteps=False)

give the same weights, optimizer state and logged values, bit for bit. SB3's ``load`` re-seeds every generator with
the run's *initial* seed and resets the envs (SB3 issue #1526), so a run split in two diverges.

**The resumable point** is the start of a rollout, before anything of it is drawn. Every rollout begins by resetting
every env (the episode scheduler does, except for the first rollout after ``learn()``'s own reset, which is kept), so
nothing crosses that point but generator states and counters:

- the sampling-noise generator of the rollout actions and its pending blocks (``SamplingNoise``);
- torch's (gSDE noise matrices), numpy's and Python's global generators, and the model's spaces' generators;
- each env's ``np_random`` (read and written through ``VecEnv.get_attr``/``set_attr``, so ``SubprocVecEnv`` works),
  the seeds and options pending for the next reset (``VecEnv.seed``), and ``VecNormalize``'s running statistics;
- the baseline's state (``RunningMeanBaseline``), ``num_timesteps``, ``_n_updates`` and the learning-rate schedule's
  progress, the episode statistics (``ep_info_buffer``), and the logger's values of the last update, not dumped yet.

``save`` between two ``learn`` calls stores the point as it is. ``save`` during a rollout (a callback's checkpoint, or
after Ctrl-C) stores the point at the start of that rollout, taken when it began (:meth:`_take_resume_point`): the
weights do not change during a rollout, and the resumed run plays that rollout again. ``save`` during an update
(Ctrl-C inside ``train()``) cannot be exact: the state is saved as it is and resuming it warns.

``load`` gives the model as SB3 saved it and keeps the point; the next ``learn(..., reset_num_timesteps=False)`` goes
back to it before anything else (its ``total_timesteps`` still counts from ``num_timesteps`` as loaded).

What cannot be exact (``docs/resume.md``): other versions of torch, SB3, numpy, gymnasium or sb3_reinforce, another
machine type or device (checked: resuming raises a ``ValueError``, or warns with ``Reinforce.load(...,
check_versions=False)``), GPU kernels that are not deterministic, and envs whose randomness is not their
``np_random`` (a global generator of another library, the wall clock...).
"""

from __future__ import annotations

import copy
import io
import pathlib
import warnings
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback

from sb3_reinforce.reinforce.generator_state import (
    VERSIONED,
    capture_env_state,
    check_env_state,
    global_generators_state,
    library_versions,
    restore_env_state,
    restore_global_generators,
    restore_sampling_noise,
    restore_space,
    sampling_noise_state,
    space_state,
)

if TYPE_CHECKING:
    from stable_baselines3.common.callbacks import BaseCallback

    from sb3_reinforce.reinforce.actor import SamplingNoise
    from sb3_reinforce.reinforce.baselines import Baseline

__all__ = ["RESUME_FORMAT", "ResumableOnPolicyAlgorithm"]

#: Version of the layout of the saved resume state (``_resume_state`` in the model's data)
RESUME_FORMAT = 1
_SAVED = "_resume_state"

SelfResumable = TypeVar("SelfResumable", bound="ResumableOnPolicyAlgorithm")


class ResumableOnPolicyAlgorithm(OnPolicyAlgorithm):
    """
    An on-policy algorithm whose ``save``/``load`` resume a run bit-exactly (see the module's docstring).

    The subclass marks the resumable point: its ``collect_rollouts`` passes :meth:`_take_resume_point` to the episode
    scheduler before anything of the rollout is drawn, and its ``train`` ends with :meth:`_end_update`.

    ``load`` keeps the model as SB3 saved it (its counters as they were at ``save``) and holds the resumable point
    until the next ``learn(..., reset_num_timesteps=False)``, which checks the versions, then puts the counters,
    generators, envs and statistics back to the point before anything else (``_setup_learn``). A model loaded to
    predict keeps its counters as saved, and a new run (``reset_num_timesteps=True``) drops the point.
    """

    _sampling_noise: SamplingNoise
    baseline_estimator: Baseline
    # Not saved (see _excluded_save_params): the point taken at the start of the current rollout, whether an update is
    # under way, the envs' state before learn()'s own reset, and the loaded state that the next learn() resumes
    _resume_point: dict[str, Any] | None = None
    _in_update: bool = False
    _envs_before_reset: dict[str, Any] | None = None
    _pending_resume: dict[str, Any] | None = None

    def _excluded_save_params(self) -> list[str]:
        transient = ["_resume_point", "_in_update", "_envs_before_reset", "_pending_resume"]
        return [*super()._excluded_save_params(), *transient]

    # -- Marks of the rollout and the update -------------------------------------------------------------------------

    def _take_resume_point(self) -> np.ndarray | None:
        """
        Take the resumable point at the start of a rollout, before anything of it is drawn.

        :return: What the episode scheduler is given as ``episodes_started``: ``_last_episode_starts`` for the first
            rollout after ``learn()``'s reset (its envs stay as that reset left them), else None, so that every env is
            reset and only generator states cross the point (an env's state in mid-episode, or after the automatic
            reset of a VecEnv, is not a generator and could not be restored)
        """
        envs_reset_by_learn, self._envs_before_reset = self._envs_before_reset, None
        self._in_update = False
        if envs_reset_by_learn is not None:
            self._resume_point = self._capture_point(envs_reset_by_learn)
            return self._last_episode_starts
        self._resume_point = self._capture_point(capture_env_state(self.env))
        return None

    def _update_current_progress_remaining(self, num_timesteps: int, total_timesteps: int) -> None:
        # Called by learn() between a complete rollout and train(): from here on the update is under way
        self._in_update = True
        super()._update_current_progress_remaining(num_timesteps, total_timesteps)
        # The last batch of whole episodes runs past total_timesteps: SB3's 1 - num_timesteps / total_timesteps would
        # go below 0, and a schedule decayed to 0 (lin_<x>) would turn negative, a last update that climbs the loss
        self._current_progress_remaining = max(self._current_progress_remaining, 0.0)

    def _end_update(self) -> None:
        """Mark the end of an update: the state is again a resumable point, saved as it is."""
        self._resume_point = None
        self._in_update = False

    @property
    def resume_phase(self) -> str:
        """
        Where the run stands, for what :meth:`save` stores: ``"between"`` two updates (the state now is the resumable
        point), in a ``"rollout"`` (the point is the start of that rollout, :meth:`_take_resume_point`), or in an
        ``"update"`` (weights in flight: no exact point, a checkpoint written now would not resume exactly).
        """
        if self._in_update:
            return "update"
        return "between" if self._resume_point is None else "rollout"

    # -- What is saved -----------------------------------------------------------------------------------------------

    def _capture_point(self, envs: dict[str, Any] | None) -> dict[str, Any]:
        """Everything but the weights, the optimizer and the settings that the next rollout and update depend on."""
        logger = self.__dict__.get("_logger")
        logged = None
        if logger is not None:
            logged = dict(
                values=dict(logger.name_to_value),
                counts=dict(logger.name_to_count),
                excluded=dict(logger.name_to_excluded),
            )
        return dict(
            num_timesteps=self.num_timesteps,
            n_updates=self._n_updates,
            progress_remaining=self._current_progress_remaining,
            last_obs=copy.deepcopy(self._last_obs),
            last_episode_starts=copy.deepcopy(self._last_episode_starts),
            last_original_obs=copy.deepcopy(self._last_original_obs),
            ep_info_buffer=None if self.ep_info_buffer is None else [dict(info) for info in self.ep_info_buffer],
            ep_success_buffer=None if self.ep_success_buffer is None else list(self.ep_success_buffer),
            baseline=copy.deepcopy(self.baseline_estimator),
            sampling_noise=sampling_noise_state(self._sampling_noise),
            generators=global_generators_state(self.device),
            spaces=dict(action=space_state(self.action_space), observation=space_state(self.observation_space)),
            envs=envs,
            logged=logged,
        )

    def resume_state(self) -> dict[str, Any]:
        """
        The state that :meth:`save` stores beside SB3's data, and that the first ``learn(...,
        reset_num_timesteps=False)`` after :meth:`load` resumes from (see the module's docstring).

        :return: The resumable point, the versions it was taken with, and whether resuming it is exact
        """
        if self._pending_resume is not None:
            return self._pending_resume["state"]  # loaded and not resumed yet: still the point it was saved at
        exact, reason = True, None
        if self._in_update:
            exact, reason = False, "it was saved during an update (train() was interrupted)"
            point = self._capture_point(capture_env_state(self.env))
        elif self._resume_point is not None:
            point = self._resume_point  # in a rollout: the point at its start
        else:
            point = self._capture_point(self._envs_before_reset or capture_env_state(self.env))
        return dict(format=RESUME_FORMAT, versions=library_versions(self.device), exact=exact, reason=reason, point=point)

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        # In a tuple: SB3 writes a text description of a saved dict's items into the model's JSON (slow for arrays)
        self.__dict__[_SAVED] = (RESUME_FORMAT, self.resume_state())
        try:
            super().save(path, exclude=exclude, include=include)
        finally:
            self.__dict__.pop(_SAVED, None)

    # -- What is restored --------------------------------------------------------------------------------------------

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfResumable],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        check_versions: bool = True,
        **kwargs: Any,
    ) -> SelfResumable:
        """
        Load a model (SB3's ``load``) with the resumable point it was saved at, which the next
        ``learn(..., reset_num_timesteps=False)`` continues exactly: the envs it trains on get the run's generator
        states and ``VecNormalize`` statistics then (``force_reset`` makes no difference: every rollout starts with a
        reset). See the module's docstring.

        :param check_versions: At that ``learn``, raise a ``ValueError`` if the checkpoint was saved with other
            library versions, machine type or device (the run would not be exact); False: warn instead
        (the other parameters: SB3's ``BaseAlgorithm.load``)
        :raise ValueError: If ``env`` differs from the run's in number of envs or use of ``VecNormalize``
        """
        model = super().load(
            path,
            env=env,
            device=device,
            custom_objects=custom_objects,
            print_system_info=print_system_info,
            force_reset=force_reset,
            **kwargs,
        )
        saved = model.__dict__.pop(_SAVED, None)
        if saved is None:
            return model
        state_format, state = saved
        if state_format != RESUME_FORMAT:
            warnings.warn(f"Unknown resume state format {state_format!r} (sb3_reinforce is older?): not resumed exactly")
            return model
        if model.env is not None and state["point"]["envs"] is not None:
            check_env_state(model.env, state["point"]["envs"])  # fail now, not at the next learn()
        model._pending_resume = dict(state=state, check_versions=check_versions)
        return model

    def _check_resume(self, pending: dict[str, Any]) -> None:
        """Raise (or warn) before a resumed run starts if it cannot be exact."""
        state = pending["state"]
        saved, here = state["versions"], library_versions(self.device)
        differ = "; ".join(
            f"{key} {saved.get(key)} (checkpoint) vs {here[key]} (here)" for key in VERSIONED if saved.get(key) != here[key]
        )
        if differ:
            message = f"the checkpoint was saved with other versions, the resumed run would not be bit-exact: {differ}"
            if pending["check_versions"]:
                raise ValueError(f"{message}. Load it with check_versions=False to resume anyway (docs/resume.md)")
            warnings.warn(message)
        if not state["exact"]:
            warnings.warn(f"This run does not resume exactly: {state['reason']}")

    def _resume_from(self, point: dict[str, Any]) -> None:
        """Put the run back to its resumable point (the weights and the optimizer are SB3's ``load``'s)."""
        envs = point["envs"]
        if self.env is not None and envs is not None:
            restore_env_state(self.env, envs)
        self.num_timesteps = point["num_timesteps"]
        self._n_updates = point["n_updates"]
        self._current_progress_remaining = point["progress_remaining"]
        # Taken after learn()'s reset and before any rollout: the resumed learn() resets the envs again, as the run did
        reset_by_learn = envs is not None and envs["reset_by_learn"]
        self._last_obs = None if reset_by_learn else point["last_obs"]
        self._last_episode_starts = point["last_episode_starts"]
        self._last_original_obs = point["last_original_obs"]
        for name in ("ep_info_buffer", "ep_success_buffer"):
            saved = point[name]
            setattr(self, name, None if saved is None else deque(saved, maxlen=self._stats_window_size))
        self.baseline_estimator = copy.deepcopy(point["baseline"])
        restore_sampling_noise(self._sampling_noise, point["sampling_noise"])
        restore_global_generators(point["generators"])
        restore_space(self.action_space, point["spaces"]["action"])
        restore_space(self.observation_space, point["spaces"]["observation"])
        self._resume_point, self._in_update, self._envs_before_reset = None, False, None

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        pending = self._pending_resume if not reset_num_timesteps else None
        if pending is not None:
            self._check_resume(pending)  # before anything changes: a refused resume can be loaded again
            # `total_timesteps` counts from num_timesteps as saved (what the caller saw); the run goes back to its point
            target = self.num_timesteps + total_timesteps
            point = pending["state"]["point"]
            self._resume_from(point)
            total_timesteps = target - self.num_timesteps
        self._pending_resume = None  # resumed, or a new run (reset_num_timesteps=True) that does not resume
        if reset_num_timesteps or self._last_obs is None:
            # learn() resets the envs: the resumable point keeps them as they were before that reset
            self._envs_before_reset = capture_env_state(self.env, reset_by_learn=True)
        total_timesteps, callback = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        logged = None if pending is None else pending["state"]["point"]["logged"]
        if logged is not None:
            # The last update's values, dumped with the next rollout's as in the run that was not interrupted
            self.logger.name_to_value.update(logged["values"])
            self.logger.name_to_count.update(logged["counts"])
            self.logger.name_to_excluded.update(logged["excluded"])
        return total_timesteps, callback
