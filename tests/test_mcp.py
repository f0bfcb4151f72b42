"""The MCP server as an agent meets it: the official client SDK launches `vidseek mcp` over
stdio and calls every tool on a library that indexed a short video with known speech."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import sys

import anyio
import pytest

from vidseek.library import Library
from vidseek.synth import Script, ShotSpec, SpeechSpec, build

pytestmark = pytest.mark.slow

SPOKEN = (1.0, "Welcome to the harbour tour this morning."), \
    (8.0, "A green bicycle is parked beside the station.")


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("mcp")
    script = Script(width=320, height=180, fps=10,
                    shots=[ShotSpec(duration=6, content="color", color="#cc3333"),
                           ShotSpec(duration=8, content="color", color="#33cc33")],
                    speech=[SpeechSpec(text=words, start=at) for at, words in SPOKEN])
    build(script, folder / "tour.mp4")
    with Library(folder / "library", analyzers=["shots", "speech"]) as library:
        [result] = library.index([folder / "tour.mp4"]).results
        assert result.status == "indexed", result.errors
    return folder / "library"


def _call_all(library_dir) -> dict:
    """Start the server, call each tool, and return what came back."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "vidseek", "mcp", "--library", str(library_dir)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"})

    async def run() -> dict:
        out: dict = {}
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            out["init"] = await session.initialize()
            out["tools"] = (await session.list_tools()).tools

            async def call(name, **arguments):
                return await session.call_tool(name, arguments, allow_input_required=False)

            out["videos"] = await call("list_videos")
            video = out["videos"].structured_content["result"][0]["id"]
            out["search"] = await call("search_moments", query="green bicycle beside the station")
            out["transcript"] = await call("get_transcript", video=video)
            out["late"] = await call("get_transcript", video=video, start=6.0)
            out["frames"] = await call("inspect_frames", video=video, start=4.0, end=8.0,
                                       count=2, size=128)
            out["exact"] = await call("inspect_frames", video=video, times=[7.0, 2.5])
            out["outside"] = await call("inspect_frames", video=video, times=[99.0])
            out["ask"] = await call("ask", video=video, question="What is parked at the station?")
            out["unknown"] = await call("get_transcript", video="nothing-like-this")
            # the name list_videos gives works in every tool
            name = out["videos"].structured_content["result"][0]["name"]
            out["by_name"] = await call("get_transcript", video=name)
            out["frames_by_name"] = await call("inspect_frames", video=name, times=[2.5])
            out["ask_by_name"] = await call("ask", video=name, question="What is parked?")
            out["search_in"] = await call("search_moments", query="harbour tour", video=name,
                                          kinds=["speech,text"])
            out["bad_kind"] = await call("search_moments", query="bicycle", kinds=["speach"])
            out["empty"] = await call("search_moments", query="  ")
            out["nothing"] = await call("search_moments", query="green bicycle", kinds=["sound"])
        return out

    return anyio.run(run)


def _json(result):
    """A tool's structured result; lists arrive wrapped as ``{"result": [...]}``, and as one
    JSON text block per item for clients that read text only."""
    assert not result.is_error, result.content
    found = result.structured_content
    if isinstance(found, dict) and set(found) == {"result"}:
        found = found["result"]
        assert [json.loads(c.text) for c in result.content] == found
    return found


def test_mcp_tools_over_stdio(library_dir):
    from PIL import Image

    out = _call_all(library_dir)
    assert out["init"].server_info.name == "vidseek"
    names = {tool.name for tool in out["tools"]}
    assert names >= {"search_moments", "get_transcript", "inspect_frames", "ask", "list_videos"}

    # videos, moments and answers as the REST API and `--json` give them (vidseek.views)
    [video] = _json(out["videos"])
    assert video["name"] == "tour.mp4" and video["duration"] == pytest.approx(14.0)
    assert video["has_audio"] and (video["width"], video["height"], video["fps"]) == (
        320, 180, pytest.approx(10.0))

    found = _json(out["search"])
    assert found["hints"] == []
    best = found["moments"][0]
    assert best["video_id"] == video["id"] and 7 <= best["start"] <= 10
    assert "bicycle" in best["evidence"][0]["text"].lower()
    assert best["evidence"][0]["channel"] and best["name"] == "tour.mp4"
    assert best["link"] == f"{video['path']}#t={best['start']:.2f},{best['end']:.2f}"
    assert best["uri"] == f"file://{video['path']}#t={best['start']:.2f},{best['end']:.2f}"

    transcript = _json(out["transcript"])
    assert [round(s["start"]) for s in transcript] == pytest.approx([1, 8], abs=1)
    assert transcript[1]["uri"] == (f"file://{video['path']}#t={transcript[1]['start']:.2f},"
                                    f"{transcript[1]['end']:.2f}")
    assert [s["text"] for s in _json(out["late"])] == [transcript[1]["text"]]

    # pictures with their times: text then image, per frame, in time order
    content = out["frames"].content
    assert [c.type for c in content] == ["text", "image"] * 2
    assert "frame at 5.0" in content[0].text and "frame at 7.0" in content[2].text
    picture = Image.open(io.BytesIO(base64.b64decode(content[1].data)))
    assert content[1].mime_type == "image/jpeg" and max(picture.size) == 128
    # the first shot is red, the second green: the frames show the right moments
    red, green, _ = picture.convert("RGB").getpixel((picture.size[0] // 2, 10))
    assert red > green
    exact = out["exact"].content
    assert "frame at 2.5" in exact[0].text and "frame at 7.0" in exact[2].text
    assert out["outside"].is_error and "outside the video" in out["outside"].content[0].text

    answer = _json(out["ask"])
    assert answer["found"] and answer["text"] and answer["evidence"]
    assert answer["video_id"] == video["id"] and "trace" not in answer  # the answer, not steps
    assert any(e["start"] <= 10 and e["end"] >= 8 for e in answer["evidence"])
    assert "bicycle" in " ".join(ev["text"] for e in answer["evidence"]
                                 for ev in e["evidence"]).lower()
    assert answer["cost"]["model_calls"] == 0 and answer["model"] == "embedded"

    unknown = out["unknown"].content[0].text
    assert out["unknown"].is_error and "nothing-like-this" in unknown
    assert "list_videos" in unknown and "vidseek" not in unknown.replace("/vidseek", "")

    assert _json(out["by_name"]) == transcript
    assert "frame at 2.5" in out["frames_by_name"].content[0].text
    assert _json(out["ask_by_name"])["video_id"] == video["id"]
    assert {m["video_id"] for m in _json(out["search_in"])["moments"]} == {video["id"]}
    nothing = _json(out["nothing"])  # says why, as the CLI and REST do
    assert nothing["moments"] == [] and nothing["hints"][0].startswith("only sound was searched")
    bad = out["bad_kind"].content[0].text
    assert out["bad_kind"].is_error and "did you mean 'speech'" in bad and "sound" in bad
    empty = out["empty"].content[0].text
    assert out["empty"].is_error and "query is empty" in empty and "--" not in empty
