"""The needle benchmark's data: a long synthetic lecture with planted facts, each sought by a
paraphrasing query, plus queries whose answer is in no haystack (they must find nothing).

The haystack is lecture-like footage (static slides of 20-60 s with a title at the top, now
and then a greyscale photo that the object models must not take for a needle, and
continuous speech read from Python's help texts). Needles are planted at random,
non-overlapping times at least 5 s apart: spoken sentences (one takes the place of a filler
sentence), signs in the middle of the frame (6-15 s) and photos pasted at the side
(8-20 s). Each needle is sought with a query that paraphrases it (`needle_pools`); a
pasted photo is also sought with the photo itself (``image``). Queries whose answer is in
no haystack, and the needles this haystack did not use, must find nothing above the
threshold.

As an evaluation task (``vidseek eval needle --data DATA``), ``DATA`` is a work folder. The
haystack is built there on first use and reused::

    DATA/needle.json                  optional: {"hours": 1.0, "needles": 30, "seed": 0}
    DATA/haystack-<digest>.mp4        the video and its ground truth (.truth.json)
    DATA/photos/<name>.png            the pictures of the picture-image queries

The benchmark (`vidseek.eval.needle.run_needle_bench`, ``vidseek bench needle``) builds the
same haystack with `make_haystack` and runs the same samples through the runner.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample
from vidseek.eval.needle_pools import (
    ABSENT_QUERIES,
    DISTRACTOR_PHOTOS,
    FILLER_TITLES,
    PICTURE_NEEDLES,
    SPEECH_NEEDLES,
    TEXT_NEEDLES,
)

if TYPE_CHECKING:
    from vidseek.synth import GroundTruth, Script

__all__ = [
    "KINDS",
    "Haystack",
    "NeedlePlan",
    "absent_queries",
    "haystack_dataset",
    "load",
    "make_haystack",
    "measure_needles",
    "needle_script",
]

NAME = "needle"
CONFIG = "needle.json"
DEFAULTS = {"hours": 1.0, "needles": 30, "seed": 0}
KINDS = ("speech", "text", "picture", "picture-image")
"""Needle query kinds (the samples' ``category``), in report order: ``picture-image`` asks
with the photo itself. Absent-answer queries have the category ``absent``."""

_WIDTH, _HEIGHT, _FPS = 640, 360, 10.0
_EDGE = 5.0  # no needle in the first or last seconds of the video
_GAP = 5.0  # seconds between two needles, at least
_SHOT_SECONDS = (20.0, 60.0)
_TEXT_SECONDS = (6.0, 15.0)
_PICTURE_SECONDS = (8.0, 20.0)
_PICTURE_SCALE = 0.5  # the scale the picture pool was measured at
_DISTRACTOR_SHARE = 0.1  # of lecture shots that show a greyscale photo
_SPEECH_START = 1.0


def _speech_seconds(sentence: str) -> float:
    # espeak at 160 words a minute speaks about 13 characters a second; leave room
    return len(sentence) / 11 + 0.8


# -- the haystack ----------------------------------------------------------------------------


class NeedlePlan(BaseModel):
    """One planted needle and the query that seeks it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    kind: Literal["speech", "text", "picture"]
    needle: str
    """The sentence spoken, the text shown, or the photo's name."""
    query: str
    """The paraphrasing query."""
    start: float
    """Timeline seconds: script time, or the measured voiced start once `measured`."""
    end: float
    """Timeline seconds: for speech an estimate until `measured`."""
    position: str | None = None
    """Where a text or picture is shown."""
    measured: bool = False
    """True when the times come from the built video's ground truth."""


def _kind_counts(needles: int) -> dict[str, int]:
    looks = len({p.looks_like for p in PICTURE_NEEDLES})
    pictures = min(round(0.2 * needles), looks)
    rest = needles - pictures
    counts = {"speech": (rest + 1) // 2, "text": rest // 2, "picture": pictures}
    for kind, pool in (("speech", SPEECH_NEEDLES), ("text", TEXT_NEEDLES)):
        if counts[kind] > len(pool):
            raise ValueError(f"{needles} needles need {counts[kind]} {kind} needles but the "
                             f"pool has {len(pool)}: ask for fewer needles")
    return counts


def _draw_needles(rng: np.random.Generator, counts: dict[str, int]) -> list[tuple[str, str, str]]:
    """``(kind, needle, query)`` in random order; pictures that look alike never together."""
    chosen = []
    for kind, pool in (("speech", SPEECH_NEEDLES), ("text", TEXT_NEEDLES)):
        for i in sorted(rng.choice(len(pool), counts[kind], replace=False).tolist()):
            chosen.append((kind, pool[i].needle, pool[i].query))
    looks: set[str] = set()
    for i in rng.permutation(len(PICTURE_NEEDLES)).tolist():
        picture = PICTURE_NEEDLES[i]
        if len(looks) < counts["picture"] and picture.looks_like not in looks:
            looks.add(picture.looks_like)
            chosen.append(("picture", picture.photo, picture.query))
    return [chosen[i] for i in rng.permutation(len(chosen)).tolist()]


def _place(rng: np.random.Generator, drawn: list[tuple[str, str, str]], total: float,
           shift: float) -> list[NeedlePlan]:
    """One needle per equal slot of the timeline, at a random time inside it.

    A spoken needle reserves `shift` more seconds: it starts where the filler sentence under
    way at its planned time ends.
    """
    slot = (total - 2 * _EDGE) / len(drawn)
    plans = []
    for k, (kind, needle, query) in enumerate(drawn):
        if kind == "speech":
            length = _speech_seconds(needle)
            reserve = length + shift
        else:
            low, high = _TEXT_SECONDS if kind == "text" else _PICTURE_SECONDS
            length = reserve = round(float(rng.uniform(low, high)), 1)
        room = slot - _GAP - reserve
        if room < 0:
            raise ValueError(f"{len(drawn)} needles do not fit in {total:g} s: each gets "
                             f"{slot:.0f} s and a {kind} needle needs {reserve + _GAP:.0f} s; "
                             "ask for fewer needles or more hours")
        start = round(_EDGE + k * slot + _GAP / 2 + float(rng.random()) * room, 1)
        position = None
        if kind == "text":
            position = "center"
        elif kind == "picture":
            position = str(rng.choice(["left", "right"]))
        plans.append(NeedlePlan(kind=kind, needle=needle, query=query, start=start,
                                end=round(start + length, 3), position=position))
    return plans


def _lecture_shots(rng: np.random.Generator, total: float) -> tuple[list, list]:
    """Slides of 20-60 s (gradient, colour, shapes or a greyscale photo), titled at the top."""
    from vidseek.synth import ShotSpec, TextSpec

    shots, titles, t, k, previous = [], [], 0.0, 0, None
    while (remaining := round(total - t, 1)) > 0:
        length = round(float(rng.uniform(*_SHOT_SECONDS)), 1)
        if remaining - length < _SHOT_SECONDS[0]:
            length = remaining  # no short shot at the end
        if rng.random() < _DISTRACTOR_SHARE:
            photo = str(rng.choice([p for p in DISTRACTOR_PHOTOS if p != previous]))
            shots.append(ShotSpec(duration=length, content="photo", photo=photo,
                                  motion="static"))
            previous = photo
        else:
            content = str(rng.choice(["gradient", "color", "shapes"]))
            shots.append(ShotSpec(duration=length, content=content, motion="static"))
            previous = None
        title = FILLER_TITLES[k % len(FILLER_TITLES)]
        if k >= len(FILLER_TITLES):
            title = f"{title} PART {k // len(FILLER_TITLES) + 1}"
        if length > 1.5:
            titles.append(TextSpec(text=title, start=round(t + 0.5, 3),
                                   end=round(t + length - 0.5, 3), position="top"))
        t = round(t + length, 1)
        k += 1
    return shots, titles


def _lecture_speech(rng: np.random.Generator, total: float,
                    plans: list[NeedlePlan]) -> list:
    """Continuous filler sentences; each spoken needle takes the next slot after its time."""
    from vidseek.synth import SpeechSpec
    from vidseek.synth.prose import prose_sentences

    fillers = prose_sentences()
    rng.shuffle(fillers)
    pending = sorted((p for p in plans if p.kind == "speech"), key=lambda p: p.start)
    speech, t, k = [], _SPEECH_START, 0
    while True:
        needle = pending[0] if pending and t >= pending[0].start else None
        sentence = needle.needle if needle else fillers[k % len(fillers)]
        length = _speech_seconds(sentence)
        if t + length > total - 1:
            break
        if needle is not None:
            pending.pop(0)
            needle.start, needle.end = round(t, 3), round(t + length, 3)
        else:
            k += 1
        speech.append(SpeechSpec(text=sentence, start=round(t, 3)))
        t += length
    if pending:  # excluded by the slots' reserve; kept as a guard for future edits
        raise RuntimeError(f"no room left to speak {pending[0].needle!r}")
    return speech


def needle_script(hours: float, needles: int, seed: int = 0) -> tuple[Script, list[NeedlePlan]]:
    """The haystack and its needles, the same for the same arguments.

    About 40 % of the needles are spoken, 40 % shown as text and 20 % pasted photos (at most
    one per detector label of `PICTURE_NEEDLES`; the rest are split between speech and
    text). 640x360 at 10 frames a second.

    Args:
        hours: length of the video.
        needles: how many needles to plant.
        seed: seed of every random choice.

    Returns:
        The validated `Script` and the needles in time order, with script times (a spoken
        needle's end is estimated until the video is built: see `measure_needles`).

    Raises:
        ValueError: too many needles for the pools or for the video's length.
    """
    from vidseek.synth import PictureSpec, Script, TextSpec
    from vidseek.synth.prose import prose_sentences

    if hours <= 0 or needles < 1:
        raise ValueError(f"need hours > 0 and needles >= 1, got {hours} and {needles}")
    total = round(hours * 3600, 1)
    rng = np.random.default_rng([seed, 0x4E45])
    drawn = _draw_needles(rng, _kind_counts(needles))
    shift = max(_speech_seconds(s) for s in prose_sentences())
    plans = _place(rng, drawn, total, shift)
    shots, titles = _lecture_shots(rng, total)
    speech = _lecture_speech(rng, total, plans)
    texts = [TextSpec(text=p.needle, start=p.start, end=p.end, position="center")
             for p in plans if p.kind == "text"]
    pictures = [PictureSpec(photo=p.needle, start=p.start, end=p.end, position=p.position,
                            scale=_PICTURE_SCALE) for p in plans if p.kind == "picture"]
    script = Script(width=_WIDTH, height=_HEIGHT, fps=_FPS, shots=shots,
                    texts=titles + texts, speech=speech, pictures=pictures, seed=seed)
    return script, sorted(plans, key=lambda p: p.start)


def measure_needles(plans: list[NeedlePlan], truth: GroundTruth) -> list[NeedlePlan]:
    """The needles with the times of the built video's ground truth (speech: voiced audio).

    Args:
        plans: from `needle_script`.
        truth: what `vidseek.synth.build` returned for its script.

    Returns:
        Copies of `plans` with measured `start` and `end`.

    Raises:
        RuntimeError: a needle is missing from the truth (espeak-ng is not installed).
    """
    spans = {"speech": [(s.text, s.start, s.end) for s in truth.speech],
             "text": [(t.text, t.start, t.end) for t in truth.texts],
             "picture": [(p.photo, p.start, p.end) for p in truth.pictures]}
    out = []
    for plan in plans:
        found = [(abs(a - plan.start), a, b) for what, a, b in spans[plan.kind]
                 if what == plan.needle]
        if not found:
            hint = " (is espeak-ng installed? apt-get install espeak-ng)" * (
                plan.kind == "speech")
            raise RuntimeError(f"{plan.kind} needle {plan.needle!r} is not in the video's "
                               f"ground truth{hint}")
        _, start, end = min(found)
        out.append(plan.model_copy(update={"start": start, "end": end, "measured": True}))
    return out


@dataclass(frozen=True)
class Haystack:
    """A built haystack and its needles.

    Attributes:
        script: what the video was built from.
        plans: the needles in time order, with the times measured on the built video.
        video: the video file (its ground truth lies beside it).
        truth: the built video's ground truth.
        build_seconds: seconds the build took; None when an earlier build was reused.
    """

    script: Script
    plans: list[NeedlePlan]
    video: Path
    truth: GroundTruth
    build_seconds: float | None


def make_haystack(folder: str | Path, hours: float, needles: int, seed: int = 0, *,
                  progress: Callable[[float], None] | None = None) -> Haystack:
    """Build the haystack of `needle_script` in ``folder``, or reuse the one built there from
    an identical script.

    Args:
        folder: where the video and its ground truth are kept.
        hours, needles, seed: see `needle_script`.
        progress: called with the fraction built so far (0..1) while building.

    Raises:
        ValueError: too many needles for the pools or for the video's length.
        RuntimeError: a needle is missing from the built video (see `measure_needles`).
    """
    from vidseek.synth import build, load_truth, truth_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    script, plans = needle_script(hours, needles, seed)
    digest = hashlib.sha256(script.model_dump_json().encode()).hexdigest()[:16]
    video = folder / f"haystack-{digest}.mp4"
    if video.exists() and truth_path(video).exists():
        truth, seconds = load_truth(video), None
    else:
        started = time.perf_counter()
        truth = build(script, video, progress=progress)
        seconds = time.perf_counter() - started
    return Haystack(script, measure_needles(plans, truth), video, truth, seconds)


def haystack_dataset(haystack: Haystack, root: str | Path) -> Dataset:
    """The haystack's samples, as the runner takes them: for each needle in time order its
    paraphrasing query (and for a photo, the photo itself: ``image``, written under
    ``root/photos``), then the absent-answer queries.

    Needle samples are grounding samples with the needle's window, category its kind and
    ``extra`` ``{"needle_kind", "needle"}`` (plus ``"needs"``: the analyzer a picture is
    found by); absent ones have no window, category ``absent`` and ``extra``
    ``{"absent": True, "source"}`` (see `absent_queries`).
    """
    from vidseek.synth import truth_path

    root = Path(root)
    video, duration = haystack.video, haystack.truth.duration
    samples = []
    for n, plan in enumerate(haystack.plans):
        extra = {"needle_kind": plan.kind, "needle": plan.needle}
        if plan.kind == "picture":
            extra["needs"] = "objects"  # found through object and scene tags only
        window = [(plan.start, plan.end)]
        samples.append(Sample(id=f"needle/{n}", task=NAME, kind="grounding", video=video,
                              question=plan.query, windows=window, duration=duration,
                              category=plan.kind, extra=extra))
        if plan.kind == "picture":
            samples.append(Sample(
                id=f"needle/{n}/image", task=NAME, kind="grounding", video=video,
                question=plan.query, image=_photo_file(plan.needle, root / "photos"),
                windows=window, duration=duration, category="picture-image",
                extra={**extra, "needle_kind": "picture-image", "needs": "image"}))
    for n, (source, query) in enumerate(absent_queries(haystack.plans)):
        samples.append(Sample(id=f"absent/{n}", task=NAME, kind="grounding", video=video,
                              question=query, duration=duration, category="absent",
                              extra={"absent": True, "source": source}))
    s = haystack.script
    notes = [f"haystack: {s.duration / 3600:g} h, {len(haystack.plans)} needles, seed "
             f"{s.seed} ({video.name})"]
    return Dataset(NAME, root, samples, files=[truth_path(video)], notes=notes)


def load(root: Path) -> Dataset:
    """Build (or reuse) the haystack ``root/needle.json`` describes, and its samples."""
    config = dict(DEFAULTS)
    files = []
    if (root / CONFIG).is_file():
        given = json.loads((root / CONFIG).read_text())
        unknown = set(given) - set(DEFAULTS)
        if unknown:
            raise DataError(f"{root / CONFIG}: unknown keys {sorted(unknown)}; known: "
                            f"{sorted(DEFAULTS)}")
        config.update(given)
        files.append(root / CONFIG)
    haystack = make_haystack(root, float(config["hours"]), int(config["needles"]),
                             int(config["seed"]))
    dataset = haystack_dataset(haystack, root)
    dataset.files[:0] = files
    return dataset


def absent_queries(plans: list[NeedlePlan]) -> list[tuple[str, str]]:
    """``(source, query)``: the absent pool (source ``pool``), then every pool needle this
    haystack lacks (source ``unused-<kind>``)."""
    used = {p.needle for p in plans}
    out = [("pool", q) for q in ABSENT_QUERIES]
    for kind, pool in (("speech", SPEECH_NEEDLES), ("text", TEXT_NEEDLES)):
        out += [(f"unused-{kind}", p.query) for p in pool if p.needle not in used]
    out += [("unused-picture", p.query) for p in PICTURE_NEEDLES if p.photo not in used]
    return out


def _photo_file(name: str, folder: Path) -> Path:
    from PIL import Image

    from vidseek.synth.photos import load_photo

    path = folder / f"{name}.png"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(load_photo(name))).save(path)
    return path
