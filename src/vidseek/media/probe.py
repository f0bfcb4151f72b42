"""What a media file holds: streams, duration, frame rate, rotation, and whether it decodes."""

from __future__ import annotations

import statistics
from fractions import Fraction
from pathlib import Path

import av
from pydantic import BaseModel, Field

from vidseek.errors import MediaError
from vidseek.media._open import StreamClock, ffmpeg_reason, open_input, timeline_origin

__all__ = ["AudioStreamInfo", "MediaInfo", "VideoStreamInfo", "probe"]

# How many packet timestamps to read when the container has no index (MPEG-TS, some MKV).
_VFR_PACKET_SAMPLE = 1500
# Frame durations that differ by more than this ratio mean a variable frame rate.
_VFR_RATIO = 1.1


class VideoStreamInfo(BaseModel):
    """The video stream vidseek reads (the container's default video stream)."""

    index: int = Field(description="Stream index in the container.")
    codec: str = Field(description="Decoder name, e.g. 'h264'.")
    width: int = Field(description="Stored width in pixels, before rotation.")
    height: int = Field(description="Stored height in pixels, before rotation.")
    display_width: int = Field(description="Width as shown: rotation and pixel aspect applied.")
    display_height: int = Field(description="Height as shown: rotation and pixel aspect applied.")
    rotation: int = Field(
        description="Degrees clockwise to rotate stored frames for display (0, 90, 180, 270)."
    )
    fps: float = Field(description="Average frame rate (frames / duration).")
    variable_frame_rate: bool = Field(description="Frame durations vary by more than 10%.")
    frame_count: int | None = Field(description="Frames in the stream when the container says.")
    start: float = Field(description="Timeline time of the first frame, seconds.")
    duration: float = Field(description="Length of the stream, seconds.")
    pix_fmt: str | None = None
    keyframe_interval: float | None = Field(
        default=None, description="Median seconds between keyframes, when the file indexes them."
    )


class AudioStreamInfo(BaseModel):
    index: int
    codec: str
    sample_rate: int
    channels: int
    start: float = Field(description="Timeline time of the first sample, seconds.")
    duration: float | None = None
    language: str | None = None


class MediaInfo(BaseModel):
    """Everything :func:`probe` learns about a file. All times are timeline seconds."""

    path: str
    size_bytes: int
    container: str = Field(description="FFmpeg demuxer name.")
    duration: float = Field(description="Timeline length in seconds.")
    start_time: float = Field(
        description="Offset in the file of timeline 0, seconds (non-zero when streams start late)."
    )
    video: VideoStreamInfo
    audio: list[AudioStreamInfo] = []

    @property
    def has_audio(self) -> bool:
        return bool(self.audio)


def probe(path: str | Path, *, verify: bool = True) -> MediaInfo:
    """Describe a video file.

    Args:
        path: the file.
        verify: also decode the first frame and the last second, so that damaged and truncated
            files fail here rather than halfway through indexing (costs a few milliseconds).

    Returns:
        The file's :class:`MediaInfo`.

    Raises:
        MediaError: the file is missing, empty, not media, has no video stream, holds no frames,
            cannot be decoded, or is truncated.
    """
    path = Path(path)
    with open_input(path) as container:
        try:
            info = _describe(path, container)
            if verify:
                _verify_decodes(path, container, info)
        except av.FFmpegError as exc:
            raise MediaError(path, f"cannot be read ({exc})") from exc
    return info


def _describe(path: Path, container: av.container.InputContainer) -> MediaInfo:
    if not container.streams.video:
        if container.streams.audio:
            raise MediaError(path, "has no video stream (audio only)")
        raise MediaError(path, "has no video stream (no audio or video either: damaged, "
                               "truncated or not a video)")
    origin = timeline_origin(container)
    stream = container.streams.video[0]
    if stream.codec_context is None or stream.codec_context.name is None:
        raise MediaError(path, f"no decoder for the video codec of stream {stream.index}")
    clock = StreamClock(stream, origin)
    start = clock.seconds(stream.start_time) if stream.start_time is not None else 0.0
    duration = _duration(container, stream, origin)
    if duration <= 0:
        raise MediaError(path, "contains no video frames (zero length)")

    deltas, keyframes = _frame_timing(container, stream)
    fps = _average_fps(stream, deltas, duration)
    rotation = _rotation(stream, _first_frame(path, container, stream))
    width, height = stream.codec_context.width, stream.codec_context.height
    if not width or not height:
        raise MediaError(path, "the video stream has no picture size (damaged header)")
    shown_w, shown_h = _display_size(width, height, stream.sample_aspect_ratio, rotation)
    video = VideoStreamInfo(
        index=stream.index,
        codec=stream.codec_context.name,
        width=width,
        height=height,
        display_width=shown_w,
        display_height=shown_h,
        rotation=rotation,
        fps=fps,
        variable_frame_rate=_is_variable(deltas),
        frame_count=stream.frames or None,
        start=start,
        duration=duration - start,
        pix_fmt=stream.codec_context.pix_fmt,
        keyframe_interval=_keyframe_interval(keyframes, stream),
    )
    audio = [_audio_info(s, origin) for s in container.streams.audio]
    return MediaInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        container=container.format.name,
        duration=duration,
        start_time=float(origin),
        video=video,
        audio=audio,
    )


def _duration(container, stream, origin: Fraction) -> float:
    """Timeline length: the video stream's end if known, else the container's."""
    if stream.duration and stream.start_time is not None:
        end = (stream.start_time + stream.duration) * Fraction(stream.time_base)
        return float(end - origin)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _frame_timing(container, stream) -> tuple[list[int], list[int]]:
    """Sorted frame-duration samples and keyframe timestamps, without decoding.

    MP4/MOV index every frame; MKV indexes keyframes only; MPEG-TS indexes nothing, so there we
    read the first packets instead (demuxing only, no decoding).
    """
    entries = stream.index_entries
    stamps = [e.timestamp for e in entries]
    keyframes = [e.timestamp for e in entries if e.is_keyframe]
    if len(stamps) < 3 or len(keyframes) == len(stamps):
        stamps = []
        for packet in container.demux(stream):
            if packet.pts is not None:
                stamps.append(packet.pts)
            if len(stamps) >= _VFR_PACKET_SAMPLE:
                break
        container.seek(0, backward=True)
    stamps.sort()
    deltas = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
    return deltas, keyframes


def _average_fps(stream, deltas: list[int], duration: float) -> float:
    if stream.frames and duration > 0:
        return round(stream.frames / duration, 3)
    if stream.average_rate:
        return round(float(stream.average_rate), 3)
    if deltas:
        return round(1 / float(statistics.median(deltas) * Fraction(stream.time_base)), 3)
    return 0.0


def _is_variable(deltas: list[int]) -> bool:
    if len(deltas) < 2:
        return False
    low, high = min(deltas), max(deltas)
    # Allow one tick of rounding (29.97 fps in a 1/1000 time base gives 33 and 34 ms).
    return high - low > 1 and high > low * _VFR_RATIO


def _keyframe_interval(keyframes: list[int], stream) -> float | None:
    if len(keyframes) < 2:
        return None
    gaps = [b - a for a, b in zip(keyframes, keyframes[1:])]
    return round(float(statistics.median(gaps) * Fraction(stream.time_base)), 3)


def _rotation(stream, first_frame) -> int:
    """Clockwise display rotation, as the legacy 'rotate' tag and phones report it."""
    tag = stream.metadata.get("rotate")
    if tag is not None:
        try:
            return int(float(tag)) % 360
        except ValueError:
            pass
    # PyAV exposes the display matrix on decoded frames, counter-clockwise.
    counter_clockwise = float(getattr(first_frame, "rotation", 0) or 0)
    return round(-counter_clockwise / 90.0) * 90 % 360


def _display_size(width: int, height: int, sar, rotation: int) -> tuple[int, int]:
    shown_w = width
    if sar and sar.numerator and sar.denominator and sar != 1:
        shown_w = int(round(width * float(sar)))
    if rotation in (90, 270):
        return height, shown_w
    return shown_w, height


def _audio_info(stream, origin: Fraction) -> AudioStreamInfo:
    clock = StreamClock(stream, origin)
    tb = Fraction(stream.time_base) if stream.time_base else None
    return AudioStreamInfo(
        index=stream.index,
        codec=stream.codec_context.name if stream.codec_context else "unknown",
        sample_rate=stream.codec_context.sample_rate if stream.codec_context else 0,
        channels=stream.codec_context.channels if stream.codec_context else 0,
        start=clock.seconds(stream.start_time) if stream.start_time is not None else 0.0,
        duration=float(stream.duration * tb) if stream.duration and tb else None,
        language=stream.metadata.get("language"),
    )


def _verify_decodes(path: Path, container, info: MediaInfo) -> None:
    """Check that the end of the file is there (the first frame was decoded already)."""
    stream = container.streams.video[0]
    entries = stream.index_entries
    if len(entries) > 1 and entries[-1].pos >= 0:
        # MP4/MOV index every frame with its byte position: no decoding needed.
        needed = max(e.pos + e.size for e in entries[-64:])
        if needed > info.size_bytes:
            raise MediaError(
                path,
                f"truncated: the index needs {needed} bytes but the file has {info.size_bytes}",
            )
        return
    clock = StreamClock(stream, timeline_origin(container))
    end = info.duration
    slack = max(1.0, 3 / max(info.video.fps, 1e-3))
    last = None
    back = slack
    # Without an index a seek may land after the last keyframe, where nothing decodes:
    # step back (doubling) until frames come out.
    while last is None:
        position = max(0.0, end - back)
        last = _last_frame_time(container, stream, clock, position, end - slack)
        if position == 0.0:
            break
        back *= 2
    container.seek(0, backward=True)
    if last is None or last < end - 2 * slack:
        seen = "no frame" if last is None else f"the last frame at {last:.2f} s"
        raise MediaError(
            path, f"truncated or damaged: {seen} decodes, but the file claims {end:.2f} s"
        )


def _last_frame_time(container, stream, clock: StreamClock, start: float, enough: float):
    """Time of the last frame decoded from ``start`` on (stops once past ``enough``)."""
    container.seek(clock.pts(start), stream=stream, backward=True)
    stream.codec_context.flush_buffers()
    last = None
    try:
        for frame in container.decode(stream):
            if frame.pts is not None:
                last = clock.seconds(frame.pts)
            if last is not None and last >= enough:
                break
    except av.FFmpegError:
        pass
    return last


def _first_frame(path: Path, container, stream):
    """Decode the first frame: a file whose first frame does not decode is unusable."""
    try:
        for frame in container.decode(stream):
            container.seek(0, backward=True)
            return frame
    except av.FFmpegError as exc:
        raise MediaError(path, f"no video frame can be decoded ({ffmpeg_reason(exc)}: "
                               "damaged or unsupported data)") from exc
    raise MediaError(path, "no video frame can be decoded (damaged or unsupported data)")
