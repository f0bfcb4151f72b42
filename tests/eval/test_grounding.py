"""Grounding: annotation files read into samples (clipping computed by hand), the grounding
metrics of search records computed by hand, a spoken sentence found by a paraphrase through the
runner, and the real Charades clip (complete and consistent results; the numbers themselves are
not asserted)."""

from __future__ import annotations

import json
import shutil

import pytest

from vidseek.errors import DataError
from vidseek.eval.datasets import Dataset, Sample
from vidseek.eval.datasets.real_mini import load_annotation
from vidseek.eval.records import SampleRecord, at_threshold, read_records
from vidseek.eval.runner import EvalConfig, run_eval
from vidseek.eval.scoring import score_records
from vidseek.synth import Script, ShotSpec, SpeechSpec, build

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
            {"qid": 2, "question": "what are they doing", "type": "CW",
             "options": ["golf", "tennis"], "answer_idx": 1,
             "grounding_windows_s": [[1.0, 2.0]], "in_nextgqa": True},
        ],
    }
    (root / "annotations" / "charades_clip.json").write_text(json.dumps(charades))
    (root / "annotations" / "nextqa_clip.json").write_text(json.dumps(nextqa))
    return root


# --- annotation files -------------------------------------------------------------------------


def test_charades_windows_are_clipped_to_the_video(data):
    samples = load_annotation(data / "annotations" / "charades_clip.json")
    video = (data / "videos" / "clip.mp4").resolve()
    assert [(s.id, s.question, s.windows) for s in samples] == [
        ("charades/0", "a person opens a door.", [(0.5, 2.5)]),
        ("charades/1", "Holding a dish", [(0.0, 6.0)]),
        ("charades/3", "Sitting in a chair", [(1.0, 2.0)]),
    ]
    assert all(s.video == video and s.kind == "grounding" for s in samples)
    assert [s.category for s in samples] == ["Charades-STA", "Charades action",
                                            "Charades action"]
    assert samples[1].extra["source"] == "Charades v1 test action annotation (c118)"


def test_nextqa_questions(data):
    """A question without options is a grounding query, kept only with windows; one with
    options is multiple choice, with its windows."""
    query, question = load_annotation(data / "annotations" / "nextqa_clip.json")
    assert (query.kind, query.question) == ("grounding", "why are the people on a grass field")
    assert query.windows == [(3.9, 6.0)]
    assert query.extra["source"] == "NExT-GQA qid 1"
    assert (question.kind, question.options, question.answer) == ("mc", ["golf", "tennis"], 1)
    assert question.answer_text == "tennis" and question.windows == [(1.0, 2.0)]
    # a given duration replaces the probe
    query, _ = load_annotation(data / "annotations" / "nextqa_clip.json", duration=5.0)
    assert query.windows == [(3.9, 5.0)]


def test_bad_annotation_files_say_what_is_wrong(data, tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_annotation(tmp_path / "missing.json")
    (tmp_path / "annotations").mkdir()
    bad = tmp_path / "annotations" / "bad.json"
    bad.write_text(json.dumps({"video": "videos/clip.mp4", "moments": []}))
    with pytest.raises(DataError, match="put the clip there"):
        load_annotation(bad)
    (tmp_path / "videos").mkdir()
    shutil.copy(data / "videos" / "clip.mp4", tmp_path / "videos" / "clip.mp4")
    bad.write_text(json.dumps({"video": "videos/clip.mp4", "items": []}))
    with pytest.raises(DataError, match="neither"):
        load_annotation(bad)
    bad.write_text(json.dumps({"video": "videos/clip.mp4",
                               "moments": [{"query": "x", "windows_s": [[3, 1]]}]}))
    with pytest.raises(DataError, match="ends before it starts"):
        load_annotation(bad)
    bad.write_text(json.dumps({"video": "videos/clip.mp4", "moments": [{"query": "x"}]}))
    with pytest.raises(DataError, match="windows_s"):
        load_annotation(bad)
    bad.write_text("{")
    with pytest.raises(DataError, match="not JSON"):
        load_annotation(bad)


# --- scoring ----------------------------------------------------------------------------------


def _searched(query: str, windows, predicted) -> SampleRecord:
    return SampleRecord(id=query, kind="grounding", status="ok", question=query,
                        windows=windows, predicted_windows=predicted,
                        found=bool(predicted))


def test_grounding_metrics_of_search_records():
    records = [
        _searched("a", [(0.0, 10.0)], [(0.0, 10.0, 0.9)]),                      # exact: IoU 1
        _searched("b", [(10.0, 20.0)], [(0.0, 5.0, 0.8), (12.0, 20.0, 0.4)]),   # 2nd: IoU 0.8
        _searched("c", [(0.0, 4.0)], []),                                       # a miss
    ]
    m = {k: v["value"] for k, v in score_records(records, answers=False)["metrics"].items()}
    assert m["R@1,IoU=0.5"] == pytest.approx(1 / 3)
    assert m["R@5,IoU=0.7"] == pytest.approx(2 / 3)
    assert m["mIoU"] == pytest.approx(1 / 3)  # (1 + 0 + 0) / 3
    # AP at 0.5: a 1, b 1 (its only hit is ranked 2nd by score, precision 1/2 -> 0.5), c 0
    assert m["mAP@0.5"] == pytest.approx((1 + 0.5 + 0) / 3)
    # at 0.5 b keeps only its first, wrong window
    high = score_records(at_threshold(records, 0.5), answers=False)["metrics"]
    assert high["R@5,IoU=0.7"]["value"] == pytest.approx(1 / 3)


# --- through a real library and the runner ----------------------------------------------------

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
    samples = [Sample(id=f"q{n}", task="talk", kind="grounding", video=video,
                      question=SPOKEN[s.text], windows=[(s.start, s.end)])
               for n, s in enumerate(truth.speech)]
    out = tmp_path / "out"
    with Library(out / "library", analyzers=["shots", "speech"]) as library:
        assert library.index([video]).results[0].status == "indexed"
        threshold = library.searcher.calibration.threshold
    run = run_eval(EvalConfig(task="talk", data=tmp_path, method="search", out=out),
                   dataset=Dataset("talk", tmp_path, samples))
    every = read_records(run.samples)
    found = at_threshold(every, threshold)
    assert all(r.found for r in found)
    assert all(r.predicted_windows[0][0] <= w[1] and w[0] <= r.predicted_windows[0][1]
               for r in found for w in r.windows)
    metrics = score_records(found, answers=False)["metrics"]
    assert metrics["R@1,IoU=0.5"]["value"] == 1.0 and metrics["mIoU"]["value"] >= 0.5
    # every candidate: the other sentence comes too, ranked below the right one
    assert all(len(e.predicted_windows) >= len(f.predicted_windows)
               for e, f in zip(every, found, strict=True))
    assert run.summary["metrics"]["R@1,IoU=0.5"]["value"] == 1.0
    assert run.summary["sweep"][0]["R@1@0.5"] == {"all": 1.0}


@pytest.mark.shared
@pytest.mark.slow
def test_the_real_charades_clip_is_evaluated_completely(real_videos, shared_models, tmp_path,
                                                        monkeypatch):
    from vidseek.library import Library
    from vidseek.media import probe

    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    samples = load_annotation(real_videos.parent / "annotations" / "charades_Y1HGC.json")
    video = real_videos / "charades_Y1HGC.mp4"
    duration = probe(video).duration
    assert len(samples) == 9
    assert max(end for s in samples for _, end in s.windows) == duration  # 32.0 clipped
    # Object and scene tags: the embedded analyzers find nothing to search on this silent,
    # textless clip, and all-empty results would make the checks below vacuous.
    mobilenet = shared_models / "mobilenet-v2-imagenet" / "mobilenet_v2_1.0_224_quant_qdq.onnx"
    models = {"detector": f"yolox:{shared_models / 'yolox-nano-coco' / 'yolox_nano.onnx'}",
              "classifier": f"imagenet:{mobilenet}"}
    out = tmp_path / "out"
    with Library(out / "library", analyzers=["objects"], models=models) as library:
        assert library.index([video]).results[0].status == "indexed"
        threshold = library.searcher.calibration.threshold
    run = run_eval(EvalConfig(task="charades", data=real_videos.parent, method="search",
                              out=out), dataset=Dataset("charades", real_videos.parent, samples))
    every = read_records(run.samples)
    assert len(every) == 9 and all(r.status == "ok" for r in every)
    results = [at_threshold(every, t) for t in (threshold, 0.0)]
    for records in results:
        m = {k: v["value"] for k, v in score_records(records, answers=False)["metrics"].items()}
        assert all(0.0 <= m[name] <= 1.0 for name in METRICS), m
        for iou in (0.3, 0.5, 0.7):
            assert m[f"R@5,IoU={iou}"] >= m[f"R@1,IoU={iou}"]
        for k in (1, 5):
            assert m[f"R@{k},IoU=0.3"] >= m[f"R@{k},IoU=0.5"] >= m[f"R@{k},IoU=0.7"]
        for r in records:
            assert len(r.predicted_windows) <= 5
            assert all(0 <= s < e <= duration + 1e-6 and 0 <= p <= 1
                       for s, e, p in r.predicted_windows)
    default, every = results
    answered = [sum(bool(r.predicted_windows) for r in rs) for rs in (default, every)]
    assert answered[1] >= 1 and answered[0] <= answered[1]
