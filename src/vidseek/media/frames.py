"""Frames at exact times, without decoding more than the request needs.

A :class:`VideoReader` answers "which frame is on screen at time t" for sorted times. For each
request it picks the cheaper of two ways to get there (decode on from where it is, or seek
to the keyframe before the target), and while it decodes towards a far target it lets the
decoder drop non-reference frames, which nothing else depends on. Each :class:`Frame` carries
the exact presentation time of the picture it holds.

Seeking is checked, because a keyframe is not always a clean place to start decoding:

- *Stream-wide decoder state.* FFmpeg's H.264 decoder learns which x264 build wrote a stream
  from an SEI message in its first frame and works around that build's known bugs; a decoder
  that seeks before reading it decodes the mid-stream keyframes of affected streams (old
  x264, 4:4:4: ``imageio_cockatoo.mp4``) into green garbage. So before its first seek the
  reader decodes the stream's first frame, as a player that starts at the beginning does.
- *Restart points that are not clean.* A keyframe may depend on something that came before
  it (parameter sets sent once in-band, a spliced stream, an open GOP a decoder cannot
  restart at). When a picture decoded after a seek reports damage (a packet that fails to
  decode, or a frame FFmpeg flags corrupt), the keyframe the seek landed on is remembered as
  unclean and decoding restarts from an earlier keyframe (at worst the stream start), so the
  frames equal those of a decode from the start. ``DecodeStats.restarts`` counts this.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from vidseek.errors import MediaError
from vidseek.media._open import StreamClock, open_input, timeline_origin
from vidseek.media.probe import MediaInfo, probe

__all__ = [
    "DecodeStats", "Frame", "Size", "VideoReader", "fit", "sample_frames", "uniform_times",
]

Size = int | tuple[int, int] | None
"""Output size: ``None`` keeps the display size, an int caps the longer side, (w, h) is exact."""

# Seeking costs about this many frames of decoding (flush, then refill the reorder and
# thread pipelines); decoding on is cheaper below it.
_SEEK_COST_FRAMES = 12
# Without a keyframe index, seek only when the target is this far ahead (seconds).
_UNINDEXED_SEEK_DISTANCE = 5.0
# Outputs no larger than this (longest side, pixels) are point-sampled from YUV planes.
_TINY_SIDE = 128
_PLANAR_420 = ("yuv420p", "yuvj420p")
# BT.601 YUV -> RGB (what swscale assumes when a stream does not say), as rgb = yuv @ M + b.
_YUV_LIMITED = np.array(
    [[1.164, 1.164, 1.164], [0.0, -0.392, 2.017], [1.596, -0.813, 0.0]], np.float32
)
_YUV_LIMITED_BIAS = -np.array([16, 128, 128], np.float32) @ _YUV_LIMITED
_YUV_FULL = np.array([[1.0, 1.0, 1.0], [0.0, -0.344, 1.772], [1.402, -0.714, 0.0]], np.float32)
_YUV_FULL_BIAS = -np.array([0, 128, 128], np.float32) @ _YUV_FULL
# Give up on a stream after this many undecodable packets in a row.
_MAX_BAD_PACKETS = 64


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded picture and the time it is shown."""

    time: float
    """Presentation time of this picture, timeline seconds."""
    image: np.ndarray = field(repr=False)
    """H x W x 3 uint8 RGB, upright (rotation and pixel aspect applied)."""
    requested: float | None = None
    """The time that was asked for, when sampling at given times."""
    keyframe: bool = False


@dataclass(slots=True)
class DecodeStats:
    """What reading cost so far: pictures the decoder produced, and seeks."""

    frames_decoded: int = 0
    seeks: int = 0
    fallbacks: int = 0
    """Times a skipped non-reference frame turned out to be needed and was decoded again."""
    restarts: int = 0
    """Times a seek landed on a keyframe that decoded damaged pictures, so decoding started
    again from an earlier one."""


class _Decoder:
    """Decodes one video stream forward from a position, optionally dropping non-reference
    frames for packets before ``skip_below`` (pts). Remembers the highest pts it allowed the
    decoder to drop, so that callers can tell when a dropped frame was the one they wanted,
    and whether anything decoded since the last seek was damaged."""

    def __init__(self, path: Path, container, stream, stats: DecodeStats) -> None:
        self.path = path
        self.container = container
        self.stream = stream
        self.stats = stats
        self.skip_below: int | None = None
        self.skip_all_nonref = False
        self.skipped_max: int | None = None
        self.produced = False
        self.landed: int | None = None
        """pts of the first frame after the last seek (None before any seek)."""
        self.damaged_at: int | None = None
        """pts of the first packet that failed to decode, or of the first frame that came out
        corrupt or after a failed packet, since the last seek (None: nothing damaged)."""
        self.judged = False
        """Whether the damage since the last seek was already looked into."""
        self._failed = False
        self._primed = False
        self._frames = self._decode()

    def plain(self) -> None:
        """Decode every frame from now on (undo any skipping a pass asked for)."""
        self.skip_below = None
        self.skip_all_nonref = False

    def seek(self, pts: int) -> None:
        if not self._primed:
            self._primed = True
            if not self.produced:
                self.next()  # learn the stream-wide state of its first frame (module docstring)
        self.container.seek(pts, stream=self.stream, backward=True)
        self.stream.codec_context.flush_buffers()
        self.stats.seeks += 1
        self.skipped_max = None
        self.produced = False
        self.landed = self.damaged_at = None
        self.judged = self._failed = False
        self._frames = self._decode()

    def next(self) -> av.VideoFrame | None:
        return next(self._frames, None)

    def _decode(self) -> Iterator[av.VideoFrame]:
        codec = self.stream.codec_context
        mode = None
        bad = 0
        for packet in self.container.demux(self.stream):
            wanted = self._skip_mode(packet)
            if wanted != mode:
                codec.skip_frame = mode = wanted
            try:
                frames = codec.decode(packet)
                bad = 0
            except av.FFmpegError as exc:
                bad += 1
                self._failed = True
                if self.damaged_at is None and packet.pts is not None and self._primed:
                    self.damaged_at = packet.pts
                if bad > _MAX_BAD_PACKETS:
                    raise MediaError(self.path, f"video data cannot be decoded ({exc})") from exc
                continue
            for frame in frames:
                if frame.pts is not None:
                    self.stats.frames_decoded += 1
                    if self.landed is None and self._primed:
                        self.landed = frame.pts
                    self.produced = True
                    if self.damaged_at is None and (self._failed or frame.is_corrupt):
                        self.damaged_at = frame.pts
                    yield frame

    def _skip_mode(self, packet) -> str:
        if self.skip_all_nonref:
            return "NONREF"
        if (
            self.skip_below is not None
            and packet.pts is not None
            and packet.pts < self.skip_below
            and not packet.is_keyframe
        ):
            if self.skipped_max is None or packet.pts > self.skipped_max:
                self.skipped_max = packet.pts
            return "NONREF"
        return "DEFAULT"


class VideoReader:
    """Reads frames of one video at exact times. Use as a context manager.

    Args:
        path: the video file.
        info: its probe result, if the caller already has it (saves a probe).
        threads: decoder (slice) threads, ``0`` to let FFmpeg choose.
        analysis: skip the decoder's deblocking filter, for pictures only measured at small
            sizes (shot detection): edges a little blockier, about a quarter less decoding
            for H.264 (docs/benchmarks.md).

    Raises:
        MediaError: the file cannot be used (see :func:`vidseek.media.probe`).
    """

    def __init__(self, path: str | Path, *, info: MediaInfo | None = None, threads: int = 0,
                 analysis: bool = False):
        self.path = Path(path)
        self.info = info or probe(self.path)
        self.stats = DecodeStats()
        self._container = open_input(self.path)
        self._stream = self._container.streams.video[0]
        # Slice threads (FFmpeg's default), not frame threads: frame threading must refill
        # its pipeline after every seek, and measured no faster here (docs/decisions.md).
        self._stream.codec_context.thread_count = threads
        if analysis:  # options apply when the decoder opens, at the first packet
            self._stream.codec_context.options = {"skip_loop_filter": "all"}
        self._clock = StreamClock(self._stream, timeline_origin(self._container))
        self._first_pts = self._clock.pts(self.info.video.start)
        self._keyframes: list[int] | None = None
        self._unclean: set[int] = set()  # keyframes (pts) that decode damaged after a seek
        self._decoder = _Decoder(self.path, self._container, self._stream, self.stats)
        self._frame_ticks = max(1, self._clock_ticks(1 / max(self.info.video.fps, 1.0)))

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def duration(self) -> float:
        return self.info.duration

    # -- sampling ----------------------------------------------------------------------------

    def at(self, times: Iterable[float], *, size: Size = None) -> Iterator[Frame]:
        """The frame on screen at each time (the last frame shown at or before it).

        Args:
            times: non-decreasing timeline seconds within [0, duration]. A generator is fine:
                memory stays flat however many times there are.
            size: output size (see :data:`Size`).

        Yields:
            One :class:`Frame` per requested time, in order. Two requests inside one frame's
            display interval return that frame twice.
        """
        dec = self._begin()
        prev: av.VideoFrame | None = None
        ahead: av.VideoFrame | None = None
        last = -math.inf
        convert = _Converter(self.info, size)
        for t in times:
            t = float(t)
            self._check_time(t, last)
            last = t
            target = self._clock.pts(t)
            if ahead is None or ahead.pts <= target:
                here = ahead.pts if ahead is not None else (prev.pts if prev else None)
                if self._should_seek(here, target):
                    prev, ahead = None, self._seek_to(target)
            # The frame on screen at the target starts less than a frame before it (at a
            # constant rate); anything earlier may be dropped if nothing refers to it.
            dec.skip_below = target - (3 * self._frame_ticks) // 2
            prev, ahead = self._advance(prev, ahead, target)
            if prev is not None and dec.skipped_max is not None and dec.skipped_max > prev.pts:
                # The wanted frame may have been dropped as non-reference: decode it exactly.
                self.stats.fallbacks += 1
                dec.skip_below = None
                prev, ahead = self._advance(None, self._seek_to(target), target)
            prev, ahead = self._restart_if_damaged(prev, ahead, target)
            shown = prev if prev is not None else ahead
            if shown is None:
                raise MediaError(self.path, f"no frame decodes at {t:.3f} s")
            yield self._frame(shown, convert, requested=t)

    def near(
        self, times: Iterable[float], tolerance: float, *, size: Size = None
    ) -> Iterator[Frame]:
        """A frame within ``tolerance`` seconds of each time, as cheaply as possible.

        Where the keyframe index has a keyframe that close, that keyframe is read (one seek,
        one decoded picture); elsewhere the exact frame of :meth:`at` is. Each frame's
        ``time`` is exact and ``requested`` is the time it answers. Use it when "about every
        2 s" is what matters, not the instant: with keyframes every 2 s or less, sampling
        every 2 s within 1 s decodes one picture per sample.
        """
        if tolerance < 0:
            raise ValueError(f"tolerance must not be negative, got {tolerance}")
        keyframes = self._keyframe_index()
        slack = self._clock_ticks(tolerance)
        convert = _Converter(self.info, size)
        read: tuple[int, Frame | None] | None = None  # the last keyframe read, by index entry
        previous = -math.inf
        for t in times:
            t = float(t)
            self._check_time(t, previous)
            previous = t
            target = self._clock.pts(t)
            i = bisect.bisect_left(keyframes, target)
            nearest = min(keyframes[max(0, i - 1) : i + 1], key=lambda k: abs(k - target),
                          default=None)
            frame = None
            if nearest is not None and abs(nearest - target) <= slack:
                if read is None or read[0] != nearest:
                    read = nearest, self._keyframe_at(nearest, convert)
                frame = read[1]
            if frame is None or abs(frame.time - t) > tolerance + 1e-6:
                # Index timestamps can be a few frames off: check, and else be exact.
                frame = next(self.at([t], size=size))
            yield Frame(frame.time, frame.image, requested=t, keyframe=frame.keyframe)

    def every(
        self,
        interval: float,
        *,
        start: float = 0.0,
        end: float | None = None,
        size: Size = None,
        tolerance: float = 0.0,
    ) -> Iterator[Frame]:
        """Frames at ``start, start + interval, ...`` up to ``end`` (exclusive); with a
        ``tolerance``, the cheapest frames within it (see :meth:`near`)."""
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        end = self.duration if end is None else end
        count = max(0, math.ceil((end - start) / interval - 1e-9))
        return self._exact_or_near((start + k * interval for k in range(count)), size, tolerance)

    def uniform(
        self,
        count: int,
        *,
        start: float = 0.0,
        end: float | None = None,
        size: Size = None,
        tolerance: float = 0.0,
    ) -> Iterator[Frame]:
        """``count`` frames at the centres of ``count`` equal parts of [start, end]; with a
        ``tolerance``, the cheapest frames within it (see :meth:`near`)."""
        times = uniform_times(count, start, self.duration if end is None else end)
        return self._exact_or_near(times, size, tolerance)

    def _exact_or_near(self, times, size: Size, tolerance: float) -> Iterator[Frame]:
        return self.near(times, tolerance, size=size) if tolerance else self.at(times, size=size)

    def overview(
        self, count: int, *, start: float = 0.0, end: float | None = None, size: Size = None
    ) -> Iterator[Frame]:
        """Up to ``count`` distinct keyframes near uniformly spread times: the cheapest look at
        a long video (one seek and one decoded picture each). Each frame's ``time`` is exact;
        ``requested`` says which time it stands for."""
        end = self.duration if end is None else end
        convert = _Converter(self.info, size)
        seen: set[float] = set()
        for t in uniform_times(count, start, end):
            frame = self._keyframe_at(self._clock.pts(t), convert)
            if frame is None:  # an unclean keyframe: the exact frame instead
                frame = next(self.at([t], size=size))
            if frame.time not in seen:
                seen.add(frame.time)
                yield Frame(frame.time, frame.image, requested=t, keyframe=frame.keyframe)

    def frames(
        self,
        *,
        start: float = 0.0,
        end: float | None = None,
        size: Size = None,
        reference_only: bool = False,
    ) -> Iterator[Frame]:
        """Every frame shown in [start, end), in order.

        Args:
            reference_only: let the decoder drop non-reference frames (a third to two
                thirds of typical H.264): a cheaper, irregular sampling of the stream.
        """
        end = self.duration if end is None else end
        convert = _Converter(self.info, size)
        dec = self._begin()
        if start > 0:  # the first frame at or after start, decoded from a clean keyframe
            before = self._clock.pts(start) - 1
            _, frame = self._restart_if_damaged(*self._advance(None, self._seek_to(before),
                                                               before), before)
        else:
            frame = dec.next()
        dec.skip_all_nonref = reference_only
        while frame is not None:
            t = self._clock.seconds(frame.pts)
            if t >= end:
                break
            if t >= start - 1e-9:
                yield self._frame(frame, convert)
            frame = dec.next()

    # -- internals ---------------------------------------------------------------------------

    def _check_time(self, t: float, last: float) -> None:
        if not 0.0 <= t <= self.duration + 1e-6:
            raise ValueError(f"time {t:.3f} s is outside the video (0 to {self.duration:.3f} s)")
        if t < last:
            raise ValueError(f"times must not decrease ({t:.3f} s came after {last:.3f} s)")

    def _clock_ticks(self, seconds: float) -> int:
        return self._clock.pts(seconds) - self._clock.pts(0.0)

    def _advance(self, prev, ahead, target: int):
        """Decode until ``ahead`` is the first frame after ``target``; ``prev`` the one before."""
        dec = self._decoder
        while True:
            if ahead is None:
                ahead = dec.next()
                if ahead is None:
                    return prev, None
            if ahead.pts > target:
                return prev, ahead
            prev, ahead = ahead, None

    def _should_seek(self, here: int | None, target: int) -> bool:
        here = self._first_pts if here is None else here
        if target <= here:
            return False
        if self._keyframe_index():
            restart = self._clean_keyframe(target)
            return restart is not None and restart > here + _SEEK_COST_FRAMES * self._frame_ticks
        return target - here > self._clock_ticks(_UNINDEXED_SEEK_DISTANCE)

    def _clean_keyframe(self, target: int) -> int | None:
        """The last indexed keyframe at or before ``target`` not known to be unclean."""
        keyframes = self._keyframe_index()
        i = bisect.bisect_right(keyframes, target) - 1
        while i >= 0 and keyframes[i] in self._unclean:
            i -= 1
        return keyframes[i] if i >= 0 else None

    def _keyframe_index(self) -> list[int]:
        """Presentation times (pts) of the keyframes the container indexes.

        MP4 indexes decode times, which run a constant reorder delay ahead of presentation
        times for keyframes; the first keyframe is shown at the stream start, which gives the
        delay."""
        if self._keyframes is None:
            raw = [e.timestamp for e in self._stream.index_entries if e.is_keyframe]
            delay = max(0, self._first_pts - raw[0]) if raw else 0
            self._keyframes = [k + delay for k in raw]
        return self._keyframes

    def _seek_to(self, target: int) -> av.VideoFrame | None:
        """Seek so that decoding starts at or before ``target``; return the first frame.

        Some files' indexes land the seek a little after the target (keyframe timestamps are
        decode times, or the index is coarse); step back until the first frame is early enough.
        """
        dec = self._decoder
        back = self._clock_ticks(1.0)
        position = target
        if self._unclean:
            clean = self._clean_keyframe(target)
            position = self._first_pts if clean is None else min(target, clean)
        while True:
            dec.seek(position)
            first = dec.next()
            if (first is not None and first.pts in self._unclean and first.pts <= target
                    and position > self._first_pts):
                position = max(self._first_pts, min(position, first.pts) - back)
                back *= 2
                continue
            # Nothing decoding after a seek means it landed past the last keyframe.
            if position <= self._first_pts or (first is not None and first.pts <= target):
                return first
            position = max(self._first_pts, position - back)
            back *= 2

    def _restart_if_damaged(self, prev, ahead, target: int):
        """``prev, ahead`` around ``target`` again, decoded from earlier keyframes while the
        keyframe the last seek landed on turns out to be unclean (see the module docstring).

        Damage is blamed on the landing keyframe only when it shows before the keyframe
        blamed last (decoding from an earlier start then still failed at the same place:
        the file itself is damaged there, and nothing more is tried).
        """
        dec = self._decoder
        blamed = math.inf
        while (not dec.judged and dec.damaged_at is not None and dec.landed is not None
               and dec.landed > self._first_pts and dec.damaged_at < blamed):
            blamed = dec.landed
            self._unclean.add(blamed)
            self.stats.restarts += 1
            dec.skip_below = None
            prev, ahead = self._advance(None, self._seek_to(target), target)
        if dec.damaged_at is not None and dec.damaged_at >= blamed:
            self._unclean.discard(blamed)  # the damage is in the file, not in the restart
        dec.judged = dec.damaged_at is not None
        return prev, ahead

    def _keyframe_at(self, position: int, convert: _Converter) -> Frame | None:
        """The keyframe a seek to ``position`` lands on (the first frame out after a seek)."""
        dec = self._decoder
        dec.plain()
        dec.seek(position)
        frame = dec.next()
        if frame is not None and dec.damaged_at is not None and frame.pts > self._first_pts:
            self._unclean.add(frame.pts)  # callers decode the exact frame instead
            self.stats.restarts += 1
            return None
        return None if frame is None else self._frame(frame, convert)

    def _begin(self) -> _Decoder:
        """The decoder, decoding every frame, back at the start if an earlier pass moved it."""
        self._decoder.plain()
        if self._decoder.produced:
            self._decoder.seek(self._first_pts)
        return self._decoder

    def _frame(self, frame: av.VideoFrame, convert: _Converter, *, requested=None) -> Frame:
        return Frame(
            time=self._clock.seconds(frame.pts),
            image=convert(frame),
            requested=requested,
            keyframe=bool(frame.key_frame),
        )


class _Converter:
    """Turns decoded frames into upright RGB arrays of one output size, scaling straight from
    YUV before any rotation so that small outputs are cheap."""

    def __init__(self, info: MediaInfo, size: Size) -> None:
        video = info.video
        width, height = _fit((video.display_width, video.display_height), size)
        self.turns = -(video.rotation // 90)  # np.rot90 turns counter-clockwise
        upright = video.rotation not in (90, 270)
        self.width, self.height = (width, height) if upright else (height, width)
        # Analysis-sized pictures (shot detection) are point-sampled from the YUV planes:
        # ~0.08 ms for 720p -> 64x36 on frames fresh from the decoder (0.05 ms on warm
        # caches), where swscale takes ~1 ms (0.3 ms with its fast filter).
        self.tiny = max(width, height) <= _TINY_SIDE
        # (frame width, height, plane line sizes), the flat sample positions in each plane,
        # and the colour conversion's bias (limited range, full range) at the output size
        self._grid: tuple[tuple, tuple[np.ndarray, ...], tuple[np.ndarray, ...]] | None = None

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        pix_fmt = frame.format.name if self.tiny else None
        if pix_fmt in _PLANAR_420:
            image = self._sample_yuv420(frame, pix_fmt == "yuvj420p")
        else:
            image = frame.reformat(width=self.width, height=self.height, format="rgb24")
            image = image.to_ndarray()
        if self.turns % 4:
            image = np.ascontiguousarray(np.rot90(image, self.turns))
        return image

    def _sample_yuv420(self, frame: av.VideoFrame, full_range: bool) -> np.ndarray:
        planes = frame.planes
        key = (frame.width, frame.height, *(p.line_size for p in planes[:3]))
        if self._grid is None or self._grid[0] != key:
            rows = ((np.arange(self.height) + 0.5) * frame.height / self.height).astype(np.intp)
            cols = ((np.arange(self.width) + 0.5) * frame.width / self.width).astype(np.intp)
            index = tuple(  # one flat index per output pixel and plane
                (rows[:, None] // step) * line + cols[None, :] // step
                for step, line in zip((1, 2, 2), key[2:])
            )
            # The bias as a whole picture: adding arrays of one shape is several times
            # faster than broadcasting a 3-vector (the same sums).
            shape = (self.height, self.width, 3)
            bias = tuple(np.broadcast_to(b, shape).copy()
                         for b in (_YUV_LIMITED_BIAS, _YUV_FULL_BIAS))
            self._grid = key, index, bias
        index, bias = self._grid[1:]
        yuv = np.empty((self.height, self.width, 3), np.float32)
        for channel, (plane, where) in enumerate(zip(planes, index)):
            yuv[..., channel] = np.frombuffer(plane, np.uint8).take(where)
        rgb = yuv @ (_YUV_FULL if full_range else _YUV_LIMITED)
        rgb += bias[full_range]
        # minimum(maximum()) is np.clip without its Python wrapper: a few microseconds a frame
        return np.minimum(np.maximum(rgb, 0, out=rgb), 255, out=rgb).astype(np.uint8)


def _fit(display: tuple[int, int], size: Size) -> tuple[int, int]:
    width, height = display
    if size is None:
        return _even(width), _even(height)
    if isinstance(size, int):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        scale = min(1.0, size / max(width, height))
        return _even(width * scale), _even(height * scale)
    w, h = size
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {size}")
    return int(w), int(h)


def _even(x: float) -> int:
    # swscale and most encoders want even sizes for 4:2:0 pictures.
    return max(2, int(round(x / 2)) * 2)


def fit(frame: Frame, size: int) -> Frame:
    """The frame with its longer side at most ``size`` pixels (area-averaged), or itself."""
    height, width = frame.image.shape[:2]
    if max(height, width) <= size:
        return frame
    import cv2

    scale = size / max(height, width)
    image = cv2.resize(frame.image, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    return dataclasses.replace(frame, image=image)


def uniform_times(count: int, start: float, end: float) -> Iterator[float]:
    """`count` times at the middles of equal parts of [start, end]."""
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    if end <= start:
        raise ValueError(f"empty range: start {start} s is not before end {end} s")
    step = (end - start) / count
    return (start + (k + 0.5) * step for k in range(count))


def sample_frames(
    path: str | Path,
    *,
    times: Iterable[float] | None = None,
    fps: float | None = None,
    count: int | None = None,
    start: float = 0.0,
    end: float | None = None,
    size: Size = None,
    tolerance: float = 0.0,
) -> Iterator[Frame]:
    """Frames of ``path`` at given ``times``, at a rate (``fps``), or ``count`` spread evenly.

    Give exactly one of ``times``, ``fps`` and ``count``. With a ``tolerance`` (seconds),
    keyframes that close stand in for exact frames (see :meth:`VideoReader.near`). The file
    stays open while the iterator is consumed.
    """
    chosen = [name for name, v in (("times", times), ("fps", fps), ("count", count)) if v]
    if len(chosen) != 1:
        raise ValueError("give exactly one of times, fps and count")
    with VideoReader(path) as reader:
        if times is not None:
            yield from reader._exact_or_near(times, size, tolerance)
        elif fps is not None:
            yield from reader.every(1.0 / fps, start=start, end=end, size=size,
                                    tolerance=tolerance)
        else:
            yield from reader.uniform(count, start=start, end=end, size=size,
                                      tolerance=tolerance)
