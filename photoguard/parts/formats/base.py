"""The interface every format handler implements.

A handler knows one family of files: how to recognise it from its first bytes, how to list the
containers (segments, chunks, blocks, tags) a file is made of, which of those a clean copy may
keep, and how to encode a fresh image that carries nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import BinaryIO, Sequence

from PIL import Image


@dataclass(frozen=True)
class Container:
    """One structural piece of a file, e.g. a JPEG APP1 segment or a PNG tEXt chunk."""

    name: str
    #: the kind of metadata it holds ("exif", "xmp", ...), or "" for picture data and structure
    kind: str = ""
    size: int = 0
    #: how many things it holds where that matters to a person (e.g. MPF secondary images)
    count: int = 0


@dataclass(frozen=True)
class EncodeHints:
    """What the encoder may reuse from the source so the copy looks like the original."""

    jpeg_qtables: list | None = None
    jpeg_subsampling: int = -1
    webp_lossless: bool = False
    #: the JPEG source was stored turned (EXIF orientation): the upright copy's 8x8 blocks no
    #: longer line up with the original's, so finer tables keep the second-generation loss
    #: small (measured on meta-dev: worst 38.2 dB with the source's tables, 41.4 dB halved)
    jpeg_turned: bool = False


@dataclass(frozen=True)
class Timing:
    """How an animation plays: each frame's duration in milliseconds, and the loop count
    (0: for ever; None: once, the way a GIF without a loop block plays)."""

    durations: tuple[int, ...]
    loop: int | None = 0


class FormatHandler(ABC):
    #: short name used on the command line and in reports ("jpeg")
    name: str
    #: Pillow's format name for ``Image.save``
    pillow_format: str
    #: accepted file name suffixes, the first one is used for new files
    extensions: tuple[str, ...]
    #: file name suffixes that promise this format: such a file that is not one is an error
    suffixes: tuple[str, ...] = ()
    #: container names a clean copy may hold: everything else is refused by verification
    keep: frozenset[str]
    #: False for formats photoguard reads but does not write
    writable: bool = True
    #: what a file of this format holds besides one picture: "animation", "pages" or None
    holds: str | None = None

    @abstractmethod
    def accept(self, head: bytes) -> bool:
        """True when the first bytes of a file are this format's signature."""

    @abstractmethod
    def containers(self, data: bytes) -> list[Container]:
        """The file's structure, in file order. Raises ValueError when it cannot be walked."""

    def encode(self, image: Image.Image, out: BinaryIO, hints: EncodeHints,
               more: Sequence[Image.Image] = (), timing: Timing | None = None) -> None:
        """Write ``image`` with no metadata at all; ``more`` frames or pages after it, played
        with ``timing`` (as ``stored_timing`` gives it) when they are an animation."""
        frames = [fresh(frame) for frame in (image, *more)]
        self.save(frames, out, hints, timing)

    def save(self, frames: list[Image.Image], out: BinaryIO, hints: EncodeHints, timing: Timing | None) -> None:
        options = self.save_options(frames[0], hints)
        if len(frames) > 1:
            options.update(save_all=True, append_images=frames[1:], **self.frame_options(timing))
        frames[0].save(out, self.pillow_format, **options)

    def save_options(self, image: Image.Image, hints: EncodeHints) -> dict:
        return {}

    def frame_options(self, timing: Timing | None) -> dict:
        """Pillow's options for the frames after the first (see ``holds``)."""
        raise NotImplementedError(f"{self.name} files hold one picture")

    def stored_timing(self, timing: Timing) -> Timing:
        """``timing`` as a file of this format stores it (and reads it back)."""
        return timing

    def writable_mode(self, mode: str) -> str:
        """The Pillow mode an image must have before ``encode``."""
        return mode

    def leftovers(self, data: bytes) -> list[Container]:
        """Containers in a written file that a clean copy must not hold."""
        return [c for c in self.containers(data) if c.name not in self.keep]


def fresh(image: Image.Image) -> Image.Image:
    """A plain copy: Pillow carries info keys (comment, icc_profile) and, for TIFF, the source's
    tags (ImageDescription, Software...) over from an opened file when saving. A plain image
    with no info carries nothing: it is used as it is (an animation's frames, memory saved)."""
    if type(image) is Image.Image and not image.info:
        return image
    copy = image.copy()
    copy.info = {}
    return copy
