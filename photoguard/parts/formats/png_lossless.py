"""A clean PNG without re-encoding: picture chunks copied byte for byte.

Used when no face has to be obscured and the picture is shown as stored (a PNG copy carries no
EXIF, so a turned one is re-encoded upright instead): decoding the copy gives exactly the
original's pixels. The colour profile survives as a sanitised iCCP (see icc.py). Everything
else - text, EXIF, time stamps, private chunks, bytes after IEND - is dropped.
"""

from __future__ import annotations

import zlib

from .png import ANIMATION, SIGNATURE, chunk, iccp_payload, walk

#: chunks copied as they are: the picture data and how to show it, nothing that names anyone
_COPIED = {b"IHDR", b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"sBIT", b"IDAT", b"IEND"}
_ANIMATION = {name.encode() for name in ANIMATION}


def strip(data: bytes, profile: bytes | None = None) -> bytes:
    """``data`` with only what decoding and display need; ``profile`` is its decoded iCCP.

    Raises ValueError when the file holds anything this cannot copy safely (animation, an
    unknown critical chunk, a damaged chunk, a profile that cannot be sanitised); the caller
    then re-encodes instead.
    """
    copied, types, has_profile = [SIGNATURE], [], False
    for ctype, start, end in walk(data):
        if ctype in _COPIED:
            if zlib.crc32(data[start + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
                raise ValueError(f"PNG {ctype.decode()} chunk has a wrong CRC")
            copied.append(data[start:end])
            types.append(ctype)
        elif ctype == b"iCCP":
            has_profile = True
        elif ctype in _ANIMATION:
            raise ValueError("an animated PNG is not copied losslessly")
        elif ctype is not None and ctype[:1].isupper():
            raise ValueError(f"unknown critical PNG chunk {ctype.decode('latin-1')!r}")
    if types[0] != b"IHDR" or types.count(b"IHDR") != 1 or b"IDAT" not in types:
        raise ValueError("PNG without exactly one IHDR first, or without image data")
    if has_profile:
        if not profile:
            raise ValueError("the PNG colour profile could not be read")
        copied.insert(2, chunk(b"iCCP", iccp_payload(profile)))
    return b"".join(copied)
