"""Many files: worker processes, per-file guards and budgets, output folders locked and
earlier work reused, nothing half-written left behind."""

from __future__ import annotations

import multiprocessing
import os
from contextlib import ExitStack
from dataclasses import replace
from functools import partial
from typing import Callable, Iterator

from .atomic import remove_temporaries
from .budget import time_budget
from .errors import OutputError, OutputExists, PhotoguardError
from .options import Options
from .pipeline import Report, Result, clean_file, scan_file
from .state import Entry, OutputState, file_sha256, options_fingerprint
from .walk import Job

UP_TO_DATE = "up to date (cleaned earlier with the same options)"


def clean_batch(jobs: list[Job], options: Options, workers: int,
                work: Callable[[Job, Options], Result] | None = None) -> Iterator[Result]:
    """Results in input order. Stops cleanly when the consumer stops (e.g. on an interrupt):
    workers terminated, temporary files removed, the state of finished copies kept."""
    roots = sorted({job.out_root for job in jobs if job.out_root})
    folders = {job.dst.parent for job in jobs if job.dst}
    with ExitStack() as stack:
        states = {root: stack.enter_context(OutputState(root)) for root in roots}
        remove_temporaries(folders)  # left by a run that was killed: we hold the lock now
        planned = [replace(job, previous=states[job.out_root].previous(job.dst)) if job.dst else job
                   for job in jobs]
        try:
            for job, result in zip(planned, run_batch(work or clean_job, planned, options, workers)):
                if result.record and result.output:
                    states[job.out_root].record(result.output, result.record)
                yield result
        finally:
            remove_temporaries(folders)


def clean_job(job: Job, options: Options) -> Result:
    """One batch item: never raises for a bad file, the failure is in the result."""
    return guarded(job, options, _clean_planned)


def scan_job(job: Job, options: Options) -> Report | Result:
    return guarded(job, options, lambda job, options: scan_file(job.src, options))


def guarded(job: Job, options: Options, action: Callable) -> Report | Result:
    """``action`` for one file within its time budget, every failure turned into a Result."""
    if job.problem:
        return Result(job.src, None, "failed", error=job.problem)
    if job.format is None:
        return Result(job.src, None, "skipped", error=job.skip or "not an image")
    try:
        with time_budget(options.max_seconds, job.src):
            return action(job, options)
    except OutputExists as exc:
        return Result(job.src, job.dst, "skipped", error=f"{exc.message} (use --overwrite to replace it)")
    except PhotoguardError as exc:
        return Result(job.src, None, "failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the batch: fail closed, go on
        return Result(job.src, None, "failed", error=f"unexpected error: {type(exc).__name__}: {exc}")


def _clean_planned(job: Job, options: Options) -> Result:
    """``clean_file``, knowing what an earlier run recorded for ``job.dst`` (``job.previous``)."""
    if job.out_root and job.out_root.resolve() not in (job.dst.parent.resolve(), *job.dst.parent.resolve().parents):
        raise OutputError(f"{job.dst.parent} leads outside the output folder through a link; "
                          "photoguard does not write there", job.dst)
    source, fingerprint = file_sha256(job.src), options_fingerprint(options)
    ours = job.previous is not None and job.dst.exists() and file_sha256(job.dst) == job.previous.output
    if ours and (job.previous.source, job.previous.options) == (source, fingerprint):
        return Result(job.src, job.dst, "skipped", error=UP_TO_DATE)
    if ours:  # our own copy, of an older version of the file or made with other options
        options = replace(options, overwrite=True)
    result = clean_file(job.src, job.dst, options)
    result.record = Entry(source, fingerprint, file_sha256(job.dst))
    return result


def _one_thread_each() -> None:
    """-j N means N cores: each worker runs OpenCV on one thread, so none fight for a core."""
    import cv2

    cv2.setNumThreads(1)


def _init_worker() -> None:
    import signal

    _one_thread_each()
    # Ctrl-C reaches the whole process group: only the main process decides what to do
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_batch(work: Callable, jobs: list[Job], options: Options, workers: int) -> Iterator:
    """Results in input order, whatever the number of workers.

    When the caller stops early (an interrupt, an error), the workers are terminated; files
    they were writing stay as temporary files that ``atomic.remove_temporaries`` clears.
    """
    images = sum(1 for job in jobs if job.format)
    if workers <= 1 or images <= 1:
        if workers <= 1 and options.faces:
            _one_thread_each()
        for job in jobs:
            yield work(job, options)
        return
    # never fork a process that may already run OpenCV's thread pool: that can deadlock
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(min(workers, images), initializer=_init_worker) as pool:  # exit terminates
        yield from pool.imap(partial(work, options=options), jobs, chunksize=1)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
