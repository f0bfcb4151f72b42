"""How well the language model's check tells the line that answers from the rest, per
judging prompt, on needle haystacks: fitted on some seeds, judged on a held-out one.

Before it answers on a long video, the text agent (`TextAgent`) asks the model, for each
line of the best moments, whether the line answers the question (the LLM reranker's yes/no
prompt), and its answer survives the gate only when that check stands. This benchmark runs
the agent up to its answer on the questions of ``benchmarks/needle_agent.py`` (every needle
asked in words, every third absent question) and keeps every line it checked, with its
P(yes) and whether it is the needle's line (time IoU >= 0.5): ``DIR/lines-S.jsonl``. Then
the model judges the same lines again with each prompt of `PROMPTS`
(``DIR/checks-S-PROMPT.jsonl``; ``neighbours``: the shipped prompt with a spoken line judged
together with the spoken lines before and after it), and each prompt's checks are scored
alike, per score of `SCORES`:

- ranked first: needle questions whose likeliest line is the needle's;
- gated: the least score fitted on the fit seeds (the most needles ranked first at or over
  it with at most 5% of absent questions' likeliest line there), applied to the held-out
  seeds: needles ranked first and kept, absent questions answered.

    python benchmarks/needle_checks.py --seed 0 DATA0 LIBRARY0 --seed 2 DATA2 LIBRARY2 \\
        --fit 0 --held-out 2 --model "llamacpp:llm#threads=2" --records DIR \\
        [--agent-records DIR2] [--out benchmarks/results/needle_checks.json]

With ``--agent-records`` (``benchmarks/needle_agent.py``'s records of the same haystacks,
made with the shipped prompt) the lead is also tried inside the shipped gate, which already
weighs the line's search score: an answer stands when the shipped gate keeps it and its
line leads the question's other checked lines by at least the lead fitted on the fit seeds.

Each step resumes from its file. The haystacks are those of ``benchmarks/needle_agent.py``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vidseek.agent import TextAgent, VideoTools  # noqa: E402
from vidseek.agent.text import ABSTAIN  # noqa: E402
from vidseek.eval.metrics import temporal_iou  # noqa: E402
from vidseek.library import Library  # noqa: E402
from vidseek.models import llm_rerank, resolve  # noqa: E402
from vidseek.models.scoring import yes_probability  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from needle_agent import MOST_ABSENT, haystack_arguments, kept, questions  # noqa: E402


class Prompt(NamedTuple):
    system: str
    examples: tuple[tuple[str, str, str], ...]
    neighbours: bool = False
    """Whether a spoken line is judged with the spoken lines before and after it (speech
    recognition cuts sentences into fragments such as "way.")."""


PROMPTS: dict[str, Prompt] = {
    "shipped": Prompt(llm_rerank.SYSTEM, llm_rerank.EXAMPLES),
    # Stricter: a related topic or another thing of the same kind is not an answer, with
    # three judged examples of just that (none on a needle's topic).
    "strict": Prompt(
        "You check search results from a video (what is said, text on screen, tags of what "
        "is shown). Reply yes only if the passage itself says or shows what the query asks "
        "for or describes. Reply no if the passage is only on a related topic, is about "
        "another thing of the same kind, or leaves the answer to a guess. Reply with yes or "
        "no only.",
        llm_rerank.EXAMPLES + (
            ("how long should the soup cook", "The soup tastes better with fresh basil.", "no"),
            ("which airline did she fly with", "She took the night bus to the coast.", "no"),
            ("a warning about electricity", "SLIPPERY WHEN WET", "no"))),
    "neighbours": Prompt(llm_rerank.SYSTEM, llm_rerank.EXAMPLES, neighbours=True),
}
"""Judging prompts compared."""


def _lead(p: float, others: list[float]) -> float:
    """How far a line's logit stands above the median of the question's other checked
    lines (a question the model says yes to whatever the line has a high median)."""
    return llm_rerank.logit(p) - llm_rerank.logit(statistics.median(others or [0.5]))


SCORES: dict[str, Callable[[float, list[float]], float]] = {
    "P(yes)": lambda p, others: p,
    "logit + lead over the median": lambda p, others: llm_rerank.logit(p) + _lead(p, others),
}
"""What a gate weighs for the likeliest line: its P(yes), with the other lines' checks."""


class _Stop(Exception):
    """Raised where the agent would start answering: the checks are all made."""


class _CheckingAgent(TextAgent):
    """The text agent up to its answer, keeping every line it checked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked: dict[Any, float | None] = {}

    def _check(self, question: str, line: Any) -> float | None:
        self.checked[line] = p = super()._check(question, line)
        return p

    def _answer_from(self, *args: Any, **kwargs: Any) -> Any:
        raise _Stop()


def _resumed(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


def checked_lines(seed: int, data: Path, library: Library, chat: Any, model: str,
                  path: Path) -> list[dict]:
    """Every line the agent checks before answering each question (resumed from `path`)."""
    done = _resumed(path)
    asked = questions(data)
    with path.open("a") as out:
        for n, sample in enumerate((s for s in asked if s.id not in done), 1):
            agent = _CheckingAgent(VideoTools(library, library.video(sample.video)), chat,
                                   model_name=model, threshold=None, abstain=0.0)
            with contextlib.suppress(_Stop):
                agent.ask(sample.question)
            window = sample.windows[0] if sample.windows else None
            done[sample.id] = record = {
                "id": sample.id, "kind": sample.category, "question": sample.question,
                "lines": [{"text": line.text, "kind": line.kind, "start": line.start,
                           "end": line.end, "p": p,
                           "needle": bool(window and temporal_iou(
                               (line.start, line.end), window) >= 0.5)}
                          for line, p in agent.checked.items() if p is not None]}
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(f"seed {seed} {n} {sample.id} {len(record['lines'])} lines", file=sys.stderr)
    return [done[s.id] for s in asked]


def with_neighbours(line: dict, speech: list[Any]) -> str:
    """A spoken line's words with those of the spoken lines before and after it."""
    at = next((i for i, o in enumerate(speech) if o.start == line["start"]), None)
    if line["kind"] != "speech" or at is None:
        return line["text"]
    return " ".join(" ".join(o.text.split()) for o in speech[max(0, at - 1):at + 2])


def rejudged(records: list[dict], prompt: str, chat: Any, path: Path, library: Library,
             videos: dict[str, str]) -> list[dict]:
    """`records` with each line's P(yes) under `prompt` (resumed from `path`); `videos`:
    the video of each question."""
    if prompt == "shipped":  # the agent's own checks
        return records
    system, examples, neighbours = PROMPTS[prompt]
    speech: dict[str, list[Any]] = {}
    done = _resumed(path)
    with path.open("a") as out:
        for record in records:
            if record["id"] in done:
                continue
            video = videos[record["id"]]
            if neighbours and video not in speech:
                tools = VideoTools(library, library.video(video))
                speech[video] = sorted(tools.observations(("speech",)), key=lambda o: o.start)
            lines = []
            for line in record["lines"]:
                passage = with_neighbours(line, speech[video]) if neighbours else line["text"]
                p = yes_probability(chat, llm_rerank.conversation(
                    record["question"], passage, system=system, examples=examples))
                lines.append({**line, "p": round(p, 4)})
            done[record["id"]] = {**record, "lines": lines}
            out.write(json.dumps(done[record["id"]]) + "\n")
            out.flush()
    return [done[r["id"]] for r in records]


def likeliest(record: dict, score: Callable[[float, list[float]], float]
              ) -> tuple[float, bool] | None:
    """The score of the question's likeliest line and whether it is the needle's."""
    if not record["lines"]:
        return None
    ps = [line["p"] for line in record["lines"]]
    best = max(range(len(ps)), key=ps.__getitem__)
    return score(ps[best], ps[:best] + ps[best + 1:]), record["lines"][best]["needle"]


def rates(records: list[dict], score: Callable, least: float) -> dict[str, int]:
    first = kept = answered = 0
    for record in records:
        top = likeliest(record, score)
        if top is None:
            continue
        if record["kind"] == "absent":
            answered += top[0] >= least
        elif top[1]:
            first += 1
            kept += top[0] >= least
    return {"ranked_first": first, "kept": kept, "absent_answered": answered}


def best_least(values: set[float], outcome: Callable[[float], tuple[int, int]],
               absent: int) -> float | None:
    """Of `values`, the least value whose `outcome` (right answers kept, absent questions
    answered) keeps the most with at most `MOST_ABSENT` of `absent` answered; the lowest of
    equals. None when no value allows so few."""
    outcomes = {v: outcome(v) for v in values}
    allowed = [v for v, (_, answered) in outcomes.items() if answered <= MOST_ABSENT * absent]
    return max(allowed, key=lambda v: (outcomes[v][0], -v), default=None)


def fit(records: list[dict], score: Callable) -> float:
    """The least score with the most needles kept and at most `MOST_ABSENT` of absent
    questions answered (infinity, keeping nothing, always qualifies)."""
    def outcome(least: float) -> tuple[int, int]:
        counts = rates(records, score, least)
        return counts["kept"], counts["absent_answered"]

    values = {top[0] for r in records if (top := likeliest(r, score))} | {math.inf}
    least = best_least(values, outcome, sum(r["kind"] == "absent" for r in records))
    assert least is not None  # infinity answers nothing
    return least


def with_lead(answers: list[dict], lines: list[dict]) -> list[dict]:
    """needle_agent's answers, each with the lead of the line it rests on over the other
    lines checked for its question (None: its line was not among them)."""
    checked = {r["id"]: [line["p"] for line in r["lines"]] for r in lines}
    out = []
    for answer in answers:
        others = list(checked.get(answer["id"], []))
        lead = None
        if answer["check"] is not None and answer["check"] in others:
            others.remove(answer["check"])
            lead = _lead(answer["check"], others)
        out.append({**answer, "lead": lead})
    return out


def shipped_with_lead(fitted: list[dict], held: list[dict], threshold: float,
                      gate: Callable[[float, float], bool]) -> dict[str, Any]:
    """The shipped gate alone and with the least lead fitted on `fitted` (the most right
    answers with at most `MOST_ABSENT` of absent questions answered), on both sets."""
    def tally(answers: list[dict], least: float | None) -> dict[str, int]:
        right = answered = 0
        for a in answers:
            def stands(check: float, search: float, a: dict = a) -> bool:
                return gate(check, search) and (
                    least is None or (a["lead"] is not None and a["lead"] >= least))
            keep = kept(a, threshold, stands, ABSTAIN)
            answered += keep and a["kind"] == "absent"
            right += keep and a["kind"] != "absent" and a["right"]
        return {"right": right, "absent_answered": answered}

    def outcome(least: float) -> tuple[int, int]:
        counts = tally(fitted, least)
        return counts["right"], counts["absent_answered"]

    least = best_least({a["lead"] for a in fitted if a["lead"] is not None}, outcome,
                       sum(a["kind"] == "absent" for a in fitted))
    return {"least_lead": least,
            "shipped": {"fit": tally(fitted, None), "held_out": tally(held, None)},
            "shipped_and_lead": {"fit": tally(fitted, least), "held_out": tally(held, least)}}


def main() -> None:
    parser = haystack_arguments(__doc__.split("\n\n")[0])
    parser.add_argument("--agent-records", type=Path,
                        help="benchmarks/needle_agent.py's records of the same haystacks")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results"
                        / "needle_checks.json")
    args = parser.parse_args()
    args.records.mkdir(parents=True, exist_ok=True)
    chat = resolve("chat", args.model)
    libraries = {int(seed): Library(library) for seed, _, library in args.seed}
    lines = {int(seed): checked_lines(int(seed), Path(data), libraries[int(seed)], chat,
                                      args.model, args.records / f"lines-{seed}.jsonl")
             for seed, data, _ in args.seed}
    report: dict[str, Any] = {"model": args.model, "fit_seeds": args.fit,
                              "held_out_seeds": args.held_out, "most_absent": MOST_ABSENT,
                              "prompts": {}}
    videos = {int(seed): {s.id: s.video for s in questions(Path(data))}
              for seed, data, _ in args.seed}
    print(f"{'prompt':<10} {'score':<30} {'least':>6}  fit: first kept absent  "
          "held out: first kept absent")
    for prompt in PROMPTS:
        judged = {seed: rejudged(records, prompt, chat,
                                 args.records / f"checks-{seed}-{prompt}.jsonl",
                                 libraries[seed], videos[seed])
                  for seed, records in lines.items()}
        fitted = [r for seed in args.fit for r in judged[seed]]
        held = [r for seed in args.held_out for r in judged[seed]]
        report["prompts"][prompt] = rows = {}
        for name, score in SCORES.items():
            least = fit(fitted, score)
            rows[name] = {"least": least, "fit": rates(fitted, score, least),
                          "held_out": rates(held, score, least)}
            f, h = rows[name]["fit"], rows[name]["held_out"]
            print(f"{prompt:<10} {name:<30} {least:>6.3f}  {f['ranked_first']:>10} "
                  f"{f['kept']:>4} {f['absent_answered']:>6}  {h['ranked_first']:>15} "
                  f"{h['kept']:>4} {h['absent_answered']:>6}")
    report["questions"] = {seed: {"needles": sum(r["kind"] != "absent" for r in records),
                                  "absent": sum(r["kind"] == "absent" for r in records),
                                  "needle_line_checked": sum(any(x["needle"] for x in r["lines"])
                                                             for r in records)}
                           for seed, records in lines.items()}
    if args.agent_records:
        answers = {seed: with_lead(_resumed(args.agent_records / f"seed-{seed}.jsonl")
                                   .values(), records) for seed, records in lines.items()}
        library = libraries[args.held_out[0]]
        gate = library._check_gate(args.model)
        if gate is None:
            sys.exit(f"{args.model!r} has no calibrated gate to try the lead inside")
        report["shipped_gate"] = result = shipped_with_lead(
            [a for seed in args.fit for a in answers[seed]],
            [a for seed in args.held_out for a in answers[seed]],
            library.searcher.calibration.threshold, gate)
        print(f"shipped gate, fit / held out: {result['shipped']}; with lead >= "
              f"{result['least_lead']}: {result['shipped_and_lead']}")
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
