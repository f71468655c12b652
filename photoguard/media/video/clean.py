"""One video: ``clean_video`` (probe, find faces, write, verify) and ``scan_video``."""

from __future__ import annotations

import threading
from pathlib import Path

from ...options import Options
from ...parts.atomic import write_atomically
from ...parts.metadata import Metadata
from ...parts.results import Report, Result
from .faces import FaceTimeline, detect_faces, detection_options, find_faces
from .probe import Probe, probe
from .rewrite import Written, write_copy
from .source import Source
from .tags import read_tags
from .threads import share
from .verify import Expected, verify_copy


def clean_video(source: Source, dst: Path, options: Options) -> Result:
    """Write a clean copy of ``source`` at ``dst``."""
    found = probe(source, options)
    metadata = what_it_gives_away(found)
    written: list[Written] = []

    def check(path: Path) -> None:
        size = (found.width, found.height) if found.video is not None else None
        verify_copy(path, Expected(written[0].frames, size, found.rotation, found.audio is not None))

    faces = detection = None
    if options.faces and found.video is not None and share() > 1:
        # a second core: the writing pass follows the detection pass instead of waiting for it
        faces = FaceTimeline(found, detection_options(options)[1])
        detection = threading.Thread(target=detect_faces, args=(source, found, options, faces), daemon=True)
        detection.start()
    elif options.faces and found.video is not None:
        faces = find_faces(source, found, options)
    try:
        write_atomically(dst, lambda handle: written.append(write_copy(source, handle, found, faces, options)),
                         check, overwrite=options.overwrite)
    finally:
        if detection is not None:
            faces.stop()
            detection.join()
    return Result(source.path, dst, "cleaned", faces.spans() if faces else [], metadata.kinds)


def scan_video(source: Source, options: Options) -> Report:
    """What the video gives away; its faces when ``options.faces``."""
    found = probe(source, options)
    metadata = what_it_gives_away(found)
    faces = find_faces(source, found, options) if options.faces and found.video is not None else None
    width, height = found.displayed
    return Report(source.path, _container_name(found), width, height, faces.spans() if faces else [], metadata,
                  seconds=round(found.seconds, 3))


def what_it_gives_away(found: Probe) -> Metadata:
    metadata = read_tags(found.movie, found.video_track, found.audio_track)
    if found.audio_track is not None and found.audio is None and "sound" not in metadata.kinds:
        metadata.kinds.append("sound")  # --no-audio: the voices go too
    return metadata


def _container_name(found: Probe) -> str:
    """'mov', '3gp' or 'mp4', from the file's major brand (or its lack of one)."""
    first = found.movie.top[0] if found.movie and found.movie.top else None
    brand = found.movie.brand if found.movie else ""
    if first is None or first.type != "ftyp" or brand == "qt  ":
        return "mov"
    return "3gp" if brand.startswith("3g") else "mp4"
