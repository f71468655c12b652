"""Face detectors: engines, thorough passes, NMS, model checks. Inputs are made in code or
come from tests/data (never from ../shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoguard.errors import ModelError
from photoguard.parts.detect import anyangle, centerface, check_engine, make_detector, runtime, verify
from photoguard.parts.detect.base import Face
from photoguard.parts.detect.model_file import checked_model
from photoguard.parts.detect.nms import nms_faces, nms_indices
from photoguard.parts.detect.passes import unrotate

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent
#: the MIT original that tools/convert_centerface.py turns into the shipped model
ORIGINAL_CENTERFACE = REPO / "tools" / "centerface" / "centerface.onnx"
#: the astronaut's face in astronaut_small.jpg (256x256), x, y, w, h, drawn by hand
ASTRONAUT_FACE = (90, 28, 46, 58)


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(Image.open(DATA / "astronaut_small.jpg").convert("RGB"))


@pytest.fixture(scope="module")
def cf():
    return make_detector("centerface")


@pytest.fixture(scope="module")
def haar():
    return make_detector("haar")


def rotated_face(k: int, size: int = 256):
    """The known face box in np.rot90(astronaut, k)."""
    x, y, w, h = ASTRONAUT_FACE
    if k == 1:
        return (y, size - x - w, h, w)
    return (size - y - h, x, h, w)


# --- engines ---------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["cf", "haar"])
def test_finds_the_astronaut(engine, astronaut, request):
    faces = request.getfixturevalue(engine).detect(astronaut)
    assert faces and max(iou(f.box, ASTRONAUT_FACE) for f in faces) >= 0.5
    assert all(isinstance(v, int) for f in faces for v in f.box)


@pytest.mark.parametrize("engine", ["cf", "haar"])
@pytest.mark.parametrize("kind", ["gradient", "noise", "flat"])
def test_nothing_on_faceless_images(engine, kind, request):
    rng = np.random.default_rng(1)
    image = {
        "gradient": np.tile(np.linspace(0, 255, 400, dtype=np.uint8)[None, :, None], (300, 1, 3)),
        "noise": rng.normal(128, 10, (300, 400, 3)).clip(0, 255).astype(np.uint8),
        "flat": np.full((300, 400, 3), 200, np.uint8),
    }[kind]
    assert request.getfixturevalue(engine).detect(image) == []


def test_tiny_and_empty_images(cf, haar):
    for detector in (cf, haar):
        assert detector.detect(np.zeros((0, 0, 3), np.uint8)) == []
        assert detector.detect(np.zeros((5, 7, 3), np.uint8)) == []


def test_two_sizes_in_a_row_give_the_same_faces(astronaut):
    # one session serves every input shape: detections must not depend on what ran before
    fresh = make_detector("centerface").detect(astronaut)
    detector = make_detector("centerface")
    wide = np.zeros((256, 512, 3), np.uint8)
    wide[:, 128:384] = astronaut
    detector.detect(np.zeros((480, 640, 3), np.uint8))
    shifted = detector.detect(wide)
    again = detector.detect(astronaut)
    assert [f.box for f in again] == [f.box for f in fresh]
    assert max(iou(f.box, (ASTRONAUT_FACE[0] + 128, *ASTRONAUT_FACE[1:])) for f in shifted) >= 0.5


def test_big_photo_is_downscaled_not_missed(cf, astronaut):
    # a 12 MP-like input must find what the small one finds
    big = np.asarray(Image.fromarray(astronaut).resize((3024, 3024), Image.Resampling.BILINEAR))
    faces = cf.detect(big)
    scaled = tuple(round(v * 3024 / 256) for v in ASTRONAUT_FACE)
    assert max(iou(f.box, scaled) for f in faces) >= 0.5


def test_zoomed_pass_looks_only_at_doubtful_small_boxes(astronaut, monkeypatch):
    # the zoomed pass runs windows only around small boxes the working pass scored under the
    # threshold, at most ZOOM_MAX, and adds only small faces that beat the threshold by the
    # margin; turned off, the detector is the working-size pass alone
    detector = centerface.CenterFaceDetector(threshold=0.6)
    canvas = np.full((480, 512, 3), 128, np.uint8)
    canvas[20:276, 240:496] = astronaut
    for k in range(12):  # small copies: faces of 9 to 10 px
        side, top, left = 40 + 2 * (k % 3), 300 + (k // 6) * 60, 10 + (k % 6) * 60
        canvas[top:top + side, left:left + side] = np.asarray(Image.fromarray(astronaut).resize((side, side)))
    f = centerface.MAX_UPSCALE  # 512 px wide: upscaled to work
    asked, added, windows = [], [], []
    zoomed, forward = detector._zoomed, centerface._forward

    def spy_zoomed(rgb, candidates):
        asked.extend(candidates)
        found = zoomed(rgb, candidates)
        added.extend(found)
        return found

    def spy_forward(session, tile, threshold, mirror):
        if threshold > detector.threshold + detector.zoom_margin:  # a zoomed window
            windows.append(tile.shape)
        return forward(session, tile, threshold, mirror)

    monkeypatch.setattr(detector, "_zoomed", spy_zoomed)
    monkeypatch.setattr(centerface, "_forward", spy_forward)
    faces = detector.detect(canvas)
    assert asked and 0 < len(windows) <= centerface.ZOOM_MAX
    assert all(centerface.ZOOM_FROM <= c.score < detector.threshold and c.box[3] * f < centerface.ZOOM_FACE
               for c in asked)
    assert all(a.score >= detector.threshold + detector.zoom_margin and a.box[3] * f < centerface.ZOOM_FACE
               for a in added)
    assert all(face.score >= detector.threshold for face in faces)
    detector.zoom = 0
    assert detector.detect(canvas) == detector.detect_once(canvas)


@pytest.mark.parametrize("size", [(1280, 960), (1600, 1200), (960, 1280), (1280, 1280), (3000, 400)])
def test_tiles_cover_the_image_within_the_budget(size):
    width, height = size
    found = centerface.tiles(width, height, 160)
    assert len(found) > 1
    covered = np.zeros((height, width), bool)
    for x, y, w, h in found:
        assert -(-w // 32) * 32 * -(-h // 32) * 32 <= centerface.TILE_PIXELS
        covered[y:y + h, x:x + w] = True
    assert covered.all()
    # neighbours overlap by at least the asked overlap, so a face that size is whole in one
    xs, ys = sorted({x for x, *_ in found}), sorted({y for _, y, *_ in found})
    w, h = found[0][2], found[0][3]
    assert all(b - a <= w - 160 for a, b in zip(xs, xs[1:]))
    assert all(b - a <= h - 160 for a, b in zip(ys, ys[1:]))


@pytest.mark.parametrize("face_side", [120, 400])
def test_faces_across_a_tile_seam_are_found_whole(cf, astronaut, face_side):
    # a 1920x1440 photo is worked on at 1280x960, cut in two tiles: a medium face on the seam
    # is whole in one tile, a big one only in the coarse whole-image pass
    canvas = np.full((1440, 1920, 3), 120, np.uint8)
    scale = face_side / 46
    head = astronaut[0:120, 55:175]  # the face at (35, 28, 46, 58) with hair and shoulders
    head = np.asarray(Image.fromarray(head).resize((round(120 * scale),) * 2))
    x, y = round(960 - 58 * scale), 100  # the face's centre on the image's middle
    canvas[y:y + head.shape[0], x:x + head.shape[1]] = head
    assert len(centerface.tiles(1280, 960, 160)) == 2
    want = tuple(round(v * scale) for v in (35, 28, 46, 58))
    want = (want[0] + x, want[1] + y, want[2], want[3])
    assert max(iou(f.box, want) for f in cf.detect(canvas)) >= 0.5


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc (Linux)")
def test_detection_on_a_12mp_photo_stays_within_memory():
    # a worker's peak while detecting stays under 300 MB whatever the photo's size: the
    # network sees tiles. VmHWM, not ru_maxrss: the latter survives exec and would count this
    # (large) test process's pages
    import subprocess
    import sys

    code = (
        "import re, numpy as np\n"
        "from photoguard.parts.detect import make_detector\n"
        "rng = np.random.default_rng(1)\n"
        "image = rng.integers(0, 255, (3024, 4032, 3), np.uint8)\n"
        "make_detector('centerface').detect(image)\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) // 1024)\n"
    )
    peak = int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                              text=True).stdout.split()[-1])
    assert peak <= 300, f"{peak} MB"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc (Linux)")
def test_release_memory_gives_detection_memory_back():
    import re

    from photoguard.parts.detect import release_memory

    def rss() -> int:
        return int(re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) // 1024

    detector = make_detector("centerface")
    image = np.random.default_rng(1).integers(0, 255, (960, 1280, 3), np.uint8)
    detector.detect(image)
    release_memory()
    before = rss()
    detector.detect(image)
    held = rss()
    release_memory()
    assert held - before >= 50  # what a 1280x960 detection keeps for its next run...
    assert rss() - before <= 20  # ...is given back


def test_threshold_is_applied(astronaut):
    assert make_detector("centerface", threshold=0.999).detect(astronaut) == []
    assert make_detector("haar", threshold=1.01).detect(astronaut) == []
    strict = make_detector("haar", threshold=0.9).detect(astronaut)
    assert set(strict) <= set(make_detector("haar", threshold=0.5).detect(astronaut))
    low = make_detector("centerface", threshold=0.1).detect(astronaut)
    assert all(f.score >= 0.1 for f in low)


def test_rotated_astronaut(astronaut):
    # measured: the default pass already finds the sideways face, with a lower score and a
    # looser box; the thorough 90/270 passes find it upright with a confident score
    default = make_detector("centerface")
    thorough = make_detector("centerface", thorough=True)
    for k in (1, 3):
        image = np.ascontiguousarray(np.rot90(astronaut, k))
        want = rotated_face(k)
        best_default = max((f for f in default.detect(image)), key=lambda f: iou(f.box, want))
        best_thorough = max((f for f in thorough.detect(image)), key=lambda f: iou(f.box, want))
        assert iou(best_thorough.box, want) >= 0.5
        assert best_thorough.score >= 0.8 > best_default.score


def test_unknown_engine():
    with pytest.raises(ValueError):
        make_detector("yolo")


class _OpenCVEngine:
    """The engine photoguard used before onnxruntime: OpenCV's DNN module on the original
    model file, a fresh net per input (OpenCV fixes a net's shape at its first forward)."""

    def __init__(self, data: bytes):
        self.data = data

    def run(self, names, feeds):
        import cv2

        net = cv2.dnn.readNetFromONNX(np.frombuffer(self.data, np.uint8))
        (blob,) = feeds.values()
        net.setInput(blob)
        outputs = dict(zip(["537", "538", "539", "540"], net.forward(["537", "538", "539", "540"])))
        return [outputs[name] for name in names]


@pytest.mark.skipif(not ORIGINAL_CENTERFACE.exists(), reason="the original model is kept in the repository only")
@pytest.mark.parametrize("photo", ["astronaut_gps.jpg", "group_two_faces.jpg", "hopper_rotated_exif6.jpg"])
def test_onnxruntime_finds_what_opencv_dnn_found(photo):
    # the change of engine changes no detection: same faces, boxes within 2 px, scores close
    from PIL import ImageOps

    rgb = np.asarray(ImageOps.exif_transpose(Image.open(REPO / "sample_images" / photo)).convert("RGB"))
    detector = centerface.CenterFaceDetector()
    ours = detector.detect(rgb)
    detector._session = _OpenCVEngine(ORIGINAL_CENTERFACE.read_bytes())
    theirs = detector.detect(rgb)
    assert ours and len(ours) == len(theirs)
    for a, b in zip(sorted(ours, key=lambda f: f.box), sorted(theirs, key=lambda f: f.box)):
        assert max(abs(u - v) for u, v in zip(a.box, b.box)) <= 2
        assert abs(a.score - b.score) < 0.01


def test_one_session_per_process():
    # every detector, photo and tile shape share the process's one session
    first, second = centerface.CenterFaceDetector(), centerface.CenterFaceDetector(threshold=0.5)
    assert first._session is second._session
    assert sum(key[0] == centerface.MODEL_PATH for key in runtime._sessions) == 1


def test_sessions_run_on_the_cores_the_worker_is_given(monkeypatch):
    monkeypatch.setattr(runtime, "_sessions", {})
    monkeypatch.setattr(runtime, "_threads", runtime._threads)  # put back after the test
    runtime.use_threads(1)  # as many files as cores: one each
    one = runtime.session(centerface.MODEL_PATH, centerface.MODEL_SHA256)
    runtime.use_threads(2)  # fewer files than cores: this worker has two
    two = runtime.session(centerface.MODEL_PATH, centerface.MODEL_SHA256)
    assert one.get_session_options().intra_op_num_threads == 1
    assert two.get_session_options().intra_op_num_threads == 2


# --- the engine is checked before any work -----------------------------------------------


@pytest.mark.parametrize("name", ["centerface", "haar"])
def test_check_engine_passes_when_all_is_there(name):
    check_engine(name)


def test_check_engine_unknown_name():
    with pytest.raises(ValueError):
        check_engine("yolo")


def test_check_engine_damaged_model(monkeypatch, tmp_path):
    damaged = tmp_path / "centerface.onnx"
    data = bytearray(centerface.MODEL_PATH.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(centerface, "MODEL_PATH", damaged)
    with pytest.raises(ModelError) as caught:
        check_engine("centerface")
    message = str(caught.value)
    assert "damaged" in message and "reinstall photoguard" in message and "\n" not in message


def test_check_engine_without_onnxruntime(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now fails
    with pytest.raises(ModelError) as caught:
        check_engine("centerface")
    assert "pip install onnxruntime" in str(caught.value) and "\n" not in str(caught.value)
    check_engine("haar")  # Haar does not need it


def test_check_engine_without_haar_cascades(monkeypatch, tmp_path):
    import cv2

    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(ModelError) as caught:
        check_engine("haar")
    assert "opencv" in str(caught.value).lower()


# --- second opinion on doubtful boxes ---------------------------------------------------


@pytest.fixture(scope="module")
def verifier():
    return verify.BlazeFaceVerifier()


def test_verifier_knows_a_face_from_a_patch(verifier, astronaut):
    assert verifier.score(astronaut, ASTRONAUT_FACE) >= 0.8
    # the same box size on the astronaut's suit, and on noise
    assert verifier.score(astronaut, (150, 170, 46, 58)) < centerface.CONFIRM_SCORE
    noise = np.random.default_rng(2).integers(0, 256, (256, 256, 3), np.uint8)
    assert verifier.score(noise, ASTRONAUT_FACE) < centerface.CONFIRM_SCORE


def test_verifier_needs_the_face_at_the_box(verifier, astronaut):
    # a box of the right size beside the face is not confirmed by the face next to it
    x, y, w, h = ASTRONAUT_FACE
    assert verifier.score(astronaut, (x + w, y + h, w, h)) < centerface.CONFIRM_SCORE


def test_verifier_at_and_beyond_the_border(verifier, astronaut):
    # a face cut by the image border is still judged (the crop is padded), a box wholly
    # outside the image scores nothing
    shifted = np.zeros_like(astronaut)
    shifted[:, :256 - 80] = astronaut[:, 80:]
    x, y, w, h = ASTRONAUT_FACE
    assert verifier.score(shifted, (x - 80, y, w, h)) >= centerface.CONFIRM_SCORE
    assert verifier.score(astronaut, (300, 300, 40, 40)) == 0.0


class _Verdict:
    """A stand-in verifier that rejects every box."""

    def score(self, rgb, box):
        return 0.0


def test_doubtful_boxes_need_the_verifier():
    detector = centerface.CenterFaceDetector()
    detector._verifier = _Verdict()
    rgb = np.zeros((1024, 1024, 3), np.uint8)  # working scale 1.25
    sure = Face((0, 0, 100, 100), centerface.CONFIRM_BELOW)
    doubtful = Face((300, 300, 100, 100), centerface.CONFIRM_BELOW - 0.01)
    too_small = Face((600, 600, 12, 12), centerface.CONFIRM_BELOW - 0.01)  # 15 working px
    assert detector._settled(rgb, [sure, doubtful, too_small]) == [sure, too_small]
    # with the second opinion off, all stay
    off = centerface.CenterFaceDetector(confirm_below=0)
    assert set(off._settled(rgb, [sure, doubtful, too_small])) == {sure, doubtful, too_small}


def test_parts_of_a_face_are_dropped():
    detector = centerface.CenterFaceDetector(confirm_below=0)
    rgb = np.zeros((512, 512, 3), np.uint8)
    face = Face((100, 100, 200, 240), 0.6)
    mouth = Face((150, 250, 100, 60), 0.7)  # wholly inside, scored higher
    neighbour = Face((280, 100, 120, 140), 0.5)  # overlaps the face by less than 0.7 of itself
    assert set(detector._settled(rgb, [face, mouth, neighbour])) == {face, neighbour}


def test_only_doubtful_boxes_are_asked_and_their_verdict_holds(astronaut):
    # at a very low threshold the astronaut photo yields many doubtful boxes; every box the
    # verifier is asked about is doubtful and big enough, and the ones it rejects are gone
    asked = {}

    class Recording(verify.BlazeFaceVerifier):
        def score(self, rgb, box):
            asked[tuple(box)] = super().score(rgb, box)
            return asked[tuple(box)]

    detector = centerface.CenterFaceDetector(threshold=0.05)
    detector._verifier = Recording()
    rgb = np.asarray(Image.fromarray(astronaut).resize((512, 512), Image.Resampling.BILINEAR))
    kept = {face.box for face in detector.detect(rgb)}
    f = centerface.MAX_UPSCALE  # 512 px is upscaled 1.25x to work
    assert any(v < centerface.CONFIRM_SCORE for v in asked.values())
    for box, verdict in asked.items():
        assert min(box[2:]) * f >= centerface.CONFIRM_MIN_SIDE
        assert (box in kept) == (verdict >= centerface.CONFIRM_SCORE)


# --- model file ------------------------------------------------------------------------


@pytest.mark.parametrize("module", [centerface, verify], ids=["centerface", "blazeface"])
def test_model_hash_mismatch(monkeypatch, module):
    checked_model.cache_clear()
    monkeypatch.setattr(module, "MODEL_SHA256", "0" * 64)
    try:
        with pytest.raises(ModelError):
            make_detector("centerface")
    finally:
        checked_model.cache_clear()


def test_model_missing(tmp_path):
    with pytest.raises(ModelError):
        centerface.CenterFaceDetector(model_path=tmp_path / "nope.onnx")


def test_damaged_model_file(tmp_path):
    bad = tmp_path / "centerface.onnx"
    bad.write_bytes(centerface.MODEL_PATH.read_bytes()[:-1] + b"x")
    with pytest.raises(ModelError):
        centerface.CenterFaceDetector(model_path=bad)


def test_haar_cascade_missing(monkeypatch, tmp_path):
    import cv2

    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(ModelError):
        make_detector("haar")


# --- NMS and pass geometry -------------------------------------------------------------


def test_nms_keeps_best_of_overlapping():
    faces = [Face((0, 0, 10, 10), 0.5), Face((1, 1, 10, 10), 0.9), Face((50, 50, 10, 10), 0.3)]
    assert nms_faces(faces) == [faces[1], faces[2]]


def test_nms_keeps_disjoint_and_handles_empty():
    assert nms_faces([]) == []
    assert nms_indices(np.zeros((0, 4)), np.zeros(0)) == []
    faces = [Face((0, 0, 10, 10), 0.5), Face((20, 0, 10, 10), 0.5)]
    assert nms_faces(faces) == faces  # equal scores keep input order


def test_nms_iou_threshold_and_containment():
    big, part = Face((0, 0, 100, 100), 0.9), Face((10, 10, 30, 30), 0.5)
    assert nms_faces([big, part]) == [big, part]  # IoU 0.09: two faces for plain NMS
    assert nms_faces([big, part], contain_threshold=0.7) == [big]  # a piece of the big one
    a, b = Face((0, 0, 10, 10), 0.9), Face((5, 0, 10, 10), 0.8)  # IoU 1/3
    assert nms_faces([a, b], iou_threshold=0.3) == [a]
    assert nms_faces([a, b], iou_threshold=0.4) == [a, b]


@pytest.mark.parametrize("k", [1, 3])
def test_unrotate_maps_boxes_back(k):
    h, w = 60, 100
    image = np.zeros((h, w), np.uint8)
    image[10:30, 70:95] = 1  # x=70, y=10, w=25, h=20
    rot = np.rot90(image, k)
    ys, xs = np.nonzero(rot)
    box = (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    assert unrotate(Face(box, 1.0), k, h, w).box == (70, 10, 25, 20)



def _turned_astronaut(astronaut, angle: float, side: int = 1536):
    """The astronaut photo amid a black canvas of ``side`` pixels (its face small there),
    turned by ``angle`` (counter-clockwise), and where the face's centre lands."""
    canvas = np.zeros((side, side, 3), np.uint8)
    at = (side - 256) // 2
    canvas[at:at + 256, at:at + 256] = astronaut
    turned = np.asarray(Image.fromarray(canvas).rotate(angle, resample=Image.Resampling.BICUBIC))
    x, y, w, h = ASTRONAUT_FACE
    dx, dy = x + at + w / 2 - side / 2, y + at + h / 2 - side / 2
    rad = np.radians(angle)
    return turned, (side / 2 + dx * np.cos(rad) + dy * np.sin(rad), side / 2 - dx * np.sin(rad) + dy * np.cos(rad))


def _covers(faces, centre) -> bool:
    cx, cy = centre
    return any(x <= cx <= x + w and y <= cy <= y + h for x, y, w, h in (f.box for f in faces))


def test_a_face_upside_down_is_found_by_default_not_by_the_upright_pass(astronaut):
    turned, centre = _turned_astronaut(astronaut, 180)
    assert not _covers(centerface.CenterFaceDetector().detect(turned), centre)
    assert _covers(make_detector("centerface").detect(turned), centre)


def test_a_tilted_face_is_found_by_default(astronaut):
    turned, centre = _turned_astronaut(astronaut, 45)
    assert _covers(make_detector("centerface").detect(turned), centre)


def test_a_face_found_turned_is_boxed_whole():
    # a box found in a crop turned by 45 degrees comes back as the box around its corners
    turn = anyangle.turn_around((100.0, 100.0), 45, 1.0, 100)
    x, y, w, h = turn.box_back((30, 30, 40, 40))
    assert abs(w - 40 * 2 ** 0.5) <= 2 and abs(h - 40 * 2 ** 0.5) <= 2
    assert abs(x + w / 2 - 100) <= 1 and abs(y + h / 2 - 100) <= 1
