"""Re-reading a written video copy before it counts: its boxes against the keep list, then
every frame decoded (count, size, rotation) and the sound decoded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import VerificationError, reason
from .keep import leftovers, unreferenced_bytes
from .movie import open_movie


@dataclass(frozen=True)
class Expected:
    frames: int
    #: stored frame size (width, height), None for an audio-only copy
    size: tuple[int, int] | None
    rotation: int
    audio: bool


def verify_copy(path: Path, expected: Expected) -> None:
    try:
        movie = open_movie(path)
        found = leftovers(movie)
        stray = unreferenced_bytes(movie)
    except ValueError as exc:
        raise VerificationError(f"the written copy is damaged: {exc}", path) from exc
    if found:
        raise VerificationError(f"the written copy still holds {', '.join(found)}", path)
    if stray:
        raise VerificationError(f"the written copy holds {stray} bytes no track refers to", path)
    _decode(path, expected)


def _decode(path: Path, expected: Expected) -> None:
    import av  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

    try:
        with av.open(str(path)) as container:
            videos, audios = container.streams.video, container.streams.audio
            if len(videos) != (expected.size is not None) or len(audios) != expected.audio:
                raise VerificationError(f"the written copy has {len(videos)} video and {len(audios)} "
                                        "sound streams", path)
            frames, rotation = 0, 0
            for frame in container.decode(*videos, *audios):
                if isinstance(frame, av.AudioFrame):
                    continue
                if (frame.width, frame.height) != expected.size:
                    raise VerificationError(f"the written copy's frames are {frame.width}x{frame.height}, "
                                            f"expected {expected.size[0]}x{expected.size[1]}", path)
                rotation = frame.rotation
                frames += 1
    except av.FFmpegError as exc:
        raise VerificationError(f"the written copy does not decode: {reason(exc)}", path) from exc
    if frames != expected.frames:
        raise VerificationError(f"the written copy holds {frames} frames, expected {expected.frames}", path)
    if expected.size is not None and (rotation - expected.rotation) % 360:
        raise VerificationError(f"the written copy turns the picture by {rotation} degrees, "
                                f"expected {expected.rotation}", path)
