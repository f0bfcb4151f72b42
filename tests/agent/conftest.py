"""A small indexed fact video shared by the agent tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

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


@pytest.fixture(scope="session")
def facts(tmp_path_factory) -> Facts:
    """Three facts said and three shown on screen (about 44 s), indexed with the embedded
    analyzers."""
    folder = tmp_path_factory.mktemp("facts")
    plan = fact_video(seed=0, spoken=3, shown=3)
    path = folder / "facts.mp4"
    truth = build(plan.script, path)
    library = Library(folder / "library")
    assert library.index([path]).results[0].status == "indexed"
    yield Facts(library, path, truth, plan.questions(truth))
    library.close()
