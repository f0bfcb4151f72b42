"""The needle benchmark: its pools, the haystack script, scoring on hand-computed records, and
one small haystack built, indexed and searched end to end."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from vidseek.eval.datasets.needle import KINDS, NeedlePlan, needle_script
from vidseek.eval.needle import NeedleReport, needle_table, run_needle_bench, score_needles
from vidseek.eval.needle_pools import (
    ABSENT_QUERIES,
    DISTRACTOR_PHOTOS,
    FILLER_TITLES,
    PICTURE_NEEDLES,
    SPEECH_NEEDLES,
    TEXT_NEEDLES,
    content_words,
)
from vidseek.eval.records import SampleRecord
from vidseek.eval.scoring import SWEEP, threshold_sweep
from vidseek.synth import PHOTOS, Script
from vidseek.synth.overlays import text_patch
from vidseek.types import Cost

# --- pools -----------------------------------------------------------------------------------


def test_pools_are_big_enough_and_every_needle_is_distinct():
    assert len(SPEECH_NEEDLES) >= 40 and len(TEXT_NEEDLES) >= 40
    assert len(ABSENT_QUERIES) >= 25
    needles = [p.needle for p in SPEECH_NEEDLES + TEXT_NEEDLES]
    queries = [p.query for p in SPEECH_NEEDLES + TEXT_NEEDLES] + [
        p.query for p in PICTURE_NEEDLES] + list(ABSENT_QUERIES)
    assert len(set(needles)) == len(needles)
    assert len(set(queries)) == len(queries)
    assert {p.photo for p in PICTURE_NEEDLES} <= set(PHOTOS)
    assert len({p.photo for p in PICTURE_NEEDLES}) == len(PICTURE_NEEDLES)
    # a distractor must never be a needle: the answer would be ambiguous
    assert set(DISTRACTOR_PHOTOS) <= set(PHOTOS)
    assert not set(DISTRACTOR_PHOTOS) & {p.photo for p in PICTURE_NEEDLES}


@pytest.mark.parametrize("pair", SPEECH_NEEDLES + TEXT_NEEDLES, ids=lambda p: p.query)
def test_every_query_paraphrases_its_needle(pair):
    shared = content_words(pair.needle) & content_words(pair.query)
    assert len(shared) <= 1, shared


def test_picture_queries_do_not_name_what_the_models_call_them():
    for picture in PICTURE_NEEDLES:
        named = content_words(" ".join(picture.tags)) | content_words(picture.photo)
        assert not content_words(picture.query) & named, picture


def test_screen_text_needles_fit_one_line():
    # TextSpec size 0.07 at 640x360: a 25 px font, at most 640 - 2 margins wide
    one_line = text_patch("X", 25, 612).shape[0]
    for pair in TEXT_NEEDLES:
        assert len(pair.needle) <= 26, pair.needle
        patch = text_patch(pair.needle, 25, 612)
        assert patch.shape[0] == one_line and patch.shape[1] < 612, pair.needle


def test_absent_queries_share_no_word_with_the_filler_titles():
    titles = set().union(*map(content_words, FILLER_TITLES), {"part"})
    for query in ABSENT_QUERIES:
        assert not content_words(query) & titles, query


# --- the haystack ----------------------------------------------------------------------------


def test_needle_script_is_deterministic_per_seed():
    script, plans = needle_script(0.5, 20, seed=3)
    again, plans_again = needle_script(0.5, 20, seed=3)
    assert script == again and plans == plans_again
    other, other_plans = needle_script(0.5, 20, seed=4)
    assert other != script and [p.needle for p in other_plans] != [p.needle for p in plans]
    # it is plain data that passes validation again
    assert Script.model_validate_json(script.model_dump_json()) == script


@pytest.mark.parametrize(("hours", "needles", "seed"), [(1.0, 30, 0), (1.0, 30, 1),
                                                        (0.05, 6, 0), (2.0, 60, 7)])
def test_needles_are_inside_apart_and_split_by_kind(hours, needles, seed):
    script, plans = needle_script(hours, needles, seed)
    assert script.duration == pytest.approx(hours * 3600)
    assert (script.width, script.height, script.fps) == (640, 360, 10.0)
    assert len(plans) == needles
    assert all(0 <= p.start < p.end <= script.duration for p in plans)
    ordered = sorted(plans, key=lambda p: p.start)
    assert all(b.start - a.end >= 5 for a, b in zip(ordered, ordered[1:], strict=False))

    count = {kind: sum(p.kind == kind for p in plans) for kind in ("speech", "text", "picture")}
    looks = {p.photo: p.looks_like for p in PICTURE_NEEDLES}
    assert count["picture"] == min(round(0.2 * needles), len(set(looks.values())))
    assert abs(count["speech"] - count["text"]) <= 1
    pictures = [p.needle for p in plans if p.kind == "picture"]
    assert len({looks[p] for p in pictures}) == len(pictures)  # never two alike

    # each needle is in the script where the plan says, as the plan says
    spoken = {(s.text, s.start) for s in script.speech}
    shown = {(t.text, t.start, t.end, t.position) for t in script.texts}
    pasted = {(p.photo, p.start, p.end, p.position, p.scale) for p in script.pictures}
    for plan in plans:
        if plan.kind == "speech":
            assert (plan.needle, plan.start) in spoken
        elif plan.kind == "text":
            assert 6 <= plan.end - plan.start <= 15
            assert (plan.needle, plan.start, plan.end, "center") in shown
        else:
            assert 8 <= plan.end - plan.start <= 20 and plan.position in ("left", "right")
            assert (plan.needle, plan.start, plan.end, plan.position, 0.5) in pasted
    # the filler: continuous speech, a title on every slide, distractor photos only
    needle_sentences = {p.needle for p in plans if p.kind == "speech"}
    assert len(script.speech) > hours * 3600 / 12
    assert sum(s.text in needle_sentences for s in script.speech) == count["speech"]
    assert sum(t.position == "top" for t in script.texts) == len(script.shots)
    assert {s.photo for s in script.shots if s.content == "photo"} <= set(DISTRACTOR_PHOTOS)


def test_needle_script_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="fewer needles"):
        needle_script(0.05, 20)
    with pytest.raises(ValueError, match="pool"):
        needle_script(10, 200)
    with pytest.raises(ValueError, match="hours > 0"):
        needle_script(0, 5)


# --- scoring ---------------------------------------------------------------------------------


def _record(kind, truth, moments, latency=10.0, source=None):
    """A search's record as the runner writes it: every candidate with its score."""
    return SampleRecord(
        id=f"{kind}/{len(truth)}/{latency}", task="needle", kind="grounding", status="ok",
        question="q", category=kind, windows=truth, predicted_windows=moments,
        cost=Cost(seconds=latency / 1000), extra={"source": source} if source else {})


RECORDS = [
    # speech: a hit at rank 1 (IoU 1)
    _record("speech", [(10, 20)], [(10, 20, 0.9)], latency=10),
    # speech: rank 1 has IoU 5/15, rank 2 is exact
    _record("speech", [(30, 40)], [(35, 45, 0.8), (30, 40, 0.6)], latency=20),
    # speech: exact, but scored 0.4
    _record("speech", [(50, 60)], [(50, 60, 0.4)], latency=30),
    # text: IoU exactly 0.5 counts
    _record("text", [(0, 10)], [(0, 5, 0.7)]),
    # text: rank 1 only touches the truth (IoU 0); rank 2 has IoU 7.5 / 12.5 = 0.6
    _record("text", [(0, 10)], [(10, 20, 0.9), (2.5, 12.5, 0.9)]),
    # absent: a score exactly at the threshold is a false positive, just under is not
    _record("absent", [], [(0, 1, 0.5)], source="pool"),
    _record("absent", [], [(0, 1, 0.49)], source="pool"),
    _record("absent", [], [], source="pool"),
    _record("absent", [], [(3, 4, 0.7)], source="unused-speech"),
]


def test_score_needles_hand_computed():
    scores = score_needles(RECORDS, 0.5)
    assert scores["threshold"] == 0.5
    assert list(scores["kinds"]) == ["speech", "text"]
    speech = scores["kinds"]["speech"]
    assert speech["n"] == 3
    assert speech["R@1@0.5"] == pytest.approx(1 / 3)  # only the first
    assert speech["R@5@0.5"] == pytest.approx(2 / 3)  # the third scores under 0.5
    assert speech["mIoU"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert speech["p50_ms"] == pytest.approx(20)
    assert speech["p95_ms"] == pytest.approx(29)  # 20 + 0.9 x 10
    text = scores["kinds"]["text"]
    assert (text["n"], text["R@1@0.5"], text["R@5@0.5"]) == (2, 0.5, 1.0)
    assert text["mIoU"] == pytest.approx((0.5 + 0) / 2)
    absent = scores["absent"]
    assert absent["n"] == 4 and absent["fp_rate"] == 0.5
    assert absent["by_source"] == {"pool": {"n": 3, "fp_rate": pytest.approx(1 / 3)},
                                   "unused-speech": {"n": 1, "fp_rate": 1.0}}


def test_skipped_queries_are_left_out_and_failed_ones_find_nothing():
    skipped = RECORDS[0].model_copy(update={"status": "skipped", "error": "no model"})
    failed = RECORDS[0].model_copy(update={"status": "error", "error": "boom",
                                           "predicted_windows": []})
    speech = score_needles([skipped, *RECORDS[1:3]], 0.5)["kinds"]["speech"]
    assert speech["n"] == 2 and speech["R@1@0.5"] == 0
    speech = score_needles([failed, *RECORDS[1:3]], 0.5)["kinds"]["speech"]
    assert speech["n"] == 3 and speech["R@5@0.5"] == pytest.approx(1 / 3)


def test_a_score_exactly_at_the_threshold_counts():
    speech = score_needles(RECORDS, 0.4)["kinds"]["speech"]
    assert speech["R@1@0.5"] == pytest.approx(2 / 3)
    assert speech["R@5@0.5"] == 1.0
    assert speech["mIoU"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert score_needles(RECORDS, 0.4)["absent"]["fp_rate"] == 0.75
    # nothing counts above every score; with no absent query there is no FP rate
    none = score_needles(RECORDS[:5], 0.95)
    assert none["kinds"]["speech"]["R@5@0.5"] == 0 and none["kinds"]["text"]["mIoU"] == 0
    assert none["absent"] is None


def test_threshold_sweep():
    sweep = threshold_sweep(RECORDS)
    assert [row["threshold"] for row in sweep] == list(SWEEP)
    assert SWEEP[0] == 0.05 and SWEEP[-1] == 0.95 and len(SWEEP) == 19
    low, high = sweep[0], sweep[-1]
    # at 0.05 every moment counts: speech 1 and 3 hit at rank 1, text 1 does
    assert low["R@1@0.5"] == {"speech": pytest.approx(2 / 3), "text": 0.5}
    assert low["absent_fp"] == 0.75
    assert high["R@1@0.5"] == {"speech": 0.0, "text": 0.0} and high["absent_fp"] == 0.0
    assert sweep[9]["threshold"] == 0.5
    assert sweep[9]["R@1@0.5"] == {k: v["R@1@0.5"]
                                   for k, v in score_needles(RECORDS, 0.5)["kinds"].items()}


def test_report_rescores_saves_and_renders(tmp_path):
    plans = [NeedlePlan(kind="speech", needle="n", query="q", start=10, end=20, measured=True)]
    report = NeedleReport(
        hours=0.01, needles=1, seed=0, threshold=0.5, video="v.mp4", video_id="abc",
        duration=36, build_seconds=None, index_seconds=1.0, index_status="unchanged",
        analyzers=["shots"], skipped={"picture": "no models"}, plans=plans, records=RECORDS,
        scores=score_needles(RECORDS, 0.5), sweep=threshold_sweep(RECORDS))
    again = NeedleReport.load(report.save(tmp_path / "report.json"))
    assert again == report
    lower = report.rescored(0.4)
    assert lower.threshold == 0.4 and lower.records == report.records
    assert lower.scores == score_needles(RECORDS, 0.4)

    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(needle_table(report))
    text = console.export_text()
    assert [c.header for c in needle_table(report).columns] == [
        "kind", "n", "R@1@0.5", "R@5@0.5", "mIoU", "FP rate", "p50 ms", "p95 ms"]
    assert "speech" in text and "absent" in text and "0.50" in text and "no models" in text


# --- end to end ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_small_haystack_end_to_end(tmp_path, monkeypatch):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    report = run_needle_bench(0.05, 6, seed=0, workdir=tmp_path)
    assert report.index_status == "indexed" and not report.index_errors
    assert report.analyzers == ["shots", "speech", "text", "faces"]
    assert set(report.skipped) == {"picture", "picture-image"}
    assert report.build_seconds > 0 and report.duration == pytest.approx(180)

    # every needle was measured on the built video, every query asked once
    assert len(report.plans) == 6 and all(p.measured for p in report.plans)
    ordered = sorted(report.plans, key=lambda p: p.start)
    assert all(b.start - a.end >= 5 for a, b in zip(ordered, ordered[1:], strict=False))
    asked = [p for p in report.plans if p.kind != "picture"]
    answered = [r for r in report.records if r.status == "ok"]
    needle_records = [r for r in answered if r.category != "absent"]
    assert [(r.category, r.question, r.windows) for r in needle_records] == [
        (p.kind, p.query, [(p.start, p.end)]) for p in asked]
    assert {r.category for r in report.records if r.status == "skipped"} == {
        "picture", "picture-image"}
    assert not report.failed
    absent = [r for r in report.records if r.category == "absent"]
    used = {p.needle for p in report.plans}
    unused = sum(p.needle not in used for p in SPEECH_NEEDLES + TEXT_NEEDLES) + sum(
        p.photo not in used for p in PICTURE_NEEDLES)
    assert len(absent) == len(ABSENT_QUERIES) + unused
    assert all(r.status == "ok" for r in absent)
    for record in answered:
        assert record.cost.seconds > 0 and len(record.predicted_windows) <= 5
        scores = [w[2] for w in record.predicted_windows]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= a < b <= report.duration + 0.5 for a, b, _ in record.predicted_windows)
        assert len(record.evidence) == len(record.predicted_windows)

    for row in report.scores["kinds"].values():
        assert all(0 <= row[key] <= 1 for key in ("R@1@0.5", "R@5@0.5", "mIoU"))
    assert 0 <= report.scores["absent"]["fp_rate"] <= 1
    assert set(report.scores["kinds"]) <= set(KINDS)
    assert report.scores["kinds"]["speech"]["R@5@0.5"] > 0
    assert len(report.sweep) == len(SWEEP)
    # the runner's own outputs are there too, with the same sweep
    results = json.loads((tmp_path / "search" / "results.json").read_text())
    assert results["sweep"] == report.sweep
    assert results["counts"]["samples"] == len(report.records)

    # a second run reuses the build and the index: only the searches run again
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(file=io.StringIO())) as progress:
        again = run_needle_bench(0.05, 6, seed=0, workdir=tmp_path, progress=progress)
    assert again.build_seconds is None and again.index_status == "unchanged"
    assert again.plans == report.plans
    assert [t.description for t in progress.tasks] == ["index haystack", "search"]
    assert all(t.finished for t in progress.tasks)
    assert progress.tasks[1].total == len(again.records)
