"""A clean PNG whose pixels are exactly the original's: rebuilt from decoded values, never
copied as bytes.

Used when no face has to be obscured and the picture is shown as stored (a PNG copy carries no
EXIF, so a turned one is re-encoded upright instead). PNG compression is lossless, so the
pixels are decoded and written afresh: nothing hidden after the compressed stream, in IEND, in
palette entries no pixel uses or past a chunk's values can ride along. The display chunks
(gAMA, cHRM, sRGB, pHYs) are rebuilt from their parsed values at their exact length, the
colour profile as a sanitised iCCP (see icc.py). Everything else is dropped.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from .png import ANIMATION, SIGNATURE, chunk, iccp_payload, walk

#: display chunks rebuilt from their values: struct layout, and a check of the values
_REBUILT = {
    b"gAMA": (">I", lambda gamma: gamma > 0),
    b"cHRM": (">8I", lambda *_: True),
    b"sRGB": (">B", lambda intent: intent <= 3),
    b"pHYs": (">IIB", lambda x, y, unit: unit <= 1),
}
_ANIMATION = {name.encode() for name in ANIMATION}
#: modes Pillow decodes and writes without changing a value (16-bit colour it decodes at 8 bits)
_EXACT = {"1", "L", "LA", "RGB", "RGBA", "P", "I;16"}
_IHDR_END = len(SIGNATURE) + 25


def strip(data: bytes, profile: bytes | None = None) -> bytes:
    """``data`` rebuilt with only what decoding and display need; ``profile`` is its iCCP.

    Raises ValueError when the file cannot be rebuilt with exactly its pixels (animation, an
    unknown critical chunk, a damaged chunk, 16-bit colour, a profile that cannot be
    sanitised); the caller then re-encodes instead.
    """
    display, has_profile, headers = [], False, 0
    for ctype, start, end in walk(data):
        headers += ctype == b"IHDR"
        if ctype in _ANIMATION:
            raise ValueError("an animated PNG is not copied losslessly")
        if ctype is not None and ctype[:1].isupper() and ctype not in (b"IHDR", b"PLTE", b"IDAT", b"IEND"):
            raise ValueError(f"unknown critical PNG chunk {ctype.decode('latin-1')!r}")
        if ctype == b"iCCP":
            has_profile = True
        elif ctype in _REBUILT and ctype not in {c for c, _ in display}:
            payload = data[start + 8 : end - 4]
            if zlib.crc32(data[start + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
                raise ValueError(f"PNG {ctype.decode()} chunk has a wrong CRC")
            layout, plausible = _REBUILT[ctype]
            if len(payload) == struct.calcsize(layout) and plausible(*struct.unpack(layout, payload)):
                display.append((ctype, struct.pack(layout, *struct.unpack(layout, payload))))
    if data[12:16] != b"IHDR" or headers != 1:
        raise ValueError("PNG without exactly one IHDR first")
    if data[24] == 16 and data[25] in (2, 6):
        raise ValueError("a 16-bit colour PNG is re-encoded")
    fresh = _pixels_written_afresh(data)
    extra = [chunk(ctype, payload) for ctype, payload in display]
    if has_profile:
        if not profile:
            raise ValueError("the PNG colour profile could not be read")
        extra.append(chunk(b"iCCP", iccp_payload(profile)))
    return fresh[:_IHDR_END] + b"".join(extra) + fresh[_IHDR_END:]


def _pixels_written_afresh(data: bytes) -> bytes:
    """IHDR, PLTE, tRNS, IDAT and IEND as Pillow writes them for the decoded pixels."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode not in _EXACT:
                raise ValueError(f"PNG mode {image.mode} is re-encoded")
            if image.mode == "P":
                fresh, transparency = _used_colours_only(image)
            else:
                fresh, transparency = image.copy(), image.info.get("transparency")
    except (OSError, SyntaxError, struct.error, zlib.error) as exc:
        raise ValueError(f"the PNG does not decode: {exc}") from exc
    fresh.info = {}  # Pillow would write the original's profile and more from it
    out = io.BytesIO()
    fresh.save(out, "PNG", **({"transparency": transparency} if transparency is not None else {}))
    return out.getvalue()


def _used_colours_only(image: Image.Image) -> tuple[Image.Image, bytes | None]:
    """The palette image with only the entries its pixels use, and their transparency."""
    indices = np.asarray(image)
    used = np.unique(indices)
    lookup = np.zeros(256, np.uint8)
    lookup[used] = np.arange(len(used), dtype=np.uint8)
    palette = np.frombuffer(bytes(image.getpalette("RGB") or []), np.uint8).reshape(-1, 3)
    if used[-1] >= len(palette):
        raise ValueError("a PNG pixel uses a colour its palette lacks")
    compact = Image.fromarray(lookup[indices], "P")
    compact.putpalette(palette[used].tobytes(), "RGB")
    alpha = image.info.get("transparency")
    if isinstance(alpha, int):
        alpha = bytes(0 if i == alpha else 255 for i in range(256))
    if alpha is None:
        return compact, None
    alphas = np.frombuffer(alpha, np.uint8)
    kept = np.array([alphas[i] if i < len(alphas) else 255 for i in used], np.uint8)
    if not (kept < 255).any():
        return compact, None
    return compact, kept[: np.flatnonzero(kept < 255)[-1] + 1].tobytes()
