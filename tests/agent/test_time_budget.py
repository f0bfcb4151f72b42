"""The time budget holds during model calls: a server that never answers, or that trickles
its reply a byte at a time, is cut off when `Budget.seconds` runs out (over loopback, with the
client's own generous timeout and retries, as ``vidseek ask --model openai:...`` makes it)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from chat_server import Reply, ScriptedChatServer

from vidseek.agent import Agent, Budget, TextAgent, VideoTools
from vidseek.agent.budget import Meter, TimeSpent, chat_within
from vidseek.errors import AskError
from vidseek.models import resolve
from vidseek.models.messages import ChatMessage, ChatReply
from vidseek.types import Evidence, Moment, Observation

BUDGET = 2.0
SLACK = 1.0  # seconds past the budget an ask may take: the last step, on a busy machine
SIGN = Observation(video_id="v", start=20.0, end=25.0, kind="text", text="THE CODE IS 7142",
                   source="ocr")


class Index:
    """One sign, found by any query that shares a word with it."""

    def search(self, query=None, *, videos=None, kinds=None, k=10, image=None, threshold=None):
        words = set(query.lower().replace("?", "").split())
        if not words & set(SIGN.text.lower().split()):
            return []
        return [Moment(video_id="v", path="/v.mp4", start=SIGN.start, end=SIGN.end, score=0.8,
                       evidence=[Evidence(channel="words", kind="text", start=SIGN.start,
                                          end=SIGN.end, text=SIGN.text, score=0.8)])]

    def observations(self, video, kinds=None):
        return [SIGN] if kinds is None or SIGN.kind in kinds else []


def tools() -> VideoTools:
    video = SimpleNamespace(id="v", paths=["/v.mp4"], info=SimpleNamespace(duration=60.0))
    return VideoTools(Index(), video)


def unsure() -> str:
    return json.dumps({"answer": "7142", "choice": None, "found": True, "confidence": 0.3,
                       "evidence": [{"start": 20.0, "end": 25.0, "seen": "the code"}]})


def budget() -> Budget:
    return Budget(seconds=BUDGET, frames=0)  # frames=0: the fake video is never decoded


STALLS = {"hanging": Reply.hanging, "trickling": lambda: Reply.trickling(0.2)}


@pytest.mark.parametrize("stall", STALLS)
@pytest.mark.parametrize("kind", [Agent, TextAgent])
def test_a_stalled_server_ends_the_ask_at_the_time_budget_with_its_trace(stall, kind):
    with ScriptedChatServer(lambda body: STALLS[stall]()) as server:
        agent = kind(tools(), resolve("chat", server.spec), model_name=server.spec,
                     budget=budget())
        began = time.perf_counter()
        with pytest.raises(AskError) as caught:
            agent.ask("What is the code?")
        elapsed = time.perf_counter() - began
    assert BUDGET <= elapsed <= BUDGET + SLACK, elapsed
    message = str(caught.value)
    assert f"the time budget ({BUDGET:g} s) ran out before the model answered" in message
    answer = caught.value.answer
    assert answer.trace[0].tool == "search" and answer.trace[-1].kind == "error"
    assert answer.cost.seconds <= BUDGET + SLACK and not answer.found
    assert len(server.chat_requests) == 1  # no retry was started past the deadline


@pytest.mark.parametrize("stall", STALLS)
def test_time_that_runs_out_while_looking_closer_keeps_the_first_answer(stall):
    with ScriptedChatServer([unsure()] + [STALLS[stall]()] * 3) as server:
        agent = Agent(tools(), resolve("chat", server.spec), model_name=server.spec,
                      budget=budget())
        began = time.perf_counter()
        answer = agent.ask("What is the code?")
        elapsed = time.perf_counter() - began
    assert elapsed <= BUDGET + SLACK, elapsed
    assert answer.text == "7142" and answer.route == "agent" and answer.confidence == 0.3
    assert any(f"cut short: the time budget ({BUDGET:g} s) ran out" in note
               for note in answer.notes)
    assert answer.cost.seconds <= BUDGET + SLACK


class SlowModel:
    """A chat model that takes no timeout: each call takes `seconds`."""

    name = "slow"

    def __init__(self, seconds):
        self.seconds = seconds
        self.calls = 0

    def chat(self, messages, *, max_tokens=None, temperature=0.0, tools=None,
             response_format=None):
        self.calls += 1
        time.sleep(self.seconds)
        if not tools:
            return ChatReply(unsure(), [], "stop", 10, 10, self.seconds, "slow")
        look = {"id": "call_1", "type": "function",
                "function": {"name": "screen_text", "arguments": "{}"}}
        return ChatReply("", [look], "tool_calls", 10, 10, self.seconds, "slow")


def test_no_call_starts_once_the_time_is_spent():
    meter = Meter(Budget(seconds=0.05))
    model = SlowModel(0.0)
    time.sleep(0.06)
    with pytest.raises(TimeSpent):
        chat_within(meter, model, [ChatMessage.user("hi")])
    assert model.calls == 0
    # a model that cannot be cut off: its call runs to its end, but no later one starts
    model = SlowModel(0.7)
    answer = Agent(tools(), model, model_name="slow", budget=Budget(seconds=1.0, frames=0)
                   ).ask("What is the code?")
    assert model.calls == 2 and answer.text == "7142"
    assert any("cut short: the time budget (1 s)" in note for note in answer.notes)
