"""Files that hold more than one picture.

An animation (GIF, WebP, PNG, AVIF) is cleaned frame by frame: every frame is decoded whole, as
a viewer composes it, faces are looked for on every ``DETECT_EVERY``-th frame, on the frames
between two of those that show other faces, and on every frame whose picture differs from both
looked-at frames around it (``scene``: a slide of its own, not the same scene moved a little);
``tracks`` carries them to the frames in between, and the copy is an animation again that plays the same
frames for the same times. A multi-page TIFF is cleaned page by page, each page a picture of
its own. The extra pictures of a HEIF file (a burst, a stereo pair) or an MPO file are left
out of the copy, which holds the primary picture; ``dropped`` says so in plain words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from ..parts import picture, scene, tracks
from ..parts.detect.base import Face, iou
from ..parts.formats import Container, Timing
from ..parts.formats.tiff import NEW_SUBFILE_TYPE, is_reduced
from ..parts.obscure import obscure_in_place

#: formats whose frames are an animation (HEIF's several pictures are not: see ``dropped``)
ANIMATED = frozenset({"GIF", "WEBP", "PNG", "AVIF"})
#: faces are looked for on every this-many-th frame of an animation (and on its last), and on
#: the frames between two of those that do not show the SAME_FACE_IOU faces; tracks carry them
#: to the other frames. bench/animation_faces.py on 24 pan-and-zoom animations of WIDER photos:
#: 96.9 % of face-frames covered (every frame looked at: 96.6 %), with the detector run on 59 %
#: of the frames (71 % when the pan is twice as fast); every 3rd frame alone: 95.9 and 89.8 %
DETECT_EVERY = 3
#: two sampled frames show the same faces when each box overlaps one of the other this much
SAME_FACE_IOU = 0.5
#: the MPO index: one entry per picture, the primary first
_MP_ENTRIES = 0xB002
#: Pillow's names for the MPO picture types that are other pictures (not previews, nor
#: "Undefined" ones such as HDR gain maps, which "removed" counts as MPF images)
_MPO_PICTURES = {"Multi-Frame Image: (Disparity)": "stereo ", "Multi-Frame Image (Panorama)": "panorama ",
                 "Multi-Frame Image: (Multi-Angle)": "multi-angle ", "Baseline MP Primary Image": ""}
#: HEIF entity groups that say what the pictures of one file are to each other
_HEIF_GROUPS = {"group:brst": "burst ", "group:ster": "stereo "}


@dataclass
class Sequence:
    """The decoded frames of an animation, or the pages of a document, upright and in sRGB."""

    kind: str  # "animation" or "pages"
    frames: list[Image.Image]
    #: how the animation plays (None for pages)
    timing: Timing | None = None
    #: drawn in a palette (a GIF): faces are obscured in the frame's own colours
    own_colours: bool = False


def kind(image: Image.Image) -> str | None:
    """How the frames of ``image`` are cleaned: each as part of an "animation", each as one of
    its "pages", or None (one picture, or a HEIF or MPO file whose primary picture is kept)."""
    if getattr(image, "n_frames", 1) <= 1:
        return None
    if image.format in ANIMATED:
        return "animation"
    return "pages" if image.format == "TIFF" else None


def decode(image: Image.Image, path: Path, max_pixels: int) -> Sequence:
    return _animation(image, path, max_pixels) if kind(image) == "animation" else _pages(image, path, max_pixels)


def _animation(image: Image.Image, path: Path, max_pixels: int) -> Sequence:
    # a PNG's default image that is not part of its animation is only a still for old viewers
    first = 1 if image.format == "PNG" and image.info.get("default_image") else 0
    count = image.n_frames - first
    picture.check_pixels(image.width * image.height * count, max_pixels, path,
                         f"{count} frames of {image.width}x{image.height}")
    # read at the first frame: Pillow forgets a GIF's loop block on later ones
    loop = image.info.get("loop", None if image.format == "GIF" else 0)
    turn, profile, own_colours = picture.orientation(image), image.info.get("icc_profile"), image.mode in ("P", "PA")
    frames, durations = [], []
    for index in range(first, image.n_frames):
        picture.seek(image, index, path)
        frame = image.convert("RGBA")  # the whole canvas as shown, not the part this frame changed
        if profile:
            frame.info["icc_profile"] = profile
        frames.append(picture.upright(picture.to_srgb(frame, path), path, turn))
        durations.append(round(image.info.get("duration", 0)))
    if all(frame.getchannel("A").getextrema()[0] == 255 for frame in frames):
        frames = [frame.convert("RGB") for frame in frames]
    return Sequence("animation", frames, Timing(tuple(durations), loop), own_colours)


def _pages(image: Image.Image, path: Path, max_pixels: int) -> Sequence:
    pages, pixels = [], 0
    for index in range(image.n_frames):
        picture.seek(image, index, path)
        if is_reduced(image.tag_v2.get(NEW_SUBFILE_TYPE, 0)):
            continue  # a thumbnail of another page: metadata, dropped with the rest
        pixels += image.width * image.height
        picture.check_pixels(pixels, max_pixels, path, f"{index + 1} pages or more")
        page = picture.upright(picture.to_srgb(image, path), path)
        pages.append(page.copy() if page is image else page)  # the next seek reuses ``image``
    return Sequence("pages", pages)


def find_faces(sequence: Sequence, detector) -> list[list[Face]]:
    """The faces to obscure in each frame or page."""
    if sequence.kind == "pages":
        return [detector.detect(_rgb(page)) for page in sequence.frames]
    thumbnails = [scene.thumbnail(_rgb(frame)) for frame in sequence.frames]
    return spread(len(sequence.frames), sequence.frames[0].size,
                  lambda index: detector.detect(_rgb(sequence.frames[index])),
                  differs=lambda a, b: scene.changed(thumbnails[a], thumbnails[b]))


def spread(count: int, size: tuple[int, int], detect_at: Callable[[int], list[Face]],
           every: int = DETECT_EVERY, differs: Callable[[int, int], bool] | None = None) -> list[list[Face]]:
    """The faces to obscure in each of ``count`` frames, from ``detect_at(index)`` run on every
    ``every``-th frame, and on the frames between two of those whose faces differ (a face came,
    went or moved): that is where a face held from a neighbour would not cover it. Then on each
    frame that ``differs(index, other)`` from both the looked-at frames before and after it (a
    new picture: no face held from either is in it)."""
    found = {index: detect_at(index) for index in tracks.sampled_frames(count, every)}
    sampled = sorted(found)
    for before, after in zip(sampled, sampled[1:]):
        if after - before > 1 and not _same_faces(found[before], found[after]):
            found.update((index, detect_at(index)) for index in range(before + 1, after))
    if differs is not None:
        before = 0
        for index in range(1, count):
            if index not in found:
                after = min(frame for frame in found if frame > index)  # the last frame always is
                if differs(before, index) and differs(after, index):
                    found[index] = detect_at(index)
            if index in found:
                before = index
    return tracks.faces_by_frame(found, count, every, size)


def _same_faces(a: list[Face], b: list[Face]) -> bool:
    """Each face of one list overlaps one of the other by SAME_FACE_IOU or more, and back."""
    return len(a) == len(b) and all(any(iou(x.box, y.box) >= SAME_FACE_IOU for y in b) for x in a) \
        and all(any(iou(x.box, y.box) >= SAME_FACE_IOU for x in a) for y in b)


def _rgb(frame: Image.Image) -> np.ndarray:
    return np.asarray(frame if frame.mode == "RGB" else frame.convert("RGB"))


def obscure(sequence: Sequence, faces: list[list[Face]], mode: str, mask_scale: float) -> None:
    for index, found in enumerate(faces):
        if found:
            pixels = np.array(sequence.frames[index])
            obscure_in_place(pixels, found, mode, mask_scale, sequence.own_colours)
            sequence.frames[index] = Image.fromarray(pixels)


def without_repeats(sequence: Sequence) -> Sequence:
    """An animation with each frame that shows the same as the one before merged into it, its
    time added (encoders do the same, so the copy's frames can be checked against these)."""
    if sequence.kind != "animation":
        return sequence
    frames, durations = [sequence.frames[0]], [sequence.timing.durations[0]]
    for frame, duration in zip(sequence.frames[1:], sequence.timing.durations[1:]):
        if _shown(frame) == _shown(frames[-1]):
            durations[-1] += duration
        else:
            frames.append(frame)
            durations.append(duration)
    return Sequence("animation", frames, Timing(tuple(durations), sequence.timing.loop), sequence.own_colours)


def _shown(frame: Image.Image) -> bytes:
    """The pixels as shown: colours under fully transparent pixels do not count."""
    if frame.mode != "RGBA":
        return frame.tobytes()
    pixels = np.array(frame)
    pixels[pixels[..., 3] == 0] = 0
    return pixels.tobytes()


def mismatch(written: Image.Image, expected: Sequence | None, timing: Timing | None) -> str | None:
    """What the decoded copy ``written`` holds that differs from the ``expected`` frames or
    pages (None: a single picture), or None when nothing does.

    ``timing`` is the animation's timing as the copy's format stores it. An encoder may merge a
    frame into the one before when the two look the same (lossy WebP does, within a few levels):
    so each frame of the copy must start when one of the expected frames starts, and the whole
    must last as long.
    """
    count = getattr(written, "n_frames", 1)
    loop = written.info.get("loop", None if written.format == "GIF" else 0)  # before seeking: see _animation
    if expected is None or timing is None:
        pages = [written.size] if expected is None else [page.size for page in expected.frames]
        if count != len(pages):
            return f"holds {count} pictures, expected {len(pages)}"
        for index, size in enumerate(pages):
            written.seek(index)
            written.load()
            if written.size != size:
                return f"has picture {index + 1} of {written.size}, expected {size}"
        return None
    durations = []
    for index in range(count):
        written.seek(index)
        written.load()
        durations.append(round(written.info.get("duration", 0)))
    starts, expected_starts = _starts(durations), _starts(timing.durations)
    if not set(starts) <= set(expected_starts) or starts[-1] != expected_starts[-1]:
        return f"has {count} frames playing {durations} ms, expected {list(timing.durations)}"
    if loop != timing.loop:
        return f"loops {loop} times, expected {timing.loop}"
    return None


def _starts(durations) -> list[int]:
    """When each frame starts, and when the last one ends."""
    return np.cumsum([0, *durations]).tolist()


def dropped(image: Image.Image, containers: list[Container]) -> list[str]:
    """Plain words for the pictures of the file that its copy leaves out: "3 more burst pictures"."""
    if image.format == "HEIF":
        names = {c.name for c in containers}
        word = next((word for group, word in _HEIF_GROUPS.items() if group in names), "")
        return _more(image.n_frames - 1, f"{word}picture")
    if image.format == "MPO":
        entries = image.mpinfo.get(_MP_ENTRIES, [])[1:]
        words = Counter(_MPO_PICTURES.get(entry.get("Attribute", {}).get("MPType")) for entry in entries)
        return [text for word, count in words.items() if word is not None for text in _more(count, f"{word}picture")]
    if image.format == "PNG" and image.info.get("default_image") and kind(image):
        return ["1 still picture shown only where the animation does not play"]
    return []


def left_out(sequence: Sequence, holds: str | None) -> tuple[Sequence, list[str]]:
    """The sequence as a format that ``holds`` animations, pages or neither can take it:
    its first frame alone when the format cannot hold the rest, and words for what is left out."""
    if holds == sequence.kind or len(sequence.frames) == 1:
        return sequence, []
    what = "frame" if sequence.kind == "animation" else "page"
    return Sequence(sequence.kind, sequence.frames[:1]), _more(len(sequence.frames) - 1, what)


def counted(sequence: Sequence, faces: list[list[Face]]) -> list[Face]:
    """The faces a result reports: those of every page, or those of the animation frame that
    shows the most (the same face seen in every frame is one face)."""
    if sequence.kind == "pages":
        return [face for page in faces for face in page]
    return max(faces, key=len, default=[])


def _more(count: int, what: str) -> list[str]:
    return [f"{count} more {what}{'s' * (count != 1)}"] if count > 0 else []
