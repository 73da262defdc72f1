"""Where claim tasks run: in this process, in a local process pool, or on a Dask cluster.

A *task* is ``(claim_id, variant, profile, seed)``; its result depends only on the task (every
random draw derives from ``(seed, claim, variant, point)``, see ``CheckContext.point_rng``), so
the executor changes the wall time, never the numbers.  Every executor yields
``(task, result)`` pairs in completion order; callers key results by task.

``open_executor(kind, jobs=..., address=...)`` is the single entry point::

    with open_executor("dask", jobs=2) as ex:          # LocalCluster, 2 single-threaded workers
        for task, result in ex.map(run_task, tasks):
            ...

Dask (``pip install 'theorycheck[distributed]'``) is imported only when asked for.  Tasks are
submitted with ``pure=False`` and a key naming the task, so Dask never merges two calls that
happen to look alike and never serves one task's result for another.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from theorycheck._validation import check_choice, check_int
from theorycheck.errors import InvalidParameterError

__all__ = ["EXECUTORS", "Executor", "ExecutorError", "SerialExecutor", "ProcessExecutor",
           "DaskExecutor", "open_executor"]

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("local", "dask")

#: Seconds to wait for a Dask scheduler before reporting it unreachable.
CONNECT_TIMEOUT = 5.0


#: Dask settings of the built-in LocalCluster (scoped with ``dask.config.set``; measured here):
#:
#: - worker environment: OMP/MKL/OPENBLAS_NUM_THREADS=1 before numpy loads (parallelism is across
#:   processes, see noxfile.py), but not distributed's default MALLOC_TRIM_THRESHOLD_, which turns
#:   off glibc's adaptive mmap threshold so every large numpy temporary is a fresh mmap (a
#:   STAB-ROUGH task: 2x the system time, ~25 % more wall time);
#: - worker saturation 1.0: a worker holds only the task it runs, the rest wait at the scheduler
#:   and go to whichever worker frees first, as in a process pool (the default 1.1 hands each
#:   single-threaded worker two tasks up front, pairing long tasks on one worker);
#: - no statistical profiler (a stack sample every 10 ms: ~9 % of a worker's CPU on mpmath);
#: - slower housekeeping ticks: an idle 2-worker cluster burnt 0.175 core (event-loop tick 20 ms,
#:   system monitor 0.5 s, memory monitor 0.1 s), 0.04 core with the values below.
LOCAL_CLUSTER_CONFIG: dict[str, object] = {
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
                                            "OPENBLAS_NUM_THREADS": 1},
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


class ExecutorError(InvalidParameterError):
    """An executor cannot be started: missing extra, unreachable scheduler, bad option."""


class Executor(Protocol):
    """Runs ``fn`` over tasks; yields ``(task, fn(task))`` as each finishes (any order)."""

    #: Number of tasks that can run at once (for progress messages and sizing).
    workers: int

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Run ``fn`` on every task; yield ``(task, result)`` in completion order."""
        ...


class SerialExecutor:
    """Run tasks one after the other in this process (``--jobs 1``)."""

    workers = 1

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(task, fn(task))`` in task order."""
        for task in tasks:
            yield task, fn(task)


class ProcessExecutor:
    """A local :class:`~concurrent.futures.ProcessPoolExecutor` with ``jobs`` processes.

    At most ``2 * jobs`` tasks are queued at once, so an interruption loses only those.
    """

    def __init__(self, pool: ProcessPoolExecutor, jobs: int) -> None:
        self._pool = pool
        self.workers = jobs

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Yield ``(task, result)`` as the pool's futures complete."""
        pending: dict[Future[R], T] = {}
        todo = iter(tasks)
        try:
            while True:
                for task in todo:
                    pending[self._pool.submit(fn, task)] = task
                    if len(pending) >= 2 * self.workers:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        finally:
            for future in pending:
                future.cancel()


class DaskExecutor:
    """Tasks as Dask futures on a ``distributed.Client`` (one future per task, ``pure=False``)."""

    def __init__(self, client: Any, workers: int) -> None:
        self._client = client
        self.workers = workers

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Submit every task, yield ``(task, result)`` as futures complete."""
        from distributed import as_completed

        task_list = list(tasks)
        if not task_list:
            return
        run = uuid.uuid4().hex[:12]
        futures = [self._client.submit(fn, task, pure=False, key=f"theorycheck-{run}-{i}",
                                       retries=0) for i, task in enumerate(task_list)]
        owner = {f.key: task for f, task in zip(futures, task_list, strict=True)}
        try:
            for future in as_completed(futures):
                yield owner[future.key], future.result()
        finally:
            self._client.cancel(futures)


def _probe_tcp(address: str) -> None:
    """Fail fast (connection refused, unknown host) before Dask's own retry loop starts."""
    import socket
    from urllib.parse import urlsplit

    if "://" not in address:
        address = f"tcp://{address}"
    parts = urlsplit(address)
    if parts.scheme not in ("tcp", "tls") or parts.hostname is None:
        return  # other transports: leave it to distributed
    try:
        port = parts.port or 8786
    except ValueError:
        raise ExecutorError(f"`--dask-address` {address!r} has a bad port") from None
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ExecutorError(f"`--dask-address` {address!r}: no Dask scheduler reachable "
                            f"({exc.strerror or exc.__class__.__name__})") from None


def _require_dask() -> None:
    import importlib.util

    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("dask") is None:
        raise ExecutorError("`--executor dask` needs the optional extra: pip install "
                            "'theorycheck[distributed]' (dask and distributed)")


@contextlib.contextmanager
def _dask_client(jobs: int, address: str | None) -> Iterator[DaskExecutor]:
    _require_dask()
    if address is not None:
        _probe_tcp(address)
    import distributed
    if address is not None:
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"`--dask-address` {address!r}: no Dask scheduler reachable "
                                f"within {CONNECT_TIMEOUT:g} s ({exc.__class__.__name__})") from None
        except ValueError as exc:
            raise ExecutorError(f"`--dask-address` {address!r} is not a scheduler address "
                                f"({' '.join(str(exc).split())})") from None
        try:
            workers = max(1, sum(w.get("nthreads", 1) for w in
                                 client.scheduler_info()["workers"].values()))
            yield DaskExecutor(client, workers)
        finally:
            client.close()
        return
    import dask

    # No web server; worker logs at CRITICAL only (task errors still reach the caller through
    # the futures; this hides the benign heartbeat errors of a cluster shutting down).
    with dask.config.set(LOCAL_CLUSTER_CONFIG), \
            distributed.LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                     dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        yield DaskExecutor(client, jobs)


@contextlib.contextmanager
def open_executor(kind: str = "local", *, jobs: int = 1,
                  address: str | None = None) -> Iterator[Executor]:
    """Start an executor; it is shut down when the ``with`` block ends.

    Parameters
    ----------
    kind : {"local", "dask"}
        ``"local"``: this process when ``jobs == 1``, else a process pool of ``jobs``.
        ``"dask"``: the scheduler at ``address``, or a ``LocalCluster`` of ``jobs``
        single-threaded worker processes.
    jobs : int
        1 to 64.
    address : str, optional
        Dask scheduler address (``tcp://host:8786``); only with ``kind="dask"``.

    Raises
    ------
    ExecutorError
        Dask not installed, ``address`` unreachable within ``CONNECT_TIMEOUT`` s, or an
        ``address`` given for the local executor.
    """
    kind = check_choice("executor", kind, EXECUTORS)
    jobs = check_int("jobs", jobs, minimum=1, maximum=64)
    if kind == "local":
        if address is not None:
            raise ExecutorError("`--dask-address` requires `--executor dask`")
        if jobs == 1:
            yield SerialExecutor()
            return
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            yield ProcessExecutor(pool, jobs)
        return
    with _dask_client(jobs, address) as executor:
        yield executor
