"""The command line, run as a user runs it (a subprocess), on a generated video."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def vidseek(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "vidseek", *map(str, args)],
                            capture_output=True, text=True, timeout=300)
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
    kinds = {o["kind"] for o in shown["observations"]}
    assert "shot" in kinds and "text" in kinds
    chapters = vidseek("export", sample, "--format", "chapters", "--library", library).stdout
    assert chapters.startswith("WEBVTT") and chapters.count("-->") == len(
        [o for o in shown["observations"] if o["kind"] == "shot"])
    sign = json.loads(sample.with_name("sample.truth.json").read_text())["texts"][0]
    found = json.loads(vidseek("search", sign["text"].lower(), "--library", library, "-k", 3,
                               "--thumbnails", tmp_path / "thumbs", "--json").stdout)
    best = found[0]
    assert best["evidence"][0]["kind"] == "text" and best["evidence"][0]["channel"] == "words"
    assert best["start"] <= sign["end"] and best["end"] >= sign["start"]
    assert best["link"] == f"{sample}#t={best['start']:.2f},{best['end']:.2f}"
    assert Path(best["thumbnail_file"]).read_bytes()[:2] == b"\xff\xd8"
    table = vidseek("search", sign["text"].lower(), "--library", library).stdout
    assert "sample.mp4" in table and f"1. {best['link']}" in table
    nothing = vidseek("search", "a giraffe eating leaves", "--library", library)
    assert nothing.stdout == "" and "no moment matches" in nothing.stderr
    empty = vidseek("search", "  ", "--library", library, check=False)
    assert empty.returncode == 1 and "words to search for" in empty.stderr
    vidseek("remove", indexed["video_id"], "--library", library)
    assert json.loads(vidseek("list", "--library", library, "--json").stdout) == []


def test_unknown_video_is_a_clear_error(tmp_path):
    result = vidseek("show", "nothing-like-this", "--library", tmp_path / "lib", check=False)
    assert result.returncode == 1 and "nothing-like-this" in result.stderr


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
