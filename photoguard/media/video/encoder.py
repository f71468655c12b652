"""Encoder settings for the copies: what the picture and the sound are re-encoded to.

SDR video becomes H.264 in 8-bit 4:2:0 (what every player plays) at a constant quality that
keeps the picture away from faces within 38 dB PSNR of the source's decode (measured: see
bench/video_quality.py). HDR video (HLG, PQ) stays HDR: 10-bit HEVC with the source's colour
tags, so its colours are not washed out. No encoder writes its name or settings into the
copy: FFmpeg's are off with ``+bitexact``, x264's version message is cut from the stream and
x265 is told not to write its own.
"""

from __future__ import annotations

from .probe import Probe
from .threads import share

#: constant quality (lower is better), speed and tuning of the H.264 encoder. Measured with
#: bench/video_quality.py on 19 phone and camera clips (worst frame PSNR against the source's
#: decode, 8-bit RGB): CRF 20 veryfast fell to 33.5 dB on an old MPEG-4 clip and 34.4 dB on an
#: iPhone 6 clip, CRF 14 still to 37.7 dB; tuned for PSNR (no psychovisual tricks, which spend
#: bits on texture rather than fidelity) CRF 16 kept every frame of every clip at 38.6 dB or more
H264_CRF = 16
H264_PRESET = "veryfast"
H264_TUNE = "psnr"
HEVC_CRF = 20
HEVC_PRESET = "superfast"
#: the sound when it is not AAC already, by channel count (AAC-LC at these rates is transparent
#: for phone recordings)
AAC_BITRATE = {1: 96_000, 2: 160_000}
AAC_MULTICHANNEL_BITRATE = 320_000
#: sample rates the AAC encoder takes; others are resampled to 48 kHz
AAC_RATES = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000}
#: drops x264's version-and-settings message (its only SEI with the settings used here)
H264_NO_SEI = "filter_units=remove_types=6"
#: frames bigger than 1080p are encoded looking fewer frames ahead: the encoders hold every
#: frame they look at, several times over (measured on a 4K clip: x264 550 MB at its preset's
#: 10 frames, 430 MB at 5; x265 1.5 GB at its preset's settings, 740 MB looking 2 frames ahead
#: with no B-frames and one frame thread, 550 MB looking none ahead). Looking none ahead, x265
#: spends its bits evenly: at the same quality number the 4K HLG clip came out 1.84 MB
#: instead of 1.07 MB (luma PSNR 47.1 dB against 45.1 dB at worst), at HEVC_LARGE_CRF 1.12 MB
#: and 45.5 dB: the same size and quality as before, for 190 MB less
LARGE_FRAME = 1920 * 1088
H264_LARGE = "rc-lookahead=5"
HEVC_LARGE = "rc-lookahead=0:bframes=0:frame-threads=1"
HEVC_LARGE_CRF = 23


def add_video_stream(output, source_stream, probe: Probe):
    """An encoding stream in ``output`` for ``source_stream``'s pictures; returns (stream, filter)
    where filter is the bitstream filter its packets go through (or None)."""
    source = source_stream.codec_context
    large = probe.width * probe.height > LARGE_FRAME
    if probe.hdr:
        params = f"info=0:log-level=error:pools={share()}" + (f":{HEVC_LARGE}" if large else "")
        stream = output.add_stream("libx265", options={
            "crf": str(HEVC_LARGE_CRF if large else HEVC_CRF), "preset": HEVC_PRESET, "flags": "+bitexact",
            "x265-params": params})
        stream.pix_fmt = "yuv420p10le"
        stream.codec_context.codec_tag = "hvc1"  # what Apple's players need for HEVC in MP4
        bitstream_filter = None
    else:
        stream = output.add_stream("libx264", options={
            "crf": str(H264_CRF), "preset": H264_PRESET, "tune": H264_TUNE, "flags": "+bitexact",
            **({"x264-params": H264_LARGE} if large else {})})
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = share()
        bitstream_filter = H264_NO_SEI
    context = stream.codec_context
    context.width, context.height = probe.width, probe.height
    context.time_base = source_stream.time_base
    stream.time_base = source_stream.time_base
    if source_stream.average_rate:
        context.framerate = source_stream.average_rate
    if source.sample_aspect_ratio:
        context.sample_aspect_ratio = source.sample_aspect_ratio
    for tag in ("color_primaries", "color_trc", "colorspace"):
        setattr(context, tag, getattr(source, tag))
    context.color_range = 1  # limited ("TV") range: swscale converts full-range sources
    if probe.rotation:
        stream.set_display_rotation(probe.rotation)
    return stream, bitstream_filter


def add_audio_stream(output, source_stream):
    """An AAC encoding stream in ``output`` for ``source_stream``'s sound."""
    source = source_stream.codec_context
    rate = source.sample_rate if source.sample_rate in AAC_RATES else 48_000
    stream = output.add_stream("aac", rate=rate, options={"flags": "+bitexact"})
    context = stream.codec_context
    context.layout = source.layout
    channels = source.layout.nb_channels
    context.bit_rate = AAC_BITRATE.get(channels, AAC_MULTICHANNEL_BITRATE)
    return stream
