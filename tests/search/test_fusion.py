"""Temporal fusion on hand-made hits: spans, merging, evidence, scores, NMS, threshold, k."""

from __future__ import annotations

import pytest

from vidseek.search.channels import Hit
from vidseek.search.fusion import EVIDENCE_FLOOR, frame_times, fuse
from vidseek.types import Observation


def hit(start, end, score, kind="speech", video="v1", channel="meaning", text="", data=None):
    obs = Observation(video_id=video, start=start, end=end, kind=kind, text=text or f"{kind}",
                      data=data or {}, source="test")
    h = Hit(obs, channel, "text", {})
    h.score = score
    return h


def run(hits, threshold=0.0, k=10):
    return fuse(hits, threshold=threshold, k=k, path_of=lambda vid: f"/videos/{vid}.mp4")


def test_a_moment_keeps_its_best_hit_span_and_score():
    moments = run([hit(10.0, 12.5, 0.9, text="the answer"), hit(30.0, 31.0, 0.2)])
    assert [(m.start, m.end, m.score) for m in moments] == [(10.0, 12.5, 0.9), (30.0, 31.0, 0.2)]
    assert moments[0].evidence[0].text == "the answer"
    assert moments[0].link == "/videos/v1.mp4#t=10.00,12.50"


def test_neighbouring_sentences_that_both_match_merge():
    moments = run([hit(10.0, 12.0, 0.9), hit(12.8, 15.0, 0.6), hit(15.9, 17.0, 0.5)])
    assert [(m.start, m.end) for m in moments] == [(10.0, 17.0)]  # a chain, gaps <= 1 s
    assert [e.score for e in moments[0].evidence] == [0.9, 0.6, 0.5]


@pytest.mark.parametrize(("neighbour", "merged"), [
    ((13.0, 14.0, 0.44), False),  # less than half the anchor's score
    ((13.0, 14.0, 0.45), True),   # exactly half
    ((13.01, 14.0, 0.8), False),  # 1.01 s after the anchor ends
    ((13.0, 14.0, 0.8), True),    # exactly 1 s after
])
def test_merge_rules_at_their_boundaries(neighbour, merged):
    moments = run([hit(10.0, 12.0, 0.9), hit(*neighbour)])
    assert (len(moments) == 1) is merged
    if merged:
        assert (moments[0].start, moments[0].end) == (10.0, 14.0)


def test_weak_neighbours_never_merge_even_with_a_weak_anchor():
    moments = run([hit(10.0, 12.0, 0.25), hit(12.5, 14.0, 0.2)])  # both below MERGE_FLOOR
    assert len(moments) == 2


def test_other_kinds_overlapping_become_evidence_without_moving_the_span():
    moments = run([hit(10.0, 12.0, 0.9), hit(5.0, 20.0, 0.5, kind="text", channel="words"),
                   hit(11.0, 11.5, EVIDENCE_FLOOR / 2, kind="visual")])
    assert [(m.start, m.end, m.score) for m in moments] == [(10.0, 12.0, 0.9)]
    assert [(e.kind, e.channel) for e in moments[0].evidence] == [("speech", "meaning"),
                                                                  ("text", "words")]


def test_threshold_k_and_order_across_videos():
    hits = [hit(1.0, 2.0, 0.3, video="a"), hit(5.0, 6.0, 0.8, video="b"),
            hit(9.0, 10.0, 0.6, video="a"), hit(20.0, 21.0, 0.55, video="b")]
    assert [(m.video_id, m.score) for m in run(hits)] == [("b", 0.8), ("a", 0.6), ("b", 0.55),
                                                          ("a", 0.3)]
    assert [m.score for m in run(hits, threshold=0.55)] == [0.8, 0.6, 0.55]  # >= threshold
    assert [m.score for m in run(hits, k=2)] == [0.8, 0.6]
    assert run(hits, threshold=0.81) == []


def test_hits_overlapping_a_better_moment_never_become_moments_of_their_own():
    # temporal NMS: the weaker speech hit inside the text's span is absorbed (as evidence)
    moments = run([hit(10.0, 20.0, 0.9, kind="text"), hit(15.0, 25.0, 0.7),
                   hit(24.0, 26.0, 0.6)])
    assert [(m.start, m.end, m.score) for m in moments] == [(10.0, 20.0, 0.9),
                                                            (24.0, 26.0, 0.6)]
    assert [e.kind for e in moments[0].evidence] == ["text", "speech"]


def test_nms_keeps_the_same_span_in_another_video():
    moments = run([hit(10.0, 20.0, 0.9, video="a"), hit(10.0, 20.0, 0.8, video="b")])
    assert [m.video_id for m in moments] == ["a", "b"]


def test_frame_times_come_from_what_the_observation_recorded():
    boxes = [[float(t), 0, 0, 10, 10] for t in range(20)]
    obs = Observation(video_id="v", start=0, end=20, kind="visual", text="cat", source="t",
                      data={"first_seen": 0.5, "last_seen": 19.0, "boxes": boxes})
    times = frame_times(obs)
    assert len(times) == 8 and times[0] == 0.0 and times[-1] == 19.0
    assert times == sorted(times)
    assert frame_times(Observation(video_id="v", start=0, end=1, kind="speech", source="t")) == []


def test_thumbnail_is_a_frame_the_anchor_was_seen_on():
    moment = run([hit(10.0, 20.0, 0.9, kind="image", data={"frame_time": 15.2})])[0]
    assert moment.thumbnail == 15.2
    assert run([hit(10.0, 12.0, 0.9)])[0].thumbnail == 11.0
