"""photoguard on a Dask cluster: reaching its scheduler and preparing its workers.

Dask itself (the optional ``cluster`` extra) is imported only when a run is given a scheduler
address or a ``distributed.Client``: a local run loads nothing of it. Every worker needs
photoguard installed (the same version as here) and must see the photos and the output folder
at the same paths as this computer.
"""

from __future__ import annotations

import time

from ...errors import UsageError, reason
from ...options import Options
from ...parts import detection
from ...parts.detect import check_engine
from ...version import __version__

INSTALL = 'pip install "photoguard[cluster]"'
#: how long to wait for the scheduler to answer, and for a first worker to join it
CONNECT_SECONDS = 10
WORKER_SECONDS = 60


def _distributed():
    try:
        import distributed  # deferred: an optional extra (cluster runs only)
    except ImportError:
        raise UsageError(f"running on a cluster needs Dask's distributed scheduler: {INSTALL}") from None
    return distributed


def connect(address: str):
    """A client of the scheduler at ``address``, with at least one worker that runs this
    version of photoguard. UsageError (one line, naming the address) otherwise."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address} ({reason(exc)[:160]})") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_SECONDS)
        versions = client.run(_WORKER_VERSION)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise UsageError(f"no worker joined the Dask scheduler at {address} within {WORKER_SECONDS} s; "
                         f"start one with: dask worker {address}") from exc
    others = sorted({v for v in versions.values() if v != __version__})
    if others:
        client.close()
        raise UsageError(f"the workers of {address} run photoguard {', '.join(others)}, this computer "
                         f"{__version__}; install the same version everywhere")
    return client


#: what each worker answers: the version of photoguard it has. A worker may have another
#: version, whose modules lie elsewhere, so this is sent by value (a lambda has no name that a
#: worker could look up) and names nothing of photoguard's but the package
_WORKER_VERSION = lambda: __import__("photoguard").__version__  # noqa: E731


def prepare(client, function, options: Options):
    """Ready the cluster for a batch: every worker (and any that joins later) builds the face
    detector once, checking its model files, before its first file; the work function with
    its options goes to the workers once rather than with every file. Returns what to submit
    in place of ``function``."""
    distributed = _distributed()

    class PhotoguardWorker(distributed.WorkerPlugin):
        name = "photoguard"

        def setup(self, worker):
            _ready(options)

    client.register_plugin(PhotoguardWorker(), name="photoguard")
    return client.scatter(function, broadcast=True, hash=False)


def _ready(options: Options) -> None:
    if options.faces:
        check_engine(options.detector)
        detection.use_cores(1)
        detection.get_detector(options)


def threads(client) -> int:
    """Worker threads in the cluster now."""
    return sum(client.nthreads().values())


#: after a cancel, how long to wait for the files already running to end (their copies are
#: then discarded); a file still running after that leaves a temporary file, which the
#: output folder's next run removes
STOP_SECONDS = 5


def wait_until_stopped(client, keys: list) -> None:
    """Wait (a little) until no worker runs any of the cancelled tasks ``keys``."""
    wanted = set(keys)

    def running(dask_worker):
        return [key for key, task in dask_worker.state.tasks.items()
                if key in wanted and task.state in ("executing", "long-running", "cancelled")]

    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        try:
            if not any(client.run(running).values()):
                return
        except Exception:  # noqa: BLE001 - a cluster that cannot answer: nothing more to wait for
            return
        time.sleep(0.1)
