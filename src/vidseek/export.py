"""Export observations as subtitle and chapter files: SubRip, WebVTT, FFmpeg metadata.

Everything here is a pure function from observations to the text of a file; writing it
is the caller's job. Times are timeline seconds (``Observation.start`` / ``end``), rounded
to whole milliseconds, half up on the decimal value (``59.9995`` becomes ``00:01:00.000``).

* :func:`to_srt` and :func:`to_webvtt` turn ``speech`` observations into subtitles.
* :func:`to_chapters_webvtt` and :func:`to_ffmetadata_chapters` turn ``shot``
  observations into chapters, for ``<track kind="chapters">`` or for
  ``ffmpeg -i video -i chapters.txt -map_metadata 1 -map_chapters 1 ...``.
* :func:`chapter_titles` names each shot from what it says or shows (the first words
  of its speech, its screen text, its caption, its labels), for the chapters' ``titles``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from vidseek.types import Observation

if TYPE_CHECKING:
    from vidseek.models.protocols import ChatModel

__all__ = [
    "chapter_titles",
    "format_timestamp",
    "to_chapters_webvtt",
    "to_ffmetadata_chapters",
    "to_srt",
    "to_webvtt",
]

LINE_WIDTH = 42
"""Subtitle lines are wrapped at this many characters, on word boundaries."""

MAX_LINES = 2
"""A subtitle cue holds at most this many lines; longer text is split into more cues."""


# -- time stamps ---------------------------------------------------------------------------


def _to_ms(seconds: float) -> int:
    """Whole milliseconds for ``seconds``: half up on the decimal value, never negative."""
    if not math.isfinite(seconds):
        raise ValueError(f"time must be a finite number of seconds, got {seconds!r}")
    # str() gives the shortest decimal that reads back as the same float, so 59.9995 is
    # rounded as the 59.9995 a person wrote rather than as 59.99949999999999761...
    ms = (Decimal(str(float(seconds))) * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, int(ms))


def _format_ms(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def format_timestamp(seconds: float, *, separator: str = ".") -> str:
    """Format ``seconds`` as ``HH:MM:SS<separator>mmm``.

    ``separator`` is ``"."`` for WebVTT and ``","`` for SubRip. Milliseconds are rounded
    half up (``59.9995`` gives ``00:01:00.000``), negative times become zero, and hours
    are never clipped: they take as many digits as they need (``100:00:00.000``).

    Raises:
        ValueError: ``seconds`` is NaN or infinite.
    """
    return _format_ms(_to_ms(seconds), separator)


# -- cues ----------------------------------------------------------------------------------


def _span_ms(observation: Observation) -> tuple[int, int]:
    """Start and end in milliseconds, with the end at least 1 ms after the start."""
    start = _to_ms(observation.start)
    end = _to_ms(observation.end)
    if end <= start:
        end = start + 1
    return start, end


def _sorted_of_kind(observations: Iterable[Observation], kind: str) -> list[Observation]:
    """The observations of ``kind``, by start then end (stable for exact ties)."""
    chosen = [o for o in observations if o.kind == kind]
    chosen.sort(key=lambda o: (o.start, o.end))
    return chosen


def _split_times(start: int, end: int, weights: list[int]) -> list[tuple[int, int]]:
    """Divide ``start..end`` (ms) into consecutive pieces in proportion to ``weights``.

    Every piece lasts at least 1 ms; when the span is too short for that, the last
    pieces run past ``end``.
    """
    total = sum(weights) or 1
    spans = []
    done = 0
    previous = start
    for weight in weights:
        done += weight
        boundary = max(start + round((end - start) * done / total), previous + 1)
        spans.append((previous, boundary))
        previous = boundary
    return spans


def _speech_cues(observations: Iterable[Observation]) -> list[tuple[int, int, list[str]]]:
    """``(start_ms, end_ms, lines)`` for each subtitle cue, in order.

    Text is whitespace-normalised and wrapped at :data:`LINE_WIDTH` on word boundaries
    (a single word longer than that stays whole). Text that needs more than
    :data:`MAX_LINES` lines becomes several cues sharing the observation's time in
    proportion to their number of characters. Observations with no text are skipped.
    """
    cues = []
    for observation in _sorted_of_kind(observations, "speech"):
        lines = textwrap.wrap(
            " ".join(observation.text.split()),
            width=LINE_WIDTH,
            break_long_words=False,
            break_on_hyphens=False,
        )
        if not lines:
            continue
        groups = [lines[i : i + MAX_LINES] for i in range(0, len(lines), MAX_LINES)]
        start, end = _span_ms(observation)
        weights = [sum(len(line) for line in group) for group in groups]
        for (piece_start, piece_end), group in zip(_split_times(start, end, weights), groups):
            cues.append((piece_start, piece_end, group))
    return cues


SOUND_LABELS = 3
"""A sound cue names at most this many of the events heard together."""


def _sound_cues(observations: Iterable[Observation]) -> list[tuple[int, int, list[str]]]:
    """``(start_ms, end_ms, ["[Applause]"])`` cues from the ``sound`` observations, as
    subtitles for the deaf and hard of hearing write them: events that overlap make one cue
    (AudioSet labels come in layers: "Music", "Musical instrument", "Ukulele"), naming the
    first few labels heard."""
    cues: list[tuple[int, int, list[str]]] = []
    for observation in _sorted_of_kind(observations, "sound"):
        label = " ".join(observation.text.split())
        if not label:
            continue
        start, end = _span_ms(observation)
        if cues and start < cues[-1][1]:
            _, last_end, labels = cues[-1]
            cues[-1] = (cues[-1][0], max(last_end, end),
                        labels if label in labels else [*labels, label])
        else:
            cues.append((start, end, [label]))
    return [(start, end, [f"[{', '.join(labels[:SOUND_LABELS])}]"])
            for start, end, labels in cues]


def _cues(observations: Iterable[Observation], sounds: bool) -> list[tuple[int, int, list[str]]]:
    observations = list(observations)
    cues = _speech_cues(observations)
    if sounds:
        cues = sorted(cues + _sound_cues(observations), key=lambda cue: cue[:2])
    return cues


def _escape_webvtt(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as WebVTT cue text requires (which also keeps ``-->``
    out of it)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- subtitles -----------------------------------------------------------------------------


def to_srt(observations: Iterable[Observation], *, sounds: bool = False) -> str:
    """SubRip (``.srt``) subtitles from the ``speech`` observations (and, with ``sounds``,
    cues such as ``[Applause]`` from the ``sound`` ones); other kinds are ignored.

    Cues are numbered from 1 in order of start time, with ``HH:MM:SS,mmm`` times, at most
    two lines of about 42 characters each (longer text is split into several cues that
    share its time), a blank line between cues and a final newline. No speech gives ``""``.
    Text is written as is: SubRip has no escaping.
    """
    blocks = [
        f"{number}\n{_format_ms(start, ',')} --> {_format_ms(end, ',')}\n" + "\n".join(lines)
        for number, (start, end, lines) in enumerate(_cues(observations, sounds), start=1)
    ]
    return "".join(block + "\n\n" for block in blocks).removesuffix("\n")


def to_webvtt(observations: Iterable[Observation], *, sounds: bool = False) -> str:
    """WebVTT (``.vtt``) subtitles from the ``speech`` observations (and, with ``sounds``,
    the sound cues of :func:`to_srt`); other kinds are ignored.

    The same cues as :func:`to_srt`, after a ``WEBVTT`` header, with ``HH:MM:SS.mmm``
    times, no cue numbers, and ``&``, ``<``, ``>`` escaped as character references.
    No speech gives just ``"WEBVTT\\n"``.
    """
    blocks = [
        f"{_format_ms(start, '.')} --> {_format_ms(end, '.')}\n"
        + "\n".join(_escape_webvtt(line) for line in lines)
        for start, end, lines in _cues(observations, sounds)
    ]
    return "WEBVTT\n" + "".join("\n" + block + "\n" for block in blocks)


# -- chapters ------------------------------------------------------------------------------


def _chapters(
    shots: Iterable[Observation], titles: dict[float, str] | None
) -> list[tuple[int, int, str]]:
    """``(start_ms, end_ms, title)`` for each ``shot`` observation, in order.

    The title is ``titles[shot.start]`` (keys are matched to the millisecond), else the
    shot's own ``text``, else ``"Shot N"`` (N counts from 1 in time order); blank titles
    fall through to the next choice. A chapter that would overlap the next one is ended
    where the next begins, since chapters must not overlap, but still lasts at least 1 ms.
    """
    by_ms = {_to_ms(start): title for start, title in (titles or {}).items()}
    chapters = []
    for number, shot in enumerate(_sorted_of_kind(shots, "shot"), start=1):
        start, end = _span_ms(shot)
        title = by_ms.get(start, "").strip() or shot.text.strip() or f"Shot {number}"
        chapters.append((start, end, title))
    for i in range(len(chapters) - 1):
        start, end, title = chapters[i]
        next_start = chapters[i + 1][0]
        if end > next_start:
            chapters[i] = (start, max(next_start, start + 1), title)
    return chapters


TITLE_WORDS = 8
"""A chapter title taken from speech or screen text keeps at most this many words."""

_TITLE_SOURCES = ("speech", "text", "caption", "visual")
"""Kinds a chapter title is taken from, in order of preference."""


def chapter_titles(shots: Iterable[Observation], observations: Iterable[Observation], *,
                   words: int = TITLE_WORDS,
                   titler: Callable[[str], str] | None = None) -> dict[float, str]:
    """A title for each shot, from what is said or shown in it.

    For each shot, in order of preference: the first words of the first speech that begins
    in it; the first line of screen text that appears in it; the start of the caption that
    covers most of it; the object labels and scene tags seen in it (``"cat, tv"``); the first
    words of speech that goes on from an earlier shot, marked with an ellipsis. A shot with
    none of these gets no title (the chapter writers then call it ``Shot N``).

    Args:
        shots: the ``shot`` observations (other kinds are ignored).
        observations: the video's other observations (speech, text, caption, visual).
        words: at most this many words of speech, screen text or caption.
        titler: writes a title from what is said and shown in a shot (one line per
            observation, see :func:`llm_titler`); the rules above title the shots it leaves
            untitled (an empty reply) and the shots with nothing said or shown.

    Returns:
        Titles keyed by the shot's start, as :func:`to_chapters_webvtt` takes them.
    """
    found = [o for o in observations if o.kind in _TITLE_SOURCES and o.text.strip()]
    titles = {}
    for shot in _sorted_of_kind(shots, "shot"):
        title = _title(shot, found, words)
        if title and titler is not None:
            title = titler(_contents(shot, found)) or title
        if title:
            titles[shot.start] = title
    return titles


_CONTENTS_CHARS = 1200  # what a titler reads of one shot: enough for a minute of speech


def _contents(shot: Observation, found: list[Observation]) -> str:
    """What is said and shown in a shot, one ``kind: text`` line per observation, in time
    order (speech that runs on from an earlier shot included)."""
    inside = sorted((o for o in found if o.start < shot.end and o.end > shot.start),
                    key=lambda o: (o.start, _TITLE_SOURCES.index(o.kind)))
    lines = list(dict.fromkeys(f"{o.kind}: {' '.join(o.text.split())}" for o in inside))
    return "\n".join(lines)[:_CONTENTS_CHARS]


def llm_titler(chat: ChatModel, *, words: int = TITLE_WORDS) -> Callable[[str], str]:
    """A titler for :func:`chapter_titles` that asks a chat model (e.g. the installed
    ``llm``) for a title of at most ``words`` words: one short call per chapter, temperature
    0. A reply that is empty or too long after tidying gives no title (the rules' is kept)."""
    from vidseek.models.messages import ChatMessage

    system = ChatMessage.system(
        "You title the chapters of a video. Given what is said and shown in a chapter, reply "
        f"with a title of at most {words} words: no quotes, no period, nothing else.")

    def title(contents: str) -> str:
        reply = chat.chat([system, ChatMessage.user(contents)], max_tokens=4 * words,
                          temperature=0.0)
        line = next((ln for ln in reply.text.splitlines() if ln.strip()), "")
        line = line.strip().strip("\"'`*#").removeprefix("Title:").strip().rstrip(".")
        return line if 0 < len(line.split()) <= words else ""

    return title


def _title(shot: Observation, found: list[Observation], words: int) -> str:
    inside = [o for o in found if o.start < shot.end and o.end > shot.start]

    def starting(kind: str) -> list[Observation]:
        return sorted((o for o in inside if o.kind == kind and o.start >= shot.start),
                      key=lambda o: o.start)

    for kind in ("speech", "text"):
        first = starting(kind)
        if first:
            return _first_words(first[0].text, words)
    captions = [o for o in inside if o.kind == "caption"]
    if captions:
        best = max(captions, key=lambda o: min(o.end, shot.end) - max(o.start, shot.start))
        return _first_words(best.text, words)
    labels = list(dict.fromkeys(o.text.strip() for o in inside if o.kind == "visual"))
    if labels:
        return ", ".join(labels[:3])
    going_on = sorted((o for o in inside if o.kind == "speech"), key=lambda o: o.start)
    if going_on:
        return "… " + _first_words(going_on[0].text, words)
    return ""


def _first_words(text: str, words: int) -> str:
    """The first ``words`` words of ``text`` (up to the end of its first sentence), with an
    ellipsis where words were left out."""
    said = " ".join(text.split())
    for end in (". ", "? ", "! "):
        said = said.split(end)[0] + (end.strip() if end in said else "")
    kept = said.split()
    return " ".join(kept[:words]) + ("…" if len(kept) > words else "")


def to_chapters_webvtt(
    shots: Iterable[Observation], *, titles: dict[float, str] | None = None
) -> str:
    """WebVTT chapters, for ``<track kind="chapters">``, from the ``shot`` observations.

    One cue per shot in time order, titled from ``titles`` (keyed by the shot's start in
    seconds), else the shot's ``text`` if not blank, else ``"Shot N"``. Titles are put on
    one line and escaped like any WebVTT cue text. No shots gives just ``"WEBVTT\\n"``.
    """
    blocks = [
        f"{_format_ms(start, '.')} --> {_format_ms(end, '.')}\n"
        + _escape_webvtt(" ".join(title.split()))
        for start, end, title in _chapters(shots, titles)
    ]
    return "WEBVTT\n" + "".join("\n" + block + "\n" for block in blocks)


def _escape_ffmetadata(value: str) -> str:
    """Backslash-escape ``=``, ``;``, ``#``, ``\\`` and newlines, as ffmpeg's metadata
    format requires (an escaped newline continues the value on the next line)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for special in "\\=;#\n":
        value = value.replace(special, "\\" + special)
    return value


def to_ffmetadata_chapters(
    shots: Iterable[Observation], *, titles: dict[float, str] | None = None
) -> str:
    """An FFmpeg metadata file (``;FFMETADATA1``) with one ``[CHAPTER]`` per shot.

    Chapters use ``TIMEBASE=1/1000`` with integer millisecond ``START`` and ``END``, and
    are titled as in :func:`to_chapters_webvtt`; ``=``, ``;``, ``#``, ``\\`` and newlines
    in titles are escaped with a backslash. No shots gives just ``";FFMETADATA1\\n"``.
    Use it with ``ffmpeg -i video -i chapters.txt -map_metadata 1 -map_chapters 1``.
    """
    blocks = [
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={start}\nEND={end}\n"
        f"title={_escape_ffmetadata(title)}\n"
        for start, end, title in _chapters(shots, titles)
    ]
    return ";FFMETADATA1\n" + "".join("\n" + block for block in blocks)
