"""PNG: chunks."""

from __future__ import annotations

import struct

from .base import Container, FormatHandler

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KINDS = {
    b"tEXt": "text", b"zTXt": "text", b"iTXt": "text", b"eXIf": "exif", b"iCCP": "icc",
    b"tIME": "date", b"caBX": "provenance",
}


class PngHandler(FormatHandler):
    name = "png"
    pillow_format = "PNG"
    extensions = (".png",)
    # what Pillow writes for a fresh image, and nothing that names a person, place or time
    keep = frozenset({"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "pHYs", "sBIT"})

    def accept(self, head: bytes) -> bool:
        return head.startswith(SIGNATURE)

    def containers(self, data: bytes) -> list[Container]:
        if not data.startswith(SIGNATURE):
            raise ValueError("not a PNG: bad signature")
        found, pos = [], len(SIGNATURE)
        while pos < len(data):
            if pos + 8 > len(data):
                raise ValueError("PNG chunk header cut short")
            length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
            end = pos + 12 + length
            if end > len(data):
                raise ValueError("PNG chunk runs past the end of the file")
            name = ctype.decode("latin-1")
            kind = _KINDS.get(ctype, "" if name in self.keep or name in ("acTL", "fcTL", "fdAT") else "unknown")
            if ctype == b"iTXt" and data[pos + 8 : pos + 25] == b"XML:com.adobe.xmp":
                kind = "xmp"
            found.append(Container(name, kind, length))
            pos = end
            if ctype == b"IEND":
                break
        else:
            raise ValueError("PNG ends before its IEND chunk")
        if pos < len(data):
            found.append(Container("trailer", "trailer", len(data) - pos))
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("1", "L", "LA", "RGB", "RGBA", "I;16", "I") else "RGBA"
