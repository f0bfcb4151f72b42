"""Objects and scene tags: what the frames show, as ``visual`` and ``person`` observations.

Every `interval` seconds a frame goes through an object detector (COCO classes: person, cat,
cup, motorcycle...) and an image classifier (ImageNet classes: espresso, tiger cat, banjo,
missile...). The detector sees the whole frame; the classifier, as it was trained, the
centre square (so on a wide frame its tags describe the middle: a photo pasted at a side is
tagged by the detector alone). A frame that barely changed since the last one analysed (grey 64 x 36
thumbnails: no cell of a 4 x 4 grid with a fifth of its pixels 20 grey levels apart, and a
mean difference under 6 levels) is not analysed again: the last results stand for it.

Tags become observations by tracking them from sample to sample:

- A label opens when it scores at least the *open* threshold and stays open while it scores
  at least the lower *keep* threshold (hysteresis: a score wobbling around one threshold
  does not split a stretch). One sample without it is forgiven (a blurred frame); two in a
  row close it.
- Times: each sample stands for the time from halfway after the sample before it to halfway
  before the sample after it. So ``start`` is the midpoint between the last sample without
  the label and the first with it (0 when the first sample of the video has it), and
  ``end`` the midpoint between the last sample with it and the next one (the duration when
  the video ends while it is shown). For a label the models see on every sample both are
  within half the gap between two samples of the truth; ``data`` keeps the exact
  ``first_seen`` and ``last_seen`` sample times.

People are also counted: the detector's ``person`` boxes at or above the open threshold.
A count seen on one sample only, between two samples that agree, is taken for a miscount
(a median of three), and each stretch of one count above zero is a ``person``
observation with the same time rule.

Thresholds were chosen on synthetic videos pasting scikit-image photos (72 pastes: 8 photos
x 3 positions x 3 heights, over shapes, noise, gradients and flat colours) and on 33 real
clips. Detections of pasted people, cats, cups and motorcycles 60 % or 80 % of the frame high
scored 0.66-0.9 (median per paste; at 40 % down to 0.25), while detections over the abstract
backgrounds reached 0.38 (90th percentile) and at most 0.51. The top ImageNet label of a
pasted photo that the classifier names scored 0.38-0.95; over the backgrounds 0.31 (90th
percentile) to 0.69 (mostly "street sign", "book jacket"). Real clips wobble around any one
threshold (a banjo scored 0.2-0.58 from sample to sample), hence the hysteresis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from vidseek.media import Frame
from vidseek.models import resolve
from vidseek.models.protocols import ImageClassifier, ObjectDetector
from vidseek.types import Observation

__all__ = ["ObjectsAnalyzer"]

_THUMB = (64, 36)  # grey thumbnail (width, height) compared to skip unchanged frames
_GRID = 4  # cells per side of the grid the thumbnails are compared in
_CHANGE_LEVEL = 20  # grey levels apart that make a thumbnail pixel changed
_CELL_CHANGED = 0.2  # share of a cell's pixels changed that makes the frame changed
_MEAN_CHANGE = 6.0  # mean grey-level difference that makes the frame changed (fades)
_PATIENCE = 1  # samples without a label that are forgiven before it closes
_MAX_KEPT_BOXES = 256  # boxes kept per open label before thinning (memory stays flat)


@dataclass(frozen=True, slots=True)
class _Seen:
    """One label in one sample: its best score and, for detections, the best box."""

    score: float
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True, slots=True)
class _Sample:
    """What the models said about one frame."""

    tags: dict[tuple[str, str], _Seen]
    """By (model, label line), every label at or above its keep threshold."""
    persons: int


@dataclass
class _Track:
    """A label open across samples."""

    model: str
    label: str
    start: float
    first_seen: float
    last_seen: float
    score: float
    boxes: list[list[float]] = field(default_factory=list)
    misses: int = 0
    after: float | None = None
    """Time of the first sample without it since it was last seen."""

    def see(self, time: float, seen: _Seen) -> None:
        self.last_seen, self.misses, self.after = time, 0, None
        self.score = max(self.score, seen.score)
        if seen.box is not None:
            self.boxes.append([round(time, 3), *seen.box])
            if len(self.boxes) > _MAX_KEPT_BOXES:
                self.boxes = self.boxes[::2]


@dataclass
class _Stretch:
    """A stretch of one person count."""

    count: int
    start: float
    last: float


class ObjectsAnalyzer:
    """A `FrameAnalyzer` that tags objects and scenes and counts people.

    Observations (times: see the module docstring):

    - ``kind="visual"``, one per label and stretch of samples showing it. ``text`` is the
      label in words: a COCO name (``motorcycle``) or an ImageNet line with its synonyms
      (``tabby, tabby cat``). ``source`` is the model's name. ``data``::

          {"label": str,        # COCO name, or the first name of the ImageNet line
           "model": "yolox" | "imagenet",  # the detector's or the classifier's
           "score": float,      # the best score over the stretch
           "first_seen": float, "last_seen": float,  # exact sample times
           "boxes": [[time, x0, y0, x1, y1], ...]}   # detections only: up to `max_boxes`
                                                     # spread over the stretch, fractions
                                                     # of the frame, origin top left

    - ``kind="person"``, one per stretch of a constant number of people above zero:
      ``text`` "1 person" or "3 people", ``data`` ``{"count": n}``.

    Cost at the defaults (2.5 s, 416 px; measured on 2 cores shared with other work, one
    ONNX Runtime thread per model): 26-35 ms an analysed frame (YOLOX-Nano 14-15 ms,
    MobileNetV2 9-10 ms); per hour of video 31-32 s on 10 minutes of synthetic footage
    (eight frames in ten analysed), 37-38 s on a 96 s TV clip and 40-44 s over 33 short
    real clips (594 s in all; nine frames in ten analysed).

    Args:
        detector: an `ObjectDetector` or a spec (``yolox:/path/model.onnx``); None for none.
        classifier: an `ImageClassifier` or a spec (``imagenet:/path/model.onnx``); None for
            none. At least one of the two is needed.
        interval: seconds between the frames it wants.
        size: longest side in pixels of the frames it wants (416 is YOLOX-Nano's input).
        detection_threshold: a detection opens a label (and counts a person) from this score.
        detection_keep: an open label stays open down to this score.
        classification_threshold: an ImageNet label opens from this probability.
        classification_keep: an open ImageNet label stays open down to this probability.
        top_k: ImageNet labels considered per frame.
        max_boxes: boxes kept per observation.

    Attributes:
        frames: frames seen since `start`.
        analysed: frames the models ran on since `start` (the rest repeated the last one).

    Raises:
        ModelError: a spec cannot be used.
        ValueError: neither model was given, or a setting is out of range.
    """

    name = "objects"
    version = "1"

    def __init__(self, detector: ObjectDetector | str | None = None,
                 classifier: ImageClassifier | str | None = None, *,
                 interval: float = 2.5, size: int = 416,
                 detection_threshold: float = 0.4, detection_keep: float = 0.25,
                 classification_threshold: float = 0.4, classification_keep: float = 0.2,
                 top_k: int = 3, max_boxes: int = 5) -> None:
        if detector is None and classifier is None:
            raise ValueError("give a detector, a classifier or both (e.g. "
                             "'yolox:/path/yolox_nano.onnx'; `vidseek models` lists them)")
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if size < 32:
            raise ValueError(f"size must be at least 32 pixels, got {size}")
        for low, high, what in ((detection_keep, detection_threshold, "detection"),
                                (classification_keep, classification_threshold,
                                 "classification")):
            if not 0 < low <= high <= 1:
                raise ValueError(f"need 0 < {what}_keep <= {what}_threshold <= 1, got "
                                 f"{low} and {high}")
        self.detector = resolve("detector", detector) if isinstance(detector, str) else detector
        self.classifier = (resolve("classifier", classifier) if isinstance(classifier, str)
                           else classifier)
        self.interval = float(interval)
        self.size = int(size)
        self.detection_threshold = detection_threshold
        self.detection_keep = detection_keep
        self.classification_threshold = classification_threshold
        self.classification_keep = classification_keep
        self.top_k = top_k
        self.max_boxes = max_boxes
        # "yolox" for YOLOX; another detector is named by its spec's kind
        self._detector_model = (self.detector.name.split(":")[0] if self.detector is not None
                                else "")
        self.frames = self.analysed = 0
        self._video_id: str | None = None
        self._duration = math.inf
        self._reset()

    def _reset(self) -> None:
        self._reference: np.ndarray | None = None
        self._last: _Sample | None = None
        self._previous_time: float | None = None
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._counts: list[tuple[float, int]] = []  # the raw counts still to smooth
        self._stretch: _Stretch | None = None
        self._count_before: float | None = None  # time of the last smoothed sample

    def start(self, video_id: str, duration: float) -> None:
        """Forget any previous video and begin this one.

        Args:
            video_id: the video's id.
            duration: seconds of video; observations end at most here (a duration that is
                not positive clips nothing).
        """
        self._video_id = video_id
        self._duration = duration if duration > 0 else math.inf
        self.frames = self.analysed = 0
        self._reset()

    def add(self, frame: Frame) -> list[Observation]:
        """Take the next sampled frame, in time order.

        Args:
            frame: the frame, ideally `size` on its longest side.

        Returns:
            Observations of labels and person counts that ended before this frame.

        Raises:
            RuntimeError: `start` was not called first.
        """
        if self._video_id is None:
            raise RuntimeError("call start(video_id, duration) before add()")
        self.frames += 1
        thumb = _thumbnail(frame.image)
        if self._last is None or self._reference is None or _changed(thumb, self._reference):
            self._reference = thumb
            self._last = self._analyse(frame.image)
            self.analysed += 1
        time = frame.time
        done = self._track_labels(time, self._last)
        done += self._count_people(time, self._last.persons)
        self._previous_time = time
        return sorted(done, key=lambda obs: (obs.start, obs.kind, obs.text))

    def finish(self) -> list[Observation]:
        """The video ended: observations of what is still open.

        Returns:
            The open labels and person count, ending at the duration (or halfway to the
            sample that first missed them).
        """
        if self._video_id is None:
            return []
        last = self._previous_time
        end = self._duration if math.isfinite(self._duration) else (
            (last or 0.0) + self.interval / 2)
        done = [self._visual(track, end if track.after is None
                             else (track.last_seen + track.after) / 2)
                for track in self._tracks.values()]
        if self._counts:
            done += self._smoothed(*self._counts[-1])  # the last count has no next one
        if self._stretch is not None:
            done.append(self._person(self._stretch, end))
        self._reset()
        return sorted(done, key=lambda obs: (obs.start, obs.kind, obs.text))

    # -- models ------------------------------------------------------------------------------

    def _analyse(self, image: np.ndarray) -> _Sample:
        tags: dict[tuple[str, str], _Seen] = {}
        persons = 0
        if self.detector is not None:
            for det in self.detector.detect(image):
                if det.label == "person" and det.score >= self.detection_threshold:
                    persons += 1
                key = (self._detector_model, det.label)
                if det.score >= self.detection_keep and (
                        key not in tags or det.score > tags[key].score):
                    tags[key] = _Seen(det.score, det.box)
        if self.classifier is not None:
            for label, prob in self.classifier.classify(image, self.top_k):
                if prob >= self.classification_keep:
                    tags.setdefault(("imagenet", label), _Seen(prob))
        return _Sample(tags, persons)

    def _opens(self, model: str, score: float) -> bool:
        threshold = (self.classification_threshold if model == "imagenet"
                     else self.detection_threshold)
        return score >= threshold

    # -- labels --------------------------------------------------------------------------------

    def _track_labels(self, time: float, sample: _Sample) -> list[Observation]:
        closed: list[Observation] = []
        for key, track in list(self._tracks.items()):
            seen = sample.tags.get(key)
            if seen is not None:
                track.see(time, seen)
                continue
            track.misses += 1
            if track.after is None:
                track.after = time
            if track.misses > _PATIENCE:
                closed.append(self._visual(track, (track.last_seen + track.after) / 2))
                del self._tracks[key]
        start = 0.0 if self._previous_time is None else (self._previous_time + time) / 2
        for key, seen in sample.tags.items():
            if key not in self._tracks and self._opens(key[0], seen.score):
                track = _Track(key[0], key[1], start, time, time, seen.score)
                track.see(time, seen)
                self._tracks[key] = track
        return closed

    def _visual(self, track: _Track, end: float) -> Observation:
        data: dict = {"label": track.label.split(",")[0].strip(), "model": track.model,
                      "score": round(track.score, 4), "first_seen": track.first_seen,
                      "last_seen": track.last_seen}
        if track.boxes:
            data["boxes"] = _spread(track.boxes, self.max_boxes)
        model = self.classifier if track.model == "imagenet" else self.detector
        source = model.name if model is not None else track.model
        return Observation(video_id=self._video_id or "", start=track.start,
                           end=_clip(end, track.start, self._duration), kind="visual",
                           text=track.label, data=data, source=source)

    # -- people --------------------------------------------------------------------------------

    def _count_people(self, time: float, count: int) -> list[Observation]:
        """Smooth the raw counts (median of three, one sample late) and track stretches."""
        self._counts.append((time, count))
        if len(self._counts) == 1:
            return []
        if len(self._counts) == 2:  # the first sample has no sample before it
            return self._smoothed(*self._counts[0])
        (_, before), (middle_time, middle), (_, after) = self._counts[-3:]
        self._counts = self._counts[-2:]
        return self._smoothed(middle_time, sorted((before, middle, after))[1])

    def _smoothed(self, time: float, count: int) -> list[Observation]:
        """Take the smoothed count of the sample at `time`."""
        done: list[Observation] = []
        boundary = 0.0 if self._count_before is None else (self._count_before + time) / 2
        if self._stretch is not None and self._stretch.count != count:
            done.append(self._person(self._stretch, boundary))
            self._stretch = None
        if self._stretch is None and count > 0:
            self._stretch = _Stretch(count, boundary, time)
        elif self._stretch is not None:
            self._stretch.last = time
        self._count_before = time
        return done

    def _person(self, stretch: _Stretch, end: float) -> Observation:
        n = stretch.count
        source = self.detector.name if self.detector is not None else "none"
        return Observation(video_id=self._video_id or "", start=stretch.start,
                           end=_clip(end, stretch.start, self._duration), kind="person",
                           text=f"{n} {'person' if n == 1 else 'people'}", data={"count": n},
                           source=source)


def _thumbnail(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, _THUMB, interpolation=cv2.INTER_AREA).astype(np.int16)


def _changed(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two thumbnails differ enough that the models might see something else."""
    difference = np.abs(a - b)
    if float(difference.mean()) > _MEAN_CHANGE:
        return True
    changed = (difference > _CHANGE_LEVEL).astype(np.float32)
    cells = cv2.resize(changed, (_GRID, _GRID), interpolation=cv2.INTER_AREA)
    return bool((cells >= _CELL_CHANGED).any())


def _spread(boxes: list[list[float]], count: int) -> list[list[float]]:
    """Up to `count` items spread evenly over `boxes`, first and last included."""
    if len(boxes) <= count:
        return boxes
    picks = np.linspace(0, len(boxes) - 1, count).round().astype(int)
    return [boxes[i] for i in dict.fromkeys(picks.tolist())]


def _clip(end: float, start: float, duration: float) -> float:
    return max(start, min(end, duration))
