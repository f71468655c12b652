"""Composing the parts for one file: ``clean_file`` and ``scan_file``."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from .media import frames
from .media.video import Source, clean_video, scan_video
from .media.video.motion import clip_path, embedded_clip
from .parts import atomic, detection, picture, regions
from .parts.detect.base import Face
from .errors import DecodeError, InputError, OutputExists, PhotoguardError, UnsupportedFormat, VerificationError
from .parts.atomic import write_atomically
from .parts.formats import (BY_NAME, SNIFF_BYTES, Container, EncodeHints, FormatHandler, Timing, jpeg_lossless,
                            output_format, png_lossless, sniff)
from .parts.metadata import harmless_info, read_metadata
from .parts.obscure import obscure_in_place
from .options import Options
from .parts.detection import find_faces
from .parts.results import Report, Result

def read_input(src: Path) -> tuple[bytes, FormatHandler]:
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", src) from exc
    handler = sniff(data[:32])
    if handler is None:
        raise UnsupportedFormat("the content is not an image photoguard reads", src)
    return data, handler


def structure(handler: FormatHandler, data: bytes, src: Path):
    try:
        return handler.containers(data)
    except ValueError as exc:
        raise DecodeError(f"damaged {handler.name.upper()} structure: {exc}", src) from exc


def is_video(path: Path) -> bool:
    """Videos are read in pieces (they can be gigabytes), never whole like photos."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False  # read_input says why
    return sniff(head) is BY_NAME["video"]


def scan_file(path: Path | str, options: Options = Options()) -> Report:
    path = Path(path)
    if is_video(path):
        return scan_video(Source(path), options)
    data, handler = read_input(path)
    image = picture.open_image(data, path, options.max_pixels)
    containers = structure(handler, data, path)
    metadata = read_metadata(image, containers)
    displayed = picture.displayed_size(image)
    if options.faces and frames.kind(image):
        sequence = frames.decode(image, path, options.max_pixels)
        faces = frames.counted(sequence, frames.find_faces(sequence, detection.get_detector(options)))
    else:
        faces = find_faces(data, path, options, displayed) if options.faces else []
    return Report(path, handler.name, displayed[0], displayed[1], faces, metadata,
                  frames.dropped(image, containers))


def clean_file(src: Path | str, dst: Path | str, options: Options = Options()) -> Result:
    """Write a copy of ``src`` at ``dst`` with no metadata and every face found obscured."""
    src, dst = Path(src), Path(dst)
    if dst.exists() and not options.overwrite:
        raise OutputExists(f"{dst} already exists", dst)
    if is_video(src):
        return clean_video(Source(src), dst, options)
    if options.keep_motion:
        return _clean_with_clip(src, dst, options)
    return clean_picture(src, dst, options)


def _clean_with_clip(src: Path, dst: Path, options: Options) -> Result:
    """A photo, plus its Motion Photo clip when it has one (``--keep-motion``).

    The still is the main copy: a clip that cannot be cleaned is left out (as without
    ``--keep-motion``) and the result says why, but a still that cannot be written takes its
    clip with it: no clip is left without its still.
    """
    still_options = replace(options, keep_motion=False)
    try:
        clip = embedded_clip(src.read_bytes())
    except OSError:
        clip = None  # clean_picture says why the file cannot be read
    if clip is None:
        return clean_picture(src, dst, still_options)
    clip_dst = clip_path(dst)
    try:
        motion = clean_video(Source(src, data=clip), clip_dst, options)
    except PhotoguardError as exc:
        result = clean_picture(src, dst, still_options)
        result.motion = Result(src, None, "failed", error=f"its Motion Photo video was not kept: {exc}")
        return result
    try:
        result = clean_picture(src, dst, still_options)
    except BaseException:
        # the clip written by this call (still staged, in a batch): the pair appears whole or not at all
        atomic.written_path(clip_dst).unlink(missing_ok=True)
        raise
    result.motion = motion
    return result


def clean_picture(src: Path, dst: Path, options: Options) -> Result:
    """A photo's copy: a still, or an animation's frames or a document's pages."""
    data, handler = read_input(src)
    image = picture.open_image(data, src, options.max_pixels)
    containers = structure(handler, data, src)
    metadata = read_metadata(image, containers)
    dropped = frames.dropped(image, containers)
    if frames.kind(image):
        faces, left_out = _clean_frames(src, dst, data, image, handler, _encode_hints(image, containers), options)
        return Result(src, dst, "cleaned", faces, metadata.kinds, dropped=dropped + left_out)
    displayed = picture.displayed_size(image)
    faces = find_faces(data, src, options, displayed) if options.faces else []
    faces = regions.apply(options, data, faces)
    if not faces and _clean_losslessly(data, image, handler, dst, options):
        return Result(src, dst, "cleaned", faces, metadata.kinds, dropped=dropped)

    hints = _encode_hints(image, containers)
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
    clean = _writable(clean, out_handler)

    write_atomically(
        dst,
        lambda handle: out_handler.encode(clean, handle, hints),
        lambda written: verify_copy(written, out_handler, clean.size),
        overwrite=options.overwrite,
    )
    return Result(src, dst, "cleaned", faces, metadata.kinds, dropped=dropped)


def _clean_frames(src: Path, dst: Path, data: bytes, image: Image.Image, handler: FormatHandler,
                  hints: EncodeHints, options: Options) -> tuple[list[Face], list[str]]:
    """An animation or a multi-page TIFF: every frame or page cleaned (see frames.py).
    Returns the faces to report and words for the frames or pages the copy cannot hold."""
    sequence = frames.decode(image, src, options.max_pixels)
    if options.faces:
        found = frames.find_faces(sequence, detection.get_detector(options))
    else:
        found = [[] for _ in sequence.frames]
    found = regions.apply_to_frames(options, data, found)
    frames.obscure(sequence, found, options.mode, options.mask_scale)
    out_handler = BY_NAME[output_format(handler.name, options.output_format)]
    kept, left_out = frames.left_out(frames.without_repeats(sequence), out_handler.holds)
    clean = [_writable(frame, out_handler) for frame in kept.frames]
    several = kept if len(clean) > 1 else None
    timing = out_handler.stored_timing(kept.timing) if several and kept.timing else None
    write_atomically(
        dst,
        lambda handle: out_handler.encode(clean[0], handle, hints, clean[1:], timing),
        lambda written: verify_copy(written, out_handler, clean[0].size, several, timing),
        overwrite=options.overwrite,
    )
    return frames.counted(sequence, found), left_out


def _writable(image: Image.Image, handler: FormatHandler) -> Image.Image:
    """``image`` in a mode ``handler`` can write."""
    mode = handler.writable_mode(image.mode)
    return image if image.mode == mode else image.convert(mode)


def _strip_png(data: bytes, orientation: int, profile: bytes | None) -> bytes:
    if orientation != 1:  # a PNG copy carries no EXIF: the turn is baked into re-encoded pixels
        raise ValueError("a turned PNG is re-encoded upright")
    return png_lossless.strip(data, profile)


#: format -> strip(data, orientation, profile): a copy made without re-encoding
_LOSSLESS = {"jpeg": jpeg_lossless.strip, "png": _strip_png}


def _clean_losslessly(data: bytes, image: Image.Image, handler: FormatHandler, dst: Path,
                      options: Options) -> bool:
    """A JPEG or PNG with nothing to obscure, written in its own format: copy its compressed
    data as it is.

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


def _encode_hints(image: Image.Image, containers: list[Container]) -> EncodeHints:
    if image.format in ("JPEG", "MPO"):
        from PIL import JpegImagePlugin

        tables = getattr(image, "quantization", None)
        return EncodeHints(jpeg_qtables=[tables[k] for k in sorted(tables)] if tables else None,
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
