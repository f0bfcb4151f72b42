"""On-screen text: what is written on the frames, as ``text`` observations with times.

OCR costs 0.15 to 0.6 s a 640 x 360 frame on 2 cores, so every sampled frame first gets a
cheap look (under a millisecond) and OCR runs only when something that could be text
changed since the last frame it read:

1. *Strokes.* Text is made of thin strokes. A morphological top-hat and black-hat (9 px at
   640 px wide) mark bright and dark structures narrower than 9 px. Flat areas, smooth
   gradients, wide shapes and wide bars (such as the timecode barcode of synthetic videos)
   are not strokes.
2. *Change with slack.* Grey thumbnails 160 px wide of this frame and of the last frame
   read are compared pixel by pixel against the range of a 5 x 5 neighbourhood in the other
   frame, so a slow pan or zoom is not a change but text appearing or leaving is.
3. *Cells.* The frame is split into 16 x 9 cells. A cell has changed when a fifth of its
   pixels changed near strokes (in either frame). Any changed cell means OCR, and so does a
   new picture (a third of all pixels changed: a cut, where text on a box as dark as the old
   background changes few pixels near its strokes).
4. *Lines read.* Text replaced by other text of the same size at the same place (a slide
   title on an unchanged template, a caption line, a counter) puts strokes where strokes
   were, so steps 2-3 do not see it. So each line read last is compared with what is now
   inside its box, at 640 px wide: the box's grey picture then is found in the picture now
   within 8 px of its place (as far as step 2 lets a pixel move), and there each part half
   a line-height wide (about a character) is correlated with its old self. The worst part
   under `_SAME_LINE` means the line changed: OCR. Measured on decks and caption tracks
   made like benchmarks/text_change.py's with other seeds, and on 3 min of mixed synthetic
   footage: a line still shown scored 0.99-1.0 on slides and pictures with pans and zooms,
   0.73-0.87 over a panning photo behind outlined captions; a line replaced by another
   0.24 or less, one that left 0.01 or less. One character replaced by a similar one
   scores in between: "1"->"2" 0.39, "10"->"11" 0.23, "2"->"3" 0.61, "12:31"->"12:32"
   0.65 are read, "Page 3"->"Page 8" (0.88) is not. The bar sits high (0.7) because a change
   wrongly assumed costs one OCR and a missed one loses text.

Between two OCR'd frames the lines read last are taken to be still there. Lines are tracked
from one OCR to the next: a line matches an open one when their normalised texts (case,
spaces and Unicode forms folded) are at least `similarity` alike (``difflib`` ratio), their
boxes overlap, and either the texts are equal or the picture inside the box did not change
(two readings of one picture are a misreading; a different reading of a changed picture is
new text, such as "Step 2" replacing "Step 1"). A line OCR misses while its box looks the
same as when it was read stays open (a misread frame, not a disappearance); "looks the
same" is the test of step 4.

Times: ``start`` is the time of the first sampled frame showing the line and ``end`` the
time of the first sampled frame without it (at the end of the video, the last frame showing
it plus one interval, clipped to the duration). Both are therefore late by less than one
`interval`: the true start lies in (start - interval, start], the true end in
(data["last_seen"], end]. With 1 s sampling a text shown for 3 s or more overlaps its
observation with an IoU above 0.5.

Lines that are unlikely to be text are dropped: a confidence below `min_confidence`, fewer
than two letters or digits, a box taller than a third of the frame, a box far wider than
the characters read could fill, or a box with hardly any thin strokes in it (what OCR makes
of barcodes and textures). Lines up to 30 % of the frame height were read in tests, but
bold lettering with strokes much wider than 9 px (at 640 px wide) may be missed.

Frames of extreme shape stay cheap: one taller than 1:3 (a banner, a 2 x 2000 video) gets
its stroke map 1920 px tall rather than 640 px wide, and one narrower or lower than 8 px is
not looked at (no line fits).

A line is reported only when its best reading's mean confidence reaches `min_quality`
(0.9): readings from `min_confidence` (0.6) up still track it, so a line misread once and
read well later is kept with its good reading, but one never read well (a watermark over
moving video read as "nstocl", "astock", "marstsck", a logo read as "U2222", a fragment
"in") is not. Chosen on half of the real clips' lines judged by eye
(benchmarks/ocr_quality.py): on the other half it dropped 7 of 9 junk lines and 1 of 6 real
ones (itself a misreading, "Keep laundiy").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from vidseek.analyzers.sameness import (
    box_iou,
    changed_with_slack,
    normalise,
    same_line,
    similarity,
)
from vidseek.media import Frame
from vidseek.models import resolve
from vidseek.models.protocols import DEFAULT_SPECS, TextLine, TextReader
from vidseek.types import Observation

__all__ = ["ScreenTextAnalyzer"]

_THUMB_WIDTH = 160  # pixels of the grey thumbnails compared for change
_STROKE_WIDTH = 640  # pixels wide the stroke map is computed at
_STROKE_KERNEL = 9  # structures narrower than this (at _STROKE_WIDTH) are strokes
_STROKE_LEVEL = 40  # grey levels a stroke stands out from its surroundings
_SLACK = 5  # neighbourhood (thumbnail pixels) a pixel may move and still be "the same"
_CHANGE_LEVEL = 40  # grey levels outside that neighbourhood's range that count as change
_GRID = (9, 16)  # cells (rows, columns) for the change decision
_CELL_CHANGED = 0.2  # fraction of a cell's pixels that must change for the cell to change
_NEW_PICTURE = 0.3  # fraction of all pixels changed that makes a new picture: read it
_SAME_LINE = 0.7  # a line's box correlates this well with itself while it is shown
_SHIFT = 8  # pixels (at _STROKE_WIDTH) a line may move between two samples and be the same
_FLAT = 4.0  # grey-level standard deviation under which a patch has nothing to compare
_MIN_BOX_IOU = 0.3  # boxes of the same line in two frames overlap at least this much
_MAX_LINE_HEIGHT = 1 / 3  # a box taller than this (fraction of the frame) is not a line
_MAX_CHAR_ASPECT = 2.0  # box width / height per character read; more means misread junk
_MIN_STROKE_SHARE = 0.08  # text boxes measured 0.17-0.97 stroke pixels, barcode junk < 0.05
# Frames of extreme shape (a 2 x 2000 video): the stroke map is _STROKE_WIDTH wide only while
# that keeps it at most _MAX_WORK_HEIGHT tall (portrait 9:16 and phone screens, up to 1:3,
# are unaffected; scaling a 2 x 640 frame to 640 wide made a 640 x 204,800 map: 2.5 s a
# frame and 1.3 GB), and a frame narrower or lower than _MIN_SIDE holds no line of text
# (lines down to 9 px are read) and is not looked at.
_MAX_WORK_HEIGHT = 3 * _STROKE_WIDTH
_MIN_SIDE = 8

_STROKE_SE = cv2.getStructuringElement(cv2.MORPH_RECT, (_STROKE_KERNEL, _STROKE_KERNEL))
_SLACK_SE = np.ones((_SLACK, _SLACK), np.uint8)
_NEAR_SE = np.ones((3, 3), np.uint8)


class ScreenTextAnalyzer:
    """A `FrameAnalyzer` that reads burned-in and scene text, OCR'ing only changed frames.

    Each observation has ``kind="text"``, the line as read, its times (see the module
    docstring for their precision), ``source`` naming the reader, and ``data``::

        {"box": [x0, y0, x1, y1],  # fractions of the frame, origin top left
         "confidence": float,      # mean recogniser score of the chosen reading, 0..1
         "last_seen": float}       # time of the last sampled frame showing it

    Args:
        reader: a `TextReader`, or an OCR spec for `vidseek.models.resolve("ocr", ...)`
            (default ``rapidocr``, embedded models; they load on the first OCR).
        interval: seconds between the frames it wants.
        size: longest side in pixels of the frames it wants. At 640 (640 x 360 for 16:9)
            lines down to 9 px (2.5 % of the height) are read, in about 0.2 s per OCR on
            2 cores; at 480 such lines are lost (0.16 s), at 960 and 1280 the same lines
            cost 0.39 s and 0.61 s.
        min_confidence: readings the recogniser is less sure of are dropped.
        min_quality: lines whose best reading has a lower mean confidence are not reported.
        similarity: how alike (0..1) two readings must be to be the same line.

    Attributes:
        ocr_calls: frames OCR'd since `start`.
        frames: frames seen since `start`.

    Raises:
        OCRModelError: `reader` is a spec that cannot be used.
    """

    name = "text"
    version = "2"

    def __init__(self, reader: TextReader | str = DEFAULT_SPECS["ocr"], *, interval: float = 1.0,
                 size: int = 640, min_confidence: float = 0.6, min_quality: float = 0.9,
                 similarity: float = 0.8) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if size < 32:
            raise ValueError(f"size must be at least 32 pixels, got {size}")
        self.reader: TextReader = resolve("ocr", reader) if isinstance(reader, str) else reader
        self.interval = float(interval)
        self.size = int(size)
        self.min_confidence = min_confidence
        self.min_quality = min_quality
        self.similarity = similarity
        self.ocr_calls = 0
        self.frames = 0
        self._video_id: str | None = None
        self._duration = math.inf
        self._reference: _Look | None = None
        self._open: list[_Track] = []

    def start(self, video_id: str, duration: float) -> None:
        """Forget any previous video and begin this one.

        Args:
            video_id: the video's id.
            duration: seconds of video; observation ends are clipped to it (a duration that
                is not positive clips nothing).
        """
        self._video_id = video_id
        self._duration = duration if duration > 0 else math.inf
        self._reference = None
        self._open = []
        self.ocr_calls = self.frames = 0

    def add(self, frame: Frame) -> list[Observation]:
        """Take the next sampled frame, in time order.

        Args:
            frame: the frame, ideally `size` on its longest side.

        Returns:
            Observations of lines that were on screen and are gone in this frame.

        Raises:
            RuntimeError: `start` was not called first.
        """
        if self._video_id is None:
            raise RuntimeError("call start(video_id, duration) before add()")
        self.frames += 1
        if min(frame.image.shape[:2]) < _MIN_SIDE:
            return []  # too narrow or too low for a line of text: nothing changes
        look = _look(frame.image)
        if (self._reference is not None and not _text_may_differ(look, self._reference)
                and all(_box_unchanged(look, t.look, t.box) for t in self._open)):
            for track in self._open:
                track.last = frame.time
            return []
        self._reference = look
        return self._update(self._read(frame.image, look), frame.time, look)

    def finish(self) -> list[Observation]:
        """The video ended: observations of the lines still on screen.

        Returns:
            One observation per open line, ending one interval after it was last seen
            (clipped to the duration).
        """
        if self._video_id is None:
            return []
        done = [self._observation(t, min(t.last + self.interval, self._duration))
                for t in self._open]
        self._open = []
        self._reference = None
        return sorted((obs for obs in done if obs is not None), key=lambda obs: obs.start)

    # -- reading and tracking ------------------------------------------------------------

    def same(self, a: Observation, b: Observation) -> bool:
        """Whether two observations are readings of one line, by the rule that tracks lines
        from frame to frame (indexing joins a line cut by a chunk border with it)."""
        return same_line(a.text, a.data.get("box"), b.text, b.data.get("box"),
                         min_similarity=self.similarity, min_iou=_MIN_BOX_IOU)

    def _read(self, image: np.ndarray, look: _Look) -> list[TextLine]:
        """OCR a frame, keeping the lines that are likely text."""
        self.ocr_calls += 1
        aspect = image.shape[1] / image.shape[0]
        return [line for line in self.reader.read(image)
                if _plausible(line, aspect, self.min_confidence)
                and _stroke_share(look, line.box) >= _MIN_STROKE_SHARE]

    def _update(self, lines: list[TextLine], time: float, look: _Look) -> list[Observation]:
        """Match the lines just read to the open ones; close those that are gone."""
        pairs = self._match(lines, look)
        kept: list[_Track] = []
        closed: list[Observation] = []
        for i, track in enumerate(self._open):
            if i in pairs:
                track.see(lines[pairs[i]], time, look)
                kept.append(track)
            elif _box_unchanged(look, track.look, track.box):
                track.last = time  # OCR missed it, but the picture there has not changed
                kept.append(track)
            elif (observation := self._observation(track, time)) is not None:
                closed.append(observation)
        matched = set(pairs.values())
        kept += [_Track.first_read(line, time, look)
                 for j, line in enumerate(lines) if j not in matched]
        self._open = kept
        return sorted(closed, key=lambda obs: obs.start)

    def _match(self, lines: list[TextLine], look: _Look) -> dict[int, int]:
        """Open track index -> line index, best matches first, each used once."""
        candidates = []
        for i, track in enumerate(self._open):
            unchanged: bool | None = None
            for j, line in enumerate(lines):
                key = normalise(line.text)
                alike = similarity(track.key, key)
                overlap = box_iou(track.box, line.box)
                if alike < self.similarity or overlap < _MIN_BOX_IOU:
                    continue
                if key != track.key:  # a misreading, or new text in the same place?
                    if unchanged is None:
                        unchanged = _box_unchanged(look, track.look, track.box)
                    if not unchanged:
                        continue
                candidates.append((alike, overlap, i, j))
        pairs: dict[int, int] = {}
        used: set[int] = set()
        for _, _, i, j in sorted(candidates, reverse=True):
            if i not in pairs and j not in used:
                pairs[i] = j
                used.add(j)
        return pairs

    def _observation(self, track: _Track, end: float) -> Observation | None:
        """The track as an observation ending at `end`; None below the quality bar."""
        text, confidence, box = track.best()
        if confidence < self.min_quality:
            return None
        return Observation(
            video_id=self._video_id or "", start=track.first, end=max(end, track.first),
            kind="text", text=text, source=self.reader.name,
            data={"box": list(box), "confidence": round(confidence, 4),
                  "last_seen": track.last})


@dataclass
class _Track:
    """A line on screen, from its first reading to its last."""

    first: float
    last: float
    look: _Look
    """The frame it was last read in."""
    box: tuple[float, float, float, float]
    readings: dict[str, _Reading] = field(default_factory=dict)

    @classmethod
    def first_read(cls, line: TextLine, time: float, look: _Look) -> _Track:
        """A new track for a line read for the first time."""
        track = cls(time, time, look, line.box)
        track.see(line, time, look)
        return track

    def see(self, line: TextLine, time: float, look: _Look) -> None:
        """Record another reading of this line."""
        self.last, self.look, self.box = time, look, line.box
        reading = self.readings.setdefault(line.text, _Reading())
        reading.count += 1
        reading.confidence_sum += line.confidence
        reading.box = line.box

    @property
    def key(self) -> str:
        """The best reading, normalised for matching."""
        return normalise(self.best()[0])

    def best(self) -> tuple[str, float, tuple[float, float, float, float]]:
        """The reading with the most total confidence: text, mean confidence, box."""
        text, reading = max(self.readings.items(), key=lambda kv: kv[1].confidence_sum)
        return text, reading.confidence_sum / reading.count, reading.box


@dataclass
class _Reading:
    count: int = 0
    confidence_sum: float = 0.0
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def _plausible(line: TextLine, aspect: float, min_confidence: float) -> bool:
    """Whether a line read by OCR is likely text, not junk (see the module docstring).

    Args:
        line: the line.
        aspect: frame width / height, to compare box sides in pixels.
        min_confidence: lowest recogniser score kept.
    """
    x0, y0, x1, y1 = line.box
    height, width = y1 - y0, (x1 - x0) * aspect
    if line.confidence < min_confidence or not 0 < height <= _MAX_LINE_HEIGHT:
        return False
    if sum(ch.isalnum() for ch in line.text) < 2:
        return False
    return width / height <= _MAX_CHAR_ASPECT * len(line.text)


# -- the cheap look ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Look:
    """What the change test keeps of a frame (a few kilobytes)."""

    work: np.ndarray
    """Grey picture, `_STROKE_WIDTH` wide (narrower for frames taller than 1:3)."""
    grey: np.ndarray
    """Grey thumbnail, a quarter of `work` (`_THUMB_WIDTH` wide for most frames)."""
    stroke_share: np.ndarray
    """Same shape, float: the share of stroke pixels under each thumbnail pixel."""
    strokes: np.ndarray
    """Same shape, boolean: strokes at or next to the pixel."""


def _look(image: np.ndarray) -> _Look:
    """Grey thumbnail and stroke map of an RGB frame.

    Args:
        image: ``H x W x 3`` uint8 RGB.

    Returns:
        The look.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    # a fixed working width, so that "thin" means the same at any frame size, unless the
    # frame is so tall for its width that the map would be huge (see _MAX_WORK_HEIGHT)
    work = (_STROKE_WIDTH, max(1, round(height * _STROKE_WIDTH / width)))
    if work[1] > _MAX_WORK_HEIGHT:
        work = (max(1, round(width * _MAX_WORK_HEIGHT / height)), _MAX_WORK_HEIGHT)
    if (width, height) != work:
        shrink = width > work[0]
        grey = cv2.resize(grey, work, interpolation=cv2.INTER_AREA if shrink else
                          cv2.INTER_LINEAR)
    strokes = np.maximum(cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, _STROKE_SE),
                         cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, _STROKE_SE))
    thumb = tuple(max(1, round(side * _THUMB_WIDTH / _STROKE_WIDTH)) for side in work)
    small = cv2.resize(grey, thumb, interpolation=cv2.INTER_AREA)
    stroke_share = cv2.resize((strokes > _STROKE_LEVEL).astype(np.float32), thumb,
                              interpolation=cv2.INTER_AREA)
    near = cv2.dilate((stroke_share > 0.05).astype(np.uint8), _NEAR_SE) > 0
    return _Look(grey, small, stroke_share, near)


def _changed_pixels(a: _Look, b: _Look) -> np.ndarray:
    """Pixels of either thumbnail outside the range of their neighbourhood in the other."""
    return changed_with_slack(a.grey, b.grey, _SLACK_SE, _CHANGE_LEVEL)


def _text_may_differ(a: _Look, b: _Look) -> bool:
    """Whether text may have appeared or gone between two looks: a cell changed near strokes,
    or the picture as a whole changed (a new shot: text on a background as dark as its box
    changes few pixels near its strokes, but the background around it changes)."""
    if a.grey.shape != b.grey.shape:
        return True
    return bool(_changed_cells(a, b).any()) or _changed_pixels(a, b).mean() > _NEW_PICTURE


def _changed_cells(a: _Look, b: _Look) -> np.ndarray:
    """Boolean grid (`_GRID`) of cells where text may have appeared or gone."""
    if a.grey.shape != b.grey.shape:
        return np.ones(_GRID, bool)  # a different picture size: nothing can be assumed
    near_text = _changed_pixels(a, b) & (a.strokes | b.strokes)
    share = cv2.resize(near_text.astype(np.float32), (_GRID[1], _GRID[0]),
                       interpolation=cv2.INTER_AREA)
    return share > _CELL_CHANGED


def _box_unchanged(now: _Look, then: _Look, box: tuple[float, float, float, float]) -> bool:
    """Whether the picture inside `box` (fractions of the frame) is the same `now` as `then`
    (step 4 of the module docstring)."""
    return _box_correlation(now, then, box) >= _SAME_LINE


def _box_correlation(now: _Look, then: _Look, box: tuple[float, float, float, float]) -> float:
    """How alike the picture inside `box` `then` is to the picture `now` up to `_SHIFT`
    pixels away: the best normalised correlation (whatever the brightness) of the whole box,
    and at that place the worst of its parts one line-height wide (so that one character
    changed shows). 1 for a box without contrast then (nothing to compare)."""
    if now.work.shape != then.work.shape:
        return 0.0
    rows, cols = _pixels(box, then.work.shape)
    template = then.work[rows, cols].astype(np.float32)
    if template.size < 4 or float(template.std()) < _FLAT:
        return 1.0
    height, width = now.work.shape
    top, left = max(0, rows.start - _SHIFT), max(0, cols.start - _SHIFT)
    around = now.work[top:min(height, rows.stop + _SHIFT),
                      left:min(width, cols.stop + _SHIFT)].astype(np.float32)
    if around.shape[0] < template.shape[0] or around.shape[1] < template.shape[1]:
        return 0.0
    scores = np.nan_to_num(cv2.matchTemplate(around, template, cv2.TM_CCOEFF_NORMED), nan=0.0)
    _, best, _, (x, y) = cv2.minMaxLoc(scores)
    there = around[y:y + template.shape[0], x:x + template.shape[1]]
    step = max(4, template.shape[0] // 2)
    worst = float(best)
    for start in range(0, template.shape[1], step):
        a = template[:, start:start + step]
        b = there[:, start:start + step]
        if a.shape[1] < step // 2:  # a sliver at the end: part of the last window
            break
        flat_a, flat_b = float(a.std()) < _FLAT, float(b.std()) < _FLAT
        if flat_a or flat_b:
            if flat_a != flat_b:
                return 0.0  # strokes appeared where there were none, or left
            continue
        a = a - a.mean()
        b = b - b.mean()
        worst = min(worst, float((a * b).sum()) / math.sqrt(float((a * a).sum() * (b * b).sum())))
    return worst


def _stroke_share(look: _Look, box: tuple[float, float, float, float]) -> float:
    """The share of stroke pixels inside `box` (fractions of the frame)."""
    region = look.stroke_share[_pixels(box, look.stroke_share.shape)]
    return float(region.mean()) if region.size else 0.0


def _pixels(box: tuple[float, float, float, float],
            shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Row and column slices of an array of `shape` covering `box`, at least one pixel."""
    h, w = shape[:2]
    x0, y0 = min(int(box[0] * w), w - 1), min(int(box[1] * h), h - 1)
    x1, y1 = max(x0 + 1, math.ceil(box[2] * w)), max(y0 + 1, math.ceil(box[3] * h))
    return slice(y0, y1), slice(x0, x1)
