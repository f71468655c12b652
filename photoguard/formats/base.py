"""The interface every format handler implements.

A handler knows one family of files: how to recognise it from its first bytes, how to list the
containers (segments, chunks, blocks, tags) a file is made of, which of those a clean copy may
keep, and how to encode a fresh image that carries nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import BinaryIO

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

    @abstractmethod
    def accept(self, head: bytes) -> bool:
        """True when the first bytes of a file are this format's signature."""

    @abstractmethod
    def containers(self, data: bytes) -> list[Container]:
        """The file's structure, in file order. Raises ValueError when it cannot be walked."""

    def encode(self, image: Image.Image, out: BinaryIO, hints: EncodeHints) -> None:
        """Write ``image`` with no metadata at all."""
        # a plain copy: Pillow carries info keys (comment, icc_profile) and, for TIFF, the
        # source's tags (ImageDescription, Software...) over from an opened file when saving
        fresh = image.copy()
        fresh.info = {}
        fresh.save(out, self.pillow_format, **self.save_options(fresh, hints))

    def save_options(self, image: Image.Image, hints: EncodeHints) -> dict:
        return {}

    def writable_mode(self, mode: str) -> str:
        """The Pillow mode an image must have before ``encode``."""
        return mode

    def leftovers(self, data: bytes) -> list[Container]:
        """Containers in a written file that a clean copy must not hold."""
        return [c for c in self.containers(data) if c.name not in self.keep]
