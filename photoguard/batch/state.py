"""What earlier runs wrote into an output folder, so that a repeated run redoes nothing.

The output folder is what gets posted, so the state holds hashes only: of each copy's name
relative to the folder, of its source's content, of the options, and of the copy itself. No
original path, name or date. A lock file keeps two runs from writing into one folder at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from filelock import FileLock, SoftFileLock, Timeout

from ..errors import OutputError, UsageError
from ..options import Options
from ..parts import atomic
from ..parts.results import Entry
from ..version import __version__

STATE_FOLDER = ".photoguard"
#: options that change neither the pixels nor the metadata of a copy
_NOT_IN_FINGERPRINT = {"overwrite", "max_pixels", "max_seconds", "max_duration"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def options_fingerprint(options: Options) -> str:
    fields = {k: v for k, v in dataclasses.asdict(options).items() if k not in _NOT_IN_FINGERPRINT}
    text = json.dumps([__version__, fields], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _append(fd: int, data: bytes) -> None:
    """Write all of ``data`` at the end of the file open as ``fd`` (unbuffered: a failure is
    seen here, at once, never later at a flush)."""
    while data:
        data = data[os.write(fd, data):]


def _line(key: str, entry: Entry) -> bytes:
    return (json.dumps({"copy": key, **entry._asdict()}) + "\n").encode()


class OutputState:
    """The entries of one output folder, locked for the lifetime of the object.

    Its files are never reached through links (one planted there would make photoguard
    write outside the output folder), and any trouble with the folder is a UsageError:
    nothing is started.
    """

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / STATE_FOLDER
        self.path = self.folder / "state.jsonl"
        self._lock = None
        try:
            self._open()
        except OSError as exc:
            self._release()
            raise UsageError(f"cannot use the output folder {root}: {exc.strerror or exc}", root) from exc
        except UsageError:
            self._release()
            raise

    def _open(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _refuse_link(self.folder)
        self.folder.mkdir(exist_ok=True)
        for folder in (self.root, self.folder):  # read-only (a locked card, a share): say so before any work
            atomic.probe_writable(folder)
        lock = self.folder / "lock"
        for path in (lock, self.path, self.path.with_name(self.path.name + ".tmp")):
            _refuse_link(path)
        if not issubclass(FileLock, SoftFileLock):  # a soft lock is a file that exists only while held
            os.close(atomic.open_no_follow(lock, os.O_WRONLY | os.O_CREAT))
        # the operating system's own lock (flock, or LockFileEx on Windows): it ends with the
        # process, so a run that was killed never leaves the folder locked
        self._lock = FileLock(lock, timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            raise UsageError(f"another photoguard run is writing to {self.root}; "
                             "wait for it to finish, then run again") from None
        self._refuse_inside_a_running_output()
        self.entries, ends_whole = self._load()
        self._journal = atomic.open_no_follow(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._broken = False
        if not ends_whole:  # a line cut short (a full disk, a crash): the next one starts afresh
            _append(self._journal, b"\n")

    def _refuse_inside_a_running_output(self) -> None:
        """A run into a subfolder of another running run's output would write among its copies."""
        for parent in self.root.resolve().parents:
            lock = parent / STATE_FOLDER / "lock"
            if os.path.islink(lock) or not lock.is_file():
                continue
            other = FileLock(lock, timeout=0)
            try:
                other.acquire()
            except Timeout:
                raise UsageError(f"another photoguard run is writing to {parent}, which holds {self.root}; "
                                 "wait for it to finish, or choose another output folder") from None
            except OSError:
                continue  # a lock this user cannot open is no run of this user's
            other.release()

    def _load(self) -> tuple[dict[str, Entry], bool]:
        """The entries recorded, and whether the journal's last line is whole."""
        entries = {}
        try:
            with open(self.path, "rb") as handle:
                text = handle.read()
        except FileNotFoundError:
            return entries, True
        for line in text.splitlines():
            try:
                record = json.loads(line)
                entries[record["copy"]] = Entry(record["source"], record["options"], record["output"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: that copy is simply redone
        return entries, text.endswith(b"\n") or not text

    def key(self, dst: Path) -> str:
        # the same key on every system: "/" between folder names, as on POSIX
        relative = dst.relative_to(self.root).as_posix()
        return hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()

    def previous(self, dst: Path) -> Entry | None:
        return self.entries.get(self.key(dst))

    def record(self, dst: Path, entry: Entry) -> None:
        """Write the entry to the journal, before its copy is moved into place: a copy the state
        does not know would be taken for someone else's by the next run. OutputError when it
        cannot be written (a full disk); no copy is recorded after that."""
        key = self.key(dst)
        if self._broken:
            raise OutputError(f"cannot record the copy in {self.folder}: an earlier write failed", dst)
        try:
            _append(self._journal, _line(key, entry))
        except OSError as exc:
            self._broken = True  # what got written is a line cut short, which the next run skips
            raise OutputError(f"cannot record the copy in {self.folder}: {exc.strerror or exc}", dst) from exc
        self.entries[key] = entry

    def close(self) -> None:
        """Rewrite the journal compactly (when the disk lets it: the journal holds the same
        entries anyway) and release the lock."""
        os.close(self._journal)
        temp = self.path.with_name(self.path.name + ".tmp")
        try:
            with atomic.create_new(temp) as handle:
                _append(handle.fileno(), b"".join(_line(key, entry) for key, entry in sorted(self.entries.items())))
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except OSError:
            temp.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "OutputState":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _refuse_link(path: Path) -> None:
    if os.path.islink(path):
        raise UsageError(f"{path} is a link; photoguard never writes through links in an output folder "
                         "(remove it, or choose another output folder)", path)
