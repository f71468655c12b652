"""PNG: chunks."""

from __future__ import annotations

import struct
import zlib

from .. import icc
from .base import Container, FormatHandler, Timing

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KINDS = {
    b"tEXt": "text", b"zTXt": "text", b"iTXt": "text", b"eXIf": "exif", b"iCCP": "icc",
    b"tIME": "date", b"caBX": "provenance",
}
#: the profile name of the iCCP chunk a clean copy holds (the one Pillow writes too)
ICC_NAME = b"ICC Profile"
#: an iCCP chunk holding an ICC profile that icc.sanitise has already cleaned, under ICC_NAME
ICC_CLEAN = "iCCP:clean"
#: the chunks of an animated PNG: control, frame headers, frame data
ANIMATION = ("acTL", "fcTL", "fdAT")
_DISPOSE_NONE, _BLEND_SOURCE = 0, 0
#: larger decompressed profiles are not taken for clean (Pillow refuses those above 1 MB anyway)
_MAX_PROFILE = 1 << 24


def walk(data: bytes):
    """Yield (type, start, end) for each chunk up to IEND, then (None, start, len) for the trailer.

    ``start``/``end`` bound the whole chunk: length, type, data and CRC. The trailer is the
    bytes after IEND (empty when there are none).
    """
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG: bad signature")
    pos = len(SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("PNG chunk header cut short")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("PNG chunk runs past the end of the file")
        yield ctype, pos, end
        pos = end
        if ctype == b"IEND":
            yield None, pos, len(data)
            return
    raise ValueError("PNG ends before its IEND chunk")


def chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def iccp_payload(profile: bytes) -> bytes:
    """The iCCP chunk data a clean copy holds: neutral name, deflate, the sanitised profile."""
    return ICC_NAME + b"\0\0" + zlib.compress(icc.sanitise(profile))


def is_clean_iccp(payload: bytes) -> bool:
    """True for an iCCP as a clean copy holds it: ICC_NAME, then a sanitised profile and nothing after."""
    if not payload.startswith(ICC_NAME + b"\0\0"):
        return False
    inflate = zlib.decompressobj()
    try:
        profile = inflate.decompress(payload[len(ICC_NAME) + 2 :], _MAX_PROFILE)
    except zlib.error:
        return False
    return inflate.eof and not inflate.unused_data and icc.is_clean(profile)


class PngHandler(FormatHandler):
    name = "png"
    pillow_format = "PNG"
    extensions = (".png",)
    # what Pillow writes for a fresh image, and nothing that names a person, place or time
    keep = frozenset({"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "pHYs", "sBIT",
                      ICC_CLEAN, *ANIMATION})
    holds = "animation"

    def accept(self, head: bytes) -> bool:
        return head.startswith(SIGNATURE)

    def containers(self, data: bytes) -> list[Container]:
        found = []
        for ctype, start, end in walk(data):
            if ctype is None:
                if end > start:
                    found.append(Container("trailer", "trailer", end - start))
                continue
            name = ctype.decode("latin-1")
            kind = _KINDS.get(ctype, "" if name in self.keep else "unknown")
            if ctype == b"iTXt" and data.startswith(b"XML:com.adobe.xmp", start + 8):
                kind = "xmp"
            elif ctype == b"iCCP" and is_clean_iccp(data[start + 8 : end - 4]):
                name, kind = ICC_CLEAN, ""
            found.append(Container(name, kind, end - start - 12))
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("1", "L", "LA", "RGB", "RGBA", "I;16", "I") else "RGBA"

    def frame_options(self, timing: Timing | None) -> dict:
        # whole frames, each replacing the last: shown exactly as given, whatever their alpha
        return {"duration": list(timing.durations), "loop": self.stored_timing(timing).loop,
                "disposal": _DISPOSE_NONE, "blend": _BLEND_SOURCE}

    def stored_timing(self, timing: Timing) -> Timing:
        return Timing(timing.durations, 1 if timing.loop is None else timing.loop)  # num_plays 1: once
