"""Video clips built in code for the tests: PyAV encodes them, then the boxes phones add are
planted by hand (Apple's keys with GPS, a timed-metadata track, XMP in a uuid box).

Clips are tiny (a few dozen frames of 160x120 or so): each costs milliseconds to make.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import numpy as np

#: the synthetic face: a magenta checkerboard (no magenta anywhere else), found by MarkerDetector
FACE = 40
GPS_TEXT = "+48.8584+002.2945+035.000/"


def background(width: int, height: int, index: int) -> np.ndarray:
    """A smooth picture that moves a little from frame to frame, with no magenta in it."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 120 + 60 * np.sin((xs + 3 * index) / 23)
    green = 140 + 50 * np.cos(ys / 17)
    blue = 110 + 40 * np.sin((xs + ys) / 31)
    return np.clip(np.stack([red, green, blue], -1), 0, 255).astype(np.uint8)


def panning(speed: int) -> Callable:
    """Scenery for a camera panning left: blocks of random colours moving ``speed`` px a frame
    to the right, corners everywhere to follow."""

    def scenery(width: int, height: int, index: int) -> np.ndarray:
        rng = np.random.default_rng(5)
        blocks = rng.integers(0, 200, (height // 8 + 1, (width + speed * 60) // 8 + 1, 3)).astype(np.uint8)
        blocks[..., 1] = np.maximum(blocks[..., 1], 60)  # never magenta: green is what the face lacks
        wide = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)
        left = speed * 60 - speed * index
        return np.ascontiguousarray(wide[:height, left:left + width])

    return scenery


def draw_face(pixels: np.ndarray, box: tuple[int, int, int, int]) -> None:
    x, y, w, h = box
    ys, xs = np.mgrid[0:h, 0:w]
    light = ((ys // 4 + xs // 4) % 2).astype(bool)
    patch = np.where(light[..., None], np.array([255, 0, 255], np.uint8), np.array([90, 0, 90], np.uint8))
    pixels[y : y + h, x : x + w] = patch


def moving_face(index: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Where the face is in frame ``index`` (displayed pixels): walking right and down."""
    return (min(width - FACE, 8 + 5 * index), min(height - FACE, 10 + 2 * index), FACE, FACE)


def make_clip(path: Path, *, frames: int = 20, size: tuple[int, int] = (160, 120), rate: int = 30,
              rotation: int = 0, face: Callable | None = moving_face, audio: str | None = "aac",
              times: list[int] | None = None, container: str = "mp4", metadata: dict | None = None,
              x264_message: bool = True, scenery: Callable | None = None, aac_message: bool = False) -> Path:
    """An H.264 clip; ``size`` and ``face`` are in displayed pixels (``face`` gives a frame's
    box, or None where it shows no face), the frames are stored
    turned by ``rotation`` (PyAV's counter-clockwise degrees) with a display matrix saying so.
    ``times``: presentation times in milliseconds (variable frame rate). ``x264_message``:
    keep the SEI in which x264 names itself (a phone's encoder writes none). ``scenery``: the
    picture behind the face in each frame, ``background`` by default. ``aac_message``: FFmpeg's
    AAC encoder writes its name into the first frame of the sound, as in a file FFmpeg made."""
    width, height = size
    turns = (rotation // 90) % 4
    stored = (height, width) if turns % 2 else (width, height)
    output = av.open(str(path), "w", format=container)
    for key, value in (metadata or {}).items():
        output.metadata[key] = value
    video = output.add_stream("libx264", rate=rate, options={"preset": "ultrafast", "crf": "18"})
    video.width, video.height, video.pix_fmt = stored[0], stored[1], "yuv420p"
    if times is not None:
        video.codec_context.time_base = Fraction(1, 1000)
    if rotation:
        video.set_display_rotation(rotation)
    without_sei = None

    def mux_video(packets):
        nonlocal without_sei
        for packet in packets:
            if not x264_message and without_sei is None:  # made once the encoder is open
                without_sei = av.bitstream.BitStreamFilterContext("filter_units=remove_types=6", video)
            for kept in without_sei.filter(packet) if without_sei else [packet]:
                kept.stream = video
                output.mux(kept)

    sound = None
    if audio:
        # +bitexact: FFmpeg's AAC encoder would write its name into the first packet, which a
        # packet-for-packet copy keeps; phones' encoders write none
        sound = output.add_stream(audio, rate=48000, options={} if aac_message else {"flags": "+bitexact"})
        sound.codec_context.layout = "stereo"
    for index in range(frames):
        pixels = (scenery or background)(width, height, index)
        box = face(index, width, height) if face is not None else None
        if box is not None:
            draw_face(pixels, box)
        # stored = the displayed picture turned back
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.rot90(pixels, -turns)), format="rgb24")
        if times is not None:
            frame.pts, frame.time_base = times[index], Fraction(1, 1000)
        mux_video(video.encode(frame))
    mux_video(video.encode())
    if sound is not None:
        samples = int(48000 * frames / rate)
        tone = (0.2 * np.sin(np.arange(samples) / 48000 * 2 * np.pi * 440)).astype(np.float32)
        mux_audio(output, sound, np.stack([tone] * 2), "stereo")
    output.close()
    return path


def mux_audio(output, sound, samples: np.ndarray, layout: str) -> None:
    """Encode ``samples`` (channels x samples, float32) into ``sound`` in 1024-sample frames."""
    rate = sound.codec_context.sample_rate
    for start in range(0, samples.shape[1], 1024):
        piece = np.ascontiguousarray(samples[:, start : start + 1024])
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
        frame.sample_rate, frame.pts = rate, start
        for packet in sound.encode(frame):
            output.mux(packet)
    for packet in sound.encode():
        output.mux(packet)


class MarkerDetector:
    """Finds the synthetic face: the bounding box of its magenta pixels, in the image given."""

    name = "marker"

    def detect(self, rgb: np.ndarray):
        from photoguard.parts.detect.base import Face

        red, green, blue = (rgb[..., i].astype(int) for i in range(3))
        ys, xs = np.nonzero((red > 60) & (blue > 60) & (green < 50))
        if len(xs) < 4:
            return []
        return [Face((int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)), 0.9)]


# --- boxes a phone adds, planted by hand ---------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def apple_keys(items: dict[str, str]) -> bytes:
    """moov/meta as an iPhone writes it: an 'mdta' handler, the key names, their values."""
    handler = full_box(b"hdlr", b"\0" * 4 + b"mdta" + b"\0" * 12 + b"\0")
    keys = full_box(b"keys", struct.pack(">I", len(items)) + b"".join(box(b"mdta", k.encode()) for k in items))
    values = b"".join(box(struct.pack(">I", i + 1), box(b"data", struct.pack(">II", 1, 0) + v.encode()))
                      for i, v in enumerate(items.values()))
    return box(b"meta", handler + keys + box(b"ilst", values))


def _timed_metadata_trak(track_id: int, offsets: list[int], sizes: list[int]) -> bytes:
    """A 'meta' track of 'mebx' samples (iPhones keep face rectangles in one)."""
    when = 3_800_000_000  # 2024, seconds since 1904
    tkhd = full_box(b"tkhd", struct.pack(">IIIII", when, when, track_id, 0, 1000) + b"\0" * 8
                    + b"\0" * 8 + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
                    + b"\0" * 8, flags=1)
    mdhd = full_box(b"mdhd", struct.pack(">IIIIHH", when, when, 1000, 1000, 0x55C4, 0))
    hdlr = full_box(b"hdlr", b"\0" * 4 + b"meta" + b"\0" * 12 + b"Core Media Metadata\0")
    entry = box(b"mebx", b"\0" * 6 + struct.pack(">H", 1) + box(b"keys", b""))
    stbl = box(b"stbl", full_box(b"stsd", struct.pack(">I", 1) + entry)
               + full_box(b"stts", struct.pack(">III", 1, len(sizes), 100))
               + full_box(b"stsc", struct.pack(">IIII", 1, 1, 1, 1))
               + full_box(b"stsz", struct.pack(">II", 0, len(sizes)) + b"".join(struct.pack(">I", s) for s in sizes))
               + full_box(b"stco", struct.pack(">I", len(offsets)) + b"".join(struct.pack(">I", o) for o in offsets)))
    dinf = box(b"dinf", full_box(b"dref", struct.pack(">I", 1) + full_box(b"url ", b"", flags=1)))
    minf = box(b"minf", full_box(b"nmhd", b"") + dinf + stbl)
    return box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf))


def _top_level(data: bytes) -> list[tuple[bytes, int, int]]:
    boxes, pos = [], 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append((kind, pos, pos + size))
        pos += size
    return boxes


XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")


def plant_phone_metadata(path: Path) -> Path:
    """Add what an iPhone leaves: Apple keys (GPS, make, model, creation date, the Live Photo
    pairing identifier) in moov/meta, a timed-metadata track with face rectangles in its
    samples, and XMP in a top-level uuid box. The clip must end with its moov box."""
    data = path.read_bytes()
    kind, start, end = _top_level(data)[-1]
    assert kind == b"moov", "plant_phone_metadata needs moov at the end"
    samples = [b"face 12,30,40,40 child", b"face 14,31,40,40 child"]
    sample_data = box(b"mdat", b"".join(samples))
    offsets = [start + 8, start + 8 + len(samples[0])]
    keys = apple_keys({
        "com.apple.quicktime.location.ISO6709": GPS_TEXT,
        "com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15 Pro",
        "com.apple.quicktime.creationdate": "2024-06-12T15:30:00+0200",
        "com.apple.quicktime.content.identifier": "6B1A1F2E-PAIRING-ID",
    })
    moov = data[start + 8 : end] + keys + _timed_metadata_trak(99, offsets, [len(s) for s in samples])
    xmp = box(b"uuid", XMP_UUID + b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Jane Parent</dc:creator></x:xmpmeta>')
    path.write_bytes(data[:start] + sample_data + box(b"moov", moov) + xmp)
    return path
