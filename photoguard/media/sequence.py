"""A photo that holds a sequence of pictures: an animation (GIF, WebP, PNG, AVIF) or a
multi-page TIFF, every frame or page cleaned (see ``frames``) and written as a sequence again
where the copy's format holds one."""

from __future__ import annotations

from pathlib import Path

from ..options import Options
from ..parts import detection, picture, regions
from ..parts.atomic import write_atomically
from ..parts.formats import BY_NAME, output_format
from ..parts.picture import PictureFile
from ..parts.results import Report, Result
from . import frames
from .copies import encode_hints, verify_copy, writable


def clean(photo: PictureFile, dst: Path, options: Options) -> Result:
    """Every frame or page cleaned; the result reports the faces and says which frames or
    pages the copy cannot hold."""
    src, image = photo.path, photo.image
    dropped = frames.dropped(image, photo.containers)
    hints = encode_hints(image, photo.containers)
    sequence = frames.decode(image, src, options.max_pixels)
    if options.faces:
        found = frames.find_faces(sequence, detection.get_detector(options))
    else:
        found = [[] for _ in sequence.frames]
    found = regions.apply_to_frames(options, photo.data, found)
    frames.obscure(sequence, found, options.mode, options.mask_scale)
    out_handler = BY_NAME[output_format(photo.handler.name, options.output_format)]
    kept, left_out = frames.left_out(frames.without_repeats(sequence), out_handler.holds)
    clean = [writable(frame, out_handler) for frame in kept.frames]
    several = kept if len(clean) > 1 else None
    timing = out_handler.stored_timing(kept.timing) if several and kept.timing else None
    write_atomically(
        dst,
        lambda handle: out_handler.encode(clean[0], handle, hints, clean[1:], timing),
        lambda written: verify_copy(written, out_handler, clean[0].size, several, timing),
        overwrite=options.overwrite,
    )
    return Result(src, dst, "cleaned", frames.counted(sequence, found), photo.metadata.kinds,
                  dropped=dropped + left_out)


def scan(photo: PictureFile, options: Options) -> Report:
    """What the file gives away; the faces of its frames or pages when ``options.faces``."""
    image = photo.image
    displayed = picture.displayed_size(image)
    faces = []
    if options.faces:
        sequence = frames.decode(image, photo.path, options.max_pixels)
        faces = frames.counted(sequence, frames.find_faces(sequence, detection.get_detector(options)))
    return Report(photo.path, photo.handler.name, displayed[0], displayed[1], faces, photo.metadata,
                  frames.dropped(image, photo.containers))
