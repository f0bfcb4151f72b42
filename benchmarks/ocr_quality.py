"""The on-screen text quality bar: which confidence a line's best reading needs to be reported.

Reads ``benchmarks/real_text_lines.json`` (every line the analyzer reported on the real
clips at the old bar, 0.6, judged junk or text), splits the clips in two (alternate clips,
sorted by name), picks on the first half the lowest bar that drops the most junk while
keeping every real line, and reports what that bar keeps and drops on the held-out half.

    python benchmarks/ocr_quality.py [--lines benchmarks/real_text_lines.json]
        [--out benchmarks/results/ocr_quality.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
BARS = [round(0.6 + 0.01 * i, 2) for i in range(40)]


def counts(lines: list[dict], bar: float) -> dict:
    kept = [line for line in lines if line["confidence"] >= bar]
    return {"bar": bar,
            "text kept": sum(not line["junk"] for line in kept),
            "text": sum(not line["junk"] for line in lines),
            "junk kept": sum(line["junk"] for line in kept),
            "junk": sum(line["junk"] for line in lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=Path, default=HERE / "real_text_lines.json")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ocr_quality.json")
    args = parser.parse_args()
    lines = json.loads(args.lines.read_text())["lines"]
    videos = sorted({line["video"] for line in lines})
    fit_videos = set(videos[0::2])
    fit = [line for line in lines if line["video"] in fit_videos]
    held = [line for line in lines if line["video"] not in fit_videos]
    # the most junk dropped with every real line kept; the lowest such bar
    best = max(BARS, key=lambda bar: (counts(fit, bar)["text kept"] == counts(fit, 0)["text"],
                                      -counts(fit, bar)["junk kept"], -bar))
    rows = {"fit": [counts(fit, 0.6), counts(fit, best)],
            "held-out": [counts(held, 0.6), counts(held, best)]}
    print(f"bar chosen on the fit half ({len(fit_videos)} clips): {best}")
    print(f"{'part':9s} {'bar':>5s} {'text kept':>10s} {'junk kept':>10s}")
    for part, found in rows.items():
        for r in found:
            print(f"{part:9s} {r['bar']:5.2f} {r['text kept']:4d} of {r['text']:3d} "
                  f"{r['junk kept']:4d} of {r['junk']:3d}")
    held_dropped = sorted(line["text"] for line in held if line["confidence"] < best)
    print("held-out lines dropped:", held_dropped)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"bar": best, "fit_videos": sorted(fit_videos),
                                    "rows": rows, "held_out_dropped": held_dropped},
                                   indent=2, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
