"""WebP: RIFF chunks."""

from __future__ import annotations

import struct

from .base import Container, EncodeHints, FormatHandler

_KINDS = {b"EXIF": "exif", b"XMP ": "xmp", b"ICCP": "icc"}


class WebpHandler(FormatHandler):
    name = "webp"
    pillow_format = "WEBP"
    extensions = (".webp",)
    keep = frozenset({"VP8 ", "VP8L", "VP8X", "ALPH"})

    def accept(self, head: bytes) -> bool:
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"

    def containers(self, data: bytes) -> list[Container]:
        if not self.accept(data[:12]):
            raise ValueError("not a WebP: bad RIFF header")
        (riff_size,) = struct.unpack("<I", data[4:8])
        end_of_riff = 8 + riff_size
        if end_of_riff > len(data):
            raise ValueError("WebP is cut short")
        found, pos = [], 12
        while pos + 8 <= end_of_riff:
            ctype, length = struct.unpack("<4sI", data[pos : pos + 8])
            name = ctype.decode("latin-1")
            kind = _KINDS.get(ctype, "" if name in self.keep or name in ("ANIM", "ANMF") else "unknown")
            found.append(Container(name, kind, length))
            pos += 8 + length + (length & 1)
        if pos > end_of_riff:
            raise ValueError("WebP chunk runs past the end of the file")
        if end_of_riff < len(data):
            found.append(Container("trailer", "trailer", len(data) - end_of_riff))
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("RGB", "RGBA") else "RGBA" if "A" in mode else "RGB"

    def save_options(self, image, hints: EncodeHints) -> dict:
        if hints.webp_lossless:
            return {"lossless": True, "exact": False}
        return {"quality": 90, "method": 4}
