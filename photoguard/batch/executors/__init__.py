"""What runs a batch's files, behind one seam (``runner``): worker processes on this computer
(``local``), or an executor photoguard does not own (``futures``): a ``concurrent.futures``
executor, or a Dask cluster's client, which ``cluster`` reaches and prepares.

Every runner has ``run(function, items, on_stop)`` and gives (key, answer) as answers come;
an answer is what ``function`` returned, or ``Overran``, ``Died`` or ``Failed``.
"""

from __future__ import annotations

import os

from ...options import Options
from .futures import FuturesRunner
from .local import Died, Failed, InProcess, LocalPool, Overran

__all__ = ["Died", "Failed", "FuturesRunner", "InProcess", "LocalPool", "Overran", "default_workers", "is_remote",
           "runner"]


def is_remote(executor) -> bool:
    """True for an executor (anything with ``submit``), whose workers may be other machines."""
    return hasattr(executor, "submit")


def runner(executor, files: int, options: Options):
    """What runs ``files`` files, and how many cores each of its workers may use.

    ``executor``: how many worker processes to run here (None: one per CPU; 0: none, in this
    process, with no time budget), or an executor (see ``is_remote``).
    """
    if is_remote(executor):
        return FuturesRunner(executor, options), 1  # one file per worker thread, one core each
    cores = default_workers() if executor is None else executor
    if cores <= 0:
        return InProcess(), default_workers()
    workers = min(cores, files)  # fewer files than cores: each worker gets more cores (videos use them)
    return LocalPool(workers), max(1, cores // workers)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
