"""The evaluation runner: one task, one method, every sample recorded as it finishes.

    result = run_eval(EvalConfig(task="nextgqa", data="/data/nextgqa", method="agent"))

Outputs (``out`` is the task's folder, default ``vidseek-eval/<task>``; each run has its own
folder, named by method, sampling and model, e.g. ``uniform-8f@qwen2.5vl-7b``)::

    out/<run>/samples.jsonl    one line per sample: prediction, parsed answer, evidence,
                               frame times, cost, status (ok / error / skipped)
    out/<run>/results.json     official metrics with bootstrap intervals, breakdowns, cost
    out/<run>/manifest.json    versions, decoder, sampling, prompts, seed, data checksums
    out/report.md, report.html every run of the task side by side, with the trust checks
    out/library/               the index the agent and search methods use

One failing sample is recorded with its error, not fatal. ``resume`` keeps the finished lines
of ``samples.jsonl`` and runs only the rest (failed samples are tried again); without it a
run starts over. Every random choice is seeded per sample, so the same command gives the
same numbers whatever the order or the number of workers.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from vidseek.errors import QueryError
from vidseek.eval.datasets import Dataset, Sample, load_task
from vidseek.eval.methods import (
    DEFAULT_FRAMES,
    METHODS,
    PROMPTS,
    SAMPLINGS,
    Method,
    MethodContext,
    Prediction,
    SkipSample,
    make_method,
    sample_rng,
    with_options,
)
from vidseek.eval.records import Consistency, SampleRecord, read_records, write_record
from vidseek.eval.scoring import score_records

__all__ = ["EvalConfig", "EvalResult", "make_record", "read_records", "run_eval", "run_name"]

SAMPLES_FILE = "samples.jsonl"
RESULTS_FILE = "results.json"
MANIFEST_FILE = "manifest.json"

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (samples finished, samples to run)."""


class EvalConfig(BaseModel):
    """One evaluation run: what ``vidseek eval`` takes."""

    task: str
    data: Path
    method: str = "agent"
    model: str | None = None
    """Chat model spec; None for the embedded default."""
    frames: int | None = None
    """Frames per question (frame methods; the agent's frame budget)."""
    fps: float | None = None
    sampling: str = "centers"
    """Where N uniform frames go: ``centers`` of N equal parts, or ``linspace`` from the first
    frame to the last (lmms-eval's choice)."""
    limit: int | None = None
    """Only the first N samples."""
    workers: int = 1
    resume: bool = False
    out: Path | None = None
    """The task's output folder (default ``vidseek-eval/<task>``)."""
    seed: int = 0
    consistency: bool = True
    """Ask multiple-choice questions again with the options shuffled (a trust check)."""
    command: list[str] = Field(default_factory=lambda: list(sys.argv))


class EvalResult(BaseModel):
    """Where a run wrote its outputs, and its results."""

    run: str
    folder: Path
    samples: Path
    results: Path
    manifest: Path
    report_md: Path
    report_html: Path
    ran: int
    """Samples run by this call (not those kept by ``resume``)."""
    kept: int
    """Samples kept from an earlier run by ``resume``."""
    summary: dict[str, Any]


def run_name(method: str, model: str | None, frames: int | None, fps: float | None,
             sampling: str = "centers") -> str:
    """``uniform-8f@scripted-vlm``: the method, its sampling and the model, safe as a folder
    (``uniform-8f-linspace@...`` for first-to-last sampling)."""
    name = method
    if fps:
        name += f"-{fps:g}fps"
    elif frames or method in ("uniform", "shuffled"):
        name += f"-{frames or DEFAULT_FRAMES}f"
        if sampling != "centers" and method in ("uniform", "shuffled"):
            name += f"-{sampling}"
    if model:
        name += "@" + re.sub(r"[^A-Za-z0-9._-]+", "-", model.rpartition("#")[2] or model)
    return name


def run_eval(config: EvalConfig, *, progress: Progress | None = None,
             dataset: Dataset | None = None) -> EvalResult:
    """Run one method on one task, write the JSONL, results, manifest and reports.

    Args:
        config: the run.
        progress: called with (samples finished, samples to run).
        dataset: the samples, when the caller has them already (the needle benchmark
            builds its haystack itself); default ``load_task(config.task, config.data)``.

    Raises:
        QueryError: an unknown method, or conflicting options.
        DataError: the task's files are missing or not in the official layout.
    """
    if config.method not in METHODS:
        raise QueryError(f"unknown method {config.method!r}; choose one of {', '.join(METHODS)}")
    if config.frames is not None and config.fps is not None:
        raise QueryError("give --frames or --fps, not both")
    if (config.frames is not None and config.frames < 1) or (config.fps is not None
                                                              and config.fps <= 0):
        raise QueryError("--frames must be at least 1 and --fps positive")
    if config.workers < 1:
        raise QueryError("--workers must be at least 1")
    if config.sampling not in SAMPLINGS:
        raise QueryError(f"unknown sampling {config.sampling!r}; choose one of "
                         f"{', '.join(SAMPLINGS)}")
    if dataset is None:
        dataset = load_task(config.task, config.data)
    samples = dataset.samples[: config.limit] if config.limit is not None else dataset.samples
    out = Path(config.out) if config.out else Path("vidseek-eval") / dataset.task
    name = run_name(config.method, config.model, config.frames, config.fps, config.sampling)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    samples_file = folder / SAMPLES_FILE
    context = MethodContext(model=config.model, frames=config.frames, fps=config.fps,
                            seed=config.seed, library=out / "library", sampling=config.sampling)
    method = make_method(config.method, context)
    reason = method.unavailable()
    kept: dict[str, SampleRecord] = {}
    if config.resume:
        kept = {r.id: r for r in read_records(samples_file)
                if r.status in ("ok", "skipped") and r.run == name}
    wanted = {s.id for s in samples}
    kept = {k: v for k, v in kept.items() if k in wanted}
    if not config.resume or reason:
        samples_file.write_text("")
    else:  # rewrite without failed or partial lines, which run again
        samples_file.write_text("".join(write_record(r) for r in kept.values()))
    pending = [s for s in samples if s.id not in kept]
    ran = 0
    try:
        if reason is None:
            ran = _run_samples(method, context, config, name, pending, samples_file, progress)
    finally:
        context.close()
    records = {r.id: r for r in read_records(samples_file)}
    ordered = [records[s.id] for s in samples if s.id in records]
    summary = _summary(config, dataset, name, ordered, reason)
    (folder / RESULTS_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    manifest = _manifest(config, dataset, name, method, samples)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    from vidseek.eval.report import write_reports

    report_md, report_html = write_reports(out)
    return EvalResult(run=name, folder=folder, samples=samples_file,
                      results=folder / RESULTS_FILE, manifest=folder / MANIFEST_FILE,
                      report_md=report_md, report_html=report_html, ran=ran,
                      kept=len(kept), summary=summary)


def _run_samples(method: Method, context: MethodContext, config: EvalConfig, name: str,
                 pending: list[Sample], samples_file: Path, progress: Progress | None) -> int:
    failed_videos = _index(method, context, pending)
    try:
        method.prepare([s for s in pending if s.video not in failed_videos])
    except Exception as exc:  # noqa: BLE001 - the samples then fail one by one, recorded
        log.warning("could not prepare the %s method: %s", method.name, exc)
    lock = threading.Lock()
    done = 0
    total = len(pending)
    if progress:
        progress(0, total)

    def one(index: int, sample: Sample) -> SampleRecord:
        if sample.video in failed_videos:
            return make_record(name, index, sample, error=failed_videos[sample.video])
        return _answer(method, config, name, index, sample)

    with samples_file.open("a", encoding="utf-8") as f, ThreadPoolExecutor(
            config.workers) as pool:
        futures = [pool.submit(one, i, s) for i, s in enumerate(pending)]
        for future in as_completed(futures):
            record = future.result()
            with lock:
                f.write(write_record(record))
                f.flush()
                os.fsync(f.fileno())  # a kill loses at most the sample under way
                done += 1
            if progress:
                progress(done, total)
    return done


def _index(method: Method, context: MethodContext, pending: list[Sample]) -> dict[Path, str]:
    """Index the videos the method needs; the reasons of those that failed, by video."""
    videos = [v for v in method.videos_to_index(pending)]
    if not videos:
        return {}
    missing = {v: f"video {v} not found; put the benchmark's videos where "
                  "docs/benchmarks.md says" for v in videos if not Path(v).is_file()}
    present = [v for v in videos if v not in missing]
    if present:
        report = context.open_library().index(present)
        for result in report.results:
            if result.status == "failed" and "file" in result.errors:
                missing[Path(result.path)] = f"could not index {result.path}: " + "; ".join(
                    f"{k}: {v}" for k, v in result.errors.items())
    return missing


def _answer(method: Method, config: EvalConfig, name: str, index: int,
            sample: Sample) -> SampleRecord:
    started = time.perf_counter()
    try:
        if sample.image is not None and not method.takes_images:
            raise SkipSample(f"the {method.name} method takes questions in words, and this "
                             "query is a picture")
        if not Path(sample.video).is_file():
            raise FileNotFoundError(f"video {sample.video} not found; put the benchmark's "
                                    "videos where docs/benchmarks.md says")
        prediction = method.predict(sample)
        consistency = None
        if (config.consistency and config.method != "search" and sample.kind == "mc"
                and len(sample.options or []) > 1):
            consistency = _consistency(method, config, sample, prediction)
    except SkipSample as exc:
        return make_record(name, index, sample, status="skipped", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing sample is recorded, not fatal
        return make_record(name, index, sample, error=f"{type(exc).__name__}: {exc}",
                       seconds=time.perf_counter() - started)
    return make_record(name, index, sample, prediction=prediction, consistency=consistency,
                   seconds=time.perf_counter() - started)


def _consistency(method: Method, config: EvalConfig, sample: Sample,
                 first: Prediction) -> Consistency:
    """Ask again with the options in another (seeded) order; same option chosen?"""
    count = len(sample.options)
    order = [int(i) for i in sample_rng(config.seed, sample.id, "options").permutation(count)]
    if order == list(range(count)):
        order = order[1:] + order[:1]
    again = method.predict(with_options(sample, order))
    chosen = order[again.choice] if again.choice is not None else None
    return Consistency(order=order, choice=chosen, text=again.text,
                       consistent=chosen is not None and chosen == first.choice,
                       cost=again.cost.model_copy())


def make_record(name: str, index: int, sample: Sample, *,
                prediction: Prediction | None = None, status: str | None = None,
                error: str | None = None, consistency: Consistency | None = None,
                seconds: float = 0.0) -> SampleRecord:
    """The record of one sample: the sample as released, and what the method answered (or
    the error / skip reason)."""
    record = SampleRecord(
        id=sample.id, run=name, task=sample.task, kind=sample.kind,
        status=status or ("ok" if prediction is not None else "error"), error=error,
        video=str(sample.video), question=sample.question,
        image=None if sample.image is None else str(sample.image), options=sample.options,
        answer=sample.answer, answer_text=sample.answer_text, windows=list(sample.windows),
        clip=sample.clip, category=sample.category, duration_group=sample.duration_group,
        duration=sample.duration if sample.duration is not None else _length(sample.video),
        extra=sample.extra, seconds=round(seconds, 4))
    if sample.task == "qvhighlights" and sample.extra.get("relevant_clip_ids"):
        from vidseek.eval.datasets.qvhighlights import clip_labels

        record.clip_labels = clip_labels(sample)
    if prediction is not None:
        record.prediction, record.choice = prediction.text, prediction.choice
        record.correct = (prediction.choice == sample.answer
                          if sample.kind == "mc" and sample.answer is not None else None)
        record.found, record.confidence = prediction.found, prediction.confidence
        record.predicted_windows = list(prediction.windows)
        record.evidence = list(prediction.evidence)
        record.frame_times = list(prediction.frame_times)
        record.cost, record.steps = prediction.cost.model_copy(), prediction.steps
        record.notes, record.consistency = list(prediction.notes), consistency
    return record


@functools.lru_cache(maxsize=4096)
def _length(video: Path) -> float | None:
    """The video's duration for the by-duration breakdown (None when it cannot be read)."""
    from vidseek.media import probe

    try:
        return probe(video).duration
    except Exception:  # noqa: BLE001 - a missing video is reported by its sample's error
        return None


def _summary(config: EvalConfig, dataset: Dataset, name: str, records: list[SampleRecord],
             reason: str | None) -> dict[str, Any]:
    head = {"task": dataset.task, "run": name, "method": config.method,
            "model": config.model or "embedded", "frames": config.frames, "fps": config.fps,
            "sampling": config.sampling,
            "seed": config.seed, "limit": config.limit}
    if reason:
        return {**head, "status": "not run", "reason": reason}
    scores = score_records(records, seed=config.seed, answers=config.method != "search")
    wanted = len(dataset.samples[: config.limit] if config.limit is not None else dataset.samples)
    status = "complete" if len(records) == wanted else "partial"
    return {**head, "status": status, **scores}


def _manifest(config: EvalConfig, dataset: Dataset, name: str, method: Method,
              samples: list[Sample]) -> dict[str, Any]:
    from vidseek.eval.manifest import build_manifest

    library = None
    if config.method in ("agent", "search"):
        folder = (Path(config.out) if config.out else Path("vidseek-eval") / dataset.task)
        library = {"path": str(folder / "library")}
        try:
            from vidseek.library import Library

            with Library(folder / "library") as lib:
                library.update({"analyzers": lib.analyzers,
                                "models": lib.models.model_dump(exclude_none=True)})
        except Exception as exc:  # noqa: BLE001 - the manifest says what it could not read
            library["error"] = str(exc)
    settings = {"frames": config.frames, "fps": config.fps, "sampling": config.sampling,
                "limit": config.limit,
                "workers": config.workers, "seed": config.seed, "resume": config.resume,
                "consistency": config.consistency}
    return build_manifest(
        task=dataset.task, data=dataset.root, run=name, method=method.describe(),
        model=config.model, settings=settings,
        prompts=PROMPTS if config.method in ("uniform", "single-frame", "shuffled", "blind")
        else {}, data_files=dataset.files, videos=[s.video for s in samples],
        notes=dataset.notes, library=library, command=config.command)
