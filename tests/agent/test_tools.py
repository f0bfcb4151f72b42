"""The tools over an indexed fact video: schemas, ranges, frames with their times, zoom."""

from __future__ import annotations

import jsonschema
import pytest

from vidseek.agent import TOOL_NAMES, ToolError, VideoTools

pytestmark = pytest.mark.slow  # the shared fixture indexes a fact video once


@pytest.fixture(scope="module")
def tools(facts):
    return VideoTools(facts.library, facts.library.video(facts.path))


def test_every_tool_has_a_valid_schema_that_names_it(tools):
    schemas = tools.schemas()
    assert [s["function"]["name"] for s in schemas] == list(TOOL_NAMES)
    for schema in schemas:
        assert schema["type"] == "function" and schema["function"]["description"]
        jsonschema.Draft202012Validator.check_schema(schema["function"]["parameters"])


def test_the_transcript_of_a_range_holds_what_was_said_there_with_times(tools, facts):
    said = next(q for q in facts.questions if q.kind == "speech")
    result = tools.call("transcript", {"start": said.start, "end": said.end}, max_frames=0)
    assert result.observations and all(o.kind == "speech" for o in result.observations)
    assert all(o.end >= said.start and o.start <= said.end for o in result.observations)
    everything = facts.library.observations(facts.path, kinds=["speech"])
    inside = [o for o in everything if o.end >= said.start and o.start <= said.end]
    assert result.observations == inside and len(inside) < len(everything)
    for o in inside:
        assert f"[{o.start:.2f}-{o.end:.2f}] {o.text}" in result.text
    assert tools.call("transcript", {"start": 0.0, "end": 0.5}, max_frames=0).text.startswith(
        "Nothing was said")


def test_screen_text_reads_the_signs(tools, facts):
    shown = [q for q in facts.questions if q.kind == "text"]
    text = tools.call("screen_text", {}, max_frames=0).text
    assert all(q.fact in text for q in shown)


def test_inspect_returns_frames_inside_the_range_labelled_with_their_times(tools):
    result = tools.call("inspect", {"start": 10.0, "end": 14.0, "count": 4}, max_frames=32)
    assert len(result.frames) == 4 and all(10.0 <= t <= 14.0 for t in result.frame_times)
    assert result.frame_times == sorted(result.frame_times) and result.frames_decoded >= 4
    by_rate = tools.call("inspect", {"start": 10.0, "end": 12.0, "fps": 2}, max_frames=32)
    assert len(by_rate.frames) == 5
    whole = result.frames[0].image
    zoomed = tools.call("inspect", {"start": 10.0, "end": 14.0, "count": 1,
                                    "region": [0.5, 0.5, 1.0, 1.0]}, max_frames=32)
    height, width = zoomed.frames[0].image.shape[:2]
    video = tools.video.info.video
    assert (width, height) == (video.display_width // 2, video.display_height // 2)
    assert max(whole.shape[:2]) <= 512


def test_frame_tools_respect_the_frames_left(tools):
    assert len(tools.call("overview", {"count": 10}, max_frames=3).frames) == 3
    with pytest.raises(ToolError, match="frame budget is spent"):
        tools.call("overview", {}, max_frames=0)


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("zoom", {}, "unknown tool 'zoom'"),
    ("inspect", {"start": 5, "end": 5}, "is empty"),
    ("inspect", {"start": 1, "end": 3, "region": [0.5, 0, 0.2, 1]}, "left < right"),
    ("transcript", {"speaker": "me"}, "not speaker"),
    ("search", {"query": "  "}, "must not be empty"),
    ("search", {"query": "code", "kinds": ["txt"]}, "did you mean 'text'"),
    ("overview", {"count": "many"}, "whole numbers"),
])
def test_bad_arguments_get_errors_the_model_can_act_on(tools, name, arguments, message):
    with pytest.raises(ToolError, match=message):
        tools.call(name, arguments, max_frames=8)


def test_search_is_limited_to_this_video_and_shows_scores(tools, facts):
    shown = next(q for q in facts.questions if q.kind == "text")
    result = tools.call("search", {"query": shown.fact, "k": 2}, max_frames=0)
    assert result.moments and all(m.video_id == tools.video.id for m in result.moments)
    assert "(score " in result.text and shown.fact in result.text
    said = tools.call("search", {"query": shown.fact, "kinds": ["speech"]}, max_frames=0)
    assert said.moments and all(e.kind == "speech" for m in said.moments for e in m.evidence)
    with pytest.raises(ToolError, match="characters"):  # the model is told, the ask goes on
        tools.call("search", {"query": "word " * 1000}, max_frames=0)
