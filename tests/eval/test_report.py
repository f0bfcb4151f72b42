"""The task report: runs of several methods side by side, the trust checks in words, and the
HTML page opened in headless Chromium, where every plot renders with marks and nothing is
fetched from the network."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.chat_server import ScriptedChatServer, image_urls, texts
from tests.nextqa_layout import nextqa_layout
from vidseek.eval.runner import EvalConfig, run_eval

CHROMIUM = os.environ.get("VIDSEEK_CHROMIUM", "/usr/bin/chromium")
OPTIONS = ["rolling around", "dancing", "sightseeing", "playing soccer", "playing golf"]
PLOTS = ("method-comparison", "by-duration", "frames", "cost")


def _nextqa(root: Path, clip: Path, questions: int) -> Path:
    rows = [(f"what happens in part {q}", 4, "CW" if q % 2 else "TC") for q in range(questions)]
    return nextqa_layout(root, clip, rows, OPTIONS)


def _sees_more_with_more_frames(body: dict) -> str:
    """Right ('playing golf') with 4 frames or more, right on even questions with fewer."""
    prompt = texts(body)[-1]
    frames = len(image_urls(body))
    even = int(re.search(r"part (\d+)", prompt).group(1)) % 2 == 0
    wanted = "playing golf" if frames >= 4 or (frames and even) else "dancing"
    letter = re.search(rf"\(([A-E])\) {wanted}", prompt).group(1)
    return f"({letter})"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from vidseek.synth import build, random_script

    root = tmp_path_factory.mktemp("report")
    clip = root / "clip.mp4"
    build(random_script(6, seed=7, width=320, height=180, fps=10.0, audio=False), clip)
    data = _nextqa(root / "data", clip, questions=4)
    out = root / "out"
    with ScriptedChatServer(_sees_more_with_more_frames) as server:
        for method, frames in (("uniform", 2), ("uniform", 4), ("blind", None),
                               ("single-frame", None)):
            run_eval(EvalConfig(task="nextqa", data=data, method=method, frames=frames,
                                model=server.spec, out=out))
    run_eval(EvalConfig(task="nextqa", data=data, method="shuffled", out=out))  # not run
    return out


def test_markdown_report_has_every_run_and_the_trust_checks(runs):
    report = (runs / "report.md").read_text()
    for run in ("uniform-2f@scripted-vlm", "uniform-4f@scripted-vlm", "blind@scripted-vlm",
                "single-frame@scripted-vlm"):
        assert f"| {run} |" in report
    assert "not run: the shuffled method sends frames to a chat model" in report
    assert "uniform-4f@scripted-vlm: accuracy +100.0 points over blind@scripted-vlm" in report
    assert "+50.0 points over single-frame@scripted-vlm" in report
    assert re.search(r"uniform \(openai:.*\): 50\.0 at 2 frames -> 100\.0 at 4 frames "
                     r"\(\+50\.0 points\)", report)
    assert "the same option after shuffling the options in 100.0" in report
    results = json.loads((runs / "uniform-4f@scripted-vlm/results.json").read_text())
    assert set(results["by_category"]) == {"CW", "TC"}


@pytest.mark.slow
def test_html_report_renders_its_plots_in_chromium(runs):
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set "
                    "VIDSEEK_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto((runs / "report.html").as_uri())
            page.wait_for_selector("figure.plot svg")
            for plot in PLOTS:
                svg = page.locator(f"#plot-{plot} svg")
                box = svg.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 100, plot
                marks = page.locator(f"#plot-{plot} .mark")
                assert marks.count() >= 1, plot
                mark = marks.first.bounding_box()
                assert mark and mark["width"] > 0 and mark["height"] > 0, plot
                assert box["x"] <= mark["x"] <= box["x"] + box["width"], plot
            # one bar per run that ran, and the taller bar is the better run
            bars = page.locator("#plot-method-comparison rect.mark")
            assert bars.count() == 4
            heights = [bars.nth(i).bounding_box()["height"] for i in range(4)]
            # runs in name order: blind, single-frame, uniform-2f, uniform-4f
            assert heights[3] > heights[2] > heights[0]
            assert page.locator("#plot-frames circle.mark").count() == 4  # blind at 0 frames
            assert "Trust checks" in page.inner_text("body")
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
            assert not problems
        finally:
            browser.close()
