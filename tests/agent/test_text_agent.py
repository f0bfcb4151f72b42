"""The text agent with a scripted in-process chat model over a fake index (fast), with the
installed SmolLM2 over the indexed fact video (slow: wiring only, it invents things), and the
default model ``ask`` picks."""

from __future__ import annotations

import json
import math
import os
from types import SimpleNamespace

import pytest

from vidseek.agent import Budget, TextAgent, VideoTools, default_model, is_text_only
from vidseek.agent.replies import NOT_FOUND
from vidseek.agent.text import NOTES_TOKENS, confidence
from vidseek.errors import AskError
from vidseek.models.messages import ChatReply, TokenLogprob
from vidseek.models.protocols import ChatTimeoutError
from vidseek.types import Evidence, Moment, Observation

SIGN = Observation(video_id="v", start=20.0, end=25.0, kind="text", text="THE CODE IS 7142",
                   source="ocr")
SAID = Observation(video_id="v", start=3.0, end=6.0, kind="speech",
                   text="The museum is closed on Mondays.", source="whisper")


class FakeIndex:
    """Observations in memory; the search finds the ones that share a word with the query."""

    def __init__(self, observations):
        self.rows = sorted(observations, key=lambda o: o.start)
        self.queries = []

    def search(self, query=None, *, videos=None, kinds=None, k=10, image=None, threshold=None):
        self.queries.append(query)
        words = set(query.lower().replace("?", "").split())
        hits = [o for o in self.rows if words & set(o.text.lower().split())
                and (kinds is None or o.kind in kinds)]
        return [Moment(video_id="v", path="/v.mp4", start=o.start, end=o.end, score=0.8,
                       evidence=[Evidence(channel="words", kind=o.kind, start=o.start,
                                          end=o.end, text=o.text, score=0.8)])
                for o in hits[:k]]

    def observations(self, video, kinds=None):
        return [o for o in self.rows if kinds is None or o.kind in kinds]


def tools_for(observations, duration=60.0):
    video = SimpleNamespace(id="v", paths=["/v.mp4"], info=SimpleNamespace(duration=duration))
    return VideoTools(FakeIndex(observations), video)


def tokens(text, probability=0.9):
    """A reply's tokens: one per character, each with `probability`, "true" and "false"
    as alternatives where the found decision is written."""
    out, i = [], 0
    while i < len(text):
        for word, other in (("true", "false"), ("false", "true")):
            if text.startswith(word, i):
                out.append(TokenLogprob(word, math.log(probability),
                                        ((word, math.log(probability)),
                                         (other, math.log(1 - probability)))))
                i += len(word)
                break
        else:
            out.append(TokenLogprob(text[i], math.log(probability)))
            i += 1
    return tuple(out)


class ScriptedModel:
    """A text-only chat model that replies from a script and records every call; the agent's
    one-token checks (does this line answer?) are answered by `verdict` (passage -> "yes" or
    "no", default "no") and recorded in `checked`."""

    supports_images = False
    name = "scripted"

    def __init__(self, *replies, max_context=None, verdict=lambda passage: "no"):
        self.replies = list(replies)
        self.calls = []
        self.checked = []
        self.verdict = verdict
        if max_context:
            self.max_context = max_context

    def chat(self, messages, *, max_tokens=None, temperature=0.0, tools=None,
             response_format=None, logprobs=None, grammar=None, timeout=None):
        self.calls.append({"messages": [m.to_dict() for m in messages], "grammar": grammar,
                           "timeout": timeout, "logprobs": logprobs, "check": max_tokens == 1})
        if max_tokens == 1:
            passage = messages[-1].content.split("Passage: ", 1)[1]
            self.checked.append(passage)
            reply = self.verdict(passage)
        else:
            reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return ChatReply(reply, [], "stop", 100, 10, 0.1, "scripted",
                         logprobs=tokens(reply) if logprobs is not None else ())

    def count_tokens(self, messages):
        return sum(len(json.dumps(m.to_dict())) for m in messages) // 4


def prompt(model, call=-1):
    """The words of the model's `call`-th answer (checks left out)."""
    answers = [c for c in model.calls if not c["check"]]
    return "\n".join(str(m["content"]) for m in answers[call]["messages"])


def test_an_answer_cites_the_lines_it_rests_on_and_no_frame_is_sent():
    model = ScriptedModel('{"answer": "7142", "found": true, "times": [20.0]}')
    agent = TextAgent(tools_for([SAID, SIGN]), model, model_name="scripted", abstain=0.0)
    answer = agent.ask("What is the code?")
    assert answer.found and answer.text == "7142" and answer.route == "fast"
    (moment,) = answer.evidence
    assert (moment.start, moment.end) == (20.0, 25.0) and moment.evidence[0].kind == "text"
    assert moment.evidence[0].text == SIGN.text and moment.score == 0.8
    words = prompt(model)
    assert "[20.0-25.0] screen: THE CODE IS 7142" in words and "[3.0-6.0] said:" in words
    assert words.rstrip().endswith("rests on.") and "Question: What is the code?" in words
    for message in model.calls[0]["messages"]:  # text only: never an image part
        assert isinstance(message["content"], str)
    assert answer.cost.frames_sent == 0 and answer.cost.frames_decoded == 0
    assert answer.cost.model_calls == 1 and not model.checked  # read whole: no check
    tools = [s.tool for s in answer.trace if s.kind == "tool"]
    assert tools[0] == "search" and {"transcript", "screen_text", "objects", "sounds"} <= set(tools)
    assert model.calls[0]["grammar"].startswith("root ::=")
    # decision 0.9, answer tokens 0.9 each, evidence 0.8
    assert answer.confidence == pytest.approx(confidence(0.9, 0.9, 0.8), abs=1e-3)
    assert answer.confidence == pytest.approx(0.75 * 0.81 + 0.25 * 0.8, abs=1e-3)


def test_not_found_is_an_answer_and_its_confidence_falls_with_the_best_match():
    model = ScriptedModel('{"answer": "none", "found": false, "times": []}')
    answer = TextAgent(tools_for([SAID, SIGN]), model, model_name="m").ask("What is the code?")
    assert not answer.found and answer.text == NOT_FOUND and not answer.evidence
    assert answer.confidence == pytest.approx(0.75 * 0.9 + 0.25 * (1 - 0.8), abs=1e-3)


def test_multiple_choice_picks_a_letter_with_its_probability():
    model = ScriptedModel('{"choice": "B", "times": [3.0]}')
    agent = TextAgent(tools_for([SAID, SIGN]), model, model_name="m")
    answer = agent.ask("On which day is the museum closed?", ["Friday", "Monday", "Sunday"])
    assert answer.choice == 1 and answer.text == "Monday" and answer.found
    assert answer.evidence[0].start == 3.0
    assert '("A" | "B" | "C")' in model.calls[0]["grammar"]
    assert "B. Monday" in prompt(model)
    index = agent.tools.index
    assert "monday" in [q.lower() for q in index.queries]  # each option is searched too


def test_an_answer_under_the_abstention_threshold_says_not_found():
    model = ScriptedModel('{"answer": "7142", "found": true, "times": []}')
    agent = TextAgent(tools_for([SIGN]), model, model_name="m", abstain=0.9)
    answer = agent.ask("What is the code?")
    assert not answer.found and answer.text == NOT_FOUND
    assert any("abstention" in note for note in answer.notes)


def test_the_line_that_holds_the_answer_in_another_form_is_the_evidence():
    """ "Monday" is held by "...closed on Mondays." even when the model cites another time
    (Qwen2.5-1.5B did, on a fact video)."""
    model = ScriptedModel('{"answer": "Monday", "found": true, "times": [20.0]}')
    answer = TextAgent(tools_for([SAID, SIGN]), model, model_name="m", abstain=0.0,
                       threshold=0.5).ask("On which day are the doors shut?")
    assert answer.found and answer.evidence[0].start == SAID.start
    assert answer.evidence[0].evidence[0].text == SAID.text


@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_an_answer_needs_its_cited_line_to_clear_the_search_threshold(threshold):
    """As the embedded answerer's must: a small model answers absent questions from
    unrelated lines with confidence; the search score of the line it cites says better."""
    weak = threshold > 0.8  # the fake search scores every hit 0.8
    model = ScriptedModel('{"answer": "7142", "found": true, "times": [20.0]}')
    answer = TextAgent(tools_for([SAID, SIGN]), model, model_name="m", abstain=0.0,
                       threshold=threshold).ask("What is the code?")
    assert answer.found is not weak and answer.text == (NOT_FOUND if weak else "7142")
    assert any("scores 0.80 in the search, under its threshold 0.90" in note
               for note in answer.notes) is weak
    model = ScriptedModel('{"choice": "B", "times": [3.0]}')
    answer = TextAgent(tools_for([SAID, SIGN]), model, model_name="m", threshold=threshold
                       ).ask("On which day is the museum closed?", ["Friday", "Monday"])
    assert answer.choice == 1 and answer.text == "Monday"  # a choice stays; a weak one is
    assert answer.found is not weak                        # marked a guess
    assert any("a guess" in note for note in answer.notes) is weak


def chatter(hours, every=10):
    return [Observation(video_id="v", start=t, end=t + 4.0, kind="speech",
                        text=f"Filler sentence number {int(t)} about nothing at all.",
                        source="whisper") for t in range(0, int(hours), every)]


PASSWORD = Observation(video_id="v", start=5000.0, end=5004.0, kind="speech",
                       text="The password is heron.", source="whisper")


@pytest.mark.parametrize("verdict", ["yes", "no"])
def test_an_answer_under_the_search_threshold_stands_when_the_model_checks_its_line(verdict):
    """A paraphrased question scores its answer's line low in the search (the needle
    benchmark's "what colour is the entrance of the house now" and "Dad painted the front
    door bright yellow"): on a long video the model's own yes/no judgement of the line keeps
    the answer; on a short one, read whole, the search score alone decides."""
    hours = 3600.0
    sign = Observation(video_id="v", start=2000.0, end=2005.0, kind="text",
                       text="THE CODE IS 7142", source="ocr")
    reply = '{"answer": "7142", "found": true, "times": [2000.0]}'
    imagined = [] if verdict == "yes" else ['"the code"']  # no line passed: search again
    model = ScriptedModel(*imagined, reply, verdict=lambda passage: verdict)
    answer = TextAgent(tools_for([*chatter(hours), sign], hours), model, model_name="m",
                       abstain=0.0, threshold=0.9).ask("What is the code?")
    assert model.checked[0] == sign.text
    assert answer.found is (verdict == "yes")
    if answer.found:
        words, check = answer.evidence[0].evidence
        assert (words.channel, words.score) == ("words", 0.8)
        assert (check.channel, check.score) == ("check", 1.0) and answer.evidence[0].score == 1.0
    else:
        assert any("judged it an answer with probability 0.00" in n for n in answer.notes)
    model = ScriptedModel(reply.replace("2000.0", "20.0"), verdict=lambda passage: verdict)
    short = TextAgent(tools_for([SAID, SIGN]), model, model_name="m", abstain=0.0,
                      threshold=0.9).ask("What is the code?")
    assert not short.found and not model.checked


def test_the_line_the_model_judges_an_answer_comes_first():
    hours = 3600.0
    sign = Observation(video_id="v", start=2000.0, end=2005.0, kind="text",
                       text="THE CODE IS 7142", source="ocr")
    other = Observation(video_id="v", start=1991.0, end=1994.0, kind="speech",
                        text="Some say 7142 and some say 7143.", source="whisper")
    model = ScriptedModel('{"answer": "7142", "found": true, "times": [1991.0, 2000.0]}',
                          verdict=lambda passage: "yes" if "CODE" in passage else "no")
    answer = TextAgent(tools_for([*chatter(hours), sign, other], hours), model,
                       model_name="m", abstain=0.0).ask("What opens the lock?")
    assert model.checked == [sign.text, other.text]  # a candidate, then a cited line
    assert [m.start for m in answer.evidence] == [2000.0, 1991.0]  # both hold "7142"


def test_a_long_video_answers_from_the_lines_the_model_judged_an_answer():
    """Past the notes budget the model first checks the best moments' lines (one-token
    yes/no), then answers from the windows around those it judged an answer: a small model
    picks the answer out of a few lines far better than out of 1,500 tokens of notes."""
    hours = 2 * 3600.0
    model = ScriptedModel('{"answer": "heron", "found": true, "times": [5000.0]}',
                          verdict=lambda passage: "yes" if "heron" in passage else "no")
    answer = TextAgent(tools_for([*chatter(hours), PASSWORD], hours), model, model_name="m",
                       threshold=0.9).ask("What is the password?")
    assert model.checked[0] == PASSWORD.text
    words = prompt(model)
    assert "[5000.0-5004.0] said: The password is heron." in words
    assert "[4990.0-4994.0] said:" in words and "[5010.0-5014.0] said:" in words
    assert "overview" not in words and "[4980.0" not in words  # the window only
    assert answer.found and answer.text == "heron" and answer.route == "fast"
    assert answer.evidence[0].start == 5000.0
    assert [e.channel for e in answer.evidence[0].evidence] == ["words", "check"]
    assert model.checked.count(PASSWORD.text) == 1  # checked once, reused for the answer
    assert answer.cost.model_calls == 1 + len(model.checked)


@pytest.mark.parametrize("written", ["The program being run is stopped.", "5004.0"])
def test_an_answer_no_line_judged_an_answer_holds_becomes_that_line(written):
    """Qwen2.5-1.5B answered "danger from stones dropping" with a speech line beside the sign
    it had judged the answer (0.99), and "when does the chemist close" with a time: the
    answer is the sign."""
    hours = 2 * 3600.0
    sign = Observation(video_id="v", start=5000.0, end=5008.0, kind="text",
                       text="BEWARE OF FALLING ROCKS", source="ocr")
    said = Observation(video_id="v", start=5004.0, end=5007.0, kind="speech",
                       text="The program being run is stopped.", source="whisper")
    model = ScriptedModel(f'{{"answer": "{written}", "found": true, "times": [5000.0]}}',
                          verdict=lambda passage: "yes" if "ROCKS" in passage else "no")
    answer = TextAgent(tools_for([*chatter(hours), sign, said], hours), model, model_name="m",
                       abstain=0.0, threshold=0.9).ask("danger from falling stones")
    assert "[5000.0-5008.0] screen: BEWARE OF FALLING ROCKS" in prompt(model).split(
        "likeliest to answer it:")[1]
    assert answer.found and answer.text == sign.text and answer.evidence[0].start == 5000.0
    assert any("which no line it judged an answer holds" in note for note in answer.notes)


def test_a_long_video_checks_the_best_screen_text_of_its_own():
    """Speech's many lines outrank the sign that answers (the held-out needle haystack's
    GATE B12 was 12th among all notes for "which door is the plane leaving from", 1st
    among screen text): the best screen-text lines are checked too."""
    hours = 3600.0
    said = [Observation(video_id="v", start=100.0 * n, end=100.0 * n + 4, kind="speech",
                        text=f"The plane of sentence {n} is flat.", source="whisper")
            for n in range(1, 9)]
    gate = Observation(video_id="v", start=3000.0, end=3010.0, kind="text",
                       text="GATE B12 PLANE BOARDING", source="ocr")
    model = ScriptedModel('{"answer": "B12", "found": true, "times": [3000.0]}',
                          verdict=lambda passage: "yes" if "GATE" in passage else "no")
    answer = TextAgent(tools_for([*chatter(hours, 7), *said, gate], hours), model,
                       model_name="m", abstain=0.0, threshold=0.9).ask("Which plane door?")
    searches = [s.arguments for s in answer.trace if s.tool == "search"]
    assert {"query": "Which plane door?", "k": 5, "kinds": ["text"]} in searches
    assert model.checked[:5] == [line.text for line in said[:5]]  # the best 5 of all first
    assert model.checked[5] == gate.text and answer.route == "fast"
    assert answer.found and answer.text == "B12" and answer.evidence[0].start == 3000.0


def test_a_long_video_gets_an_overview_when_no_line_passes_the_check():
    hours = 2 * 3600.0
    model = ScriptedModel('"the secret word"',
                          '{"answer": "heron", "found": true, "times": [5000.0]}')
    agent = TextAgent(tools_for([*chatter(hours), PASSWORD], hours), model, model_name="m")
    answer = agent.ask("What is the password?")
    words = prompt(model)
    assert "said: The password is heron." in words and "overview: " in words
    assert len(words) / 3.2 < NOTES_TOKENS + 200  # the notes fit their budget
    assert "[4990.0-4994.0] said:" in words  # the window around the needle, in full
    assert answer.evidence[0].start == 5000.0
    assert any(s.tool == "overview" for s in answer.trace)
    assert "the secret word" in [s.arguments.get("query") for s in answer.trace]


def test_a_long_video_searches_with_a_line_the_model_imagines():
    """A paraphrased question finds nothing the model judges an answer; the line it imagines
    (HyDE) shares words with the one that answers."""
    hours = 3600.0
    needle = Observation(video_id="v", start=2001.0, end=2005.0, kind="speech",
                         text="Dad painted the front door bright yellow.", source="whisper")
    model = ScriptedModel('"We painted the front door red."',
                          '{"answer": "yellow", "found": true, "times": [2001.0]}',
                          verdict=lambda passage: "yes" if "door" in passage else "no")
    answer = TextAgent(tools_for([*chatter(hours, 8), needle], hours), model, model_name="m",
                       abstain=0.0, threshold=0.9).ask("What colour is our entrance now?")
    assert "We painted the front door red." in [s.arguments.get("query") for s in answer.trace]
    assert answer.route == "agent" and answer.found and answer.text == "yellow"
    assert "said: Dad painted the front door bright yellow." in prompt(model)
    assert answer.evidence[0].start == 2001.0 and model.checked == [needle.text]


def test_a_long_video_where_nothing_is_found_says_so():
    hours = 3600.0
    nothing = '{"answer": "none", "found": false, "times": []}'
    model = ScriptedModel('"wireless key"', nothing)
    answer = TextAgent(tools_for(chatter(hours, 8), hours), model, model_name="m").ask(
        "What is the password?")
    assert answer.route == "agent" and answer.cost.model_calls == 2
    assert "wireless key" in [s.arguments.get("query") for s in answer.trace]
    assert not answer.found and answer.text == NOT_FOUND


def test_notes_longer_than_the_context_are_trimmed_with_a_note():
    lines = [Observation(video_id="v", start=float(t), end=t + 0.9, kind="speech",
                         text=f"sentence {t} " * 3, source="whisper") for t in range(50)]
    model = ScriptedModel('{"answer": "none", "found": false, "times": []}', max_context=400)
    answer = TextAgent(tools_for(lines), model, model_name="m").ask("What?")
    assert any("trimmed" in note for note in answer.notes)
    assert model.count_tokens([]) == 0 and len(prompt(model)) // 4 < 400


def test_the_time_budget_is_passed_as_a_timeout_and_stops_the_answer_with_its_trace():
    partial = ChatReply('{"found": tr', [], "length", 5, 3, 1.0, "m")
    model = ScriptedModel(ChatTimeoutError("no reply in 2 s", partial=partial))
    agent = TextAgent(tools_for([SIGN]), model, model_name="m", budget=Budget(seconds=2))
    with pytest.raises(AskError) as caught:
        agent.ask("What is the code?")
    assert 0 < model.calls[0]["timeout"] <= 2
    trace = caught.value.answer.trace
    assert trace[0].tool == "search" and trace[-1].kind == "error"


def test_text_only_models_are_recognised():
    assert is_text_only(ScriptedModel())
    assert not is_text_only(SimpleNamespace(chat=lambda *a, **k: None))


def test_ask_uses_the_installed_llm_or_says_how_to_install_it(tmp_path, monkeypatch):
    from vidseek.models.install import INSTALLABLE

    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path))
    spec, note = default_model()
    assert spec is None and "vidseek models install llm" in note
    entry = INSTALLABLE["llm"]
    for f in entry.files:  # sparse files of the right sizes: installed, as far as ask can tell
        path = tmp_path / entry.name / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            out.truncate(f.size)
    assert default_model() == ("llm", None)


@pytest.mark.slow
def test_smollm2_answers_the_fact_video_through_the_text_agent(facts):
    """Wiring only: SmolLM2 invents things, so only the form of the answer is checked."""
    question = next(q for q in facts.questions if q.kind == "text")
    steps = []
    answer = facts.library.ask(facts.path, question.question, model="llm-tiny",
                               budget=Budget(seconds=120), on_step=steps.append)
    assert answer.model == "llm-tiny" and answer.cost.frames_sent == 0
    assert answer.cost.model_calls >= 1 and answer.cost.prompt_tokens > 0
    assert 0.0 <= answer.confidence <= 1.0 and answer.trace == steps
    assert any("saw no frames" in note for note in answer.notes)
    if not answer.found:
        assert answer.text == NOT_FOUND


@pytest.mark.slow
def test_auto_without_an_installed_llm_answers_from_the_index_and_says_how(facts, tmp_path):
    os.environ["VIDSEEK_MODELS"] = str(tmp_path)
    try:
        answer = facts.library.ask(facts.path, facts.questions[0].question, model="auto")
    finally:
        del os.environ["VIDSEEK_MODELS"]
    assert answer.model == "embedded"
    assert any("vidseek models install llm" in note for note in answer.notes)


def test_the_check_gate_of_the_calibration_fitted_with_the_model_as_reranker(tmp_path):
    """The llm reranker's calibration (fitted on needle seed 0) weighs the check with the
    search score: on held-out seed 2 it kept "yellow" (P(yes) 0.77, search 0.08) and turned
    down "GATE B12 NOW BOARDING" for "a gondola ride in Venice" (0.66, 0.01)."""
    from vidseek.agent.text import calibrated_gate
    from vidseek.library import Library
    from vidseek.search.calibration import calibration_file, load_calibration

    stands = calibrated_gate(load_calibration(calibration_file(None, "llm")))
    assert stands(0.77, 0.08) and stands(0.99, 0.01)
    assert not stands(0.66, 0.01) and not stands(0.2, 0.1)
    with Library(tmp_path / "lib") as library:
        assert library._check_gate("llm") is not None
        assert library._check_gate("llamacpp:/models/another.gguf") is None
    hours = 3600.0
    sign = Observation(video_id="v", start=2000.0, end=2005.0, kind="text",
                       text="THE CODE IS 7142", source="ocr")
    for gate, kept in ((lambda check, score: score > 0.85, False),
                       (lambda check, score: check > 0.99, True)):
        model = ScriptedModel('{"answer": "7142", "found": true, "times": [2000.0]}',
                              verdict=lambda passage: "yes")
        answer = TextAgent(tools_for([*chatter(hours), sign], hours), model, model_name="m",
                           abstain=0.0, threshold=0.9, check_gate=gate).ask("What is the code?")
        assert answer.found is kept and model.checked == [sign.text]
