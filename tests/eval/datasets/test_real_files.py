"""Loaders on the annotation files exactly as published (../shared/data/benchmarks)."""

from __future__ import annotations

import shutil

import pytest

from vidseek.errors import DataError
from vidseek.eval.datasets import load_task


def test_mlvu_keeps_the_entries_whose_answer_is_no_candidate(benchmarks):
    dataset = load_task("mlvu", benchmarks / "mlvu")  # the GitHub copy: task files directly
    kinds = [s.kind for s in dataset]
    assert kinds.count("mc") == 2175 and kinds.count("open") == 418
    odd = [s.id for s in dataset if s.answer == -1]
    assert odd == ["2_needle/34", "2_needle/338"]
    assert any("2_needle.json entry 34" in n for n in dataset.notes)


def test_mlvu_reads_the_github_data_folder(benchmarks, tmp_path):
    shutil.copytree(benchmarks / "mlvu", tmp_path / "data")
    assert len(load_task("mlvu", tmp_path)) == 2593


def test_egoschema_says_why_nothing_would_be_scored(benchmarks, tmp_path):
    # the stored questions.json (20 questions) shares no question with the 500 answers
    with pytest.raises(DataError, match="none of the 20 questions"):
        load_task("egoschema", benchmarks / "egoschema")
    assert len(load_task("egoschema", benchmarks / "egoschema", subset=False)) == 20
    with pytest.raises(DataError, match="early EgoSchema release"):
        load_task("egoschema", benchmarks / "egoschema_first", subset=False)
    shutil.copy(benchmarks / "egoschema" / "questions.json", tmp_path / "questions.json")
    with pytest.raises(DataError, match="subset_answers.json not found"):
        load_task("egoschema", tmp_path)


def test_qvhighlights_refuses_the_test_release_and_reads_the_one_with_windows(benchmarks,
                                                                              tmp_path):
    shutil.copy(benchmarks / "qvhighlights" / "highlight_test_release.jsonl", tmp_path)
    with pytest.raises(DataError, match="withholds its windows"):
        load_task("qvhighlights", tmp_path, split="test")
    test = load_task("qvhighlights", benchmarks / "qvhighlights", split="test")
    assert len(test) == 1542 and all(s.windows for s in test)
    assert len(load_task("qvhighlights", benchmarks / "qvhighlights")) == 1550
    with pytest.raises(DataError, match="no option bogus"):
        load_task("qvhighlights", benchmarks / "qvhighlights", bogus=1)


def test_charades_sta_windows_past_the_video_as_published_or_cut(benchmarks):
    kept = load_task("charades_sta", benchmarks / "charades_sta")
    cut = load_task("charades_sta", benchmarks / "charades_sta", clip_to_video=True)
    past = [s for s in kept if s.windows[0][1] > s.duration]
    assert len(kept) == len(cut) == 3720 and len(past) == 562
    assert all(s.windows[0][1] <= s.duration for s in cut)
    assert "562 windows" in kept.notes[0] and "as 2D-TAN" in cut.notes[0]


@pytest.mark.parametrize(("split", "past"), [("val_1", 134), ("val_2", 111)])
def test_activitynet_captions_ends_are_cut_at_the_duration(benchmarks, split, past):
    dataset = load_task("activitynet_captions", benchmarks / "activitynet_captions", split=split)
    assert all(s.windows[0][1] <= s.duration for s in dataset)
    assert dataset.notes == [f"{past} windows end past their video's duration; cut at it"]
    raw = load_task("activitynet_captions", benchmarks / "activitynet_captions", split=split,
                    clip_to_duration=False)
    assert sum(s.windows[0][1] > s.duration for s in raw) == past
