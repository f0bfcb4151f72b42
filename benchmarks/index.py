"""Indexing speed and memory: vidseek's pipeline on generated "lecture" videos, and a naive
pipeline on the 10-minute one; with ``--analyzers``, the cost of each analyzer per hour of
video and what faces and object tags add to the embedded index.

A lecture is slides (static pictures, a title on each, changing every 20-60 s) with
continuous speech. For each video vidseek indexes it into a fresh library in a fresh
process (so peak RSS is that run's): wall time, real-time factor, seconds per analyzer
(they run side by side), peak RSS. The naive pipeline, in its own process, does what a
straightforward script would: decode every frame, OCR one frame per second, run whisper on
the whole audio, one after another, with the same models.

    python benchmarks/index.py [--minutes 10 60] [--naive-minutes 10] [--out PATH]
                               [--only NAMES] [--keep-libraries DIR [--search-kept]]
    python benchmarks/index.py --analyzers [--minutes 10] [--out PATH]

The analyzer costs are measured on two 10-minute videos: the lecture, and "mixed" footage
(random shots of 2-15 s with camera motion, pasted photos of people, animals and objects,
signs and speech). Each analyzer runs alone in a fresh process (seconds per hour of video),
then the embedded index (shots, speech, text) runs with and without faces and objects. The
object and scene tagger needs the model files of ../shared/models (or $VIDSEEK_MODELS).

With ``--keep-libraries DIR`` each video's library is kept in ``DIR/<video name>``;
``--search-kept`` then searches those libraries for the lecture's own slide titles and
sentences (R@1 and the latency of `Library.search`) instead of indexing.

Prints a table and writes JSON (benchmarks/results/index.json, or analyzers.json).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def lecture_script(minutes: float, seed: int = 0):
    from vidseek.synth import Script, ShotSpec, SpeechSpec, TextSpec
    from vidseek.synth.prose import prose_sentences
    from vidseek.synth.randomize import SIGNS

    rng = np.random.default_rng(seed)
    total = minutes * 60
    shots, texts, t, k = [], [], 0.0, 0
    while t < total - 1:
        length = min(float(rng.uniform(20, 60)), total - t)
        if total - t - length < 20:
            length = total - t
        content = ("gradient", "color")[k % 2]
        shots.append(ShotSpec(duration=length, content=content, motion="static"))
        title = SIGNS[k % len(SIGNS)] if k < len(SIGNS) else f"SLIDE {k + 1}"
        texts.append(TextSpec(text=title, start=t + 0.5, end=t + length - 0.5, position="top"))
        t += length
        k += 1
    sentences = prose_sentences()
    rng.shuffle(sentences)
    speech, t, n = [], 1.0, 0
    while True:
        sentence = sentences[n % len(sentences)]
        # espeak at 160 words a minute speaks about 13 characters a second; leave room
        length = len(sentence) / 11 + 0.8
        if t + length > total - 1:
            break
        speech.append(SpeechSpec(text=sentence, start=t))
        t += length
        n += 1
    return Script(width=640, height=360, fps=10.0, shots=shots, texts=texts, speech=speech,
                  seed=seed)


def make(folder: Path, minutes: float) -> Path:
    from vidseek.synth import build, truth_path

    path = folder / f"lecture_{minutes:g}min_v2.mp4"
    if not (path.exists() and truth_path(path).exists()):
        started = time.perf_counter()
        build(lecture_script(minutes), path)
        print(f"generated {path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def make_mixed(folder: Path, minutes: float) -> Path:
    from vidseek.synth import build, random_script, truth_path

    path = folder / f"mixed_{minutes:g}min.mp4"
    if not (path.exists() and truth_path(path).exists()):
        build(random_script(minutes * 60, seed=3, fps=25.0), path)
    return path


def child_vidseek(path: Path, library: Path, analyzers: str | None = None) -> dict:
    from vidseek.library import Library

    started, cpu = time.perf_counter(), time.process_time()
    chosen = analyzers.split(",") if analyzers else None
    with Library(library, analyzers=chosen) as lib:
        result = lib.index([path]).results[0]
    # CPU seconds of every thread: on a busy machine a steadier measure of work than wall time
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
            "status": result.status,
            "analyzer_seconds": result.analyzer_seconds, "observations": result.analyzers,
            "errors": result.errors}


def child_naive(path: Path) -> dict:
    """Decode every frame, OCR one a second, whisper on the whole audio: one after another."""
    import av

    from vidseek.media import read_audio
    from vidseek.models import resolve
    from vidseek.models.whisper import load_whisper, locate_model

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    reader = resolve("ocr")
    lines, next_t = 0, 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= next_t:
                image = frame.reformat(width=640, height=360, format="rgb24").to_ndarray()
                lines += len(reader.read(image))
                next_t += 1.0
    seconds["decode every frame + OCR 1/s"] = time.perf_counter() - started
    began = time.perf_counter()
    model = load_whisper(locate_model())
    audio = np.concatenate([c.samples for c in read_audio(path)])
    segments, _ = model.transcribe(audio, word_timestamps=True)
    said = sum(1 for _ in segments)
    seconds["whisper on the whole audio"] = time.perf_counter() - began
    return {"seconds": time.perf_counter() - started, "analyzer_seconds": seconds,
            "observations": {"text lines read": lines, "speech segments": said}}


def search_kept(path: Path, library: Path, queries: int = 20) -> dict:
    """Search a kept index of a lecture for its own words, in this process: unique slide
    titles ("SLIDE 123") and spoken sentences (the prose repeats over long videos, so a hit
    on any time the sentence is said counts). R@1: the first moment overlaps the truth.
    Latency: median and p95 of `Library.search` after one warm-up query."""
    from vidseek.eval.metrics import temporal_iou
    from vidseek.library import Library
    from vidseek.synth import truth_path

    truth = json.loads(truth_path(path).read_text())
    titles = [t for t in truth["texts"] if t["text"].startswith("SLIDE ")]
    said: dict[str, list[dict]] = {}
    for line in truth["speech"]:
        said.setdefault(line["text"], []).append(line)
    pick = np.random.default_rng(0)
    asked = {
        "text": [(t["text"], [t]) for t in pick.permutation(titles)[:queries]],
        "speech": [(text, said[text]) for text in
                   pick.permutation(sorted(said))[:queries]],
    }
    result: dict = {"video": path.name}
    seconds = []
    with Library(library, create=False) as lib:
        lib.search("warm-up")
        for kind, pairs in asked.items():
            hits = 0
            for query, spans in pairs:
                started = time.perf_counter()
                found = lib.search(query, kinds=[kind], k=1)
                seconds.append(time.perf_counter() - started)
                hits += bool(found) and any(
                    temporal_iou((found[0].start, found[0].end), (s["start"], s["end"])) > 0
                    for s in spans)
            result[f"{kind}_r1"] = hits / max(1, len(pairs))
            result[f"{kind}_queries"] = len(pairs)
    result["search_ms_p50"] = 1000 * float(np.median(seconds))
    result["search_ms_p95"] = 1000 * float(np.percentile(seconds, 95))
    return result


def measure(mode: str, path: Path, library: Path | None = None, analyzers: str = "") -> dict:
    """Run one measurement in a fresh process and read its peak RSS."""
    args = [sys.executable, __file__, "--child", mode, str(path)]
    if library is not None:
        args += [str(library), analyzers]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} on {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 60])
    parser.add_argument("--naive-minutes", type=float, default=10)
    parser.add_argument("--video-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "index.json")
    parser.add_argument("--keep-libraries", type=Path, metavar="DIR",
                        help="index into DIR/<video name> and keep it (else a temporary folder)")
    parser.add_argument("--search-kept", action="store_true",
                        help="search the libraries kept in --keep-libraries for the --minutes "
                             "videos (their slide titles and sentences) instead of indexing")
    parser.add_argument("--analyzers", action="store_true",
                        help="measure each analyzer's cost per hour of video instead")
    parser.add_argument("--only", metavar="NAMES", default="",
                        help="index with these analyzers only (comma-separated, e.g. shots)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        mode, path, *rest = args.child
        result = (child_vidseek(Path(path), Path(rest[0]), rest[1] if len(rest) > 1 else None)
                  if mode == "vidseek" else child_naive(Path(path)))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    if args.analyzers:
        analyzer_costs(args)
        return
    if args.search_kept:
        if not args.keep_libraries:
            parser.error("--search-kept needs --keep-libraries DIR")
        found = []
        for minutes in args.minutes:
            path = make(args.video_dir, minutes)
            found.append({"minutes": minutes,
                          **search_kept(path, args.keep_libraries / path.stem)})
            print(json.dumps(found[-1]), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"searches": found}, indent=2))
        print(f"wrote {args.out}")
        return
    rows = []
    for minutes in args.minutes:
        path = make(args.video_dir, minutes)
        kept = args.keep_libraries / path.stem if args.keep_libraries else None
        if kept is not None:  # to search it afterwards
            shutil.rmtree(kept, ignore_errors=True)
        with nullcontext(kept) if kept else tempfile.TemporaryDirectory() as library:
            result = measure("vidseek", path, Path(library), args.only)
        rows.append({"video": path.name, "minutes": minutes, "pipeline": "vidseek", **result})
        if minutes == args.naive_minutes:
            rows.append({"video": path.name, "minutes": minutes, "pipeline": "naive",
                         **measure("naive", path)})

    print()
    print(f"{'video':22s} {'pipeline':8s} {'wall':>8s} {'x real time':>12s} {'peak RSS':>9s}  "
          "seconds per part")
    for r in rows:
        r["real_time_factor"] = r["minutes"] * 60 / r["seconds"]
        parts = ", ".join(f"{k} {v:.0f}" for k, v in r["analyzer_seconds"].items())
        print(f"{r['video']:22s} {r['pipeline']:8s} {r['seconds']:7.1f}s "
              f"{r['real_time_factor']:11.1f}x {r['peak_rss_mb']:7.0f}MB  {parts}")
    ours = {r["minutes"]: r for r in rows if r["pipeline"] == "vidseek"}
    naive = next((r for r in rows if r["pipeline"] == "naive"), None)
    if naive is not None and naive["minutes"] in ours:
        ratio = naive["seconds"] / ours[naive["minutes"]]["seconds"]
        print(f"\nvidseek is {ratio:.1f}x faster than the naive pipeline on the "
              f"{naive['minutes']:g}-minute video")
    result = {"machine": {"python": platform.python_version(), "cores": 2}, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


def analyzer_costs(args) -> None:
    """Each analyzer alone, then embedded with and without faces + objects, per video."""
    import os

    from vidseek.models.registry import discovered

    shared = HERE.parent.parent / "shared" / "models"
    if discovered().detector is None and shared.is_dir():
        os.environ["VIDSEEK_MODELS"] = str(shared)
    minutes = args.minutes[0] if args.minutes != [10, 60] else 10
    videos = [make(args.video_dir, minutes), make_mixed(args.video_dir, minutes)]
    alone = ["shots", "speech", "text", "faces", "objects", "image"]  # image brings shots
    combos = {"embedded": "shots,speech,text", "+ faces + objects":
              "shots,speech,text,faces,objects"}
    rows = []
    for path in videos:
        for name in [*alone, *combos]:
            with tempfile.TemporaryDirectory() as library:
                result = measure("vidseek", path, Path(library), combos.get(name, name))
            if result["errors"]:
                raise RuntimeError(f"{name} on {path.name}: {result['errors']}")
            result["seconds_per_hour"] = result["seconds"] * 60 / minutes
            rows.append({"video": path.name, "minutes": minutes, "run": name, **result})
            print(f"{path.name:22s} {name:18s} {result['seconds']:6.1f}s  "
                  f"{result['seconds_per_hour']:6.0f} s per hour of video  "
                  f"{result['peak_rss_mb']:5.0f}MB  {result['observations']}", flush=True)
        base, more = (next(r for r in rows if r["video"] == path.name and r["run"] == c)
                      for c in combos)
        added = more["seconds"] / base["seconds"] - 1
        print(f"{path.name}: faces + objects add {added:.0%} to the embedded index time")
    out = args.out if args.out != HERE / "results" / "index.json" else (
        HERE / "results" / "analyzers.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": {"python": platform.python_version(), "cores": 2},
                               "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
