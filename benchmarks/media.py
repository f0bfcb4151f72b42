"""Media layer speed: frame sampling and shot detection against the usual ways of doing them.

On a generated 720p30 H.264 video (10 minutes by default):

- sampling one frame every 2 s: vidseek's VideoReader vs decoding every frame and keeping the
  wanted ones (what common evaluation harnesses do), with PyAV's default threading and with
  frame threading; the frames returned are checked to be identical;
- shot detection: vidseek vs PySceneDetect's ContentDetector (time, and F1 at +-0.1 s against
  the generator's ground truth).

Prints a table and writes JSON (benchmarks/results/media.json by default). Timings are medians
of --repeats runs in this one process; the shot detectors take turns within each repeat.
Usage:

    python benchmarks/media.py [--minutes 10] [--repeats 3] [--gop 2] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from vidseek.eval.metrics import boundary_f1
from vidseek.media import VideoReader, detect_shots, probe
from vidseek.synth import build, load_truth, random_script, truth_path

HERE = Path(__file__).resolve().parent


def make_video(folder: Path, minutes: float, gop: float, seed: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_{minutes:g}min_720p30_gop{gop:g}_seed{seed}.mp4"
    if path.exists() and truth_path(path).exists():
        return path
    script = random_script(
        minutes * 60, seed=seed, width=1280, height=720, fps=30, gop_seconds=gop,
        with_speech=False, audio=False,
    )
    started = time.perf_counter()
    build(script, path)
    print(f"generated {path.name} in {time.perf_counter() - started:.0f} s")
    return path


def decode_all_keep_wanted(path: Path, times: list[float], *, threads: str | None) -> list:
    """The harness way: decode every frame in order, convert the ones shown at ``times``."""
    kept = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if threads:
            stream.codec_context.thread_type = threads
        origin = (container.start_time or 0) / 1_000_000
        wanted = iter(times)
        target = next(wanted, None)
        previous = None
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) - origin
            while target is not None and t > target + 1e-9:
                kept.append((previous[0], previous[1].to_ndarray(format="rgb24")))
                target = next(wanted, None)
            if target is None:
                break
            previous = (t, frame)
        while target is not None and previous is not None:
            kept.append((previous[0], previous[1].to_ndarray(format="rgb24")))
            target = next(wanted, None)
    return kept


def vidseek_sample(path: Path, times: list[float], tolerance: float = 0.0) -> tuple[list, dict]:
    with VideoReader(path) as reader:
        sampled = reader.near(times, tolerance) if tolerance else reader.at(times)
        frames = [(f.time, f.image) for f in sampled]
        stats = {"frames_decoded": reader.stats.frames_decoded, "seeks": reader.stats.seeks}
    return frames, stats


def vidseek_overview(path: Path, count: int) -> list:
    with VideoReader(path) as reader:
        return [(f.time, f.image) for f in reader.overview(count)]


def pyscenedetect_cuts(path: Path) -> list[float]:
    from scenedetect import ContentDetector, detect

    scenes = detect(str(path), ContentDetector())
    return [start.get_seconds() for start, _ in scenes[1:]]


def timed(fn, repeats: int):
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), seconds, result


def same_frames(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        abs(x[0] - y[0]) < 1e-6 and np.array_equal(x[1], y[1]) for x, y in zip(a, b)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gop", type=float, default=2.0, help="keyframe interval, seconds")
    parser.add_argument("--every", type=float, default=2.0, help="sampling interval, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "media.json")
    args = parser.parse_args()

    path = make_video(args.video_dir, args.minutes, args.gop, args.seed)
    info = probe(path)
    truth = load_truth(truth_path(path))
    print(f"{path.name}: {info.duration:.0f} s, {info.video.frame_count} frames, "
          f"keyframes every {info.video.keyframe_interval} s")

    rows = []
    aligned = [k * args.every for k in range(int(info.duration / args.every))]
    offset = [t + args.every / 2 for t in aligned if t + args.every / 2 < info.duration]
    for label, times in (("aligned (0, 2, 4 ...)", aligned), ("offset (1, 3, 5 ...)", offset)):
        base_s, base_runs, base = timed(
            lambda t=times: decode_all_keep_wanted(path, t, threads=None), args.repeats)
        thr_s, thr_runs, _ = timed(
            lambda t=times: decode_all_keep_wanted(path, t, threads="AUTO"), args.repeats)
        ours_s, ours_runs, (ours, stats) = timed(lambda t=times: vidseek_sample(path, t),
                                                 args.repeats)
        rows.append({
            "task": f"sample every {args.every:g} s, {label}",
            "frames": len(times),
            "decode_all_s": base_s,
            "decode_all_frame_threads_s": thr_s,
            "vidseek_s": ours_s,
            "speedup_vs_decode_all": base_s / ours_s,
            "speedup_vs_decode_all_frame_threads": thr_s / ours_s,
            "identical_frames": same_frames(base, ours),
            "vidseek_frames_decoded": stats["frames_decoded"],
            "runs": {"decode_all": base_runs, "decode_all_frame_threads": thr_runs,
                     "vidseek": ours_runs},
        })

        near_s, near_runs, (near, _) = timed(
            lambda t=times: vidseek_sample(path, t, args.every / 2), args.repeats)
        rows.append({
            "task": f"  within +-{args.every / 2:g} s (keyframes where near)",
            "frames": len(near),
            "vidseek_s": near_s,
            "speedup_vs_decode_all": base_s / near_s,
            "max_offset_s": max(abs(f[0] - t) for f, t in zip(near, times)),
            "runs": {"vidseek": near_runs},
        })

    count = int(info.duration / args.every)
    over_s, over_runs, over = timed(lambda: vidseek_overview(path, count), args.repeats)
    rows.append({"task": f"overview: {count} keyframes near evenly spread times",
                 "frames": len(over), "vidseek_s": over_s, "runs": {"vidseek": over_runs},
                 "speedup_vs_decode_all": rows[0]["decode_all_s"] / over_s})

    expected = [(b.start, b.end) for b in truth.boundaries]
    # The three detectors take turns within each repeat, so that a load on the machine that
    # comes and goes falls on all of them alike (the speedups compare runs made side by side).
    detectors = {"pyscenedetect": lambda: pyscenedetect_cuts(path),
                 "vidseek": lambda: detect_shots(path),
                 "vidseek_one_process": lambda: detect_shots(path, workers=1)}
    shot_runs: dict[str, list[float]] = {name: [] for name in detectors}
    found = {}
    for _ in range(args.repeats):
        for name, detect in detectors.items():
            started = time.perf_counter()
            found[name] = detect()
            shot_runs[name].append(time.perf_counter() - started)
    psd_runs, our_runs, one_runs = shot_runs.values()
    psd_s, our_s, one_s = (statistics.median(runs) for runs in shot_runs.values())
    psd_cuts, our_shots, one_shots = found.values()
    assert one_shots == our_shots, "one process and several must agree"
    psd_score = boundary_f1(psd_cuts, expected)
    our_score = boundary_f1([s.start for s in our_shots[1:]], expected)
    shots = {
        "boundaries_expected": len(expected),
        "cuts": sum(b.kind == "cut" for b in truth.boundaries),
        "gradual": sum(b.kind != "cut" for b in truth.boundaries),
        "pyscenedetect_s": psd_s, "vidseek_s": our_s, "speedup": psd_s / our_s,
        "vidseek_one_process_s": one_s, "speedup_one_process": psd_s / one_s,
        "speedup_each_repeat": [p / o for p, o in zip(psd_runs, our_runs)],
        "speedup_one_process_each_repeat": [p / o for p, o in zip(psd_runs, one_runs)],
        "pyscenedetect": _score(psd_score),
        "vidseek": _score(our_score),
        "runs": {"pyscenedetect": psd_runs, "vidseek": our_runs, "vidseek_one_process": one_runs},
    }

    print()
    print(f"{'task':48s} {'frames':>6s} {'decode-all':>10s} {'+threads':>9s} {'vidseek':>8s} "
          f"{'speedup':>8s}  same")
    for r in rows:
        base = f"{r['decode_all_s']:9.2f}s" if "decode_all_s" in r else f"{'':10s}"
        threads = (f"{r['decode_all_frame_threads_s']:8.2f}s" if "decode_all_s" in r
                   else f"{'':9s}")
        print(f"{r['task']:48s} {r['frames']:6d} {base} {threads} {r['vidseek_s']:7.2f}s "
              f"{r['speedup_vs_decode_all']:7.1f}x  {r.get('identical_frames', '')}")
    print()
    print(f"{'shot detection':28s} {'time':>8s} {'precision':>9s} {'recall':>7s} {'F1':>6s}")
    for name, secs, score in (("PySceneDetect Content", psd_s, psd_score),
                              (f"vidseek ({os.cpu_count()} cores)", our_s, our_score),
                              ("vidseek (1 process)", one_s, our_score)):
        print(f"{name:28s} {secs:7.2f}s {score.precision:9.3f} {score.recall:7.3f} "
              f"{score.f1:6.3f}")
    print(f"vidseek is {psd_s / our_s:.1f}x faster ({psd_s / one_s:.1f}x in one process; "
          f"{len(expected)} true boundaries: "
          f"{shots['cuts']} cuts, {shots['gradual']} gradual)")

    result = {
        "video": {"name": path.name, "duration_s": info.duration, "width": info.video.width,
                  "height": info.video.height, "fps": info.video.fps,
                  "keyframe_interval_s": info.video.keyframe_interval},
        "machine": {"python": platform.python_version(), "cpu": platform.processor(),
                    "pyav": av.__version__},
        "repeats": args.repeats,
        "sampling": rows,
        "shots": shots,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")


def _score(score) -> dict:
    return {"precision": score.precision, "recall": score.recall, "f1": score.f1,
            "matched": score.matched, "detected": score.detected}


if __name__ == "__main__":
    main()
