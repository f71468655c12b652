"""Many files: where each copy goes (``plan``), what earlier runs wrote (``state``), and the
batch itself (``run``) on worker processes here or an executor (``executors``)."""

from .plan import EARLIER_OUTPUT
from .run import NOT_OURS, UP_TO_DATE, clean_batch, clean_job, clean_paths, guarded, run_batch, scan_job

__all__ = ["EARLIER_OUTPUT", "NOT_OURS", "UP_TO_DATE", "clean_batch",
 "clean_job", "clean_paths", "guarded", "run_batch", "scan_job"]
