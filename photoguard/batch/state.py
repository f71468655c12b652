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

from filelock import FileLock, Timeout

from ..errors import UsageError
from ..options import Options
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


class OutputState:
    """The entries of one output folder, locked for the lifetime of the object."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / STATE_FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        # the operating system's own lock (flock, or LockFileEx on Windows): it ends with the
        # process, so a run that was killed never leaves the folder locked
        self._lock = FileLock(self.folder / "lock", timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            raise UsageError(f"another photoguard run is writing to {root}; "
                             "wait for it to finish, then run again") from None
        self.entries = self._load()
        self._journal = open(self.folder / "state.jsonl", "a")

    def _load(self) -> dict[str, Entry]:
        entries = {}
        try:
            with open(self.folder / "state.jsonl") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                        entries[record["copy"]] = Entry(record["source"], record["options"], record["output"])
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a crash: that copy is simply redone
        except FileNotFoundError:
            pass
        return entries

    def key(self, dst: Path) -> str:
        # the same key on every system: "/" between folder names, as on POSIX
        relative = dst.relative_to(self.root).as_posix()
        return hashlib.sha256(relative.encode("utf-8", "surrogateescape")).hexdigest()

    def previous(self, dst: Path) -> Entry | None:
        return self.entries.get(self.key(dst))

    def record(self, dst: Path, entry: Entry) -> None:
        key = self.key(dst)
        self.entries[key] = entry
        self._journal.write(json.dumps({"copy": key, **entry._asdict()}) + "\n")
        self._journal.flush()  # a run killed later still knows about this copy

    def close(self) -> None:
        """Rewrite the journal compactly and release the lock."""
        self._journal.close()
        temp = self.folder / "state.jsonl.tmp"
        with open(temp, "w") as handle:
            for key, entry in sorted(self.entries.items()):
                handle.write(json.dumps({"copy": key, **entry._asdict()}) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.folder / "state.jsonl")
        self._lock.release()

    def __enter__(self) -> "OutputState":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
