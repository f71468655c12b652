"""Videos (MP4, MOV, M4V, 3GP): copies rewritten with faces obscured and no metadata.

``clean_video`` and ``scan_video`` are reached through ``pipeline.clean_file`` and
``scan_file``; ``duration_seconds`` lets a batch scale a video's time budget by its length.
"""

from __future__ import annotations

from pathlib import Path

from .clean import clean_video, scan_video
from .source import Source, length_seconds, open_container, read_structure


def duration_seconds(path: Path | str) -> float:
    """The video's length from its headers only (cheap for any size). Raises InputError,
    DecodeError for a damaged file, like the rest of the library."""
    source = Source(Path(path))
    movie = read_structure(source)
    if movie.seconds():
        return movie.seconds()
    with open_container(source) as container:  # only when the headers do not say
        return length_seconds(movie, container)


__all__ = ["Source", "clean_video", "duration_seconds", "scan_video"]
