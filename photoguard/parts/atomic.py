"""Writing a file so that it appears whole or not at all.

A copy is written under a temporary name in its target folder, synced, checked, and only then
moved into place. In a batch, the move is left to the process that holds the output folder's
lock (``staged``): a worker that is stopped or dies part way leaves only temporary files,
which that process removes, and no copy appears that the folder's state does not record.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, NamedTuple

from ..errors import OutputError, OutputExists

TEMP_PREFIX = ".photoguard-"
TEMP_SUFFIX = ".tmp"


class Staged(NamedTuple):
    """A written and checked copy, still under its temporary name."""

    temp: Path
    dst: Path
    overwrite: bool


#: per thread, because a program may run several files at once in threads of one process
_batch = threading.local()


@contextmanager
def staged(tag: str):
    """Within the block, copies are left under temporary names that hold ``tag`` (so that
    whoever stops this work can find and remove them) instead of being moved into place.
    Yields the list of ``Staged`` copies, for the caller to ``commit``."""
    pending: list[Staged] = []
    _batch.tag, _batch.pending = tag, pending
    try:
        yield pending
    finally:
        _batch.tag = _batch.pending = None


def written_path(dst: Path) -> Path:
    """Where the copy meant for ``dst`` is now: its temporary name while it is staged."""
    for item in getattr(_batch, "pending", None) or ():
        if item.dst == dst:
            return item.temp
    return dst


#: open() refuses a link as the path's last part where the system has the flag (POSIX); where
#: it has not (Windows), the path is checked just before it is opened
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def open_no_follow(path: Path, flags: int, mode: int = 0o666) -> int:
    """``os.open`` that never follows a link at ``path`` (OSError ELOOP instead), so that a
    link planted in the output folder cannot make photoguard write elsewhere."""
    if not _NO_FOLLOW and os.path.islink(path):
        raise OSError(errno.ELOOP, "it is a link", str(path))
    return os.open(path, flags | _NO_FOLLOW | _BINARY, mode)


def create_new(path: Path) -> BinaryIO:
    """``path`` opened for writing as a new file: whatever had that name (a file left by a
    stopped run, or a link) is removed first, never written through."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666), "wb")


def probe_writable(folder: Path) -> None:
    """OSError unless a file can be created in ``folder`` (permissions alone do not tell: root,
    read-only mounts, Windows attributes). The probe has a temporary name, removed at once."""
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    os.unlink(name)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(dst: Path, write: Callable[[BinaryIO], None], check: Callable[[Path], None],
                     overwrite: bool = False) -> None:
    """Write to a temporary name beside ``dst``, fsync, ``check`` it, then move it into place
    (or, within ``staged``, leave it for the caller to commit).

    ``check`` re-reads the temporary file and raises when it is not acceptable; on any failure
    the temporary file is removed and ``dst`` is left as it was.
    """
    if dst.exists() and not overwrite:
        raise OutputExists(f"{dst} already exists", dst)
    tag = getattr(_batch, "tag", None)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{tag}-" if tag else TEMP_PREFIX,
                                         suffix=TEMP_SUFFIX, dir=dst.parent)
    except OSError as exc:
        raise OutputError(f"cannot write into {dst.parent}: {exc.strerror or exc}", dst) from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _default_mode())  # mkstemp makes 0600; copies get the user's usual mode
        check(temp)
        if tag is not None:
            _batch.pending.append(Staged(temp, dst, overwrite))
        else:
            commit(Staged(temp, dst, overwrite))
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {dst}: {exc.strerror or exc}", dst) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def commit(item: Staged) -> None:
    """Move a staged copy into place; OutputExists when ``dst`` appeared and may not be replaced."""
    try:
        if item.overwrite:
            os.replace(item.temp, item.dst)
        else:
            _move_without_replacing(item.temp, item.dst)
    except OutputExists:
        item.temp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        item.temp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {item.dst}: {exc.strerror or exc}", item.dst) from exc
    _fsync_folder(item.dst.parent)


def _move_without_replacing(temp: Path, dst: Path) -> None:
    link = getattr(os, "link", None)
    try:
        if link is None:
            raise OSError("no hard links here")
        link(temp, dst)  # fails if dst appeared meanwhile: never clobber
    except FileExistsError as exc:
        raise OutputExists(f"{dst} already exists", dst) from exc
    except OSError:
        # file systems (or systems) without hard links: fall back to a checked rename
        if dst.exists():
            raise OutputExists(f"{dst} already exists", dst) from None
        os.rename(temp, dst)
        return
    temp.unlink()


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder as a file; its rename is durable on its own
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync folders; the file itself was synced
    finally:
        os.close(fd)


def remove_temporaries(folders, tag: str | None = None) -> int:
    """Delete temporary files a stopped run left in ``folders`` (only those marked with
    ``tag`` when given); returns how many."""
    prefix = f"{TEMP_PREFIX}{tag}-" if tag else TEMP_PREFIX
    removed = 0
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.startswith(prefix) and name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
                except OSError:
                    pass
    return removed
