"""What the handlers give back: a Result for each file cleaned (or not), a Report for each
file scanned, and the Entry an output folder's state keeps for each copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .detect.base import Face
from .metadata import Metadata


class Entry(NamedTuple):
    """A copy, as hashes: of its source's content, of the options, and of the copy itself."""

    source: str
    options: str
    output: str


@dataclass
class Result:
    """What happened to one input file."""

    input: Path
    output: Path | None
    status: str  # cleaned | skipped | failed
    faces: list[Face] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    error: str | None = None
    #: pictures of the file that the copy leaves out, in plain words ("3 more burst pictures")
    dropped: list[str] = field(default_factory=list)
    #: what the output folder's state should remember about the copy (None: nothing new)
    record: Entry | None = field(default=None, repr=False)
    #: --keep-motion: the result for the cleaned clip of a Motion Photo, written beside the copy
    motion: "Result | None" = None

    def with_clip(self) -> list[Result]:
        """This result, and its Motion Photo clip's when there is one."""
        return [self] if self.motion is None else [self, self.motion]


@dataclass
class Report:
    """What one file gives away."""

    path: Path
    format: str
    width: int
    height: int
    faces: list[Face]
    metadata: Metadata
    #: pictures of the file that a copy would leave out, in plain words
    dropped: list[str] = field(default_factory=list)
    #: a video's length
    seconds: float | None = None
