"""The script of a synthetic video: shots, overlays and speech, all in timeline seconds.

A `Script` is plain data (it round-trips through JSON). `vidseek.synth.build` turns it into a
video file plus its ground truth. Timeline seconds start at 0 on the file's first frame,
whatever `Script.start_time` the file's timestamps begin at.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vidseek.synth.photos import check_photo

__all__ = ["PictureSpec", "Script", "ShotSpec", "SpeechSpec", "TextSpec"]

Content = Literal["color", "shapes", "photo", "gradient", "noise"]
Transition = Literal["cut", "fade", "dissolve"]

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


def _check_photo(name: str | None) -> str | None:
    return name if name is None else check_photo(name)


class _Spec(BaseModel):
    # unknown keys are errors, not silently dropped (a typo must not change a benchmark)
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class ShotSpec(_Spec):
    """One shot: what fills the frame for `duration` seconds and how it is entered."""

    duration: float = Field(gt=0)
    """Seconds from this shot's boundary to the next one."""
    content: Content = "shapes"
    """What the shot shows: a flat colour, random shapes, a photo, a gradient or noise."""
    color: str | None = None
    """Main colour as ``#rrggbb`` (not for photos); chosen at random when None."""
    photo: str | None = None
    """A `vidseek.synth.PHOTOS` name for ``content="photo"``; chosen at random when None."""
    motion: Literal["static", "pan", "zoom"] = "pan"
    """Slow camera motion over the shot, so consecutive frames differ."""
    transition: Transition = "cut"
    """How this shot is entered from the previous one; a fade passes through black."""
    transition_duration: float = Field(default=0.0, ge=0)
    """Seconds of a fade or dissolve, centred on the shot boundary (0 for a cut)."""
    label: str | None = None
    """Free text copied into the ground truth."""

    @field_validator("photo")
    @classmethod
    def _known_photo(cls, value: str | None) -> str | None:
        return _check_photo(value)

    @field_validator("color")
    @classmethod
    def _hex_color(cls, value: str | None) -> str | None:
        if value is not None and not _HEX.match(value):
            raise ValueError(f"color must look like '#3366cc', got {value!r}")
        return value.lower() if value else value

    @model_validator(mode="after")
    def _consistent(self) -> ShotSpec:
        if self.content != "photo" and self.photo is not None:
            raise ValueError(f"photo={self.photo!r} needs content='photo'")
        if self.content == "photo" and self.color is not None:
            raise ValueError("a photo shot has no color; leave color unset")
        if self.transition == "cut" and self.transition_duration:
            raise ValueError("a cut has no transition_duration; use 'fade' or 'dissolve'")
        if self.transition != "cut" and not self.transition_duration:
            raise ValueError(f"a {self.transition} needs transition_duration > 0")
        return self


class TextSpec(_Spec):
    """Burned-in text shown on every frame whose time t satisfies start <= t < end."""

    text: str = Field(min_length=1)
    """The words shown (white on a dark box, wrapped to the frame width)."""
    start: float = Field(ge=0)
    """Timeline seconds of the first frame that may show it."""
    end: float
    """Timeline seconds from which it is gone."""
    position: Literal["top", "center", "bottom"] = "bottom"
    """Where it sits; "bottom" stays above the timecode strip."""
    size: float = Field(default=0.07, gt=0, le=0.5)
    """Font size as a fraction of the frame height."""


class SpeechSpec(_Spec):
    """A sentence spoken by espeak-ng, starting at `start` timeline seconds."""

    text: str = Field(min_length=1)
    """The words spoken."""
    start: float = Field(ge=0)
    """Where the synthesized clip (including espeak's short leading silence) begins."""
    voice: str = "en-us"
    """An espeak-ng voice name (``espeak-ng --voices`` lists them)."""
    words_per_minute: int = Field(default=160, ge=80, le=450)
    """Speaking rate."""


class PictureSpec(_Spec):
    """A real photo pasted over the video on frames with start <= t < end (a "needle")."""

    photo: str
    """A `vidseek.synth.PHOTOS` name or the path of a picture file."""
    start: float = Field(ge=0)
    """Timeline seconds of the first frame that may show it."""
    end: float
    """Timeline seconds from which it is gone."""
    position: Literal["center", "left", "right"] = "center"
    """Horizontal placement."""
    scale: float = Field(default=0.4, gt=0, le=0.9)
    """Picture height as a fraction of the frame height."""

    @field_validator("photo")
    @classmethod
    def _known_photo(cls, value: str | None) -> str | None:
        return _check_photo(value)


class Script(_Spec):
    """Everything needed to build one synthetic video deterministically."""

    width: int = Field(default=640, ge=96, le=7680)
    """Frame width in pixels (even)."""
    height: int = Field(default=360, ge=64, le=4320)
    """Frame height in pixels (even)."""
    fps: float = Field(default=30.0, gt=0, le=240)
    """Frame rate; with `vfr` the average rate."""
    shots: list[ShotSpec] = Field(min_length=1)
    """The shots in order; the video lasts the sum of their durations."""
    texts: list[TextSpec] = []
    """Burned-in text overlays."""
    speech: list[SpeechSpec] = []
    """Spoken sentences (need `audio` and espeak-ng)."""
    pictures: list[PictureSpec] = []
    """Photos pasted over the shots."""
    audio: bool = True
    """False writes no audio stream at all."""
    vfr: bool = False
    """Variable frame rate: frame durations of 1/(2 fps), 1/fps or 2/fps at random."""
    rotation: Literal[0, 90, 180, 270] = 0
    """Display rotation in degrees clockwise (as phones tag it and ``probe`` reports it),
    written as a display matrix only: pixels are not rotated. PyAV reads it back as
    ``frame.rotation``, counter-clockwise and normalised to (-180, 180], so 90 reads as -90."""
    start_time: float = Field(default=0.0, ge=0)
    """Presentation time of the first frame in the file (a stream that starts late)."""
    gop_seconds: float = Field(default=2.0, gt=0)
    """Keyframe interval in seconds."""
    preset: str = "veryfast"
    """x264 preset."""
    crf: int = Field(default=23, ge=0, le=51)
    """x264 constant rate factor."""
    timecode: bool = True
    """Draw the frame's timeline time as a barcode strip along the bottom."""
    seed: int = 0
    """Seed for every random choice the script leaves open (colours, shapes, motion)."""

    @property
    def duration(self) -> float:
        """Seconds of video: the sum of the shot durations."""
        return sum(shot.duration for shot in self.shots)

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in _PRESETS:
            raise ValueError(f"unknown x264 preset {value!r}; choose one of {', '.join(_PRESETS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Script:
        if self.width % 2 or self.height % 2:
            raise ValueError("width and height must be even for yuv420p: "
                             f"{self.width}x{self.height}")
        self._check_shots()
        self._check_intervals(self.texts, "text", lambda t: t.position)
        self._check_intervals(self.pictures, "picture", lambda p: p.position)
        for item in self.speech:
            if item.start >= self.duration:
                raise ValueError(f"speech {item.text!r} starts at {item.start} s, "
                                 f"after the video ends ({self.duration:g} s)")
        if self.speech and not self.audio:
            raise ValueError("speech needs audio=True")
        return self

    def _check_shots(self) -> None:
        # two frames per shot at the slowest VFR rate, so every shot is seen at least once
        min_shot = 2 / self.fps * (2 if self.vfr else 1)
        if self.shots[0].transition != "cut":
            raise ValueError("the first shot has no previous shot to fade or dissolve from")
        for i, shot in enumerate(self.shots):
            if shot.duration < min_shot:
                raise ValueError(f"shot {i} lasts {shot.duration} s; at least {min_shot:.3f} s")
            if i == 0:
                continue
            prev = self.shots[i - 1]
            d = shot.transition_duration
            if shot.transition != "cut":
                if d < min_shot:
                    raise ValueError(f"shot {i}: a {shot.transition} needs at least "
                                     f"{min_shot:.3f} s so frames fall inside it")
                if d > min(prev.duration, shot.duration):
                    raise ValueError(f"shot {i}: transition of {d} s is longer than the shot "
                                     "before or after it")
            same_look = (shot.photo == prev.photo) if shot.content == "photo" else (
                shot.color is not None and shot.color == prev.color)
            if shot.content == prev.content and same_look:
                raise ValueError(f"shots {i - 1} and {i} look the same; a cut between them "
                                 "would not be visible")

    def _check_intervals(self, items: list, kind: str, lane) -> None:
        for item in items:
            if not item.start < item.end <= self.duration + 1e-9:
                raise ValueError(f"{kind} at [{item.start}, {item.end}] must satisfy "
                                 f"0 <= start < end <= duration ({self.duration:g} s)")
        # overlays sharing a position would paint over each other and spoil the truth
        ordered = sorted(items, key=lambda it: it.start)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                if b.start >= a.end:
                    break
                if lane(a) == lane(b):
                    raise ValueError(f"two {kind}s overlap at position {lane(a)!r} "
                                     f"([{a.start}, {a.end}] and [{b.start}, {b.end}])")
