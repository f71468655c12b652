"""A photo that shows one picture (and the primary picture of a burst, a stereo pair or an MPO
file, whose others the copy leaves out): faces found on a reduced decode and obscured in a
fresh copy, upright and in sRGB; or, with no face, a PNG's pixels written afresh as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..options import Options
from ..parts import picture, regions
from ..parts.atomic import write_atomically
from ..parts.detection import find_faces
from ..parts.formats import BY_NAME, FormatHandler, output_format, png_lossless
from ..parts.obscure import obscure_in_place
from ..parts.picture import PictureFile
from ..parts.results import Report, Result
from . import frames
from .copies import encode_hints, verify_copy, writable


def clean(photo: PictureFile, dst: Path, options: Options) -> Result:
    src, data, image, handler = photo.path, photo.data, photo.image, photo.handler
    dropped = frames.dropped(image, photo.containers)
    displayed = picture.displayed_size(image)
    faces = find_faces(data, src, options, displayed) if options.faces else []
    faces = regions.apply(options, data, faces)
    if not faces and _clean_losslessly(data, image, handler, dst, options):
        return Result(src, dst, "cleaned", faces, photo.metadata.kinds, dropped=dropped)

    hints = encode_hints(image, photo.containers)
    picture.load(image, src)
    clean = picture.upright(picture.to_srgb(image, src), src, picture.orientation(image))
    if faces:
        own_colours = image.mode in ("P", "PA")
        pixels = np.array(clean)
        # the decoded pictures are copied: their memory goes before the copy's own is taken
        # (a worker's peak on a 12 MP photo)
        clean.close()
        image.close()
        obscure_in_place(pixels, faces, options.mode, options.mask_scale, own_colours=own_colours)
        clean = Image.fromarray(pixels)
        del pixels
    out_handler = BY_NAME[output_format(handler.name, options.output_format)]
    clean = writable(clean, out_handler)

    write_atomically(
        dst,
        lambda handle: out_handler.encode(clean, handle, hints),
        lambda written: verify_copy(written, out_handler, clean.size),
        overwrite=options.overwrite,
    )
    return Result(src, dst, "cleaned", faces, photo.metadata.kinds, dropped=dropped)


def scan(photo: PictureFile, options: Options) -> Report:
    displayed = picture.displayed_size(photo.image)
    faces = find_faces(photo.data, photo.path, options, displayed) if options.faces else []
    return Report(photo.path, photo.handler.name, displayed[0], displayed[1], faces, photo.metadata,
                  frames.dropped(photo.image, photo.containers))


def _strip_png(data: bytes, orientation: int, profile: bytes | None) -> bytes:
    if orientation != 1:  # a PNG copy carries no EXIF: the turn is baked into re-encoded pixels
        raise ValueError("a turned PNG is re-encoded upright")
    return png_lossless.strip(data, profile)


#: format -> strip(data, orientation, profile): a copy with exactly the original's pixels. A JPEG
#: is re-encoded with its own tables instead: its compressed data cannot be checked for bytes
#: that decoders skip (after the last block, between scans) without decoding it
_LOSSLESS = {"png": _strip_png}


def _clean_losslessly(data: bytes, image: Image.Image, handler: FormatHandler, dst: Path,
                      options: Options) -> bool:
    """A PNG with nothing to obscure, written in its own format: its pixels written afresh.

    False when the file cannot be copied that way; it is then re-encoded.
    """
    strip = _LOSSLESS.get(handler.name)
    if strip is None or output_format(handler.name, options.output_format) != handler.name:
        return False
    try:
        clean = strip(data, picture.orientation(image), image.info.get("icc_profile"))
    except ValueError:
        return False
    write_atomically(dst, lambda handle: handle.write(clean),
                     lambda written: verify_copy(written, handler, picture.displayed_size(image)),
                     overwrite=options.overwrite)
    return True
