"""The first pass over a video: find the faces, then know where each one is in every frame.

Frames are decoded in full (a frame's count and time come from the stream itself, not from
what the container claims) but faces are looked for on a reduced, upright copy of some of
them: DETECTIONS_PER_SECOND frames a second, whatever the frame rate, and every frame whose
picture differs from the last one looked at (``scene``: a cut, a flash, a face come in
between two looks), so that no picture the tracks could not hold a face into goes unseen. ``tracks`` links
those detections into one track per face and spreads each over the frames between, before
and after, so the second pass (which writes the copy) knows every frame's faces, including
frames before a face was first found.

The second pass may run while the first is still going (on a process given two cores or
more), but it only ever reads a frame's faces once the first pass is far enough ahead that
nothing it finds later can change them (``FaceTimeline.settled``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from ...errors import VideoDecodeError, reason
from ...options import Options
from ...parts import detection, scene, tracks
from ...parts.detect.base import Face
from ...parts.detect.centerface import DEFAULT_THRESHOLD
from .camera import CameraTracker
from .geometry import upright
from .probe import Probe
from .source import Source, open_container
from .threads import decoding

# Measured with bench/video_faces.py on the 20 clips of the dev set (1280x720 mostly, faces
# of 10 to 750 px): "proxy" is its geometric coverage, "judged" the face judge's pixel count.
#: long side of the reduced frames faces are looked for on: 480 px covered 0.93 of the
#: face-frames (proxy), 640 px 0.96, for 1.8x the detector's time
DETECT_SIDE = 640
#: frames looked at per second of video, whatever its frame rate or length: every frame of
#: the 30 fps clips covered no more than every third (proxy 0.963 against 0.966; every fourth
#: 0.963), tracking fills the frames between
DETECTIONS_PER_SECOND = 10.0
#: a face missed this many times in a row (a second at DETECTIONS_PER_SECOND) is still there
MAX_MISSES = 10
#: a face is obscured this long before it was first found and after it was last found,
#: beyond the sampling step (it was there, not yet found: a face turning, entering the
#: picture), carried along with the camera's motion. Judged on the 20 clips of the dev set:
#: 0.5 s obscured 98.8% of the face-frames, 1 s 99.2% (7.6% of the pixels outside faces
#: changed against 6.6%); the proxy found 1.5 s no better than 1 s. Held in place, before
#: the camera was followed, a longer hold had gained nothing
HOLD_SECONDS = 1.0
#: ... but carried on along its own way (a straight line through its last two detections) for
#: at most this long: further on, that line drifts off (a face that stopped, turned back or
#: left) and only blurs bodies and background. Measured with bench/video_faces.py (proxy):
#: coverage 0.9809 with or without the limit, masked outside faces 20.2% of the picture
#: against 20.7% (0 s: 19.6%, coverage 0.9808). Judged: 99.1% of the face-frames obscured
#: against 99.0%, pixels changed outside faces 7.3% against 7.7%
OWN_WAY_SECONDS = 0.5
#: detected boxes are grown by these shares of their width and height, up to the margin a face
#: GROW_UP_TO pixels high gets. The detector's boxes stop at the brow and chin, the obscured
#: area must take in forehead, hair, ears and jaw; a big face grown as much blurs most of the
#: picture. Judged on 4 clips at the photo threshold: no growth 0.746 of the face-frames,
#: 0.4/0.5 0.938; on all 20 at 0.15: 0.5/0.6 without a limit 0.962 (67 frames blurred out of
#: recognition), 0.5/0.6 up to 120 px 0.973, 0.6/0.8 up to 120 px 0.977 (5.3% of the pixels
#: outside faces changed)
GROW_WIDTH, GROW_HEIGHT = 0.6, 0.8
GROW_UP_TO = 120
#: CenterFace's detection threshold for videos: lower than for photos, because a face found
#: at a score below the engine's usual threshold counts only when found again in the next
#: frames looked at (tracks' confirm_below), which keeps out the noise a low threshold lets in.
#: Measured on 5 hard clips of the dev set (bench/video_faces.py): CenterFace at 0.15 covered
#: 0.930 of the face-frames against 0.904 at its photo threshold (0.23), with as few regions
#: obscured where there is no face (2.05 per frame against 2.10); 0.10 covered 0.930 with 9.1
CENTERFACE_VIDEO_THRESHOLD = 0.15
#: the writing pass has the faces of the frames found so far worked out again (each time over
#: all of them) when it is this many frames, or a tenth of the frames written, from the last
#: settled one: it follows the detection pass closely, and a long clip is not gone over again
#: for every few frames
SETTLE_STEP = 30


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


def frame_rate(probe: Probe) -> float:
    return probe.frames / probe.seconds if probe.frames and probe.seconds else 30.0


def sampling_step(probe: Probe) -> int:
    """Look at every ``step``-th frame, DETECTIONS_PER_SECOND of them a second."""
    return max(1, round(frame_rate(probe) / DETECTIONS_PER_SECOND))


def grown(face: Face) -> Face:
    """A detection grown around its centre by GROW_WIDTH and GROW_HEIGHT (in displayed pixels
    of the full frame), by no more than a face GROW_UP_TO pixels high would be."""
    x, y, w, h = face.box
    limit = min(1.0, GROW_UP_TO / max(h, 1))
    dx, dy = w * limit * GROW_WIDTH / 2, h * limit * GROW_HEIGHT / 2
    return Face((round(x - dx), round(y - dy), round(w + 2 * dx), round(h + 2 * dy)), face.score)


def reduced_size(width: int, height: int, side: int = DETECT_SIDE) -> tuple[int, int]:
    """The size faces are looked for at: the long side ``side`` at most, both sides even."""
    scale = min(1.0, side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def detection_options(options: Options) -> tuple[Options, float]:
    """The options to detect with in a video, and the score under which a face must be found
    twice (0: never). A threshold the user chose is used as it is."""
    if options.threshold is not None or options.detector != "centerface":
        return options, 0.0
    return replace(options, threshold=CENTERFACE_VIDEO_THRESHOLD), DEFAULT_THRESHOLD


class FaceTimeline:
    """The faces of every frame (displayed pixels), filled by the detection pass."""

    def __init__(self, probe: Probe, confirm_below: float = 0.0):
        self.every = sampling_step(probe)
        self.reach = round(HOLD_SECONDS * frame_rate(probe))
        self.own_way = round(OWN_WAY_SECONDS * frame_rate(probe))
        self.confirm_below = confirm_below
        self.size = probe.displayed
        #: the frames a track may reach back from its first detection, or span between two of
        #: its detections: a frame this far behind the last one looked at is settled
        self.lag = tracks.settled_after(self.every, MAX_MISSES, self.reach)
        self.found: dict[int, list[Face]] = {}
        #: frame -> (zoom, dx, dy): how the picture moved since the frame looked at before it
        self.camera: dict[int, tuple[float, float, float]] = {}
        self.times: list[float] = []
        self.done = False
        self.error: BaseException | None = None
        self.stopped = False
        self._changed = threading.Condition()
        self._per_frame: list[list[Face]] = []
        self._settled = 0

    # --- the detection pass ---

    def frame(self, time: float, faces: list[Face] | None, camera: tuple[float, float, float] | None = None) -> None:
        """One more frame, with the faces found in it (None: not looked at) and how the picture
        moved since the frame looked at before it (in displayed pixels)."""
        with self._changed:
            if faces is not None:
                self.found[len(self.times)] = faces
            if camera is not None:
                self.camera[len(self.times)] = camera
            self.times.append(time)
            self._changed.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self._changed:
            self.done, self.error = True, error
            self._changed.notify_all()

    # --- the writing pass ---

    def faces(self, index: int) -> list[Face]:
        """The faces of frame ``index``, once nothing found later can change them."""
        if index >= self._settled:
            self._settle(index)
        return self._per_frame[index] if index < len(self._per_frame) else []

    def total(self) -> int:
        """The number of frames, once the detection pass is over."""
        self._wait(lambda: self.done)
        return len(self.times)

    def _wait(self, ready) -> None:
        with self._changed:
            while not self._changed.wait_for(ready, timeout=1.0):
                pass  # woken every second: a time budget's signal is never held up
            if self.error is not None:
                raise self.error

    def _settle(self, index: int) -> None:
        step = max(SETTLE_STEP, index // 10)
        self._wait(lambda: self.done or len(self.times) > index + self.lag + step)
        with self._changed:
            found, count, done = dict(self.found), len(self.times), self.done
            camera = tracks.CameraPath(self.camera)
        self._per_frame = tracks.faces_by_frame(found, count, self.every, size=self.size,
                                                confirm_below=self.confirm_below, max_misses=MAX_MISSES,
                                                extra_reach=self.reach, camera=camera, own_way=self.own_way)
        self._settled = count if done else count - self.lag

    def stop(self) -> None:
        """Tell the detection pass to give up (the writing pass failed)."""
        with self._changed:
            self.stopped = True

    def spans(self) -> list[FaceSpan]:
        """One per face, for reports (after the detection pass)."""
        start = self.times[0] if self.times else 0.0
        return [FaceSpan(span.face.box, span.face.score, self.times[span.first] - start,
                         self.times[span.last] - start,
                         tuple((self.times[frame] - start, face.box) for frame, face in span.detections))
                for span in tracks.spans(self.found, len(self.times), self.every, self.confirm_below,
                                         MAX_MISSES, self.reach, tracks.CameraPath(self.camera))]


def detect_faces(source: Source, probe: Probe, options: Options, timeline: FaceTimeline) -> None:
    """The detection pass, filling ``timeline``; any failure is handed to it too."""
    try:
        _detect(source, probe, options, timeline)
    except BaseException as exc:  # noqa: BLE001 - the writing pass raises it in its own thread
        timeline.finish(exc)
        return
    timeline.finish()


def _detect(source: Source, probe: Probe, options: Options, timeline: FaceTimeline) -> None:
    detector = detection.get_detector(detection_options(options)[0])
    small = reduced_size(probe.width, probe.height)
    displayed, shown = probe.displayed, (small[1], small[0]) if probe.rotation % 180 else small
    scale = (displayed[0] / shown[0], displayed[1] / shown[1])

    camera = CameraTracker()
    thumbnail_size = reduced_size(probe.width, probe.height, scene.SIDE)

    def thumbnail(frame):
        return scene.thumbnail(frame.reformat(*thumbnail_size, format="rgb24", interpolation="AREA").to_ndarray())

    def detect(frame) -> tuple[list[Face], tuple[float, float, float]]:
        pixels = upright(frame.reformat(*small, format="rgb24", interpolation="AREA").to_ndarray(), probe.rotation)
        zoom, dx, dy = camera.step(pixels)
        return [grown(face.scaled(*scale)) for face in detector.detect(pixels)], (zoom, dx * scale[0], dy * scale[1])

    previous = None  # (time, (faces, camera) or None when not looked at, frame)
    last_looked = None  # the thumbnail of the last frame looked at
    with open_container(source) as container:
        stream = decoding(container.streams[probe.video])
        try:
            for index, frame in enumerate(container.decode(stream)):
                if timeline.stopped:
                    return
                if index >= probe.max_frames:
                    raise VideoDecodeError(f"the video holds more frames than its {probe.seconds:.1f} seconds "
                                           "can show", source.path)
                # each frame is handed over one frame late, once it is known not to be the last
                if previous is not None:
                    timeline.frame(previous[0], *(previous[1] or (None, None)))
                time = float(frame.time) if frame.time is not None else index / 30
                shown = thumbnail(frame)
                look = index % timeline.every == 0 or scene.changed(last_looked, shown)
                if look:
                    last_looked = shown
                previous = (time, detect(frame) if look else None, frame)
        except av_errors() as exc:
            raise VideoDecodeError(f"cannot decode the video: {reason(exc)}", source.path) from exc
    if previous is None:
        raise VideoDecodeError("the video holds no frames", source.path)
    time, looked, frame = previous
    timeline.frame(time, *(looked or detect(frame)))  # a face may enter late


def find_faces(source: Source, probe: Probe, options: Options) -> FaceTimeline:
    """The detection pass on its own (for scans and previews)."""
    timeline = FaceTimeline(probe, detection_options(options)[1])
    detect_faces(source, probe, options, timeline)
    if timeline.error is not None:
        raise timeline.error
    return timeline


def av_errors() -> tuple[type[Exception], ...]:
    import av  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

    return (av.FFmpegError,)
