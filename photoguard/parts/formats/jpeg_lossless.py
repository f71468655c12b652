"""A clean JPEG without re-encoding: structural segments copied byte for byte.

Used when no face has to be obscured: decoding the copy gives exactly the original's pixels.
Orientation survives as a minimal EXIF block (Orientation only), the colour profile as a
sanitised ICC (see icc.py). Everything else - APPn, COM, MPF images, trailers - is dropped.
"""

from __future__ import annotations

import struct

from .. import icc
from .jpeg import _SOF, EOI, ICC_SIGNATURE, JUNK, SOI, orientation_exif, segment_name, walk

#: markers copied as they are: tables, frame and scan headers, scans with their data, EOI
_COPIED = {0xC4, 0xCC, 0xDB, 0xDD, 0xDA, EOI} | _SOF
_ICC_CHUNK = 65519 - 14  # segment payload limit minus the ICC_PROFILE header


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("JPEG segment too large")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def icc_segments(profile: bytes) -> list[bytes]:
    chunks = [profile[i : i + _ICC_CHUNK] for i in range(0, len(profile), _ICC_CHUNK)]
    if len(chunks) > 255:
        raise ValueError("ICC profile too large for JPEG")
    return [_segment(0xE2, ICC_SIGNATURE + bytes([n, len(chunks)]) + chunk)
            for n, chunk in enumerate(chunks, 1)]


def strip(data: bytes, orientation: int = 1, profile: bytes | None = None) -> bytes:
    """The primary image of ``data`` with only what decoding and display need.

    Raises ValueError when the file holds anything this cannot copy safely (an unknown
    marker, a profile that cannot be sanitised); the caller then re-encodes instead.
    """
    head, body, ended = [b"\xff\xd8"], [], False
    for marker, start, end, payload in walk(data):
        if marker is None or marker in (SOI, JUNK):
            continue  # trailer, and stray bytes that decoders skip anyway
        name, _ = segment_name(marker, payload)
        if name in ("APP0:JFIF", "APP0:JFIF+thumbnail"):
            # version, units and density; the thumbnail is dropped and its size set to 0x0
            head.insert(1, _segment(0xE0, payload[:12] + b"\0\0"))
        elif name == "APP14:Adobe":  # colour transform flag: needed to decode the right colours
            body.append(data[start:end])
        elif marker in _COPIED:
            body.append(data[start:end])
            ended = marker == EOI
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            continue  # APPn and COM: metadata, default-deny
        else:
            raise ValueError(f"JPEG marker {marker:02X} is not copied losslessly")
    if not ended:
        raise ValueError("JPEG has no end-of-image marker")
    if orientation != 1:
        head.append(_segment(0xE1, orientation_exif(orientation)))
    if profile:
        head += icc_segments(icc.sanitise(profile))
    return b"".join(head + body)
