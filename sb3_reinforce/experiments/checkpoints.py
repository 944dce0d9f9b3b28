"""
Checkpoints of a training run, written every N env steps and resumed bit-exactly (``docs/resume.md``).

A checkpoint is one file, the model's SB3 zip (which carries the resumable point of
:mod:`~sb3_reinforce.reinforce.resume`) with one more entry, ``sb3_reinforce_run.json``: the run's config and the state
of its callbacks (periodic evaluations so far, the windows of true and shaped returns). It is written whole and
atomically (a temporary file, then ``os.replace``), so a run killed at any moment leaves the previous checkpoint or the
new one, never a torn file.

Where it is kept is a :class:`CheckpointStore`: a file beside the run's model (:class:`FileCheckpoint`, the command
line and the local benchmark pool), or a Ray actor when workers share no disk
(:class:`~sb3_reinforce.benchmark.ray_executor.RayCheckpoint`).

Checkpoints are written at the start of a rollout, where the model's resumable point is and where the callbacks'
state matches it (no step of the rollout has been seen yet). Only :class:`~sb3_reinforce.Reinforce` resumes exactly:
SB3's algorithms cannot (SB3 issue #1526), so their runs are not checkpointed (a killed run starts again, which gives
the same numbers, more slowly).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from sb3_reinforce.experiments.callbacks import ShapedReturnLogger, TrueReturnLogger, TrueRewardEvaluator
from sb3_reinforce.reinforce.resume import ResumableOnPolicyAlgorithm

__all__ = [
    "DEFAULT_CHECKPOINT_FREQ",
    "CheckpointStore",
    "Checkpointer",
    "FileCheckpoint",
    "ResumedEvaluator",
    "callback_states",
    "check_same_run",
    "checkpoint_path",
    "make_checkpointer",
    "read_checkpoint",
    "restore_callback_states",
    "supports_checkpoints",
]

#: Env steps between two checkpoints by default: CartPole's checkpoints then cost about 2 % of the training time
#: (``docs/resume.md``, "Overhead")
DEFAULT_CHECKPOINT_FREQ = 10_000
#: The zip entry of a checkpoint that holds the run's state, beside SB3's own files
RUN_ENTRY = "sb3_reinforce_run.json"


class CheckpointStore(Protocol):
    """Where the checkpoint of one run is kept: the newest one only."""

    def read(self) -> bytes | None:
        """The newest checkpoint, or None if there is none."""
        ...

    def write(self, data: bytes) -> None:
        """Replace the checkpoint with ``data``, atomically: a reader sees the old one or the new one."""
        ...

    def clear(self) -> None:
        """Forget the checkpoint (the run finished)."""
        ...


@dataclass(frozen=True)
class FileCheckpoint:
    """
    A checkpoint kept in one file, replaced atomically.

    :param path: The file (its folder is created when needed)
    """

    path: Path

    def read(self) -> bytes | None:
        try:
            return Path(self.path).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, data: bytes) -> None:
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())  # on disk before the rename: a crash of the machine leaves a whole file too
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def clear(self) -> None:
        Path(self.path).unlink(missing_ok=True)

    def __str__(self) -> str:
        return str(self.path)


def checkpoint_path(save_path: str | os.PathLike[str]) -> Path:
    """The checkpoint of the run saved at ``P`` (given with or without ``.zip``): ``P_checkpoint.zip``."""
    base = Path(save_path)
    base = base.with_suffix("") if base.suffix == ".zip" else base
    return base.with_name(base.name + "_checkpoint.zip")


def supports_checkpoints(algo_class: type[BaseAlgorithm]) -> bool:
    """Whether runs of ``algo_class`` resume exactly from a checkpoint (Reinforce; not SB3's algorithms)."""
    return issubclass(algo_class, ResumableOnPolicyAlgorithm)


# -- The run's state -------------------------------------------------------------------------------------------------


class ResumedEvaluator(TrueRewardEvaluator):
    """
    The evaluator of a resumed run: its evaluations so far come from the checkpoint (:func:`restore_callback_states`),
    so the start of training is not evaluated again (unless the run stopped before that evaluation was done).
    """

    def _on_training_start(self) -> None:
        if not self.evaluations:
            super()._on_training_start()


def callback_states(callbacks: Sequence[BaseCallback]) -> dict[str, Any]:
    """The state of the run's own callbacks, JSON-friendly: what a resumed run gives back to them."""
    state: dict[str, Any] = {}
    for callback in callbacks:
        if isinstance(callback, TrueRewardEvaluator):
            state["evaluator"] = dict(
                evaluations=[dict(point) for point in callback.evaluations],
                next_target=callback._next_target,
                eval_time=callback.eval_time,
            )
        elif isinstance(callback, TrueReturnLogger):
            state["true_returns"] = list(callback.true_returns)
        elif isinstance(callback, ShapedReturnLogger):
            state["shaped_returns"] = list(callback.shaped_returns)
    return state


def restore_callback_states(callbacks: Sequence[BaseCallback], state: dict[str, Any]) -> None:
    """Give the run's callbacks the state :func:`callback_states` took."""
    for callback in callbacks:
        if isinstance(callback, TrueRewardEvaluator) and "evaluator" in state:
            callback.evaluations = [dict(point) for point in state["evaluator"]["evaluations"]]
            callback._next_target = state["evaluator"]["next_target"]
            callback.eval_time = state["evaluator"]["eval_time"]
        elif isinstance(callback, TrueReturnLogger) and "true_returns" in state:
            callback.true_returns.extend(state["true_returns"])
        elif isinstance(callback, ShapedReturnLogger) and "shaped_returns" in state:
            callback.shaped_returns.extend(state["shaped_returns"])


def read_checkpoint(data: bytes) -> tuple[io.BytesIO, dict[str, Any]]:
    """
    Split a checkpoint into the model's zip (for ``Reinforce.load``) and the run's state.

    :raise ValueError: If ``data`` is not a checkpoint written by :class:`Checkpointer`
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            run_state = json.loads(archive.read(RUN_ENTRY))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"not a checkpoint of sb3_reinforce: {error}") from error
    return io.BytesIO(data), run_state


class Checkpointer(BaseCallback):
    """
    Write a checkpoint of the run at the first rollout start after every ``freq`` env steps, and on demand
    (:meth:`write_now`, after Ctrl-C).

    At every rollout start it also takes the run's state (:func:`callback_states` of ``callbacks``, the config...),
    cheap copies: a checkpoint written in the middle of a rollout pairs the model's resumable point (the start of that
    rollout) with the callbacks' state from the same moment.

    :param store: Where the checkpoint goes
    :param freq: Env steps between two checkpoints (0: only :meth:`write_now`)
    :param callbacks: The run's callbacks whose state is saved
    :param run_info: What else the run's state holds (the config, the evaluation settings...), JSON-friendly
    :param train_time: Seconds of training before this run started (a resumed run adds its own)
    """

    def __init__(
        self,
        store: CheckpointStore,
        freq: int,
        callbacks: Sequence[BaseCallback] = (),
        run_info: dict[str, Any] | None = None,
        train_time: float = 0.0,
    ) -> None:
        super().__init__()
        if isinstance(freq, bool) or not isinstance(freq, int) or freq < 0:
            raise ValueError(f"checkpoint freq must be an int >= 0 (0: never), got {freq!r}")
        self.store = store
        self.freq = freq
        self.callbacks = list(callbacks)
        self.run_info = dict(run_info or {})
        self.train_time = train_time
        #: Checkpoints written by this run
        self.n_written = 0
        # The run's state at the start of the current rollout, and the model's resumable point it goes with
        self._state: dict[str, Any] | None = None
        self._state_point: object = None
        self._next_due = 0
        self._started = 0.0
        self._eval_time_at_start = 0.0

    def _eval_time(self) -> float:
        return sum(getattr(callback, "eval_time", 0.0) for callback in self.callbacks)

    def _on_training_start(self) -> None:
        self._started, self._eval_time_at_start = time.perf_counter(), self._eval_time()
        if self.freq > 0:
            self._next_due = (self.model.num_timesteps // self.freq + 1) * self.freq

    def _run_state(self) -> dict[str, Any]:
        # Informative only (not exact): the seconds of training so far, evaluations left out
        evaluating = self._eval_time() - self._eval_time_at_start
        return dict(
            self.run_info,
            num_timesteps=int(self.model.num_timesteps),
            train_time=self.train_time + max(time.perf_counter() - self._started - evaluating, 0.0),
            callbacks=callback_states(self.callbacks),
        )

    def _on_rollout_start(self) -> None:
        self._state, self._state_point = self._run_state(), getattr(self.model, "_resume_point", None)
        if self.freq > 0 and self.model.num_timesteps >= self._next_due:
            self._write(self._state)
            self._next_due = (self.model.num_timesteps // self.freq + 1) * self.freq

    def _on_step(self) -> bool:
        return True

    def write_now(self) -> bool:
        """
        Write a checkpoint now (after Ctrl-C): the run resumes from the start of the rollout it was in, or from where
        it is between two updates. During an update (weights in flight) the previous checkpoint is kept instead.

        :return: Whether a checkpoint was written
        """
        phase = getattr(self.model, "resume_phase", "between")
        if phase == "update":
            return False
        if phase == "rollout" and self._state is not None and self._state_point is getattr(self.model, "_resume_point", None):
            state = self._state
        else:
            # Between two updates, or before this rollout's callbacks ran: nothing was seen since the point
            state = self._run_state()
        self._write(state)
        return True

    def _write(self, run_state: dict[str, Any]) -> None:
        buffer = io.BytesIO()
        self.model.save(buffer)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(RUN_ENTRY, json.dumps(run_state, default=repr))
        self.store.write(buffer.getvalue())
        self.n_written += 1


def check_same_run(run_state: dict[str, Any], run_info: dict[str, Any]) -> None:
    """
    :param run_state: The run state stored in a checkpoint
    :param run_info: The run about to resume from it (``config`` and ``evaluation`` settings)
    :raise ValueError: If the checkpoint is of another run, naming what differs
    """
    differences = []
    for part in ("config", "evaluation"):
        saved, here = run_state.get(part) or {}, run_info[part]
        differences += [
            f"{key} {saved.get(key)!r} (checkpoint) vs {here.get(key)!r} (here)"
            for key in here
            if saved.get(key) != here.get(key)
        ]
    if differences:
        raise ValueError(
            f"the checkpoint is of another run: {'; '.join(differences)}. Resume with the arguments of that run "
            f"({run_state.get('command') or 'see its config'}), or start a new run"
        )


def make_checkpointer(
    store: CheckpointStore,
    freq: int,
    callbacks: list[BaseCallback],
    run_info: dict[str, Any],
    run_state: dict[str, Any] | None,
) -> Checkpointer:
    """The callback writing the run's checkpoints; a resumed run's callbacks first get their state back."""
    if run_state is not None:
        restore_callback_states(callbacks, run_state["callbacks"])
    prior_time = 0.0 if run_state is None else float(run_state["train_time"])
    return Checkpointer(store, freq, callbacks, run_info, train_time=prior_time)
