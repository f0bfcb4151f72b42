"""Sound events: tags on real clips whose sounds are known, search for sound queries, false
tags on speech-only and silent clips, and what the sounds analyzer costs.

Real clips (../shared/data/real, SOURCES.md says what is heard in each): for each, whether
the expected AudioSet labels were tagged, every label tagged (so false tags show), and
whether a sound query finds the clip first among all of them (R@1, one library of every
clip, indexed with the sounds analyzer only). Cost: the embedded index of the 10-minute
lecture (benchmarks/index.py's) with and without sounds, alternating, in fresh processes,
median of ``--repeats`` (wall seconds, and CPU seconds of all threads, which a busy machine
moves less); and the tagger alone in seconds per hour of audio.

    python benchmarks/sounds.py [--repeats 3] [--out benchmarks/results/sounds.json]
        [--cost-only] [--before /tmp/src-before/src]

Needs `vidseek models install sounds`. Prints tables and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE.parent.parent / "shared" / "data" / "real" / "videos"

EXPECTED = {  # clip -> labels that must be tagged (from SOURCES.md's notes)
    "videollama_applausing.mp4": {"Applause"},
    "videollama_dog_barking.mp4": {"Dog", "Bark"},
    "musicavqa_00003491.mp4": {"Music", "Ukulele"},
    "videollava_sample_demo_22.mp4": {"Drum"},
    "videollama_boat.mp4": {"Engine", "Boat, Water vehicle", "Wind"},
}
QUIET = {  # clips that should get no sound tag: silent tracks, or speech only
    "imageio_cockatoo.mp4": "silent",
    "videollava_sample_demo_9.mp4": "silent",
    "charades_Y1HGC.mp4": "near-silent",
    "pyscenedetect_issue-195-aspect-ratio.mp4": "speech only",
}
QUERIES = {  # query -> the clip that should come first
    "applause": "videollama_applausing.mp4",
    "people clapping": "videollama_applausing.mp4",
    "a dog barking": "videollama_dog_barking.mp4",
    "ukulele music": "musicavqa_00003491.mp4",
    "someone playing the drums": "videollava_sample_demo_22.mp4",
    "a boat engine": "videollama_boat.mp4",
    "wind noise": "videollama_boat.mp4",
}


def tags_and_search() -> dict:
    from vidseek.library import Library

    clips = [REAL / name for name in [*EXPECTED, *QUIET]]
    rows, found = [], []
    with tempfile.TemporaryDirectory() as folder, Library(folder, analyzers=["sounds"]) as lib:
        report = lib.index(clips)
        names = {r.video_id: Path(r.path).name for r in report.results}
        for result in report.results:
            name = Path(result.path).name
            labels = sorted({o.text for o in lib.observations(result.video_id)})
            want = EXPECTED.get(name, set())
            rows.append({"clip": name, "expected": sorted(want), "tagged": labels,
                         "hit": bool(want & set(labels)) if want else not labels,
                         "what": QUIET.get(name, "sound")})
        for query, clip in QUERIES.items():
            moments = lib.search(query, k=5)
            first = names.get(moments[0].video_id) if moments else None
            found.append({"query": query, "clip": clip, "first": first,
                          "score": round(moments[0].score, 3) if moments else None,
                          "hit": first == clip})
    return {"clips": rows, "queries": found,
            "tag_recall": sum(r["hit"] for r in rows if r["expected"]) / len(EXPECTED),
            "quiet_clean": sum(r["hit"] for r in rows if not r["expected"]) / len(QUIET),
            "search_r1": sum(q["hit"] for q in found) / len(found)}


def tagger_speed() -> float:
    """Seconds per hour of audio for the tagger alone (decoding excluded), on 5 minutes."""
    import numpy as np

    from vidseek.analyzers.sounds import SoundAnalyzer
    from vidseek.media import AudioChunk
    from vidseek.models import resolve
    from vidseek.models.registry import discovered

    analyzer = SoundAnalyzer(resolve("sounds", discovered().sounds))
    audio = np.random.default_rng(0).normal(0, 0.1, 300 * 16_000).astype(np.float32)
    chunks = [AudioChunk(i / 16_000, audio[i:i + 16_000]) for i in range(0, audio.size, 16_000)]
    started = time.perf_counter()
    list(analyzer.analyze("v", chunks, 300.0))
    return (time.perf_counter() - started) * 12


def index_cost(repeats: int, before: Path | None = None) -> dict:
    """The lecture's index with and without sounds, in fresh processes, alternating (and
    alternating with the source tree ``before``, when given, run through PYTHONPATH)."""
    sys.path.insert(0, str(HERE))
    from index import make, measure  # benchmarks/index.py: the lecture, a fresh process each

    path = make(Path(tempfile.gettempdir()), 10)
    trees = {"": None, **({"before: ": before} if before else {})}
    runs: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for _ in range(repeats):
        for label, tree in trees.items():
            for name, analyzers in (("embedded", "shots,speech,text"),
                                    ("embedded + sounds", "shots,speech,text,sounds")):
                with tempfile.TemporaryDirectory() as library, _source(tree):
                    result = measure("vidseek", path, Path(library), analyzers)
                if result["errors"]:
                    raise RuntimeError(f"{label}{name}: {result['errors']}")
                runs.setdefault(label + name, []).append(result["seconds"])
                cpu.setdefault(label + name, []).append(result["cpu_seconds"])
    medians = {name: statistics.median(times) for name, times in runs.items()}
    cpu_medians = {name: statistics.median(times) for name, times in cpu.items()}

    def added(label: str, of: dict[str, float]) -> float:
        return of[f"{label}embedded + sounds"] / of[f"{label}embedded"] - 1

    return {"video": path.name, "runs": runs, "medians": medians, "added": added("", medians),
            "cpu_runs": cpu, "cpu_medians": cpu_medians, "cpu_added": added("", cpu_medians),
            **({"added_before": added("before: ", medians),
                "cpu_added_before": added("before: ", cpu_medians)} if before else {})}


@contextmanager
def _source(tree: Path | None):
    """Child processes import vidseek from `tree` (None: the installed one)."""
    old = os.environ.get("PYTHONPATH")
    if tree is not None:
        os.environ["PYTHONPATH"] = str(tree)
    try:
        yield
    finally:
        if tree is not None:
            if old is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sounds.json")
    parser.add_argument("--before", type=Path, default=None,
                        help="also measure the index cost with this source tree (a copy of "
                             "src/ from before a change), alternating with this one")
    parser.add_argument("--cost-only", action="store_true",
                        help="only the index cost (skip the clips and the tagger alone)")
    args = parser.parse_args()
    if not REAL.is_dir():
        sys.exit(f"real clips not found at {REAL} (../shared is absent)")

    quality, speed = {}, None
    if not args.cost_only:
        quality = tags_and_search()
        print(f"{'clip':42s} {'expected':28s} tagged")
        for row in quality["clips"]:
            mark = "ok " if row["hit"] else "MISS"
            print(f"{mark} {row['clip']:38s} {', '.join(row['expected']) or row['what']:28s} "
                  f"{', '.join(row['tagged'])}")
        print(f"\n{'query':28s} {'expected first':32s} first (score)")
        for q in quality["queries"]:
            print(f"{'ok ' if q['hit'] else 'MISS'} {q['query']:24s} {q['clip']:32s} "
                  f"{q['first']} ({q['score']})")
        print(f"\ntag recall {quality['tag_recall']:.2f} · quiet clips with no tag "
              f"{quality['quiet_clean']:.2f} · search R@1 {quality['search_r1']:.2f}")
        speed = tagger_speed()
        print(f"tagger alone: {speed:.1f} s per hour of audio")
    cost = index_cost(args.repeats, args.before)
    for label in ("", "before: ") if args.before else ("",):
        print(f"{label}embedded index of {cost['video']}: "
              f"{cost['medians'][label + 'embedded']:.1f} s, with sounds "
              f"{cost['medians'][label + 'embedded + sounds']:.1f} s (median of "
              f"{args.repeats}): {cost['added_before' if label else 'added']:+.1%}; CPU "
              f"seconds {cost['cpu_added_before' if label else 'cpu_added']:+.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": {"python": platform.python_version(),
                                                "cores": 2}, **quality,
                                    "tagger_seconds_per_hour": speed, "index": cost},
                                   indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
