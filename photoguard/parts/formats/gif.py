"""GIF: blocks and extensions; frames written with exact palettes and a transparent index."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .. import palette
from .base import Container, EncodeHints, FormatHandler, Timing

#: the application extension that holds the loop count, and nothing else: "NETSCAPE2.0", then
#: one 3-byte sub-block (1, count low, count high) and the terminator
_LOOP_HEAD, _LOOP_SIZE = b"\x21\xff\x0bNETSCAPE2.0\x03\x01", 19
#: GIF stores durations in hundredths of a second
_TICK_MS = 10
#: GIF disposal methods: leave the frame in place, or clear it to transparent before the next
_KEEP, _CLEAR = 1, 2


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
    keep = frozenset({"header", "image", "graphic-control", "loop", "trailer-block"})
    holds = "animation"

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
                elif pos - start == _LOOP_SIZE and data.startswith(_LOOP_HEAD, start) and data[pos - 1] == 0:
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
        # RGB(A) frames get their palette in ``save``, where transparency is known for all of them
        return mode if mode in ("L", "RGB", "RGBA") else "RGBA" if "A" in mode or mode == "P" else "RGB"

    def save(self, frames: list[Image.Image], out, hints: EncodeHints, timing: Timing | None) -> None:
        transparent = any(frame.mode == "RGBA" and frame.getchannel("A").getextrema()[0] < 128
                          for frame in frames)
        if frames[0].mode != "L":
            # an opaque animation's frame may draw only what changed since the one before
            before = [None] + [None if transparent else np.asarray(frame)[..., :3] for frame in frames[:-1]]
            frames = [indexed(frame, transparent, previous) for frame, previous in zip(frames, before)]
        options = {}
        if len(frames) > 1:
            # whole frames: where a pixel may turn transparent, each is cleared before the next
            options = dict(self.frame_options(timing), save_all=True, append_images=frames[1:],
                           disposal=_CLEAR if transparent else _KEEP)
        frames[0].save(out, self.pillow_format, **options)

    def frame_options(self, timing: Timing | None) -> dict:
        options = {"duration": list(timing.durations)}
        if timing.loop is not None:
            options["loop"] = timing.loop
        return options

    def stored_timing(self, timing: Timing) -> Timing:
        return Timing(tuple(d // _TICK_MS * _TICK_MS for d in timing.durations), timing.loop)


def indexed(frame: Image.Image, transparent: bool, previous: np.ndarray | None = None) -> Image.Image:
    """``frame`` (RGB or RGBA) as a palette image, colours exact when it has at most 256 (255
    and a transparent index when ``transparent``). Pixels less than half opaque become the
    transparent index.

    A frame with more colours (a GIF's frames each bring their own palette, and a frame shows
    several) keeps, when the ``previous`` frame of an opaque animation is given, only the pixels
    that changed since, the rest transparent: those few colours fit exactly, and the frame
    before shows through the rest. Otherwise its most used colours are kept exactly, and the
    other pixels take the nearest of those.
    """
    pixels = np.asarray(frame.convert("RGBA"))
    clear = pixels[..., 3] < 128
    colour = palette.packed(pixels[..., :3])
    colours, counts = np.unique(colour[~clear], return_counts=True)
    if len(colours) > 256 and previous is not None:
        clear, transparent = (pixels[..., :3] == previous).all(axis=-1), True
        colours, counts = np.unique(colour[~clear], return_counts=True)
    room = 255 if transparent else 256
    if len(colours) > room:
        colours = np.sort(colours[np.argsort(-counts, kind="stable")[:room]])
    if not len(colours):
        colours = np.zeros(1, np.uint32)
    index = np.minimum(np.searchsorted(colours, colour), len(colours) - 1)
    missing = (colours[index] != colour) & ~clear
    if missing.any():
        index[missing] = palette.nearest(colour[missing], colours, 3)
    if transparent:
        index[clear] = len(colours)
    out = Image.fromarray(index.astype(np.uint8), "P")
    out.putpalette(palette.unpacked(colours, 3).tobytes() + (b"\0\0\0" if transparent else b""))
    if transparent:
        out.info["transparency"] = len(colours)
    return out
