"""The JSON views that the command line, the REST API and the MCP tools share."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from vidseek import views
from vidseek.media import AudioStreamInfo, MediaInfo, VideoStreamInfo
from vidseek.store import VideoRecord
from vidseek.types import Answer, Cost, Evidence, Moment, Observation, Step

VIDEO_ID = "ab12" * 8


def _record() -> VideoRecord:
    stream = VideoStreamInfo(index=0, codec="h264", width=640, height=360, display_width=360,
                             display_height=640, rotation=90, fps=25.0,
                             variable_frame_rate=False, frame_count=250, start=0.0,
                             duration=10.0)
    info = MediaInfo(path="/new/talk.mp4", size_bytes=1000, container="mov,mp4", duration=10.0,
                     start_time=0.0, video=stream,
                     audio=[AudioStreamInfo(index=1, codec="aac", sample_rate=48000,
                                            channels=2, start=0.0)])
    return VideoRecord(id=VIDEO_ID, paths=["/old/talk.mp4", "/new/talk.mp4"], info=info,
                       added_at=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))


def _moment(start: float = 2.0) -> Moment:
    return Moment(video_id=VIDEO_ID, path="/new/talk.mp4", start=start, end=start + 3.5,
                  score=0.8, thumbnail=3.0,
                  evidence=[Evidence(channel="words", kind="speech", start=start,
                                     end=start + 2, text="a green bicycle", score=0.8)])


def test_video_summary_detail_and_urls():
    record = _record()
    plain = views.video(record)
    assert plain == {"id": VIDEO_ID, "name": "talk.mp4", "path": "/new/talk.mp4",
                     "duration": 10.0, "width": 360, "height": 640, "fps": 25.0,
                     "has_audio": True, "added_at": "2024-05-01T12:00:00+00:00"}
    served = views.video(record, detail=True, api="/api")
    assert served["media_url"] == f"/api/videos/{VIDEO_ID}/media"
    assert served["thumbnail_url"] == f"/api/videos/{VIDEO_ID}/thumbnail?t=5.000"
    # the detail holds every field of the record itself
    dumped = record.model_dump(mode="json")
    assert {k: served[k] for k in ("id", "paths", "info")} == {
        k: dumped[k] for k in ("id", "paths", "info")}
    assert json.loads(json.dumps(served)) == served


def test_observation_leaves_out_vectors():
    found = Observation(video_id=VIDEO_ID, start=1.0, end=2.0, kind="visual", text="",
                        vector=[0.1] * 4, vectors={"clip:x": [0.2] * 4},
                        data={"frame_time": 1.5}, source="clip:x")
    view = views.observation(found)
    assert "vector" not in view and "vectors" not in view
    assert view["data"] == {"frame_time": 1.5} and view["source"] == "clip:x"


def test_moment_has_its_evidence_link_and_urls():
    view = views.moment(_moment())
    assert view["link"] == "/new/talk.mp4#t=2.00,5.50" and view["name"] == "talk.mp4"
    assert view["evidence"][0] == {"channel": "words", "kind": "speech", "start": 2.0,
                                   "end": 4.0, "text": "a green bicycle", "score": 0.8,
                                   "frame_times": []}
    assert "media_url" not in view
    served = views.moment(_moment(), api="/api")
    assert served["thumbnail_url"] == f"/api/videos/{VIDEO_ID}/thumbnail?t=3.000"
    assert served["media_url"] == f"/api/videos/{VIDEO_ID}/media"


def test_answer_evidence_is_moment_views():
    answer = Answer(question="What is parked?", video_id=VIDEO_ID, path="/new/talk.mp4",
                    text="A green bicycle.", confidence=0.7, evidence=[_moment(), _moment(6.0)],
                    trace=[Step(index=0, kind="tool", tool="search")],
                    cost=Cost(model_calls=1), notes=["no vision model"])
    view = views.answer(answer, api="/api")
    assert view["text"] == "A green bicycle." and view["found"] is True
    assert view["evidence"] == [views.moment(m, api="/api") for m in answer.evidence]
    assert view["trace"][0]["tool"] == "search" and view["cost"]["model_calls"] == 1
    short = views.answer(answer, trace=False)
    assert "trace" not in short and short["evidence"][1]["link"].endswith("#t=6.00,9.50")
    assert json.loads(json.dumps(view)) == view


def test_video_from_its_json_form_is_the_same():
    """The read cache of `vidseek list` keeps records as JSON; their views are identical."""
    record = _record()
    row = {**record.model_dump(mode="json"), "added_at": record.added_at.isoformat()}
    assert views.video(row, detail=True, api="/api") == views.video(record, detail=True,
                                                                    api="/api")


def test_moment_uri_and_play_url():
    view = views.moment(_moment(), api="/api")
    assert view["uri"] == "file:///new/talk.mp4#t=2.00,5.50"
    assert view["play_url"] == f"/api/videos/{VIDEO_ID}/media#t=2.00,5.50"
    spaced = _moment().model_copy(update={"path": "/a b/talk #1.mp4"})
    assert views.moment(spaced)["uri"] == "file:///a%20b/talk%20%231.mp4#t=2.00,5.50"


def test_kinds_repeated_comma_separated_and_checked():
    import pytest

    from vidseek.errors import QueryError
    from vidseek.kinds import KINDS

    assert views.kinds(None) is None and views.kinds([]) is None
    assert views.kinds(["speech,text", " face ", "speech"]) == ["speech", "text", "face"]
    assert views.kinds("Sound") == ["sound"]
    assert "sound" in KINDS
    with pytest.raises(QueryError, match=r"unknown kind 'speach' \(did you mean 'speech'\?\)"):
        views.kinds(["speach"])
    with pytest.raises(QueryError, match=", ".join(KINDS)):
        views.kinds("speech,xyz")
