"""ISO base media boxes (MP4, MOV, 3GP, HEIF, AVIF): a strict walker of our own.

Videos can be gigabytes, so the top level is walked by reading box headers only; the
``moov`` box (sample tables and headers, kilobytes to a few megabytes) is read whole and its
children walked in memory. Every box must end inside its parent: anything else is damage.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Iterator

#: a moov bigger than this is not a phone's or camera's (a 10-minute 60 fps clip's is ~1 MB)
MAX_MOOV_BYTES = 64 << 20


@dataclass(frozen=True)
class Box:
    type: str
    #: offset of the box's first header byte
    start: int
    #: offset of its payload (after the size, type and any 64-bit size)
    body: int
    end: int
    #: the 16-byte extended type of a 'uuid' box
    usertype: bytes = b""

    @property
    def size(self) -> int:
        return self.end - self.start


def _header(raw: bytes, pos: int, limit: int) -> Box:
    """The box whose header is at the start of ``raw`` (32 bytes or what is left) at file
    offset ``pos``, inside ``limit``."""
    size, kind = struct.unpack(">I4s", raw[:8])
    header = 8
    if size == 1:
        if len(raw) < 16:
            raise ValueError(f"box header at byte {pos} is cut short")
        (size,) = struct.unpack(">Q", raw[8:16])
        header = 16
    elif size == 0:  # "to the end of the file" (or of its parent)
        size = limit - pos
    usertype = b""
    if kind == b"uuid":
        usertype = raw[header : header + 16]
        header += 16
    name = kind.decode("latin-1")
    if size < header or pos + size > limit or len(usertype) not in (0, 16):
        raise ValueError(f"box '{name}' at byte {pos} runs past the end of its container")
    return Box(name, pos, pos + header, pos + size, usertype)


def children(data: bytes, start: int, end: int) -> Iterator[Box]:
    """The boxes that exactly fill ``data[start:end]``."""
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise ValueError(f"{end - pos} stray bytes at byte {pos}")
        box = _header(data[pos : pos + 32], pos, end)
        yield box
        pos = box.end


def top_level(handle: BinaryIO, length: int) -> list[Box]:
    """The file's top-level boxes, from their headers only; they must fill the file."""
    boxes, pos = [], 0
    while pos < length:
        handle.seek(pos)
        raw = handle.read(32)
        if len(raw) < 8:
            raise ValueError(f"{length - pos} stray bytes after the last box")
        box = _header(raw, pos, length)
        boxes.append(box)
        pos = box.end
    return boxes


def read_box(handle: BinaryIO, box: Box, limit: int = MAX_MOOV_BYTES) -> bytes:
    """A whole box (header included) read into memory."""
    if box.size > limit:
        raise ValueError(f"box '{box.type}' of {box.size} bytes is larger than any camera writes")
    handle.seek(box.start)
    data = handle.read(box.size)
    if len(data) != box.size:
        raise ValueError(f"box '{box.type}' is cut short")
    return data


def find(data: bytes, parent: Box, kind: str) -> Box | None:
    """The first child of ``parent`` of type ``kind``."""
    return next((box for box in children(data, parent.body, parent.end) if box.type == kind), None)


def path(data: bytes, parent: Box, *kinds: str) -> Box | None:
    """The box reached from ``parent`` through the first child of each type in ``kinds``."""
    for kind in kinds:
        if parent is None:
            return None
        parent = find(data, parent, kind)
    return parent


def full_box(data: bytes, box: Box) -> tuple[int, int]:
    """(version, flags) of a full box."""
    if box.body + 4 > box.end:
        raise ValueError(f"box '{box.type}' is too short")
    return data[box.body], int.from_bytes(data[box.body + 1 : box.body + 4], "big")


def uint(data: bytes, offset: int, size: int) -> int:
    if offset + size > len(data):
        raise ValueError("a box field runs past the end of its box")
    return int.from_bytes(data[offset : offset + size], "big")
