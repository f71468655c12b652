"""Faces through frames: detections on some frames become faces to obscure in every frame."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photoguard.parts.detect.base import Face
from photoguard.parts.tracks import EXTRA_REACH, CameraPath, faces_by_frame, sampled_frames, settled_after, spans


def covers(outer, inner) -> bool:
    ox, oy, ow, oh = outer
    x, y, w, h = inner
    return ox <= x and oy <= y and ox + ow >= x + w and oy + oh >= y + h


def moving_face(frame: int) -> tuple[int, int, int, int]:
    """A 40-px face walking right 6 px per frame, and down 2."""
    return (10 + 6 * frame, 20 + 2 * frame, 40, 40)


@pytest.mark.parametrize("every", [1, 2, 4, 7])
def test_a_moving_face_is_covered_in_every_frame(every):
    count = 30
    found = {f: [Face(moving_face(f), 0.9)] for f in sampled_frames(count, every)}
    per_frame = faces_by_frame(found, count, every)
    for frame in range(count):
        assert any(covers(face.box, moving_face(frame)) for face in per_frame[frame]), frame
        assert len(per_frame[frame]) == 1  # one track, not one box per detection


def test_sampled_frames_include_the_last():
    assert sampled_frames(10, 4) == [0, 4, 8, 9]
    assert sampled_frames(9, 4) == [0, 4, 8]
    assert sampled_frames(3, 1) == [0, 1, 2]
    assert sampled_frames(0, 3) == []


def test_a_missed_detection_is_bridged():
    count = 20
    found = {f: ([] if f in (8, 9, 10) else [Face(moving_face(f), 0.8)]) for f in range(count)}
    per_frame = faces_by_frame(found, count, 1)
    for frame in (8, 9, 10):
        assert any(covers(face.box, moving_face(frame)) for face in per_frame[frame])


def test_faces_are_held_a_little_before_and_after_they_are_seen():
    count, box = 40, (100, 100, 30, 30)
    found = {f: ([Face(box, 0.9)] if 10 <= f <= 20 else []) for f in range(count)}
    per_frame = faces_by_frame(found, count, 1)
    shown = [f for f in range(count) if per_frame[f]]
    assert shown == list(range(10 - EXTRA_REACH, 21 + EXTRA_REACH))


def test_sampling_step_widens_the_reach():
    count, box, every = 40, (100, 100, 30, 30), 5
    found = {f: ([Face(box, 0.9)] if f == 20 else []) for f in sampled_frames(count, every)}
    per_frame = faces_by_frame(found, count, every)
    # seen at 20 only: it may have been there since just after 15 and until just before 25
    assert all(per_frame[f] for f in range(16, 25))
    assert not per_frame[10] and not per_frame[30]


def test_two_faces_stay_two_tracks():
    count = 12
    left = lambda f: (10 + f, 50, 30, 30)  # noqa: E731
    right = lambda f: (300 - f, 50, 30, 30)  # noqa: E731
    found = {f: [Face(left(f), 0.9), Face(right(f), 0.7)] for f in range(count)}
    per_frame = faces_by_frame(found, count, 1)
    for frame in range(count):
        assert len(per_frame[frame]) == 2
        assert any(covers(face.box, left(frame)) for face in per_frame[frame])
        assert any(covers(face.box, right(frame)) for face in per_frame[frame])


def test_boxes_are_clipped_to_the_frame():
    found = {0: [Face((-10, -10, 30, 30), 0.9)], 1: [Face((90, 90, 30, 30), 0.9)]}
    for faces in faces_by_frame(found, 2, 1, size=(100, 100)):
        for face in faces:
            x, y, w, h = face.box
            assert x >= 0 and y >= 0 and x + w <= 100 and y + h <= 100


def test_nothing_found_nothing_obscured():
    assert faces_by_frame({0: [], 3: []}, 5, 3) == [[]] * 5


@settings(max_examples=40, deadline=None)
@given(every=st.integers(1, 6), seed=st.integers(0, 10_000), cut=st.integers(20, 120),
       hold=st.sampled_from([(3, 2), (10, 15)]), followed=st.booleans())
def test_frames_far_enough_behind_the_last_one_seen_are_settled(every, seed, cut, hold, followed):
    """A video's writing pass may follow its detection pass: the faces of a frame `lag` frames
    behind the last one looked at no longer change, whatever is found after it (and however
    the camera moves after it)."""
    import random

    rng = random.Random(seed)
    count = 200
    faces = [(rng.randrange(0, 300), rng.randrange(0, 200), rng.randrange(8, 60)) for _ in range(4)]
    found = {}
    for frame in sampled_frames(count, every):
        seen = [Face((x + frame * rng.randrange(-3, 4), y, size, size), rng.choice([0.18, 0.9]))
                for x, y, size in faces if rng.random() < 0.6]
        found[frame] = seen
    steps = {frame: (rng.uniform(0.97, 1.03), rng.uniform(-9, 9), rng.uniform(-9, 9)) for frame in found}
    camera = (lambda last: CameraPath({f: v for f, v in steps.items() if f < last})) if followed else (
        lambda last: CameraPath())
    misses, reach = hold
    lag = settled_after(every, misses, reach)
    full = faces_by_frame(found, count, every, confirm_below=0.23, max_misses=misses, extra_reach=reach,
                          camera=camera(count))
    prefix = faces_by_frame({f: v for f, v in found.items() if f < cut}, cut, every, confirm_below=0.23,
                            max_misses=misses, extra_reach=reach, camera=camera(cut))
    boxes = lambda frames: [[face.box for face in faces] for faces in frames]  # noqa: E731
    # the boxes (a track's score is its best so far: a later detection may raise it)
    assert boxes(prefix[: max(0, cut - lag)]) == boxes(full[: max(0, cut - lag)])


def test_a_face_entering_the_picture_is_covered_before_it_is_first_found():
    """Seen from frame 12 on, moving left 5 px a frame: before that it was further right."""
    count, every = 40, 3
    position = lambda f: (300 - 5 * f, 50, 40, 40)  # noqa: E731
    found = {f: ([Face(position(f), 0.9)] if f >= 12 else []) for f in sampled_frames(count, every)}
    per_frame = faces_by_frame(found, count, every, extra_reach=6)
    for frame in range(12 - 6 - (every - 1), 12):
        assert any(covers(face.box, position(frame)) for face in per_frame[frame]), frame


def test_a_doubtful_face_seen_once_is_noise_and_twice_a_face():
    count = 30
    once = {f: ([Face((50, 50, 30, 30), 0.18)] if f == 9 else []) for f in range(0, count, 3)}
    twice = {f: ([Face((50, 50, 30, 30), 0.18)] if f in (9, 12) else []) for f in range(0, count, 3)}
    sure = {f: ([Face((50, 50, 30, 30), 0.5)] if f == 9 else []) for f in range(0, count, 3)}
    assert not any(faces_by_frame(once, count, 3, confirm_below=0.23))
    assert faces_by_frame(twice, count, 3, confirm_below=0.23)[10]
    assert faces_by_frame(sure, count, 3, confirm_below=0.23)[9]
    assert faces_by_frame(once, count, 3)[9]  # without the rule, as before


def test_a_face_seen_once_moves_with_the_camera():
    """Found only in frame 12 while the camera pans: held in place, it is soon left behind;
    carried along with the picture, it is covered as long as it is held."""
    count, every, reach = 40, 3, 9
    position = lambda f: (100 + 8 * f, 50, 40, 40)  # noqa: E731
    looked = sampled_frames(count, every)
    found = {f: ([Face(position(f), 0.9)] if f == 12 else []) for f in looked}
    camera = CameraPath({f: (1.0, 8.0 * every, 0.0) for f in looked})
    carried = faces_by_frame(found, count, every, extra_reach=reach, camera=camera)
    held = faces_by_frame(found, count, every, extra_reach=reach)
    near = range(12 - reach, 12 + reach + 1)
    assert all(any(covers(face.box, position(f)) for face in carried[f]) for f in near)
    assert not all(any(covers(face.box, position(f)) for face in held[f]) for f in near)


def test_a_face_found_again_after_the_camera_swung_is_one_track():
    """Seen in frames 0 and 30 only, 240 px apart because the camera turned: one face."""
    count, every = 31, 3
    looked = sampled_frames(count, every)
    found = {f: ([Face((100 + 8 * f, 50, 40, 40), 0.9)] if f in (0, 30) else []) for f in looked}
    camera = CameraPath({f: (1.0, 8.0 * every, 0.0) for f in looked})
    assert len(spans(found, count, every, max_misses=10, camera=camera)) == 1
    assert len(spans(found, count, every, max_misses=10)) == 2
    # and the frames between are covered where the face was
    per_frame = faces_by_frame(found, count, every, max_misses=10, camera=camera)
    assert all(any(covers(face.box, (100 + 8 * f, 50, 40, 40)) for face in per_frame[f]) for f in range(count))


def test_the_camera_path_composes_zoom_and_shift():
    camera = CameraPath({0: (1.0, 0.0, 0.0), 3: (2.0, 10.0, 0.0), 6: (1.0, 0.0, 5.0)})
    # a point at x=5 in frame 0 is at 2 * 5 + 10 = 20 in frame 3 and 20 in frame 6
    assert camera.moved((5, 0, 4, 4), 0, 3) == pytest.approx((20, 0, 8, 8))
    assert camera.moved((20, 0, 8, 8), 3, 6) == pytest.approx((20, 5, 8, 8))
    assert camera.moved((20, 5, 8, 8), 6, 0) == pytest.approx((5, 0, 4, 4))
    assert CameraPath().moved((1, 2, 3, 4), 0, 9) == (1, 2, 3, 4)


def test_with_the_camera_followed_a_face_goes_its_own_way_only_a_while():
    """Beyond ``own_way`` frames a straight line through its last two detections drifts off a
    face's real path, so only the box carried along with the picture is kept after that."""
    count, every = 40, 3
    looked = sampled_frames(count, every)
    found = {f: ([Face((100 + 10 * f, 50, 40, 40), 0.9)] if f in (0, 3) else []) for f in looked}
    camera = CameraPath({f: (1.0, 0.0, 0.0) for f in looked})  # followed, and still
    limited = faces_by_frame(found, count, every, extra_reach=20, camera=camera, own_way=5)
    unlimited = faces_by_frame(found, count, every, extra_reach=20, camera=camera)
    assert len(limited[6]) == 2 and any(face.box[0] > 130 for face in limited[6])  # on its way
    assert [face.box for face in limited[20]] == [(130, 50, 40, 40)]  # carried (the camera is still)
    assert len(unlimited[20]) == 2


def test_extra_looks_close_together_do_not_swell_a_still_face():
    """A still face found on the sampled frames (every 3rd) and on a frame looked at besides,
    one frame after a sampled one, with the detector's usual jitter of a few pixels; held as a
    video holds it. The boxes held after the last detection stay near the face's size: its way
    is drawn through detections a step apart, not through the two a frame apart, whose jitter
    would be grown threefold more over the hold."""
    every, still = 3, (100, 100, 40, 40)
    found = {0: [Face(still, 0.9)], 3: [Face(still, 0.9)], 4: [Face((98, 98, 44, 44), 0.9)]}
    camera = CameraPath({0: (1.0, 0.0, 0.0), 59: (1.0, 0.0, 0.0)})
    per_frame = faces_by_frame(found, 60, every, max_misses=10, extra_reach=30, camera=camera, own_way=15)
    widest = max(face.box[2] for faces in per_frame for face in faces)
    assert widest <= 1.75 * still[2]
