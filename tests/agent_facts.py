"""Indexed fact videos for tests (``tests/`` is on ``sys.path``: import as ``agent_facts``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidseek.eval.facts import FactQuestion, fact_video
from vidseek.library import Library
from vidseek.synth import build
from vidseek.synth.truth import GroundTruth


@dataclass
class Facts:
    library: Library
    path: Path
    truth: GroundTruth
    questions: list[FactQuestion]


def indexed_facts(folder: Path, seed: int) -> Facts:
    """Four facts said and four shown on screen (about 58 s), indexed with the embedded
    analyzers (benchmarks/ask.py's videos)."""
    plan = fact_video(seed=seed, spoken=4, shown=4)
    path = folder / f"facts_{seed}.mp4"
    truth = build(plan.script, path)
    library = Library(folder / f"library_{seed}")
    assert library.index([path]).results[0].status == "indexed"
    return Facts(library, path, truth, plan.questions(truth))

def answered_sign(facts: Facts) -> FactQuestion:
    """A sign the embedded answerer finds (the gate sign is this video's one miss: its
    question shares only "gate" with it, and it scores under the threshold)."""
    return next(q for q in facts.questions if q.kind == "text" and "GATE" not in q.fact)
