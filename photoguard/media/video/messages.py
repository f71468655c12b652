"""Messages that ride along inside a compressed stream, beside its pictures or its sound.

H.264 and HEVC carry SEI units, AV1 metadata OBUs: encoders write their names and settings
there, and some cameras dates, positions or serial numbers. AAC frames may hold text in a fill
element: FFmpeg's encoder writes its name and version into the first frame it makes. A copy that
carries the compressed stream as it is would carry these too, so such a stream is re-encoded
instead; only a stream with none is copied.
"""

from __future__ import annotations

#: NAL unit types of SEI: H.264's one, HEVC's prefix and suffix
_H264_SEI = {6}
_HEVC_SEI = {39, 40}
_AV1_METADATA = 5
_START_CODE = b"\x00\x00\x01"


def carries_messages(container, stream) -> bool:
    """True when the stream's sample description or any of its samples holds a message, or
    cannot be read well enough to tell (a copy is then not worth the doubt)."""
    from av import FFmpegError  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

    codec = stream.codec_context.name
    extradata = bytes(stream.codec_context.extradata or b"")
    try:
        if codec == "h264":
            size = _avcc_length_size(extradata)
            return any(_nal_types(packet, size, _h264_type) & _H264_SEI for packet in _packets(container, stream))
        if codec == "hevc":
            size, described = _hvcc(extradata)
            return bool(described & _HEVC_SEI) or any(
                _nal_types(packet, size, _hevc_type) & _HEVC_SEI for packet in _packets(container, stream))
        return any(_AV1_METADATA in _obu_types(packet) for packet in _packets(container, stream))
    except (ValueError, FFmpegError):  # re-encoding says what is wrong with a damaged file
        return True


#: what an encoder writes into AAC frames to name itself: FFmpeg's encoder writes "Lavc" and its
#: version ("Lavc62.28.102") into the first frame it makes, which a file cut or joined later
#: may hold anywhere (an editor's output in the dev set: frame 39 of 214). It is the only such
#: name known in phones' and editors' sound. (Looking for any printable text instead would not
#: do: the frames of a steady tone or of silence hold long printable runs, "pggggfvvp``````cwn")
ENCODER_NAMES = (b"Lavc",)


def sound_names_its_encoder(container, stream) -> bool:
    """True when a frame of ``stream`` (AAC) names its encoder, or cannot be read."""
    from av import FFmpegError  # deferred: start-up (PyAV and FFmpeg are loaded only for a video)

    try:
        return any(name in packet for packet in _packets(container, stream) for name in ENCODER_NAMES)
    except FFmpegError:  # re-encoding says what is wrong with a damaged file
        return True


def _packets(container, stream):
    for packet in container.demux(stream):
        if packet.size:
            yield bytes(packet)


def _h264_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def _hevc_type(nal: bytes) -> int:
    return (nal[0] >> 1) & 0x3F


def _nal_types(sample: bytes, length_size: int, nal_type) -> set[int]:
    """The types of the length-prefixed NAL units of one sample (MP4's layout)."""
    types, at = set(), 0
    while at < len(sample):
        if at + length_size > len(sample):
            raise ValueError("a NAL unit's length is cut short")
        length = int.from_bytes(sample[at : at + length_size], "big")
        at += length_size
        if length == 0 or at + length > len(sample):
            raise ValueError("a NAL unit runs past its sample")
        if _START_CODE in sample[at + 1 : at + length]:
            # emulation prevention keeps 00 00 01 out of a unit's payload: this one holds
            # units of its own, written with start codes (an SEI among them, in one phone's clip)
            raise ValueError("a NAL unit holds start-code units")
        types.add(nal_type(sample[at : at + length]))
        at += length
    return types


def _avcc_length_size(extradata: bytes) -> int:
    if len(extradata) < 7 or extradata[0] != 1:
        raise ValueError("no avcC record")
    return (extradata[4] & 3) + 1


def _hvcc(extradata: bytes) -> tuple[int, set[int]]:
    """An hvcC record's NAL length size, and the types of the NAL units it holds."""
    if len(extradata) < 23 or extradata[0] != 1:
        raise ValueError("no hvcC record")
    types, at = set(), 23
    for _ in range(extradata[22]):
        if at + 3 > len(extradata):
            raise ValueError("the hvcC record is cut short")
        types.add(extradata[at] & 0x3F)
        count, at = int.from_bytes(extradata[at + 1 : at + 3], "big"), at + 3
        for _ in range(count):
            at += 2 + int.from_bytes(extradata[at : at + 2], "big")
    if at > len(extradata):
        raise ValueError("the hvcC record is cut short")
    return (extradata[21] & 3) + 1, types


def _obu_types(sample: bytes) -> set[int]:
    """The types of the OBUs of one AV1 sample (each with its size, as MP4 stores them)."""
    types, at = set(), 0
    while at < len(sample):
        header = sample[at]
        if not header & 0x02:
            raise ValueError("an OBU without its size")
        types.add((header >> 3) & 0x0F)
        at += 2 if header & 0x04 else 1
        size, shift = 0, 0
        while True:
            if at >= len(sample):
                raise ValueError("an OBU's size is cut short")
            byte = sample[at]
            at += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        at += size
    if at > len(sample):
        raise ValueError("an OBU runs past its sample")
    return types
