"""Subtitle and chapter export: exact expected files for small inputs, and parse-backs."""

from __future__ import annotations

import re
import textwrap

import pytest

from vidseek.export import (
    format_timestamp,
    to_chapters_webvtt,
    to_ffmetadata_chapters,
    to_srt,
    to_webvtt,
)
from vidseek.types import Observation

LONG = (
    "The quick brown fox jumps over the lazy dog and then keeps running far away "
    "past the river bank until night falls over the hills"
)


def obs(start: float, end: float, text: str = "", kind: str = "speech") -> Observation:
    return Observation(video_id="v1", start=start, end=end, kind=kind, text=text, source="test")


def shot(start: float, end: float, text: str = "") -> Observation:
    return obs(start, end, text, kind="shot")


# -- a tiny WebVTT parser, to check the output reads back ----------------------------------

STAMP = r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})"
TIMING = re.compile(rf"^{STAMP} --> {STAMP}$")


def parse_webvtt(text: str) -> list[tuple[int, int, list[str]]]:
    """``(start_ms, end_ms, lines)`` per cue; asserts the layout WebVTT requires."""
    assert text.startswith("WEBVTT\n")
    assert text.endswith("\n")
    blocks = text[:-1].split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        match = TIMING.match(lines[0])
        assert match, f"bad timing line {lines[0]!r}"
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        start = ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1
        end = ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2
        payload = lines[1:]
        assert payload and all(payload), "a cue needs text and no blank lines"
        for line in payload:
            assert "-->" not in line and "<" not in line
            assert re.sub(r"&(amp|lt|gt);", "", line).count("&") == 0
        cues.append((start, end, payload))
    return cues


def assert_monotonic(cues: list[tuple[int, int, list[str]]]) -> None:
    for start, end, _ in cues:
        assert 0 <= start < end
    starts = [start for start, _, _ in cues]
    assert starts == sorted(starts)


# -- format_timestamp ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "00:00:00.000"),
        (0.0004, "00:00:00.000"),
        (0.0005, "00:00:00.001"),
        (1.5, "00:00:01.500"),
        (59.9995, "00:01:00.000"),
        (59.9994, "00:00:59.999"),
        (3599.9996, "01:00:00.000"),
        (3661.001, "01:01:01.001"),
        (360_000.5, "100:00:00.500"),
        (3_600_000, "1000:00:00.000"),
        (-3.2, "00:00:00.000"),
    ],
)
def test_format_timestamp(seconds, expected):
    assert format_timestamp(seconds) == expected


def test_format_timestamp_separator():
    assert format_timestamp(59.9995, separator=",") == "00:01:00,000"
    assert format_timestamp(12.345, separator=",") == "00:00:12,345"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_format_timestamp_rejects_non_finite(bad):
    with pytest.raises(ValueError):
        format_timestamp(bad)


# -- SubRip --------------------------------------------------------------------------------


def test_srt_small():
    observations = [
        obs(3.25, 4.0, "  second line  "),
        obs(0.0, 2.5, "Hello\n  world"),
        obs(1.0, 2.0, "ON SCREEN", kind="text"),
        shot(0.0, 10.0),
    ]
    assert to_srt(observations) == (
        "1\n"
        "00:00:00,000 --> 00:00:02,500\n"
        "Hello world\n"
        "\n"
        "2\n"
        "00:00:03,250 --> 00:00:04,000\n"
        "second line\n"
    )


def test_srt_empty():
    assert to_srt([]) == ""
    assert to_srt([shot(0, 1), obs(0, 1, "")]) == ""
    assert to_srt(iter([obs(0, 1, "   \n ")])) == ""


def test_srt_end_not_after_start():
    assert to_srt([obs(5.0, 5.0, "a"), obs(7.0, 6.0, "b")]) == (
        "1\n00:00:05,000 --> 00:00:05,001\na\n\n"
        "2\n00:00:07,000 --> 00:00:07,001\nb\n"
    )


def test_srt_rounding_and_long_hours():
    assert to_srt([obs(59.9995, 360_000.5, "late")]) == (
        "1\n00:01:00,000 --> 100:00:00,500\nlate\n"
    )


def test_srt_negative_start_clamped():
    assert to_srt([obs(-1.0, 0.5, "early")]) == "1\n00:00:00,000 --> 00:00:00,500\nearly\n"


def test_srt_no_escaping():
    assert to_srt([obs(0, 1, "a < b & c > d")]) == (
        "1\n00:00:00,000 --> 00:00:01,000\na < b & c > d\n"
    )


def test_srt_wraps_into_two_lines():
    text = "This sentence is a little too long to fit on one line"
    assert to_srt([obs(0, 2, text)]) == (
        "1\n"
        "00:00:00,000 --> 00:00:02,000\n"
        "This sentence is a little too long to fit\n"
        "on one line\n"
    )


def test_srt_splits_long_text_into_cues():
    # 4 wrapped lines -> 2 cues; time divided by characters: 79 and 46 of 125 over 4 s.
    assert to_srt([obs(5, 9, LONG)]) == (
        "1\n"
        "00:00:05,000 --> 00:00:07,528\n"
        "The quick brown fox jumps over the lazy\n"
        "dog and then keeps running far away past\n"
        "\n"
        "2\n"
        "00:00:07,528 --> 00:00:09,000\n"
        "the river bank until night falls over the\n"
        "hills\n"
    )


def test_srt_split_cues_keep_positive_duration():
    # 2 ms is not much to share, but every piece still lasts at least 1 ms.
    text = to_srt([obs(1.0, 1.001, LONG + " " + LONG)])
    times = re.findall(r"(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})", text)
    assert len(times) == 4
    assert times[0][0] == "00:00:01,000"
    assert all(start < end for start, end in times)
    assert all(a[1] == b[0] for a, b in zip(times, times[1:]))


def test_srt_long_word_not_broken():
    # a 60-character word stays whole on its own line; 3 lines -> 2 cues, split 61:1.
    word = "x" * 60
    assert to_srt([obs(0, 1, f"a {word} b")]) == (
        f"1\n00:00:00,000 --> 00:00:00,984\na\n{word}\n"
        "\n"
        "2\n00:00:00,984 --> 00:00:01,000\nb\n"
    )


def test_srt_sorted_and_numbered():
    observations = [obs(10, 11, "c"), obs(0, 1, "a"), obs(5, 6, "b")]
    text = to_srt(observations)
    assert re.findall(r"^(\d+)\n", text, flags=re.M) == ["1", "2", "3"]
    assert [line for line in text.split("\n") if line in {"a", "b", "c"}] == ["a", "b", "c"]


# -- WebVTT --------------------------------------------------------------------------------


def test_webvtt_small():
    observations = [
        obs(3.25, 4.0, "Tom & Jerry <3 -> fun"),
        obs(0.0, 2.5, "Hello world"),
        obs(0.0, 9.0, "a face", kind="face"),
    ]
    expected = (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:02.500\n"
        "Hello world\n"
        "\n"
        "00:00:03.250 --> 00:00:04.000\n"
        "Tom &amp; Jerry &lt;3 -&gt; fun\n"
    )
    assert to_webvtt(observations) == expected
    assert [cue[2] for cue in parse_webvtt(expected)] == [
        ["Hello world"], ["Tom &amp; Jerry &lt;3 -&gt; fun"],
    ]


def test_webvtt_empty_is_header_only():
    assert to_webvtt([]) == "WEBVTT\n"
    assert to_webvtt([shot(0, 4)]) == "WEBVTT\n"
    assert parse_webvtt(to_webvtt([])) == []


def test_webvtt_arrow_is_escaped():
    assert to_webvtt([obs(0, 1, "a --> b")]) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na --&gt; b\n"
    )


def test_webvtt_boundaries():
    assert to_webvtt([obs(0, 0, "zero"), obs(59.9995, 360_000.5, "long")]) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:00.001\n"
        "zero\n"
        "\n"
        "00:01:00.000 --> 100:00:00.500\n"
        "long\n"
    )


def test_webvtt_same_cues_as_srt():
    observations = [obs(5, 9, LONG), obs(0, 2, "short"), obs(2.5, 3, "x" * 50)]
    vtt = parse_webvtt(to_webvtt(observations))
    srt_times = re.findall(r"(\d+):(\d\d):(\d\d),(\d{3}) --> ", to_srt(observations))
    srt_starts = [((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)
                  for h, m, s, ms in srt_times]
    assert [start for start, _, _ in vtt] == srt_starts
    assert len(vtt) == 4


def test_webvtt_parse_back_unsorted():
    observations = [obs(30 - i * 1.5, 31 - i * 1.5, f"line {i} " + "word " * i) for i in range(20)]
    observations.append(obs(0, 100, "ignored", kind="caption"))
    cues = parse_webvtt(to_webvtt(observations))
    assert_monotonic(cues)
    assert all(len(lines) <= 2 and all(len(line) <= 42 for line in lines) for _, _, lines in cues)
    assert cues[0][2][0].startswith("line 19")
    assert cues[-1][2][0] == "line 0"
    # every speech observation gives one cue per 2 wrapped lines
    expected = sum((len(textwrap.wrap(o.text, 42)) + 1) // 2 for o in observations[:-1])
    assert len(cues) == expected > 20


# -- chapters ------------------------------------------------------------------------------


def test_chapters_webvtt_small():
    shots = [shot(4.0, 9.5), shot(0.0, 4.0), obs(0, 1, "not a shot")]
    expected = (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:04.000\n"
        "Shot 1\n"
        "\n"
        "00:00:04.000 --> 00:00:09.500\n"
        "Shot 2\n"
    )
    assert to_chapters_webvtt(shots) == expected
    cues = parse_webvtt(expected)
    assert_monotonic(cues)
    assert len(cues) == 2


def test_chapters_titles():
    shots = [shot(0.0, 2.0), shot(2.0, 5.0, "Kitchen"), shot(5.0, 8.0, "Street"), shot(8.0, 9.0)]
    titles = {5.0: "Outside <night> & rain", 8.0000001: "  ", 0.0: "Opening\ncredits"}
    assert to_chapters_webvtt(shots, titles=titles) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:02.000\n"
        "Opening credits\n"
        "\n"
        "00:00:02.000 --> 00:00:05.000\n"
        "Kitchen\n"
        "\n"
        "00:00:05.000 --> 00:00:08.000\n"
        "Outside &lt;night&gt; &amp; rain\n"
        "\n"
        "00:00:08.000 --> 00:00:09.000\n"
        "Shot 4\n"
    )


def test_chapters_empty():
    assert to_chapters_webvtt([]) == "WEBVTT\n"
    assert to_chapters_webvtt([obs(0, 1, "hi")]) == "WEBVTT\n"
    assert to_ffmetadata_chapters([]) == ";FFMETADATA1\n"


def test_chapters_do_not_overlap():
    shots = [shot(0.0, 5.0), shot(4.0, 6.0), shot(4.0, 4.0)]
    cues = parse_webvtt(to_chapters_webvtt(shots))
    assert [(start, end) for start, end, _ in cues] == [(0, 4000), (4000, 4001), (4000, 6000)]


def test_chapters_boundaries():
    assert to_chapters_webvtt([shot(59.9995, 360_000.5), shot(-1, -0.5)]) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:00.001\n"
        "Shot 1\n"
        "\n"
        "00:01:00.000 --> 100:00:00.500\n"
        "Shot 2\n"
    )


def test_ffmetadata_small():
    shots = [shot(12.5, 20.0), shot(0.0, 12.5, "Intro")]
    assert to_ffmetadata_chapters(shots, titles={12.5: "Part 2"}) == (
        ";FFMETADATA1\n"
        "\n"
        "[CHAPTER]\n"
        "TIMEBASE=1/1000\n"
        "START=0\n"
        "END=12500\n"
        "title=Intro\n"
        "\n"
        "[CHAPTER]\n"
        "TIMEBASE=1/1000\n"
        "START=12500\n"
        "END=20000\n"
        "title=Part 2\n"
    )


def test_ffmetadata_escaping():
    text = to_ffmetadata_chapters([shot(0, 1.0004, "a=b;c#d\\e\nf\r\ng")])
    assert text == (
        ";FFMETADATA1\n"
        "\n"
        "[CHAPTER]\n"
        "TIMEBASE=1/1000\n"
        "START=0\n"
        "END=1000\n"
        "title=a\\=b\\;c\\#d\\\\e\\\nf\\\ng\n"
    )


def test_ffmetadata_end_not_after_start_and_long():
    assert to_ffmetadata_chapters([shot(360_000.5, 360_000.5)]) == (
        ";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=360000500\nEND=360000501\n"
        "title=Shot 1\n"
    )


def test_ffmetadata_reads_back_with_ffmpeg(tmp_path):
    av = pytest.importorskip("av")
    titles = ["Opening = start", "Part #2; more", "back\\slash", "two\nlines"]
    shots = [shot(i * 2.5, (i + 1) * 2.5, title) for i, title in enumerate(titles)]
    path = tmp_path / "chapters.txt"
    path.write_text(to_ffmetadata_chapters(shots), encoding="utf-8")
    with av.open(str(path), format="ffmetadata") as container:
        chapters = container.chapters()
    assert [(c["start"], c["end"]) for c in chapters] == [(0, 2500), (2500, 5000),
                                                         (5000, 7500), (7500, 10000)]
    assert [c["metadata"]["title"] for c in chapters] == titles


# -- chapter titles from what each shot says or shows --------------------------------------


def test_chapter_titles_from_speech_text_captions_and_labels():
    from vidseek.export import chapter_titles

    shots = [shot(0, 10), shot(10, 20), shot(20, 30), shot(30, 40), shot(40, 50),
             shot(50, 60)]
    found = [
        obs(1, 4, "Welcome to the harbour tour this morning, everyone. Then more."),
        obs(8, 14, "This sentence goes on into the second shot and beyond it."),
        obs(12, 15, "GATE 7 BOARDING", kind="text"),
        obs(21, 29, "A red boat in a harbour with gulls", kind="caption"),
        obs(31, 38, "cat", kind="visual"), obs(31, 38, "tv", kind="visual"),
        obs(35, 36, "   ", kind="text"),  # blank readings never make a title
    ]
    titles = chapter_titles(shots, found)
    assert titles == {
        0: "Welcome to the harbour tour this morning, everyone.",
        10: "GATE 7 BOARDING",  # speech that began before the shot does not name it
        20: "A red boat in a harbour with gulls",
        30: "cat, tv",
    }
    long = chapter_titles([shot(0, 5)], [obs(0, 4, "one two three four five six seven eight "
                                                   "nine ten")], words=4)
    assert long == {0: "one two three four…"}
    carried = chapter_titles([shot(0, 5), shot(5, 9)], [obs(3, 8, "still talking here")])
    assert carried == {0: "still talking here", 5: "… still talking here"}
    vtt = to_chapters_webvtt(shots, titles=titles)
    assert [c[2] for c in parse_webvtt(vtt)] == [
        ["Welcome to the harbour tour this morning, everyone."], ["GATE 7 BOARDING"],
        ["A red boat in a harbour with gulls"], ["cat, tv"], ["Shot 5"], ["Shot 6"]]


def test_a_titler_reads_each_shot_and_the_rules_title_what_it_leaves():
    from vidseek.export import chapter_titles

    shots = [shot(0, 10), shot(10, 20), shot(20, 30)]
    found = [obs(1, 4, "Welcome to the harbour tour."), obs(2, 5, "GATE 7", kind="text"),
             obs(12, 15, "Boats leave at noon.")]
    read = []

    def titler(contents: str) -> str:
        read.append(contents)
        return "The harbour tour" if "harbour" in contents else ""

    titles = chapter_titles(shots, found, titler=titler)
    assert read == ["speech: Welcome to the harbour tour.\ntext: GATE 7",
                    "speech: Boats leave at noon."]  # the empty third shot is not asked
    assert titles == {0: "The harbour tour", 10: "Boats leave at noon."}


def test_a_language_model_titles_chapters(tmp_path):
    """The wiring, with llm-tiny (SmolLM2-135M, which writes what it likes): a title of at
    most the words asked for, or none, for every shot that says something."""
    from vidseek.export import chapter_titles, llm_titler
    from vidseek.models import resolve
    from vidseek.models.install import ModelInstallError, model_file

    pytest.importorskip("xllamacpp", reason="xllamacpp is not installed: pip install -e .")
    try:
        model_file("llm-tiny")
    except ModelInstallError:
        pytest.skip("llm-tiny is not installed: vidseek models install llm-tiny")
    calls = []
    titler = llm_titler(resolve("chat", "llm-tiny"), words=6)

    def counted(contents: str) -> str:
        calls.append(contents)
        title = titler(contents)
        assert isinstance(title, str) and len(title.split()) <= 6 and "\n" not in title
        return title

    found = [obs(1, 9, "Today we repair a bicycle: first the chain, then the brakes."),
             obs(11, 19, "Now we bake bread: flour, water, salt and yeast.")]
    titles = chapter_titles([shot(0, 10), shot(10, 20)], found, titler=counted)
    assert len(calls) == 2 and set(titles) == {0, 10}


def test_subtitles_can_name_the_sounds_heard():
    found = [obs(1, 3, "Thank you all for coming."),
             obs(3.5, 6, "Applause", kind="sound"), obs(3.5, 5, "Clapping", kind="sound"),
             obs(8, 12, "Music", kind="sound"), obs(9, 11, "Musical instrument", kind="sound"),
             obs(9, 11, "Guitar", kind="sound"), obs(10, 11, "Strum", kind="sound"),
             obs(12.5, 14, "  ", kind="sound")]
    assert to_srt(found) == to_srt(found[:1])  # only when asked
    cues = parse_webvtt(to_webvtt(found, sounds=True))
    assert [(c[0], c[1], c[2]) for c in cues] == [
        (1000, 3000, ["Thank you all for coming."]),
        (3500, 6000, ["[Clapping, Applause]"]),  # by start, then end
        (8000, 12000, ["[Music, Musical instrument, Guitar]"]),  # the first three heard
    ]
    assert "2\n00:00:03,500 --> 00:00:06,000\n[Clapping, Applause]\n" in to_srt(found, sounds=True)
