"""The first pass over a video: find the faces, then know where each one is in every frame.

Frames are decoded in full (a frame's count and time come from the stream itself, not from
what the container claims) but faces are looked for on a reduced, upright copy of some of
them: every frame of a short clip, a few frames per second of a long one. ``tracks`` links
those detections into one track per face and spreads each over the frames between, before
and after, so the second pass (which writes the copy) knows every frame's faces, including
frames before a face was first found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import tracks
from ..detect.base import Face
from ..errors import VideoDecodeError
from ..options import Options
from .geometry import upright
from .probe import Probe
from .source import Source, open_container, reason
from .threads import decoding

#: long side of the reduced frames faces are looked for on (measured: see bench/video_faces.py)
DETECT_SIDE = 640
#: clips up to this long get every frame looked at; longer ones DETECTIONS_PER_SECOND
EVERY_FRAME_UP_TO = 5.0
DETECTIONS_PER_SECOND = 10.0


@dataclass(frozen=True)
class FaceSpan(Face):
    """A face in a video: its best detection (displayed pixels) and when it is obscured."""

    start: float = 0.0
    end: float = 0.0
    #: (time, box) of each detection of the face, for previews
    path: tuple = ()

    def box_at(self, time: float) -> tuple[int, int, int, int]:
        """Where the face was found nearest to ``time``."""
        return min(self.path, key=lambda step: abs(step[0] - time))[1] if self.path else self.box


@dataclass
class FacePass:
    #: per frame, the faces to obscure, in displayed pixels of the full frame
    per_frame: list[list[Face]] = field(default_factory=list)
    #: one per face, for reports
    spans: list[FaceSpan] = field(default_factory=list)


def sampling_step(probe: Probe) -> int:
    """Look at every ``step``-th frame: all of a short clip, a few per second of a long one."""
    if probe.seconds <= EVERY_FRAME_UP_TO or not probe.frames:
        return 1
    rate = probe.frames / probe.seconds
    return max(1, round(rate / DETECTIONS_PER_SECOND))


def reduced_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, DETECT_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def find_faces(source: Source, probe: Probe, options: Options) -> FacePass:
    from ..pipeline import get_detector

    detector = get_detector(options)
    every = sampling_step(probe)
    small = reduced_size(probe.width, probe.height)
    displayed, shown = probe.displayed, (small[1], small[0]) if probe.rotation % 180 else small
    scale = (displayed[0] / shown[0], displayed[1] / shown[1])
    found: dict[int, list[Face]] = {}
    times: list[float] = []
    last = None

    def detect(index: int, frame) -> None:
        pixels = upright(frame.reformat(*small, format="rgb24", interpolation="AREA").to_ndarray(),
                         probe.rotation)
        found[index] = [face.scaled(*scale) for face in detector.detect(pixels)]

    with open_container(source) as container:
        stream = decoding(container.streams[probe.video])
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index >= probe.max_frames:
                    raise VideoDecodeError(f"the video holds more frames than its {probe.seconds:.1f} seconds "
                                      "can show", source.path)
                times.append(float(frame.time) if frame.time is not None else index / 30)
                if index % every == 0:
                    detect(index, frame)
                    last = None
                else:
                    last = (index, frame)
        except av_errors() as exc:
            raise VideoDecodeError(f"cannot decode the video: {reason(exc)}", source.path) from exc
        if last is not None:  # the last frame is always looked at: a face may enter late
            detect(*last)
    count = len(times)
    if count == 0:
        raise VideoDecodeError("the video holds no frames", source.path)
    per_frame = tracks.faces_by_frame(found, count, every, size=displayed)
    spans = [FaceSpan(span.face.box, span.face.score, times[span.first] - times[0], times[span.last] - times[0],
                      tuple((times[frame] - times[0], face.box) for frame, face in span.detections))
             for span in tracks.spans(found, count, every)]
    return FacePass(per_frame, spans)


def av_errors() -> tuple[type[Exception], ...]:
    import av

    return (av.FFmpegError,)
