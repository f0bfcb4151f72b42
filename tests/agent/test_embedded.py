"""The embedded answerer on a fact video: open questions get the words of the right moment,
multiple choice picks the option the evidence supports, absent facts are "not found"."""

from __future__ import annotations

import pytest
from agent_facts import answered_sign, indexed_facts

from vidseek.agent.embedded import LIMITS
from vidseek.eval.facts import ABSENT
from vidseek.eval.metrics import temporal_iou
from vidseek.types import Answer

pytestmark = pytest.mark.slow  # the shared fixture indexes a fact video once



def test_fact_questions_get_evidence_that_overlaps_where_the_fact_was_stated(facts, tmp_path):
    """The held-out fact videos of benchmarks/ask.py (seeds 3, 4, 5): 24 questions."""
    hits, asked = 0, 0
    videos = [facts, *(indexed_facts(tmp_path, seed) for seed in (4, 5))]
    for video in videos:
        for question in video.questions:
            answer = video.library.ask(video.path, question.question)
            assert answer.route == "embedded" and answer.model == "embedded"
            assert answer.cost.model_calls == 0 and answer.cost.frames_sent == 0
            asked += 1
            if answer.found and temporal_iou((answer.evidence[0].start, answer.evidence[0].end),
                                             (question.start, question.end)) >= 0.5:
                hits += 1
    for video in videos[1:]:
        video.library.close()
    assert hits / asked >= 0.8, f"{hits}/{asked}"


def test_an_open_answer_quotes_the_moment_and_states_its_limits(facts):
    shown = answered_sign(facts)
    answer = facts.library.ask(facts.path, shown.question)
    assert answer.found and answer.text == shown.fact
    assert 0.0 < answer.confidence <= 1.0 and LIMITS in answer.notes
    assert answer.evidence[0].evidence[0].kind == "text"
    assert [s.tool for s in answer.trace if s.kind == "tool"] == ["search"]


def test_questions_about_absent_things_are_not_found(facts):
    answers = [facts.library.ask(facts.path, q) for q in ABSENT]
    assert sum(not a.found for a in answers) >= len(ABSENT) - 1
    for answer in answers:
        if not answer.found:
            assert answer.text == "Not found in this video." and not answer.evidence


def test_multiple_choice_picks_the_option_the_evidence_supports(facts):
    shown = answered_sign(facts)
    words = shown.fact.split()
    options = [" ".join(reversed(words)).lower(), "a red umbrella", shown.fact.lower(),
               "twelve apples"]
    answer = facts.library.ask(facts.path, shown.question, options=options)
    assert answer.choice in (0, 2)  # the same words either way round; never the unrelated
    assert answer.options == options and answer.text == options[answer.choice]
    assert answer.found and answer.evidence[0].evidence[0].text == shown.fact
    assert len(answer.trace) == 1 + len(options) + 1  # the question, each option, the answer


def test_the_answer_round_trips_through_json(facts):
    answer = facts.library.ask(facts.path, facts.questions[0].question, options=["yes", "no"])
    assert Answer.model_validate_json(answer.model_dump_json()) == answer


def test_a_choice_on_weak_evidence_is_not_found(facts):
    """Multiple choice always picks an option, but a question about something the video never
    shows gets ``found: false`` and a note, not the confidence of an answer."""
    options = ["a purple giraffe", "a green submarine", "an orange bicycle"]
    answer = facts.library.ask(facts.path, "Which animal plays the trumpet?", options=options)
    assert answer.choice is not None and answer.text == options[answer.choice]
    assert not answer.found
    assert any("weak" in note for note in answer.notes)
