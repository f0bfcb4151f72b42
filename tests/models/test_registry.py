"""Model specs, discovery in $VIDSEEK_MODELS, capabilities, and checked downloads over HTTP."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from vidseek.errors import ModelError
from vidseek.models import registry
from vidseek.models.registry import Download, ModelSpecs, capabilities, discovered, download


@pytest.fixture
def file_server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _offer(monkeypatch, url: str, sha: str) -> None:
    monkeypatch.setitem(registry.DOWNLOADS, "tiny", Download(
        name="tiny", what="a test file", files=(("model.onnx", url, sha),), spec="yolox",
        capability="detector", licence="test"))


def test_download_checks_the_checksum_and_keeps_nothing_bad(file_server, tmp_path, monkeypatch):
    root, base = file_server
    payload = b"weights" * 1000
    (root / "model.onnx").write_bytes(payload)
    good = hashlib.sha256(payload).hexdigest()
    models = tmp_path / "models"

    _offer(monkeypatch, f"{base}/model.onnx", "0" * 64)
    with pytest.raises(ModelError, match="not the pinned"):
        download("tiny", into=models)
    assert list((models / "tiny").iterdir()) == []  # no partial or bad file left

    _offer(monkeypatch, f"{base}/model.onnx", good)
    seen = []
    path = download("tiny", into=models, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))

    _offer(monkeypatch, f"{base}/missing.onnx", good)
    (models / "tiny" / "model.onnx").unlink()
    with pytest.raises(ModelError, match="could not download"):
        download("tiny", into=models)


def test_unknown_download_names_the_choices():
    with pytest.raises(ModelError, match="yolox-nano-coco"):
        download("no-such-model")


def test_downloads_are_pinned():
    for release in registry.DOWNLOADS.values():
        for _, url, sha in release.files:
            assert url.startswith("https://") and len(sha) == 64


def test_model_files_in_the_models_folder_are_discovered(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path))
    assert discovered() == ModelSpecs()
    onnx = tmp_path / "yolox-nano-coco" / "yolox_nano.onnx"
    onnx.parent.mkdir()
    onnx.write_bytes(b"x")
    assert discovered().detector == f"yolox:{onnx}"
    # an explicit spec wins over a discovered file
    assert discovered().merged(ModelSpecs(detector="yolox:/mine.onnx")).detector == (
        "yolox:/mine.onnx")


def test_capabilities_say_what_is_missing_and_why(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path))
    rows = {c.name: c for c in capabilities()}
    assert rows["speech"].status == "available"
    assert rows["faces"].status == "available"
    assert rows["objects (COCO)"].status == "missing"
    assert "vidseek models download yolox-nano-coco" in rows["objects (COCO)"].detail
    gone = capabilities(ModelSpecs(detector=f"yolox:{tmp_path / 'nope.onnx'}"))
    assert "does not exist" in {c.name: c for c in gone}["objects (COCO)"].detail
    served = capabilities(ModelSpecs(captioner="openai:http://127.0.0.1:9/v1#m"))
    assert {c.name: c for c in served}["captions (VLM)"].status == "available"


def test_library_saves_its_model_specs(tmp_path, monkeypatch):
    from vidseek.library import Library

    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "none"))
    onnx = tmp_path / "det.onnx"
    onnx.write_bytes(b"x")
    with Library(tmp_path / "lib", models={"detector": f"yolox:{onnx}"}) as lib:
        assert "objects" in lib.analyzers
    with Library(tmp_path / "lib") as lib:  # remembered
        assert lib.models.detector == f"yolox:{onnx}"
        assert "objects" in lib.analyzers
    with pytest.raises(ValueError, match="vidseek models"):
        Library(tmp_path / "other", analyzers=["shots", "clip"])
    assert Path(tmp_path / "lib" / "models.json").is_file()
