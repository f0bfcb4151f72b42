from __future__ import annotations

from vidseek.search.words import content_words, coverage, stem


def test_stem_folds_common_english_endings():
    assert [stem(w) for w in ["trains", "moved", "boarding", "cities", "bus", "gas"]] == \
        ["train", "mov", "board", "city", "bus", "gas"]


def test_content_words_drop_stop_words_and_punctuation():
    assert content_words("Where does the train to Edinburgh leave?") == \
        {"train", "edinburgh", "leave"}
    assert content_words("") == set()


def test_coverage_is_the_share_of_query_words_found():
    query = content_words("the moved trains")
    assert coverage(query, "A train has moved.") == 1.0
    assert coverage(query, "The trains.") == 0.5
    assert coverage(set(), "anything") == 0.0
