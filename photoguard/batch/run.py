"""Many files: worker processes (or a cluster), per-file guards and budgets, output folders
locked and earlier work reused, nothing half-written left behind.

Workers write each copy under a temporary name and check it; the process that holds the
output folders' locks moves it into place and records it (``atomic.staged``). So a worker that
is stopped, dies or is lost with its machine leaves only temporary files, which are removed.
"""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from ..errors import OutputError, OutputExists, PhotoguardError, TimeBudgetExceeded
from ..media.video import duration_seconds
from ..media.video.motion import clip_path
from ..options import Options
from ..parts import atomic, detection
from ..parts.results import Entry, Report, Result
from ..pipeline import clean_file, scan_file
from . import executors
from .executors import Died, Failed, Overran
from .plan import Job, find_inputs, plan_outputs
from .state import OutputState, file_sha256, options_fingerprint

UP_TO_DATE = "up to date (cleaned earlier with the same options)"
EXISTS_HINT = "(use --overwrite to replace it)"
#: said of a file at a copy's path that no run recorded: it may be anything, an original too
NOT_OURS = "photoguard did not write it"


def clean_paths(paths, output=None, options: Options = Options(), executor=None, rename: bool = False,
                follow_links: bool = False) -> Iterator[Result]:
    """``photoguard clean PATHS [-o OUTPUT]`` as a function: a Result per file found, in order.

    ``executor`` as for ``clean_batch``: a number of local worker processes, or a Dask
    ``distributed.Client`` or ``concurrent.futures`` executor.
    """
    jobs = plan_outputs(find_inputs([Path(p) for p in paths], follow_links), Path(output) if output else None,
                        options.output_format, rename)
    yield from clean_batch(jobs, options, executor)


def clean_batch(jobs: list[Job], options: Options, executor=None,
                work: Callable[[Job, Options], Result] | None = None) -> Iterator[Result]:
    """Results in input order.

    ``executor``: how many worker processes to run here (None: one per CPU; 0: none, in this
    process, with no time budget), or an executor to run the files on: anything with
    ``submit`` that returns futures, such as a ``concurrent.futures`` executor or a Dask
    ``distributed.Client`` (workers must see the files at the same paths).

    Stops cleanly when the consumer stops (e.g. on an interrupt): work cancelled, temporary
    files removed, the state of the copies already in place kept.
    """
    roots = sorted({job.out_root for job in jobs if job.out_root})
    # only folders inside their output folder: one reached through a link is someone else's
    folders = {job.dst.parent for job in jobs if job.dst and _inside(job.dst.parent, job.out_root)}
    with ExitStack() as stack:
        states = {root: stack.enter_context(OutputState(root)) for root in roots}
        atomic.remove_temporaries(folders)  # left by a run that was killed: we hold the lock now
        planned = [_with_history(job, states[job.out_root], options) if job.dst else job for job in jobs]

        def settled():
            for index, result, pending in _arrivals(work or clean_job, planned, options, executor):
                job = planned[index]
                yield index, _settle(job, result, pending, states[job.out_root].record if job.out_root else None)

        try:
            yield from _in_order(settled(), len(planned))
        finally:
            atomic.remove_temporaries(folders)


def run_batch(work: Callable, jobs: list[Job], options: Options, executor=None) -> Iterator:
    """``work(job, options)`` for every job, results in input order (for work that writes no copy)."""
    def answers():
        for index, value, pending in _arrivals(work, jobs, options, executor):
            _discard(pending)
            yield index, value

    yield from _in_order(answers(), len(jobs))


def clean_job(job: Job, options: Options) -> Result:
    """One batch item: never raises for a bad file, the failure is in the result."""
    return guarded(job, options, _clean_planned)


def scan_job(job: Job, options: Options) -> Report | Result:
    return guarded(job, options, lambda job, options: scan_file(job.src, options))


def guarded(job: Job, options: Options, action: Callable) -> Report | Result:
    """``action`` for one file, every failure turned into a Result."""
    if job.problem:
        return Result(job.src, None, "failed", error=job.problem)
    if job.format is None:
        return Result(job.src, None, "skipped", error=job.skip or "neither an image nor a video")
    try:
        return action(job, options)
    except OutputExists as exc:
        return _not_ours(job, exc)
    except PhotoguardError as exc:
        return Result(job.src, None, "failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the batch: fail closed, go on
        return Result(job.src, None, "failed", error=f"unexpected error: {type(exc).__name__}: {exc}")


def _with_history(job: Job, state: OutputState, options: Options) -> Job:
    """The job, with what the output folder's state recorded about its copies."""
    clip = state.previous(clip_path(job.dst)) if options.keep_motion else None
    return replace(job, previous=state.previous(job.dst), previous_clip=clip)


def _clean_planned(job: Job, options: Options) -> Result:
    """``clean_file``, knowing what an earlier run recorded for ``job.dst`` (``job.previous``,
    and ``job.previous_clip`` for a Motion Photo's clip)."""
    if job.out_root and not _inside(job.dst.parent, job.out_root):
        raise OutputError(f"{job.dst.parent} leads outside the output folder through a link; "
                          "photoguard does not write there", job.dst)
    source, fingerprint = file_sha256(job.src), options_fingerprint(options)
    ours = _ours(job.dst, job.previous)
    # a clip recorded before must still be there as it was (a photo with no clip has none)
    clip_kept = job.previous_clip is None or _ours(clip_path(job.dst), job.previous_clip)
    if ours and clip_kept and all(previous is None or (previous.source, previous.options) == (source, fingerprint)
                                  for previous in (job.previous, job.previous_clip)):
        return Result(job.src, job.dst, "skipped", error=UP_TO_DATE)
    if ours:  # our own copy, of an older version of the file or made with other options
        options = replace(options, overwrite=True)
    result = clean_file(job.src, job.dst, options)
    for done in result.with_clip():
        if done.status == "cleaned" and done.output:
            done.record = Entry(source, fingerprint, file_sha256(atomic.written_path(done.output)))
    return result


def _inside(folder: Path, out_root: Path) -> bool:
    """True when ``folder`` is ``out_root`` or in it, once links are followed."""
    resolved = folder.resolve()
    return out_root.resolve() in (resolved, *resolved.parents)


def _ours(copy: Path, previous: Entry | None) -> bool:
    """True when ``copy`` is what an earlier run wrote there and recorded."""
    return previous is not None and copy.exists() and file_sha256(copy) == previous.output


# --- running the jobs ----------------------------------------------------------------------


def batch_task(work: Callable, options: Options, cores: int, job: Job, tag: str):
    """What a worker runs for one file: ``work`` on ``cores`` cores, its copies left staged
    for the lock holder.

    Returns (work's result, the staged copies).
    """
    if options.faces or job.format == "video":
        detection.use_cores(cores)
    with atomic.staged(tag) as pending:
        value = work(job, options)
    return value, list(pending)


#: a video's time budget grows by this many seconds per second of it: one core takes about 3 s
#: per second of a 1080p30 clip (detection, decoding, encoding), a 4K clip several times that
VIDEO_SECONDS_PER_SECOND = 12


def budget_seconds(job: Job, options: Options) -> float:
    """The time one file may take (0: no limit): --max-seconds, and for a video more in
    proportion to its length (up to --max-duration, beyond which it is refused anyway)."""
    if options.max_seconds <= 0 or job.format != "video":
        return options.max_seconds
    try:
        length = min(duration_seconds(job.src), options.max_duration)
    except PhotoguardError:
        return options.max_seconds  # its worker finds the same fault, and says it
    return options.max_seconds + VIDEO_SECONDS_PER_SECOND * length


def _arrivals(work: Callable, jobs: list[Job], options: Options, executor):
    """(index, result, staged copies) for every job, as they come."""
    run = secrets.token_hex(3)  # marks this run's temporary files, with the job's index
    items = []
    for index, job in enumerate(jobs):
        if job.format is None or job.problem:
            yield index, work(job, options), []  # nothing to open: answered here at once
        else:
            items.append((index, (job, f"{run}{index}"), budget_seconds(job, options)))
    if not items:
        return

    def left_behind(index: int) -> None:
        if jobs[index].dst:
            atomic.remove_temporaries([jobs[index].dst.parent], f"{run}{index}")

    remote = executors.is_remote(executor)
    if remote:  # other machines, other working folders: they are given absolute paths
        items = [(index, (_absolute(job), tag), seconds) for index, (job, tag), seconds in items]
    runner, cores = executors.runner(executor, len(items), options)
    for index, answer in runner.run(partial(batch_task, work, options, cores), items, on_stop=left_behind):
        if not isinstance(answer, tuple):
            yield index, _failure(jobs[index], answer), []
            continue
        value, pending = answer
        if remote and isinstance(value, Result):
            value.input = jobs[index].src  # reported as given, as in a local run
        yield index, value, pending


def _absolute(job: Job) -> Job:
    return replace(job, src=job.src.absolute(), root=job.root.absolute())


def _failure(job: Job, answer) -> Result:
    if isinstance(answer, Overran):
        error = str(TimeBudgetExceeded(f"gave up after {answer.seconds:g} seconds", job.src))
    elif isinstance(answer, Died) and answer.exitcode is None:
        error = "the cluster's workers stopped each time they ran this file; no copy was written"
    elif isinstance(answer, Died):
        how = (f"killed by signal {-answer.exitcode}" if answer.exitcode < 0 else f"exit code {answer.exitcode}")
        error = f"the worker process stopped unexpectedly ({how}); no copy was written"
    elif isinstance(answer, Failed):
        error = answer.error
    else:
        error = f"unexpected answer from a worker: {type(answer).__name__}"
    return Result(job.src, None, "failed", error=error)


def _settle(job: Job, result: Result, pending: list[atomic.Staged], record: Callable | None) -> Result:
    """Record each of a result's staged copies in the output folder's state, then move it into
    place, its own copy first; a copy that cannot be recorded or moved says so (a Motion
    Photo's clip that cannot follow its still fails on its own)."""
    if result.status != "cleaned":
        _discard(pending)
        return result
    pending = sorted(pending, key=lambda item: item.dst != job.dst)
    entries = {done.output: done.record for done in result.with_clip() if done.record and done.output}
    for done, item in enumerate(pending):
        try:
            if record and item.dst in entries:
                record(item.dst, entries[item.dst])
            atomic.commit(item)
        except PhotoguardError as exc:
            _discard(pending[done + 1:])
            if done and result.motion is not None:
                result.motion = Result(job.src, None, "failed",
                                       error=f"its Motion Photo video was not kept: {exc}")
                return result
            return _not_ours(job, exc) if isinstance(exc, OutputExists) else Result(job.src, None, "failed",
                                                                                      error=str(exc))
    return result


def _not_ours(job: Job, exc: OutputExists) -> Result:
    return Result(job.src, job.dst, "skipped", error=f"{exc.message} and {NOT_OURS} {EXISTS_HINT}")


def _discard(pending: list[atomic.Staged]) -> None:
    for item in pending:
        item.temp.unlink(missing_ok=True)


def _in_order(arrivals, count: int) -> Iterator:
    """The values of (index, value) pairs that arrive in any order, yielded by index."""
    waiting, following = {}, 0
    for index, value in arrivals:
        waiting[index] = value
        while following in waiting:
            yield waiting.pop(following)
            following += 1
