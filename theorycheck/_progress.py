"""Progress bars for long commands: counts and ETA on a terminal, silence in logs and CI.

Built on tqdm; nothing is drawn unless the stream (stderr by default) is a terminal, so
redirected output, ``pytest`` and CI logs stay clean.  Two helpers:

``progress(iterable, total=, desc=)``
    Wrap a loop (audit tables, sweeps): a tqdm bar on a terminal, the iterable itself otherwise.
``task_reporter(desc)``
    A context manager yielding a message hook for the audit tables: a :class:`TaskProgress`
    on a terminal, ``print`` otherwise (the per-row lines stay in logs).
``task_progress(desc)``
    A callable for the ``progress=`` hook of :func:`theorycheck.claims.runner.run_claims` and
    :func:`theorycheck.claims.false_alarms.count_false_alarms`: each call advances the bar by
    one finished task and prints the message above it; runners announce how many tasks they
    will run through :meth:`TaskProgress.expect`.  ``None`` when not on a terminal.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["progress", "task_progress", "task_reporter", "TaskProgress", "CountedProgress",
           "is_terminal"]

T = TypeVar("T")


def is_terminal(stream: Any = None) -> bool:
    """True when ``stream`` (default ``sys.stderr``) is an interactive terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # closed or detached stream
        return False


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str | None = None,
             stream: Any = None) -> Iterable[T]:
    """``iterable`` with a progress bar (count, rate, ETA) when ``stream`` is a terminal.

    Parameters
    ----------
    iterable : iterable
    total : int, optional
        Number of items (taken from ``len(iterable)`` when it has one); gives the ETA.
    desc : str, optional
        Label in front of the bar.
    stream : file-like, optional
        Where the bar is drawn (default ``sys.stderr``); not a terminal → no bar at all.
    """
    stream = sys.stderr if stream is None else stream
    if not is_terminal(stream):
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, file=stream, dynamic_ncols=True, leave=False)


@runtime_checkable
class CountedProgress(Protocol):
    """A progress hook that can be told how many tasks are coming (for counts and ETA)."""

    def __call__(self, message: str) -> None:
        """One task finished; ``message`` says which and how it came out."""
        ...

    def expect(self, count: int) -> None:
        """``count`` more tasks will be reported."""
        ...


class TaskProgress:
    """tqdm bar over finished tasks; every message is also printed above the bar.

    Use as a context manager (the bar is closed on exit) or call :meth:`close`.
    """

    def __init__(self, desc: str, stream: Any = None, *, initial_total: int = 0) -> None:
        from tqdm import tqdm

        self._stream = sys.stderr if stream is None else stream
        self._bar = tqdm(total=initial_total, desc=desc, file=self._stream, dynamic_ncols=True,
                         unit="task")

    def expect(self, count: int) -> None:
        """Add ``count`` tasks to the bar's total."""
        self._bar.total = (self._bar.total or 0) + count
        self._bar.refresh()

    def __call__(self, message: str) -> None:
        """Print ``message`` above the bar and advance it by one."""
        self._bar.write(message, file=self._stream)
        self._bar.update(1)

    def close(self) -> None:
        """Remove the bar from the terminal."""
        self._bar.close()

    def __enter__(self) -> TaskProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def task_progress(desc: str, stream: Any = None) -> TaskProgress | None:
    """A :class:`TaskProgress` on ``stream`` (default stderr), or ``None`` if not a terminal."""
    return TaskProgress(desc, stream) if is_terminal(stream) else None


@contextlib.contextmanager
def task_reporter(desc: str, stream: Any = None) -> Iterator[Callable[[str], None]]:
    """Yield a per-task message hook: a :class:`TaskProgress` bar on a terminal, else ``print``.

    The bar (if any) is closed on exit, also when the body raises.
    """
    bar = task_progress(desc, stream)
    if bar is None:
        yield print
        return
    with bar:
        yield bar
