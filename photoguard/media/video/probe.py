"""Opening a video: which streams the copy keeps, and whether it can be cleaned at all.

Everything here is read from headers (the container's and the codecs'), before any frame
is decoded, so a file that cannot be cleaned is refused at once with one reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import ImageTooLarge, UnsafeToClean, UnsupportedVideo, VideoDecodeError, VideoTooLong
from ...options import Options
from ...parts.isobmff import children
from ...parts.isobmff import path as box_path
from .messages import carries_messages, sound_names_its_encoder
from .movie import Movie, Track
from .source import Source, length_seconds, open_container, read_structure

#: more frames per second than any camera records (phones' slow motion reaches 960)
MAX_FRAME_RATE = 1000
#: codecs whose compressed pictures a --no-faces copy may carry as they are
COPYABLE_VIDEO = {"h264", "hevc", "av1"}
#: transfer characteristics of HDR video: PQ (HDR10, Dolby Vision) and HLG
HDR_TRANSFERS = {16: "PQ", 18: "HLG"}
#: sample entries of Dolby Vision streams with no standard base layer (profile 5)
DOLBY_VISION_ONLY = {"dvh1", "dvhe", "dvav", "dva1"}


@dataclass(frozen=True)
class Probe:
    """The streams of the source that the copy keeps, and what the copy must look like."""

    #: index of the video stream kept (None: an audio-only file)
    video: int | None
    #: index of the audio stream kept (None: none, or --no-audio)
    audio: int | None
    width: int = 0
    height: int = 0
    #: display rotation, counter-clockwise degrees as PyAV reports it (0, 90, 180, -90)
    rotation: int = 0
    #: frames the container declares (0: it does not say)
    frames: int = 0
    seconds: float = 0.0
    #: 'HLG' or 'PQ' for HDR sources, '' for SDR
    hdr: str = ""
    #: the compressed pictures may be copied as they are (--no-faces): a codec we can check,
    #: one view, and (looked for only when faces are not) no messages riding along
    copyable: bool = False
    #: the compressed sound may be copied as it is: AAC whose frames do not name its encoder
    sound_copyable: bool = False
    #: the file's boxes (for what it gives away)
    movie: Movie | None = None
    video_track: Track | None = None
    audio_track: Track | None = None

    @property
    def displayed(self) -> tuple[int, int]:
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)

    @property
    def max_frames(self) -> int:
        """The most frames decoding may yield before the file counts as lying about itself."""
        return int(MAX_FRAME_RATE * max(self.seconds, 1.0)) + 1


def probe(source: Source, options: Options) -> Probe:
    path = source.path
    movie = read_structure(source)
    with open_container(source) as container:
        seconds = length_seconds(movie, container)
        if seconds > options.max_duration > 0:
            raise VideoTooLong(f"the video lasts {_minutes(seconds)}, more than the limit of "
                               f"{_minutes(options.max_duration)}", path)
        videos = [s for s in container.streams.video if not s.disposition & _ATTACHED_PICTURE]
        audios = list(container.streams.audio)
        if not videos and not audios:
            raise UnsupportedVideo("the file holds neither video nor sound", path)
        # the main picture: the first video stream with frames (a Motion Photo's second
        # stream is one still frame, an MV-HEVC clip's second view is inside the first)
        video = next((s for s in videos if s.frames), videos[0] if videos else None)
        audio = next((s for s in audios if s.frames), audios[0] if audios else None)
        found = {"movie": movie, "seconds": seconds,
                 "video_track": _track(movie, video), "audio_track": _track(movie, audio)}
        if audio is not None and options.audio:
            _check_decodable(audio, "sound", path)
            copyable = audio.codec_context.name == "aac" and not _sound_names_its_encoder(source, audio)
            found.update(audio=audio.index, sound_copyable=copyable)
        else:
            found["audio"] = None
        if video is None:
            return Probe(video=None, **found)
        _check_decodable(video, "video", path)
        facts = _video_facts(video, found["video_track"], movie, seconds, options, path)
        if facts["copyable"] and not options.faces:  # the copy path is taken: look inside the stream
            facts["copyable"] = not carries_messages(container, video)
        return Probe(video=video.index, **found, **facts)


def _sound_names_its_encoder(source: Source, stream) -> bool:
    """Its own look through the sound's frames: the probe's container goes on to the pictures."""
    with open_container(source) as container:
        return sound_names_its_encoder(container, container.streams[stream.index])


_ATTACHED_PICTURE = 0x0400  # AV_DISPOSITION_ATTACHED_PIC: cover art stored as a stream


def _video_facts(stream, track: Track | None, movie: Movie, seconds: float, options: Options, path: Path) -> dict:
    context = stream.codec_context
    width, height = context.width, context.height
    if width <= 0 or height <= 0:
        raise VideoDecodeError(f"the video declares an empty picture size {width}x{height}", path)
    if width * height > options.max_pixels:
        raise ImageTooLarge(f"the video's frames are {width}x{height} = {width * height / 1e6:.0f} megapixels, "
                            f"more than the limit of {options.max_pixels / 1e6:.0f}", path)
    frames = stream.frames
    if frames > MAX_FRAME_RATE * max(seconds, 1.0):
        raise VideoDecodeError(f"the video declares {frames} frames in {seconds:.1f} seconds", path)
    entry = track.format if track else ""
    if entry in DOLBY_VISION_ONLY:
        raise UnsafeToClean("a Dolby Vision video without a standard HDR base layer: its colours cannot be "
                            "kept, so no copy was written", path)
    rotation = _rotation(track, path)
    multiview = track is not None and _has_second_view(movie, track)
    return {"width": width, "height": height, "rotation": rotation, "frames": frames,
            "hdr": HDR_TRANSFERS.get(int(context.color_trc or 0), ""),
            "copyable": context.name in COPYABLE_VIDEO and not multiview}


def _check_decodable(stream, what: str, path: Path) -> None:
    context = stream.codec_context
    if context is None or not context.codec or context.name in ("none", ""):
        raise UnsupportedVideo(f"the {what} is in a format photoguard cannot decode", path)


def _track(movie: Movie, stream) -> Track | None:
    """The box-level track of a PyAV stream (its id is the track ID)."""
    if stream is None:
        return None
    return next((track for track in movie.tracks if track.id == stream.id), None)


def _rotation(track: Track | None, path: Path) -> int:
    """The display matrix as a rotation, counter-clockwise as PyAV reports it; a mirrored or
    skewed matrix is refused (the copy could not show the picture the same way)."""
    if track is None or not track.matrix:
        return 0
    a, b, _, c, d = track.matrix[:5]
    turns = {(65536, 0, 0, 65536): 0, (0, 65536, -65536, 0): -90,
             (-65536, 0, 0, -65536): 180, (0, -65536, 65536, 0): 90}
    rotation = turns.get((a, b, c, d))
    if rotation is None:
        raise UnsafeToClean("the video's display matrix mirrors or skews the picture; "
                            "photoguard keeps only rotations, so no copy was written", path)
    return rotation


def _has_second_view(movie: Movie, track: Track) -> bool:
    """An MV-HEVC (stereo, 'spatial') video: its sample description has a layered config."""
    data = movie.moov_data
    stsd = box_path(data, track.box, "mdia", "minf", "stbl", "stsd")
    if stsd is None:
        return False
    for entry in children(data, stsd.body + 8, stsd.end):
        return b"lhvC" in data[entry.body : entry.end]
    return False


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} minutes" if seconds >= 60 else f"{seconds:.0f} seconds"
