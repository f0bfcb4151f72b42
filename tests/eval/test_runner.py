"""The evaluation runner: answer parsing, sampling, scoring, the frame methods against a real
OpenAI-compatible server, a kill and --resume, and full runs on the needle benchmark and on the
real annotated clips with the embedded default."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.chat_server import ScriptedChatServer, texts
from tests.nextqa_layout import nextqa_layout
from vidseek.eval.methods import parse_choice, parse_window, sample_times
from vidseek.eval.records import SampleRecord, at_threshold
from vidseek.eval.runner import EvalConfig, read_records, run_eval
from vidseek.eval.scoring import score_records, threshold_sweep

OPTIONS = ["rolling around", "dancing", "sightseeing", "playing soccer", "playing golf"]

# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("reply", "expected"), [
    ("B", 1), ("(B)", 1), ("B.", 1), ("b", 1), ("a dog", None), ("Answer: C", 2),
    ("answer: (d)", 3),
    ("The answer is E.", 4), ("E. playing golf", 4), ("I think (A) fits best", 0),
    ("They are playing golf.", 4), ("playing soccer", 3), ("Option 2", None),
    ("A or B", None), ("", None), ("F", None), ("dancing and playing golf", None),
    ("**B**", 1),
])
def test_parse_choice(reply, expected):
    assert parse_choice(reply, OPTIONS) == expected


def test_parse_choice_prefers_the_longer_option_text():
    assert parse_choice("playing golf", ["golf", "playing golf"]) == 1


@pytest.mark.parametrize(("reply", "expected"), [
    ("12.5 - 20", (12.5, 20.0)), ("From 0:12 to 0:20.", (12.0, 20.0)), ("[7.5, 3]", (3.0, 7.5)),
    ("START - END: 1:02:03 - 1:02:04.5", (3723.0, 3724.5)), ("around 4 s", None),
])
def test_parse_window(reply, expected):
    assert parse_window(reply) == expected


def test_sample_times():
    assert sample_times(0, 8, frames=4, fps=None) == [1.0, 3.0, 5.0, 7.0]
    assert sample_times(2, 4, frames=None, fps=2) == [2.0, 2.5, 3.0, 3.5]
    assert len(sample_times(0, 3600, frames=None, fps=1)) == 256  # capped, spread evenly


# -- scoring ----------------------------------------------------------------------------------


def _rec(i, kind="mc", status="ok", **fields):
    return SampleRecord(id=str(i), kind=kind, status=status, **fields)


def test_scores_hand_computed():
    records = [
        _rec(0, answer=1, choice=1, windows=[[0, 10]], predicted_windows=[[0, 8, 0.9]],
             consistency={"order": [1, 0], "choice": 1, "consistent": True},
             duration=30),
        _rec(1, answer=2, choice=2, windows=[[0, 10]], predicted_windows=[[20, 30, 0.9]],
             consistency={"order": [1, 0], "choice": 0, "consistent": False},
             duration=30),
        _rec(2, answer=0, choice=None, duration=900),  # unparsed: wrong
        _rec(3, status="error", answer=0),  # failed: wrong, not dropped
        _rec(4, kind="grounding", windows=[[5, 15]], predicted_windows=[[5, 15, 0.5]]),
        _rec(5, kind="grounding", windows=[], found=True),  # absent, but found something
        _rec(6, status="skipped", kind="mc", answer=1),
    ]
    scores = score_records(records, seed=0)
    metrics = scores["metrics"]
    assert metrics["accuracy"]["value"] == 0.5 and metrics["accuracy"]["n"] == 4
    assert metrics["unparsed"]["value"] == 0.25
    assert metrics["Acc@QA"]["value"] == 1.0
    assert metrics["Acc@GQA"]["value"] == 0.5  # IoP 1.0 for the first, 0 for the second
    assert metrics["Acc@QA&IoU>=0.3"]["value"] == 0.5
    assert metrics["option_order_consistency"]["value"] == 0.5
    assert metrics["R@1,IoU=0.7"]["value"] == 1.0 and metrics["mIoU"]["value"] == 1.0
    assert metrics["absent_fp_rate"]["value"] == 1.0
    assert scores["counts"] == {"samples": 7, "ok": 5, "errors": 1, "skipped": 1}
    assert set(scores["by_duration"]) == {"< 1 min", "10-60 min"}
    low, high = metrics["accuracy"]["ci"]
    assert 0 <= low <= 0.5 <= high <= 1
    assert score_records(records, seed=0) == scores  # the bootstrap is seeded
    assert "sweep" not in scores


def test_search_records_are_rescored_at_any_threshold():
    records = [
        _rec(0, kind="grounding", category="a", windows=[(0, 10)],
             predicted_windows=[(0, 10, 0.9), (20, 30, 0.3)], found=True),
        _rec(1, kind="grounding", category="b", windows=[(0, 10)],
             predicted_windows=[(20, 30, 0.6), (0, 10, 0.2)], found=True),
        _rec(2, kind="grounding", windows=[], predicted_windows=[(0, 1, 0.5)], found=True),
        _rec(3, kind="grounding", windows=[(0, 10)], status="skipped"),
    ]
    kept = at_threshold(records, 0.5)
    assert kept[0].predicted_windows == [(0, 10, 0.9)] and kept[1].found
    assert kept[2].predicted_windows == [(0, 1, 0.5)] and kept[3] == records[3]
    assert at_threshold(records, 0.95)[0].found is False
    sweep = {row["threshold"]: row for row in threshold_sweep(records)}
    assert sweep[0.1]["R@1@0.5"] == {"a": 1.0, "b": 0.0} and sweep[0.1]["absent_fp"] == 1.0
    assert sweep[0.7]["R@1@0.5"] == {"a": 1.0, "b": 0.0} and sweep[0.7]["absent_fp"] == 0.0
    scores = score_records(records, answers=False)
    assert scores["sweep"] == threshold_sweep(records)
    assert scores["metrics"]["R@5,IoU=0.5"]["value"] == 1.0  # every candidate counts


# -- frame methods against a real chat server -----------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    from vidseek.synth import build, random_script

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    build(random_script(6, seed=5, width=320, height=180, fps=10.0, audio=False), path)
    return path


def nextqa_fixture(root: Path, clip: Path, questions: int) -> Path:
    """NExT-QA with ``questions`` questions whose answer is 'playing golf' on even ones."""
    rows = [(f"question number {q} about the game", 4 if q % 2 == 0 else 1, "CW")
            for q in range(questions)]
    return nextqa_layout(root, clip, rows, OPTIONS)


def golf(body: dict) -> str:
    """A scripted model that always picks the option 'playing golf', by its letter."""
    prompt = texts(body)[-1]
    match = re.search(r"\(([A-E])\) playing golf", prompt)
    return f"Answer: ({match.group(1)})" if match else "I cannot tell"


def test_frame_methods_send_timed_frames_and_parse_replies(tmp_path, clip):
    data = nextqa_fixture(tmp_path / "data", clip, questions=2)
    out = tmp_path / "out"
    with ScriptedChatServer(golf) as server:
        common = {"task": "nextqa", "data": data, "model": server.spec, "out": out}
        result = run_eval(EvalConfig(method="uniform", frames=4, **common))
        first = server.chat_requests[0]
        assert len(first.image_urls) == 4
        labels = [t for t in first.texts if t.startswith("Frame at")]
        from vidseek.media import probe

        step = probe(clip).duration / 4  # the frame shown at each part's centre (10 fps)
        assert [float(t.split()[2]) for t in labels] == pytest.approx(
            [step * (k + 0.5) for k in range(4)], abs=0.1)
        records = read_records(result.samples)
        assert [r.choice for r in records] == [4, 4]
        assert [r.correct for r in records] == [True, False]
        assert all(r.consistency.consistent for r in records)
        assert records[0].cost.frames_sent == 4 and records[0].cost.model_calls == 1
        assert records[0].cost.prompt_tokens > 0
        assert records[0].frame_times == pytest.approx(
            [float(t.split()[2]) for t in labels], abs=0.01)
        assert result.summary["metrics"]["accuracy"]["value"] == 0.5
        assert len(server.chat_requests) == 4  # each question asked twice (options shuffled)

        seen = len(server.chat_requests)
        run_eval(EvalConfig(method="shuffled", frames=4, consistency=False, **common))
        shuffled = server.chat_requests[seen]
        assert len(shuffled.image_urls) == 4
        assert not any(t.startswith("Frame at") for t in shuffled.texts)
        assert [t for t in shuffled.texts if t.startswith("Frame ")] == [
            "Frame 1", "Frame 2", "Frame 3", "Frame 4"]

        seen = len(server.chat_requests)
        single = run_eval(EvalConfig(method="single-frame", consistency=False, **common))
        assert all(len(r.image_urls) == 1 for r in server.chat_requests[seen:])
        times = [r.frame_times for r in read_records(single.samples)]
        again = run_eval(EvalConfig(method="single-frame", consistency=False, **common))
        assert [r.frame_times for r in read_records(again.samples)] == times  # seeded

        seen = len(server.chat_requests)
        run_eval(EvalConfig(method="blind", consistency=False, **common))
        assert all(not r.image_urls for r in server.chat_requests[seen:])
    report = (out / "report.md").read_text()
    assert "uniform-4f@scripted-vlm" in report and "blind@scripted-vlm" in report
    manifest = json.loads(result.manifest.read_text())
    assert manifest["prompts"]["templates"]["mc"].startswith("Question:")
    assert manifest["data_files"][0]["sha256"] and manifest["videos"][0]["video_id"]
    assert manifest["method"]["sampling"].startswith("4 frames")


def test_same_command_same_numbers_whatever_the_workers(tmp_path, clip):
    data = nextqa_fixture(tmp_path / "data", clip, questions=4)
    with ScriptedChatServer(golf) as server:
        def numbers(workers: int, out: str) -> tuple:
            result = run_eval(EvalConfig(task="nextqa", data=data, method="single-frame",
                                         model=server.spec, out=tmp_path / out, seed=3,
                                         workers=workers))
            records = sorted(read_records(result.samples), key=lambda r: r.id)
            metrics = {k: (v["value"], v["ci"]) for k, v in result.summary["metrics"].items()}
            return metrics, [(r.frame_times, r.consistency.order) for r in records]

        assert numbers(1, "a") == numbers(1, "a") == numbers(3, "b")


def test_a_method_that_needs_a_model_is_not_run_without_one(tmp_path, clip):
    data = nextqa_fixture(tmp_path / "data", clip, questions=1)
    result = run_eval(EvalConfig(task="nextqa", data=data, method="uniform", out=tmp_path / "o"))
    assert result.summary["status"] == "not run" and "--model" in result.summary["reason"]
    assert read_records(result.samples) == []


def test_one_failing_sample_is_recorded_not_fatal(tmp_path, clip):
    data = nextqa_fixture(tmp_path / "data", clip, questions=3)
    (data / "NExTVideo/0001/100.mp4").unlink()
    shutil.copyfile(clip, data / "NExTVideo/0001/101.mp4")
    rows = (data / "nextqa/val.csv").read_text().splitlines()
    rows[2] = rows[2].replace("100,", "101,", 1)
    (data / "nextqa/val.csv").write_text("\n".join(rows) + "\n")
    (data / "nextqa/map_vid_vidorID.json").write_text(
        json.dumps({"100": "0001/100", "101": "0001/101"}))
    with ScriptedChatServer(golf) as server:
        result = run_eval(EvalConfig(task="nextqa", data=data, method="uniform", frames=2,
                                     model=server.spec, out=tmp_path / "o", consistency=False))
    records = read_records(result.samples)
    assert [r.status for r in records].count("error") == 2
    assert "not found" in next(r.error for r in records if r.status == "error")
    assert result.summary["counts"]["ok"] == 1
    assert result.summary["metrics"]["accuracy"]["n"] == 3  # failures count as wrong


def test_resume_after_a_kill_does_not_redo_finished_samples(tmp_path, clip):
    data = nextqa_fixture(tmp_path / "data", clip, questions=6)
    out = tmp_path / "out"
    jsonl = out / "uniform-2f@scripted-vlm" / "samples.jsonl"

    def slow(body):
        time.sleep(0.4)
        return golf(body)

    with ScriptedChatServer(slow) as server:
        command = [sys.executable, "-m", "vidseek", "eval", "nextqa", "--data", str(data),
                   "--method", "uniform", "--frames", "2", "--model", server.spec, "--out",
                   str(out), "--no-consistency"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if jsonl.is_file() and len(jsonl.read_text().splitlines()) >= 2:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        before = [json.loads(line) for line in jsonl.read_text().splitlines()
                  if line.endswith("}")]
        assert 2 <= len(before) < 6
        asked = len(server.chat_requests)
        config = EvalConfig(task="nextqa", data=data, method="uniform", frames=2,
                            model=server.spec, out=out, consistency=False, resume=True)
        result = run_eval(config)
        later = server.chat_requests[asked:]
    records = read_records(result.samples)
    assert [r.model_dump(mode="json") for r in records[: len(before)]] == before  # kept as were
    assert sorted(r.id for r in records) == sorted(f"100_{q}" for q in range(6))
    assert result.kept == len(before) and result.ran == 6 - len(before)
    kept_questions = {r["question"] for r in before}
    assert len(later) == 6 - len(before)
    assert not any(q in " ".join(r.texts) for r in later for q in kept_questions)
    assert result.summary["status"] == "complete"
    assert result.summary["metrics"]["accuracy"]["value"] == 0.5


# -- full runs with the embedded default ------------------------------------------------------


def _numbers(summary: dict) -> dict:
    return {k: (v["value"], v["ci"], v["n"]) for k, v in summary["metrics"].items()}


@pytest.mark.slow
def test_needle_end_to_end(tmp_path, monkeypatch):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    data = tmp_path / "needle"
    data.mkdir()
    (data / "needle.json").write_text(json.dumps({"hours": 0.03, "needles": 3, "seed": 0}))
    out = tmp_path / "out"
    search = run_eval(EvalConfig(task="needle", data=data, method="search", out=out, limit=15))
    records = read_records(search.samples)
    needles = [r for r in records if not r.id.startswith("absent/")]
    # 3 needles, one of them a photo: asked in words and with the photo itself
    assert len(needles) == 4 and len(records) == 15
    skipped = [r for r in needles if r.status == "skipped"]
    assert {r.category for r in skipped} == {"picture", "picture-image"}  # no models here
    assert next(r for r in needles if r.category == "picture-image").image.endswith(".png")
    metrics = search.summary["metrics"]
    assert metrics["R@5,IoU=0.5"]["value"] > 0 and 0 <= metrics["absent_fp_rate"]["value"] < 1
    assert len(search.summary["sweep"]) == 19
    agent = run_eval(EvalConfig(task="needle", data=data, method="agent", out=out, limit=3))
    assert agent.summary["status"] == "complete"
    assert all(r.status in ("ok", "skipped") for r in read_records(agent.samples))
    for name in ("samples.jsonl", "results.json", "manifest.json"):
        assert (search.folder / name).is_file() and (agent.folder / name).is_file()
    assert (out / "report.html").read_text().count("<svg") == 4


@pytest.mark.slow
def test_real_mini_end_to_end_and_repeatable(real_videos, tmp_path, monkeypatch):
    monkeypatch.setenv("VIDSEEK_MODELS", str(tmp_path / "no-models"))
    data, out = real_videos.parent, tmp_path / "out"
    agent = run_eval(EvalConfig(task="real-mini", data=data, method="agent", out=out))
    records = read_records(agent.samples)
    assert len(records) == 18 and all(r.status == "ok" for r in records)
    metrics = agent.summary["metrics"]
    assert metrics["accuracy"]["n"] == 9 and metrics["Acc@GQA"]["n"] == 6
    assert "Acc@QA&IoU>=0.3" in metrics and metrics["R@1,IoU=0.5"]["n"] == 9
    for r in records:
        assert r.cost.seconds > 0 and isinstance(r.frame_times, list)
        assert all(0 <= w[0] <= w[1] <= 31 for w in r.predicted_windows)
    search = run_eval(EvalConfig(task="real-mini", data=data, method="search", out=out))
    assert search.summary["metrics"]["R@1,IoU=0.5"]["n"] == 15  # 9 queries + 6 grounded questions
    blind = run_eval(EvalConfig(task="real-mini", data=data, method="blind", out=out))
    assert blind.summary["metrics"]["option_order_consistency"]["value"] == 1.0
    manifest = json.loads(agent.manifest.read_text())
    assert manifest["library"]["analyzers"] == ["shots", "speech", "text", "faces"]
    assert manifest["settings"]["seed"] == 0 and len(manifest["data_files"]) == 2
    assert all(len(f["sha256"]) == 64 for f in manifest["data_files"])

    again = run_eval(EvalConfig(task="real-mini", data=data, method="agent", out=out))
    assert _numbers(again.summary) == _numbers(agent.summary)
    report = (out / "report.md").read_text()
    assert "points over blind" in report and "after shuffling the options" in report
    assert (out / "report.html").is_file()
