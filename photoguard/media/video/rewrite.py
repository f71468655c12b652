"""The second pass: a new MP4 holding the kept streams and nothing else.

The picture is either re-encoded frame by frame with the faces obscured, or (``--no-faces``,
when its codec allows) copied packet by packet. AAC sound is copied packet by packet, unless
its frames name its encoder (see ``messages``); other sound is re-encoded to AAC. FFmpeg's
MP4 muxer writes no dates and no encoder tag with ``+bitexact``, but it always adds an empty
iTunes metadata box (``udta/meta`` holding an empty ``ilst``); that box is cut from the
finished file here, and ``verify`` then checks the whole file against the keep list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO

from ...errors import VideoDecodeError, reason
from ...options import Options
from ...parts.isobmff import Box, children, full_box, read_box, top_level
from .encoder import add_audio_stream, add_video_stream
from .faces import FaceTimeline
from .geometry import to_stored
from .planes import obscure_frame, prepare
from .probe import Probe
from .source import Source, open_container
from .threads import decoding

MUXER_OPTIONS = {"fflags": "+bitexact"}


@dataclass
class Written:
    """What went into the copy: its frame count is checked against the copy's own."""

    frames: int = 0


def write_copy(source: Source, handle: BinaryIO, probe: Probe, faces: FaceTimeline | None,
               options: Options) -> Written:
    """Write the copy into ``handle``: an empty file open for reading and writing (as
    ``atomic.write_atomically`` gives it), read back at the end to cut the muxer's empty box."""
    import av  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

    written = Written()
    with open_container(source) as container:
        output = av.open(handle, "w", format="mp4", options=MUXER_OPTIONS)
        try:
            _copy_streams(container, output, source, probe, faces, options, written)
        except av.FFmpegError as exc:
            _close_after_failure(output)
            raise VideoDecodeError(f"cannot rewrite the video: {reason(exc)}", source.path) from exc
        except BaseException:
            _close_after_failure(output)
            raise
        output.close()
    if faces is not None and written.frames != faces.total():
        raise VideoDecodeError(f"the video decoded to {faces.total()} frames, then to {written.frames}", source.path)
    if probe.video is not None and written.frames == 0:  # the muxer wrote nothing at all
        raise VideoDecodeError("the video holds no frames", source.path)
    drop_empty_user_data(handle)
    return written


def _copy_streams(container, output, source: Source, probe: Probe, faces: FaceTimeline | None,
                  options: Options, written: Written) -> None:
    video = audio = None
    if probe.video is not None:
        stream = container.streams[probe.video]
        video = _PacketCopy(output, stream, written, frames=True) if faces is None and probe.copyable \
            else _PictureEncode(output, decoding(stream), probe, faces, options, written, source.path)
    if probe.audio is not None:
        stream = container.streams[probe.audio]
        audio = _PacketCopy(output, stream, written) if probe.sound_copyable else _SoundEncode(output, stream, written)
    kept = [part for part in (video, audio) if part]
    by_index = {part.source.index: part for part in kept}
    for packet in container.demux([part.source for part in kept]):
        by_index[packet.stream.index].take(packet)
    for part in kept:
        part.finish()


def _close_after_failure(output) -> None:
    """Close the muxer without hiding the failure (the half-written file is thrown away)."""
    try:
        output.close()
    except Exception:  # noqa: BLE001
        pass


class _PacketCopy:
    """A stream copied packet for packet (``frames``: each packet is a frame, counted in ``written``)."""

    def __init__(self, output, source, written: Written, frames: bool = False):
        self.output, self.source, self.written, self.frames = output, source, written, frames
        self.stream = output.add_stream_from_template(source)

    def take(self, packet) -> None:
        if packet.dts is None:  # the demuxer's end-of-stream marker
            return
        packet.stream = self.stream
        self.output.mux(packet)
        self.written.frames += self.frames

    def finish(self) -> None:
        pass


class _PictureEncode:
    def __init__(self, output, source, probe: Probe, faces: FaceTimeline | None, options: Options,
                 written: Written, path):
        self.output, self.source, self.probe, self.written, self.path = output, source, probe, written, path
        self.faces, self.options = faces, options
        self.stream, self.filter_description = add_video_stream(output, source, probe)
        self.filter = None
        self.pixel_format = self.stream.pix_fmt
        self.last_pts = None

    def take(self, packet) -> None:
        for frame in packet.decode():
            self._encode(frame)

    def _encode(self, frame) -> None:
        index = self.written.frames
        self.written.frames += 1
        if (frame.width, frame.height) != (self.probe.width, self.probe.height):
            raise VideoDecodeError(f"the picture size changes from {self.probe.width}x{self.probe.height} to "
                                   f"{frame.width}x{frame.height} within the video", self.path)
        frame = prepare(frame, self.pixel_format)
        if self.faces is not None:
            stored = (self.probe.width, self.probe.height)
            faces = [to_stored(face, self.probe.rotation, stored) for face in self.faces.faces(index)]
            obscure_frame(frame, faces, self.options.mode, self.options.mask_scale)
        if frame.pts is None or (self.last_pts is not None and frame.pts <= self.last_pts):
            # a broken source's timing: one tick on keeps the order the encoder needs
            frame.pts = 0 if self.last_pts is None else self.last_pts + 1
        self.last_pts = frame.pts
        self._mux(self.stream.encode(frame))

    def _mux(self, packets) -> None:
        for packet in packets:
            if self.filter_description and self.filter is None:
                import av  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

                # made once the encoder is open, so it sees the encoder's parameters; the
                # stream's own (the parameter sets in the sample description) stay the encoder's
                self.filter = av.bitstream.BitStreamFilterContext(self.filter_description, self.stream)
            self._send(self.filter.filter(packet) if self.filter else [packet])

    def _send(self, packets) -> None:
        for packet in packets:
            packet.stream = self.stream
            self.output.mux(packet)

    def finish(self) -> None:
        self._mux(self.stream.encode(None))
        if self.filter is not None:
            self._send(self.filter.filter(None))


class _SoundEncode:
    def __init__(self, output, source, written: Written):
        self.output, self.source, self.written = output, source, written
        self.stream = add_audio_stream(output, source)

    def take(self, packet) -> None:
        for frame in packet.decode():
            frame.pts = None  # the encoder numbers its own, gap-free
            self._mux(self.stream.encode(frame))

    def _mux(self, packets) -> None:
        for packet in packets:
            self.output.mux(packet)

    def finish(self) -> None:
        self._mux(self.stream.encode(None))


def drop_empty_user_data(handle: BinaryIO) -> None:
    """Cut the muxer's empty iTunes box: ``moov`` is the file's last box and this ``udta`` its
    last child, so the file is shortened by its size and ``moov``'s size field corrected. Any
    other content there is left for verification to refuse."""
    handle.flush()
    length = handle.seek(0, 2)
    with os.fdopen(os.dup(handle.fileno()), "rb") as reader:
        boxes = top_level(reader, length)
        moov = boxes[-1]
        if moov.type != "moov" or moov.body - moov.start != 8:
            return
        data = read_box(reader, moov)
    inner = list(children(data, 8, len(data)))
    udta = inner[-1] if inner else None
    if udta is None or udta.type != "udta" or not _empty_itunes_metadata(data, udta):
        return
    handle.seek(moov.start)
    handle.write((moov.size - udta.size).to_bytes(4, "big"))
    handle.truncate(moov.start + udta.start)
    handle.flush()


def _empty_itunes_metadata(data: bytes, udta: Box) -> bool:
    """``udta`` holds one ``meta`` holding an 'mdir' handler and an empty ``ilst``, nothing else."""
    inner = list(children(data, udta.body, udta.end))
    if len(inner) != 1 or inner[0].type != "meta" or full_box(data, inner[0]) != (0, 0):
        return False
    parts = list(children(data, inner[0].body + 4, inner[0].end))
    return ([p.type for p in parts] == ["hdlr", "ilst"] and data[parts[0].body + 8 : parts[0].body + 12] == b"mdir"
            and parts[1].end == parts[1].body)
