"""A tiny video that indexing reads in a second or two (three shots, four texts, no audio),
the analyzers the store tests index it with, and their models loaded once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tiny_library import ANALYZERS, Holder

from vidseek.synth import Script, ShotSpec, TextSpec, build


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> Path:
    script = Script(width=480, height=270, fps=10.0, audio=False, seed=5, shots=[
        ShotSpec(duration=5.0), ShotSpec(duration=6.0, color="#204060"),
        ShotSpec(duration=5.0, color="#603020")],
        texts=[TextSpec(text="GATE SEVEN BOARDING", start=0.5, end=3.0, size=0.1),
               TextSpec(text="BLUE HARBOR CAFE", start=4.0, end=7.0, size=0.1, position="top"),
               TextSpec(text="NORTH TOWER EXIT", start=8.0, end=11.0, size=0.1),
               TextSpec(text="PLATFORM NINE", start=12.0, end=15.0, size=0.1, position="top")])
    path = tmp_path_factory.mktemp("tiny") / "tiny.mp4"
    build(script, path)
    return path


class _RememberingReader:
    """An OCR reader that reads each distinct picture once: the indexes these tests repeat
    read the same frames many times."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.seen: dict[str, list] = {}

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def read(self, image):
        key = hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest() + str(image.shape)
        if key not in self.seen:
            self.seen[key] = self.reader.read(image)
        return self.seen[key]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """The models of :data:`ANALYZERS`, loaded once for every library the tests make."""
    from vidseek.library import Library

    with Library(tmp_path_factory.mktemp("models-library"), analyzers=ANALYZERS) as library:
        loaded = library.loaded
    text = loaded.analyzer("text")
    text.reader = _RememberingReader(text.reader)
    return loaded


@pytest.fixture
def holder():
    """Start a :class:`Holder` on a library: ``holder(path)``; stopped after the test."""
    started: list[Holder] = []

    def start(library: Path) -> Holder:
        started.append(Holder(library))
        return started[-1]

    yield start
    for h in started:
        if h.proc.poll() is None:
            h.kill()
