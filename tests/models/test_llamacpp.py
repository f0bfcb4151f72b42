"""The llama.cpp chat backend (`llamacpp:`, `llm`, `llm-small`, `llm-tiny`) with a real GGUF
model, SmolLM2-135M (llm-tiny): loading once, constrained JSON, token probabilities, the
yes/no helper, deadlines, context that grows, and the errors of missing or damaged files.

SmolLM2-135M invents answers: these tests check the wiring, never what it says."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import time

import pytest

from vidseek.models import ChatModel, ChatModelError, resolve
from vidseek.models import llamacpp as llamacpp_module
from vidseek.models.install import ModelInstallError
from vidseek.models.llamacpp import GGUFFileError, LlamaCppChat
from vidseek.models.messages import ChatMessage
from vidseek.models.protocols import ChatContextError, ChatTimeoutError
from vidseek.models.scoring import supports_logprobs, yes_no_from_reply, yes_probability

ASK = [ChatMessage.system("Answer briefly."),
       ChatMessage.user("What is the capital of France?")]


@pytest.fixture(scope="module")
def tiny(tiny_gguf) -> LlamaCppChat:
    model = LlamaCppChat(tiny_gguf, installed="llm-tiny", max_tokens=24)
    yield model.load()
    model.close()


# -- specs and files (no model needed) -------------------------------------------------------


def test_specs_name_installed_models_and_paths_with_options(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "models"))
    for spec in ("llm", "llm-small", "llamacpp:llm-tiny", "llamacpp:llm#ctx=512"):
        with pytest.raises(GGUFFileError) as caught:  # not installed in that folder
            resolve("chat", spec)
        name = spec.removeprefix("llamacpp:").split("#")[0]
        assert f"vidseek models install {name}" in str(caught.value)
        assert isinstance(caught.value, ChatModelError | ModelInstallError)
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    model = resolve("chat", f"llamacpp:{gguf}#ctx=512,threads=1,max_tokens=7,timeout=2.5")
    assert isinstance(model, LlamaCppChat) and isinstance(model, ChatModel)
    assert (model.fixed_context, model.threads, model.max_tokens, model.timeout) == (
        512, 1, 7, 2.5)
    assert model.name == "llamacpp:model" and not model.loaded  # nothing loads yet
    with pytest.raises(ChatModelError, match="unknown option 'gpu=1'"):
        resolve("chat", f"llamacpp:{gguf}#gpu=1")
    with pytest.raises(ChatModelError, match="does not exist"):
        resolve("chat", f"llamacpp:{tmp_path}/none.gguf")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ChatModelError, match="not a GGUF file"):
        resolve("chat", f"llamacpp:{tmp_path}/notes.txt")
    with pytest.raises(ChatModelError, match="llm-small"):  # the role lists the forms
        resolve("chat", "gguf:/x")


def test_a_call_without_time_left_starts_nothing(tmp_path):
    """A local call cannot be stopped while it reads its prompt: none starts without time
    (the fake GGUF file would fail to load if it did)."""
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    model = LlamaCppChat(gguf, threads=1)
    for left in (0, -2.0):
        with pytest.raises(ChatTimeoutError, match="not started: no time left"):
            model.chat([ChatMessage.user("hi")], timeout=left)
    assert not model.loaded


def test_a_damaged_installed_model_says_so_and_how_to_replace_it(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path))
    folder = tmp_path / "llm-tiny"
    folder.mkdir()
    (folder / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(GGUFFileError) as caught:
        resolve("chat", "llm-tiny")
    message = str(caught.value)
    assert "damaged" in message and "SmolLM2-135M-Instruct.Q4_1.gguf" in message
    assert "vidseek models install llm-tiny" in message


def test_tool_calls_written_as_plain_json_become_tool_calls():
    """What Qwen2.5-Coder 0.5B and 1.5B wrote when asked to use a search tool."""
    from vidseek.models.llamacpp import _recover_tool_calls
    from vidseek.models.messages import ChatReply

    tools = [{"type": "function", "function": {"name": "search", "parameters": {}}}]

    def reply(text):
        return ChatReply(text, [], "stop", 10, 5, 0.1, "llamacpp:llm")

    written = ('```json\n{\n  "name": "search",\n  "arguments": {\n    "query": "dog barks"\n'
               '  }\n}\n```')
    got = _recover_tool_calls(reply(written), tools)
    assert got.text == "" and got.finish_reason == "tool_calls"
    (call,) = got.tool_calls
    assert call["function"]["name"] == "search"
    assert json.loads(call["function"]["arguments"]) == {"query": "dog barks"}
    for text in ('{"name": "delete_everything", "arguments": {}}',  # not an offered tool
                 'The dog barks at 12 s. {"name": "search", "arguments": {}}',  # prose too
                 '{"answer": "12 s"}', "no JSON at all"):
        assert _recover_tool_calls(reply(text), tools).text == text


# -- with the model --------------------------------------------------------------------------


def test_a_plain_answer_is_repeatable_and_counted(tiny):
    first = tiny.chat(ASK)
    again = tiny.chat(ASK)
    assert first.text and first.text == again.text  # temperature 0 and a fixed seed
    assert first.prompt_tokens and first.completion_tokens
    assert first.finish_reason in ("stop", "length") and first.model == "llamacpp:llm-tiny"
    assert first.raw["timings"]["predicted_per_second"] > 0 and first.raw["context"] >= 256
    assert not first.logprobs  # not asked for


def test_the_model_loads_once_per_process_and_is_shared(tiny, tiny_gguf):
    other = resolve("chat", "llm-tiny")  # another handle on the same file and threads
    assert isinstance(other, LlamaCppChat) and other.loaded
    assert other.load_seconds == tiny.load_seconds  # no second load
    assert other.base_url == tiny.base_url and other.chat(ASK, max_tokens=4).text


def test_json_constrained_by_a_schema_always_parses(tiny):
    schema = {"type": "object", "properties": {
        "answer": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["answer", "confidence"]}
    reply = tiny.chat([ChatMessage.user("Who wrote Hamlet? Reply in JSON.")], max_tokens=60,
                      response_format={"type": "json_schema",
                                       "json_schema": {"name": "a", "schema": schema}},
                      logprobs=0)
    parsed = json.loads(reply.text)
    assert set(parsed) >= {"answer", "confidence"} and isinstance(parsed["answer"], str)
    assert reply.logprobs and all(not t.top for t in reply.logprobs)  # chosen tokens only
    if parsed["answer"]:
        assert reply.span_logprob(parsed["answer"]) <= 0.0


def test_a_grammar_limits_the_words(tiny):
    reply = tiny.chat([ChatMessage.user("Is the sky green?")], grammar='root ::= "yes" | "no"')
    assert reply.text in ("yes", "no")


def test_token_probabilities_and_the_yes_no_helper(tiny):
    reply = tiny.chat(ASK, max_tokens=8, logprobs=3)
    assert len(reply.logprobs) == reply.completion_tokens
    assert "".join(t.token for t in reply.logprobs).strip() == reply.text.strip()
    for token in reply.logprobs:
        assert token.logprob <= 0.0 and 0.0 < token.probability <= 1.0
        assert len(token.top) == 3 and token.top[0][1] >= token.top[-1][1]
    assert reply.mean_logprob <= 0.0
    assert supports_logprobs(tiny)
    p = yes_probability(tiny, "Is Paris the capital of France?")
    assert 0.0 <= p <= 1.0
    judged = tiny.chat([ChatMessage.user("Is water wet? Answer yes or no.")], max_tokens=1,
                       logprobs=20)
    assert 0.0 <= yes_no_from_reply(judged) <= 1.0


def test_tools_and_pictures_are_refused_like_a_server_refuses_them(tiny):
    assert not tiny.supports_tools  # SmolLM2's template has no tools
    tool = {"type": "function", "function": {"name": "search", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}}}}}
    with pytest.raises(ChatModelError) as caught:
        tiny.chat(ASK, tools=[tool])
    assert caught.value.status == 400  # the agent then describes the tools in the prompt
    import numpy as np

    picture = ChatMessage.user("What is this?", np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ChatModelError, match="cannot see pictures"):
        tiny.chat([picture])


def test_a_deadline_stops_generating_and_keeps_the_partial_reply(tiny):
    long = [ChatMessage.user("Write a very long story about the sea, with many chapters.")]
    began = time.perf_counter()
    with pytest.raises(ChatTimeoutError) as caught:
        tiny.chat(long, max_tokens=2000, timeout=1.0)
    assert time.perf_counter() - began < 30  # far less than 2000 tokens take
    partial = caught.value.partial
    assert partial is not None and partial.finish_reason == "timeout"
    assert isinstance(caught.value, TimeoutError)
    quick = tiny.chat(ASK, max_tokens=2)  # the stopped generation does not hold the model
    assert quick.completion_tokens


def test_the_context_grows_to_fit_a_long_conversation(tiny_gguf, tmp_path, monkeypatch):
    """A private copy of the file: this test reloads its own model, not the shared one."""
    copy = tmp_path / "tiny.gguf"
    try:
        os.link(tiny_gguf, copy)
    except OSError:
        shutil.copy(tiny_gguf, copy)
    monkeypatch.setattr(llamacpp_module, "DEFAULT_CONTEXT", 256)
    long = [ChatMessage.user("Count the words. " + "red green blue " * 110)]
    with LlamaCppChat(copy, max_tokens=4) as model:
        tokens = model.count_tokens(long)
        assert model.context == 256 and 256 < tokens < 512
        reply = model.chat(long)
        assert reply.prompt_tokens == tokens and model.context == 512
        assert model.max_context == 8192  # SmolLM2's trained context
    with LlamaCppChat(copy, context=256, max_tokens=4) as fixed, \
            pytest.raises(ChatContextError) as caught:
        fixed.chat(long)
    assert caught.value.prompt_tokens == tokens and caught.value.context == 256
    assert "send less" in str(caught.value)


def test_ctrl_c_stays_with_python_after_loading(tiny):
    """llama.cpp installs its own SIGINT handler (it would stop its server); the backend gives
    the signal back to Python."""
    assert tiny.loaded
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # e.g. `pytest ... &` in a script
        pytest.skip("this process was started with Ctrl-C ignored (in the background)")
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(2)
    assert tiny.chat(ASK, max_tokens=2).text  # the model still answers


def test_a_handle_pickles_without_its_model(tiny):
    import pickle

    copy = pickle.loads(pickle.dumps(tiny))
    assert copy.path == tiny.path and copy.threads == tiny.threads
    assert math.isclose(copy.seed, tiny.seed)
