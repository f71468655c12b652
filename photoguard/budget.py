"""A time budget per file, so that one pathological file cannot hang a nightly job."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from .errors import TimeBudgetExceeded


@contextmanager
def time_budget(seconds: float, path: Path):
    """Raise TimeBudgetExceeded in the block after ``seconds`` (0: no limit).

    Uses SIGALRM, so it only works in a process's main thread (each worker runs its files
    there); elsewhere the block runs without a limit. Python code is interrupted between two
    bytecodes: a single long call into a C library finishes first, which the pixel budget
    keeps short.
    """
    usable = seconds > 0 and threading.current_thread() is threading.main_thread() \
        and hasattr(signal, "setitimer")
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise TimeBudgetExceeded(f"gave up after {seconds:g} seconds", path)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
