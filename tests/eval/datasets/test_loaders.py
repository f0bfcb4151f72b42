"""Every benchmark loader on a tiny fixture written in that benchmark's exact released layout,
with a small synthetic video at each path the layout names."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from vidseek.errors import DataError
from vidseek.eval.datasets import TASKS, load_task
from vidseek.eval.datasets.qvhighlights import clip_labels


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """An 6-s synthetic video (320x180, 10 fps, no audio)."""
    from vidseek.synth import build, random_script

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    build(random_script(6, seed=3, width=320, height=180, fps=10.0, audio=False), path)
    return path


def _put(clip: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, path)


def _csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def test_videomme(tmp_path, clip):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"video_id": "001", "duration": "short", "domain": "Knowledge",
             "sub_category": "Humanity & History", "url": "https://www.youtube.com/watch?v=x",
             "videoID": "fFjv93ACGo8", "question_id": "001-1", "task_type": "Counting Problem",
             "question": "How many people appear?",
             "options": ["A. One.", "B. Two.", "C. Three.", "D. Four."], "answer": "C"}]
    (tmp_path / "videomme").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "videomme/test-00000-of-00001.parquet")
    _put(clip, tmp_path / "data/fFjv93ACGo8.mp4")
    (sample,) = load_task("videomme", tmp_path).samples
    assert sample.options == ["One.", "Two.", "Three.", "Four."]
    assert sample.answer == 2 and sample.answer_text == "Three."
    assert sample.duration_group == "short" and sample.category == "Counting Problem"
    assert sample.video.is_file() and sample.id == "001-1"
    # lmms-eval also finds .MP4 and .mkv files; so does the loader
    (tmp_path / "data/fFjv93ACGo8.mp4").rename(tmp_path / "data/fFjv93ACGo8.MP4")
    (sample,) = load_task("videomme", tmp_path).samples
    assert sample.video.name == "fFjv93ACGo8.MP4" and sample.video.is_file()


def test_longvideobench(tmp_path, clip):
    _json(tmp_path / "lvb_val.json", [{
        "video_id": "86CxyhFV9MI", "question": "What is the man holding when the bell rings?",
        "candidates": ["a cup", "a phone", "a book"], "correct_choice": 1,
        "position": [1, 2], "topic_category": "NP-News-Programs", "question_category": "S2E",
        "level": "L1-Perception", "id": "86CxyhFV9MI_0", "video_path": "86CxyhFV9MI.mp4",
        "subtitle_path": "86CxyhFV9MI_en.json", "duration_group": 600,
        "starting_timestamp_for_subtitles": 0, "duration": 527.12}])
    _put(clip, tmp_path / "videos/86CxyhFV9MI.mp4")
    (sample,) = load_task("longvideobench", tmp_path).samples
    assert (sample.answer, sample.answer_text) == (1, "a phone")
    assert sample.duration == 527.12 and sample.duration_group == "600"
    assert sample.video.is_file()


def test_mlvu(tmp_path, clip):
    _json(tmp_path / "MLVU/json/1_plotQA.json", [{
        "video": "movie101_66.mp4", "duration": 246.0, "question": "What color is the car?",
        "candidates": ["red", "blue", "green", "white"], "answer": "blue",
        "question_type": "plotQA"}])
    _json(tmp_path / "MLVU/json/9_summary.json", [{
        "video": "summary_1.mp4", "duration": 300.0, "question": "Summarize the video.",
        "answer": "A man drives to work.", "question_type": "summary"}])
    _put(clip, tmp_path / "MLVU/video/1_plotQA/movie101_66.mp4")
    _put(clip, tmp_path / "MLVU/video/9_summary/summary_1.mp4")
    dataset = load_task("mlvu", tmp_path)
    mc, summary = dataset.samples
    assert mc.kind == "mc" and mc.answer == 1 and mc.category == "plotQA"
    assert summary.kind == "open" and summary.answer_text == "A man drives to work."
    assert all(s.video.is_file() for s in dataset) and dataset.notes


def test_egoschema_subset(tmp_path, clip):
    questions = [{"q_uid": uid, "google_drive_id": "x", "question": "What is c doing?",
                  **{f"option {i}": f"option text {i}" for i in range(5)}}
                 for uid in ("uid-a", "uid-b")]
    _json(tmp_path / "questions.json", questions)
    _json(tmp_path / "subset_answers.json", {"uid-b": 4})
    _put(clip, tmp_path / "videos/uid-b.mp4")
    dataset = load_task("egoschema", tmp_path)
    (sample,) = dataset.samples
    assert sample.id == "uid-b" and sample.answer == 4 and len(sample.options) == 5
    assert sample.video.is_file() and "Kaggle" in dataset.notes[0]


def _nextqa_row(**extra):
    return {"frame_count": "919", "width": "640", "height": "480",
            "question": "why are the three people on a grass field", "qid": "1", "type": "CW",
            "a0": "rolling around", "a1": "dancing", "a2": "sightseeing",
            "a3": "playing soccer", "a4": "playing golf", **extra}


def test_nextqa(tmp_path, clip):
    _csv(tmp_path / "dataset/nextqa/val.csv", [{"video": "6037747123", **_nextqa_row(),
                                                "answer": "4"}])
    _json(tmp_path / "dataset/nextqa/map_vid_vidorID.json", {"6037747123": "1105/6037747123"})
    _put(clip, tmp_path / "NExTVideo/1105/6037747123.mp4")
    (sample,) = load_task("nextqa", tmp_path).samples
    assert sample.answer == 4 and sample.options[4] == "playing golf"
    assert sample.category == "CW" and sample.video.is_file()


def test_nextgqa_keeps_grounded_questions(tmp_path, clip):
    rows = [{"video_id": "6037747123", **_nextqa_row(), "answer": "playing golf"},
            {"video_id": "6037747123", **_nextqa_row(qid="0"), "answer": "dancing"}]
    # csv column order of the release: answer before qid
    _csv(tmp_path / "datasets/nextgqa/val.csv", rows)
    _json(tmp_path / "datasets/nextgqa/gsub_val.json", {"6037747123": {
        "duration": 31, "location": {"1": [[19.6, 30.7]]}, "fps": 29.97}})
    _json(tmp_path / "datasets/nextgqa/map_vid_vidorID.json", {"6037747123": "1105/6037747123"})
    _put(clip, tmp_path / "NExTVideo/1105/6037747123.mp4")
    dataset = load_task("nextgqa", tmp_path)
    (sample,) = dataset.samples
    assert sample.windows == [(19.6, 30.7)] and sample.answer == 4 and sample.duration == 31
    assert "1 questions without a grounding window" in dataset.notes[0]


def test_mvbench(tmp_path, clip):
    _json(tmp_path / "json/action_sequence.json", [{
        "video": "ZS9XR.mp4", "question": "What happened after the person took the food?",
        "candidates": ["Ate the medicine.", "Tidied up the blanket."],
        "answer": "Tidied up the blanket.", "start": 1.0, "end": 4.5}])
    _json(tmp_path / "json/episodic_reasoning.json", [])
    _put(clip, tmp_path / "video/star/Charades_v1_480/ZS9XR.mp4")
    dataset = load_task("mvbench", tmp_path)
    (sample,) = dataset.samples
    assert sample.clip == (1.0, 4.5) and sample.answer == 1
    assert sample.category == "Action Sequence" and sample.video.is_file()
    assert any("Episodic Reasoning" in n and "frame folders" in n for n in dataset.notes)


def test_charades_sta(tmp_path, clip):
    (tmp_path / "charades_sta_test.txt").write_text(
        "Y1HGC 0.2 9.8##a person walks in a doorway drinking some coffee.\n"
        "Y1HGC 1.7 12.1##person drinking a glass of water.\n")
    _put(clip, tmp_path / "Charades_v1_480/Y1HGC.mp4")
    dataset = load_task("charades_sta", tmp_path)
    assert [s.windows for s in dataset] == [[(0.2, 9.8)], [(1.7, 12.1)]]
    assert dataset.samples[1].question == "person drinking a glass of water."
    assert all(s.kind == "grounding" and s.video.is_file() for s in dataset)


def test_charades_sta_bad_line(tmp_path):
    (tmp_path / "charades_sta_test.txt").write_text("Y1HGC 0.2 a person walks\n")
    with pytest.raises(DataError, match="VID start end##sentence"):
        load_task("charades_sta", tmp_path)


def test_qvhighlights(tmp_path, clip):
    row = {"qid": 8056, "query": "Chef makes pizza and cuts it up.", "duration": 150,
           "vid": "RoripwjYFp8_60.0_210.0", "relevant_clip_ids": [53, 54],
           "saliency_scores": [[2, 3, 3], [4, 3, 3]], "relevant_windows": [[106, 110]]}
    (tmp_path / "highlight_val_release.jsonl").write_text(json.dumps(row) + "\n")
    _put(clip, tmp_path / "videos/RoripwjYFp8_60.0_210.0.mp4")
    (sample,) = load_task("qvhighlights", tmp_path).samples
    assert sample.windows == [(106.0, 110.0)] and sample.video.is_file()
    labels = clip_labels(sample)
    assert len(labels) == 75 and labels[53] == [2, 3, 3] and labels[0] == [0, 0, 0]


def test_activitynet_captions(tmp_path, clip):
    _json(tmp_path / "val_1.json", {"v_uqiMw7tQ1Cc": {
        "duration": 55.15, "timestamps": [[0.28, 55.15], [13.79, 54.32]],
        "sentences": ["A weight lifting tutorial is given.", "  The coach helps the guy."]}})
    _put(clip, tmp_path / "videos/uqiMw7tQ1Cc.mp4")  # ids are released with and without v_
    dataset = load_task("activitynet_captions", tmp_path)
    assert [s.question for s in dataset] == ["A weight lifting tutorial is given.",
                                              "The coach helps the guy."]
    assert dataset.samples[1].windows == [(13.79, 54.32)]
    assert all(s.video.name == "uqiMw7tQ1Cc.mp4" for s in dataset)


def test_real_mini(real_videos):
    dataset = load_task("real-mini", real_videos.parent)
    kinds = [s.kind for s in dataset]
    assert kinds.count("mc") == 9 and kinds.count("grounding") == 9
    assert [s.category for s in dataset].count("Charades-STA") == 2
    grounded = [s for s in dataset if s.kind == "mc" and s.windows]
    assert len(grounded) == 6
    # Charades windows ending at 32.0 s are clipped to the 30.7-s file
    assert max(e for s in dataset for _, e in s.windows) <= 30.75


def test_unknown_task_and_missing_files(tmp_path):
    with pytest.raises(DataError, match="unknown task"):
        load_task("kinetics", tmp_path)
    with pytest.raises(DataError, match="docs/benchmarks.md"):
        load_task("videomme", tmp_path)
    with pytest.raises(DataError, match="not found"):
        load_task("nextqa", tmp_path / "absent")
    assert len(TASKS) == 12
