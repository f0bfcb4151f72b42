"""The answer loop against a real OpenAI-compatible HTTP server on 127.0.0.1 that replies from
a script: what the requests carry, the fast and agentic paths, budgets, malformed replies and
a server that is down or slow."""

from __future__ import annotations

import json
import socket

import jsonschema
import pytest
from chat_server import Reply, ScriptedChatServer

from vidseek.agent import Budget, read_trajectories
from vidseek.errors import AskError
from vidseek.models.chat import OpenAIChat

pytestmark = pytest.mark.slow  # the shared fixture indexes a fact video once

def answer(text="7142", *, confidence=0.9, start=None, end=None, found=True, choice=None):
    evidence = [] if start is None else [{"start": start, "end": end, "seen": f"'{text}'"}]
    return json.dumps({"answer": text, "choice": choice, "found": found,
                       "confidence": confidence, "evidence": evidence})


def model(server, **options):
    return OpenAIChat(server.url, server.model, timeout=5, retries=0, **options)


@pytest.fixture(scope="module")
def code(facts):
    """A fact written on screen, and its question."""
    return next(q for q in facts.questions if q.kind == "text")


@pytest.fixture(scope="module")
def question(code):
    return code.question


def test_the_fast_path_shows_the_top_moments_with_their_times(facts, question, code):
    steps = []
    with ScriptedChatServer([answer(start=code.start, end=code.end)]) as server:
        got = facts.library.ask(facts.path, question, model=model(server),
                                on_step=steps.append)
        (request,) = server.chat_requests
    assert got.route == "fast" and got.text == "7142" and got.found and got.confidence == 0.9
    body = request.body
    assert body["response_format"]["type"] == "json_schema" and "tools" not in body
    jsonschema.Draft202012Validator.check_schema(body["response_format"]["json_schema"]["schema"])
    words = "\n".join(request.texts)
    assert question in words and code.fact in words  # the search found the sign
    labels = [t for t in request.texts if t.startswith("Frame at ")]
    assert labels and len(labels) == len(request.image_urls) == got.cost.frames_sent
    times = [float(t.split()[2]) for t in labels]
    # the frames come from the best moments (the sign is one of them), not the whole video
    assert any(code.start <= t <= code.end for t in times)
    (moment,) = got.evidence
    assert (moment.start, moment.end) == (code.start, code.end)
    assert moment.evidence[0].frame_times and moment.evidence[0].channel == "model"
    assert got.cost.model_calls == 1 and got.cost.prompt_tokens > 0
    assert got.cost.frames_decoded >= got.cost.frames_sent
    assert steps == got.trace and [s.kind for s in steps][-1] == "answer"


def test_an_unsure_answer_leads_to_tool_calls_whose_frames_carry_their_times(facts, question, code):
    inspect = {"start": code.start, "end": code.end, "count": 3, "region": [0, 0.25, 1, 0.75]}
    script = [answer(confidence=0.3), Reply.calling("inspect", inspect, "call_7"),
              answer(confidence=0.95, start=code.start, end=code.end)]
    with ScriptedChatServer(script) as server:
        got = facts.library.ask(facts.path, question, model=model(server))
        first, second, third = server.chat_requests
    assert got.route == "agent" and got.confidence == 0.95
    tools = second.body["tools"]
    assert {t["function"]["name"] for t in tools} >= {
        "overview", "search", "inspect", "transcript", "screen_text", "faces", "objects",
        "sounds"}
    for tool in tools:
        jsonschema.Draft202012Validator.check_schema(tool["function"]["parameters"])
    messages = third.messages
    (tool_message,) = [m for m in messages if m["role"] == "tool"]
    assert tool_message["tool_call_id"] == "call_7" and "3 frames" in tool_message["content"]
    new_labels = [t for t in third.texts if t.startswith("Frame at ")][-3:]
    assert all(code.start <= float(t.split()[2]) <= code.end for t in new_labels)
    step = next(s for s in got.trace if s.tool == "inspect")
    assert len(step.frame_times) == 3 and step.arguments == inspect
    assert got.evidence[0].evidence[0].frame_times  # a frame it saw lies in its evidence


def test_a_server_without_tool_calling_gets_the_tools_in_the_prompt(facts, question, code):
    def reply(body):
        if "tools" in body:
            return Reply.failure(400, "tools are not supported by this model")
        asked = sum(1 for m in body["messages"] if m["role"] == "assistant")
        if asked == 0:
            return answer(confidence=0.2)
        if asked == 1:
            return '```json\n{"tool": "transcript", "arguments": {"start": 0, "end": 20}}\n```'
        return answer(confidence=0.8, start=code.start, end=code.end)

    with ScriptedChatServer(reply) as server:
        got = facts.library.ask(facts.path, question, model=model(server))
        last = server.chat_requests[-1]
    assert got.text == "7142" and got.route == "agent"
    assert any("refused tools" in s.observation for s in got.trace if s.kind == "error")
    assert any('"tool": "NAME"' in t for t in last.texts)  # the tools were described
    assert any(t.startswith("Result of transcript:") for t in last.texts)


def test_the_step_budget_stops_the_loop_and_forces_an_answer(facts, question):
    look = Reply.calling("overview", {"count": 2})
    script = [answer(confidence=0.1), look, look, answer("not sure", confidence=0.4), look]
    with ScriptedChatServer(script) as server:
        got = facts.library.ask(facts.path, question, model=model(server),
                                budget=Budget(steps=4, frames=32))
        requests = server.chat_requests
    assert len(requests) == 4 == got.cost.model_calls  # fast, two looks, the forced answer
    assert "tools" not in requests[-1].body and "budget for looking is spent" in "\n".join(
        requests[-1].texts)
    assert got.text == "not sure" and any("step budget" in n for n in got.notes)


def test_the_frame_budget_limits_the_pictures_sent(facts, question):
    script = [answer(confidence=0.1), Reply.calling("inspect", {"start": 0, "end": 9, "count": 8}),
              answer(confidence=0.9)]
    with ScriptedChatServer(script) as server:
        got = facts.library.ask(facts.path, question, model=model(server),
                                budget=Budget(frames=5))
        sent = sum(len(r.image_urls) for r in server.chat_requests[-1:])
    assert got.cost.frames_sent == 5 == sent


def test_malformed_replies_are_retried_then_reported_with_the_trace(facts, question, tmp_path):
    script = ["The code is seven one four two.", '{"answer": "7142", "confidence": "sure"}',
              "still no JSON"]
    saved = tmp_path / "asks.jsonl"
    with ScriptedChatServer(script) as server, pytest.raises(AskError) as failed:
        facts.library.ask(facts.path, question, model=model(server), budget=Budget(retries=2),
                          trajectory=saved)
    assert "malformed form 3 times" in str(failed.value)
    partial = failed.value.answer
    errors = [s for s in partial.trace if s.kind == "error"]
    assert len(errors) == 3 and "confidence" in errors[1].observation
    assert not partial.found and partial.cost.model_calls == 3
    (line,) = read_trajectories(saved)
    assert line["error"] and line["question"] == question and line["trace"][0]["tool"] == "search"


def test_a_repaired_reply_is_accepted(facts, question):
    script = ["I believe it is 7142", answer(confidence=0.9)]
    with ScriptedChatServer(script) as server:
        got = facts.library.ask(facts.path, question, model=model(server))
        second = server.chat_requests[1]
    assert got.text == "7142" and [s.kind for s in got.trace].count("error") == 1
    assert "not valid" in second.texts[-1]


def test_a_server_that_is_down_gives_a_clear_error_and_keeps_the_trace(facts, question):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once it is closed
    down = OpenAIChat(f"http://127.0.0.1:{port}/v1", "m", timeout=2, retries=0)
    with pytest.raises(AskError) as failed:
        facts.library.ask(facts.path, question, model=down)
    message = str(failed.value)
    assert f"127.0.0.1:{port}" in message and "partial trace" in message
    trace = failed.value.answer.trace
    assert trace[0].tool == "search" and trace[-1].kind == "error"


def test_a_slow_server_times_out_with_a_clear_error(facts, question):
    with ScriptedChatServer([Reply(text=answer(), delay=3)]) as server, \
            pytest.raises(AskError, match="(?i)timed out|timeout"):
        facts.library.ask(facts.path, question,
                          model=OpenAIChat(server.url, server.model, timeout=0.5, retries=0))


def test_trajectories_hold_each_step_and_the_answer(facts, question, tmp_path, code):
    saved = tmp_path / "asks.jsonl"
    script = [answer(confidence=0.3), Reply.calling("screen_text", {"start": 0}),
              answer(confidence=0.9, start=code.start, end=code.end)]
    with ScriptedChatServer(script) as server:
        got = facts.library.ask(facts.path, question, model=model(server), trajectory=saved)
    (line,) = read_trajectories(saved)
    assert line["error"] is None and line["text"] == "7142" and line["model"] == got.model
    tool_steps = [s for s in line["trace"] if s["kind"] == "tool"]
    assert [s["tool"] for s in tool_steps] == ["search", "frames", "screen_text"]
    assert code.fact in tool_steps[-1]["observation"]
    assert line["cost"]["model_calls"] == 3
