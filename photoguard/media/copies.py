"""A photo's copy, still or sequence: the mode its format writes, the hints its encoder takes
from the original, and the check of the written file before it counts (``verify_copy``)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, JpegImagePlugin

from ..errors import VerificationError
from ..parts import picture
from ..parts.formats import Container, EncodeHints, FormatHandler, Timing, sniff
from ..parts.metadata import harmless_info
from . import frames


def writable(image: Image.Image, handler: FormatHandler) -> Image.Image:
    """``image`` in a mode ``handler`` can write."""
    mode = handler.writable_mode(image.mode)
    return image if image.mode == mode else image.convert(mode)


def encode_hints(image: Image.Image, containers: list[Container]) -> EncodeHints:
    if image.format in ("JPEG", "MPO"):
        return EncodeHints(jpeg_qtables=_tables_in_use(image),
                           jpeg_subsampling=JpegImagePlugin.get_sampling(image),
                           jpeg_turned=picture.orientation(image) != 1)
    if image.format == "WEBP":
        # Pillow does not say whether a WebP was lossless: its VP8L chunk does
        lossless = any(c.name == "VP8L" for c in containers)
        # an animation's lossy frames stay lossy, alpha or not: written lossless, a 101-frame
        # 480x270 animation with alpha grew from 2.5 to 15 MB
        still_with_alpha = image.mode == "RGBA" and not getattr(image, "is_animated", False)
        return EncodeHints(webp_lossless=lossless or still_with_alpha)
    return EncodeHints()


def _tables_in_use(image: Image.Image) -> list | None:
    """The quantisation tables of the frame's components, in component order (the last two
    merged when chroma shares one): tables no component uses are not passed on."""
    tables = getattr(image, "quantization", None) or {}
    used = [component[3] for component in getattr(image, "layer", [])]
    if not used or any(number not in tables for number in used):
        return None
    if len(used) == 3 and used[1] == used[2]:
        used = used[:2]
    return [tables[number] for number in used]


def verify_copy(path: Path, handler: FormatHandler, expected_size: tuple[int, int],
                sequence: frames.Sequence | None = None, timing: Timing | None = None) -> None:
    """Re-read a written copy: right format, only kept containers, decodes whole at the right
    size; one picture, or the frames or pages of ``sequence`` played with ``timing``."""
    data = path.read_bytes()
    if sniff(data[:32]) is not handler:
        raise VerificationError(f"the written copy is not a {handler.name.upper()} file", path)
    try:
        leftovers = handler.leftovers(data)
    except ValueError as exc:
        raise VerificationError(f"the written copy is damaged: {exc}", path) from exc
    if leftovers:
        names = ", ".join(sorted({c.name for c in leftovers}))
        raise VerificationError(f"the written copy still holds {names}", path)
    try:
        with Image.open(io.BytesIO(data)) as written:
            # displayed size: a lossless JPEG copy keeps the source's turn in an Orientation-only EXIF
            size, info = picture.displayed_size(written), written.info
            if written.format == "JPEG" and min(written.size) >= 64:
                # an eighth-scale decode still reads every bit of the compressed data, at half the cost
                written.draft(written.mode, (written.width // 8, written.height // 8))
            written.load()
            mismatch = frames.mismatch(written, sequence, timing)
    except Exception as exc:  # noqa: BLE001
        raise VerificationError(f"the written copy does not decode: {exc}", path) from exc
    if mismatch:
        raise VerificationError(f"the written copy {mismatch}", path)
    if size != expected_size:
        raise VerificationError(f"the written copy is {size}, expected {expected_size}", path)
    kept = {key for key in ("exif", "xmp", "comment", "icc_profile") if info.get(key)}
    kept -= harmless_info(info)  # the lossless JPEG's Orientation-only EXIF and sanitised ICC
    if kept:
        raise VerificationError(f"the written copy still carries {', '.join(sorted(kept))}", path)
