"""Writing a file so that it appears whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from .errors import OutputError, OutputExists

TEMP_PREFIX = ".photoguard-"


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(dst: Path, write: Callable[[BinaryIO], None], check: Callable[[Path], None],
                     overwrite: bool = False) -> None:
    """Write to a temporary name beside ``dst``, fsync, ``check`` it, then move it into place.

    ``check`` re-reads the temporary file and raises when it is not acceptable; on any failure
    the temporary file is removed and ``dst`` is left as it was.
    """
    if dst.exists() and not overwrite:
        raise OutputExists(f"{dst} already exists", dst)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=dst.parent)
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
        if overwrite:
            os.replace(temp, dst)
        else:
            _move_without_replacing(temp, dst)
        _fsync_folder(dst.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {dst}: {exc.strerror or exc}", dst) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _move_without_replacing(temp: Path, dst: Path) -> None:
    try:
        os.link(temp, dst)  # fails if dst appeared meanwhile: never clobber
    except FileExistsError as exc:
        raise OutputExists(f"{dst} already exists", dst) from exc
    except OSError:
        # file systems without hard links: fall back to a checked rename
        if dst.exists():
            raise OutputExists(f"{dst} already exists", dst) from None
        os.rename(temp, dst)
        return
    temp.unlink()


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync folders; the file itself was synced
    finally:
        os.close(fd)


def remove_temporaries(folders) -> int:
    """Delete temporary files a stopped run left in ``folders``; returns how many."""
    removed = 0
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.startswith(TEMP_PREFIX) and name.endswith(".tmp"):
                try:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
                except OSError:
                    pass
    return removed
