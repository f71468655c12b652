"""GIF: blocks and extensions."""

from __future__ import annotations

from .base import Container, FormatHandler


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while True:
        if pos >= len(data):
            raise ValueError("GIF data block cut short")
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


class GifHandler(FormatHandler):
    name = "gif"
    pillow_format = "GIF"
    extensions = (".gif",)
    keep = frozenset({"header", "image", "graphic-control", "trailer-block"})

    def accept(self, head: bytes) -> bool:
        return head[:6] in (b"GIF87a", b"GIF89a")

    def containers(self, data: bytes) -> list[Container]:
        if len(data) < 13 or not self.accept(data[:6]):
            raise ValueError("not a GIF: bad header")
        flags = data[10]
        pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
        found = [Container("header")]
        while True:
            if pos >= len(data):
                raise ValueError("GIF ends before its trailer")
            introducer = data[pos]
            if introducer == 0x3B:
                found.append(Container("trailer-block"))
                pos += 1
                break
            if introducer == 0x2C:
                if pos + 10 > len(data):
                    raise ValueError("GIF image descriptor cut short")
                local = data[pos + 9]
                pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
                pos = _skip_sub_blocks(data, pos + 1)  # +1: LZW minimum code size
                found.append(Container("image"))
            elif introducer == 0x21:
                label = data[pos + 1] if pos + 1 < len(data) else -1
                start = pos
                pos = _skip_sub_blocks(data, pos + 2)
                if label == 0xF9:
                    found.append(Container("graphic-control"))
                elif label == 0xFE:
                    found.append(Container("comment", "comment", pos - start))
                elif label == 0xFF and data[start + 3 : start + 14] == b"NETSCAPE2.0":
                    found.append(Container("loop"))
                elif label == 0xFF and data[start + 3 : start + 14] == b"XMP DataXMP":
                    found.append(Container("application:XMP", "xmp", pos - start))
                else:
                    found.append(Container(f"extension-{label:02X}", "unknown", pos - start))
            else:
                raise ValueError(f"GIF block of unknown type at byte {pos}")
        if pos < len(data):
            found.append(Container("trailer", "trailer", len(data) - pos))
        return found

    def writable_mode(self, mode: str) -> str:
        return mode if mode in ("L", "P") else "RGB"
