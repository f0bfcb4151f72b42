"""Grounding queries from annotation files, and their evaluation through a library's search:
a fixture in the layout of ../shared's annotation files (clipping computed by hand), the
metric plumbing on scripted moments, a spoken sentence found by a paraphrase, and the real
Charades clip (complete and consistent results; the numbers themselves are not asserted)."""

from __future__ import annotations

import json
import shutil

import pytest

from vidseek.errors import DataError
from vidseek.eval.windows import BlindGuess, GroundingQuery, evaluate_grounding, load_grounding
from vidseek.synth import Script, ShotSpec, SpeechSpec, build
from vidseek.types import Moment

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")

METRICS = [f"R@{k},IoU={m}" for k in (1, 5) for m in (0.3, 0.5, 0.7)] + ["mIoU", "mAP"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data folder like ../shared/data/real: videos/clip.mp4 (6.0 s) and annotations/."""
    root = tmp_path_factory.mktemp("real")
    (root / "videos").mkdir()
    (root / "annotations").mkdir()
    build(Script(width=160, height=96, fps=10.0, audio=False,
                 shots=[ShotSpec(duration=6, content="color", motion="static")]),
          root / "videos" / "clip.mp4")
    charades = {
        "video": "videos/clip.mp4",
        "dataset": "Charades v1 (test split) + Charades-STA (test)",
        "moments": [
            {"query": "a person opens a door.", "windows_s": [[0.5, 2.5]],
             "source": "Charades-STA test", "qid": 1},
            # Charades convention: the end runs past the file; clipped to 6.0
            {"query": "Holding a dish", "windows_s": [[0.0, 8.0]],
             "source": "Charades v1 test action annotation (c118)"},
            # wholly past the end: nothing to find, the query is dropped
            {"query": "Someone is smiling", "windows_s": [[6.5, 7.0]],
             "source": "Charades v1 test action annotation (c152)"},
            # two windows, one of them dropped
            {"query": "Sitting in a chair", "windows_s": [[1.0, 2.0], [7.0, 9.0]],
             "source": "Charades v1 test action annotation (c059)"},
        ],
    }
    nextqa = {
        "video": "videos/clip.mp4",
        "dataset": "NExT-QA (val split), NExT-OE (val), NExT-GQA (val)",
        "qa": [
            {"qid": 0, "question": "why is there a toy on the car", "type": "DO",
             "grounding_windows_s": None, "in_nextgqa": False},
            {"qid": 1, "question": "why are the people on a grass field", "type": "CW",
             "grounding_windows_s": [[3.9, 6.7]], "in_nextgqa": True},
        ],
    }
    (root / "annotations" / "charades_clip.json").write_text(json.dumps(charades))
    (root / "annotations" / "nextqa_clip.json").write_text(json.dumps(nextqa))
    return root


def test_charades_windows_are_clipped_to_the_video(data):
    queries = load_grounding(data / "annotations" / "charades_clip.json")
    video = (data / "videos" / "clip.mp4").resolve()
    assert [(q.query, q.windows) for q in queries] == [
        ("a person opens a door.", [(0.5, 2.5)]),
        ("Holding a dish", [(0.0, 6.0)]),
        ("Sitting in a chair", [(1.0, 2.0)]),
    ]
    assert all(q.video == video for q in queries)
    assert queries[1].source == "Charades v1 test action annotation (c118)"


def test_nextgqa_questions_without_windows_are_skipped(data):
    [query] = load_grounding(data / "annotations" / "nextqa_clip.json")
    assert query.query == "why are the people on a grass field"
    assert query.windows == [(3.9, 6.0)]
    assert query.source == "NExT-GQA qid 1"
    # a given duration replaces the probe
    [query] = load_grounding(data / "annotations" / "nextqa_clip.json", duration=5.0)
    assert query.windows == [(3.9, 5.0)]


def test_bad_annotation_files_say_what_is_wrong(data, tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_grounding(tmp_path / "missing.json")
    (tmp_path / "annotations").mkdir()
    bad = tmp_path / "annotations" / "bad.json"
    bad.write_text(json.dumps({"video": "videos/clip.mp4", "moments": []}))
    with pytest.raises(DataError, match="put the clip there"):
        load_grounding(bad)
    (tmp_path / "videos").mkdir()
    shutil.copy(data / "videos" / "clip.mp4", tmp_path / "videos" / "clip.mp4")
    bad.write_text(json.dumps({"video": "videos/clip.mp4", "items": []}))
    with pytest.raises(DataError, match="neither"):
        load_grounding(bad)
    bad.write_text(json.dumps({"video": "videos/clip.mp4",
                               "moments": [{"query": "x", "windows_s": [[3, 1]]}]}))
    with pytest.raises(DataError, match="ends before it starts"):
        load_grounding(bad)
    bad.write_text(json.dumps({"video": "videos/clip.mp4", "moments": [{"query": "x"}]}))
    with pytest.raises(DataError, match="windows_s"):
        load_grounding(bad)


class _Scripted:
    """Scripted moments per query: only to check the metric plumbing, never search itself."""

    def __init__(self, answers: dict[str, list[tuple[float, float, float]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, list[str], int, float | None]] = []

    def search(self, query=None, *, videos=None, k=10, threshold=None):
        self.calls.append((query, videos, k, threshold))
        return [Moment(video_id="v", path=videos[0], start=s, end=e, score=p, evidence=[])
                for s, e, p in self.answers[query]][:k]


def test_evaluate_grounding_scores_what_search_returns(tmp_path):
    video = tmp_path / "v.mp4"
    queries = [GroundingQuery(video=video, query="a", windows=[(0.0, 10.0)], source="t"),
               GroundingQuery(video=video, query="b", windows=[(10.0, 20.0)], source="t"),
               GroundingQuery(video=video, query="c", windows=[(0.0, 4.0)], source="t")]
    searcher = _Scripted({
        "a": [(0.0, 10.0, 0.9)],                     # exact: IoU 1
        "b": [(0.0, 5.0, 0.8), (12.0, 20.0, 0.4)],   # second hits: IoU 8/10 = 0.8
        "c": [],                                     # nothing found: a miss
    })
    result = evaluate_grounding(searcher, queries, k=5, threshold=0.0)
    assert searcher.calls[0] == ("a", [str(video)], 5, 0.0)
    m = result["metrics"]
    assert m["R@1,IoU=0.5"] == pytest.approx(1 / 3)
    assert m["R@5,IoU=0.7"] == pytest.approx(2 / 3)
    assert m["mIoU"] == pytest.approx(1 / 3)  # (1 + 0 + 0) / 3
    # AP at 0.5: a 1, b 1 (its only hit is ranked 2nd by score, precision 1/2 -> 0.5), c 0
    assert m["mAP@0.5"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["queries"] == 3 and result["answered"] == 2
    b = result["per_query"][1]
    assert b["predictions"] == [[0.0, 5.0, 0.8], [12.0, 20.0, 0.4]]
    assert b["top_iou"] == 0.0 and b["best_iou"] == pytest.approx(0.8)
    with pytest.raises(DataError, match="at least one query"):
        evaluate_grounding(searcher, [])


def test_blind_guesses_tile_the_clip(data):
    video = str(data / "videos" / "clip.mp4")
    [whole] = BlindGuess("whole").search("anything", videos=[video])
    assert (whole.start, whole.end) == (0.0, 6.0)
    uniform = BlindGuess("uniform", n=3).search("anything", videos=[video], k=5)
    assert [(m.start, m.end) for m in uniform] == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    result = evaluate_grounding(BlindGuess("whole"),
                                load_grounding(data / "annotations" / "charades_clip.json"))
    # IoUs with [0, 6]: 2/6, 6/6, 1/6
    assert result["metrics"]["mIoU"] == pytest.approx((2 / 6 + 1 + 1 / 6) / 3)


# --- through a real library -------------------------------------------------------------------

SPOKEN = {  # what is said -> a paraphrase that shares no content word with it
    "The red bicycle is parked next to the old bakery on the corner.":
        "where the bike was left near a shop",
    "Tomorrow morning we will travel to the mountains by train.":
        "a railway trip to the hills early next day",
}


@needs_espeak
@pytest.mark.slow
def test_a_spoken_sentence_is_found_by_a_paraphrase(tmp_path, monkeypatch):
    from vidseek.library import Library

    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    video = tmp_path / "talk.mp4"
    sentences = list(SPOKEN)
    truth = build(Script(width=320, height=180, fps=10.0, seed=2,
                         shots=[ShotSpec(duration=10, content="gradient", motion="static"),
                                ShotSpec(duration=10, content="color", motion="static")],
                         speech=[SpeechSpec(text=sentences[0], start=1.0),
                                 SpeechSpec(text=sentences[1], start=11.0)]), video)
    queries = [GroundingQuery(video=video, query=SPOKEN[s.text], windows=[(s.start, s.end)],
                              source="synth") for s in truth.speech]
    with Library(tmp_path / "lib", analyzers=["shots", "speech"]) as library:
        assert library.index([video]).results[0].status == "indexed"
        found = evaluate_grounding(library, queries, k=5)
        every = evaluate_grounding(library, queries, k=5, threshold=0.0)
    assert found["answered"] == 2
    assert all(q["top_iou"] >= 0.5 for q in found["per_query"]), found["per_query"]
    assert found["metrics"]["R@1,IoU=0.5"] == 1.0 and found["metrics"]["mIoU"] >= 0.5
    # every candidate: the other sentence comes too, ranked below the right one
    assert all(len(q["predictions"]) >= len(f["predictions"])
               for q, f in zip(every["per_query"], found["per_query"], strict=True))
    assert every["metrics"]["R@1,IoU=0.5"] == 1.0


@pytest.mark.shared
@pytest.mark.slow
def test_the_real_charades_clip_is_evaluated_completely(real_videos, real_annotation,
                                                        shared_models, tmp_path, monkeypatch):
    from vidseek.library import Library
    from vidseek.media import probe

    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    real_annotation("charades_Y1HGC.json")  # skips without ../shared
    queries = load_grounding(real_videos.parent / "annotations" / "charades_Y1HGC.json")
    video = real_videos / "charades_Y1HGC.mp4"
    duration = probe(video).duration
    assert len(queries) == 9
    assert max(end for q in queries for _, end in q.windows) == duration  # 32.0 clipped
    # Object and scene tags: the embedded analyzers find nothing to search on this silent,
    # textless clip, and all-empty results would make the checks below vacuous.
    mobilenet = shared_models / "mobilenet-v2-imagenet" / "mobilenet_v2_1.0_224_quant_qdq.onnx"
    models = {"detector": f"yolox:{shared_models / 'yolox-nano-coco' / 'yolox_nano.onnx'}",
              "classifier": f"imagenet:{mobilenet}"}
    with Library(tmp_path / "lib", analyzers=["objects"], models=models) as library:
        assert library.index([video]).results[0].status == "indexed"
        results = [evaluate_grounding(library, queries, k=5, threshold=t) for t in (None, 0.0)]
    for result in results:
        m = result["metrics"]
        assert result["queries"] == len(result["per_query"]) == 9
        assert all(0.0 <= m[name] <= 1.0 for name in METRICS), m
        for iou in (0.3, 0.5, 0.7):
            assert m[f"R@5,IoU={iou}"] >= m[f"R@1,IoU={iou}"]
        for k in (1, 5):
            assert m[f"R@{k},IoU=0.3"] >= m[f"R@{k},IoU=0.5"] >= m[f"R@{k},IoU=0.7"]
        for q in result["per_query"]:
            assert len(q["predictions"]) <= 5
            assert all(0 <= s < e <= duration + 1e-6 and 0 <= p <= 1
                       for s, e, p in q["predictions"])
            assert 0.0 <= q["top_iou"] <= q["best_iou"] <= 1.0
            assert q["predictions"] or q["best_iou"] == 0.0
    default, every = results
    assert every["answered"] >= 1 and default["answered"] <= every["answered"]
