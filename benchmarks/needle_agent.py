"""The text agent on needle haystacks: its gates fitted on some seeds, judged on a held-out one.

Runs the text agent (`TextAgent`, as ``Library.ask`` does with a text-only model) on needle
haystacks already built and indexed (``vidseek eval needle --data DATA --method search --out
OUT`` builds DATA's haystack and indexes it into OUT/library), with its gates open: every
answer is recorded with what the gates weigh (the search score of the line it rests on, the
model's check of that line, the answer's confidence), so each gate is applied afterwards,
exactly as the agent would apply it. Questions: every needle asked in words (the agent
cannot take a picture) and every third absent-answer question (the unrelated pool and the
needles the haystack lacks alike).

Gates compared on the held-out seeds, answered right (R@1 at IoU 0.5 of the first evidence
moment) per needle kind and absent questions answered:

- ``none``: every answer kept (what the model gets right before any gate);
- ``shipped``: what ``Library.ask`` does today (the search threshold; below it the check's
  calibrated gate, ``calibration-rerank-<model>.json``, else P(yes) >= ``CHECK``; then the
  abstention threshold ``ABSTAIN``);
- ``fitted check``: below the search threshold, P(yes) >= c; then confidence >= a;
- ``fitted calibrated``: below the search threshold, the calibrated gate's probability
  (P(yes) and the search score through ``calibration-rerank-<model>.json``) >= c; then
  confidence >= a.

Each fitted pair (c, a) is the one with the most right answers on the fit seeds with at
most 5% of their absent questions answered (the more cautious of equals).

    python benchmarks/needle_agent.py --seed 0 DATA0 LIBRARY0 --seed 2 DATA2 LIBRARY2 \\
        --fit 0 --held-out 2 --model "llamacpp:llm#threads=2" --records DIR \\
        [--limit N] [--out benchmarks/results/needle_agent.json]

Answers are appended to ``DIR/seed-S.jsonl`` as they come; a rerun skips those already
there (an interrupted run resumes; refitting costs nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vidseek.agent import TextAgent, VideoTools  # noqa: E402
from vidseek.agent.text import ABSTAIN, CHECK  # noqa: E402
from vidseek.errors import AskError  # noqa: E402
from vidseek.eval.datasets.needle import load  # noqa: E402
from vidseek.eval.metrics import temporal_iou  # noqa: E402
from vidseek.library import Library  # noqa: E402
from vidseek.models import resolve  # noqa: E402
from vidseek.models.llm_rerank import logit  # noqa: E402
from vidseek.search.calibration import (  # noqa: E402
    calibration_file,
    load_calibration,
    rerank_features,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ask import percentile  # noqa: E402

KINDS = ("speech", "text", "picture")
MOST_ABSENT = 0.05
"""The share of absent questions the fitted gate may answer on the fit seeds."""


def questions(data: Path, limit: int | None = None) -> list[Any]:
    """The needles asked in words, and every third absent question (`limit` of each)."""
    samples = load(data).samples
    absent = [s for s in samples if not s.windows]
    return ([s for s in samples if s.windows and s.image is None][:limit]
            + absent[::3][:limit])


def answer_all(seed: int, data: Path, library: Library, model: str, records: Path,
               limit: int | None = None) -> list[dict]:
    """The agent's open-gated answers to the seed's questions (resumed from `records`)."""
    done = {}
    if records.exists():
        done = {r["id"]: r for r in map(json.loads, records.read_text().splitlines())}
    asked = questions(data, limit)
    todo = [s for s in asked if s.id not in done]
    if todo:
        chat = resolve("chat", model)
        with records.open("a") as out:
            for n, sample in enumerate(todo, 1):
                record = answer_one(library, chat, model, sample)
                done[sample.id] = record
                out.write(json.dumps(record) + "\n")
                out.flush()
                print(f"seed {seed} {n}/{len(todo)} {record['kind']:<7} "
                      f"right={record['right']!s:<5} check={record['check']} "
                      f"{record['answer'][:50]!r}", file=sys.stderr)
    return [done[s.id] for s in asked]


def answer_one(library: Library, chat: Any, model: str, sample: Any) -> dict:
    """One answer with the gates open, and what they would weigh."""
    tools = VideoTools(library, library.video(sample.video))
    agent = TextAgent(tools, chat, model_name=model, threshold=None, abstain=0.0)
    started = time.perf_counter()
    try:
        answer = agent.ask(sample.question)
    except AskError as exc:
        answer = exc.answer
    seconds = time.perf_counter() - started
    first = answer.evidence[0] if answer.found and answer.evidence else None
    scores = {e.channel: e.score for e in first.evidence} if first else {}
    right = bool(first and sample.windows and temporal_iou(
        (first.start, first.end), sample.windows[0]) >= 0.5)
    return {"id": sample.id, "kind": sample.category, "question": sample.question,
            "answer": answer.text, "found": answer.found, "confidence": answer.confidence,
            "search": scores.get("words", 0.0), "check": scores.get("check"), "right": right,
            "line": first.evidence[0].kind if first else None,
            "route": answer.route, "seconds": round(seconds, 3),
            "calls": answer.cost.model_calls,
            "tokens": answer.cost.prompt_tokens + answer.cost.completion_tokens}


def kept(record: dict, threshold: float, gate: Any, abstain: float) -> bool:
    """Whether the agent keeps the answer (as `TextAgent._kept`, then the abstention)."""
    if not record["found"]:
        return False
    if record["search"] < threshold and (
            record["check"] is None or not gate(record["check"], record["search"])):
        return False
    return record["confidence"] >= abstain


def rates(records: list[dict], threshold: float, gate: Any, abstain: float) -> dict:
    out: dict[str, Any] = {}
    for kind in KINDS:
        asked = [r for r in records if r["kind"] == kind]
        out[kind] = f"{sum(r['right'] and kept(r, threshold, gate, abstain) for r in asked)}" \
                    f"/{len(asked)}"
    present = [r for r in records if r["kind"] != "absent"]
    absent = [r for r in records if r["kind"] == "absent"]
    right = sum(r["right"] and kept(r, threshold, gate, abstain) for r in present)
    answered = sum(kept(r, threshold, gate, abstain) for r in absent)
    out.update(right=round(right / len(present), 3), right_n=f"{right}/{len(present)}",
               absent_answered=round(answered / len(absent), 3),
               absent_n=f"{answered}/{len(absent)}")
    return out


def at_least(score: Any, least: float) -> Any:
    """A gate: a check stands when ``score(check, search score) >= least``."""
    return lambda check, search: score(check, search) >= least


def fit(records: list[dict], threshold: float, score: Any) -> tuple[float, float]:
    """(c, a): the gate's least score (`at_least`) and the abstention threshold with the
    most right answers and at most `MOST_ABSENT` of absent questions answered; the more
    cautious of equals."""
    absent = sum(r["kind"] == "absent" for r in records)
    values = sorted({0.0, *(round(score(r["check"], r["search"]), 4) for r in records
                            if r["check"] is not None)})
    confidences = sorted({0.0, *(round(r["confidence"], 4) for r in records)})
    best: tuple[int, float, float] | None = None
    for c in values:
        gate = at_least(score, c)
        for a in confidences:
            answered = sum(kept(r, threshold, gate, a) for r in records if r["kind"] == "absent")
            if answered > MOST_ABSENT * absent:
                continue
            right = sum(r["right"] and kept(r, threshold, gate, a) for r in records
                        if r["kind"] != "absent")
            if best is None or right > best[0] or (right == best[0] and (c, a) > best[1:]):
                best = (right, c, a)
    assert best is not None  # nothing answered is always allowed
    return best[1], best[2]


def haystack_arguments(description: str) -> argparse.ArgumentParser:
    """A parser with the options both needle-agent benchmarks take: the haystacks (seed,
    data, library), the fit and held-out seeds, the model and the records folder."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", nargs=3, action="append", required=True,
                        metavar=("SEED", "DATA", "LIBRARY"))
    parser.add_argument("--fit", type=int, nargs="+", required=True)
    parser.add_argument("--held-out", type=int, nargs="+", required=True)
    parser.add_argument("--model", default="llm")
    parser.add_argument("--records", type=Path, required=True)
    return parser


def main() -> None:
    parser = haystack_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="needles and absent questions per seed "
                        "(a quick look)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results"
                        / "needle_agent.json")
    args = parser.parse_args()
    args.records.mkdir(parents=True, exist_ok=True)
    answers, libraries = {}, {}
    for seed, data, library in args.seed:
        libraries[int(seed)] = Library(library)
        answers[int(seed)] = answer_all(int(seed), Path(data), libraries[int(seed)], args.model,
                                        args.records / f"seed-{seed}.jsonl", args.limit)
    library = libraries[args.held_out[0]]
    threshold = library.searcher.calibration.threshold
    calibration = load_calibration(calibration_file(None, args.model))
    scores = {  # what a family of gates weighs, each fitted on the fit seeds
        "check": lambda check, search: check,
        "calibrated": lambda check, search: calibration.probability(
            "rerank", rerank_features(logit(check), search))}
    fitted = [r for seed in args.fit for r in answers[seed]]
    held = [r for seed in args.held_out for r in answers[seed]]
    gates = {"none": (at_least(scores["check"], 0.0), 0.0, {}),  # every answer kept
             "shipped": (library._check_gate(args.model)
                         or at_least(scores["check"], CHECK), ABSTAIN, {})}
    for name, score in scores.items():
        c, a = fit(fitted, threshold, score)
        gates[f"fitted {name}"] = (at_least(score, c), a, {"least": c, "abstain": a})
    report: dict[str, Any] = {
        "model": args.model, "fit_seeds": args.fit, "held_out_seeds": args.held_out,
        "search_threshold": threshold, "most_absent": MOST_ABSENT,
        "gates": {name: {**fitted_at, "fit": rates(fitted, threshold, gate, abstain),
                         "held_out": rates(held, threshold, gate, abstain)}
                  for name, (gate, abstain, fitted_at) in gates.items()},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    for part, records in (("needle", [r for r in held if r["kind"] != "absent"]),
                          ("absent", [r for r in held if r["kind"] == "absent"])):
        report[f"{part}_cost"] = {
            "seconds_p50": round(statistics.median(r["seconds"] for r in records), 2),
            "seconds_p95": round(percentile([r["seconds"] for r in records], 0.95), 2),
            "calls_median": statistics.median(r["calls"] for r in records),
            "tokens_median": statistics.median(r["tokens"] for r in records)}
    print(f"{'gate':<19} {'part':<9} " + " ".join(f"{k:<8}" for k in KINDS)
          + " right        absent answered  least / abstain")
    for name, gate in report["gates"].items():
        for part in ("fit", "held_out"):
            r = gate[part]
            print(f"{name:<19} {part:<9} " + " ".join(f"{r[k]:<8}" for k in KINDS)
                  + f" {r['right']:<5} {r['right_n']:<6} {r['absent_answered']:<5} "
                  f"{r['absent_n']:<9} {gate.get('least', '')} {gate.get('abstain', '')}")
    for part in ("needle", "absent"):
        print(part, report[f"{part}_cost"])
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
