"""The REST API over real HTTP on 127.0.0.1: library, jobs, search, ask, range requests,
JSON errors, traversal attempts, tokens and the loopback guard."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from server_helpers import SENTENCES, LiveServer, follow_job

from vidseek.library import Library
from vidseek.server import BindError, check_bind, create_app

QUERY = "green bicycle parked beside the station"
VIDEO = {"content-type": "video/mp4"}  # an upload's type: anything else is a 415


@pytest.fixture(scope="module")
def client(served):
    server, _, _ = served
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def video_id(client):
    [video] = client.get("/api/videos").json()
    return video["id"]


def _sse(response) -> list[tuple[str, dict]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line.split(":", 1)[1])))
    return events


def test_indexing_job_streamed_its_progress(served, client, spoken_video):
    _, _, events = served
    path, _ = spoken_video
    assert events[0]["status"] in ("queued", "running")
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 1.0
    final = events[-1]
    assert final["status"] == "done" and final["error"] is None
    [result] = final["results"]
    assert result["status"] == "indexed" and result["analyzers"]["speech"] == len(SENTENCES)
    # the job can also be polled, and is listed
    assert client.get(f"/api/jobs/{final['id']}").json()["status"] == "done"
    assert [j["id"] for j in client.get("/api/jobs").json()] == [final["id"]]
    assert final["paths"] == [str(path.resolve())]


def test_lists_and_shows_videos(client, video_id, spoken_video):
    path, truth = spoken_video
    [video] = client.get("/api/videos").json()
    assert video["name"] == path.name and video["duration"] == pytest.approx(truth.duration)
    assert (video["width"], video["height"]) == (320, 180) and video["has_audio"]
    shown = client.get(f"/api/videos/{video_id[:6]}").json()  # an id prefix is enough
    assert shown["id"] == video_id and shown["paths"] == [str(path.resolve())]
    assert {k: shown[k] for k in video} == video and shown["info"]["video"]["width"] == 320
    assert shown["observations"] == {"shot": 3, "speech": 3}
    assert client.get("/api/health").json()["videos"] == 1


def test_observations_by_kind_and_range(client, video_id):
    speech = client.get(f"/api/videos/{video_id}/observations",
                        params={"kind": "speech"}).json()
    assert [round(o["start"]) for o in speech] == pytest.approx(
        [start for start, _ in SENTENCES], abs=1)
    assert "bicycle" in speech[1]["text"].lower() and "vector" not in speech[1]
    middle = client.get(f"/api/videos/{video_id}/observations",
                        params={"kind": ["speech", "shot"], "start": 7, "end": 12}).json()
    assert {o["kind"] for o in middle} == {"speech", "shot"}
    assert all(o["end"] >= 7 and o["start"] <= 12 for o in middle)


def test_search_finds_the_spoken_phrase(client, video_id):
    found = client.get("/api/search", params={"q": QUERY, "k": 5}).json()
    best = found["moments"][0]
    assert best["video_id"] == video_id and 7 <= best["start"] <= 10 < best["end"]
    assert best["evidence"][0]["kind"] == "speech"
    assert "bicycle" in best["evidence"][0]["text"].lower()
    picture = client.get(best["thumbnail_url"])
    assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"
    assert picture.headers["content-type"] == "image/jpeg"
    # only this video, only speech: the same moment; another kind: nothing
    again = client.get("/api/search", params={"q": QUERY, "video": video_id[:8],
                                              "kind": "speech"}).json()
    assert again["moments"][0]["start"] == best["start"]
    nothing = client.get("/api/search", params={"q": QUERY, "kind": "face"}).json()
    assert nothing["moments"] == [] and "only face was searched" in nothing["hints"][0]
    assert found["hints"] == []
    # a link that plays the moment: the file's URI and the server's media URL, at the moment
    at = f"#t={best['start']:.2f},{best['end']:.2f}"
    assert best["uri"] == Path(best["path"]).as_uri() + at and "%20" in best["uri"]
    assert best["play_url"] == best["media_url"] + at
    # the file name names the video, as GET /api/videos shows it
    named = client.get("/api/search", params={"q": QUERY, "video": "harbour tour.mp4",
                                              "kind": "speech,text"}).json()
    assert named["moments"][0]["start"] == best["start"]


def test_kinds_are_checked(client, video_id):
    for url in ("/api/search?q=bicycle&kind=speech&kind=speach",
                f"/api/videos/{video_id}/observations?kind=shots"):
        reply = client.get(url)
        assert reply.status_code == 422 and reply.json()["error"] == "unknown_kind", url
        assert "shot, speech, text" in reply.json()["detail"]


def test_videos_are_named_by_file_name(client, video_id):
    assert client.get("/api/videos/harbour tour.mp4").json()["id"] == video_id
    assert client.get("/api/videos/harbour tour/observations?kind=speech").status_code == 200
    unknown = client.get("/api/videos/other.mp4").json()
    assert unknown["error"] == "unknown_video" and "GET /api/videos" in unknown["detail"]
    assert "vidseek" not in unknown["detail"]


def test_thumbnail_at_a_time(client, video_id):
    reply = client.get(f"/api/videos/{video_id}/thumbnail", params={"t": 9.0, "size": 160})
    assert reply.status_code == 200
    assert float(reply.headers["x-frame-time"]) == pytest.approx(9.0, abs=0.1)
    late = client.get(f"/api/videos/{video_id}/thumbnail", params={"t": 999})
    assert late.status_code == 400 and late.json()["error"] == "bad_time"


def test_media_range_requests(client, video_id, spoken_video):
    path, _ = spoken_video
    data = path.read_bytes()
    url = f"/api/videos/{video_id}/media"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    head = client.get(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206 and head.content == data[:100]
    assert head.headers["content-range"] == f"bytes 0-99/{len(data)}"
    middle = client.get(url, headers={"Range": "bytes=1000-"})
    assert middle.status_code == 206 and middle.content == data[1000:]
    tail = client.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    beyond = client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_errors_are_clear_json(client, video_id):
    cases = [
        (client.get("/api/videos/0000000000000000"), 404, "unknown_video"),
        (client.get("/api/videos/not-an-id/media"), 404, "unknown_video"),
        (client.get("/api/jobs/nope"), 404, "unknown_job"),
        (client.get("/api/no-such-endpoint"), 404, "not_found"),
        (client.get("/api/search", params={"q": "  "}), 400, "bad_query"),
        (client.get("/api/search", params={"q": "x", "k": 0}), 422, "invalid_request"),
        (client.get("/api/search"), 422, "invalid_request"),
        (client.post("/api/jobs", json={"paths": ["/no/such/file.mp4"]}), 400,
         "nothing_to_index"),
        (client.post("/api/jobs", content=b"{not json", headers={
            "content-type": "application/json"}), 422, "invalid_request"),
        (client.delete("/api/videos"), 405, "method_not_allowed"),
    ]
    for reply, status, error in cases:
        assert reply.status_code == status, (reply.request.url, reply.text)
        body = reply.json()
        assert body["error"] == error and body["detail"], body
    assert "GET /api/videos" in cases[0][0].json()["detail"]  # says what to do


def _raw_get(url: str, target: str) -> int:
    """Status of a GET sent byte for byte (no client normalises the path)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
                     .encode())
        reply = sock.recv(65536).decode("latin-1")
    return int(reply.split()[1])


def test_traversal_attempts_are_refused(served, client, spoken_video):
    server, library, _ = served
    path, _ = spoken_video
    attempts = [
        "/api/videos/..%2F..%2F..%2Fetc%2Fpasswd/media",
        "/api/videos/%2Fetc%2Fpasswd/media",
        f"/api/videos/{quote(str(path), safe='')}/media",  # an indexed file, named by path
        f"/api/videos/{quote(str(path), safe='')}/thumbnail",
        "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/%2e%2e/app.py",
    ]
    for target in attempts:
        reply = client.get(target)
        assert reply.status_code == 404, (target, reply.status_code)
        assert b"root:" not in reply.content
    for target in ("/static/../../../../etc/passwd", "/static/../app.py",
                   "/api/videos/../../../etc/passwd/media"):
        assert _raw_get(server.url, target) in (400, 404), target


def test_the_page_and_the_openapi_docs_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<video" in page.text and "/static/app.js" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    spec = client.get("/openapi.json").json()
    for endpoint in ("/api/videos", "/api/videos/{video}/media", "/api/search", "/api/ask",
                     "/api/ask/stream", "/api/jobs", "/api/jobs/{job_id}/events",
                     "/api/uploads"):
        assert endpoint in spec["paths"], endpoint
    assert "swagger" in client.get("/docs").text.lower()


def test_ask_streams_the_trace_then_the_answer(client, video_id):
    question = {"video": video_id, "question": "What is parked beside the station?"}
    with client.stream("POST", "/api/ask/stream", json=question) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = _sse(reply)
    kinds = [name for name, _ in events]
    assert kinds[-1] == "answer" and kinds[:-1] and set(kinds[:-1]) == {"step"}
    steps = [data for name, data in events if name == "step"]
    assert [s["index"] for s in steps] == list(range(len(steps)))
    answer = events[-1][1]
    assert answer["video_id"] == video_id and answer["found"]
    assert any(m["start"] <= 10 and m["end"] >= 8 for m in answer["evidence"])
    # evidence moments look like search's: file name, link, media and thumbnail URLs
    first = answer["evidence"][0]
    assert first["name"] == "harbour tour.mp4" and "#t=" in first["link"]
    assert first["media_url"] == f"/api/videos/{video_id}/media"
    assert client.get(first["thumbnail_url"]).content[:2] == b"\xff\xd8"
    assert len(answer["trace"]) == len(steps)
    # the same answer without streaming
    plain = client.post("/api/ask", json=question).json()
    assert plain["text"] == answer["text"] and plain["evidence"] == answer["evidence"]


def test_ask_errors(client, video_id):
    unknown = client.post("/api/ask/stream", json={"video": "ffff0000", "question": "why?"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_video"
    with client.stream("POST", "/api/ask/stream", json={
            "video": video_id, "question": "which?", "options": ["only one"]}) as reply:
        [(name, data)] = _sse(reply)
    assert name == "error" and data["error"] == "bad_query" and "two" in data["detail"]
    empty = client.post("/api/ask", json={"video": video_id, "question": ""})
    assert empty.status_code == 422


# -- uploads -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    library = Library(tmp_path_factory.mktemp("upload-library"), analyzers=["shots"])
    server = LiveServer(create_app(library, upload_limit=400_000))
    yield server, library
    server.stop()
    library.close()


def test_upload_indexes_the_file(upload_server, small_video):
    server, library = upload_server
    with server.client() as client:
        reply = client.post("/api/uploads", params={"filename": "../../evil/holiday.mp4"},
                            content=small_video.read_bytes(), headers=VIDEO)
        assert reply.status_code == 202, reply.text
        body = reply.json()
        saved = Path(body["path"])
        # the name is kept, the folders are not: the file lands in the library's uploads
        assert saved == Path(library.path) / "uploads" / "holiday.mp4"
        assert saved.read_bytes() == small_video.read_bytes()
        events = follow_job(client, body["job"]["id"])
        assert events[-1]["status"] == "done", events[-1]
        [video] = client.get("/api/videos").json()
        assert video["name"] == "holiday.mp4"
        # the same name again does not overwrite the first
        again = client.post("/api/uploads", params={"filename": "holiday.mp4"},
                            content=small_video.read_bytes(), headers=VIDEO).json()
        assert Path(again["path"]).name == "holiday-2.mp4"
        follow_job(client, again["job"]["id"])


def test_upload_refusals(upload_server, small_video):
    server, library = upload_server
    with server.client() as client:
        big = client.post("/api/uploads", params={"filename": "big.mp4"},
                          content=b"\0" * 500_000, headers=VIDEO)
        assert big.status_code == 413 and big.json()["error"] == "upload_too_large"

        def chunks():  # no Content-Length: the limit is enforced while reading
            for _ in range(10):
                yield b"\0" * 50_000

        streamed = client.post("/api/uploads", params={"filename": "big2.mp4"},
                               content=chunks(), headers=VIDEO)
        assert streamed.status_code == 413
        assert not list((Path(library.path) / "uploads").glob("big*"))
        assert not list((Path(library.path) / "uploads").glob(".*.part"))
        text = client.post("/api/uploads", params={"filename": "notes.txt"}, content=b"hello",
                           headers=VIDEO)
        assert text.status_code == 400 and text.json()["error"] == "bad_filename"
        empty = client.post("/api/uploads", params={"filename": "empty.mp4"}, content=b"",
                            headers=VIDEO)
        assert empty.status_code == 400 and empty.json()["error"] == "empty_upload"
        broken = client.post("/api/uploads", params={"filename": "broken.mp4"},
                             content=b"not a video at all", headers=VIDEO)
        assert broken.status_code == 202
        [final] = follow_job(client, broken.json()["job"]["id"])[-1:]
        assert final["status"] == "failed" and "broken.mp4" in final["error"]
        assert final["removed"] == [broken.json()["path"]]  # deleted again


# -- security ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_server(served):
    _, library, _ = served
    server = LiveServer(create_app(library, token="s3cret token"))
    yield server
    server.stop()


def test_token_is_needed_on_every_request(token_server, video_id):
    with token_server.client() as anonymous:
        for target in ("/", "/api/videos", f"/api/videos/{video_id}/media", "/openapi.json",
                       "/static/app.js"):
            refused = anonymous.get(target)
            assert refused.status_code == 401, target
            assert refused.json()["error"] == "unauthorized"
            assert refused.headers["www-authenticate"].startswith("Bearer")
        wrong = anonymous.get("/api/videos", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    with token_server.client(headers={"Authorization": "Bearer s3cret token"}) as bearer:
        assert bearer.get("/api/videos").status_code == 200
    with token_server.client() as browser:
        # a ?token= (media elements cannot send headers) lets in, and sets a cookie
        ranged = browser.get(f"/api/videos/{video_id}/media", params={"token": "s3cret token"},
                             headers={"Range": "bytes=0-9"})
        assert ranged.status_code == 206 and len(ranged.content) == 10
        assert "HttpOnly" in ranged.headers["set-cookie"]
        assert browser.get("/api/videos").status_code == 200  # the cookie alone
    with token_server.client(cookies={"vidseek_token": "guess"}) as forged:
        assert forged.get("/api/videos").status_code == 401


def test_without_token_only_loopback_hosts_and_own_origin(served):
    server, _, _ = served
    with server.client() as client:
        rebound = client.get("/api/videos", headers={"Host": "evil.example:8765"})
        assert rebound.status_code == 403 and rebound.json()["error"] == "forbidden_host"
        assert client.get("/api/videos", headers={"Host": "localhost:1"}).status_code == 200
        cross = client.post("/api/jobs", json={"paths": ["/etc/passwd"]},
                            headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403 and cross.json()["error"] == "forbidden_origin"
        own = client.post("/api/jobs", json={"paths": ["/no/such.mp4"]},
                          headers={"Origin": server.url})
        assert own.status_code == 400  # let through; refused for its own reason


def test_binding_beyond_loopback_needs_a_token():
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_bind(host, None)
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.com"):
        with pytest.raises(BindError, match="--token"):
            check_bind(host, None)
        check_bind(host, "secret")


@pytest.mark.slow
def test_vidseek_serve_command(tmp_path):
    env = {**os.environ, "VIDSEEK_TOKEN": ""}
    refused = subprocess.run(
        [sys.executable, "-m", "vidseek", "serve", "--host", "0.0.0.0", "--library",
         str(tmp_path / "lib")], capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode == 1 and "--token" in refused.stderr
    assert "Traceback" not in refused.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "vidseek", "serve", "--port", str(port), "--library",
         str(tmp_path / "lib")], stderr=subprocess.PIPE, text=True,
        env={**env, "VIDSEEK_TOKEN": "tok"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/api/health",
                                  headers={"Authorization": "Bearer tok"}, timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert reply.json() == {"ok": True, "version": reply.json()["version"], "videos": 0}
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 401
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/?token=tok" in err
