"""Temporal grounding on the real clips of ../shared/data/real: the Charades-STA queries and
Charades action segments of ``charades_Y1HGC`` (9 queries) and the NExT-GQA question windows
of ``nextqa_6037747123`` (6 questions), scored with vidseek.eval.metrics.

Both clips are about 30 s long and mostly visual (Charades' audio is near-silent; NExT-QA's is
ambient voices), so these queries need visual understanding that the embedded default
(shots, speech, screen text, faces) may lack. Each clip is indexed twice, into fresh
libraries: the embedded default, and embedded + objects + image with the model files of
../shared/models (as tests/test_library_visual.py configures them). Each query is searched in
its own clip with ``threshold=None`` (the calibrated default: a query may get no moment) and
``threshold=0.0`` (every candidate). Two blind guesses that never look at the video set the
floor: "whole video" (one moment spanning the clip) and "uniform windows" (5 equal windows
tiling it; meant for R@5).

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
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
DATASETS = {"Charades (STA + actions)": "charades_Y1HGC.json",
            "NExT-GQA": "nextqa_6037747123.json"}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "grounding_real.json")
    args = parser.parse_args()

    from vidseek.eval.windows import BlindGuess, evaluate_grounding, load_grounding
    from vidseek.library import Library

    annotations = args.shared / "data" / "real" / "annotations"
    queries = {name: load_grounding(annotations / file) for name, file in DATASETS.items()}
    videos = sorted({str(q.video) for qs in queries.values() for q in qs})
    # Only the models named here: none found in $VIDSEEK_MODELS by chance.
    os.environ["VIDSEEK_MODELS"] = str(Path(tempfile.gettempdir()) / "vidseek-no-models")

    rows, indexing = [], {}
    for config, models in configurations(args.shared / "models").items():
        with tempfile.TemporaryDirectory() as folder, \
                Library(Path(folder) / "lib", models=models or None) as library:
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
            print(f"indexed {len(videos)} clips with {config} ({', '.join(library.analyzers)})"
                  f" in {report.seconds:.1f} s ({report.seconds / hours:.0f} s per hour of "
                  "video)", flush=True)
            for dataset, qs in queries.items():
                for threshold in (None, 0.0):
                    started = time.perf_counter()
                    result = evaluate_grounding(library, qs, k=5, threshold=threshold)
                    result["seconds_per_query"] = (time.perf_counter() - started) / len(qs)
                    rows.append({"dataset": dataset, "run": config, **result})
    for dataset, qs in queries.items():
        for name, guess in (("whole video", BlindGuess("whole")),
                            ("uniform windows (5)", BlindGuess("uniform", n=5))):
            rows.append({"dataset": dataset, "run": f"baseline: {name}",
                         **evaluate_grounding(guess, qs, k=5)})

    for dataset in queries:
        print(f"\n{dataset}: {len(queries[dataset])} queries")
        print(f"{'run':30s} {'threshold':>9s} {'answered':>8s} "
              + " ".join(f"{c:>11s}" for c in COLUMNS))
        for r in (r for r in rows if r["dataset"] == dataset):
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
