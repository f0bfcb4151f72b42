"""The command line, run as a user runs it (a subprocess), on a generated video."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def vidseek(*args, check=True, cwd=None):
    result = subprocess.run([sys.executable, "-m", "vidseek", *map(str, args)],
                            capture_output=True, text=True, timeout=300, cwd=cwd)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "sample.mp4"
    vidseek("synth", path, "--seconds", 30, "--seed", 5, "--width", 320, "--height", 180)
    return path


def test_synth_writes_video_and_truth(sample):
    truth = json.loads(sample.with_name("sample.truth.json").read_text())
    assert truth["duration"] == pytest.approx(30, abs=0.1)
    assert truth["shots"]


def test_probe_json(sample):
    info = json.loads(vidseek("probe", sample, "--json").stdout)
    assert info["video"]["width"] == 320
    assert info["duration"] == pytest.approx(30, abs=0.1)


def test_shots_json_match_truth(sample):
    shots = json.loads(vidseek("shots", sample, "--json").stdout)
    truth = json.loads(sample.with_name("sample.truth.json").read_text())
    assert len(shots) == len(truth["shots"])
    assert shots[-1]["end"] == pytest.approx(truth["duration"], abs=0.1)


def test_shots_table(sample):
    out = vidseek("shots", sample).stdout
    assert "0:00.000" in out


def test_frames_saves_named_images(sample, tmp_path):
    saved = json.loads(vidseek("frames", sample, "--at", "1.5,10", "-o", tmp_path, "--json").stdout)
    assert [s["requested"] for s in saved] == [1.5, 10.0]
    assert all((tmp_path / s["path"].split("/")[-1]).exists() for s in saved)


def test_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    result = vidseek("probe", bad, check=False)
    assert result.returncode == 1
    assert "broken.mp4" in result.stderr and "error" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_commands():
    out = vidseek("--help").stdout
    for command in ("probe", "shots", "frames", "synth", "index", "search", "bench"):
        assert command in out


def test_index_list_show_export_remove(sample, tmp_path):
    library = tmp_path / "library"
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    result = vidseek("index", sample, broken, "--library", library, "--json", check=False)
    assert result.returncode == 1  # one file failed, and says why
    indexed, failed = json.loads(result.stdout)
    assert indexed["status"] == "indexed" and failed["status"] == "failed"
    assert "broken.mp4" in failed["errors"]["file"]
    videos = json.loads(vidseek("list", "--library", library, "--json").stdout)
    assert [v["id"] for v in videos] == [indexed["video_id"]]
    shown = json.loads(vidseek("show", indexed["video_id"][:6], "--library", library,
                               "--json").stdout)
    assert shown["video"]["name"] == "sample.mp4" and shown["video"]["paths"] == [str(sample)]
    kinds = {o["kind"] for o in shown["observations"]}
    assert not any("vector" in o or "vectors" in o for o in shown["observations"])
    assert "shot" in kinds and "text" in kinds
    # the file name works from any folder, as `list` shows it; --kind repeated or with commas
    by_name = json.loads(vidseek("show", "sample.mp4", "--library", library, "--json",
                                 "--kind", "text,shot", cwd=tmp_path).stdout)
    assert by_name["video"] == shown["video"]
    assert by_name["observations"] == [o for o in shown["observations"]
                                       if o["kind"] in ("text", "shot")]
    repeated = json.loads(vidseek("show", "sample", "--library", library, "--json",
                                  "--kind", "shot", "--kind", "text", cwd=tmp_path).stdout)
    assert repeated == by_name
    typo = vidseek("show", "sample.mp4", "--library", library, "--kind", "speach", check=False)
    assert typo.returncode == 2 and "did you mean 'speech'" in typo.stderr
    assert "shot, speech, text, face, person, visual, image, caption, sound" in " ".join(
        typo.stderr.replace("│", " ").split())
    chapters = vidseek("export", "sample.mp4", "--format", "chapters", "--library", library,
                       cwd=tmp_path).stdout
    shots = [o for o in shown["observations"] if o["kind"] == "shot"]
    assert chapters.startswith("WEBVTT") and chapters.count("-->") == len(shots)
    # chapters are titled from what each shot shows: the first sign appears in some shot
    signs = [o["text"] for o in shown["observations"] if o["kind"] == "text"]
    assert any(sign in chapters for sign in signs)
    sign = json.loads(sample.with_name("sample.truth.json").read_text())["texts"][0]
    found = json.loads(vidseek("search", sign["text"].lower(), "--library", library, "-k", 3,
                               "--thumbnails", tmp_path / "thumbs", "--json").stdout)
    best = found[0]
    assert best["evidence"][0]["kind"] == "text" and best["evidence"][0]["channel"] == "words"
    assert best["name"] == "sample.mp4"
    assert best["start"] <= sign["end"] and best["end"] >= sign["start"]
    assert best["link"] == f"{sample}#t={best['start']:.2f},{best['end']:.2f}"
    assert Path(best["thumbnail_file"]).read_bytes()[:2] == b"\xff\xd8"
    table = vidseek("search", sign["text"].lower(), "--library", library).stdout
    assert "sample.mp4" in table and f"1. {best['link']}" in table
    nothing = vidseek("search", "a giraffe eating leaves", "--library", library)
    assert nothing.stdout == "" and "no moment matches" in nothing.stderr
    # and why: what the library lacks and how to add it, what --kind left out
    assert "describes pictures without words" in " ".join(nothing.stderr.split())
    narrow = vidseek("search", "a giraffe eating leaves", "--kind", "speech", "--library", library)
    assert "only speech was searched" in " ".join(narrow.stderr.split())
    empty = vidseek("search", "  ", "--library", library, check=False)
    assert empty.returncode == 2 and "words to search for" in empty.stderr
    unknown = vidseek("show", "nothing-like-this", "--library", library, check=False)
    assert unknown.returncode == 1 and "'nothing-like-this'" in unknown.stderr
    assert "`vidseek list`" in unknown.stderr
    vidseek("remove", indexed["video_id"], "--library", library)
    assert json.loads(vidseek("list", "--library", library, "--json").stdout) == []


def test_reading_a_missing_library_says_so_and_creates_nothing(tmp_path):
    for argv in (["list"], ["list", "--json"], ["show", "talk.mp4"], ["search", "hello"],
                 ["export", "talk.mp4"], ["remove", "talk.mp4"]):
        result = vidseek(*argv, "--library", tmp_path / "lib", check=False)
        assert result.returncode == 1, argv
        assert "no library at" in result.stderr and "vidseek index" in result.stderr, argv
        assert "Traceback" not in result.stderr
    listed = json.loads(vidseek("models", "--json", "--library", tmp_path / "lib").stdout)
    assert any(row["name"] == "speech" and row["status"] == "available" for row in listed)
    assert not (tmp_path / "lib").exists()


def test_search_kinds_are_checked_before_anything_runs(tmp_path):
    result = vidseek("search", "hello", "--kind", "speech", "--kind", "txet",
                     "--library", tmp_path / "lib", check=False)
    assert result.returncode == 2 and "did you mean 'text'" in result.stderr
    assert not (tmp_path / "lib").exists()


def test_models_lists_capabilities_and_index_checks_them(tmp_path):
    env = {**os.environ, "VIDSEEK_MODELS": str(tmp_path / "models")}
    args = ("--library", tmp_path / "lib")

    def run(*argv):
        return subprocess.run([sys.executable, "-m", "vidseek", *map(str, argv)],
                              capture_output=True, text=True, timeout=120, env=env)

    rows = {r["name"]: r for r in json.loads(run("models", *args, "--json").stdout)}
    assert rows["faces"]["status"] == "available"
    assert rows["objects (COCO)"]["status"] == "missing"
    assert "yolox-nano-coco" in rows["objects (COCO)"]["detail"]
    # an analyzer without its model is refused with advice, before any work
    refused = run("index", tmp_path / "none.mp4", *args, "--analyzers", "shots,clip")
    assert refused.returncode == 2 and "vidseek models" in refused.stderr
    unknown = run("models", "download", "nope")
    assert unknown.returncode == 1 and "yolox-nano-coco" in unknown.stderr


def test_index_hands_every_file_to_one_library_call(tmp_path, monkeypatch):
    """Search indexes are rebuilt after each `Library.index` call: one call for the batch."""
    from typer.testing import CliRunner

    import vidseek.library
    from vidseek.cli import app
    from vidseek.library import IndexReport, IndexResult

    calls = []

    class OneCallLibrary:
        analyzers = ["shots"]

        def __init__(self, path=None, *, analyzers=None, models=None) -> None:
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def index(self, paths, *, progress=None, on_result=None, executor="local",
                  ray_address=None) -> IndexReport:
            paths = list(paths)
            calls.append((paths, executor))
            results = []
            for i, path in enumerate(paths):
                progress(path, 1.0)
                results.append(IndexResult(path=str(path), video_id=f"v{i}", status="indexed",
                                           analyzers={"shots": i + 1}))
                on_result(results[-1])
            return IndexReport(results=results, seconds=0.0)

    monkeypatch.setattr(vidseek.library, "Library", OneCallLibrary)
    (tmp_path / "more").mkdir()
    files = [tmp_path / "a.mp4", tmp_path / "more" / "b.mkv", tmp_path / "more" / "c.mp4"]
    for file in files:
        file.write_bytes(b"x")
    result = CliRunner().invoke(app, ["index", str(files[0]), str(tmp_path / "more"), "--json"])
    assert result.exit_code == 0, result.output
    assert calls == [(files, "local")]
    assert [r["analyzers"]["shots"] for r in json.loads(result.stdout)] == [1, 2, 3]
    table = CliRunner().invoke(app, ["index", *map(str, files)])
    assert table.exit_code == 0 and len(calls) == 2
    assert all(f.name in table.stdout for f in files)


def test_export_of_nothing_warns_or_fails(tmp_path):
    silent = tmp_path / "silent.mp4"
    vidseek("synth", silent, "--seconds", 6, "--no-audio", "--width", 160, "--height", 90)
    library = tmp_path / "lib"
    vidseek("index", silent, "--library", library, "--analyzers", "shots,speech")
    warned = vidseek("export", "silent.mp4", "--library", library, cwd=tmp_path)
    assert warned.stdout == ""
    assert "warning: silent.mp4 has no subtitles to export" in warned.stderr
    failed = vidseek("export", "silent.mp4", "--library", library, "--fail-empty", "-o",
                     tmp_path / "out.srt", check=False, cwd=tmp_path)
    assert failed.returncode == 1 and "no subtitles" in failed.stderr
    assert not (tmp_path / "out.srt").exists()
    chapters = vidseek("export", "silent.mp4", "--format", "chapters", "--library", library,
                       "--fail-empty", cwd=tmp_path)
    assert chapters.stdout.startswith("WEBVTT") and "-->" in chapters.stdout


def test_synth_without_espeak_warns_in_one_plain_line(tmp_path):
    """No espeak-ng on PATH: the video is made without speech, and one line says why."""
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing to run there
    argv = ["synth", tmp_path / "quiet.mp4", "--seconds", 20, "--width", 160, "--height", 90]
    result = subprocess.run([sys.executable, "-m", "vidseek", *map(str, argv)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line.startswith("warning: espeak-ng is not on PATH")
    assert "apt-get install espeak-ng" in line
    assert "RuntimeWarning" not in result.stderr and ".py" not in result.stderr
