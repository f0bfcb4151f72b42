"""Faces: who is on screen and when, as ``face`` observations (one per face track) and
``person`` observations (how many faces are visible).

Every sampled frame gets a cheap look first (a 160 px grey thumbnail and a colour
histogram, under a millisecond). When the thumbnail barely changed since the last frame the
detector ran on (`_UNCHANGED_SHARE` of its pixels moved out of the range of their 3 x 3
neighbourhood), that frame's faces are taken to be still there and the detector does not
run: static shots, talks and screen recordings cost one detection per change. When more
changed, but within a small part of the picture (`_MAX_REGION_SHARE`) away from every face
of that detection (a clock, a burned-in timecode, a news ticker), the detector looks at that
part alone; if it finds no face there, the faces still stand.

*Tracks.* A face found in one sample continues a track of the sample before when their
boxes overlap (IoU 0.2 or more) or their centres are less than 0.6 box sizes apart, at
sizes no more than 1.6 times apart. Across a new picture (the colour histograms of the two
samples intersect less than `_NEW_PICTURE`, as at a cut) a track continues only when the
face also looks the same (the 16 x 16 grey crops correlate 0.8 or more): another person
framed in the same place after a cut starts a new track. A track survives `max_missed`
samples without its face within a picture (a turned head, a blink of the detector); it ends
at a new picture that does not show it.

*Times.* A face found in samples ``t_first .. t_last`` appeared after the sample before
``t_first`` and left before the sample after ``t_last``. Each observation starts halfway
between the sample before and ``t_first`` and ends halfway between ``t_last`` and the
sample after (at the end of the video: halfway to the end, at most one interval). With a
true start and end anywhere between samples, the midpoints make the expected error
smallest: each end is off by at most half the spacing of the samples around it (1.5 s at
the default 3 s interval), so a face on screen for two intervals (6 s) or more overlaps its
observation with an IoU of at least 0.5 when it is detected in every sample that shows it.
(``data["first_seen"]`` and ``data["last_seen"]`` keep the sample times themselves.)

*Identities.* Each track gets a descriptor (`FaceModel.describe`) of its best detection
(largest, most confident; or the mean of the `descriptors_per_track` best, renormalised)
when it ends. Identities are clustered online: a track joins the identity whose mean
descriptor is nearest if it is closer than `FaceModel.match_distance` (0.42 for dlib, its
"same person" rule), else it starts a new identity. Identities are numbered from 1 in order
of appearance, within one video.

*Counts.* ``person`` observations are the maximal stretches where the number of face tracks
on screen is the same and above zero ("1 person", "3 people"). They are emitted as soon as
no open or future track can change them.

Costs on 2 cores at the defaults (one frame every 3 s at 640 px): about 26 ms a detection
(so about 32 s of detection per hour of video when every frame changes) and 100 to 150 ms
a descriptor, one per track; see the analyzer's docstring for the faces it can find.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from vidseek.analyzers.sameness import box_iou, changed_with_slack
from vidseek.media import Frame
from vidseek.models import resolve
from vidseek.models.protocols import DEFAULT_SPECS, FaceBox, FaceModel
from vidseek.types import Observation

__all__ = ["FaceAnalyzer"]

Box = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` as fractions of the frame's width and height."""

_THUMB_WIDTH = 160  # pixels of the grey thumbnail compared for change...
_THUMB_HEIGHT = 3 * _THUMB_WIDTH  # ...and its most, for frames taller than 1:3 (a 2 x 640 one)
_MIN_SIDE = 20  # pixels: no face the detector finds (80 px, 40 with dlib:2x) fits in less
_SLACK_SE = np.ones((3, 3), np.uint8)  # a pixel may move this far and still be "the same"
_CHANGE_LEVEL = 24  # grey levels outside that neighbourhood's range that count as change
# Share of thumbnail pixels that may change while the last detection still holds. The
# smallest face found (about 70 px of 640) covers 2 % of the frame.
_UNCHANGED_SHARE = 0.005
# A larger change is looked at alone when its bounding box, widened by this many thumbnail
# pixels (room for the detector's window around a face), covers at most this share of the
# picture; otherwise the whole frame is.
_REGION_MARGIN = 4
_MAX_REGION_SHARE = 0.25
_HIST_SIZE = (64, 36)  # thumbnail the colour histogram is taken of
_HIST_BINS = 4  # per channel
_NEW_PICTURE = 0.6  # histogram intersection below which two samples show different pictures
_MIN_IOU = 0.2  # boxes of one face in two samples overlap at least this much...
_MAX_CENTRE_SHIFT = 0.6  # ...or their centres are at most this many box sizes apart
_MAX_SCALE = 1.6  # and their sizes differ at most this much
_LOOK_SIZE = 16  # pixels of the grey face crop compared across a new picture
_SAME_LOOK = 0.8  # correlation of those crops for one face (different people measured <= 0.71)
_CROP_MARGIN = 0.5  # room kept around a face for its descriptor, in face sizes per side
_BOXES_KEPT = 32  # boxes a track remembers (halved when full)
_BOXES_SHOWN = 5  # boxes an observation reports


class FaceAnalyzer:
    """A `FrameAnalyzer` that tracks faces, tells people apart, and counts them.

    Observations, all with ``source`` naming the face model:

    - ``face``, one per track: the time range the face is on screen (see the module
      docstring), ``text`` like ``"face (person 2)"``, ``vectors`` =
      ``{model.space: descriptor}`` (128 unit-length numbers for dlib) and ``data``::

        {"track": int,             # 1, 2, ... in order of appearance
         "identity": int,          # the person, 1, 2, ... within this video
         "boxes": [[t, x0, y0, x1, y1], ...],  # up to 5, fractions of the frame
         "score": float,           # the highest detector score of the track
         "first_seen": float,      # times of the first and last samples showing it
         "last_seen": float}

    - ``person``, stretches where the number of faces on screen is constant and above zero:
      ``text`` ``"1 person"`` or ``"3 people"``, ``data`` = ``{"count": n}``.

    With dlib at 640 px (640 x 360 for 16:9) faces from about 70 px are found, a fifth of the
    frame height: close-ups, interviews, talks, people near the camera. Faces further away
    need a larger `size` (detection cost grows with the pixels: 63 ms at 960 px) or the
    ``dlib:2x`` model (about 100 ms at 640 px).

    Args:
        model: a `FaceModel`, or a spec for `vidseek.models.resolve("faces", ...)` (default
            ``dlib``, embedded models; they load on first use).
        interval: seconds between the frames it wants. At 3 s, detection costs about 32 s
            per hour of video on 2 cores (at 2 s: 48 s).
        size: longest side in pixels of the frames it wants (detection at 512 px costs 16 ms
            instead of 26 ms, but needs faces a quarter of the frame height).
        max_missed: samples a track may go without its face before it ends.
        descriptors_per_track: detections described per track (each 100 to 150 ms with
            dlib), averaged.
        match_distance: descriptor distance below which two tracks are one person; default
            the model's.

    Attributes:
        frames: frames seen since `start`.
        detections: frames the detector ran on since `start` (the others reused the faces
            of the last detection: their picture had not changed, or only in a part that
            held no face then and holds none now).
        region_detections: frames where the detector ran on the changed part alone.
        descriptors: faces described since `start`.
    """

    name = "faces"
    version = "1"

    def __init__(self, model: FaceModel | str = DEFAULT_SPECS["faces"], *, interval: float = 3.0,
                 size: int = 640, max_missed: int = 1, descriptors_per_track: int = 1,
                 match_distance: float | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if size < 64:
            raise ValueError(f"size must be at least 64 pixels, got {size}")
        if max_missed < 0 or descriptors_per_track < 1:
            raise ValueError("max_missed must be >= 0 and descriptors_per_track >= 1, got "
                             f"{max_missed} and {descriptors_per_track}")
        self.model: FaceModel = resolve("faces", model) if isinstance(model, str) else model
        self.interval = float(interval)
        self.size = int(size)
        self.max_missed = max_missed
        self.descriptors_per_track = descriptors_per_track
        self.match_distance = (self.model.match_distance if match_distance is None
                               else match_distance)
        self.frames = self.detections = self.region_detections = self.descriptors = 0
        self._video_id: str | None = None
        self._duration = math.inf
        self._previous: _Sample | None = None
        self._reference: _Sample | None = None
        self._open: list[_Track] = []
        self._tracks = 0
        self._identities: list[np.ndarray] = []  # sum of member descriptors, per identity
        self._census = _Census()

    def start(self, video_id: str, duration: float) -> None:
        """Forget any previous video and begin this one.

        Args:
            video_id: the video's id.
            duration: seconds of video; observation ends are clipped to it (a duration that
                is not positive clips nothing).
        """
        self._video_id = video_id
        self._duration = duration if duration > 0 else math.inf
        self._previous = self._reference = None
        self._open = []
        self._tracks = 0
        self._identities = []
        self._census = _Census()
        self.frames = self.detections = self.region_detections = self.descriptors = 0

    def add(self, frame: Frame) -> list[Observation]:
        """Take the next sampled frame, in time order.

        Args:
            frame: the frame, ideally `size` on its longest side.

        Returns:
            Observations now complete: faces that left, and head counts that can no longer
            change.

        Raises:
            RuntimeError: `start` was not called first.
        """
        if self._video_id is None:
            raise RuntimeError("call start(video_id, duration) before add()")
        self.frames += 1
        sample = self._sample(frame)
        new_picture = self._previous is not None and _new_picture(sample, self._previous)
        done = self._update(sample, new_picture)
        self._previous = sample
        frontier = min([t.start for t in self._open] + [sample.time])
        return done + self._census.advance(frontier, self._person)

    def finish(self) -> list[Observation]:
        """The video ended: observations of the faces still on screen and the last counts.

        Returns:
            Face observations of the open tracks, then the remaining person observations.
        """
        if self._video_id is None:
            return []
        last = self._previous.time if self._previous is not None else 0.0
        done = []
        for track in self._open:
            after = track.next_sample
            if after is None:  # seen in the last sample: it may last until the video ends
                after = min(track.last + self.interval, max(self._duration, last))
            done.append(self._close(track, (track.last + after) / 2))
        self._open = []
        self._previous = self._reference = None
        return done + self._census.advance(math.inf, self._person)

    # -- detecting -----------------------------------------------------------------------

    def _sample(self, frame: Frame) -> _Sample:
        """The frame's look and faces: detected, or the last detection's if nothing moved."""
        image = frame.image
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        thumb = _thumbnail(grey)
        hist = _colour_histogram(image)
        if min(grey.shape) < _MIN_SIDE:  # a sliver of a frame (extreme aspect ratio)
            return _Sample(frame.time, thumb, hist, [], fresh=False)
        ref = self._reference
        if ref is not None and ref.thumb.shape == thumb.shape:
            changed = changed_with_slack(thumb, ref.thumb, _SLACK_SE, _CHANGE_LEVEL)
            if float(changed.mean()) < _UNCHANGED_SHARE or self._no_face_in_change(
                    image, changed, ref.faces):
                return _Sample(frame.time, thumb, hist, ref.faces, fresh=False)
        self.detections += 1
        height, width = grey.shape
        faces = [_Face.found(face, image, grey, width, height)
                 for face in self.model.detect(image)]
        sample = _Sample(frame.time, thumb, hist, faces, fresh=True)
        self._reference = sample
        return sample

    def _no_face_in_change(self, image: np.ndarray, changed: np.ndarray,
                           faces: list[_Face]) -> bool:
        """Whether the part of the picture that changed since the last detection holds no
        face, so that detection's faces still stand: the changed part is small, away from
        every face then, and the detector, run on that part alone, finds nothing in it."""
        rows, cols = np.nonzero(changed)
        height, width = changed.shape
        box = (max(0, cols.min() - _REGION_MARGIN) / width,
               max(0, rows.min() - _REGION_MARGIN) / height,
               min(width, cols.max() + 1 + _REGION_MARGIN) / width,
               min(height, rows.max() + 1 + _REGION_MARGIN) / height)
        if (box[2] - box[0]) * (box[3] - box[1]) > _MAX_REGION_SHARE or any(
                box_iou(box, face.box) > 0 for face in faces):
            return False
        self.region_detections += 1
        h, w = image.shape[:2]
        x0, y0, x1, y1 = (round(box[0] * w), round(box[1] * h), round(box[2] * w),
                          round(box[3] * h))
        return not self.model.detect(np.ascontiguousarray(image[y0:y1, x0:x1]))

    # -- tracking ------------------------------------------------------------------------

    def _update(self, sample: _Sample, new_picture: bool) -> list[Observation]:
        """Continue, open and close tracks with the faces of a sample."""
        pairs = self._match(sample.faces, new_picture)
        kept: list[_Track] = []
        closed: list[Observation] = []
        for i, track in enumerate(self._open):
            if i in pairs:
                track.see(sample.faces[pairs[i]], sample.time, sample.fresh,
                          self.descriptors_per_track)
                kept.append(track)
                continue
            track.missed += 1
            if track.next_sample is None:
                track.next_sample = sample.time
            if new_picture or track.missed > self.max_missed:
                closed.append(self._close(track, (track.last + track.next_sample) / 2))
            else:
                kept.append(track)
        before = self._previous.time if self._previous is not None else sample.time - (
            self.interval)
        start = max(0.0, (before + sample.time) / 2)
        matched = set(pairs.values())
        for j, face in enumerate(sample.faces):
            if j not in matched:
                self._tracks += 1
                track = _Track(self._tracks, start, sample.time, sample.time)
                track.see(face, sample.time, True, self.descriptors_per_track)
                kept.append(track)
        self._open = kept
        return closed

    def _match(self, faces: list[_Face], new_picture: bool) -> dict[int, int]:
        """Open track index -> face index, closest pairs first, each used once."""
        candidates = []
        for i, track in enumerate(self._open):
            for j, face in enumerate(faces):
                near = _nearness(track.face.box, face.box)
                if near is None:
                    continue
                if new_picture and float(track.face.look @ face.look) < _SAME_LOOK:
                    continue
                candidates.append((near, i, j))
        pairs: dict[int, int] = {}
        used: set[int] = set()
        for _, i, j in sorted(candidates, reverse=True):
            if i not in pairs and j not in used:
                pairs[i] = j
                used.add(j)
        return pairs

    # -- results -------------------------------------------------------------------------

    def _close(self, track: _Track, end: float) -> Observation:
        """The observation of a track that ended: describe it and find its person."""
        end = max(min(end, self._duration), track.last)
        descriptor = self._describe(track)
        identity = self._identify(descriptor)
        self._census.add(track.start, end)
        boxes = track.boxes
        if boxes[-1][0] != track.last:
            boxes = [*boxes, (track.last, track.face.box)]
        shown = sorted({round(k) for k in np.linspace(0, len(boxes) - 1,
                                                      min(len(boxes), _BOXES_SHOWN))})
        return Observation(
            video_id=self._video_id or "", start=track.start, end=end, kind="face",
            text=f"face (person {identity})", source=self.model.name,
            vectors={self.model.space: [float(v) for v in descriptor]},
            data={"track": track.number, "identity": identity,
                  "boxes": [[boxes[k][0], *boxes[k][1]] for k in shown],
                  "score": round(track.score, 4), "first_seen": track.first,
                  "last_seen": track.last})

    def _describe(self, track: _Track) -> np.ndarray:
        """The track's descriptor: the mean of its best crops' descriptors, unit length."""
        vectors = [self.model.describe(crop.image, crop.box) for crop in track.crops]
        self.descriptors += len(vectors)
        mean = np.mean(vectors, axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def _identify(self, descriptor: np.ndarray) -> int:
        """The identity (1, 2, ...) a descriptor belongs to, a new one if none is close."""
        best, best_distance = -1, math.inf
        for k, total in enumerate(self._identities):
            centre = total / max(float(np.linalg.norm(total)), 1e-12)
            distance = float(np.linalg.norm(centre - descriptor))
            if distance < best_distance:
                best, best_distance = k, distance
        if best >= 0 and best_distance < self.match_distance:
            self._identities[best] = self._identities[best] + descriptor
            return best + 1
        self._identities.append(descriptor.copy())
        return len(self._identities)

    def _person(self, start: float, end: float, count: int) -> Observation:
        return Observation(
            video_id=self._video_id or "", start=start, end=end, kind="person",
            text="1 person" if count == 1 else f"{count} people", source=self.model.name,
            data={"count": count})


@dataclass(frozen=True, slots=True)
class _Crop:
    """A face with room around it, kept to describe the face when its track ends."""

    image: np.ndarray
    box: FaceBox
    """The face in pixels of `image`."""
    quality: float


@dataclass(frozen=True, slots=True)
class _Face:
    """A face in one sample."""

    box: Box
    score: float
    look: np.ndarray
    """The grey crop, 16 x 16, zero mean and unit length: correlations are dot products."""
    crop: _Crop

    @classmethod
    def found(cls, face: FaceBox, image: np.ndarray, grey: np.ndarray, width: int,
              height: int) -> _Face:
        x0, y0, x1, y1 = face.box
        box = (x0 / width, y0 / height, x1 / width, y1 / height)
        look = cv2.resize(grey[y0:y1, x0:x1], (_LOOK_SIZE, _LOOK_SIZE),
                          interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
        look -= look.mean()
        look /= max(float(np.linalg.norm(look)), 1e-6)
        margin = round(_CROP_MARGIN * face.side)
        cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
        cx1, cy1 = min(width, x1 + margin), min(height, y1 + margin)
        crop = _Crop(image[cy0:cy1, cx0:cx1].copy(),
                     FaceBox((x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0), face.score),
                     # bigger and surer faces make better descriptors
                     face.side * (1 + min(max(face.score, 0.0), 2.0) / 2))
        return cls(tuple(round(v, 4) for v in box), face.score, look, crop)  # type: ignore[arg-type]


@dataclass(slots=True)
class _Sample:
    """One sampled frame: its time, look and faces."""

    time: float
    thumb: np.ndarray
    hist: np.ndarray
    faces: list[_Face]
    fresh: bool
    """False when the faces were carried over from an unchanged earlier frame."""


@dataclass(slots=True)
class _Track:
    """One face followed over consecutive samples."""

    number: int
    start: float
    first: float
    last: float
    face: _Face = field(init=False)
    score: float = -math.inf
    missed: int = 0
    next_sample: float | None = None
    """Time of the first sample after `last` (set when the face is first missed)."""
    boxes: list[tuple[float, Box]] = field(default_factory=list)
    crops: list[_Crop] = field(default_factory=list)

    def see(self, face: _Face, time: float, fresh: bool, keep_crops: int) -> None:
        """Record the face in the sample at `time`."""
        self.face, self.last = face, time
        self.missed, self.next_sample = 0, None
        self.score = max(self.score, face.score)
        self.boxes.append((time, face.box))
        if len(self.boxes) > _BOXES_KEPT:
            self.boxes = self.boxes[::2]
        if fresh:  # a carried-over face is the same picture as one already kept
            self.crops.append(face.crop)
            self.crops.sort(key=lambda crop: -crop.quality)
            del self.crops[keep_crops:]


class _Census:
    """Turns face time ranges into stretches of a constant count, once they are final."""

    def __init__(self) -> None:
        self._events: list[tuple[float, int]] = []  # (time, +1 or -1), a heap
        self._count = 0
        self._since = 0.0

    def add(self, start: float, end: float) -> None:
        heapq.heappush(self._events, (start, 1))
        heapq.heappush(self._events, (end, -1))

    def advance(self, frontier: float, make) -> list[Observation]:
        """Stretches that end before `frontier` (no range added later starts before it)."""
        done = []
        while self._events and self._events[0][0] < frontier:
            time = self._events[0][0]
            count = self._count
            while self._events and self._events[0][0] == time:
                count += heapq.heappop(self._events)[1]
            if count != self._count:
                if self._count > 0 and time > self._since:
                    done.append(make(self._since, time, self._count))
                self._count, self._since = count, time
        return done


def _thumbnail(grey: np.ndarray) -> np.ndarray:
    height, width = grey.shape
    size = (_THUMB_WIDTH, max(1, round(height * _THUMB_WIDTH / width)))
    if size[1] > _THUMB_HEIGHT:
        size = (max(1, round(width * _THUMB_HEIGHT / height)), _THUMB_HEIGHT)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _colour_histogram(image: np.ndarray) -> np.ndarray:
    """A normalised 4 x 4 x 4 RGB histogram of a small thumbnail."""
    small = cv2.resize(image, _HIST_SIZE, interpolation=cv2.INTER_AREA)
    bins = (small // (256 // _HIST_BINS)).reshape(-1, 3).astype(np.int32)
    index = (bins[:, 0] * _HIST_BINS + bins[:, 1]) * _HIST_BINS + bins[:, 2]
    hist = np.bincount(index, minlength=_HIST_BINS ** 3).astype(np.float32)
    return hist / hist.sum()


def _new_picture(a: _Sample, b: _Sample) -> bool:
    """Whether two samples show different pictures (a cut), by their colour histograms."""
    return float(np.minimum(a.hist, b.hist).sum()) < _NEW_PICTURE


def _nearness(a: Box, b: Box) -> float | None:
    """How well two boxes fit one moving face (higher is closer), or None if they do not."""
    wa, ha, wb, hb = a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1]
    if min(wa, ha, wb, hb) <= 0:
        return None
    if max(wa / wb, wb / wa) > _MAX_SCALE:
        return None
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    iou = inter / (wa * ha + wb * hb - inter)
    shift = math.hypot(((a[0] + a[2]) - (b[0] + b[2])) / (wa + wb),
                       ((a[1] + a[3]) - (b[1] + b[3])) / (ha + hb))
    if iou < _MIN_IOU and shift > _MAX_CENTRE_SHIFT:
        return None
    return iou - shift
