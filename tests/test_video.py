"""Videos: copies rewritten with nothing but one picture and one sound stream, faces obscured
in every frame, the picture's turn and timing kept; bad input fails cleanly."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import sha256
from video_builders import (
    FACE,
    GPS_TEXT,
    MarkerDetector,
    make_clip,
    moving_face,
    mux_audio,
    panning,
    plant_phone_metadata,
)

from photoguard import batch, pipeline
from photoguard.batch import executors
from photoguard.batch import run as batch_run
from photoguard.batch.executors import InProcess
from photoguard.errors import DecodeError, ImageTooLarge, OutputError, VerificationError, VideoTooLong
from photoguard.media.video import duration_seconds
from photoguard.options import Options
from photoguard.parts import detection
from photoguard.pipeline import clean_file, scan_file


@pytest.fixture
def marker_detector(monkeypatch):
    """A MarkerDetector. It lives in this process, so batches run here too."""
    detector = MarkerDetector()
    monkeypatch.setattr(detection, "get_detector", lambda options: detector)
    monkeypatch.setattr(executors, "LocalPool", InProcess)
    return detector


def decoded(path: Path) -> list[tuple[float, int, np.ndarray]]:
    """(time, rotation, displayed RGB) of every frame."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            pixels = np.rot90(frame.to_ndarray(format="rgb24"), (frame.rotation // 90) % 4)
            out.append((float(frame.time), frame.rotation, pixels))
    return out


def detail(pixels: np.ndarray, box) -> float:
    """Fine detail of the luma in the middle of ``box`` (its spread around a 5-pixel local
    mean): a checkerboard's is large, a blurred face's small, whatever the light around it."""
    import cv2

    luma = (pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32))
    fine = luma - cv2.blur(luma, (5, 5))
    x, y, w, h = box
    return float(fine[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].std())


def leftover_temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".photoguard-")]


@pytest.mark.parametrize("rotation", [0, -90, 180])
def test_the_face_is_obscured_in_every_frame_and_the_turn_kept(tmp_path, marker_detector, rotation):
    src = make_clip(tmp_path / "clip.mp4", rotation=rotation)
    before = decoded(src)
    result = clean_file(src, tmp_path / "out.mp4")
    after = decoded(tmp_path / "out.mp4")
    assert len(after) == len(before) == 20
    width, height = before[0][2].shape[1], before[0][2].shape[0]
    for index, ((_, turn, original), (_, kept_turn, copy)) in enumerate(zip(before, after)):
        assert kept_turn % 360 == turn % 360 == rotation % 360
        assert copy.shape == original.shape  # portrait stays portrait
        face = moving_face(index, width, height)
        assert detail(original, face) > 20
        assert detail(copy, face) < 0.25 * detail(original, face), index
    assert len(result.faces) == 1  # one face, one track
    assert result.faces[0].end > result.faces[0].start


def test_a_face_found_once_is_followed_as_the_camera_pans(tmp_path, marker_detector, monkeypatch):
    """The camera pans 4 px a frame and the face, part of the scene, is found in the first frame
    only: it stays obscured while the picture carries it away from where it was found."""
    at = lambda index, width, height: (20 + 4 * index, 50, FACE, FACE)  # noqa: E731
    src = make_clip(tmp_path / "clip.mp4", frames=24, size=(192, 144), scenery=panning(4), face=at)
    looks = []
    first_look_only = lambda rgb: [] if looks.append(rgb) or len(looks) > 1 else MarkerDetector().detect(rgb)  # noqa: E731
    monkeypatch.setattr(marker_detector, "detect", first_look_only)
    clean_file(src, tmp_path / "out.mp4")
    for index, ((_, _, original), (_, _, copy)) in enumerate(zip(decoded(src), decoded(tmp_path / "out.mp4"))):
        face = at(index, 192, 144)
        assert detail(copy, face) < 0.25 * detail(original, face), index


def test_a_face_shown_between_two_looks_is_found_and_obscured(tmp_path, marker_detector):
    """At 30 frames a second faces are looked for on every 3rd frame (0, 3, 6...); a face shown
    in frames 4 and 5 only changes the picture, so frame 4 is looked at too and the face held."""
    at = lambda index, width, height: (40, 30, 64, 64) if index in (4, 5) else None  # noqa: E731
    src = make_clip(tmp_path / "clip.mp4", face=at)
    result = clean_file(src, tmp_path / "out.mp4")
    before, after = decoded(src), decoded(tmp_path / "out.mp4")
    for index in (4, 5):
        face = at(index, 160, 120)
        assert detail(after[index][2], face) < 0.25 * detail(before[index][2], face), index
    assert len(result.faces) == 1


def test_the_picture_away_from_faces_stays_the_same(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mp4", size=(192, 144), face=None)
    clean_file(src, tmp_path / "out.mp4")
    for (_, _, original), (_, _, copy) in zip(decoded(src), decoded(tmp_path / "out.mp4")):
        mse = np.mean((original.astype(float) - copy.astype(float)) ** 2)
        assert 10 * np.log10(255 ** 2 / mse) > 38


def test_phone_metadata_is_gone_and_the_copy_holds_only_what_is_kept(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mov", container="mov",
                    metadata={"location": GPS_TEXT, "creation_time": "2024-06-12T15:30:00Z"})
    plant_phone_metadata(src)
    original = sha256(src)
    result = clean_file(src, tmp_path / "out.mp4")
    assert sha256(src) == original
    assert {"gps", "date", "camera", "xmp", "tracks"} <= set(result.removed)
    data = (tmp_path / "out.mp4").read_bytes()
    for secret in (GPS_TEXT.encode(), b"48.8584", b"iPhone", b"Apple", b"PAIRING", b"Jane", b"face 12",
                   b"mebx", b"udta", b"meta", b"uuid", b"x264", b"Lavf", b"Lavc"):
        assert secret not in data, secret
    with av.open(str(tmp_path / "out.mp4")) as copy:
        assert [s.type for s in copy.streams] == ["video", "audio"]
        assert set(copy.metadata) <= {"major_brand", "minor_version", "compatible_brands"}  # the ftyp box
    assert _header_times(data) == [0] * 10  # mvhd, and tkhd + mdhd of each track: two each


def _header_times(data: bytes) -> list[int]:
    """Creation and modification times of every mvhd, tkhd and mdhd (all version 0 here)."""
    times = []
    for kind in (b"mvhd", b"tkhd", b"mdhd"):
        at = data.find(kind)
        while at >= 0:
            assert data[at + 4] == 0
            times += struct.unpack(">II", data[at + 8 : at + 16])
            at = data.find(kind, at + 4)
    return times


def test_exiftool_finds_nothing_identifying(tmp_path, marker_detector):
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl); "
                    "the independent metadata check needs it")
    src = plant_phone_metadata(make_clip(tmp_path / "clip.mov", container="mov",
                                         metadata={"location": GPS_TEXT, "creation_time": "2024-06-12T15:30:00Z"}))
    clean_file(src, tmp_path / "out.mp4")
    run = subprocess.run(["exiftool", "-j", "-a", "-G1", "-ee", "-api", "LargeFileSupport=1",
                          str(src), str(tmp_path / "out.mp4")], capture_output=True, check=True)
    before, after = json.loads(run.stdout)
    assert any("GPS" in key for key in before) and any(key.startswith("Keys:") for key in before)
    leaks = [key for key, value in after.items()
             if key.split(":")[0] in ("Keys", "UserData", "ItemList", "XMP-x", "XMP-dc", "Track3")
             or "GPS" in key or (key.endswith("Date") and not key.startswith(("System:", "File:"))
                                 and not str(value).startswith("0000:00:00"))]
    assert leaks == []


def test_variable_frame_rate_is_kept(tmp_path, marker_detector):
    times = [0, 40, 70, 150, 160, 300, 333, 400, 520, 530]
    src = make_clip(tmp_path / "vfr.mp4", frames=len(times), times=times, audio=None)
    clean_file(src, tmp_path / "out.mp4")
    kept = [t for t, _, _ in decoded(tmp_path / "out.mp4")]
    assert kept == pytest.approx([t / 1000 for t in times], abs=0.002)


def _packets(path: Path, kind: str) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = getattr(container.streams, kind)[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def test_aac_sound_is_copied_packet_by_packet(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mp4")
    clean_file(src, tmp_path / "out.mp4")
    assert _packets(tmp_path / "out.mp4", "audio") == _packets(src, "audio")


def test_sound_that_names_its_encoder_is_re_encoded(tmp_path, marker_detector):
    """FFmpeg's AAC encoder writes its name and version into the first frame of the sound:
    copied as they are, the frames would carry it into the copy."""
    src = make_clip(tmp_path / "clip.mp4", aac_message=True)
    assert b"Lavc" in b"".join(_packets(src, "audio"))
    for faces in (True, False):
        out = tmp_path / f"out-{faces}.mp4"
        clean_file(src, out, Options(faces=faces))
        assert b"Lavc" not in out.read_bytes()
        with av.open(str(out)) as copy:
            assert copy.streams.audio[0].codec_context.name == "aac"
            assert copy.streams.audio[0].duration * copy.streams.audio[0].time_base > 0.5


def test_other_sound_becomes_aac(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mp4", audio="ac3")
    clean_file(src, tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as copy:
        assert copy.streams.audio[0].codec_context.name == "aac"
        assert copy.streams.audio[0].duration * copy.streams.audio[0].time_base > 0.5
    assert b"Lavc" not in (tmp_path / "out.mp4").read_bytes()


def test_no_audio_drops_the_voices(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mp4")
    result = clean_file(src, tmp_path / "out.mp4", Options(audio=False))
    with av.open(str(tmp_path / "out.mp4")) as copy:
        assert len(copy.streams.audio) == 0 and len(copy.streams.video) == 1
    assert "sound" in result.removed


def test_a_clip_without_sound_and_a_sound_without_picture(tmp_path, marker_detector):
    silent = make_clip(tmp_path / "silent.mp4", audio=None)
    clean_file(silent, tmp_path / "silent-out.mp4")
    with av.open(str(tmp_path / "silent-out.mp4")) as copy:
        assert [s.type for s in copy.streams] == ["video"]
    memo = tmp_path / "memo.mp4"
    _sound_only(memo)
    clean_file(memo, tmp_path / "memo-out.mp4")
    with av.open(str(tmp_path / "memo-out.mp4")) as copy:
        assert [s.type for s in copy.streams] == ["audio"]
    assert _packets(tmp_path / "memo-out.mp4", "audio") == _packets(memo, "audio")


def _sound_only(path: Path) -> None:
    output = av.open(str(path), "w", format="mp4")
    sound = output.add_stream("aac", rate=16000, options={"flags": "+bitexact"})  # no name in it, as a phone's
    sound.codec_context.layout = "mono"
    output.metadata["title"] = "voice memo of Emma"
    mux_audio(output, sound, np.zeros((1, 16000), np.float32), "mono")
    output.close()


def test_no_faces_copies_the_pictures_and_still_rewrites_the_container(tmp_path, marker_detector):
    src = plant_phone_metadata(make_clip(tmp_path / "clip.mov", container="mov", metadata={"location": GPS_TEXT},
                                         x264_message=False))
    result = clean_file(src, tmp_path / "out.mp4", Options(faces=False))
    assert result.faces == []
    assert _packets(tmp_path / "out.mp4", "video") == _packets(src, "video")
    assert GPS_TEXT.encode() not in (tmp_path / "out.mp4").read_bytes()


def test_no_faces_re_encodes_a_stream_that_carries_messages(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mp4")  # x264 names itself and its settings in an SEI
    assert b"x264 - core" in src.read_bytes()
    clean_file(src, tmp_path / "out.mp4", Options(faces=False))
    copy = (tmp_path / "out.mp4").read_bytes()
    assert b"x264 - core" not in copy and b"core 1" not in copy
    assert len(decoded(tmp_path / "out.mp4")) == 20


def test_messages_are_found_in_hevc_sample_descriptions_and_av1_samples(tmp_path):
    from photoguard.media.video import messages

    src = tmp_path / "hevc.mp4"
    output = av.open(str(src), "w")
    stream = output.add_stream("libx265", rate=30, options={"preset": "ultrafast", "x265-params": "log-level=error"})
    stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
    for index in range(3):
        frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 60 * index, np.uint8), format="rgb24")
        for packet in stream.encode(frame.reformat(format="yuv420p")):
            output.mux(packet)
    for packet in stream.encode():
        output.mux(packet)
    output.close()
    with av.open(str(src)) as container:  # x265 puts its own SEI among the parameter sets
        assert messages.carries_messages(container, container.streams.video[0])
    with av.open(str(make_clip(tmp_path / "plain.mp4", x264_message=False, audio=None))) as container:
        assert not messages.carries_messages(container, container.streams.video[0])
    # a unit that holds start-code units of its own (an SEI hidden in a phone's clip this way)
    hidden = bytes([0x6E, 0xC0, 0x80, 0x0F, 0, 0, 0, 1, 0x06, 0x05, 0x10]) + b"x264 - core"
    with pytest.raises(ValueError):
        messages._nal_types(len(hidden).to_bytes(4, "big") + hidden, 4, messages._h264_type)
    assert messages._nal_types(bytes([0, 0, 0, 3, 0x65, 0x88, 0x84]), 4, messages._h264_type) == {5}
    # AV1: a sequence header OBU, then a metadata OBU (type 5), each with its size
    assert messages._obu_types(bytes([0x0A, 0x01, 0x00, 0x2A, 0x02, 0x00, 0x00])) == {1, 5}
    with pytest.raises(ValueError):
        messages._obu_types(bytes([0x2A, 0x05, 0x00]))  # a size past the sample


def test_a_damaged_tag_list_says_there_is_metadata_and_fails_nothing():
    from photoguard.media.video import tags
    from photoguard.parts.isobmff import children

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    handler = box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
    keys = box(b"keys", b"\0\0\0\0" + struct.pack(">I", 1) + struct.pack(">I", 400) + b"mdtacom.apple")  # runs past its box
    data = box(b"meta", b"\0\0\0\0" + handler + keys + box(b"ilst", b""))
    (meta,) = children(data, 0, len(data))
    items = []
    tags._meta_items(data, meta, items)
    assert items == [("meta", b"")]


def test_hdr_stays_ten_bit_hevc_with_its_colour_tags(tmp_path, marker_detector):
    src = tmp_path / "hlg.mp4"
    output = av.open(str(src), "w")
    stream = output.add_stream("libx265", rate=30, options={"preset": "ultrafast", "x265-params": "log-level=error"})
    stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p10le"
    stream.codec_context.color_primaries, stream.codec_context.color_trc = 9, 18  # BT.2020, HLG
    stream.codec_context.colorspace = 9
    for index in range(6):
        pixels = np.zeros((96, 128, 3), np.uint8) + 90
        from video_builders import draw_face
        draw_face(pixels, (20 + 4 * index, 20, FACE, FACE))
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p10le")
        for packet in stream.encode(frame):
            output.mux(packet)
    for packet in stream.encode():
        output.mux(packet)
    output.close()
    clean_file(src, tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as copy:
        context = copy.streams.video[0].codec_context
        assert (context.name, context.pix_fmt, int(context.color_trc), int(context.color_primaries)) == \
            ("hevc", "yuv420p10le", 18, 9)
        frames = [f.to_ndarray(format="rgb24") for f in copy.decode(video=0)]
    assert len(frames) == 6
    for index, pixels in enumerate(frames):
        assert detail(pixels, (20 + 4 * index, 20, FACE, FACE)) < 10
    assert b"x265" not in (tmp_path / "out.mp4").read_bytes()  # no encoder name in the stream either


@pytest.mark.parametrize("faces, x264_message", [(True, True), (False, True), (False, False)])
def test_a_truncated_clip_fails_and_leaves_nothing(tmp_path, marker_detector, faces, x264_message):
    src = make_clip(tmp_path / "clip.mp4", x264_message=x264_message)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DecodeError):
        clean_file(cut, out / "cut.mp4", Options(faces=faces))
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("faces", [True, False])
def test_a_clip_whose_sample_table_is_empty_fails_and_leaves_nothing(tmp_path, marker_detector, faces):
    data = bytearray(make_clip(tmp_path / "clip.mp4", audio=None, x264_message=False).read_bytes())
    at = data.index(b"stsz")  # then version and flags, the one size for all samples, their count
    data[at + 12 : at + 16] = bytes(4)  # as in some shortened Motion Photos: no samples listed
    src = tmp_path / "empty.mp4"
    src.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DecodeError, match="no frames"):
        clean_file(src, out / "empty.mp4", Options(faces=faces))
    assert list(out.iterdir()) == []


def test_a_failure_half_way_through_writing_leaves_nothing(tmp_path, marker_detector, monkeypatch):
    from photoguard.media.video import rewrite

    src = make_clip(tmp_path / "clip.mp4")
    calls = []

    def failing(frame, faces, mode, mask_scale):
        calls.append(1)
        if len(calls) == 10:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(rewrite, "obscure_frame", failing)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OutputError, match="No space left on device"):
        clean_file(src, out / "clip.mp4")
    assert list(out.iterdir()) == []


def test_a_copy_that_holds_more_than_the_keep_list_is_refused(tmp_path, marker_detector):
    from photoguard.media.video.verify import Expected, verify_copy

    src = make_clip(tmp_path / "clip.mp4", audio=None)
    clean_file(src, tmp_path / "out.mp4")
    verify_copy(tmp_path / "out.mp4", Expected(20, (160, 120), 0, False))
    with pytest.raises(VerificationError, match="frames"):
        verify_copy(tmp_path / "out.mp4", Expected(19, (160, 120), 0, False))
    with pytest.raises(VerificationError, match="turns"):
        verify_copy(tmp_path / "out.mp4", Expected(20, (160, 120), 90, False))
    data = (tmp_path / "out.mp4").read_bytes()
    (tmp_path / "trailer.mp4").write_bytes(data + b"\0\0\0\x10free0123456789")
    shutil.copy(tmp_path / "out.mp4", tmp_path / "keys.mp4")
    plant_phone_metadata(tmp_path / "keys.mp4")
    for name in ("trailer.mp4", "keys.mp4"):
        with pytest.raises(VerificationError):
            verify_copy(tmp_path / name, Expected(20, (160, 120), 0, False))


def test_budgets_refuse_long_and_huge_videos(tmp_path, marker_detector):
    src = make_clip(tmp_path / "clip.mp4")
    with pytest.raises(VideoTooLong):
        clean_file(src, tmp_path / "a.mp4", Options(max_duration=0.5))
    with pytest.raises(ImageTooLarge):
        clean_file(src, tmp_path / "b.mp4", Options(max_pixels=160 * 120 - 1))
    assert not list(tmp_path.glob("[ab].mp4"))


def test_duration_from_the_headers(tmp_path):
    src = make_clip(tmp_path / "clip.mp4", frames=45, audio=None)
    assert duration_seconds(src) == pytest.approx(1.5, abs=0.05)
    (tmp_path / "junk.mp4").write_bytes(b"\0\0\0\x18ftypisom" + b"\xff" * 40)
    with pytest.raises(DecodeError):
        duration_seconds(tmp_path / "junk.mp4")


def test_scan_says_what_the_video_gives_away_and_when_faces_show(tmp_path, marker_detector):
    src = plant_phone_metadata(make_clip(tmp_path / "clip.mov", container="mov"))
    report = scan_file(src)
    assert report.metadata.gps == pytest.approx((48.8584, 2.2945))
    assert report.metadata.camera == "Apple iPhone 15 Pro"
    assert report.metadata.taken == "2024:06:12 15:30:00"
    assert (report.format, report.width, report.height) == ("mov", 160, 120)
    assert report.seconds == pytest.approx(20 / 30, abs=0.05)
    assert len(report.faces) == 1 and report.faces[0].start == 0


def _motion_photo(path: Path, clip: bytes, samsung: bool = False) -> Path:
    """A JPEG with a Motion Photo video after its end, as Google (MP4 right after the JPEG)
    or Samsung (a marker, the MP4, then an SEF trailer) write it."""
    from conftest import write_leaky_jpeg

    write_leaky_jpeg(path)
    jpeg = path.read_bytes()
    jpeg = jpeg[: jpeg.rindex(b"\xff\xd9") + 2]  # without the builder's own stand-in trailer
    if samsung:
        clip = b"MotionPhoto_Data" + clip + b"SEFH\x6b\0\0\0" + b"\x01" * 40 + b"SEFT"
    path.write_bytes(jpeg + clip)
    return path


@pytest.mark.parametrize("samsung", [False, True])
def test_keep_motion_writes_the_clip_next_to_the_still(tmp_path, marker_detector, samsung):
    clip = plant_phone_metadata(make_clip(tmp_path / "clip.mp4")).read_bytes()
    src = _motion_photo(tmp_path / "PXL_1.MP.jpg", clip, samsung)
    out = tmp_path / "out"
    result = clean_file(src, out / "PXL_1.MP.jpg", Options(keep_motion=True))
    assert result.motion.output == out / "PXL_1.MP-motion.mp4"
    assert sorted(p.name for p in out.iterdir()) == ["PXL_1.MP-motion.mp4", "PXL_1.MP.jpg"]
    assert len(result.motion.faces) == 1
    assert b"ftyp" not in (out / "PXL_1.MP.jpg").read_bytes()
    assert GPS_TEXT.encode() not in (out / "PXL_1.MP-motion.mp4").read_bytes()
    assert len(decoded(out / "PXL_1.MP-motion.mp4")) == 20
    plain = clean_file(src, tmp_path / "plain" / "PXL_1.MP.jpg")  # without --keep-motion: the still only
    assert plain.motion is None and list((tmp_path / "plain").iterdir()) == [tmp_path / "plain" / "PXL_1.MP.jpg"]


def test_a_broken_motion_clip_is_left_out_and_the_still_cleaned(tmp_path, marker_detector):
    clip = make_clip(tmp_path / "clip.mp4").read_bytes()
    src = _motion_photo(tmp_path / "photo.jpg", clip[:200] + b"\0" * 50)  # the MP4 cut short
    result = clean_file(src, tmp_path / "out" / "photo.jpg", Options(keep_motion=True))
    assert result.status == "cleaned" and result.motion.status == "failed"
    assert "Motion Photo video was not kept" in result.motion.error
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["photo.jpg"]


def test_a_failing_still_takes_its_clip_with_it(tmp_path, marker_detector, monkeypatch):
    clip = make_clip(tmp_path / "clip.mp4").read_bytes()
    src = _motion_photo(tmp_path / "photo.jpg", clip)
    calls = []

    def failing_still(src, dst, options=Options()):
        calls.append(dst)
        raise VerificationError("the written copy still holds EXIF", dst)

    monkeypatch.setattr(pipeline, "clean_picture", failing_still)
    with pytest.raises(VerificationError):
        pipeline.clean_file(src, tmp_path / "out" / "photo.jpg", Options(keep_motion=True))
    assert [dst.name for dst in calls] == ["photo.jpg"]
    assert list((tmp_path / "out").iterdir()) == []  # the clip was written first, then removed


@pytest.mark.parametrize("command", ["clean", "review"])
def test_the_review_page_shows_a_few_frames_of_each_clip(tmp_path, marker_detector, command):
    from click.testing import CliRunner
    from test_review import page_data

    from photoguard import review
    from photoguard.cli import cli

    folder = tmp_path / "roll"
    folder.mkdir()
    make_clip(folder / "kids.mov", size=(120, 160), rotation=-90, container="mov")
    args = [command, str(folder), "-o", str(tmp_path / "out"), "-j", "1"] + (["--review"] if command == "clean" else [])
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [entry] = page_data(tmp_path / "out" / review.PAGE_NAME)["photos"]
    assert entry["name"] == "kids.mp4"
    assert len(entry["times"]) == 4 and entry["original"] is None
    assert len(entry["faces"]) == 4  # the face, outlined in each frame shown
    assert entry["h"] > entry["w"]  # portrait frames (the clip's turn applied)
    from PIL import Image

    with Image.open(tmp_path / "out" / entry["thumb"]) as sheet:
        pixels = np.asarray(sheet.convert("RGB"))
    for face in entry["faces"]:  # obscured in the frames shown, before and after cleaning
        x, y, w, h = (round(v * sheet.width / entry["w"]) for v in face["box"])
        assert detail(pixels, (x, y, w, h)) < 12


def test_bad_videos_fail_with_one_reason_and_no_copy(tmp_path, marker_detector):
    from photoguard.errors import InputError, UnsupportedVideo

    good = make_clip(tmp_path / "good.mp4", audio=None).read_bytes()
    cases = {
        "moov-past-the-end.mp4": good[:-40],
        "unknown-codec.mp4": good.replace(b"avc1", b"zzzz"),  # a codec FFmpeg has no decoder for
    }
    empty = av.open(str(tmp_path / "no-frames.mp4"), "w")
    stream = empty.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    empty.start_encoding()  # a track with no samples
    empty.close()
    cases["no-frames.mp4"] = (tmp_path / "no-frames.mp4").read_bytes()
    out = tmp_path / "out"
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError) as failure:
            clean_file(tmp_path / name, out / name)
        assert "\n" not in str(failure.value)
        if name == "unknown-codec.mp4":
            assert isinstance(failure.value, UnsupportedVideo)
    assert not out.exists() or list(out.iterdir()) == []


def test_the_command_line_cleans_and_scans_videos_beside_photos(tmp_path, marker_detector):
    from click.testing import CliRunner
    from conftest import write_leaky_jpeg

    from photoguard.cli import cli

    folder = tmp_path / "roll"
    folder.mkdir()
    write_leaky_jpeg(folder / "IMG_1.jpg")
    plant_phone_metadata(make_clip(folder / "IMG_2.MOV", container="mov"))
    runner = CliRunner()
    cleaned = runner.invoke(cli, ["clean", str(folder), "--json", "-j", "1", "--format", "png"])
    assert cleaned.exit_code == 0, cleaned.output
    results = {Path(r["input"]).name: r for r in map(json.loads, cleaned.stdout.splitlines())}
    video = results["IMG_2.MOV"]
    assert Path(video["output"]).name == "IMG_2.mp4"  # a video stays a video whatever --format says
    assert Path(results["IMG_1.jpg"]["output"]).suffix == ".png"
    assert {"gps", "camera", "tracks"} <= set(video["removed"])
    assert video["faces"][0]["end"] > video["faces"][0]["start"] == 0
    scanned = runner.invoke(cli, ["scan", str(folder / "IMG_2.MOV"), "--json"])
    report = json.loads(scanned.stdout)
    assert report["seconds"] > 0.5 and report["format"] == "mov"
    assert any(risk.startswith("GPS 48.85840 N") for risk in report["risks"])
    assert any(risk.startswith("1 face (0:00-0:0") for risk in report["risks"])
    line = runner.invoke(cli, ["scan", str(folder / "IMG_2.MOV")]).stdout
    assert "MOV 160x120 0.7 s" in line and "Apple iPhone 15 Pro" in line


@pytest.mark.parametrize("head, kind", [
    (b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2", "video"),
    (b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ", "video"),
    (b"\0\0\0\x18ftyp3gp5\0\0\0\0" + b"3gp5isom", "video"),
    (b"\0\0\0\x18ftypmp42\0\0\0\0mp42heic", "video"),  # a video listing a HEIF brand stays a video
    (b"\0\0\0\x1cftypheic\0\0\0\0mif1heicisom", "heif"),  # a HEIF listing isom stays a HEIF
    (b"\0\0\0\x1cftypmif1\0\0\0\0mif1miafMiHB", "heif"),
    (b"\0\0\0\x18ftypavif\0\0\0\0avifmif1", "heif"),
    (b"\0\0\0\x18ftypM4A \0\0\0\0M4A isom", None),  # music and voice memos named .m4a are not videos
    (b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom", None),  # Canon CR3 raw photos neither
    (b"\0\0\x12\x34moov\0\0\0\x6cmvhd", "video"),  # QuickTime before ftyp boxes existed
    (b"\0\0\0\x08wide\0\0\x12\x34mdat", "video"),
])
def test_videos_and_heif_photos_are_told_apart_by_the_major_brand(head, kind):
    from photoguard.parts.formats import sniff

    handler = sniff(head.ljust(32, b"\0"))
    assert (handler.name if handler else None) == kind


def test_a_failing_still_in_a_batch_removes_only_what_it_wrote(tmp_path, marker_detector, monkeypatch):
    from photoguard.batch.plan import find_inputs, plan_outputs

    folder = tmp_path / "roll"
    folder.mkdir()
    _motion_photo(folder / "photo.jpg", make_clip(tmp_path / "clip.mp4").read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo-motion.mp4").write_bytes(b"the user's own file")

    def failing_still(src, dst, options=Options()):
        raise VerificationError("the written copy still holds EXIF", dst)

    monkeypatch.setattr(pipeline, "clean_picture", failing_still)
    jobs = plan_outputs(find_inputs([folder]), out, "keep", False)
    (result,) = batch.clean_batch(jobs, Options(keep_motion=True, overwrite=True), 0)
    assert result.status == "failed"
    # the clip was only staged: its temporary file goes, the file already there stays
    assert sorted(p.name for p in out.iterdir()) == [".photoguard", "photo-motion.mp4"]
    assert (out / "photo-motion.mp4").read_bytes() == b"the user's own file"


def test_a_clip_that_cannot_follow_its_still_fails_on_its_own(tmp_path, marker_detector):
    from photoguard.batch.plan import find_inputs, plan_outputs

    folder = tmp_path / "roll"
    folder.mkdir()
    _motion_photo(folder / "photo.jpg", make_clip(tmp_path / "clip.mp4").read_bytes())
    out = tmp_path / "out"

    def another_writer_takes_the_clip_name(job, options):
        result = batch.clean_job(job, options)
        (out / "photo-motion.mp4").write_bytes(b"written meanwhile")  # before the copies move
        return result

    jobs = plan_outputs(find_inputs([folder]), out, "keep", False)
    (result,) = batch.clean_batch(jobs, Options(keep_motion=True), 0, another_writer_takes_the_clip_name)
    assert result.status == "cleaned" and (out / "photo.jpg").exists()
    assert result.motion.status == "failed" and "already exists" in result.motion.error
    assert (out / "photo-motion.mp4").read_bytes() == b"written meanwhile"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_video_named_like_a_motion_clip_keeps_a_copy_of_its_own(tmp_path, marker_detector):
    from click.testing import CliRunner

    from photoguard.cli import cli

    folder = tmp_path / "roll"
    folder.mkdir()
    _motion_photo(folder / "IMG_1.jpg", make_clip(tmp_path / "clip.mp4").read_bytes())
    make_clip(folder / "IMG_1-motion.mp4", frames=5)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["clean", str(folder), "-o", str(out), "--keep-motion", "--json"])
    assert result.exit_code == 0, result.stderr
    items = {Path(item["input"]).name: item for item in map(json.loads, result.stdout.splitlines())}
    assert Path(items["IMG_1.jpg"]["motion"]["output"]).name == "IMG_1-motion.mp4"
    assert Path(items["IMG_1-motion.mp4"]["output"]).name == "IMG_1-motion-2.mp4"
    assert len(decoded(out / "IMG_1-motion.mp4")) == 20 and len(decoded(out / "IMG_1-motion-2.mp4")) == 5


def test_a_motion_video_not_kept_makes_the_run_fail(tmp_path, marker_detector):
    from click.testing import CliRunner

    from photoguard.cli import cli

    folder = tmp_path / "roll"
    folder.mkdir()
    clip = make_clip(tmp_path / "clip.mp4").read_bytes()
    _motion_photo(folder / "photo.jpg", clip[:200] + b"\0" * 50)  # the MP4 cut short
    result = CliRunner().invoke(cli, ["clean", str(folder), "-o", str(tmp_path / "out"), "--keep-motion"])
    assert result.exit_code == 1
    assert "1 cleaned" in result.stderr and "1 Motion Photo video not kept" in result.stderr
    assert "its Motion Photo video was not kept" in result.stderr


def test_a_rerun_keeps_a_motion_photo_and_its_clip_up_to_date(tmp_path, marker_detector):
    from click.testing import CliRunner

    from photoguard.cli import cli

    folder = tmp_path / "roll"
    folder.mkdir()
    _motion_photo(folder / "PXL_1.MP.jpg", make_clip(tmp_path / "clip.mp4").read_bytes())
    args = ["clean", str(folder), "-o", str(tmp_path / "out"), "--keep-motion", "--json"]

    def run():
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        (item,) = [json.loads(line) for line in result.stdout.splitlines()]
        return item

    first = run()
    assert first["status"] == "cleaned" and first["motion"]["output"].endswith("PXL_1.MP-motion.mp4")
    assert run()["error"] == batch.UP_TO_DATE  # the still and its clip, both as they were written
    (tmp_path / "out" / "PXL_1.MP-motion.mp4").unlink()
    again = run()  # the clip is gone: both are made again
    assert again["status"] == "cleaned" and (tmp_path / "out" / "PXL_1.MP-motion.mp4").exists()


def test_a_fragmented_video_that_declares_no_length_is_measured_by_its_fragments(tmp_path):
    from photoguard.media.video.probe import probe
    from photoguard.media.video.source import Source, read_structure

    clip = make_clip(tmp_path / "clip.mp4", frames=30, rate=10, audio=None)  # 3 s
    fragmented = tmp_path / "fragmented.mp4"
    with av.open(str(clip)) as source, av.open(str(fragmented), "w", format="mp4",
                                               options={"movflags": "frag_keyframe+empty_moov"}) as output:
        stream = output.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                output.mux(packet)
    assert read_structure(Source(fragmented)).seconds() == 0  # what the headers declare
    assert probe(Source(fragmented), Options()).seconds == pytest.approx(3, abs=0.2)
    with pytest.raises(VideoTooLong):
        clean_file(fragmented, tmp_path / "out.mp4", Options(faces=False, max_duration=2))
    assert not (tmp_path / "out.mp4").exists()


def test_a_video_gets_time_in_proportion_to_its_length(tmp_path):
    from photoguard.batch.plan import Job

    clip = make_clip(tmp_path / "clip.mp4", rate=10)  # 20 frames at 10 per second: 2 s
    photo = tmp_path / "p.jpg"
    video, image = Job(clip, tmp_path, "video"), Job(photo, tmp_path, "jpeg")
    options = Options(max_seconds=30)
    assert batch_run.budget_seconds(image, options) == 30
    assert batch_run.budget_seconds(video, options) == pytest.approx(30 + batch_run.VIDEO_SECONDS_PER_SECOND * 2, abs=1)
    assert batch_run.budget_seconds(video, Options(max_seconds=30, max_duration=1)) == \
        30 + batch_run.VIDEO_SECONDS_PER_SECOND * 1  # a longer video is refused anyway
    assert batch_run.budget_seconds(video, Options(max_seconds=0)) == 0
    clip.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 12)  # unreadable: its worker says why
    assert batch_run.budget_seconds(video, options) == 30
