"""A file that changes while it is indexed (cut short by a copy still running, rewritten)
fails with the reason, and nothing read after the change is committed; indexed again once
complete, it is indexed in full. Before: the text read up to the cut was committed as the
whole video's, and indexing the restored file again said "unchanged"."""

from __future__ import annotations

from collections import Counter

import pytest
from tiny_library import content, open_library

from vidseek.indexing import pipeline


@pytest.fixture
def clean(tiny_video, tiny_models, tmp_path):
    with open_library(tmp_path / "clean", tiny_models) as library:
        library.index([tiny_video])
        return content(library)


@pytest.mark.parametrize("change", ["cut", "rewritten"])
def test_a_file_changed_while_indexed_fails_and_indexes_fully_later(
        tiny_video, tiny_models, tmp_path, monkeypatch, clean, change):
    video = tmp_path / "copying.mp4"
    data = tiny_video.read_bytes()
    video.write_bytes(data)
    emits: Counter = Counter()
    emit = pipeline._Video.emit

    def changing(self, name, observations):
        emits[name] += 1
        if name == "text" and emits[name] == 3:  # a few frames in
            if change == "cut":
                with open(video, "r+b") as f:
                    f.truncate(len(data) * 2 // 5)
            else:  # the same bytes written again: another file now, whatever it holds
                video.write_bytes(data)
        return emit(self, name, observations)

    monkeypatch.setattr(pipeline._Video, "emit", changing)
    with open_library(tmp_path / "lib", tiny_models) as library:
        [result] = library.index([video]).results
        assert result.status == "failed"
        assert "changed while it was being indexed" in result.errors["file"]
        assert "index it again once the file is complete" in result.errors["file"]
        assert "text" in result.errors
        assert library.store.count_observations(kinds=["text"]) == 0  # nothing half-read
        assert library.store._obs.count_rows("kind = 'text'") == 0  # not even hidden

        monkeypatch.setattr(pipeline._Video, "emit", emit)
        video.write_bytes(data)  # complete again
        [again] = library.index([video]).results
        assert again.status == "indexed" and again.analyzers["text"] == 4, again
        assert content(library) == clean
