"""Every interface keeps the same bounds on the work one request asks for (issue #23): a
query, a question and its options, k. The library refuses beyond them with a QueryError that
says the limit and what to do; the MCP tools and the command line pass that on clearly."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import anyio
import pytest

from vidseek.errors import QueryError
from vidseek.library import MAX_OPTION_CHARS, MAX_OPTIONS, MAX_QUESTION_CHARS, Library
from vidseek.search.searcher import MAX_K, MAX_QUERY_CHARS, check_query


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    with Library(tmp_path_factory.mktemp("limits")) as library:
        yield library


def test_a_question_and_an_option_fit_in_one_search():
    # the answerers search with the question, and with the question and each option
    assert MAX_QUESTION_CHARS + 1 + MAX_OPTION_CHARS <= MAX_QUERY_CHARS


def test_check_query():
    assert check_query("  words ") == "words"
    assert check_query("w" * MAX_QUERY_CHARS, MAX_K) == "w" * MAX_QUERY_CHARS
    assert check_query(None, image=True) == ""
    with pytest.raises(QueryError, match=f"at most {MAX_QUERY_CHARS} are searched"):
        check_query("w" * (MAX_QUERY_CHARS + 1))
    for k in (0, MAX_K + 1, 2.5, True):
        with pytest.raises(QueryError, match=f"from 1 to {MAX_K}"):
            check_query("words", k)
    with pytest.raises(QueryError, match="words to search for"):
        check_query("  ")


def test_the_library_refuses_beyond_the_limits_at_once(library):
    long_query = "the green bicycle " * 4000  # 72 KB: about half a minute of embedding
    began = time.perf_counter()
    with pytest.raises(QueryError, match=f"71999 characters long; at most {MAX_QUERY_CHARS}"):
        library.search(long_query)
    with pytest.raises(QueryError, match=f"from 1 to {MAX_K}"):
        library.search("bicycle", k=MAX_K + 1)
    with pytest.raises(QueryError, match=f"at most {MAX_QUESTION_CHARS} are answered"):
        library.ask("any video", "why " * 25_000)
    with pytest.raises(QueryError, match=f"at most {MAX_OPTIONS} are weighed"):
        library.ask("any video", "which?", options=[str(i) for i in range(MAX_OPTIONS + 1)])
    with pytest.raises(QueryError, match=f"at most {MAX_OPTION_CHARS} per option"):
        library.ask("any video", "which?", options=["yes", "n" * (MAX_OPTION_CHARS + 1)])
    assert time.perf_counter() - began < 15  # the embedder loads once; nothing is embedded


def _tool_errors(library, calls) -> list[str]:
    """The text of the tool error each ``(tool, arguments)`` call ends with."""
    from mcp.server.mcpserver.exceptions import ToolError

    from vidseek.mcp import create_server

    server = create_server(library)
    texts = []

    async def run() -> None:
        for name, arguments in calls:
            with pytest.raises(ToolError) as caught:
                await server.call_tool(name, arguments)
            texts.append(str(caught.value))

    anyio.run(run)
    return texts


def test_mcp_tools_say_why_a_call_is_refused(library):
    long_name = "v" * 300  # longer than a file name may be
    calls = [
        ("search_moments", {"query": "word " * 4000}),
        ("search_moments", {"query": "bicycle", "video": long_name}),
        ("search_moments", {"query": "bicycle", "kinds": ["k" * 5000]}),
        ("get_transcript", {"video": long_name}),
        ("inspect_frames", {"video": long_name}),
        ("ask", {"video": long_name, "question": "what?"}),
        ("ask", {"video": "x", "question": "why " * 25_000}),
        ("ask", {"video": "x", "question": "which?",
                 "options": [str(i) for i in range(MAX_OPTIONS + 1)]}),
        ("ask", {"video": "x", "question": "what?", "model": "m" * 5000}),
        ("get_transcript", {"video": "v" * 5000}),
    ]
    texts = _tool_errors(library, calls)
    assert f"at most {MAX_QUERY_CHARS} characters" in texts[0]
    for text in texts[1:2] + texts[3:6]:
        assert "no video in" in text and "call list_videos" in text, text
        assert "(300 characters)" in text and long_name not in text
    assert "at most 200 characters" in texts[2] and "k" * 300 not in texts[2]
    assert f"at most {MAX_QUESTION_CHARS} characters" in texts[6]
    assert f"at most {MAX_OPTIONS} items" in texts[7]
    assert "model" in texts[8] and "at most 4096 characters" in texts[8]
    assert "at most 4096 characters" in texts[9]
    for text in texts:
        assert "Error executing tool" in text and len(text) < 600, text


def test_cli_search_beyond_the_limit_is_one_line(library):
    done = subprocess.run(
        [sys.executable, "-m", "vidseek", "search", "w" * (MAX_QUERY_CHARS + 1), "--library",
         str(library.path)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 2, done.stderr  # a usage error, as for an empty query
    assert done.stdout == "" and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error:") and f"at most {MAX_QUERY_CHARS} are searched" in line
