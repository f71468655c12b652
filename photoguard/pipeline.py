"""One file: ``clean_file`` and ``scan_file`` pick the handler for a still, a picture sequence
(an animation, a multi-page TIFF) or a video, and clean a Motion Photo's clip beside its still."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .errors import OutputExists, PhotoguardError
from .media import frames, sequence, still
from .media.video import Source, clean_video, scan_video
from .media.video.motion import clip_path, embedded_clip
from .options import Options
from .parts import atomic, picture
from .parts.formats import BY_NAME, SNIFF_BYTES, sniff
from .parts.results import Report, Result


def is_video(path: Path) -> bool:
    """Videos are read in pieces (they can be gigabytes), never whole like photos."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False  # picture.read_file says why
    return sniff(head) is BY_NAME["video"]


def scan_file(path: Path | str, options: Options = Options()) -> Report:
    path = Path(path)
    if is_video(path):
        return scan_video(Source(path), options)
    photo = picture.read_file(path, options.max_pixels)
    if frames.kind(photo.image):
        return sequence.scan(photo, options)
    return still.scan(photo, options)


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


def clean_picture(src: Path, dst: Path, options: Options) -> Result:
    """A photo's copy: a still, or an animation's frames or a document's pages."""
    photo = picture.read_file(src, options.max_pixels)
    if frames.kind(photo.image):
        return sequence.clean(photo, dst, options)
    return still.clean(photo, dst, options)


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
