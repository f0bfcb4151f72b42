"""The OpenAI-compatible chat client against a real HTTP server on loopback (chat_server.py):
request shape, images, auth, retries, errors, timeouts, usage and spec strings."""

from __future__ import annotations

import base64
import io
import json
import pickle
import socket
import threading
import time

import numpy as np
import pytest
from chat_server import IMAGE_TOKENS, Reply, ScriptedChatServer
from PIL import Image

from vidseek.errors import ModelError
from vidseek.media import Frame
from vidseek.models import resolve
from vidseek.models.chat import DEFAULT_BASE_URL, OpenAIChat
from vidseek.models.messages import ChatMessage, frame_parts, image_part, jpeg_data_url
from vidseek.models.protocols import ChatModel, ChatModelError, ChatTimeoutError


@pytest.fixture(autouse=True)
def _no_keys_or_base_url(monkeypatch):
    """Tests see only the environment they set."""
    for variable in ("VIDSEEK_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)


def _client(server: ScriptedChatServer, **options) -> OpenAIChat:
    options.setdefault("backoff", 0.01)
    return OpenAIChat(server.url, server.model, **options)


def _decode(url: str) -> Image.Image:
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix), url[:40]
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix):])))


def _picture(width: int = 640, height: int = 360) -> np.ndarray:
    """Left half red, right half blue."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (220, 30, 30)
    image[:, width // 2:] = (30, 30, 220)
    return image


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_request_carries_model_messages_text_and_jpeg_images():
    with ScriptedChatServer(["A red and a blue area."]) as server, _client(server) as model:
        messages = [ChatMessage.system("You describe pictures."),
                    ChatMessage.user("What is here?", image_part(_picture(), max_side=320))]
        reply = model.chat(messages, max_tokens=50)
    assert isinstance(model, ChatModel) and model.name == "openai:scripted-vlm"
    assert reply.text == "A red and a blue area." and reply.finish_reason == "stop"
    assert reply.model == "scripted-vlm" and reply.attempts == 1 and reply.seconds > 0
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["content-type"] == "application/json"
    body = request.body
    assert body["model"] == "scripted-vlm" and body["max_tokens"] == 50
    assert body["temperature"] == 0.0
    assert "tools" not in body and "response_format" not in body
    assert body["messages"][0] == {"role": "system", "content": "You describe pictures."}
    user = body["messages"][1]
    assert user["role"] == "user"
    assert [p["type"] for p in user["content"]] == ["text", "image_url"]
    assert user["content"][0]["text"] == "What is here?"
    picture = _decode(request.image_urls[0])
    assert picture.format == "JPEG" and picture.size == (320, 180)
    pixels = np.asarray(picture.convert("RGB"), dtype=np.int16)
    assert np.abs(pixels[90, 40] - (220, 30, 30)).max() < 12  # still red on the left
    assert np.abs(pixels[90, 280] - (30, 30, 220)).max() < 12  # still blue on the right


def test_images_are_scaled_down_never_up_and_checked():
    small = _decode(jpeg_data_url(_picture(100, 50), max_side=512))
    assert small.size == (100, 50)
    tall = _decode(jpeg_data_url(_picture(360, 640), max_side=256))
    assert tall.size == (144, 256)
    assert len(jpeg_data_url(_picture(), quality=30)) < len(jpeg_data_url(_picture(), quality=95))
    # pictures servers would refuse (sides under 28 px, long thin strips) are letterboxed
    assert _decode(jpeg_data_url(_picture(2, 512))).size == (128, 512)
    assert _decode(jpeg_data_url(_picture(2000, 2), max_side=768)).size == (768, 192)
    assert _decode(jpeg_data_url(_picture(20, 20))).size == (28, 28)
    with pytest.raises(ValueError, match="RGB"):
        jpeg_data_url(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="RGB"):
        jpeg_data_url(np.zeros((10, 10, 3), np.float32))


def test_frame_parts_put_each_exact_time_before_its_picture():
    frames = [Frame(12.3, _picture(64, 36)), Frame(15.0417, _picture(64, 36))]
    parts = frame_parts(frames, max_side=64)
    assert [p["type"] for p in parts] == ["text", "image_url", "text", "image_url"]
    assert [parts[0]["text"], parts[2]["text"]] == ["Frame at 12.30 s", "Frame at 15.04 s"]
    message = ChatMessage.user(*parts, "What happens?").to_dict()
    assert message["content"][-1] == {"type": "text", "text": "What happens?"}


@pytest.mark.parametrize(("env", "explicit", "expected"), [
    ({"VIDSEEK_API_KEY": "sk-vidseek", "OPENAI_API_KEY": "sk-openai"}, None, "Bearer sk-vidseek"),
    ({"OPENAI_API_KEY": "sk-openai"}, None, "Bearer sk-openai"),
    ({"OPENAI_API_KEY": "sk-openai"}, "sk-given", "Bearer sk-given"),
    ({"OPENAI_API_KEY": "sk-openai"}, "", None),
    ({}, None, None),
])
def test_api_key_comes_from_the_environment(monkeypatch, env, explicit, expected):
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    with ScriptedChatServer(["ok"]) as server, _client(server, api_key=explicit) as model:
        model.chat([ChatMessage.user("hi")])
    assert server.requests[0].headers.get("authorization") == expected


def test_retries_500_and_429_then_succeeds_honouring_retry_after():
    script = [Reply.failure(500, "worker crashed"),
              Reply.failure(429, "slow down", retry_after=0.3), "finally"]
    with ScriptedChatServer(script) as server, _client(server, retries=3) as model:
        reply = model.chat([ChatMessage.user("hi")])
    assert reply.text == "finally" and reply.attempts == 3
    first, second, third = server.requests
    assert first.body == second.body == third.body
    assert third.received - second.received >= 0.3  # waited as Retry-After asked
    assert second.received - first.received < 0.3  # the backoff alone is short
    assert reply.seconds >= 0.3


def test_gives_up_after_the_retries_with_the_servers_message():
    with ScriptedChatServer([Reply.failure(503, "model is loading")] * 5) as server, \
            _client(server, retries=2) as model, pytest.raises(ChatModelError) as caught:
        model.chat([ChatMessage.user("hi")])
    assert len(server.requests) == 3
    message = str(caught.value)
    assert "HTTP 503" in message and "model is loading" in message and "3 attempts" in message
    assert server.url in message and caught.value.status == 503


def test_no_retry_on_400_and_the_error_quotes_the_server():
    script = [Reply.failure(400, "this model does not support image input"), "never sent"]
    with ScriptedChatServer(script) as server, _client(server) as model, \
            pytest.raises(ChatModelError) as caught:
        model.chat([ChatMessage.user("hi", _picture(64, 36))])
    assert len(server.requests) == 1
    error = caught.value
    assert isinstance(error, ModelError) and isinstance(error, ValueError)
    assert error.status == 400 and error.url == f"{server.url}/chat/completions"
    assert "does not support image input" in str(error) and error.url in str(error)


@pytest.mark.parametrize(("status", "advice"), [
    (404, "ollama pull scripted-vlm"), (401, "VIDSEEK_API_KEY"), (403, "OPENAI_API_KEY")])
def test_client_errors_say_what_to_do(status, advice):
    with ScriptedChatServer([Reply.failure(status, "nope")]) as server, \
            _client(server) as model, pytest.raises(ChatModelError, match=advice):
        model.chat([ChatMessage.user("hi")])
    assert len(server.requests) == 1


def test_a_redirect_is_reported_not_followed():
    moved = Reply(status=308, headers={"Location": "https://example.invalid/v1/chat/completions"})
    with ScriptedChatServer([moved]) as server, _client(server) as model, \
            pytest.raises(ChatModelError, match="redirects to https://example.invalid/v1"):
        model.chat([ChatMessage.user("hi")])
    assert len(server.requests) == 1


def test_a_slow_server_times_out_quickly():
    with ScriptedChatServer([Reply("late", delay=10)] * 2) as server, \
            _client(server, timeout=0.3, retries=1) as model:
        began = time.perf_counter()
        with pytest.raises(ChatModelError, match="no reply within 0.3 s") as caught:
            model.chat([ChatMessage.user("hi")])
        elapsed = time.perf_counter() - began
    assert elapsed < 2.0, elapsed
    assert len(server.requests) == 2 and caught.value.status is None


def test_a_trickling_server_is_cut_off_at_the_timeout_of_an_attempt():
    """Every byte arrives within the read timeout, but the reply never ends: the timeout
    bounds the whole attempt, not each read."""
    with ScriptedChatServer([Reply.trickling(0.1)] * 2) as server, \
            _client(server, timeout=0.6, retries=1) as model:
        began = time.perf_counter()
        with pytest.raises(ChatTimeoutError, match="no reply within 0.6 s"):
            model.chat([ChatMessage.user("hi")])
        elapsed = time.perf_counter() - began
    assert 1.2 <= elapsed < 2.5, elapsed
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize("reply", [Reply.hanging(), Reply.trickling(0.1)],
                         ids=["hanging", "trickling"])
def test_the_timeout_of_a_call_bounds_every_attempt_and_wait(reply):
    """`chat(timeout=...)` is a deadline for the whole call: attempts, retries and the waits
    between them, whatever the client's own timeout and retries are."""
    with ScriptedChatServer(lambda body: reply) as server, \
            _client(server, timeout=60, retries=3, backoff=0.2) as model:
        began = time.perf_counter()
        with pytest.raises(ChatTimeoutError, match="1.5 s") as caught:
            model.chat([ChatMessage.user("hi")], timeout=1.5)
        elapsed = time.perf_counter() - began
    assert 1.5 <= elapsed < 2.0, elapsed
    assert "this call was given" in str(caught.value)


def test_a_call_given_no_time_is_not_sent():
    with ScriptedChatServer(["hello"]) as server, _client(server) as model:
        for spent in (0, -1.0):
            with pytest.raises(ChatTimeoutError, match="no time left"):
                model.chat([ChatMessage.user("hi")], timeout=spent)
        assert model.chat([ChatMessage.user("hi")], timeout=5).text == "hello"
    assert len(server.chat_requests) == 1


def test_retries_stop_when_the_call_has_no_time_for_another_attempt():
    script = [Reply.failure(503, "busy", retry_after=5), "never sent"]
    with ScriptedChatServer(script) as server, _client(server, retries=3) as model:
        began = time.perf_counter()
        with pytest.raises(ChatModelError, match="HTTP 503") as caught:
            model.chat([ChatMessage.user("hi")], timeout=1.0)
    assert time.perf_counter() - began < 0.5
    assert "Retry-After" in str(caught.value) or "retry" in str(caught.value)
    assert len(server.chat_requests) == 1


def test_connection_refused_names_the_url_and_asks_whether_the_server_runs():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    with OpenAIChat(url, "m", retries=1, backoff=0.01) as model, \
            pytest.raises(ModelError) as caught:
        model.chat([ChatMessage.user("hi")])
    message = str(caught.value)
    assert f"{url}/chat/completions" in message and "server running" in message
    assert "2 attempts" in message


def test_malformed_replies_are_errors_without_retries():
    with ScriptedChatServer([Reply.malformed(), Reply(body=b'{"id": "x"}')]) as server, \
            _client(server) as model:
        with pytest.raises(ChatModelError, match="not JSON"):
            model.chat([ChatMessage.user("hi")])
        with pytest.raises(ChatModelError, match="no choices"):
            model.chat([ChatMessage.user("hi")])
    assert len(server.requests) == 2


def test_usage_is_counted_and_missing_usage_is_none():
    script = [Reply("two words", usage={"prompt_tokens": 1234, "completion_tokens": 56}),
              Reply("no usage", usage=None),
              Reply("auto usage here")]
    with ScriptedChatServer(script) as server, _client(server) as model:
        counted = model.chat([ChatMessage.user("hi")])
        missing = model.chat([ChatMessage.user("hi")])
        auto = model.chat([ChatMessage.user("look at this", _picture(64, 36))])
    assert (counted.prompt_tokens, counted.completion_tokens) == (1234, 56)
    assert counted.total_tokens == 1290
    assert (missing.text, missing.prompt_tokens, missing.completion_tokens) == (
        "no usage", None, None)
    assert missing.total_tokens is None
    assert (auto.prompt_tokens, auto.completion_tokens) == (3 + IMAGE_TOKENS, 3)


def test_tools_and_response_format_pass_through_and_tool_calls_come_back():
    tools = [{"type": "function", "function": {
        "name": "search", "description": "Find moments",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
    schema = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {
        "type": "object", "properties": {"answer": {"type": "string"}}}}}
    script = [Reply.calling("search", {"query": "red car"}), '{"answer": "a car"}']
    with ScriptedChatServer(script) as server, _client(server) as model:
        called = model.chat([ChatMessage.user("find the car")], tools=tools)
        conversation = [ChatMessage.user("find the car"), called.message(),
                        ChatMessage.tool(called.tool_calls[0]["id"], "[12.0, 15.0]")]
        answered = model.chat(conversation, response_format=schema)
    assert called.text == "" and called.finish_reason == "tool_calls"
    assert called.tool_calls[0]["function"]["name"] == "search"
    assert json.loads(called.tool_calls[0]["function"]["arguments"]) == {"query": "red car"}
    assert server.requests[0].body["tools"] == tools
    second = server.requests[1].body
    assert second["response_format"] == schema and "tools" not in second
    assert second["messages"][1] == {"role": "assistant", "content": None,
                                     "tool_calls": called.tool_calls}
    assert second["messages"][2] == {"role": "tool", "content": "[12.0, 15.0]",
                                     "tool_call_id": "call_1"}
    assert json.loads(answered.text) == {"answer": "a car"}


def test_content_given_as_a_list_of_parts_is_joined():
    body = {"model": "m", "choices": [{"message": {"role": "assistant", "content": [
        {"type": "text", "text": "A "}, {"type": "text", "text": "dog."}]},
        "finish_reason": "stop"}]}
    with ScriptedChatServer([Reply(body=json.dumps(body).encode())]) as server, \
            _client(server) as model:
        assert model.chat([ChatMessage.user("hi")]).text == "A dog."


def test_one_client_serves_several_threads():
    def echo(request):
        return f"echo {request['messages'][0]['content']}"

    with ScriptedChatServer(echo) as server, _client(server) as model:
        replies: dict[int, str] = {}

        def ask(i: int) -> None:
            replies[i] = model.chat([ChatMessage.user(str(i))]).text

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert replies == {i: f"echo {i}" for i in range(8)}


def test_options_are_sent_and_the_client_pickles():
    with ScriptedChatServer(["a", "b"]) as server:
        model = _client(server, options={"top_p": 0.5, "seed": 7})
        model.chat([ChatMessage.user("hi")])
        copy = pickle.loads(pickle.dumps(model))
        assert copy.chat([ChatMessage.user("hi")]).text == "b"
        model.close()
        copy.close()
    assert [r.body["top_p"] for r in server.requests] == [0.5, 0.5]
    assert server.requests[0].body["seed"] == 7


def test_spec_strings(monkeypatch):
    local = resolve("chat", "openai:http://localhost:11434/v1#qwen2.5vl:7b")
    assert (local.base_url, local.model, local.name) == (
        "http://localhost:11434/v1", "qwen2.5vl:7b", "openai:qwen2.5vl:7b")
    assert local.url == "http://localhost:11434/v1/chat/completions"
    pasted = resolve("chat", "openai:http://h:8000/v1/chat/completions/#m")
    assert pasted.url == "http://h:8000/v1/chat/completions"
    hosted = resolve("chat", "openai:#gpt-4o-mini")
    assert (hosted.base_url, hosted.model) == (DEFAULT_BASE_URL, "gpt-4o-mini")
    assert resolve("chat", "openai:gpt-4o-mini").base_url == DEFAULT_BASE_URL
    monkeypatch.setenv("OPENAI_BASE_URL", "http://proxy:4000/v1/")
    assert resolve("chat", "openai:#gpt-4o-mini").base_url == "http://proxy:4000/v1"
    monkeypatch.setenv("VIDSEEK_API_KEY", "sk-1")
    assert resolve("chat", "openai:#m", timeout=5, retries=0).api_key == "sk-1"
    for bad, hint in [("whisper:tiny.en", "openai:http"), ("openai:http://h/v1", "'#'"),
                      ("openai:http://h/v1#", "no model"), ("openai:ftp://h/v1#m", "http://"),
                      ("openai:", "no model"), ("gpt-4o", "openai:#gpt-4o-mini")]:
        with pytest.raises(ModelError, match=hint):
            resolve("chat", bad)


BAD_URLS = [
    ("http://256.256.256.256/v1", "not an IPv4 address"),
    ("http://1.2.3/v1", "not an IPv4 address"),
    ("http://[::1:9/v1", "broken IPv6 address"),
    ("http://[zz]:80/v1", "IPv6"),
    ("http://" + "a" * 64 + ".example/v1", "not a host name"),
    ("http://" + "a." * 127 + "example/v1", "not a host name"),
    ("http://-bad-.example/v1", "not a host name"),
    ("http://h:99999/v1", "port"),
    ("http://h:port/v1", "port"),
    ("http://h:0/v1", "port 0"),
    ("http:///v1", "no host"),
    ("http://exa mple.com/v1", "spaces"),
    ("ftp://h/v1", "http://"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS, ids=[u[:30] for u, _ in BAD_URLS])
def test_a_malformed_base_url_is_refused_with_what_is_wrong_and_what_to_write(url, problem,
                                                                               monkeypatch):
    for make in (lambda: resolve("chat", f"openai:{url}#m"),
                 lambda: OpenAIChat(url, "m")):
        with pytest.raises(ChatModelError, match=problem) as caught:
            make()
        assert isinstance(caught.value, ModelError) and "http://localhost" in str(caught.value)
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(ChatModelError, match=r"\$OPENAI_BASE_URL"):
        resolve("chat", "openai:#m")


def test_good_base_urls_are_taken():
    for url in ("http://[::1]:8000/v1", "http://127.0.0.1:8000/v1", "http://my_vllm:8000/v1",
                "https://api.example.com/v1", "http://bücher.example/v1",
                "http://user:key@host:80/v1"):
        assert resolve("chat", f"openai:{url}#m").base_url == url


def test_a_spec_reaches_the_server():
    with ScriptedChatServer(["hello"], model="llava:7b") as server:
        model = resolve("chat", server.spec, backoff=0.01)
        assert model.chat([ChatMessage.user("hi")]).text == "hello"
        model.close()
    assert server.requests[0].body["model"] == "llava:7b"
