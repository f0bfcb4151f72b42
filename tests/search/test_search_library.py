"""Moment search end to end: a synthetic video with speech, on-screen text, a face and a cat
at known times, indexed with the embedded analyzers, searched through `Library.search`."""

from __future__ import annotations

import re

import numpy as np
import pytest

from vidseek.errors import QueryError, UnknownVideoError
from vidseek.eval.metrics import temporal_iou
from vidseek.library import Library
from vidseek.synth import PictureSpec, Script, ShotSpec, SpeechSpec, TextSpec, build
from vidseek.synth.photos import load_photo

pytestmark = pytest.mark.slow

SENTENCES = ("Welcome to the quarterly budget review.",
             "The meeting moves to room four at three o'clock.",
             "Our sales in Norway doubled this year.",
             "Please bring your laptop tomorrow.")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("search")
    face = folder / "astronaut_face.png"
    Image.fromarray(np.asarray(load_photo("astronaut"))[20:240, 110:340]).save(face)
    path = folder / "meeting.mp4"
    script = Script(
        fps=10, seed=2,
        shots=[ShotSpec(duration=20, content="gradient", motion="static"),
               ShotSpec(duration=25, content="color", motion="static"),
               ShotSpec(duration=15, content="shapes")],
        speech=[SpeechSpec(text=s, start=t) for s, t in zip(SENTENCES, (1, 8, 20, 40))],
        texts=[TextSpec(text="GATE B12 NOW BOARDING", start=25, end=35, position="center"),
               TextSpec(text="QUARTERLY REVIEW", start=0.5, end=19.5, position="top")],
        pictures=[PictureSpec(photo=str(face), start=47, end=57, position="left", scale=0.7)])
    truth = build(script, path)
    library = Library(folder / "lib")
    assert library.index([path]).results[0].status == "indexed"
    yield library, path, truth, face
    library.close()


def spoken(truth, words):
    return next((s.start, s.end) for s in truth.speech if s.text.startswith(words))


@pytest.mark.parametrize(("query", "words"), [
    ("which room will the gathering be held in", "The meeting"),
    ("how did revenue in Scandinavia change", "Our sales"),
])
def test_a_paraphrase_finds_the_sentence_that_was_said(indexed, query, words):
    library, path, truth, _ = indexed
    moments = library.search(query, k=3)
    assert moments, "the sentence was said; a moment must come back"
    best = moments[0]
    assert temporal_iou((best.start, best.end), spoken(truth, words)) >= 0.5
    assert 0.0 <= best.score <= 1.0 and best.score >= library.searcher.calibration.threshold
    assert best.evidence[0].kind == "speech" and best.path == str(path)
    assert best.link == f"{path}#t={best.start:.2f},{best.end:.2f}"
    assert [m.score for m in moments] == sorted((m.score for m in moments), reverse=True)


def test_words_on_screen_are_found_for_their_time_on_screen(indexed):
    library, *_ = indexed
    best = library.search("gate B12", k=1)[0]
    assert best.evidence[0].kind == "text" and best.evidence[0].channel == "words"
    assert temporal_iou((best.start, best.end), (25.0, 35.0)) >= 0.8
    assert best.evidence[0].frame_times and 24.0 <= best.thumbnail <= 35.0


def test_a_query_about_something_absent_returns_nothing(indexed):
    library, *_ = indexed
    assert library.search("a giraffe eating leaves in the savanna") == []
    # ... while every candidate is still there for whoever asks for them
    assert library.search("a giraffe eating leaves in the savanna", threshold=0.0)


def test_kinds_and_videos_restrict_the_search(indexed):
    library, path, *_ = indexed
    for moment in library.search("quarterly review", kinds=["text"], threshold=0.0):
        assert {e.kind for e in moment.evidence} == {"text"}
    assert library.search("quarterly review", videos=[path], k=1)
    with pytest.raises(UnknownVideoError):
        library.search("quarterly review", videos=["/no/such/video.mp4"])


def test_a_picture_of_a_face_finds_when_that_person_is_on_screen(indexed):
    library, _, _, face = indexed
    moments = library.search(image=face, k=3)
    assert moments and moments[0].evidence[0].channel == "face"
    assert temporal_iou((moments[0].start, moments[0].end), (47.0, 57.0)) >= 0.5
    # a picture without a face has nothing to match in this library's spaces
    assert library.search(image=np.full((64, 64, 3), 128, np.uint8), threshold=0.0) == []


def test_bad_queries_say_what_to_do(indexed, tmp_path):
    library, *_ = indexed
    with pytest.raises(QueryError, match="words to search for"):
        library.search("   ")
    with pytest.raises(QueryError, match="k must be"):
        library.search("budget", k=0)
    with pytest.raises(QueryError, match="does not exist"):
        library.search(image=tmp_path / "missing.png")
    (tmp_path / "broken.png").write_bytes(b"not a picture")
    with pytest.raises(QueryError, match="cannot read picture"):
        library.search(image=tmp_path / "broken.png")


def test_thumbnail_shows_the_moment(indexed):
    library, path, *_ = indexed
    moment = library.search("gate B12", k=1)[0]
    thumb = library.thumbnail(moment.video_id, moment.thumbnail)
    assert thumb.data[:2] == b"\xff\xd8" and abs(thumb.time - moment.thumbnail) < 0.2


def test_calibration_fits_on_queries_with_known_answers(indexed):
    from vidseek.search.fit import Example, fit_calibration, is_match

    library, _, truth, _ = indexed
    vid = library.videos()[0].id
    examples = [Example(vid, "which room will the gathering be held in",
                        answers=[spoken(truth, "The meeting")]),
                Example(vid, "how did revenue in Scandinavia change",
                        answers=[spoken(truth, "Our sales")]),
                Example(vid, "what must I carry with me", answers=[spoken(truth, "Please")]),
                Example(vid, "a giraffe eating leaves"), Example(vid, "the stock market fell"),
                Example(vid, "who won the football match")]
    before = library.searcher.calibration.model_copy(deep=True)
    fitted = fit_calibration(library.searcher, examples, source="test")
    text = fitted.channels["text"]
    assert text.fitted and text != before.channels["text"]
    assert fitted.channels["face"] == before.channels["face"]  # no face examples: as it was
    assert fitted.fitted_on.startswith("test; fitted: text (")
    assert 0.01 <= fitted.threshold <= 0.99
    assert library.searcher.calibration == before  # the searcher's own is left alone
    scored = [(is_match(h, e.answers), text.probability(h.features))
              for e in examples for h in library.searcher.hits(e.query, videos=[vid])]
    true = [p for match, p in scored if match]
    false = [p for match, p in scored if not match]
    assert len(true) >= 3 and np.mean(true) > np.mean(false)


def test_calibration_fits_examples_of_several_libraries(indexed):
    """Real clips beside a haystack: each library's examples are searched in that library, an
    absent answer over all of its videos, and the threshold keeps each library's
    absent-answer queries unanswered (at most 7.5% of two is none)."""
    from vidseek.search.fit import Example, fit_calibration, is_match

    library, _, truth, _ = indexed
    vid = library.videos()[0].id
    examples = [Example(vid, "which room will the gathering be held in",
                        answers=[spoken(truth, "The meeting")]),
                Example(vid, "what must I carry with me", answers=[spoken(truth, "Please")]),
                Example(vid, "a giraffe eating leaves")]
    others = [Example(vid, "how did revenue in Scandinavia change",
                      answers=[spoken(truth, "Our sales")], whole_library=True),
              Example(None, "the stock market fell"), Example(None, "a recipe for bread")]
    assert others[0].videos is None and others[1].videos is None
    assert examples[0].videos == [vid]
    hit = library.searcher.hits("budget review")[0]
    assert is_match(hit, [(hit.start, hit.end)], video_id=vid)
    assert not is_match(hit, [(hit.start, hit.end)], video_id="another video")
    assert not is_match(hit, [(hit.start, hit.end)], kinds=["sound"])
    assert is_match(hit, [(hit.start, hit.end)], kinds=[hit.observation.kind])
    fitted = fit_calibration(library.searcher, examples, others=[(library.searcher, others)],
                             source="test")
    each = re.search(r"of 1 \(at (0\.\d\d)\) and of 2 \(at (0\.\d\d)\) absent-answer "
                     r"queries$", fitted.fitted_on)
    assert each and fitted.threshold == max(float(t) for t in each.groups())
    own = library.searcher.calibration
    try:
        library.searcher.calibration = fitted
        for example in (examples[2], *others[1:]):
            assert library.search(example.query) == [], example.query
    finally:
        library.searcher.calibration = own


def test_a_moments_score_does_not_depend_on_the_kinds_searched(indexed):
    """"--kind speech" must not change how well the sentence answers: the score of a hit
    is measured against the candidates of every kind, whichever are searched."""
    library, *_ = indexed
    for query, kind in [("budget review", "speech"), ("quarterly review", "text"),
                        ("sales in Norway", "speech")]:
        everywhere = library.search(query, k=10, threshold=0.0)
        only = library.search(query, k=10, threshold=0.0, kinds=[kind])
        assert only and all(m.evidence[0].kind == kind for m in only)
        scores = {(m.start, m.end): m.score for m in everywhere
                  if m.evidence[0].kind == kind}
        for moment in only[:3]:
            if (moment.start, moment.end) in scores:
                assert moment.score == pytest.approx(scores[moment.start, moment.end])
        assert any((m.start, m.end) in scores for m in only[:3])


def test_the_library_checks_kinds_like_every_interface(tmp_path):
    """A typo in a kind is an error that names the kinds, never an empty result; a single
    kind given as a string is that kind, not its letters."""
    from vidseek import Library
    from vidseek.errors import QueryError

    with Library(tmp_path / "lib") as library:
        with pytest.raises(QueryError, match="did you mean 'speech'"):
            library.search("hello", kinds=["speach"])
        assert library.search("hello", kinds="speech") == []
