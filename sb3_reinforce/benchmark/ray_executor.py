"""
Run the grid as Ray tasks on an existing Ray cluster (``--ray-address ADDRESS|auto``).

One run is one task with ``num_cpus=1`` and one torch thread. Workers need no shared disk: each task returns its
record (:func:`~sb3_reinforce.benchmark.executor.run`) to the driver, which writes it. The benchmark keeps no model,
so nothing else comes back. Every node must have ``sb3_reinforce`` (and the env's dependencies) installed: the task
imports it there.

Faults: a task whose worker process dies is retried up to ``max_retries`` times by Ray; if it still fails, its
record says ``failed`` (the grid goes on). An exception inside a run is not retried: :func:`run` already turns it
into a failed record. On Ctrl-C (or when the caller stops iterating), the outstanding tasks are cancelled.

Checkpoints: with no shared disk, each run's newest checkpoint goes through Ray's object store to a small actor
(:class:`RayCheckpoint`, one per grid, on the driver's node when possible): a retried task, on whichever worker,
resumes from it bit-exactly, and its record is the one an uninterrupted run would have written. The actor lives as
long as :meth:`RayExecutor.map`; a grid started again runs its unfinished runs from scratch (the same numbers).

Ray is an optional dependency (``pip install "sb3-reinforce[ray]"``), imported only here.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sb3_reinforce.benchmark.executor import lost_run_record, run
from sb3_reinforce.benchmark.plan import RunTask
from sb3_reinforce.experiments.checkpoints import DEFAULT_CHECKPOINT_FREQ

__all__ = ["RAY_INSTALL", "RayCheckpoint", "RayExecutor", "import_ray"]

RAY_INSTALL = 'pip install "sb3-reinforce[ray]"'
#: Environment of every task: one BLAS/OpenMP thread per run, as in the local pool
TASK_ENV_VARS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def import_ray() -> ModuleType:
    """
    Import Ray, or fail with the command that installs it.

    :raise ImportError: When Ray is not installed
    """
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"--ray-address needs Ray, which is not installed: {RAY_INSTALL}") from error
    return ray


class _CheckpointShelf:
    """The Ray actor that keeps the newest checkpoint of each run of a grid, by task key."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def read(self, key: str) -> bytes | None:
        return self._data.get(key)

    def write(self, key: str, data: bytes) -> None:
        self._data[key] = data

    def clear(self, key: str) -> None:
        self._data.pop(key, None)


@dataclass(frozen=True)
class RayCheckpoint:
    """
    The checkpoint of one run, kept by the grid's shelf actor: it travels with the task (an actor handle) and through
    Ray's object store, so a task retried on another worker finds it. A checkpoint is a safety net: if the actor cannot
    be reached, the run goes on without one (a warning), it never fails for it.

    :param shelf: The actor handle
    :param key: The run's task key
    """

    shelf: Any
    key: str

    def _call(self, method: str, *args: Any) -> Any:
        ray = import_ray()
        try:
            return ray.get(getattr(self.shelf, method).remote(self.key, *args))
        except ray.exceptions.RayError as error:
            warnings.warn(f"the checkpoint of {self.key} is unavailable ({type(error).__name__}): the run goes on without it")
            return None

    def read(self) -> bytes | None:
        return self._call("read")

    def write(self, data: bytes) -> None:
        self._call("write", data)

    def clear(self) -> None:
        self._call("clear")


def _run_one_thread(
    function: Callable[..., dict[str, Any]], task: RunTask, checkpoint: RayCheckpoint | None, checkpoint_freq: int
) -> dict[str, Any]:
    """The body of a Ray task: one torch thread, then the run (given its checkpoint if ``function`` takes one)."""
    import torch as th

    th.set_num_threads(1)
    parameters = inspect.signature(function).parameters
    kwargs: dict[str, Any] = {}
    if checkpoint is not None and "checkpoint" in parameters:
        kwargs.update(checkpoint=checkpoint)
        if "checkpoint_freq" in parameters:
            kwargs.update(checkpoint_freq=checkpoint_freq)
    return function(task, **kwargs)


class RayExecutor:
    """
    Carry out the runs as Ray tasks; yields ``(task, record)`` as each finishes, like
    :class:`~sb3_reinforce.benchmark.executor.LocalExecutor`.

    Connects when :meth:`map` starts (and disconnects at its end) unless this process is already connected to a
    Ray cluster, which is then used as it is (``address`` is ignored).

    :param address: The cluster's address, as for ``ray.init``: ``"auto"`` (the cluster this node belongs to, or
        ``RAY_ADDRESS``), ``"HOST:PORT"`` (the head's GCS port, 6379 by default) or ``"ray://HOST:10001"`` (Ray Client)
    :param max_retries: How many times Ray runs again a task whose worker process died
    :param runtime_env: Extra Ray runtime environment of the tasks (its ``env_vars`` are added to the one-thread
        settings), e.g. ``{"env_vars": {"PYTHONPATH": ...}}``
    :param function: What a task runs (default: :func:`~sb3_reinforce.benchmark.executor.run`); it must return a
        record and never raise for a failing run, and is given ``checkpoint`` (a :class:`RayCheckpoint`) and
        ``checkpoint_freq`` if it takes them. Tests pass one that kills its worker.
    :param checkpoint_freq: Env steps between two checkpoints of a run (0: no checkpoints, a retried run starts again)
    :raise ImportError: When Ray is not installed (checked here, before any training)
    :raise ValueError: For a negative ``max_retries`` or an empty address
    """

    def __init__(
        self,
        address: str | None = "auto",
        max_retries: int = 2,
        runtime_env: dict[str, Any] | None = None,
        function: Callable[..., dict[str, Any]] = run,
        checkpoint_freq: int = DEFAULT_CHECKPOINT_FREQ,
    ) -> None:
        self.ray = import_ray()
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if address is not None and not address.strip():
            raise ValueError(f"the Ray address must not be empty, got {address!r}")
        self.address = address
        self.max_retries = max_retries
        runtime_env = dict(runtime_env or {})
        runtime_env["env_vars"] = {**TASK_ENV_VARS, **runtime_env.get("env_vars", {})}
        self.runtime_env = runtime_env
        self.function = function
        if isinstance(checkpoint_freq, bool) or not isinstance(checkpoint_freq, int) or checkpoint_freq < 0:
            raise ValueError(f"checkpoint_freq must be an int >= 0, got {checkpoint_freq!r}")
        self.checkpoint_freq = checkpoint_freq
        #: The object refs not yet returned by :meth:`map` (cancelled when it is interrupted)
        self.pending: list[Any] = []
        self._connected_here = False

    def connect(self) -> None:
        """
        Connect to the cluster unless this process already is (the driver calls it before any training, so that a
        wrong address fails early); :meth:`map` disconnects at its end only from a connection made here.

        :raise ConnectionError: When no cluster answers at the address
        """
        if self.ray.is_initialized():
            return
        # Workers log to their own files; the driver prints one line per run
        self.ray.init(address=self.address, log_to_driver=False)
        self._connected_here = True

    @property
    def slots(self) -> int:
        """Runs that can go on at once: the cluster's CPUs (when connected)."""
        if not self.ray.is_initialized():
            return 1
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def _cancel(self, attempts: int = 5, wait_s: float = 1.0) -> None:
        """Cancel the outstanding tasks (their workers are killed), asking again for those not cancelled yet."""
        pending = self.pending
        for _ in range(attempts):
            for ref in pending:
                self.ray.cancel(ref, force=True)
            # One request can be missed by a task being handed to a worker at that moment (seen in
            # tests/test_benchmark_ray.py right after a retried task): ask again
            _, pending = self.ray.wait(pending, num_returns=len(pending), timeout=wait_s)
            if not pending:
                return

    def _make_shelf(self) -> Any:
        """The actor keeping the runs' checkpoints: on this node if Ray allows (a worker node may be lost)."""
        ray = self.ray
        options: dict[str, Any] = dict(num_cpus=0)
        try:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            node_id = ray.get_runtime_context().get_node_id()
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(node_id=node_id, soft=True)
        except Exception:  # Ray Client, older Ray: anywhere will do
            pass
        return ray.remote(_CheckpointShelf).options(**options).remote()

    def map(self, tasks: Sequence[RunTask]) -> Iterator[tuple[RunTask, dict[str, Any]]]:
        if not tasks:
            return
        ray = self.ray
        self.connect()
        remote = ray.remote(_run_one_thread).options(
            num_cpus=1,
            max_retries=self.max_retries,
            retry_exceptions=False,  # run() catches a run's own errors; retry only dead workers
            runtime_env=self.runtime_env,
        )
        function_ref = ray.put(self.function)
        shelf = self._make_shelf() if self.checkpoint_freq > 0 else None
        by_ref = {
            remote.remote(
                function_ref, task, None if shelf is None else RayCheckpoint(shelf, task.key), self.checkpoint_freq
            ): task
            for task in tasks
        }
        self.pending = list(by_ref)
        try:
            while self.pending:
                ready, self.pending = ray.wait(self.pending, num_returns=1)
                task = by_ref[ready[0]]
                try:
                    record = ray.get(ready[0])
                except ray.exceptions.RayError as error:  # the worker died (after the retries), ...: record it, go on
                    record = lost_run_record(task, error)
                    record["error"] += f" (after {self.max_retries} retries)"
                yield task, record
        except (KeyboardInterrupt, GeneratorExit):
            self._cancel()
            raise
        finally:
            if shelf is not None:
                ray.kill(shelf)
            if self._connected_here:
                ray.shutdown()
                self._connected_here = False
