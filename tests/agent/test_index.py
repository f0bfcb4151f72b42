"""The tools read the index only through `VideoIndex`: a fake index serves them, and the
library keeps the protocol's signatures."""

from __future__ import annotations

import inspect
from datetime import datetime, timezone

import pytest

from vidseek.agent import VideoIndex, VideoTools
from vidseek.types import Evidence, Moment, Observation


class FakeIndex:
    """Canned moments and observations, and the calls the tools made."""

    def __init__(self, observations: list[Observation]) -> None:
        self.rows = observations
        self.searches: list[dict] = []
        self.reads: list[tuple[str, tuple[str, ...]]] = []

    def search(self, query=None, *, videos=None, kinds=None, k=10, image=None, threshold=None):
        self.searches.append({"query": query, "videos": videos, "k": k,
                              "threshold": threshold})
        evidence = [Evidence(channel="text", kind="speech", start=1.0, end=2.0, text="hello",
                             score=0.8)]
        return [Moment(video_id="v", path="v.mp4", start=1.0, end=2.0, score=0.8,
                       evidence=evidence)][:k]

    def observations(self, video, kinds=None):
        self.reads.append((video, tuple(kinds or ())))
        return [o for o in self.rows if kinds is None or o.kind in kinds]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from vidseek.synth import Script, ShotSpec, build

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    build(Script(width=160, height=96, fps=10.0, audio=False,
                 shots=[ShotSpec(duration=4, content="color", motion="static")]), path)
    return path


@pytest.fixture
def tools(clip):
    from vidseek.media import probe
    from vidseek.store import VideoRecord

    said = [Observation(video_id="v", start=s, end=s + 1, kind="speech", text=f"line {s}",
                        source="test") for s in (0.0, 2.0)]
    record = VideoRecord(id="v", paths=[str(clip)], info=probe(clip),
                         added_at=datetime.now(timezone.utc))
    return VideoTools(FakeIndex(said), record)


def test_a_fake_index_serves_the_tools(tools):
    assert isinstance(tools.index, VideoIndex)
    found = tools.call("search", {"query": "greeting", "k": 3}, max_frames=0)
    assert tools.index.searches == [{"query": "greeting", "videos": ["v"], "k": 3,
                                     "threshold": 0.0}]
    assert [m.start for m in found.moments] == [1.0] and "speech: hello" in found.text
    early = tools.call("transcript", {"end": 1.5}, max_frames=0)
    late = tools.call("transcript", {"start": 1.5}, max_frames=0)
    assert [o.text for o in early.observations] == ["line 0.0"]
    assert [o.text for o in late.observations] == ["line 2.0"]
    assert tools.index.reads == [("v", ("speech",))]  # read once, then cut by range
    frames = tools.call("overview", {"count": 2}, max_frames=4)
    assert len(frames.frames) == 2 and all(0 <= t <= 4 for t in frames.frame_times)


def test_the_library_keeps_the_protocol():
    from vidseek.library import Library

    assert issubclass(Library, VideoIndex)
    for name in ("search", "observations"):
        wanted = inspect.signature(getattr(VideoIndex, name)).parameters
        given = inspect.signature(getattr(Library, name)).parameters
        assert [(p.name, p.kind) for p in wanted.values()] == [
            (p.name, p.kind) for p in given.values()], name


def test_the_sounds_tool_lists_sound_events_in_a_range(clip):
    from vidseek.media import probe
    from vidseek.store import VideoRecord

    heard = [Observation(video_id="v", start=0.0, end=1.92, kind="sound", text="Applause",
                         source="yamnet:w8a8"),
             Observation(video_id="v", start=2.88, end=3.84, kind="sound", text="Dog",
                         source="yamnet:w8a8")]
    record = VideoRecord(id="v", paths=[str(clip)], info=probe(clip),
                         added_at=datetime.now(timezone.utc))
    tools = VideoTools(FakeIndex(heard), record)
    found = tools.call("sounds", {"start": 2.0, "end": 4.0}, max_frames=0)
    assert found.text == "[2.88-3.84] Dog"
    assert "No sound" in tools.call("sounds", {"start": 1.95, "end": 2.5}, max_frames=0).text
