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

    [video] = _json(out["videos"])
    assert video["name"] == "tour.mp4" and video["duration"] == pytest.approx(14.0)

    best = _json(out["search"])[0]
    assert best["video_id"] == video["id"] and 7 <= best["start"] <= 10
    assert "bicycle" in best["evidence"][0]["text"].lower()

    transcript = _json(out["transcript"])
    assert [round(s["start"]) for s in transcript] == pytest.approx([1, 8], abs=1)
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
    assert answer["found"] and answer["evidence"]
    assert any(e["start"] <= 10 and e["end"] >= 8 for e in answer["evidence"])

    assert out["unknown"].is_error and "nothing-like-this" in out["unknown"].content[0].text
