"""Shot boundaries (hard cuts and gradual transitions) from a low-resolution frame stream.

The detector takes frames one at a time, as any sampling pass produces them (indexing feeds
it the same small frames it reads anyway), and keeps only a few numbers per frame plus a
short window of colour histograms, so memory does not grow with picture size or video length.

Two signals, both cheap on 64x36 pictures:

- step change between consecutive frames: half the L1 distance of 64-bin colour histograms,
  averaged with the mean absolute difference of a 16x9 grey thumbnail. A hard cut is a step
  that is large in absolute terms and several times larger than the steps around it, so
  camera motion and flicker, which raise every step, do not fire.
- slow change: the histogram distance between frames ``window`` seconds before and after a
  time. Dissolves and fades spread their change over many small steps; this distance is
  high across them while it stays low inside a shot. A high region with no cut in it is a
  gradual transition, and its boundary is the centre of the region.
"""

from __future__ import annotations

import bisect
import functools
import multiprocessing
import os
from array import array
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from vidseek.media.probe import MediaInfo

__all__ = [
    "DETECTION_SIZE",
    "Shot",
    "ShotBoundary",
    "ShotDetector",
    "boundaries_in",
    "detect_shots",
    "join_boundaries",
    "refine_cuts",
    "shots_between",
]

# detect_shots splits a video across processes only into parts at least this long (seconds).
_MIN_PART = 60.0

DETECTION_SIZE = (64, 36)
"""Picture size the detector is tuned for (any size works; larger only costs time)."""


class Shot(NamedTuple):
    """A shot as (start, end) timeline seconds."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class ShotBoundary:
    """Where one shot ends and the next begins."""

    time: float
    """Start of the new shot: the first frame after a cut, or the middle of a transition."""
    kind: Literal["cut", "gradual"]
    start: float
    """First time of the transition; for a cut, the last frame seen before it (the cut lies
    in (start, time])."""
    end: float
    """Last time of the transition (equals ``time`` for a cut)."""
    score: float
    """Strength in [0, 1]."""


class ShotDetector:
    """Incremental shot-boundary detector. Feed frames in time order with :meth:`add`, then
    read :meth:`boundaries` or :meth:`shots`.

    Args:
        cut_threshold: smallest step change that can be a cut.
        cut_ratio: how many times larger than the surrounding steps a cut must be.
        gradual_threshold: histogram distance across ``window`` that marks a transition.
        window: seconds on each side for the slow-change signal.
        steady_ratio: how much more the picture must change across a transition than on
            either side of it.
        min_shot: shortest shot kept (seconds); closer boundaries keep the stronger one.
    """

    def __init__(
        self,
        *,
        cut_threshold: float = 0.18,
        cut_ratio: float = 3.0,
        gradual_threshold: float = 0.35,
        window: float = 0.75,
        steady_ratio: float = 2.5,
        min_shot: float = 0.4,
    ) -> None:
        self.settings = {
            "cut_threshold": cut_threshold, "cut_ratio": cut_ratio,
            "gradual_threshold": gradual_threshold, "window": window,
            "steady_ratio": steady_ratio, "min_shot": min_shot,
        }
        """The arguments this detector was made with."""
        self.cut_threshold = cut_threshold
        self.cut_ratio = cut_ratio
        self.gradual_threshold = gradual_threshold
        self.window = window
        self.steady_ratio = steady_ratio
        self.min_shot = min_shot
        # One entry per frame, as packed doubles (48 bytes a frame) rather than Python
        # objects: the shot pass over a 10-hour video peaked 55 MB lower (benchmarks.md).
        self._times = array("d")  # of the frames
        self._change = array("d")  # step change from the previous frame, in [0, 1]
        self._colour = array("d")  # its colour-histogram part
        self._centres = array("d")  # of the slow-change signal (see _add_slow)...
        self._across = array("d")  # ...its distance in any case...
        self._slow = array("d")  # ...and where both sides are steady (else 0)
        self._recent_times: list[float] = []  # the last 4 windows of frames
        self._recent_hists: list[np.ndarray] = []
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        self._last_time = -np.inf

    def add(self, time: float, image: np.ndarray) -> None:
        """Add one H x W x 3 uint8 RGB frame shown at ``time`` (seconds, increasing)."""
        if time <= self._last_time:
            return
        self._last_time = time
        hist, grey = _features(image)
        if self._last is not None:
            colour = _distance(hist, self._last[0])
            diff = np.abs(grey - self._last[1])
            # the float32 mean, as ndarray.mean gives it, without its Python wrapper
            layout = float(np.float32(float(np.add.reduce(diff, axis=None)) / diff.size)) / 255.0
            self._step(time, 0.5 * colour + 0.5 * min(1.0, 3.0 * layout), colour)
        else:
            self._step(time, 0.0, 0.0)
        self._last = (hist, grey)
        self._add_slow(time, hist)

    def _step(self, time: float, change: float, colour: float) -> None:
        self._times.append(time)
        self._change.append(change)
        self._colour.append(colour)

    def _add_slow(self, time: float, hist: np.ndarray) -> None:
        """Record the slow-change signal centred ``2 * window`` before ``time``.

        With W = window and c the centre, it compares the pictures at c - W and c + W, and
        keeps it only when each side is itself stable (c - 2W vs c - W, c + W vs c + 2W):
        a transition joins two steady shots, while camera motion changes everything evenly.
        """
        w = self.window
        times, hists = self._recent_times, self._recent_hists
        times.append(time)
        hists.append(hist)
        old = bisect.bisect_right(times, time - 4 * w) - 1
        if old > 0:
            del times[:old], hists[:old]
        if time - times[0] < 3.5 * w:
            return

        def at(when: float) -> np.ndarray:
            i = bisect.bisect_left(times, when)
            if i == len(times) or (i > 0 and when - times[i - 1] < times[i] - when):
                i -= 1
            return hists[i]

        outer_left, left, right = at(time - 4 * w), at(time - 3 * w), at(time - w)
        across = _distance(left, right)
        self._centres.append(time - 2 * w)
        self._across.append(across)
        if across >= self.gradual_threshold and across >= self.steady_ratio * max(
            _distance(outer_left, left), _distance(right, hist)
        ):
            self._slow.append(across)
        else:
            self._slow.append(0.0)

    def boundaries(self) -> list[ShotBoundary]:
        """Boundaries found so far, in time order."""
        cuts = self._cuts()
        found = cuts + self._graduals(cuts)
        found.sort(key=lambda b: b.time)
        return _thin(found, self.min_shot)

    def shots(self, duration: float) -> list[Shot]:
        """Shots covering [0, duration]."""
        return shots_between(self.boundaries(), duration)

    def _cuts(self) -> list[ShotBoundary]:
        times = np.array(self._times, np.float64)
        change = np.array(self._change, np.float64)
        cuts = []
        for i in np.flatnonzero(change >= self.cut_threshold):
            near = (np.abs(times - times[i]) <= 1.0) & (np.abs(np.arange(len(times)) - i) > 1)
            context = float(np.median(change[near])) if near.any() else 0.0
            if (
                change[i] >= self.cut_ratio * context
                and not self._is_flash(i)
                and not self._inside_gradual(i)
            ):
                t, before = float(times[i]), float(times[i - 1])
                cuts.append(ShotBoundary(t, "cut", before, t, min(1.0, float(change[i]))))
        return cuts

    def _inside_gradual(self, i: int) -> bool:
        """A big step that is only part of a larger change (a fast fade) is not a cut. A cut
        makes the colour change across the window in one step, between steady neighbours."""
        centres, change = self._centres, self._change
        if not centres:
            return False
        t = self._times[i]
        k = bisect.bisect_left(centres, t)
        j = min(range(max(0, k - 1), min(k + 1, len(centres))), key=lambda j: abs(centres[j] - t))
        across = self._across[j]
        if abs(centres[j] - t) > self.window / 2 or across < self.gradual_threshold:
            return False
        neighbours = max(change[i - 1], change[i + 1] if i + 1 < len(change) else 0)
        return self._colour[i] < 0.35 * across or neighbours >= 0.5 * change[i]

    def _is_flash(self, i: int) -> bool:
        """A one-frame change that comes straight back (camera flash, glitch) is not a cut."""
        times, change = self._times, self._change
        return (
            i + 1 < len(times)
            and times[i + 1] - times[i] < 0.15
            and change[i + 1] >= 0.8 * change[i]
        )

    def _graduals(self, cuts: list[ShotBoundary]) -> list[ShotBoundary]:
        found = []
        run: list[tuple[float, float]] = []
        for centre, distance in chain(zip(self._centres, self._slow), [(np.inf, 0.0)]):
            if distance >= self.gradual_threshold:
                run.append((centre, distance))
                continue
            if run:
                found.extend(self._gradual_from_run(run, cuts))
                run = []
        return found

    def _gradual_from_run(self, run, cuts: list[ShotBoundary]) -> list[ShotBoundary]:
        start, end = run[0][0], run[-1][0]
        # A cut makes the slow signal high for one window on each side of it.
        if any(start - self.window <= c.time <= end + self.window for c in cuts):
            return []
        peak = max(d for _, d in run)
        core = [t for t, d in run if d >= 0.8 * peak]
        middle = (core[0] + core[-1]) / 2
        return [ShotBoundary(middle, "gradual", start, end, min(1.0, peak))]

def _thin(found: list[ShotBoundary], min_shot: float) -> list[ShotBoundary]:
    """Of boundaries closer than ``min_shot`` seconds, keep the stronger."""
    kept: list[ShotBoundary] = []
    for b in found:
        if kept and b.time - kept[-1].time < min_shot:
            if b.score > kept[-1].score:
                kept[-1] = b
            continue
        kept.append(b)
    return kept


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Half the L1 distance of two normalised histograms: 0 same, 1 disjoint."""
    return 0.5 * float(np.add.reduce(np.abs(a - b)))


def _features(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """64-bin colour histogram (2 bits per channel) and a 16x9 grey thumbnail."""
    # Few numpy calls: on frames fresh from the decoder each costs more than its arithmetic.
    h, w = image.shape[:2]
    codes = (image >> 6) @ _CODE_WEIGHTS  # rrggbb: the top 2 bits of each channel
    hist = np.bincount(codes.ravel(), minlength=64).astype(np.float32)
    hist /= max(1, h * w)
    # The block means of R + G + B as rows @ picture @ columns, with 0/1 matrices: up to
    # 1920x1080 the sums are whole numbers below 2**24, which float32 adds exactly in any
    # order (the values of a mean over blocks).
    rows, columns, area = _blocks(h, w)
    grey = rows @ image.reshape(h, w * 3).astype(np.float32) @ columns / area / 3
    return hist, grey


_CODE_WEIGHTS = np.array([16, 4, 1], np.uint8)


@functools.lru_cache(maxsize=8)
def _blocks(h: int, w: int) -> tuple[np.ndarray, np.ndarray, int]:
    """For an h x w x 3 picture: the 0/1 matrices that sum its rows, and its columns and
    channels, over a 16 x 9 grid of equal blocks (remainder rows and columns left out), and
    the area of a block."""
    bh, bw = max(1, h // 9), max(1, w // 16)
    rows = np.zeros((h // bh, h), np.float32)
    columns = np.zeros((w, 3, w // bw), np.float32)
    for i in range(h // bh):
        rows[i, i * bh : (i + 1) * bh] = 1
    for j in range(w // bw):
        columns[j * bw : (j + 1) * bw, :, j] = 1
    return rows, columns.reshape(w * 3, w // bw), bh * bw


def refine_cuts(reader, boundaries: list[ShotBoundary]) -> list[ShotBoundary]:
    """Move each cut to the exact first frame of its new shot.

    A cut found on a sparse stream (reference frames only) lies somewhere in (start, time].
    This decodes the frames in that gap exactly (one sorted pass of
    :meth:`VideoReader.at`) and puts the cut at the first frame that looks like the new shot.
    """
    fps = max(reader.info.video.fps, 1.0)
    plans = []  # (boundary, times to look at: the frame before, the gap, the frame after)
    for b in boundaries:
        gap = int((b.time - b.start) * fps + 0.5) - 1
        if b.kind == "cut" and gap >= 1:
            inside = [b.start + k / fps for k in range(1, gap + 1)]
            plans.append((b, [b.start, *inside, b.time]))
    if not plans:
        return boundaries
    wanted = sorted({t for _, times in plans for t in times})
    seen = {f.requested: f for f in reader.at(wanted, size=DETECTION_SIZE)}
    moved = {}
    for b, times in plans:
        before, after = _features(seen[times[0]].image)[0], _features(seen[times[-1]].image)[0]
        for t in times[1:-1]:
            frame = seen[t]
            hist = _features(frame.image)[0]
            if _distance(hist, after) < _distance(hist, before):
                moved[b.time] = ShotBoundary(frame.time, "cut", b.start, frame.time, b.score)
                break
    return [moved.get(b.time, b) for b in boundaries]


def detect_shots(
    source: str | Path | Iterable,
    *,
    duration: float | None = None,
    detector: ShotDetector | None = None,
    progress: Callable[[float], None] | None = None,
    workers: int | None = None,
) -> list[Shot]:
    """Shots of a video as (start, end) seconds.

    Args:
        source: a video path (decoded at 64x36, reference frames only, then each cut moved
            to its exact frame with :func:`refine_cuts`), or any iterable of
            :class:`vidseek.media.Frame` from an existing sampling pass (cuts then sit at
            the first sampled frame of each new shot).
        duration: length of the video; read from the file for a path.
        detector: a :class:`ShotDetector` whose settings to use (defaults otherwise).
        progress: called with how many timeline seconds are done.
        workers: processes for a path: a long video is cut into that many parts, each read
            with a few seconds of overlap so that boundaries near the seams come out the
            same as in one pass. Default: one per core, each part at least a minute long.
    """
    settings = (detector or ShotDetector()).settings
    if not isinstance(source, (str, Path)):
        detector = ShotDetector(**settings)
        last = 0.0
        for frame in source:
            detector.add(frame.time, frame.image)
            last = frame.time
        return detector.shots(last if duration is None else duration)

    from vidseek.media.probe import probe

    length = probe(source).duration
    parts = _parts(length, workers)
    if len(parts) == 1:
        found = boundaries_in(source, 0.0, length, settings, progress)
    else:
        found = []
        context = multiprocessing.get_context("spawn")  # fork would copy open decoders
        with ProcessPoolExecutor(len(parts), mp_context=context) as pool:
            jobs = [pool.submit(boundaries_in, source, a, b, settings) for a, b in parts]
            done = 0.0
            for job, (a, b) in zip(jobs, parts):
                found.extend(job.result())
                done += b - a
                if progress is not None:
                    progress(done)
    return join_boundaries(found, length if duration is None else duration, settings)


def _parts(length: float, workers: int | None) -> list[tuple[float, float]]:
    workers = workers or os.cpu_count() or 1
    count = max(1, min(workers, int(length // _MIN_PART)))
    edges = [length * k / count for k in range(count + 1)]
    return list(zip(edges, edges[1:]))


def boundaries_in(
    path: str | Path,
    start: float,
    end: float,
    settings: dict | None = None,
    progress: Callable[[float], None] | None = None,
    info: MediaInfo | None = None,
) -> list[ShotBoundary]:
    """Boundaries whose time lies in [start, end), reading some context on either side, so
    that the boundaries of consecutive ranges together equal those of one pass (join them
    with :func:`join_boundaries`).

    Args:
        path: the video.
        start: first time, seconds.
        end: end (exclusive), seconds.
        settings: a :class:`ShotDetector`'s settings (default: the defaults).
        progress: called with how many seconds past ``start`` are done.
        info: the video's `probe` result, when the caller has it (saves opening the file
            once more: a long MP4's tables cost ~80 MB per open file).
    """
    from vidseek.media.frames import VideoReader

    detector = ShotDetector(**(settings or ShotDetector().settings))
    margin = _context_seconds(detector)
    with VideoReader(path, info=info, analysis=True) as reader:
        frames = reader.frames(
            start=max(0.0, start - margin), end=end + margin, size=DETECTION_SIZE,
            reference_only=True,
        )
        for frame in frames:
            detector.add(frame.time, frame.image)
            if progress is not None:
                progress(max(0.0, frame.time - start))
        found = refine_cuts(reader, detector.boundaries())
    return [b for b in found if start <= b.time < end]


def _context_seconds(detector: ShotDetector) -> float:
    """How far around a time the detector looks: the slow signal spans four windows, the cut
    test one second each side."""
    return 4 * detector.window + 1.0 + detector.min_shot


def join_boundaries(found: Iterable[ShotBoundary], duration: float,
                    settings: dict | None = None) -> list[Shot]:
    """The shots of a video from the boundaries found in its ranges (:func:`boundaries_in`),
    in any order: sorted, thinned as one pass thins them, and cut at ``duration``."""
    min_shot = (settings or ShotDetector().settings)["min_shot"]
    return shots_between(_thin(sorted(found, key=lambda b: b.time), min_shot), duration)


def shots_between(boundaries: list[ShotBoundary], duration: float) -> list[Shot]:
    """Shots covering [0, duration] given the boundaries between them."""
    edges = sorted(b.time for b in boundaries if 0 < b.time < duration)
    starts = [0.0, *edges]
    ends = [*edges, duration]
    return [Shot(s, e) for s, e in zip(starts, ends) if e > s]
