"""The web page in a real browser (Playwright driving Debian's Chromium): search for a spoken
phrase, click the first result, and the player is at the moment."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("VIDSEEK_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("VIDSEEK_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
README_SCREENSHOT = ROOT / "docs" / "img" / "web.png"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set "
                    "VIDSEEK_CHROMIUM)")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required",
                  "--mute-audio"])
        yield browser
        browser.close()


def test_search_click_and_the_player_is_at_the_moment(served, browser):
    server, _, _ = served
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server.url + "/")
    page.wait_for_selector(".video-item")
    assert "harbour tour.mp4" in page.inner_text("#videos")

    page.fill("#search-input", "green bicycle parked beside the station")
    page.press("#search-input", "Enter")
    first = page.wait_for_selector(".result")
    start = float(first.get_attribute("data-start"))
    assert 7.0 <= start <= 10.0  # the sentence is spoken from 8 s
    assert "bicycle" in first.inner_text().lower()
    page.wait_for_function("document.querySelector('.result img').naturalWidth > 0")
    first.click()

    page.wait_for_function(
        "t => { const v = document.querySelector('#player');"
        " return v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - t) < 1; }",
        arg=start, timeout=15_000)
    current = page.evaluate("document.querySelector('#player').currentTime")
    assert abs(current - start) < 1.0
    # The result is marked on the timeline under the player, where the moment is.
    mark = page.query_selector("#lane-results .mark")
    assert mark is not None
    left = float(mark.evaluate("m => parseFloat(m.style.left)"))
    assert left == pytest.approx(100 * start / 20.0, abs=1.0)
    # The transcript follows playback: the sentence being spoken is highlighted.
    page.wait_for_selector("#transcript li.current")
    assert "bicycle" in page.inner_text("#transcript li.current").lower()
    # The video really plays in this browser (H.264 in mp4), from the moment.
    page.wait_for_function("document.querySelector('#player').currentTime > "
                           f"{start + 0.3}", timeout=15_000)
    page.evaluate("document.querySelector('#player').pause()")
    page.evaluate(f"document.querySelector('#player').currentTime = {start + 0.5}")
    page.wait_for_function("!document.querySelector('#player').seeking")
    page.wait_for_timeout(300)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    picture = page.screenshot(path=str(ARTIFACTS / "web.png"))
    if os.environ.get("VIDSEEK_UPDATE_SCREENSHOT"):
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        README_SCREENSHOT.write_bytes(picture)
    assert not problems, problems
    page.close()


def test_clicking_the_timeline_and_a_transcript_line_seeks(served, browser):
    server, library, _ = served
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/")
    page.click(".video-item")
    page.wait_for_selector("#transcript li[data-start]")
    page.evaluate("document.querySelector('#player').pause()")
    lines = page.query_selector_all("#transcript li[data-start]")
    assert len(lines) == 3
    last = float(lines[-1].get_attribute("data-start"))
    lines[-1].click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('#player').currentTime - t) < 0.1", arg=last)
    # A click at 25% of the timeline goes to a quarter of the video (20 s).
    box = page.query_selector("#timeline").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "Math.abs(document.querySelector('#player').currentTime - 5) < 0.3")
    assert "#v=" in page.url
    page.close()


def test_ask_panel_links_evidence_to_the_player(served, browser):
    server, _, _ = served
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server.url + "/")
    page.click(".video-item")
    page.wait_for_function("document.querySelector('#player').readyState >= 1")
    page.evaluate("document.querySelector('#player').pause()")
    page.click(".tab[data-tab=ask]")
    page.fill("#ask-question", "What is parked beside the station?")
    page.click("#ask-button")
    card = page.wait_for_selector(".answer-card", timeout=30_000)
    assert "failed" not in (card.get_attribute("class") or "")
    assert int(page.inner_text("#trace-count").strip("()")) >= 1  # the trace streamed in
    evidence = page.query_selector(".evidence li")
    assert evidence is not None
    assert page.query_selector("#lane-evidence .mark") is not None
    link = evidence.query_selector("a")
    start = float(link.get_attribute("href").split("t=")[1])
    assert 7.0 <= start <= 10.0
    evidence.click()
    page.wait_for_function(
        "t => Math.abs(document.querySelector('#player').currentTime - t) < 1", arg=start)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ask.png"))
    assert not problems, problems
    page.close()


LONG_NAME = ("a_very_long_recording_name_of_the_harbour_tour_on_a_windy_morning_"
             "with_the_green_bicycle_and_the_storm.mp4")


@pytest.fixture(scope="module")
def long_named(spoken_video, tmp_path_factory):
    """A server over a library whose one video has a very long file name."""
    from server_helpers import LiveServer

    from vidseek.library import Library
    from vidseek.server import create_app

    source, _ = spoken_video
    folder = tmp_path_factory.mktemp("long-name")
    video = folder / LONG_NAME
    shutil.copyfile(source, video)
    library = Library(folder / "library", analyzers=["shots", "speech"])
    [result] = library.index([video]).results
    assert result.status == "indexed", result.errors
    server = LiveServer(create_app(library))
    yield server
    server.stop()
    library.close()


def _box(page, selector: str) -> dict:
    box = page.query_selector(selector).bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize("width", [1400, 800])
def test_layout_at_wide_and_narrow_widths(long_named, browser, width):
    """Nothing overlaps at 1400 and 800 px: the timeline's lanes stay inside it, above the
    legend; a long file name is one ellipsized line with the whole name on hover; the page
    has a favicon, and no request fails."""
    page = browser.new_page(viewport={"width": width, "height": 760})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto(long_named.url + "/")
    page.click(".video-item")
    page.wait_for_selector("#lane-speech .mark")
    page.evaluate("document.querySelector('#player').pause()")
    page.wait_for_timeout(200)

    timeline, legend = _box(page, "#timeline"), _box(page, ".legend")
    assert timeline["height"] >= 40  # its own height, not squeezed
    for mark in page.query_selector_all("#timeline .mark"):
        box = mark.bounding_box()
        assert timeline["y"] <= box["y"] and box["y"] + box["height"] <= (
            timeline["y"] + timeline["height"] + 0.5), (width, box, timeline)
    assert timeline["y"] + timeline["height"] <= legend["y"]
    assert legend["y"] + legend["height"] <= _box(page, ".results")["y"]
    player = _box(page, ".player-wrap")
    assert player["y"] + player["height"] <= _box(page, ".now")["y"]
    # the name under the player ends before the time and the column's edge
    name, clock, stage = _box(page, "#now-name"), _box(page, "#now-time"), _box(page, ".stage")
    assert name["x"] + name["width"] <= clock["x"] <= clock["x"] + clock["width"] <= (
        stage["x"] + stage["width"])
    assert page.get_attribute("#now-name", "title").endswith(LONG_NAME)
    assert name["height"] < 30 and clock["height"] < 30  # one line each

    title = page.query_selector(".video-item .title")
    assert title.get_attribute("title") == LONG_NAME
    assert title.evaluate("t => getComputedStyle(t).textOverflow") == "ellipsis"
    lines = title.evaluate("t => Math.round(t.getBoundingClientRect().height / "
                           "parseFloat(getComputedStyle(t).lineHeight))")
    assert lines == 1
    item, thumb = _box(page, ".video-item"), _box(page, ".video-item img")
    assert title.bounding_box()["x"] >= thumb["x"] + thumb["width"]
    assert title.bounding_box()["x"] + title.bounding_box()["width"] <= item["x"] + item["width"]

    icon = page.evaluate("fetch('/favicon.ico')"
                         ".then(r => [r.status, r.headers.get('content-type')])")
    assert icon == [200, "image/svg+xml"]
    assert page.query_selector("link[rel=icon]") is not None
    assert not failed, failed
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"layout-{width}.png"), full_page=True)
    page.close()
