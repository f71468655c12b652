"""Reporting results: JSON Lines for programs, short lines for people.

File names and metadata come from the outside world: control characters are removed before
anything is printed, so a hostile name or tag cannot rewrite the terminal.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from .batch import EARLIER_OUTPUT, NOT_OURS, UP_TO_DATE
from .parts.results import Report, Result

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    return _CONTROL.sub("?", str(text))


def _path(path: Path | None) -> str | None:
    # surrogateescape keeps non-UTF-8 names representable; json escapes them
    return None if path is None else str(path)


def faces_json(faces) -> list[dict]:
    return [{"box": list(face.box), "score": round(float(face.score), 4), **_when(face)} for face in faces]


def _when(face) -> dict:
    """A video's face: the seconds from the clip's start during which it is obscured."""
    return {"start": round(face.start, 3), "end": round(face.end, 3)} if hasattr(face, "start") else {}


def faces_words(faces) -> str:
    """'3 faces', or for a video '2 faces (0:00-0:04, 0:12-0:15)'."""
    words = f"{len(faces)} face{'s' * (len(faces) != 1)}"
    spans = [f"{_clock(face.start)}-{_clock(face.end)}" for face in faces if hasattr(face, "start")]
    if spans:
        words += f" ({', '.join(spans[:6])}{', ...' if len(spans) > 6 else ''})"
    return words


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def result_json(result: Result) -> str:
    motion = result.motion
    return json.dumps({
        "input": _path(result.input), "output": _path(result.output), "status": result.status,
        "faces": faces_json(result.faces), "removed": result.removed, "dropped": result.dropped,
        "error": result.error,
        **({"motion": {"output": _path(motion.output), "faces": faces_json(motion.faces), "error": motion.error}}
           if motion else {}),
    }, ensure_ascii=True)


def report_json(item: Report | Result) -> str:
    if isinstance(item, Result):
        return json.dumps({"path": _path(item.input), "status": item.status, "error": item.error,
                           "faces": []}, ensure_ascii=True)
    return json.dumps({
        "path": _path(item.path), "status": "scanned", "format": item.format, "width": item.width,
        "height": item.height, **({"seconds": item.seconds} if item.seconds is not None else {}),
        "faces": faces_json(item.faces), "metadata": item.metadata.as_dict(),
        "dropped": item.dropped, "risks": _risks(item),
    }, ensure_ascii=True)


def report_line(item: Report | Result) -> str:
    """One line of the human-readable scan table."""
    if isinstance(item, Result):
        return f"{printable(item.input)}: {item.status}: {printable(item.error)}"
    said = " · ".join(printable(r) for r in _risks(item) + item.dropped) or "nothing found"
    size = f"{item.width}x{item.height}" if item.width else "sound only"
    length = f" {item.seconds:.1f} s" if item.seconds is not None else ""
    return f"{printable(item.path)}  {item.format.upper()} {size}{length}  {said}"


def _risks(report: Report) -> list[str]:
    return report.metadata.risks() + ([faces_words(report.faces)] if report.faces else [])


def failure_line(result: Result) -> str:
    return f"photoguard: {printable(result.input)}: {printable(result.error)}"


def _not_ours(result: Result) -> bool:
    """A file at the copy's path that photoguard did not write: the output folder is not all safe."""
    return result.status == "skipped" and NOT_OURS in (result.error or "")


def needs_a_line(result: Result) -> bool:
    """Failures, and what a user must hear of though nothing failed: a file in the output
    folder that photoguard did not write, an earlier output folder left out of the input."""
    return result.status == "failed" or _not_ours(result) or result.error == EARLIER_OUTPUT


class Tally:
    """Counts for the closing summary."""

    def __init__(self) -> None:
        self.status: Counter = Counter()
        self.faces = 0
        #: copies that leave out some of their file's pictures (a burst's others, frames, pages)
        self.partial = 0
        #: --keep-motion: Motion Photo videos that could not be kept (their stills were cleaned)
        self.clips_failed = 0
        #: files at copies' paths that photoguard did not write (the folder is not all safe)
        self.not_ours = 0
        #: folders inside the inputs that hold an earlier run's copies, not walked
        self.left_out = 0

    def add(self, result: Result) -> None:
        self.status["up to date" if result.error == UP_TO_DATE else result.status] += 1
        self.not_ours += _not_ours(result)
        self.left_out += result.error == EARLIER_OUTPUT
        if result.status == "cleaned":
            self.faces += sum(len(done.faces) for done in result.with_clip())
            self.partial += bool(result.dropped)
            self.clips_failed += bool(result.motion and result.motion.status == "failed")

    @property
    def any_failed(self) -> bool:
        return bool(self.status["failed"] or self.clips_failed or self.not_ours)

    def summary(self, output_folders: list[Path]) -> str:
        where = ", ".join(printable(p) for p in output_folders) or "nowhere"
        fresh = f"{self.status['up to date']} up to date, " if self.status["up to date"] else ""
        partial = f"pictures left out of {self.partial} cop{'y' if self.partial == 1 else 'ies'}; " \
            if self.partial else ""
        clips = f"{self.clips_failed} Motion Photo video{'s' * (self.clips_failed != 1)} not kept; " \
            if self.clips_failed else ""
        left_out = f"{self.left_out} earlier output folder{'s' * (self.left_out != 1)} left out; " \
            if self.left_out else ""
        verdict = f"safe copies in {where}"
        if self.not_ours:
            verdict = (f"{self.not_ours} file{'s' * (self.not_ours != 1)} that photoguard did not write in "
                       f"{where}: not all of it is safe")
        return (f"{self.status['cleaned']} cleaned, {fresh}{self.status['skipped']} skipped, "
                f"{self.status['failed']} failed; {clips}{self.faces} face{'s' * (self.faces != 1)} obscured; "
                f"{partial}{left_out}{verdict}")

