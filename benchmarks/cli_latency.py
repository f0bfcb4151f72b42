"""How long the command line takes to answer: `vidseek --help`, `list`, `show` and `search`,
each run as a user runs it (a new process), several times.

Wall time of each run is measured with /usr/bin/time (``%e``, elapsed seconds) when it
exists, else around the subprocess; the table shows the median, the fastest and the slowest,
and the load average before the runs (a busy machine is slower: compare medians taken side by
side). The library is made once in --workdir from two short real clips (or given with
--library). Writes benchmarks/results/cli_latency.json (or --out).

    python benchmarks/cli_latency.py [--repeats 7] [--library DIR] [--tree LABEL=SRC ...]

``--tree before=/tmp/src-before`` runs another source tree (a copy of src/ from before a
change) with the same interpreter; with several trees the runs alternate between them, one
run of each in turn, so that a change of load on the machine affects them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIPS = ("llavanext_jobs.mp4", "videollama_dog_barking.mp4")
"""Two short real clips (speech, screen text) from ../shared/data/real/videos."""


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """(wall seconds, exit code) of one run."""
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if timer:
        with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
            done = subprocess.run([timer, "-f", "%e", "-o", out.name, *argv], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return float(Path(out.name).read_text().split()[-1]), done.returncode
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began, done.returncode


def make_library(folder: Path, videos: Path, env: dict[str, str]) -> Path:
    library = folder / "library"
    if not (library / "meta.json").exists():
        paths = [str(videos / name) for name in CLIPS]
        subprocess.run([sys.executable, "-m", "vidseek", "index", *paths, "--library",
                        str(library)], env=env, check=True, stdout=subprocess.DEVNULL)
    return library


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--library", type=Path, help="an existing library (default: made "
                        "in --workdir from two real clips)")
    parser.add_argument("--videos", type=Path, default=HERE.parents[1] / "shared" / "data"
                        / "real" / "videos")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir())
                        / "vidseek-cli-latency")
    parser.add_argument("--tree", action="append", default=[], metavar="LABEL=SRC",
                        help="a source tree to run (repeatable); default: the installed one, "
                             "labelled 'now'")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cli_latency.json")
    args = parser.parse_args()

    trees = dict(t.split("=", 1) for t in args.tree) or {"now": ""}
    envs = {label: {**os.environ, "HF_HUB_OFFLINE": "1",
                    **({"PYTHONPATH": src} if src else {})} for label, src in trees.items()}
    first_env = next(iter(envs.values()))
    args.workdir.mkdir(parents=True, exist_ok=True)
    library = args.library or make_library(args.workdir, args.videos, first_env)
    lib = ["--library", str(library)]
    videos = json.loads(subprocess.run([sys.executable, "-m", "vidseek", "list", *lib, "--json"],
                                       env=first_env, capture_output=True, text=True,
                                       check=True).stdout)
    commands = {
        "--help": ["--help"],
        "list": ["list", *lib],
        "list --json": ["list", *lib, "--json"],
        "show NAME": ["show", videos[0]["name"], *lib],
        "show ID --kind speech": ["show", videos[0]["id"], "--kind", "speech", *lib],
        "search": ["search", "what is said about jobs", *lib],
        "search --json": ["search", "what is said about jobs", *lib, "--json"],
    }
    load = os.getloadavg()[0]
    rows = []
    for name, argv in commands.items():
        times: dict[str, list[float]] = {label: [] for label in envs}
        codes: dict[str, set[int]] = {label: set() for label in envs}
        for env in envs.values():  # warm the file cache (and the read cache)
            run_once([sys.executable, "-m", "vidseek", *argv], env)
        for _ in range(args.repeats):
            for label, env in envs.items():
                seconds, code = run_once([sys.executable, "-m", "vidseek", *argv], env)
                times[label].append(seconds)
                codes[label].add(code)
        for label in envs:
            rows.append({"command": f"vidseek {name}", "tree": label,
                         "median_s": statistics.median(times[label]),
                         "min_s": min(times[label]), "max_s": max(times[label]),
                         "runs": times[label], "exit_codes": sorted(codes[label])})

    print(f"{'command':<30} {'tree':<8} {'median s':>9} {'min s':>7} {'max s':>7}   "
          f"(load {load:.2f} before, {os.getloadavg()[0]:.2f} after; {os.cpu_count()} cores; "
          f"{len(videos)} videos)")
    for r in rows:
        print(f"{r['command']:<30} {r['tree']:<8} {r['median_s']:>9.2f} {r['min_s']:>7.2f} "
              f"{r['max_s']:>7.2f}")
    report = {
        "rows": rows, "repeats": args.repeats, "load_before": load,
        "load_after": os.getloadavg()[0], "library_videos": len(videos),
        "trees": trees, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "machine": platform.machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
