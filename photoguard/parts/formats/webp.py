"""WebP: RIFF chunks."""

from __future__ import annotations

import struct

from .base import Container, EncodeHints, FormatHandler, Timing

_KINDS = {b"EXIF": "exif", b"XMP ": "xmp", b"ICCP": "icc"}
#: an ANMF chunk starts with its frame's position, size, duration and flags; its frame data follows
_FRAME_HEADER = 16


def _chunks(data: bytes, pos: int, end: int):
    """Yield (type, payload start, payload length) for the chunks between ``pos`` and ``end``."""
    while pos + 8 <= end:
        ctype, length = struct.unpack("<4sI", data[pos : pos + 8])
        if pos + 8 + length > end:
            raise ValueError("WebP chunk runs past the end of its container")
        yield ctype, pos + 8, length
        pos += 8 + length + (length & 1)
    if pos < end:
        raise ValueError("WebP chunk header cut short")


class WebpHandler(FormatHandler):
    name = "webp"
    pillow_format = "WEBP"
    extensions = (".webp",)
    keep = frozenset({"VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF"})
    holds = "animation"

    def accept(self, head: bytes) -> bool:
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"

    def containers(self, data: bytes) -> list[Container]:
        if not self.accept(data[:12]):
            raise ValueError("not a WebP: bad RIFF header")
        (riff_size,) = struct.unpack("<I", data[4:8])
        end_of_riff = 8 + riff_size
        if end_of_riff > len(data):
            raise ValueError("WebP is cut short")
        found = []
        for ctype, start, length in _chunks(data, 12, end_of_riff):
            found.append(self._container(ctype, length))
            if ctype == b"ANMF":  # a frame: its picture chunks, and anything else hidden in it
                if length < _FRAME_HEADER:
                    raise ValueError("WebP animation frame cut short")
                found += [self._container(inner, size)
                          for inner, _, size in _chunks(data, start + _FRAME_HEADER, start + length)]
        if end_of_riff < len(data):
            found.append(Container("trailer", "trailer", len(data) - end_of_riff))
        return found

    def _container(self, ctype: bytes, length: int) -> Container:
        name = ctype.decode("latin-1")
        return Container(name, _KINDS.get(ctype, "" if name in self.keep else "unknown"), length)

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("RGB", "RGBA") else "RGBA" if "A" in mode else "RGB"

    def save_options(self, image, hints: EncodeHints) -> dict:
        if hints.webp_lossless:
            return {"lossless": True, "exact": False}
        return {"quality": 90, "method": 4}

    def frame_options(self, timing: Timing | None) -> dict:
        # whole frames: libwebp works out each frame's rectangle, blending and disposal itself
        return {"duration": list(timing.durations), "loop": self.stored_timing(timing).loop}

    def stored_timing(self, timing: Timing) -> Timing:
        return Timing(timing.durations, 1 if timing.loop is None else timing.loop)
