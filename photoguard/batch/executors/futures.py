"""Running a batch's files on an executor photoguard does not own: anything with ``submit``
that returns futures, such as a ``concurrent.futures`` executor or a Dask cluster's
``distributed.Client`` (see ``cluster.py``).

The time budget is kept where the file runs: the work goes on a thread, and when it overruns
the file is answered as failed at once. Its thread cannot be stopped from outside; a Dask
worker started by a nanny is therefore ended shortly after answering, and the nanny starts a
fresh one (see ``_leave_soon``).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from typing import Callable, Iterator

from ...parts import atomic
from . import cluster
from .local import Died, Failed, Overran

#: files submitted ahead of the free workers, so that none waits for its next file
_AHEAD = 2


def run_task(task: Callable, args: tuple, seconds: float):
    """``task(*args)`` within ``seconds`` (0: no limit), on the machine that runs the file.

    A file whose batch was cancelled meanwhile (Ctrl-C) leaves no copy behind: nobody is left
    to move it into place."""
    answer = _within(task, args, seconds)
    if isinstance(answer, tuple) and _cancelled():
        for item in answer[1]:
            item.temp.unlink(missing_ok=True)
        return answer[0], []
    return answer


def _within(task: Callable, args: tuple, seconds: float):
    if seconds <= 0:
        return task(*args)
    outcome: dict = {}
    done, given_up, lock = threading.Event(), threading.Event(), threading.Lock()

    def target():
        try:
            outcome["value"] = task(*args)
        except BaseException as exc:  # noqa: BLE001 - handed over to the waiting thread
            outcome["error"] = exc
        with lock:
            done.set()
            if given_up.is_set() and isinstance(outcome.get("value"), tuple):
                for item in outcome["value"][1]:  # finished too late: nobody will move them
                    item.temp.unlink(missing_ok=True)

    threading.Thread(target=target, daemon=True, name="photoguard-file").start()
    done.wait(seconds)
    with lock:
        if not done.is_set():
            given_up.set()
    if done.is_set():
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
    job, tag = args
    if job.dst:
        atomic.remove_temporaries([job.dst.parent], tag)
    _leave_soon()
    return Overran(seconds)


def _dask_worker():
    """The Dask worker this thread runs a task for, or None."""
    try:
        from distributed import get_worker  # deferred: an optional extra (cluster runs only)

        return get_worker()
    except (ImportError, ValueError):
        return None


def _cancelled() -> bool:
    """True when this thread runs a Dask task that its client has cancelled."""
    worker = _dask_worker()
    if worker is None:
        return False
    from distributed.worker import thread_state  # deferred: an optional extra (cluster runs only)

    task = worker.state.tasks.get(getattr(thread_state, "key", None))
    return task is None or task.state == "cancelled"


def _leave_soon(delay: float = 2.0) -> None:
    """End this process ``delay`` seconds from now (time enough to send the answer) when it is
    a Dask worker that a nanny will replace: that is the only way to stop the overrunning
    work's thread. Anywhere else, the thread is left to finish on its own."""
    worker = _dask_worker()
    if worker is not None and getattr(worker, "nanny", None):
        threading.Timer(delay, os._exit, (70,)).start()


class FuturesRunner:
    """The LocalPool interface over an executor's ``submit``: answers as they come."""

    def __init__(self, executor, options):
        self.executor, self.options = executor, options
        self.dask = type(executor).__module__.startswith("distributed")
        self._threads = (float("-inf"), 0)  # (when asked, how many)

    def run(self, function: Callable, items, on_stop=None) -> Iterator[tuple[object, object]]:
        pending = list(items)
        pending.reverse()
        if self.dask:
            function = cluster.prepare(self.executor, function, self.options)
        done: queue.Queue = queue.Queue()
        in_flight: dict = {}
        try:
            while pending or in_flight:
                room = self._capacity() - len(in_flight)
                while pending and room > 0:
                    key, args, seconds = pending.pop()
                    future = self._submit(function, args, seconds, key)
                    in_flight[future] = key
                    future.add_done_callback(done.put)
                    room -= 1
                future = _next(done)
                key = in_flight.pop(future)
                answer = self._answer(future)
                if isinstance(answer, Died) and on_stop:
                    on_stop(key)
                yield key, answer
        finally:
            for future in in_flight:
                future.cancel()
            if self.dask and in_flight:
                    cluster.wait_until_stopped(self.executor, [future.key for future in in_flight])

    def _submit(self, function, args, seconds, key):
        if self.dask:  # pure=False: every file is new work, even with equal arguments
            return self.executor.submit(run_task, function, args, seconds, pure=False, key=f"photoguard-{args[1]}")
        return self.executor.submit(run_task, function, args, seconds)

    def _capacity(self) -> int:
        if not self.dask:
            return _AHEAD * getattr(self.executor, "_max_workers", 4)
        asked, count = self._threads
        if time.monotonic() - asked > 5:  # asked again every few seconds: clusters grow
            count = cluster.threads(self.executor)
            self._threads = (time.monotonic(), count)
        return _AHEAD * max(1, count)

    def _answer(self, future):
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - the file fails, the batch goes on
            if type(exc).__name__ == "KilledWorker":
                return Died(None)
            return Failed(f"unexpected error: {type(exc).__name__}: {exc}")


def _next(done: queue.Queue):
    """The next finished future. Waits in short steps: a lock wait without a timeout cannot be
    interrupted by Ctrl-C on Windows."""
    while True:
        try:
            return done.get(timeout=0.25)
        except queue.Empty:
            time.sleep(0)
