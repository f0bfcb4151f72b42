"""Temporal grounding on the real clips of ../shared/data/real: the Charades-STA queries and
Charades action segments of ``charades_Y1HGC`` (9 queries) and the NExT-GQA question windows
of ``nextqa_6037747123`` (6 questions): the ``real-mini`` task run by the evaluation runner
with the ``search`` method, scored with vidseek.eval.scoring.

Both clips are about 30 s long and mostly visual (Charades' audio is near-silent; NExT-QA's is
ambient voices), so these queries need visual understanding that the embedded default
(shots, speech, screen text, faces) may lack. The clips are indexed twice, into fresh
libraries: the embedded default, and embedded + objects + image with the model files of
../shared/models (as tests/test_library_visual.py configures them). The search keeps every
candidate (``threshold=0``); each query is scored at the library's calibrated threshold (a
query may be left with no moment: as a search with ``threshold=None`` would) and at 0 (every
candidate). Two blind guesses that never look at the video set the floor: "whole video" (one
moment spanning the clip) and "uniform windows" (5 equal windows tiling it; meant for R@5).

    python benchmarks/grounding_real.py [--shared ../shared] [--out PATH]

Prints one table per dataset and writes JSON (benchmarks/results/grounding_real.json) with
every query's predictions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
DATASETS = {"Charades (STA + actions)": "charades/", "NExT-GQA": "nextqa/"}
"""Dataset -> prefix of its samples' ids in the real-mini task."""
COLUMNS = ["R@1,IoU=0.3", "R@1,IoU=0.5", "R@1,IoU=0.7", "R@5,IoU=0.3", "R@5,IoU=0.5",
           "R@5,IoU=0.7", "mIoU", "mAP"]


def configurations(models: Path) -> dict[str, dict[str, str]]:
    mobilenet = models / "mobilenet-v2-imagenet" / "mobilenet_v2_1.0_224_quant_qdq.onnx"
    return {
        "embedded": {},
        "embedded+objects+image": {
            "detector": f"yolox:{models / 'yolox-nano-coco' / 'yolox_nano.onnx'}",
            "classifier": f"imagenet:{mobilenet}",
            "image_embedder": f"mobilenet:{mobilenet}",
        },
    }


def scored(records: list, threshold: float | None) -> dict:
    """The grounding metrics of some search records, with each query's predictions."""
    from vidseek.eval.metrics import temporal_iou
    from vidseek.eval.scoring import score_records

    scores = score_records(records, answers=False)
    per_query = []
    for r in records:
        ious = [max(temporal_iou(p, w) for w in r.windows) for p in r.predicted_windows]
        per_query.append({
            "query": r.question, "video": r.video, "source": r.extra.get("source"),
            "windows": [list(w) for w in r.windows],
            "predictions": [list(p) for p in r.predicted_windows],
            "top_iou": ious[0] if ious else 0.0, "best_iou": max(ious, default=0.0)})
    return {"queries": len(records), "answered": sum(bool(r.predicted_windows) for r in records),
            "k": 5, "threshold": threshold,
            "metrics": {k: v["value"] for k, v in scores["metrics"].items()},
            "per_query": per_query}


def blind(records: list, windows: int) -> list:
    """The records as a guess that never looks would answer: ``windows`` equal windows tiling
    the clip, in time order, with equal scores (1: the whole clip)."""
    out = []
    for r in records:
        edges = [r.duration * i / windows for i in range(windows + 1)]
        out.append(r.model_copy(update={
            "status": "ok", "evidence": [], "found": True,
            "predicted_windows": [(a, b, 1.0 / windows) for a, b in zip(edges, edges[1:])]}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "grounding_real.json")
    args = parser.parse_args()

    from vidseek.eval.datasets import load_task
    from vidseek.eval.records import at_threshold, read_records
    from vidseek.eval.runner import EvalConfig, run_eval
    from vidseek.library import Library

    data = args.shared / "data" / "real"
    dataset = load_task("real-mini", data)
    queries = {name: [s for s in dataset if s.id.startswith(prefix) and s.windows]
               for name, prefix in DATASETS.items()}
    videos = sorted({str(s.video) for qs in queries.values() for s in qs})
    # Only the models named here: none found in $VIDSEEK_MODELS by chance.
    os.environ["VIDSEEK_MODELS"] = str(Path(tempfile.gettempdir()) / "vidseek-no-models")

    rows, indexing, records = [], {}, []
    for config, models in configurations(args.shared / "models").items():
        with tempfile.TemporaryDirectory() as folder:
            # the models are saved in the library, where the runner's search finds them
            with Library(Path(folder) / "library", models=models or None) as library:
                report = library.index(videos)
                failed = {r.path: r.errors for r in report.results if r.status != "indexed"}
                if failed:
                    raise RuntimeError(f"{config}: indexing failed: {failed}")
                indexing[config] = {
                    "analyzers": library.analyzers, "seconds": report.seconds,
                    "per_video": [{"video": Path(r.path).name, "seconds": r.seconds,
                                   "duration": r.duration, "observations": r.analyzers}
                                  for r in report.results],
                }
                hours = sum(r.duration for r in report.results) / 3600
                indexing[config]["seconds_per_hour"] = report.seconds / hours
                calibrated = library.searcher.calibration.threshold
                print(f"indexed {len(videos)} clips with {config} "
                      f"({', '.join(library.analyzers)}) in {report.seconds:.1f} s "
                      f"({report.seconds / hours:.0f} s per hour of video)", flush=True)
            run = run_eval(EvalConfig(task="real-mini", data=data, method="search",
                                      out=Path(folder), consistency=False), dataset=dataset)
            records = read_records(run.samples)
        for name, prefix in DATASETS.items():
            mine = [r for r in records if r.id.startswith(prefix) and r.windows]
            seconds = sum(r.cost.seconds for r in mine if r.cost) / len(mine)
            for threshold, value in ((None, calibrated), (0.0, 0.0)):
                rows.append({"dataset": name, "run": config,
                             **scored(at_threshold(mine, value), threshold),
                             "seconds_per_query": seconds})
    for name, prefix in DATASETS.items():
        mine = [r for r in records if r.id.startswith(prefix) and r.windows]
        for guess, windows in (("whole video", 1), ("uniform windows (5)", 5)):
            rows.append({"dataset": name, "run": f"baseline: {guess}",
                         **scored(blind(mine, windows), None)})

    for dataset_name in queries:
        print(f"\n{dataset_name}: {len(queries[dataset_name])} queries")
        print(f"{'run':30s} {'threshold':>9s} {'answered':>8s} "
              + " ".join(f"{c:>11s}" for c in COLUMNS))
        for r in (r for r in rows if r["dataset"] == dataset_name):
            threshold = "-" if r["run"].startswith("baseline") else (
                "default" if r["threshold"] is None else f"{r['threshold']:g}")
            print(f"{r['run']:30s} {threshold:>9s} {r['answered']:>4d}/{r['queries']:<3d} "
                  + " ".join(f"{r['metrics'][c]:11.2f}" for c in COLUMNS)
                  + (f"  {r['seconds_per_query'] * 1000:.0f} ms/query"
                     if "seconds_per_query" in r else ""))
    result = {"machine": {"python": platform.python_version(), "cores": os.cpu_count()},
              "indexing": indexing, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
