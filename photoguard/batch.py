"""Cleaning a planned batch: output folders locked, earlier work reused, nothing half-written left."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from typing import Callable, Iterator

from .atomic import remove_temporaries
from .options import Options
from .pipeline import Result, clean_job, run_batch
from .state import OutputState
from .walk import Job


def clean_batch(jobs: list[Job], options: Options, workers: int,
                work: Callable[[Job, Options], Result] = clean_job) -> Iterator[Result]:
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
            for result in run_batch(work, planned, options, workers):
                if result.record and result.output:
                    states[_root_of(result, planned)].record(result.output, result.record)
                yield result
        finally:
            remove_temporaries(folders)


def _root_of(result: Result, jobs: list[Job]):
    return next(job.out_root for job in jobs if job.dst == result.output)
