"""Shared fixtures: real clips from ../shared (skipped when absent) and small generated media."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Never wait on a model hub from tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SHARED = Path(os.environ.get("VIDSEEK_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REAL_VIDEOS = SHARED / "data" / "real" / "videos"
REAL_ANNOTATIONS = SHARED / "data" / "real" / "annotations"
SHARED_MODELS = SHARED / "models"


@pytest.fixture(scope="session")
def real_videos() -> Path:
    if not REAL_VIDEOS.is_dir():
        pytest.skip(f"real clips not found at {REAL_VIDEOS} (../shared is absent)")
    return REAL_VIDEOS


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """``../shared/models`` (YOLOX-nano, MobileNetV2, the CLIP tokenizer; see each MODEL.md)."""
    if not (SHARED_MODELS / "yolox-nano-coco").is_dir():
        pytest.skip(f"model files not found at {SHARED_MODELS} (../shared is absent)")
    return SHARED_MODELS


@pytest.fixture(scope="session")
def real_annotation():
    def load(name: str):
        path = REAL_ANNOTATIONS / name
        if not path.is_file():
            pytest.skip(f"annotation {path} not found (../shared is absent)")
        return json.loads(path.read_text())

    return load
