"""Worker processes that a batch owns on this computer.

Each worker takes one file at a time. This process keeps every file's time budget: a worker
that overruns is stopped (even inside a long call into a C library, which no signal in the
worker could interrupt) and replaced, and the file is reported as failed; so is a file whose
worker dies. Works the same with every process start method, ``spawn`` included (Windows and
macOS), and uses no POSIX-only facility. A worker whose batch process is killed notices at once
and ends.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Callable, Iterable, Iterator


@dataclass(frozen=True)
class Overran:
    """The item's worker was stopped after ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Died:
    """The item's worker process ended without an answer (killed, or crashed); ``exitcode``
    None: a cluster's workers died running it, as many times as the cluster allows."""

    exitcode: int | None


@dataclass(frozen=True)
class Failed:
    """The function raised in the worker (it should not: batch work reports its own failures);
    ``error`` says so in a sentence."""

    error: str


def start_method() -> str:
    """``forkserver`` where there is one (no fork of a process that may run OpenCV's threads),
    else ``spawn``, which every system has."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _exit_when_orphaned(batch_alive) -> None:
    """A worker whose batch process was killed ends at once (no one would read its answer),
    even in the middle of a long file: nothing is ever sent on ``batch_alive``, so its read
    returns only when the batch process's end closes, which it does when that process dies."""
    try:
        batch_alive.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _serve(connection, function: Callable, setup: Callable | None, batch_alive=None) -> None:
    """A worker's life: set up once, then answer (key, args) messages until told to stop."""
    # Ctrl-C reaches every process of the console: only the batch's own process decides
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if batch_alive is not None:
        threading.Thread(target=_exit_when_orphaned, args=(batch_alive,), daemon=True).start()
    if setup:
        setup()
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        key, args = message
        try:
            answer = function(*args)
        except Exception as exc:  # noqa: BLE001 - reported for this item; the worker goes on
            answer = Failed(f"unexpected error: {type(exc).__name__}: {exc}")
        connection.send((key, answer))


class _Worker:
    def __init__(self, context, function: Callable, setup: Callable | None):
        self.connection, child = context.Pipe()
        batch_alive, self._alive = context.Pipe(duplex=False)  # this process's end: never written
        self.process = context.Process(target=_serve, args=(child, function, setup, batch_alive), daemon=True)
        self.process.start()
        child.close()
        batch_alive.close()
        self.key = None
        self.seconds = 0.0
        self.deadline = float("inf")

    def give(self, key, args, seconds: float) -> None:
        self.key, self.seconds = key, seconds
        self.deadline = time.monotonic() + seconds if seconds > 0 else float("inf")
        self.connection.send((key, args))

    def stop(self, wait_seconds: float = 0) -> None:
        """End the process: politely (``wait_seconds`` to finish) or at once."""
        if wait_seconds and self.process.is_alive():
            try:
                self.connection.send(None)
            except OSError:
                pass
            self.process.join(wait_seconds)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()
        self._alive.close()


class LocalPool:
    """``count`` worker processes running ``function(*args)`` for each item.

    ``setup`` runs once in each new worker (e.g. to load a model, or a test's fake detector).
    """

    def __init__(self, count: int, setup: Callable | None = None, method: str | None = None):
        self.count = max(1, count)
        self.setup = setup
        self.context = multiprocessing.get_context(method or start_method())
        if self.context.get_start_method() == "forkserver":
            # workers fork from a server that has imported the pipeline once: quick to start
            self.context.set_forkserver_preload(["photoguard.pipeline"])

    def run(self, function: Callable, items: Iterable[tuple[object, tuple, float]],
            on_stop: Callable[[object], None] | None = None) -> Iterator[tuple[object, object]]:
        """(key, answer) as answers come, for items (key, args, seconds); seconds 0: no limit.

        An answer is whatever ``function`` returned, or ``Overran``/``Died``/``Failed``.
        ``on_stop(key)`` runs after a worker was stopped or died holding that item (to remove
        what it left behind). When the caller stops iterating, every worker is killed.
        """
        pending = list(items)
        pending.reverse()  # pop() from the end: first item first
        workers: list[_Worker] = []
        try:
            while pending or any(w.key is not None for w in workers):
                for worker in workers:
                    if worker.key is None and pending:
                        key, args, seconds = pending.pop()
                        worker.give(key, args, seconds)
                while pending and len(workers) < self.count:
                    worker = _Worker(self.context, function, self.setup)
                    workers.append(worker)
                    key, args, seconds = pending.pop()
                    worker.give(key, args, seconds)
                yield from self._collect(workers, on_stop)
            for worker in workers:
                worker.stop(wait_seconds=5)
        finally:
            for worker in workers:  # stopped early (an interrupt, an error): no waiting
                if worker.process.is_alive():
                    worker.process.kill()

    def _collect(self, workers: list[_Worker], on_stop) -> Iterator:
        """Wait for the next answers, or the next deadline; end workers that had to go."""
        busy = [w for w in workers if w.key is not None]
        timeout = min(w.deadline for w in busy) - time.monotonic()
        ready = wait([w.connection for w in busy] + [w.process.sentinel for w in busy],
                     None if timeout == float("inf") else max(0.0, timeout))
        for worker in busy:
            verdict = None
            if worker.connection in ready:
                try:
                    key, answer = worker.connection.recv()
                except (EOFError, OSError):  # it died while answering, or before
                    worker.process.join(1)
                    verdict = Died(worker.process.exitcode)
                else:
                    worker.key = None
                    yield key, answer
                    continue
            elif worker.process.sentinel in ready:
                verdict = Died(worker.process.exitcode)
            elif time.monotonic() >= worker.deadline:
                verdict = Overran(worker.seconds)
            else:
                continue
            key = worker.key
            worker.stop()
            workers.remove(worker)  # a new one starts when there is more to do
            if on_stop:
                on_stop(key)
            yield key, verdict


class InProcess:
    """The same interface as LocalPool, running every item here, one after the other, with no
    time budget (nothing could stop a call in this process). For library use and tests."""

    def __init__(self, count: int = 1, setup: Callable | None = None, method: str | None = None):
        self.setup = setup

    def run(self, function: Callable, items, on_stop=None) -> Iterator[tuple[object, object]]:
        if self.setup:
            self.setup()
        for key, args, _ in items:
            yield key, function(*args)
