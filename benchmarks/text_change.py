"""On-screen text that changes in place: slide decks and burned-in caption tracks.

The on-screen text analyzer OCRs a sampled frame only when its change gate says text may
differ from the last frame it read. Text replaced by other text of the same size at the same
place (a slide title on an unchanged template, a caption line) is the hard case. This
generates, with exact truth:

- two slide decks (640 x 360, 10 fps, 14 slides of 2.5-6 s, cuts between slides): *titles*
  (light template; only the title changes) and *bullets* (dark template; the title and two
  bullets stay, the third bullet changes);
- three caption tracks over a slowly panning photo, one caption line (white, outlined)
  replaced every 1, 2 and 3 s;

runs the analyzer on frames every second at 640 px (as indexing does) and reports, per
video, the share of shown texts that were read (an observation of alike text overlapping
it), the share read with both times within one sample, and the OCR calls. With
``--lecture DIR`` it also counts OCR calls per hour on benchmarks/index.py's 10-minute
lecture (made there if missing) and on 2 minutes of mixed footage (shots with pans and zooms,
signs); with ``--real DIR`` (../shared/data/real/videos) OCR calls and lines read over those
real clips (handheld camera, pans, zooms, news captions, screen text).

``--baseline FILE`` runs a second `ScreenTextAnalyzer` from a file (for example the version
before a change, written by ``git show HEAD:src/vidseek/analyzers/screen_text.py``) on the
same videos, for before/after tables.

    python benchmarks/text_change.py [--video-dir DIR] [--lecture DIR] [--baseline FILE]
        [--out benchmarks/results/text_change.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT, FPS = 640, 360, 10
INTERVAL = 1.0  # seconds between the frames the analyzer gets (its default)

TITLES = [
    "Quarterly results", "Market overview", "Customer growth", "Product roadmap",
    "Hiring plan", "Risks and mitigations", "Budget summary", "Sales by region",
    "Support tickets", "Cloud migration", "Security review", "Next steps",
    "Open questions", "Thank you",
]
BULLETS = [
    "Revenue up twelve percent", "Churn fell below two percent", "New office in Lisbon",
    "Mobile app rewrite shipped", "Three new enterprise deals", "Latency halved in Europe",
    "Partner program launched", "Onboarding time cut in half", "Data centre contract renewed",
    "Design system adopted", "Support backlog cleared", "Pricing page redesigned",
    "Quarterly audit passed", "Beta waitlist doubled",
]


@dataclass(frozen=True)
class Shown:
    """A text on screen over [start, end) timeline seconds."""

    text: str
    start: float
    end: float


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=px)  # Pillow's bundled FreeType font


def _encode(path: Path, frames) -> None:
    """Encode RGB frames (one per 1/FPS s) as H.264 (keyframe every 2 s)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={
            "preset": "veryfast", "crf": "23", "g": str(2 * FPS)})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def deck(kind: str, seed: int = 0) -> tuple[list[np.ndarray], list[Shown]]:
    """Frames (one per slide) with their durations folded into a frame list, and the truth.

    Args:
        kind: ``titles`` (only the title changes) or ``bullets`` (the third bullet changes).
    """
    rng = np.random.default_rng(seed)
    dark = kind == "bullets"
    background, ink, accent = ((24, 32, 64), (240, 240, 240), (90, 160, 230)) if dark else \
        ((246, 246, 242), (30, 30, 40), (200, 60, 40))
    titles = list(TITLES)
    bullets = list(BULLETS)
    rng.shuffle(titles)
    rng.shuffle(bullets)
    frames: list[np.ndarray] = []
    shown: list[Shown] = []
    t = 0.0
    for k in range(14):
        title = titles[k] if kind == "titles" else "Highlights of the year"
        body = ([bullets[0], bullets[1], bullets[2]] if kind == "titles"
                else [bullets[0], bullets[1], bullets[2 + k % (len(bullets) - 2)]])
        canvas = Image.new("RGB", (WIDTH, HEIGHT), background)
        draw = ImageDraw.Draw(canvas)
        draw.rectangle((0, 0, WIDTH, 8), fill=accent)
        draw.text((32, 26), title, font=_font(30), fill=ink)
        draw.line((32, 72, WIDTH - 32, 72), fill=accent, width=3)
        for i, line in enumerate(body):
            draw.ellipse((40, 112 + 46 * i, 50, 122 + 46 * i), fill=accent)
            draw.text((62, 104 + 46 * i, ), line, font=_font(22), fill=ink)
        draw.rectangle((WIDTH - 110, HEIGHT - 44, WIDTH - 20, HEIGHT - 16), fill=accent)
        draw.text((WIDTH - 100, HEIGHT - 42), "ACME", font=_font(20), fill=background)
        draw.text((32, HEIGHT - 38), "Annual review", font=_font(16), fill=ink)
        length = round(float(rng.uniform(2.5, 6.0)) * FPS) / FPS
        frames += [np.asarray(canvas)] * round(length * FPS)
        for text in [title, *body, "Annual review", "ACME"]:
            shown.append(Shown(text, t, t + length))
        t += length
    return frames, _merge(shown)


def caption_track(period: float, count: int, seed: int = 0) -> tuple[list[np.ndarray],
                                                                       list[Shown]]:
    """A slowly panning photo with a caption line replaced every ``period`` seconds (the first
    from 0.5 s), and the truth."""
    from vidseek.synth.photos import load_photo
    from vidseek.synth.prose import prose_sentences

    rng = np.random.default_rng(seed)
    words = " ".join(prose_sentences()).replace(",", "").replace(".", "").split()
    start = int(rng.integers(0, len(words) - 6 * count))
    captions, i = [], start
    for _ in range(count):
        n = int(rng.integers(3, 6))
        captions.append(" ".join(words[i:i + n]))
        i += n
    photo = Image.fromarray(load_photo("coffee")).resize((WIDTH + 200, HEIGHT + 120))
    font = _font(26)
    total = 0.5 + period * count + 0.5
    frames, shown = [], []
    for f in range(round(total * FPS)):
        t = f / FPS
        x = int(4 * t) % 200  # 4 px a second: a slow pan
        canvas = photo.crop((x, 60, x + WIDTH, 60 + HEIGHT))
        k = int((t - 0.5) // period) if t >= 0.5 else -1
        if 0 <= k < count:
            draw = ImageDraw.Draw(canvas)
            width = font.getlength(captions[k])
            draw.text(((WIDTH - width) / 2, 290), captions[k], font=font, fill=(255, 255, 255),
                      stroke_width=2, stroke_fill=(0, 0, 0))
        frames.append(np.asarray(canvas))
    shown = [Shown(c, 0.5 + k * period, 0.5 + (k + 1) * period) for k, c in enumerate(captions)]
    return frames, shown


def _merge(shown: list[Shown]) -> list[Shown]:
    """Join the same text shown back to back into one."""
    merged: list[Shown] = []
    for item in sorted(shown, key=lambda s: (s.text, s.start)):
        last = merged[-1] if merged else None
        if last is not None and last.text == item.text and abs(last.end - item.start) < 1e-6:
            merged[-1] = Shown(item.text, last.start, item.end)
        else:
            merged.append(item)
    return sorted(merged, key=lambda s: (s.start, s.text))


def _normal(text: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+", text.lower()))


def _alike(a: str, b: str) -> bool:
    return SequenceMatcher(None, _normal(a), _normal(b), autojunk=False).ratio() >= 0.8


def score(observations, truth: list[Shown], interval: float = INTERVAL) -> dict:
    """Shares of `truth` read (alike text overlapping it) and read with both times within
    one sample (start in [truth start, + interval], end in [truth end, + interval])."""
    read = timed = 0
    missed = []
    for item in truth:
        matches = [o for o in observations if _alike(o.text, item.text)
                   and o.start < item.end and o.end > item.start]
        read += bool(matches)
        timed += any(item.start - 1e-6 <= o.start <= item.start + interval + 1e-6
                     and item.end - 1e-6 <= o.end <= item.end + interval + 1e-6
                     for o in matches)
        if not matches:
            missed.append(item.text)
    return {"texts": len(truth), "read": read / len(truth), "timed": timed / len(truth),
            "missed": missed}


def run(analyzer_class, path: Path, end: float | None = None) -> tuple[list, int, int, float]:
    """Observations, OCR calls, frames and seconds of one analyzer run over ``path``."""
    from vidseek.media import VideoReader

    analyzer = analyzer_class()
    started = time.perf_counter()
    observations = []
    with VideoReader(path) as reader:
        analyzer.start("bench", reader.duration)
        for frame in reader.every(analyzer.interval, end=end, size=analyzer.size):
            observations += analyzer.add(frame)
    observations += analyzer.finish()
    return observations, analyzer.ocr_calls, analyzer.frames, time.perf_counter() - started


def _load_class(path: Path):
    spec = importlib.util.spec_from_file_location("baseline_screen_text", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.ScreenTextAnalyzer


def videos(folder: Path) -> list[tuple[str, Path, list[Shown]]]:
    """The decks and caption tracks, made in ``folder`` unless there already."""
    made = []
    for name, build in [("deck titles", lambda: deck("titles", 0)),
                        ("deck bullets", lambda: deck("bullets", 1)),
                        ("captions 1 s", lambda: caption_track(1.0, 30, 2)),
                        ("captions 2 s", lambda: caption_track(2.0, 20, 3)),
                        ("captions 3 s", lambda: caption_track(3.0, 15, 4))]:
        path = folder / f"inplace_{name.replace(' ', '_')}_v1.mp4"
        frames, truth = build()
        if not path.exists():
            _encode(path, frames)
        made.append((name, path, truth))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--lecture", type=Path, default=None,
                        help="folder of benchmarks/index.py's lecture videos: count OCR calls")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a screen_text.py to compare against")
    parser.add_argument("--real", type=Path, default=None,
                        help="folder of real clips: count OCR calls and lines read there")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "text_change.json")
    args = parser.parse_args()

    from vidseek.analyzers.screen_text import ScreenTextAnalyzer

    gates = {"now": ScreenTextAnalyzer}
    if args.baseline:
        gates = {"baseline": _load_class(args.baseline), **gates}
    rows = []
    for name, path, truth in videos(args.video_dir):
        for gate, cls in gates.items():
            observations, calls, frames, seconds = run(cls, path)
            rows.append({"video": name, "gate": gate, "frames": frames, "ocr_calls": calls,
                         "seconds": seconds, **score(observations, truth)})
    if args.lecture:
        sys.path.insert(0, str(HERE))
        from index import make, make_mixed

        for name, path, end in [("lecture 10 min", make(args.lecture, 10), None),
                                ("mixed 2 min", make_mixed(args.lecture, 2), None)]:
            for gate, cls in gates.items():
                _, calls, frames, seconds = run(cls, path, end=end)
                rows.append({"video": name, "gate": gate, "frames": frames, "ocr_calls": calls,
                             "seconds": seconds, "ocr_per_hour": calls * 3600 / frames})

    if args.real:
        for gate, cls in gates.items():
            calls = frames = lines = 0
            seconds = 0.0
            for path in sorted(args.real.glob("*.mp4")):
                observations, c, f, t = run(cls, path)
                calls, frames, lines, seconds = calls + c, frames + f, lines + len(
                    observations), seconds + t
            rows.append({"video": "real clips", "gate": gate, "frames": frames,
                         "ocr_calls": calls, "seconds": seconds, "lines": lines,
                         "ocr_per_hour": calls * 3600 / frames})

    print(f"\n{'video':16s} {'gate':9s} {'texts':>5s} {'read':>6s} {'timed':>6s} "
          f"{'OCR':>5s} {'frames':>6s} {'OCR/h':>6s} {'s':>6s}")
    for r in rows:
        texts = f"{r['texts']:5d} {r['read']:6.0%} {r['timed']:6.0%}" if "texts" in r else \
            f"{'':5s} {'':6s} {'':6s}"
        per_hour = r["ocr_calls"] * 3600 / r["frames"]
        print(f"{r['video']:16s} {r['gate']:9s} {texts} {r['ocr_calls']:5d} {r['frames']:6d} "
              f"{per_hour:6.0f} {r['seconds']:6.1f}")
    result = {"machine": {"python": platform.python_version(), "cores": 2},
              "interval": INTERVAL, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
