"""Faces through a sequence of frames (animations, videos): from detections on some frames to
the faces to obscure in every frame.

A detector misses a face now and then, and running it on every frame of a long clip costs too
much. So detections are linked into tracks (one per face), the boxes are interpolated between
the frames where the face was found, and each track is widened: in time, a few frames before
its first and after its last detection (the face was there, not yet found); in space, by how
far the face moves between two detections. Missing a face for one frame exposes a child, an
extra blurred patch costs nothing: every choice here errs towards covering.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .detect.base import Face, iou

#: a detection continues a track when it overlaps the track's predicted box this much ...
LINK_IOU = 0.1
#: ... or when its centre is within this many box sizes of the predicted centre
LINK_DISTANCE = 1.5
#: a track survives this many sampled frames without a detection (a missed face, a blink)
MAX_MISSES = 3
#: frames a track is held before its first and after its last detection, beyond the
#: sampling step itself (the face may have been there a frame or two before it was found)
EXTRA_REACH = 2
#: boxes between detections grow by this share of the distance the face moved (its path
#: between two samples is not a straight line)
MOTION_MARGIN = 0.5


def sampled_frames(count: int, every: int) -> list[int]:
    """The frames to run the detector on: every ``every``-th, and always the last."""
    every = max(1, every)
    frames = list(range(0, count, every))
    if count and frames[-1] != count - 1:
        frames.append(count - 1)
    return frames


class CameraPath:
    """How the picture moved: for some frames, the zoom and shift that take a point of frame 0
    to the same point of the scene in that frame (between them, taken as changing evenly)."""

    def __init__(self, steps: dict[int, tuple[float, float, float]] | None = None):
        """``steps``: frame -> (zoom, dx, dy), the motion since the frame before it in ``steps``
        (the first one's is where the path starts: it is not used)."""
        self._frames: list[int] = []
        self._poses: list[tuple[float, float, float]] = []
        zoom, x, y = 1.0, 0.0, 0.0
        for frame in sorted(steps or {}):
            if self._frames:
                z, dx, dy = steps[frame]
                zoom, x, y = zoom * z, x * z + dx, y * z + dy
            self._frames.append(frame)
            self._poses.append((zoom, x, y))
        #: whether the camera's motion is known (a still camera otherwise)
        self.followed = bool(self._frames)

    def _pose(self, frame: float) -> tuple[float, float, float]:
        frames, poses = self._frames, self._poses
        if not frames:
            return 1.0, 0.0, 0.0
        if frame <= frames[0]:
            return poses[0]
        if frame >= frames[-1]:
            return poses[-1]
        after = bisect.bisect_right(frames, frame)
        t = (frame - frames[after - 1]) / (frames[after] - frames[after - 1])
        return tuple(a + (b - a) * t for a, b in zip(poses[after - 1], poses[after]))

    def moved(self, box, start: int, end: int) -> tuple[float, float, float, float]:
        """``box`` seen in frame ``start``, where the picture carried it by frame ``end``."""
        (z0, x0, y0), (z1, x1, y1) = self._pose(start), self._pose(end)
        zoom = z1 / z0
        x, y, w, h = box
        return (x - x0) * zoom + x1, (y - y0) * zoom + y1, w * zoom, h * zoom


STILL = CameraPath()


@dataclass
class _Track:
    detections: list[tuple[int, Face]] = field(default_factory=list)
    misses: int = 0

    def predicted(self, frame: int, camera: CameraPath = STILL, every: int = 1) -> tuple[float, float, float, float]:
        """The box extrapolated to ``frame`` from the last detection and the one ``every``
        frames or more before it, or carried along with the picture from the last one."""
        last_frame, last = self.detections[-1]
        before_frame, before = _apart(self.detections, every)
        if before_frame == last_frame:
            return camera.moved(last.box, last_frame, frame)
        step = (frame - last_frame) / (last_frame - before_frame)
        return tuple(b + (b - a) * step for a, b in zip(before.box, last.box))


def _apart(detections: list[tuple[int, Face]], every: int, from_first: bool = False) -> tuple[int, Face]:
    """The detection nearest the last one (the first one) that is ``every`` frames or more from
    it, or the last (first) one itself. A face's way is drawn through detections a sampling
    step apart: two a frame apart (an extra look just after a sampled one) differ mostly by the
    detector's jitter, which a straight line through them grows by every frame it reaches."""
    ordered = detections if from_first else detections[::-1]
    end = ordered[0][0]
    return next((step for step in ordered if abs(step[0] - end) >= max(1, every)), ordered[0])


def faces_by_frame(found: dict[int, list[Face]], count: int, every: int,
                   size: tuple[int, int] | None = None, confirm_below: float = 0.0,
                   max_misses: int = MAX_MISSES, extra_reach: int = EXTRA_REACH,
                   camera: CameraPath = STILL, own_way: int | None = None) -> list[list[Face]]:
    """The faces to obscure in each of ``count`` frames.

    ``found`` maps the frames the detector ran on (see ``sampled_frames``) to the faces it
    found there; ``every`` is the sampling step. ``size`` (width, height) clips boxes to the
    frame. Each returned face's score is the best of the detections of its track.

    ``confirm_below``: a track whose detections all score below this needs two of them (a
    detector run with a lower threshold than usual finds more faces, and noise that a second
    look does not find again). ``max_misses`` and ``extra_reach`` replace MAX_MISSES and
    EXTRA_REACH (a video sets them from its frame rate). ``camera``: how the picture moved, to
    carry faces along with it (still by default). ``own_way``: when the camera is followed,
    how many of the ``extra_reach`` frames a face is also carried on along its own way (a
    straight line drifts off a face's real path: beyond a few frames the camera alone carries
    it); None, all of them.
    """
    tracks = _confirmed(_link(found, max_misses, camera, every), confirm_below)
    out: list[list[Face]] = [[] for _ in range(count)]
    reach = max(1, every) - 1 + extra_reach
    own_reach = reach if own_way is None or not camera.followed else max(1, every) - 1 + own_way
    for track in tracks:
        score = max(face.score for _, face in track.detections)
        for frame, box in _track_boxes(track, reach, count, camera, own_reach, every):
            if size:
                box = _clip(box, size)
            if box[2] > 0 and box[3] > 0:
                out[frame].append(Face(box, score))
    return out


@dataclass(frozen=True)
class Span:
    """One face through the frames: the frames it is obscured in, and its best detection."""

    first: int
    last: int
    face: Face
    #: (frame, face) of each detection
    detections: tuple = ()


def spans(found: dict[int, list[Face]], count: int, every: int, confirm_below: float = 0.0,
          max_misses: int = MAX_MISSES, extra_reach: int = EXTRA_REACH, camera: CameraPath = STILL) -> list[Span]:
    """The tracks ``faces_by_frame`` obscures, one per face, in order of first frame."""
    reach = max(1, every) - 1 + extra_reach
    out = []
    for track in _confirmed(_link(found, max_misses, camera, every), confirm_below):
        first, last = track.detections[0][0], track.detections[-1][0]
        best = max((face for _, face in track.detections), key=lambda face: face.score)
        out.append(Span(max(0, first - reach), min(count - 1, last + reach), best, tuple(track.detections)))
    return sorted(out, key=lambda span: (span.first, span.last))


def _confirmed(tracks: list[_Track], confirm_below: float) -> list[_Track]:
    return [track for track in tracks
            if len(track.detections) >= 2 or any(face.score >= confirm_below for _, face in track.detections)]


def settled_after(every: int, max_misses: int = MAX_MISSES, extra_reach: int = EXTRA_REACH) -> int:
    """How many frames behind the last frame looked at a frame's faces are final: nothing
    found later changes them (a track reaches back ``extra_reach`` frames beyond the step, and
    a face missed ``max_misses`` times in a row is still the same track)."""
    return (max_misses + 2) * max(1, every) + extra_reach


def _link(found: dict[int, list[Face]], max_misses: int, camera: CameraPath, every: int) -> list[_Track]:
    """Greedy linking, frame by frame: each detection joins the open track it overlaps best."""
    tracks: list[_Track] = []
    open_tracks: list[_Track] = []
    for frame in sorted(found):
        faces = list(found[frame])
        pairs = []
        for t, track in enumerate(open_tracks):
            predicted = track.predicted(frame, camera, every)
            for f, face in enumerate(faces):
                score = _affinity(predicted, face.box)
                if score is not None:
                    pairs.append((score, t, f))
        used_tracks, used_faces = set(), set()
        for _, t, f in sorted(pairs, reverse=True):
            if t not in used_tracks and f not in used_faces:
                used_tracks.add(t)
                used_faces.add(f)
                open_tracks[t].detections.append((frame, faces[f]))
                open_tracks[t].misses = 0
        for t, track in enumerate(open_tracks):
            if t not in used_tracks:
                track.misses += 1
        for f, face in enumerate(faces):
            if f not in used_faces:
                track = _Track([(frame, face)])
                tracks.append(track)
                open_tracks.append(track)
        open_tracks = [track for track in open_tracks if track.misses <= max_misses]
    return tracks


def _affinity(predicted, box) -> float | None:
    """How well a detection continues a track (higher is better), None when it does not."""
    overlap = iou(predicted, box)
    if overlap >= LINK_IOU:
        return 1.0 + overlap
    px, py, pw, ph = predicted
    x, y, w, h = box
    size = max(pw, ph, w, h, 1.0)
    distance = (((px + pw / 2) - (x + w / 2)) ** 2 + ((py + ph / 2) - (y + h / 2)) ** 2) ** 0.5 / size
    return 1.0 - distance if distance <= LINK_DISTANCE else None


def _track_boxes(track: _Track, reach: int, count: int, camera: CameraPath, own_reach: int, every: int):
    """(frame, box) for every frame the track covers: interpolated and widened for motion
    between detections; before the first and after the last, carried on along the way the
    face was moving (a face entering or leaving the picture), or held where it was when it was
    seen once (``own_reach`` frames at most), and, when the camera was followed, also carried
    along with the picture (a panning, zooming camera): both boxes, in case either guess is
    wrong. The ways before and after are drawn through detections ``every`` frames apart
    (see ``_apart``)."""
    detections = track.detections
    (start_a, a), (start_b, b) = detections[0], _apart(detections, every, from_first=True)
    for frame in range(max(0, start_a - reach), start_a):
        if start_a - frame <= own_reach:
            yield frame, _widened(a.box, b.box, (frame - start_a) / max(1, start_b - start_a))
        if camera.followed:
            yield frame, _widened(a.box, camera.moved(a.box, start_a, frame), 1.0)
    for (frame_a, a), (frame_b, b) in zip(detections, detections[1:]):
        for frame in range(frame_a, frame_b):
            t = (frame - frame_a) / (frame_b - frame_a)
            yield frame, _widened(a.box, b.box, t)
    (end_a, a), (end_b, b) = _apart(detections, every), detections[-1]
    for frame in range(end_b, min(count, end_b + reach + 1)):
        if frame - end_b <= own_reach:
            yield frame, _widened(a.box, b.box, (frame - end_a) / max(1, end_b - end_a))
        if camera.followed:
            yield frame, _widened(b.box, camera.moved(b.box, end_b, frame), 1.0)


def _widened(a, b, t: float) -> tuple[int, int, int, int]:
    """The box a fraction ``t`` of the way from ``a`` to ``b`` (before or beyond them when
    ``t`` is outside 0..1, never smaller than the smaller of them), grown on each side by
    MOTION_MARGIN times the distance between the two boxes."""
    x, y, w, h = (p + (q - p) * t for p, q in zip(a, b))
    w, h = max(w, min(a[2], b[2])), max(h, min(a[3], b[3]))
    margin_x = MOTION_MARGIN * (abs(b[0] - a[0]) + abs(b[2] - a[2]))
    margin_y = MOTION_MARGIN * (abs(b[1] - a[1]) + abs(b[3] - a[3]))
    return (round(x - margin_x), round(y - margin_y), round(w + 2 * margin_x), round(h + 2 * margin_y))


def _clip(box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x, y, w, h = box
    width, height = size
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)
