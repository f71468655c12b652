"""A video file's structure from its boxes: the top level, the movie header and its tracks.

Read from headers and the ``moov`` box only, never the media data, so it is cheap for any
file size (``duration_seconds`` reads a few kilobytes of a gigabyte clip).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ...parts.isobmff import Box, children, find, full_box, path, read_box, top_level, uint


@dataclass
class Track:
    box: Box
    #: the track ID (PyAV's ``stream.id``)
    id: int = 0
    handler: str = ""
    handler_name: str = ""
    #: four-character code of the first sample entry ('avc1', 'mp4a', 'mebx'...)
    format: str = ""
    timescale: int = 0
    duration: int = 0
    #: tkhd matrix: a, b, u, c, d, v, x, y, w (16.16 and 2.30 fixed point)
    matrix: tuple[int, ...] = ()
    #: (box, creation, modification) for tkhd and mdhd
    times: list[tuple[str, int, int]] = field(default_factory=list)
    language: int = 0
    enabled: bool = True


@dataclass
class Movie:
    """The structure of one file; box offsets inside ``moov`` are relative to ``moov_data``."""

    length: int
    top: list[Box]
    moov: Box
    moov_data: bytes
    timescale: int
    duration: int
    #: (creation, modification) of the movie header
    times: tuple[int, int]
    tracks: list[Track]
    #: the total duration declared for a fragmented file (mehd), in movie timescale units
    fragment_duration: int = 0
    #: the major brand of the ftyp box ('' without one)
    brand: str = ""

    def seconds(self) -> float:
        """The declared length; 0 when the headers do not say (some fragmented files)."""
        declared = self.duration or self.fragment_duration
        if declared and self.timescale:
            return declared / self.timescale
        spans = [t.duration / t.timescale for t in self.tracks if t.timescale]
        return max(spans, default=0.0)


def read_movie(handle: BinaryIO, length: int) -> Movie:
    """Raises ValueError when the structure is damaged or holds no movie."""
    top = top_level(handle, length)
    moovs = [box for box in top if box.type == "moov"]
    if not moovs:
        raise ValueError("no movie header (moov box)")
    if len(moovs) > 1:
        raise ValueError("two movie headers (moov boxes)")
    raw = read_box(handle, moovs[0])
    moov = Box("moov", 0, moovs[0].body - moovs[0].start, len(raw))
    mvhd = find(raw, moov, "mvhd")
    if mvhd is None:
        raise ValueError("the movie header has no mvhd box")
    creation, modification, timescale, duration = _times_scale_duration(raw, mvhd)
    tracks = [_track(raw, box) for box in children(raw, moov.body, moov.end) if box.type == "trak"]
    mehd = path(raw, moov, "mvex", "mehd")
    fragment_duration = 0
    if mehd is not None:
        version, _ = full_box(raw, mehd)
        fragment_duration = uint(raw, mehd.body + 4, 8 if version == 1 else 4)
    brand = ""
    if top[0].type == "ftyp" and top[0].end >= top[0].body + 4:
        handle.seek(top[0].body)
        brand = handle.read(4).decode("latin-1")
    return Movie(length, top, moov, raw, timescale, duration, (creation, modification), tracks,
                 fragment_duration, brand)


def open_movie(source: Path) -> Movie:
    with open(source, "rb") as handle:
        handle.seek(0, 2)
        return read_movie(handle, handle.tell())


def _times_scale_duration(data: bytes, box: Box) -> tuple[int, int, int, int]:
    """(creation, modification, timescale, duration) of an mvhd or mdhd box."""
    version, _ = full_box(data, box)
    if version == 1:
        return struct.unpack(">QQIQ", _field(data, box, 4, 28))
    return struct.unpack(">IIII", _field(data, box, 4, 16))


def _field(data: bytes, box: Box, offset: int, size: int) -> bytes:
    start = box.body + offset
    if start + size > box.end:
        raise ValueError(f"box '{box.type}' is too short")
    return data[start : start + size]


def _track(data: bytes, trak: Box) -> Track:
    track = Track(trak)
    tkhd = find(data, trak, "tkhd")
    if tkhd is not None:
        version, flags = full_box(data, tkhd)
        track.enabled = bool(flags & 1)
        times = _field(data, tkhd, 4, 16 if version == 1 else 8)
        track.times.append(("tkhd", *struct.unpack(">QQ" if version == 1 else ">II", times)))
        track.id = uint(data, tkhd.body + 4 + len(times), 4)
        # after the times: track id, reserved, duration, 8 reserved, layer, group, volume, 2 reserved
        matrix_at = 4 + (16 + 4 + 4 + 8 if version == 1 else 8 + 4 + 4 + 4) + 8 + 8
        track.matrix = struct.unpack(">9i", _field(data, tkhd, matrix_at, 36))
    mdia = find(data, trak, "mdia")
    if mdia is None:
        return track
    mdhd = find(data, mdia, "mdhd")
    if mdhd is not None:
        creation, modification, track.timescale, track.duration = _times_scale_duration(data, mdhd)
        track.times.append(("mdhd", creation, modification))
        version, _ = full_box(data, mdhd)
        track.language = uint(data, mdhd.body + (32 if version == 1 else 20), 2)
    hdlr = find(data, mdia, "hdlr")
    if hdlr is not None:
        track.handler = _field(data, hdlr, 8, 4).decode("latin-1")
        track.handler_name = data[hdlr.body + 24 : hdlr.end].decode("latin-1")
    stbl = path(data, mdia, "minf", "stbl")
    if stbl is not None:
        stsd = find(data, stbl, "stsd")
        if stsd is not None and stsd.end >= stsd.body + 16:
            track.format = data[stsd.body + 12 : stsd.body + 16].decode("latin-1")
    return track
