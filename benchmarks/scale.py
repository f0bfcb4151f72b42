"""Scale-out indexing: local indexing vs Ray with 1 and 2 workers, on the same batch.

A batch of generated videos (random shots, burned-in text, spoken sentences) is indexed
into a fresh library by each mode in turn, the modes interleaved in every repetition so
that a busy machine slows them alike:

- ``local``: ``Library.index(paths)``, one video after another (its three jobs, frames,
  speech and shots, run side by side in threads);
- ``ray-1`` / ``ray-2``: ``Library.index(paths, executor="ray")`` on a local Ray started
  with 1 or 2 CPUs (one task per CPU at a time; tasks are per video and job).

Each mode starts cold (models load in each new process or library). Ray's start-up
(``ray.init``) is timed apart from indexing. Reported: median wall seconds, throughput
(seconds of video indexed per wall second) and each ratio to ``local`` measured in the same
run, plus the load averages, since other work on the machine moves every number.

    python benchmarks/scale.py [--videos 4] [--seconds 30] [--repeats 2] [--out PATH]

Prints a table and writes JSON (benchmarks/results/scale.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANALYZERS = ["shots", "speech", "text"]
MODES = ("local", "ray-1", "ray-2")


def make_batch(folder: Path, videos: int, seconds: float) -> list[Path]:
    from vidseek.synth import build, random_script

    paths = []
    for k in range(videos):
        path = folder / f"batch{k}.mp4"
        if not path.exists():
            build(random_script(seconds, seed=100 + k, width=640, height=360, fps=10.0), path)
        paths.append(path)
    return paths


def run_mode(mode: str, paths: list[Path], library: Path) -> dict:
    import ray

    from vidseek.indexing import connect
    from vidseek.library import Library

    startup = 0.0
    if mode != "local":
        began = time.perf_counter()
        connect(None, num_cpus=int(mode.split("-")[1]))
        startup = time.perf_counter() - began
    try:
        with Library(library, analyzers=ANALYZERS) as lib:
            began = time.perf_counter()
            report = lib.index(paths, executor="local" if mode == "local" else "ray")
            seconds = time.perf_counter() - began
            rows = {r.video_id: sorted(r.analyzers.items()) for r in report.results}
    finally:
        if mode != "local":
            ray.shutdown()
    failed = [r.path for r in report.results if r.status != "indexed"]
    if failed:
        raise RuntimeError(f"{mode}: not indexed: {failed}")
    return {"seconds": seconds, "startup": startup, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each video")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scale.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="vidseek-scale-"))
    try:
        paths = make_batch(work, args.videos, args.seconds)
        video_seconds = args.videos * args.seconds
        runs: dict[str, list[dict]] = {m: [] for m in MODES}
        for repeat in range(args.repeats):
            for mode in MODES:
                library = work / f"lib-{mode}-{repeat}"
                runs[mode].append(run_mode(mode, paths, library))
                shutil.rmtree(library, ignore_errors=True)
                print(f"  {mode} #{repeat + 1}: {runs[mode][-1]['seconds']:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()

    same = all(r["rows"] == runs["local"][0]["rows"] for rs in runs.values() for r in rs)
    base = statistics.median(r["seconds"] for r in runs["local"])
    table = {}
    for mode, rs in runs.items():
        median = statistics.median(r["seconds"] for r in rs)
        table[mode] = {
            "seconds_median": round(median, 2),
            "seconds": [round(r["seconds"], 2) for r in rs],
            "ray_startup_median": round(statistics.median(r["startup"] for r in rs), 2),
            "throughput_video_s_per_s": round(video_seconds / median, 2),
            "speedup_vs_local": round(base / median, 3),
        }
    print(f"\n{args.videos} videos x {args.seconds:g} s ({video_seconds:g} s of video), "
          f"analyzers {','.join(ANALYZERS)}, median of {args.repeats}")
    print(f"{'mode':8} {'index s':>8} {'video s/s':>10} {'vs local':>9} {'ray start s':>12}")
    for mode, row in table.items():
        print(f"{mode:8} {row['seconds_median']:8.1f} {row['throughput_video_s_per_s']:10.2f} "
              f"{row['speedup_vs_local']:8.2f}x {row['ray_startup_median']:12.1f}")
    print(f"same observation counts in every mode: {same}")
    print(f"load average before {load_before}, after {load_after}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "cores": os.cpu_count()},
        "batch": {"videos": args.videos, "seconds_each": args.seconds, "analyzers": ANALYZERS},
        "repeats": args.repeats, "modes": table, "same_counts": same,
        "loadavg_before": load_before, "loadavg_after": load_after,
    }, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
