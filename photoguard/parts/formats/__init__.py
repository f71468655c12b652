"""The explicit registry of format handlers, and sniffing by magic bytes."""

from __future__ import annotations

from .base import Container, EncodeHints, FormatHandler, Timing
from .gif import GifHandler
from .heif import HeifHandler
from .jpeg import JpegHandler
from .png import PngHandler
from .tiff import TiffHandler
from .video import VideoHandler
from .webp import WebpHandler

#: videos before HEIF: both are ISO boxes, and a video's major brand decides (see video.py)
HANDLERS: tuple[FormatHandler, ...] = (
    JpegHandler(), PngHandler(), WebpHandler(), TiffHandler(), GifHandler(), VideoHandler(), HeifHandler(),
)
BY_NAME = {handler.name: handler for handler in HANDLERS}
#: bytes needed to recognise any registered format
SNIFF_BYTES = 32
#: file name suffixes that promise an image or a video: such a file that is not one is an
#: error, not a skip
IMAGE_SUFFIXES = frozenset(s for handler in HANDLERS for s in handler.extensions + handler.suffixes)


def sniff(head: bytes) -> FormatHandler | None:
    for handler in HANDLERS:
        if handler.accept(head):
            return handler
    return None


def output_format(input_format: str, requested: str) -> str:
    """The format a copy is written in: the ``requested`` one (``--format``), or with "keep"
    the input's own, but a HEIF copy is a JPEG; a video's copy is a video (an MP4) whatever."""
    if requested != "keep" and input_format != "video":  # --format is for photos: videos become MP4
        return requested
    return "jpeg" if input_format == "heif" else input_format


__all__ = ["BY_NAME", "Container", "EncodeHints", "FormatHandler", "HANDLERS", "IMAGE_SUFFIXES",
           "SNIFF_BYTES", "Timing", "output_format", "sniff"]
