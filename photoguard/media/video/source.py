"""Where a video comes from: a file, or a clip held in memory (cut out of a Motion Photo).

Both are read through file objects, by our box walker and by PyAV alike; failures become
one-line typed errors naming the file.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from ...errors import InputError, VideoDecodeError, reason
from .movie import Movie, read_movie


@dataclass(frozen=True)
class Source:
    #: the file, named in messages (for an embedded clip: the photo holding it)
    path: Path
    #: the clip's bytes when it is not a file of its own
    data: bytes | None = None

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.data is not None:
            yield io.BytesIO(self.data)
            return
        try:
            handle = open(self.path, "rb")
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", self.path) from exc
        with handle:
            yield handle


def read_structure(source: Source) -> Movie:
    with source.open() as handle:
        try:
            handle.seek(0, io.SEEK_END)
            return read_movie(handle, handle.tell())
        except ValueError as exc:
            raise VideoDecodeError(f"damaged video structure: {exc}", source.path) from exc
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror or exc}", source.path) from exc


@contextmanager
def open_container(source: Source):
    """The source opened by PyAV (FFmpeg's demuxer)."""
    import av  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

    with source.open() as handle:
        try:
            container = av.open(handle if source.data is not None else str(source.path), "r")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise VideoDecodeError(f"cannot read the video: {reason(exc)}", source.path) from exc
        try:
            yield container
        finally:
            container.close()


def length_seconds(movie: Movie, container) -> float:
    """The length the headers declare; for a fragmented file that declares none, FFmpeg's sum
    of its fragments (``container``: the file opened by ``open_container``)."""
    return movie.seconds() or (container.duration or 0) / 1_000_000
