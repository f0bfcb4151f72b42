"""A real OpenAI-compatible server in the tests: llama.cpp's own HTTP server (xllamacpp) with
SmolLM2-135M (llm-tiny) on a loopback port, driven by the ``openai:`` backend and by the
answer loop: a plain answer, token probabilities, a key that is refused, a malformed reply,
a timeout, and the agent's tool fallback.

SmolLM2-135M invents answers: these tests check the wiring, never what it says."""

from __future__ import annotations

import pytest

from vidseek.agent import Budget
from vidseek.errors import AskError
from vidseek.models import ChatModelError, resolve
from vidseek.models.chat import OpenAIChat
from vidseek.models.llamacpp import LlamaCppChat
from vidseek.models.messages import ChatMessage
from vidseek.models.protocols import ChatTimeoutError
from vidseek.models.scoring import yes_probability

ASK = [ChatMessage.user("What is the capital of France? One word.")]


@pytest.fixture(scope="module")
def server(tiny_gguf) -> LlamaCppChat:
    """llm-tiny loaded in this process: llama.cpp serves it on 127.0.0.1 with a random key."""
    model = LlamaCppChat(tiny_gguf, installed="llm-tiny")
    yield model.load()
    model.close()


def client(server: LlamaCppChat, **options) -> OpenAIChat:
    options = {"api_key": server.api_key, "timeout": 60, "retries": 0, **options}
    return OpenAIChat(server.base_url, "llm-tiny", **options)


def test_the_openai_backend_gets_a_plain_answer_over_http(server, monkeypatch):
    assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
    monkeypatch.setenv("VIDSEEK_API_KEY", server.api_key)
    model = resolve("chat", f"openai:{server.base_url}#llm-tiny")
    reply = model.chat(ASK, max_tokens=12)
    assert reply.text and reply.prompt_tokens and reply.completion_tokens
    assert reply.finish_reason in ("stop", "length")
    # the same model in process answers the same (temperature 0, same seed)
    assert server.chat(ASK, max_tokens=12).text == reply.text


def test_token_probabilities_over_http(server):
    model = client(server)
    reply = model.chat(ASK, max_tokens=6, logprobs=2)
    assert reply.logprobs and all(len(t.top) == 2 for t in reply.logprobs)
    assert 0.0 <= yes_probability(model, "Is Paris in France?") <= 1.0


def test_a_wrong_key_is_refused_with_advice(server):
    with pytest.raises(ChatModelError) as caught:
        client(server, api_key="wrong").chat(ASK, max_tokens=2)
    assert caught.value.status == 401 and "API key" in str(caught.value)


def test_a_reply_that_does_not_come_in_time_is_a_timeout(server):
    long = [ChatMessage.user("Write a very long story about the sea, with many chapters.")]
    with pytest.raises(ChatTimeoutError) as caught:
        client(server, timeout=0.2).chat(long, max_tokens=300)
    assert caught.value.status is None and "0.2 s" in str(caught.value)
    assert server.chat(ASK, max_tokens=2).completion_tokens  # the server still answers


# -- the answer loop against the real server ------------------------------------------------


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    from agent_facts import indexed_facts

    facts = indexed_facts(tmp_path_factory.mktemp("llm-facts"), 3)
    yield facts
    facts.library.close()


@pytest.mark.slow
def test_the_agent_answers_through_the_server(server, facts):
    """Text only (no frames: this model cannot see); the reply is constrained to the answer
    form by the JSON schema the loop sends, so it parses whatever the model thinks."""
    question = facts.questions[0].question
    steps = []
    answer = facts.library.ask(facts.path, question, model=client(server),
                               budget=Budget(frames=0, steps=4), on_step=steps.append)
    assert answer.text and answer.cost.model_calls >= 1 and answer.cost.frames_sent == 0
    assert answer.cost.prompt_tokens > 0 and answer.cost.completion_tokens > 0
    assert any(s.kind == "model" for s in steps) and answer.trace


@pytest.mark.slow
def test_the_agent_falls_back_to_tools_in_the_prompt_in_process(server, facts):
    """In process, a template without tools refuses them (400): the loop then describes its
    tools in the prompt and reads tool calls from JSON, and still ends with an answer or a
    clean error that keeps the trace."""
    question = facts.questions[-1].question
    try:
        answer = facts.library.ask(facts.path, question, model="llm-tiny",  # shares `server`
                                   budget=Budget(frames=0, steps=4, confident=1.0))
        trace = answer.trace
    except AskError as exc:  # SmolLM2 may keep replying in a malformed form
        assert exc.answer is not None
        trace = exc.answer.trace
    assert any(s.kind == "model" for s in trace)


@pytest.mark.slow
def test_a_malformed_reply_ends_in_an_error_that_keeps_the_trace(server, facts):
    truncated = client(server, options={"max_tokens": 3})  # every reply is cut short
    with pytest.raises(AskError, match="malformed") as caught:
        facts.library.ask(facts.path, facts.questions[0].question, model=truncated,
                          budget=Budget(frames=0, steps=4))
    kinds = [s.kind for s in caught.value.answer.trace]
    assert kinds.count("model") >= 2 and "error" in kinds


@pytest.mark.slow
def test_a_model_slower_than_the_budget_stops_with_the_partial_trace(server, facts):
    with pytest.raises(AskError) as caught:
        facts.library.ask(facts.path, facts.questions[0].question,
                          model=client(server, timeout=0.2), budget=Budget(frames=0))
    assert "0.2 s" in str(caught.value)
    trace = caught.value.answer.trace
    assert trace and trace[-1].kind == "error"
