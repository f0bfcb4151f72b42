"""The needle-in-a-haystack benchmark (``vidseek bench needle``): the needle dataset
(`vidseek.eval.datasets.needle`) run by the evaluation runner with the ``search`` method,
scored per needle kind at one threshold, with a threshold sweep.

    report = run_needle_bench(hours=1.0, needles=30, seed=0, workdir="/tmp/needle_work")
    print(report.scores["kinds"]["speech"]["R@1@0.5"])
    report.rescored(0.4)                   # the same search results, another threshold

The video, its ground truth and the library are kept in ``workdir``, with the runner's
outputs (``search/samples.jsonl``, ``search/results.json``, ``report.md``): a second run with
the same arguments neither rebuilds nor re-indexes, only searches again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vidseek.eval.datasets.needle import KINDS, NeedlePlan, haystack_dataset, make_haystack
from vidseek.eval.metrics import mean_iou, recall_at_k
from vidseek.eval.records import SampleRecord, at_threshold, read_records
from vidseek.eval.runner import EvalConfig, run_eval
from vidseek.eval.scoring import threshold_sweep

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.table import Table

    from vidseek.models.registry import ModelSpecs

__all__ = ["NeedleReport", "needle_table", "run_needle_bench", "score_needles"]

_IOU = 0.5


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _latencies(records: list[SampleRecord]) -> list[float]:
    """Milliseconds of each answered query's search call."""
    return [r.cost.seconds * 1000 for r in records if r.status == "ok" and r.cost]


def score_needles(records: Sequence[SampleRecord], threshold: float) -> dict[str, Any]:
    """Recall, IoU, false positives and latency per query kind, at one threshold.

    A moment counts only when its score >= `threshold`. For each needle kind (the records'
    category): ``n``, ``R@1@0.5`` and ``R@5@0.5`` (a counted moment among the first 1 / 5 has
    IoU >= 0.5 with the needle's window), ``mIoU`` (IoU of the first counted moment, 0 when
    none) and search latency ``p50_ms`` / ``p95_ms``. For absent queries: ``fp_rate``, the
    share whose first counted moment exists (i.e. whose top score >= `threshold`), overall
    and per source. Skipped queries are left out; failed ones count as finding nothing.

    Args:
        records: the needle run's records (search, every candidate kept).
        threshold: the score a moment needs to count.

    Returns:
        ``{"threshold": t, "kinds": {kind: {...}}, "absent": {...}}``; kinds without
        records are left out, ``absent`` is None when there were no absent queries.
    """
    counted = at_threshold([r for r in records if r.counted], threshold)
    kinds: dict[str, dict[str, Any]] = {}
    others = sorted({r.category or "" for r in counted} - {*KINDS, "absent"})
    for kind in [*KINDS, *others]:
        mine = [r for r in counted if (r.category or "") == kind]
        if not mine:
            continue
        predictions = [_kept(r) for r in mine]
        truths = [r.windows for r in mine]
        latencies = _latencies(mine)
        kinds[kind] = {
            "n": len(mine),
            "R@1@0.5": recall_at_k(predictions, truths, 1, _IOU),
            "R@5@0.5": recall_at_k(predictions, truths, 5, _IOU),
            "mIoU": mean_iou(predictions, truths),
            "p50_ms": _percentile(latencies, 50),
            "p95_ms": _percentile(latencies, 95),
        }
    absent = [r for r in counted if r.category == "absent"]
    return {"threshold": threshold, "kinds": kinds, "absent": _absent(absent)}


def _kept(record: SampleRecord) -> list[tuple[float, float]]:
    return [(start, end) for start, end, _ in record.predicted_windows]


def _absent(records: list[SampleRecord]) -> dict[str, Any] | None:
    if not records:
        return None

    def rate(rs: list[SampleRecord]) -> float:
        return sum(bool(r.predicted_windows) for r in rs) / len(rs)

    def source(r: SampleRecord) -> str:
        return str(r.extra.get("source") or "pool")

    latencies = _latencies(records)
    return {"n": len(records), "fp_rate": rate(records),
            "by_source": {s: {"n": len(rs), "fp_rate": rate(rs)}
                          for s in sorted({source(r) for r in records})
                          for rs in [[r for r in records if source(r) == s]]},
            "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95)}


# -- the run ---------------------------------------------------------------------------------


class NeedleReport(BaseModel):
    """A needle benchmark run: what was planted, every query's record, and the scores."""

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
    failed: dict[str, str] = Field(default_factory=dict)
    """Queries whose search failed, by sample id, and why (scored as finding nothing)."""
    plans: list[NeedlePlan]
    """The needles with measured times."""
    records: list[SampleRecord]
    """Every query as the runner recorded it: every candidate moment with its score, its
    evidence, and the search's seconds in ``cost``."""
    scores: dict[str, Any]
    """`score_needles` at `threshold`."""
    sweep: list[dict[str, Any]]
    """`vidseek.eval.scoring.threshold_sweep` over 0.05..0.95."""

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
    """The build / index / search steps on a Rich progress display, when one is given."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    @contextmanager
    def step(self, description: str, *, total: float | None = 1.0,
             eager: bool = True) -> Iterator[Callable[..., None]]:
        """Yields ``update(done, total=None)``. An eager step shows at once; a lazy one at
        its first update (a build that is reused never shows)."""
        task = None

        def update(done: float, new_total: float | None = None) -> None:
            nonlocal task, total
            if self.progress is None:
                return
            total = new_total if new_total is not None else total
            if task is None:
                task = self.progress.add_task(description, total=total)
            self.progress.update(task, completed=done, total=total)

        if eager:
            update(0)
        try:
            yield update
        finally:
            if task is not None:
                self.progress.update(task, completed=total)


def run_needle_bench(hours: float = 1.0, needles: int = 30, seed: int = 0, *,
                     workdir: str | Path | None = None,
                     models: ModelSpecs | dict[str, str] | None = None,
                     progress: Progress | None = None,
                     threshold: float | None = None) -> NeedleReport:
    """Build a haystack, index it, run the ``search`` method on every needle and absent
    query, and score.

    Indexing uses the library's default analyzers: the embedded ones plus ``objects`` and
    ``image`` when their models are configured (``models``, or files in
    ``$VIDSEEK_MODELS``). Without them the picture queries are skipped (the report's
    ``skipped`` says why); the pictures stay in the video. Every search asks for ``k=5``
    with ``threshold=0.0``; one untimed query of each form warms the models up first.

    Args:
        hours: length of the haystack.
        needles: how many needles to plant.
        seed: seed of the haystack.
        workdir: where the video, its truth, the library and the runner's outputs live,
            reused by later runs; a temporary folder (deleted afterwards) when None.
        models: model specs for the library (see `vidseek.models.registry.ModelSpecs`).
        progress: a Rich progress display to show the build, index and search steps on.
        threshold: the score a moment needs to count; default the search's calibrated
            default threshold.

    Returns:
        The report with every query's record, scores and a threshold sweep.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="vidseek-needle-") as folder:
            return run_needle_bench(hours, needles, seed, workdir=folder, models=models,
                                    progress=progress, threshold=threshold)
    from vidseek.library import Library

    folder = Path(workdir)
    steps = _Steps(progress)
    with steps.step(f"build {hours:g} h haystack", eager=False) as update:
        haystack = make_haystack(folder, hours, needles, seed, progress=update)
    with Library(folder / "library", models=models) as library:
        with steps.step("index haystack") as update:
            indexed = library.index([haystack.video], progress=lambda _path, done: update(done))
        result = indexed.results[0]
        if result.video_id is None:
            raise RuntimeError(f"could not index {haystack.video}: {result.errors}")
        analyzers = list(library.analyzers)
        chosen = library.searcher.calibration.threshold if threshold is None else threshold
    dataset = haystack_dataset(haystack, folder)
    config = EvalConfig(task=dataset.task, data=folder, method="search", out=folder,
                        consistency=False)
    with steps.step("search", total=None) as update:
        run = run_eval(config, dataset=dataset, progress=lambda done, total: update(done, total))
    by_id = {r.id: r for r in read_records(run.samples)}
    records = [by_id[s.id] for s in dataset.samples if s.id in by_id]
    return NeedleReport(
        hours=hours, needles=needles, seed=seed, threshold=chosen, video=str(haystack.video),
        video_id=result.video_id, duration=haystack.truth.duration,
        build_seconds=haystack.build_seconds, index_seconds=indexed.seconds,
        index_status=result.status, index_errors=result.errors, analyzers=analyzers,
        skipped=_skipped(records), failed={r.id: r.error or "" for r in records
                                           if r.status == "error"},
        plans=haystack.plans, records=records, scores=score_needles(records, chosen),
        sweep=threshold_sweep(records))


def _skipped(records: list[SampleRecord]) -> dict[str, str]:
    """The kinds none of whose queries ran, with why."""
    out = {}
    for kind in dict.fromkeys(r.category or "" for r in records):
        mine = [r for r in records if (r.category or "") == kind]
        if all(r.status == "skipped" for r in mine):
            out[kind] = mine[0].error or "skipped"
    return out


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
    notes = []
    for kind, why in report.skipped.items():
        table.add_row(kind, "0", "-", "-", "-", "-", "-", "-")
        notes.append(f"{kind}: {why}")
    if report.failed:
        first = next(iter(report.failed.values()))
        notes.append(f"{len(report.failed)} queries failed (counted as finding nothing); "
                     f"the first: {first}")
    table.caption = "\n".join(notes) or None
    return table
