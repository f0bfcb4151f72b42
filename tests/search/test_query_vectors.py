"""A searcher keeps the embeddings of the queries it searched: the same words searched again
(another page, other videos or kinds, an agent's repeated search) are not embedded again and
find the same moments with the same scores."""

from __future__ import annotations

import pytest
from media_info import make_info

from vidseek.library import Library
from vidseek.search.background import BACKGROUND_QUERIES
from vidseek.search.searcher import QUERY_VECTORS_KEPT, Searcher
from vidseek.types import Observation

SENTENCES = ["The ferry to Norway leaves at nine in the morning.",
             "Please bring your passport and a warm coat.",
             "The museum is closed on Mondays."]


class CountingEmbedder:
    """The library's embedder, counting the queries it embeds."""

    def __init__(self, embedder) -> None:
        self.embedder, self.name, self.dim = embedder, embedder.name, embedder.dim
        self.queried: list[str] = []

    def queries(self, texts):
        # the background texts are embedded once per library, not per search
        self.queried += [t for t in texts if t not in BACKGROUND_QUERIES]
        return self.embedder.queries(texts)

    def passages(self, texts):
        return self.embedder.passages(texts)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Three sentences said 30 s apart in one video, and one in another."""
    library = Library(tmp_path_factory.mktemp("queries") / "lib")
    embedder = library.loaded.text_embedder()
    version = f"1+test+{embedder.name}"
    for vid, said in (("v1", SENTENCES), ("v2", ["The ferry was late again."])):
        path = f"/videos/{vid}.mp4"
        library.store.add_video(vid, path, make_info(path, 1000.0))
        with library.store.begin(vid, "speech", version) as run:
            run.add([Observation(video_id=vid, start=30.0 * i, end=30.0 * i + 3.0,
                                 kind="speech", text=s, vector=v.tolist(), source="test")
                     for i, (s, v) in enumerate(zip(said, embedder.passages(said)))])
    library.store.build_indexes()
    yield library
    library.close()


@pytest.fixture
def searcher(library):
    counting = CountingEmbedder(library.loaded.text_embedder())
    return Searcher(library.store, text_embedder=lambda: counting), counting


def _found(moments):
    return [(m.video_id, m.start, m.end, m.score, m.path) for m in moments]


def test_the_same_words_are_embedded_once_and_find_the_same_moments(searcher):
    searcher, counting = searcher
    first = searcher.search("when does the boat to Norway depart", threshold=0.0)
    again = searcher.search("when does the boat to Norway depart", threshold=0.0)
    assert first and _found(again) == _found(first)
    assert first[0].video_id == "v1" and first[0].start == 0.0
    assert first[0].path == "/videos/v1.mp4"
    # other videos, kinds or k: the kept embedding, a search of its own
    one_video = searcher.search("when does the boat to Norway depart", videos=["v2"],
                                kinds=["speech"], k=1, threshold=0.0)
    assert [m.video_id for m in one_video] == ["v2"]
    assert counting.queried.count("when does the boat to Norway depart") == 1
    searcher.search("is the museum open on Monday", threshold=0.0)
    assert len(counting.queried) == 2  # new words are embedded


def test_the_kept_embeddings_are_bounded_and_read_only(searcher):
    searcher, counting = searcher
    for i in range(QUERY_VECTORS_KEPT + 1):
        searcher.hits(f"ferry number {i}")
    assert len(counting.queried) == QUERY_VECTORS_KEPT + 1
    searcher.hits("ferry number 0")  # the oldest was let go
    assert len(counting.queried) == QUERY_VECTORS_KEPT + 2
    vector = searcher._query_vector("ferry number 0")
    with pytest.raises(ValueError, match="read-only"):
        vector[0] = 1.0  # shared by every search of these words: nobody may change it
