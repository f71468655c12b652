"""Motion Photos: the short video a Google or Samsung phone stores inside a photo, and the name
of its cleaned clip next to the still's copy (``--keep-motion``; the pipeline cleans the pair).

Google and Samsung JPEGs carry the MP4 after the JPEG's end (Samsung follows it with its own
SEF trailer); Samsung HEICs carry it in a top-level ``mpvd`` box, Google HEICs after the HEIF
boxes. The clip is taken as the run of MP4 top-level boxes that starts with its ``ftyp``,
up to the first bytes that are not one.
"""

from __future__ import annotations

from pathlib import Path

from ...parts.formats.jpeg import walk
from ...parts.isobmff import Box, children

#: the clip's name: the still's copy's name with this ending
SUFFIX = "-motion.mp4"
#: top-level boxes an embedded MP4 is made of
_MP4_TOP = {"ftyp", "moov", "mdat", "free", "skip", "wide", "uuid", "meta", "moof", "mfra", "sidx", "styp"}


def clip_path(still_copy: Path) -> Path:
    return still_copy.with_name(still_copy.stem + SUFFIX)


def embedded_clip(data: bytes) -> bytes | None:
    """The MP4 inside a Motion Photo JPEG or HEIC, or None."""
    if data.startswith(b"\xff\xd8"):
        return _after_jpeg(data)
    if data[4:8] == b"ftyp":
        return _in_heif(data)
    return None


def _after_jpeg(data: bytes) -> bytes | None:
    try:
        trailer = next(start for marker, start, _, _ in walk(data) if marker is None)
    except ValueError:
        return None
    at = data.find(b"ftyp", trailer)
    return _mp4_at(data, at - 4) if at >= trailer + 4 else None


def _in_heif(data: bytes) -> bytes | None:
    top = _leading_boxes(data, 0)
    for box in top:
        if box.type == "mpvd":
            return _mp4_at(data[box.body : box.end], 0)
    later = next((box for box in top[1:] if box.type == "ftyp"), None)
    return _mp4_at(data, later.start) if later else None


def _mp4_at(data: bytes, start: int) -> bytes:
    """The MP4 made of the top-level boxes from ``start`` (ftyp first, a moov among them); a
    damaged one is returned whole, to the end of the data, for the video reader to refuse."""
    run = []
    for box in _leading_boxes(data, start):
        if box.type not in _MP4_TOP or (run and box.start != run[-1].end):
            break
        run.append(box)
    if not run or run[0].type != "ftyp" or not any(box.type == "moov" for box in run):
        return data[start:]
    return data[start : run[-1].end]


def _leading_boxes(data: bytes, start: int) -> list[Box]:
    """The boxes from ``start`` that parse, up to the first that does not (a trailer)."""
    boxes = []
    try:
        for box in children(data, start, len(data)):
            boxes.append(box)
    except ValueError:
        pass
    return boxes
