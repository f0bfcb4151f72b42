"""Needle in a haystack: plant facts in a long synthetic lecture, then ask for them.

The haystack is lecture-like footage (static slides of 20-60 s with a title at the top, now
and then a greyscale photo that the object models must not take for a needle, and
continuous speech read from Python's help texts). Needles are planted at random,
non-overlapping times at least 5 s apart: spoken sentences (one takes the place of a filler
sentence), signs in the middle of the frame (6-15 s) and photos pasted at the side
(8-20 s). Each needle is sought with a query that paraphrases it (`needle_pools`); queries
whose answer is in no haystack, and the needles this haystack did not use, must find
nothing above the threshold.

    report = run_needle_bench(hours=1.0, needles=30, seed=0, workdir="/tmp/needle_work")
    print(report.scores["kinds"]["speech"]["R@1@0.5"])
    report.rescored(0.4)                   # the same search results, another threshold

The video, its ground truth and the library are kept in ``workdir``: a second run with the
same arguments neither rebuilds nor re-indexes, only searches again.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vidseek.eval.metrics import mean_iou, recall_at_k
from vidseek.eval.needle_pools import (
    ABSENT_QUERIES,
    DISTRACTOR_PHOTOS,
    FILLER_TITLES,
    PICTURE_NEEDLES,
    SPEECH_NEEDLES,
    TEXT_NEEDLES,
)

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.table import Table

    from vidseek.models.registry import ModelSpecs
    from vidseek.synth import GroundTruth, Script

__all__ = [
    "KINDS",
    "EvidenceRecord",
    "MomentRecord",
    "NeedlePlan",
    "NeedleReport",
    "QueryRecord",
    "measure_needles",
    "needle_script",
    "needle_table",
    "run_needle_bench",
    "score_needles",
    "threshold_sweep",
]

KINDS = ("speech", "text", "picture", "picture-image")
"""Needle query kinds, in report order: ``picture-image`` asks with the photo itself."""

SWEEP = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""Thresholds of the sweep: 0.05, 0.10, ..., 0.95."""

_WIDTH, _HEIGHT, _FPS = 640, 360, 10.0
_EDGE = 5.0  # no needle in the first or last seconds of the video
_GAP = 5.0  # seconds between two needles, at least
_SHOT_SECONDS = (20.0, 60.0)
_TEXT_SECONDS = (6.0, 15.0)
_PICTURE_SECONDS = (8.0, 20.0)
_PICTURE_SCALE = 0.5  # the scale the picture pool was measured at
_DISTRACTOR_SHARE = 0.1  # of lecture shots that show a greyscale photo
_SPEECH_START = 1.0
_SEARCH_K = 5
_IOU = 0.5


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


# -- records and scores ----------------------------------------------------------------------


class EvidenceRecord(BaseModel):
    """One piece of a moment's evidence, as search returned it."""

    channel: str
    kind: str
    text: str = ""
    start: float
    end: float
    score: float


class MomentRecord(BaseModel):
    """One moment search returned (best first in its query's list)."""

    start: float
    end: float
    score: float
    evidence: list[EvidenceRecord] = Field(default_factory=list)


class QueryRecord(BaseModel):
    """One query, what it should find and what search returned (every candidate: asked
    with ``threshold=0.0``, so scoring can apply any threshold afterwards)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    kind: str
    """``speech``, ``text``, ``picture``, ``picture-image`` or ``absent``."""
    query: str
    """The words asked, or for ``picture-image`` the picture file."""
    needle: str | None = None
    """What was planted (sentence, text, photo); None for an absent query."""
    source: str | None = None
    """For absent queries: ``pool`` (`ABSENT_QUERIES`) or ``unused-<kind>`` (a needle of the
    pools that this haystack does not contain)."""
    truth: list[tuple[float, float]] = Field(default_factory=list)
    """Where the answer is (empty for absent queries)."""
    moments: list[MomentRecord] = Field(default_factory=list)
    latency_ms: float
    """Wall-clock milliseconds of the ``Library.search`` call."""


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _kept(record: QueryRecord, threshold: float) -> list[tuple[float, float]]:
    """The record's moments that count at `threshold`, best first."""
    return [(m.start, m.end) for m in record.moments if m.score >= threshold]


def score_needles(records: Sequence[QueryRecord], threshold: float) -> dict[str, Any]:
    """Recall, IoU, false positives and latency per query kind, at one threshold.

    A moment counts only when its score >= `threshold`. For each needle kind: ``n``,
    ``R@1@0.5`` and ``R@5@0.5`` (a counted moment among the first 1 / 5 has IoU >= 0.5 with
    the needle's window), ``mIoU`` (IoU of the first counted moment, 0 when none) and search
    latency ``p50_ms`` / ``p95_ms``. For absent queries: ``fp_rate``, the share whose first
    counted moment exists (i.e. whose top score >= `threshold`), overall and per source.

    Args:
        records: the queries and what search returned.
        threshold: the score a moment needs to count.

    Returns:
        ``{"threshold": t, "kinds": {kind: {...}}, "absent": {...}}``; kinds without
        records are left out, ``absent`` is None when there were no absent queries.
    """
    kinds: dict[str, dict[str, Any]] = {}
    for kind in [*KINDS, *sorted({r.kind for r in records} - {*KINDS, "absent"})]:
        mine = [r for r in records if r.kind == kind]
        if not mine:
            continue
        predictions = [_kept(r, threshold) for r in mine]
        truths = [r.truth for r in mine]
        latencies = [r.latency_ms for r in mine]
        kinds[kind] = {
            "n": len(mine),
            "R@1@0.5": recall_at_k(predictions, truths, 1, _IOU),
            "R@5@0.5": recall_at_k(predictions, truths, 5, _IOU),
            "mIoU": mean_iou(predictions, truths),
            "p50_ms": _percentile(latencies, 50),
            "p95_ms": _percentile(latencies, 95),
        }
    absent = [r for r in records if r.kind == "absent"]
    return {"threshold": threshold, "kinds": kinds, "absent": _absent(absent, threshold)}


def _absent(records: list[QueryRecord], threshold: float) -> dict[str, Any] | None:
    if not records:
        return None

    def rate(rs: list[QueryRecord]) -> float:
        return sum(bool(_kept(r, threshold)) for r in rs) / len(rs)

    sources = sorted({r.source or "pool" for r in records})
    latencies = [r.latency_ms for r in records]
    return {"n": len(records), "fp_rate": rate(records),
            "by_source": {s: {"n": len(rs), "fp_rate": rate(rs)} for s in sources
                          for rs in [[r for r in records if (r.source or "pool") == s]]},
            "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95)}


def threshold_sweep(records: Sequence[QueryRecord],
                    thresholds: Sequence[float] = SWEEP) -> list[dict[str, Any]]:
    """R@1@0.5 per needle kind and the absent false-positive rate at each threshold.

    Args:
        records: the queries and what search returned (with ``threshold=0.0``).
        thresholds: where to score.

    Returns:
        One ``{"threshold": t, "R@1@0.5": {kind: recall}, "absent_fp": rate or None}`` per
        threshold, in the given order.
    """
    rows = []
    for t in thresholds:
        scores = score_needles(records, t)
        rows.append({"threshold": t,
                     "R@1@0.5": {k: v["R@1@0.5"] for k, v in scores["kinds"].items()},
                     "absent_fp": scores["absent"]["fp_rate"] if scores["absent"] else None})
    return rows


# -- the run ---------------------------------------------------------------------------------


class NeedleReport(BaseModel):
    """A needle benchmark run: what was planted, every query's raw results, and the scores."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    hours: float
    needles: int
    seed: int
    threshold: float
    """The threshold `scores` were computed at."""
    video: str
    """The haystack file (gone when the run had no ``workdir``)."""
    video_id: str
    duration: float
    build_seconds: float | None
    """Seconds to build the haystack; None when a cached build was reused."""
    index_seconds: float
    index_status: str
    """``indexed``, ``unchanged`` (the library already held it) or ``failed``."""
    index_errors: dict[str, str] = Field(default_factory=dict)
    analyzers: list[str]
    """What the library indexed with."""
    skipped: dict[str, str] = Field(default_factory=dict)
    """Query kinds not asked, and why (e.g. no object models configured)."""
    plans: list[NeedlePlan]
    """The needles with measured times."""
    records: list[QueryRecord]
    scores: dict[str, Any]
    """`score_needles` at `threshold`."""
    sweep: list[dict[str, Any]]
    """`threshold_sweep` over 0.05..0.95."""

    def rescored(self, threshold: float) -> NeedleReport:
        """The same search results scored at another threshold (no search is run)."""
        return self.model_copy(update={"threshold": threshold,
                                       "scores": score_needles(self.records, threshold)})

    def save(self, path: str | Path) -> Path:
        """Write the report, raw records included, as JSON."""
        path = Path(path)
        path.write_text(self.model_dump_json(indent=1))
        return path

    @classmethod
    def load(cls, path: str | Path) -> NeedleReport:
        """Read a report written by `save`."""
        return cls.model_validate_json(Path(path).read_text())


class _Steps:
    """The build / index / query steps on a Rich progress display, when one is given."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    @contextmanager
    def step(self, description: str, total: float = 1.0) -> Iterator[Any]:
        if self.progress is None:
            yield lambda done: None
            return
        task = self.progress.add_task(description, total=total)

        def update(done: float) -> None:
            self.progress.update(task, completed=done)

        try:
            yield update
        finally:
            self.progress.update(task, completed=total)


def _haystack(script: Script, folder: Path,
              steps: _Steps) -> tuple[Path, GroundTruth, float | None]:
    """Build the video, or reuse the one built from an identical script."""
    from vidseek.synth import build, load_truth, truth_path

    digest = hashlib.sha256(script.model_dump_json().encode()).hexdigest()[:16]
    video = folder / f"haystack-{digest}.mp4"
    if video.exists() and truth_path(video).exists():
        return video, load_truth(video), None
    started = time.perf_counter()
    with steps.step(f"build {script.duration / 3600:g} h haystack") as update:
        truth = build(script, video, progress=update)
    return video, truth, time.perf_counter() - started


def _record(kind: str, query: str, moments: list, latency_ms: float, *,
            needle: str | None = None, source: str | None = None,
            truth: list[tuple[float, float]] | None = None) -> QueryRecord:
    return QueryRecord(
        kind=kind, query=query, needle=needle, source=source, truth=truth or [],
        latency_ms=latency_ms,
        moments=[MomentRecord(start=m.start, end=m.end, score=m.score, evidence=[
            EvidenceRecord(channel=e.channel, kind=e.kind, text=e.text, start=e.start,
                           end=e.end, score=e.score) for e in m.evidence]) for m in moments])


def _absent_queries(plans: list[NeedlePlan]) -> list[tuple[str, str]]:
    """``(source, query)``: the absent pool, then every pool needle this haystack lacks."""
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


def run_needle_bench(hours: float = 1.0, needles: int = 30, seed: int = 0, *,
                     workdir: str | Path | None = None,
                     models: ModelSpecs | dict[str, str] | None = None,
                     progress: Progress | None = None,
                     threshold: float | None = None) -> NeedleReport:
    """Build a haystack, index it, ask every needle and absent query, and score.

    Indexing uses the library's default analyzers: the embedded ones plus ``objects`` and
    ``image`` when their models are configured (``models``, or files in
    ``$VIDSEEK_MODELS``). Without object models the picture needles are not asked (the
    report's ``skipped`` says why); they stay in the video. Every search asks for ``k=5``
    with ``threshold=0.0``; one untimed query of each form warms the models up first.

    Args:
        hours: length of the haystack.
        needles: how many needles to plant.
        seed: seed of the haystack.
        workdir: where the video, its truth and the library live, reused by later runs;
            a temporary folder (deleted afterwards) when None.
        models: model specs for the library (see `vidseek.models.registry.ModelSpecs`).
        progress: a Rich progress display to show the build, index and query steps on.
        threshold: the score a moment needs to count; default the search's calibrated
            default threshold.

    Returns:
        The report with every query's raw results, scores and a threshold sweep.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="vidseek-needle-") as folder:
            return run_needle_bench(hours, needles, seed, workdir=folder, models=models,
                                    progress=progress, threshold=threshold)
    from vidseek.library import Library

    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    steps = _Steps(progress)
    script, plans = needle_script(hours, needles, seed)
    video, truth, build_seconds = _haystack(script, folder, steps)
    plans = measure_needles(plans, truth)
    with Library(folder / "library", models=models) as library:
        with steps.step("index haystack") as update:
            indexed = library.index([video], progress=lambda _path, done: update(done))
        result = indexed.results[0]
        if result.video_id is None:
            raise RuntimeError(f"could not index {video}: {result.errors}")
        skipped = {}
        if "objects" not in library.analyzers:
            skipped["picture"] = ("no object detector or scene classifier configured: pass "
                                  "models= or put the model files in $VIDSEEK_MODELS")
        if "image" not in library.analyzers:
            skipped["picture-image"] = ("no image embedder configured: pass models= or put "
                                        "the model files in $VIDSEEK_MODELS")
        records = _ask(library, result.video_id, plans, skipped, folder / "photos", steps)
        chosen = library.searcher.calibration.threshold if threshold is None else threshold
    return NeedleReport(
        hours=hours, needles=needles, seed=seed, threshold=chosen, video=str(video),
        video_id=result.video_id, duration=truth.duration, build_seconds=build_seconds,
        index_seconds=indexed.seconds, index_status=result.status,
        index_errors=result.errors, analyzers=list(library.analyzers), skipped=skipped,
        plans=plans, records=records, scores=score_needles(records, chosen),
        sweep=threshold_sweep(records))


def _ask(library: Any, vid: str, plans: list[NeedlePlan], skipped: dict[str, str],
         photos: Path, steps: _Steps) -> list[QueryRecord]:
    """Every query of this haystack, timed, with every candidate moment."""
    asks: list[dict[str, Any]] = []
    for plan in plans:
        if plan.kind in skipped:
            continue
        window = [(plan.start, plan.end)]
        asks.append({"kind": plan.kind, "query": plan.query, "needle": plan.needle,
                     "truth": window})
        if plan.kind == "picture" and "picture-image" not in skipped:
            asks.append({"kind": "picture-image", "image": _photo_file(plan.needle, photos),
                         "needle": plan.needle, "truth": window})
    asks += [{"kind": "absent", "query": q, "source": s} for s, q in _absent_queries(plans)]

    def search(ask: dict[str, Any]) -> list:
        if "image" in ask:
            return library.search(image=ask["image"], videos=[vid], k=_SEARCH_K, threshold=0.0)
        return library.search(ask["query"], videos=[vid], k=_SEARCH_K, threshold=0.0)

    for warm in [{"query": "warm up"}] + [a for a in asks if "image" in a][:1]:
        search(warm)  # loads the text embedder (and image embedder) outside the timings
    records = []
    with steps.step("search", total=len(asks)) as update:
        for i, ask in enumerate(asks):
            started = time.perf_counter()
            moments = search(ask)
            latency = (time.perf_counter() - started) * 1000
            query = str(ask["image"]) if "image" in ask else ask["query"]
            records.append(_record(ask["kind"], query, moments, latency,
                                   needle=ask.get("needle"), source=ask.get("source"),
                                   truth=ask.get("truth")))
            update(i + 1)
    return records


# -- the table -------------------------------------------------------------------------------


def needle_table(report: NeedleReport) -> Table:
    """The report as a Rich table: one row per needle kind, one for absent queries.

    Args:
        report: a needle benchmark run (use `NeedleReport.rescored` for another threshold).

    Returns:
        Columns kind, n, R@1@0.5, R@5@0.5, mIoU, FP rate, p50 ms, p95 ms.
    """
    from rich.table import Table

    def number(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    table = Table(title=f"needle benchmark: {report.hours:g} h, {report.needles} needles, "
                        f"seed {report.seed}, threshold {report.threshold:g}")
    for name in ("kind", "n", "R@1@0.5", "R@5@0.5", "mIoU", "FP rate", "p50 ms", "p95 ms"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for kind, row in report.scores["kinds"].items():
        table.add_row(kind, str(row["n"]), number(row["R@1@0.5"]), number(row["R@5@0.5"]),
                      number(row["mIoU"]), "-", number(row["p50_ms"], 0),
                      number(row["p95_ms"], 0))
    absent = report.scores.get("absent")
    if absent:
        table.add_row("absent", str(absent["n"]), "-", "-", "-", number(absent["fp_rate"]),
                      number(absent["p50_ms"], 0), number(absent["p95_ms"], 0))
    for kind, why in report.skipped.items():
        table.add_row(kind, "0", "-", "-", "-", "-", "-", "-")
        table.caption = ((table.caption + "\n") if table.caption else "") + f"{kind}: {why}"
    return table
