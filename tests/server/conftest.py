"""A real server on 127.0.0.1 (uvicorn in a thread, on a free port) over a library that
indexed a short synthetic video with known speech, through the API's own indexing job."""

from __future__ import annotations

import shutil

import pytest
from server_helpers import SENTENCES, LiveServer, follow_job

from vidseek.library import Library
from vidseek.synth import Script, ShotSpec, SpeechSpec, build


@pytest.fixture(scope="session")
def spoken_video(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    script = Script(
        width=320, height=180, fps=10,
        shots=[ShotSpec(duration=6, content="color", color="#3366cc"),
               ShotSpec(duration=7, content="shapes"),
               ShotSpec(duration=7, content="gradient")],
        speech=[SpeechSpec(text=words, start=start) for start, words in SENTENCES],
    )
    path = tmp_path_factory.mktemp("server-media") / "harbour tour.mp4"
    truth = build(script, path)
    return path, truth


@pytest.fixture(scope="session")
def small_video(tmp_path_factory):
    """Four seconds, two shots, no audio: something to upload."""
    path = tmp_path_factory.mktemp("upload-media") / "clip.mp4"
    build(Script(width=160, height=96, fps=10, audio=False,
                 shots=[ShotSpec(duration=2, content="color"),
                        ShotSpec(duration=2, content="shapes")]), path)
    return path


@pytest.fixture(scope="session")
def served(spoken_video, tmp_path_factory):
    """(server, library, job events): the video was indexed by a job posted to the API."""
    from vidseek.server import create_app

    path, _ = spoken_video
    library = Library(tmp_path_factory.mktemp("server-library"), analyzers=["shots", "speech"])
    server = LiveServer(create_app(library))
    with server.client() as client:
        reply = client.post("/api/jobs", json={"paths": [str(path)]})
        assert reply.status_code == 202, reply.text
        events = follow_job(client, reply.json()["id"])
    yield server, library, events
    server.stop()
    library.close()
