"""The server against misuse (issue #23): pages of other sites may only read, uploads are
videos only, never overwrite one another and never fail on a long name, uploads that cannot
be indexed are deleted again, queries and questions are bounded, and heavy requests beyond a
few at once are refused with 503 instead of piling up."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from server_helpers import LiveServer, follow_job

from vidseek.errors import QueryError
from vidseek.library import MAX_OPTION_CHARS, MAX_OPTIONS, MAX_QUESTION_CHARS, Library
from vidseek.search.searcher import MAX_QUERY_CHARS
from vidseek.server import create_app
from vidseek.server.indexing import MAX_NAME_CHARS

VIDEO = {"content-type": "video/mp4"}


@pytest.fixture(scope="module")
def hosted(small_video, tmp_path_factory):
    """(server, library, video id): a library that indexed the small video (shots only), served with
    one search and one answer at a time."""
    library = Library(tmp_path_factory.mktemp("hardening-library"), analyzers=["shots"])
    [result] = library.index([small_video]).results
    assert result.status == "indexed", result.errors
    server = LiveServer(create_app(library, upload_limit=400_000, max_searches=1, max_asks=1))
    yield server, library, result.video_id
    server.stop()
    library.close()


def _uploads(library) -> list[str]:
    folder = Path(library.path) / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- pages of other sites ------------------------------------------------------------------


def test_pages_of_other_sites_may_only_read(hosted, small_video):
    server, library, video_id = hosted
    foreign = [
        {"Origin": "null"},  # a sandboxed frame, a file:// page
        {"Origin": "http://evil.example"},
        {"Origin": f"http://localhost:{server.port + 1}"},  # another port is another origin
        {"Sec-Fetch-Site": "cross-site"},  # a browser that names the site but not the origin
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": server.url, "Sec-Fetch-Site": "cross-site"},
    ]
    data = small_video.read_bytes()
    with server.client() as client:
        jobs_before = client.get("/api/jobs").json()
        for headers in foreign:
            replies = [
                client.post("/api/uploads", params={"filename": "x.mp4"}, content=data,
                            headers={**VIDEO, **headers}),
                client.post("/api/jobs", json={"paths": [str(small_video)]}, headers=headers),
                client.post("/api/ask", json={"video": video_id, "question": "what?"},
                            headers=headers),
                client.post("/api/ask/stream", json={"video": video_id, "question": "what?"},
                            headers=headers),
            ]
            for reply in replies:
                assert reply.status_code == 403, (headers, reply.request.url, reply.text)
                body = reply.json()
                assert body["error"] == "forbidden_origin" and "only read" in body["detail"]
        assert "Origin: null" in client.post("/api/jobs", json={"paths": []}, headers={
            "Origin": "null"}).json()["detail"]
        # nothing was written, nothing was queued
        assert _uploads(library) == [] and client.get("/api/jobs").json() == jobs_before
        # reading stays open to them; the server's own page may write
        assert client.get("/api/videos", headers={"Origin": "null"}).status_code == 200
        own = client.post("/api/jobs", json={"paths": ["/no/such.mp4"]},
                          headers={"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
        assert own.status_code == 400 and own.json()["error"] == "nothing_to_index"


# -- uploads ---------------------------------------------------------------------------------


def test_uploads_are_accepted_only_as_video(hosted, small_video):
    server, library, _ = hosted
    data = small_video.read_bytes()
    with server.client() as client:
        for kind in ("text/plain", "application/x-www-form-urlencoded",
                     "multipart/form-data; boundary=x", "application/json", None):
            headers = {"content-type": kind} if kind else {}
            reply = client.post("/api/uploads", params={"filename": "typed.mp4"}, content=data,
                                headers=headers)
            assert reply.status_code == 415, (kind, reply.text)
            body = reply.json()
            assert body["error"] == "unsupported_media_type"
            assert "video/*" in body["detail"] and "curl -H" in body["detail"]
        assert _uploads(library) == []
        accepted = []
        for kind in ("video/mp4", "application/octet-stream", "Video/Quicktime; x=1"):
            reply = client.post("/api/uploads", params={"filename": "typed.mp4"}, content=data,
                                headers={"content-type": kind})
            assert reply.status_code == 202, (kind, reply.text)
            accepted.append(reply.json())
        for body in accepted:
            follow_job(client, body["job"]["id"])
    assert [Path(b["path"]).name for b in accepted] == ["typed.mp4", "typed-2.mp4",
                                                        "typed-3.mp4"]


def test_uploads_of_one_name_at_once_never_overwrite(hosted, small_video):
    server, library, _ = hosted
    data = small_video.read_bytes()
    first_started, go_on = threading.Event(), threading.Event()

    def held_back():  # the first upload stays half-sent while the second one completes
        yield data[:1000]
        first_started.set()
        assert go_on.wait(30)
        yield data[1000:]

    replies: dict[str, httpx.Response] = {}

    def send(key, content) -> None:
        with server.client() as client:
            replies[key] = client.post("/api/uploads", params={"filename": "same.mp4"},
                                       content=content, headers=VIDEO)

    slow = threading.Thread(target=send, args=("slow", held_back()))
    slow.start()
    assert first_started.wait(30)
    time.sleep(0.3)  # the server is reading the first body
    send("fast", data)
    go_on.set()
    slow.join(30)
    assert {k: r.status_code for k, r in replies.items()} == {"slow": 202, "fast": 202}
    paths = {k: Path(r.json()["path"]) for k, r in replies.items()}
    assert paths["fast"].name == "same.mp4" and paths["slow"].name == "same-2.mp4"
    assert all(p.read_bytes() == data for p in paths.values())
    assert not list((Path(library.path) / "uploads").glob(".*.part"))
    with server.client() as client:
        for reply in replies.values():
            follow_job(client, reply.json()["job"]["id"])


def test_long_upload_names_are_shortened(hosted, small_video):
    server, library, _ = hosted
    data = small_video.read_bytes()
    saved = []
    with server.client() as client:
        for length in (250, 280, 300, 300, 2000):
            name = "talk " + "x" * (length - 9) + ".MP4"
            reply = client.post("/api/uploads", params={"filename": name}, content=data,
                                headers=VIDEO)
            assert reply.status_code == 202, (length, reply.text)
            saved.append(Path(reply.json()["path"]))
            follow_job(client, reply.json()["job"]["id"])
        too_long = client.post("/api/uploads", params={"filename": "y" * 3000}, content=data,
                               headers=VIDEO)
        assert too_long.status_code == 400 and too_long.json()["error"] == "bad_filename"
        assert len(too_long.json()["detail"]) < 300
    assert len(set(saved)) == len(saved)
    for path in saved:
        assert path.exists() and path.suffix == ".MP4" and path.name.startswith("talk xxx")
        assert len(path.name) <= MAX_NAME_CHARS + len("-99")


def test_uploads_that_cannot_be_indexed_are_deleted(hosted, small_video):
    server, library, _ = hosted
    with server.client() as client:
        broken = client.post("/api/uploads", params={"filename": "broken.mp4"},
                             content=b"not a video at all", headers=VIDEO)
        assert broken.status_code == 202
        final = follow_job(client, broken.json()["job"]["id"])[-1]
        path = broken.json()["path"]
        assert final["status"] == "failed" and final["removed"] == [path]
        assert "broken.mp4" in final["error"] and "deleted" in final["error"]
        assert not Path(path).exists()
        # a job of paths on the server never deletes them, indexed or not
        kept = Path(library.path).parent / "kept-broken.mp4"
        kept.write_bytes(b"not a video either")
        job = client.post("/api/jobs", json={"paths": [str(kept)]}).json()
        final = follow_job(client, job["id"])[-1]
        assert final["status"] == "failed" and final["removed"] == [] and kept.exists()
        # an upload that was indexed stays
        good = client.post("/api/uploads", params={"filename": "good.mp4"},
                           content=small_video.read_bytes(), headers=VIDEO).json()
        final = follow_job(client, good["job"]["id"])[-1]
        assert final["status"] == "done" and final["removed"] == []
        assert Path(good["path"]).exists()


# -- bounded work ----------------------------------------------------------------------------


def test_queries_and_questions_beyond_the_limits_are_refused_at_once(hosted):
    server, _, video_id = hosted
    ask = {"video": video_id, "question": "what is shown?"}
    with server.client() as client:
        cases = [
            (lambda: client.get("/api/search", params={"q": "bicycle " * 7000}), "query.q"),
            (lambda: client.get("/api/search", params={"q": "b" * (MAX_QUERY_CHARS + 1)}),
             "query.q"),
            (lambda: client.get("/api/search", params={"q": "bicycle", "k": 100_000}),
             "query.k"),
            (lambda: client.post("/api/ask", json={**ask, "question": "why " * 25_000}),
             "body.question"),
            (lambda: client.post("/api/ask/stream", json={
                **ask, "question": "w" * (MAX_QUESTION_CHARS + 1)}), "body.question"),
            (lambda: client.post("/api/ask", json={
                **ask, "options": [f"option {i}" for i in range(MAX_OPTIONS + 1)]}),
             "body.options"),
            (lambda: client.post("/api/ask", json={
                **ask, "options": ["yes", "n" * (MAX_OPTION_CHARS + 1)]}), "body.options.1"),
            (lambda: client.post("/api/ask", json={**ask, "model": "x" * 5000}), "body.model"),
            (lambda: client.post("/api/ask", json={**ask, "video": "v" * 5000}), "body.video"),
        ]
        for send, field in cases:
            began = time.perf_counter()
            reply = send()
            seconds = time.perf_counter() - began
            assert reply.status_code == 422, (field, reply.text)
            body = reply.json()
            assert body["error"] == "invalid_request" and body["detail"].startswith(field)
            assert "at most" in body["detail"] or "less than" in body["detail"], body
            assert seconds < 2, (field, seconds)  # refused before any work
        # a long name that is no video is a plain 404, never a 500
        unknown = client.post("/api/ask", json={**ask, "video": "v" * 300})
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_video"


def test_malformed_model_specs_are_client_errors(hosted):
    server, _, video_id = hosted
    with server.client() as client:
        for spec in ("openai:http://[bad#m", "openai:http://exa mple.com/v1#m",
                     "openai:http://localhost:99999/v1#m", "openai:ht!tp://x#m",
                     "openai:http:///v1#m", "nope:x"):
            reply = client.post("/api/ask", json={"video": video_id, "question": "what?",
                                                  "model": spec})
            assert 400 <= reply.status_code < 500, (spec, reply.text)
            assert reply.json()["error"] in ("model_unavailable", "bad_request"), reply.text


def test_heavy_requests_beyond_the_slots_are_refused_with_503(hosted, monkeypatch):
    server, library, video_id = hosted
    started, release = threading.Event(), threading.Event()

    def slow_search(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return []

    def slow_ask(*args, **kwargs):
        started.set()
        assert release.wait(30)
        raise QueryError("stopped by the test")

    monkeypatch.setattr(library, "search", slow_search)
    monkeypatch.setattr(library, "ask", slow_ask)
    with server.client() as client:
        first = threading.Thread(target=lambda: client.get("/api/search", params={"q": "a"}))
        first.start()
        assert started.wait(30)
        busy = client.get("/api/search", params={"q": "b"})
        assert busy.status_code == 503 and busy.json()["error"] == "busy"
        assert int(busy.headers["retry-after"]) >= 1 and "try again" in busy.json()["detail"]
        release.set()
        first.join(30)
        assert client.get("/api/search", params={"q": "c"}).status_code == 200  # freed

        started.clear()
        release.clear()
        monkeypatch.setattr(library, "search", lambda *args, **kwargs: [])
        question = {"video": video_id, "question": "what?"}
        with client.stream("POST", "/api/ask/stream", json=question) as streaming:
            assert streaming.status_code == 200
            assert started.wait(30)
            for endpoint in ("/api/ask", "/api/ask/stream"):
                busy = client.post(endpoint, json=question)
                assert busy.status_code == 503 and busy.headers["retry-after"], endpoint
            # searches have slots of their own
            assert client.get("/api/search", params={"q": "d"}).status_code == 200
            release.set()
            assert "event: error" in streaming.read().decode()
        freed = client.post("/api/ask", json=question)  # the streamed answer gave its slot back
        assert freed.status_code == 400 and freed.json()["detail"] == "stopped by the test"
