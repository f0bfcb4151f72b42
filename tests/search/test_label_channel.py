"""Tags (objects, people counts, sounds) are scored by a calibration model of their own,
``label``: a file without it scores them with ``text``; the fit learns one; a reranker
re-scores them with the other text hits; the threshold may pool the absent-answer sets."""

from __future__ import annotations

import re

import numpy as np
import pytest
from media_info import make_info

from vidseek.library import Library
from vidseek.search.calibration import (
    CALIBRATION_FILE,
    FALLBACKS,
    Calibration,
    ChannelModel,
    load_calibration,
)
from vidseek.search.channels import LABEL_KINDS, TEXT_MODELS
from vidseek.search.fit import ADDED_FEATURES, Example, _threshold, fit_calibration
from vidseek.search.searcher import Searcher
from vidseek.types import Observation

SENTENCES = ["The ferry to Norway leaves at nine in the morning.",
             "Please bring your passport and a warm coat.",
             "The museum is closed on Mondays."]
TAGS = [("visual", "bicycle"), ("visual", "umbrella"), ("sound", "Dog"),
        ("sound", "Church bell"), ("person", "2 people"), ("visual", "laptop")]
FEATURES = {"cosine": 0.82, "relative": 0.03, "coverage": 0.5, "label": 1.0, "distinct": 0.02}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """Three sentences said 30 s apart and six tags at 100 s, 110 s, ... in one video."""
    library = Library(tmp_path_factory.mktemp("labels") / "lib")
    library.store.add_video("v1", "/videos/day.mp4", make_info("/videos/day.mp4", 1000.0))
    embedder = library.loaded.text_embedder()
    version = f"1+test+{embedder.name}"
    said = embedder.passages(SENTENCES)
    with library.store.begin("v1", "speech", version) as run:
        run.add([Observation(video_id="v1", start=30.0 * i, end=30.0 * i + 3.0,
                             kind="speech", text=s, vector=v.tolist(), source="test")
                 for i, (s, v) in enumerate(zip(SENTENCES, said))])
    tagged = embedder.passages([text for _, text in TAGS])
    for kind in dict.fromkeys(kind for kind, _ in TAGS):
        with library.store.begin("v1", kind, version) as run:
            run.add([Observation(video_id="v1", start=100.0 + 10 * i, end=105.0 + 10 * i,
                                 kind=k, text=text, vector=v.tolist(), source="test")
                     for i, ((k, text), v) in enumerate(zip(TAGS, tagged)) if k == kind])
    yield library
    library.close()


def _tag(text: str) -> tuple[float, float]:
    i = [t for _, t in TAGS].index(text)
    return (100.0 + 10 * i, 105.0 + 10 * i)


def test_hits_on_tags_get_the_label_model_and_the_rest_the_text_model(library):
    hits = library.searcher.hits("a dog barking at the church bell", k=20)
    models = {h.observation.kind: set() for h in hits}
    for hit in hits:
        models[hit.observation.kind].add(hit.model)
    assert {"speech", "visual", "sound"} <= set(models)
    assert models["speech"] == {"text"}
    assert all(h.features["words"] == 4.0 for h in hits)  # dog, bark, church, bell
    for kind in LABEL_KINDS & set(models):
        assert models[kind] == {"label"}, kind
    assert set(TEXT_MODELS) == {"text", "label"}


def test_a_calibration_without_a_label_model_scores_tags_with_its_text_model(library):
    shipped = load_calibration()
    text = shipped.channels["text"]
    assert shipped.model("label") == (shipped.channels.get("label") or text)
    own = ChannelModel(features=text.features, weights=[0.0] * len(text.features), bias=2.0)
    without = Calibration(channels={"text": text}, threshold=0.3)
    with_label = Calibration(channels={"text": text, "label": own}, threshold=0.3)
    assert without.probability("label", FEATURES) == text.probability(FEATURES)
    assert with_label.probability("label", FEATURES) == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert FALLBACKS == {"label": "text"}
    # every shipped file (per text embedder, per reranker) scores tags
    for file in sorted(CALIBRATION_FILE.parent.glob("calibration*.json")):
        calibration = load_calibration(file)
        model = calibration.model("label")
        assert model is calibration.channels.get("label", calibration.channels["text"]), file
    # searching with a file that has no label model: a tag scores as its text model says
    searcher = library.searcher
    before = searcher.calibration
    try:
        searcher.calibration = without
        for hit in searcher.hits("a dog barking", k=20):
            assert hit.score == pytest.approx(text.probability(hit.features))
    finally:
        searcher.calibration = before


def test_the_fit_learns_a_label_model_beside_the_text_model(library):
    vid = "v1"
    examples = [Example(vid, "a dog", answers=[_tag("Dog")], kinds=["sound"]),
                Example(vid, "someone riding a bike", answers=[_tag("bicycle")]),
                Example(vid, "a rainy day with an umbrella", answers=[_tag("umbrella")]),
                Example(vid, "bells ringing", answers=[_tag("Church bell")], kinds=["sound"]),
                Example(vid, "a computer on the desk", answers=[_tag("laptop")]),
                Example(vid, "what time does the boat leave", answers=[(0.0, 3.0)],
                        kinds=["speech"]),
                Example(vid, "do I need my passport", answers=[(30.0, 33.0)],
                        kinds=["speech"]),
                Example(vid, "when is the museum shut", answers=[(60.0, 63.0)]),
                Example(vid, "a giraffe eating leaves"), Example(vid, "the stock market fell")]
    searcher = library.searcher
    own = searcher.calibration
    try:
        searcher.calibration = Calibration(
            channels={k: v for k, v in own.channels.items() if k != "label"},
            threshold=own.threshold)
        fitted = fit_calibration(searcher, examples, source="test")
    finally:
        searcher.calibration = own
    label, text = fitted.channels["label"], fitted.channels["text"]
    assert label.fitted and text.fitted and label != text
    # fitted on the text model's features and the query's word count
    assert label.features == [*text.features, *ADDED_FEATURES["label"]] == \
        [*text.features, "words"]
    assert re.search(r"label \(\d+ true of \d+ hits\)", fitted.fitted_on)
    # a speech example's answer window holds no tag; a tag answer is a label hit
    true_label = [h for e in examples[:5]
                  for h in searcher.hits(e.query, videos=[vid]) if h.model == "label"
                  and (h.start, h.end) in e.answers]
    assert true_label and np.mean([label.probability(h.features) for h in true_label]) > 0.5
    # refitted, a calibration that has a label model keeps its features
    try:
        searcher.calibration = fitted
        again = fit_calibration(searcher, examples, source="test")
    finally:
        searcher.calibration = own
    assert again.channels["label"].features == label.features


def test_a_reranker_rescores_tags_as_well_as_sentences(library):
    seen = []

    class Reranker:
        def scores(self, query, passages):
            seen.extend(passages)
            return np.zeros(len(passages))

    searcher = Searcher(library.store, text_embedder=library.loaded.text_embedder,
                        calibration=library.searcher.calibration, reranker=lambda: Reranker())
    hits = searcher.hits("a dog barking", k=10)
    reranked = [h for h in hits if h.model == "rerank"]
    assert reranked and all(h.observation.text in seen for h in reranked)
    assert {h.observation.kind for h in reranked} & LABEL_KINDS
    assert all("text_logit" in h.features for h in reranked)


def test_the_pooled_threshold_weighs_each_set_of_absent_queries_the_same():
    many = [0.05] * 96 + [0.5] * 4          # 4% answered up to 0.5
    few = [0.05] * 9 + [0.3]                 # one of ten (10%) answered up to 0.3
    assert _threshold([many], 0.075) == 0.06
    assert _threshold([few], 0.075) == 0.31  # each set alone: the few set decides, 0.31
    # on average: at 0.06 (4% + 10%) / 2 = 7%
    assert _threshold([many, few], 0.075) == 0.06
    assert _threshold([many, few], 0.05) == 0.31
    assert _threshold([], 0.075) == 0.01
