"""Speech: what is said, as ``speech`` observations with word times."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from vidseek.media import AudioChunk, Gap
from vidseek.models import resolve
from vidseek.models.protocols import DEFAULT_SPECS, Segment, SpeechRecognizer
from vidseek.types import Observation

__all__ = ["SpeechAnalyzer", "Transcript"]


class Transcript(Iterator[Observation]):
    """Speech observations, lazily, and the stretches of audio that could not be heard.

    Iterate it for the observations. ``gaps`` fills as the audio is read: the stretches
    (timeline seconds) that start in the range transcribed and whose audio could not be
    decoded (read as silence, see `vidseek.media.read_audio`); speech there is missing from
    the transcript. Once the iteration ends, ``warnings`` says so in words.
    """

    def __init__(self, observations: Iterator[Observation], gaps: list[Gap]) -> None:
        self._observations = observations
        self.gaps = gaps
        """Damaged stretches of the audio: ``(start, end)`` timeline seconds, in order."""

    def __next__(self) -> Observation:
        return next(self._observations)

    @property
    def warnings(self) -> list[str]:
        """One sentence per damaged stretch, e.g. ``"audio from 6.31 to 7.51 s cannot be
        decoded: not transcribed"``."""
        return [f"audio from {a:.2f} to {b:.2f} s cannot be decoded: not transcribed"
                for a, b in self.gaps]


class SpeechAnalyzer:
    """An `AudioAnalyzer` that transcribes speech, one observation per recognised segment.

    Each observation has ``kind="speech"``, the segment's text and times, ``source`` naming
    the recognizer, and ``data``::

        {"words": [[start, end, word], ...],  # timeline seconds
         "avg_logprob": float, "no_speech_prob": float}

    Segments with no text, and segments the model itself thinks are not speech (both
    ``no_speech_prob > max_no_speech_prob`` and ``avg_logprob < min_avg_logprob``, whisper's
    own silence rule), are dropped.

    Args:
        recognizer: a `SpeechRecognizer`, or a spec string for `WhisperRecognizer`
            (default ``whisper:tiny.en``, embedded). A spec is checked at once; the model
            loads on first use.
        max_no_speech_prob: see above.
        min_avg_logprob: see above.

    Raises:
        WhisperModelError: `recognizer` is a spec that cannot be used.
    """

    name = "speech"
    version = "1"

    def __init__(self, recognizer: SpeechRecognizer | str = DEFAULT_SPECS["speech"], *,
                 max_no_speech_prob: float = 0.6, min_avg_logprob: float = -1.0) -> None:
        if isinstance(recognizer, str):
            recognizer = resolve("speech", recognizer)
        self.recognizer = recognizer
        self.max_no_speech_prob = max_no_speech_prob
        self.min_avg_logprob = min_avg_logprob

    def analyze(self, video_id: str, chunks: Iterable[AudioChunk], duration: float, *,
                since: float = 0.0, until: float = math.inf) -> Transcript:
        """Transcribe the audio.

        Args:
            video_id: the video's id.
            chunks: 16 kHz mono audio chunks in time order (`vidseek.media.read_audio`).
            duration: seconds of video; times are clipped to [0, duration] (a duration that
                is not positive clips at 0 only).
            since: transcribe only the recognizer's windows that start at or after this...
            until: ...and before this (see `WhisperRecognizer.transcribe`).

        Returns:
            Speech observations, lazily, in time order, and the stretches of audio that
            could not be decoded (see `Transcript`).
        """
        gaps: list[Gap] = []
        watched = _watch(chunks, gaps, since, until)
        return Transcript(self._observations(video_id, watched, duration, since, until), gaps)

    def _observations(self, video_id: str, chunks: Iterable[AudioChunk], duration: float,
                      since: float, until: float) -> Iterator[Observation]:
        end = duration if duration > 0 else math.inf
        for segment in self.recognizer.transcribe(chunks, since=since, until=until):
            if self._keep(segment):
                obs = _observation(video_id, segment, end, self.recognizer.name)
                if obs is not None:
                    yield obs

    def _keep(self, segment: Segment) -> bool:
        """False for empty text and for what is very likely not speech."""
        if not segment.text.strip():
            return False
        return not (segment.no_speech_prob > self.max_no_speech_prob
                    and segment.avg_logprob < self.min_avg_logprob)


def _watch(chunks: Iterable[AudioChunk], gaps: list[Gap], since: float,
           until: float) -> Iterator[AudioChunk]:
    """The chunks, noting in `gaps` their damaged stretches that start in [since, until)
    (a stretch cut by a chunk border is one stretch)."""
    last_end = -math.inf  # end of the last stretch seen, noted or not
    for chunk in chunks:
        for start, end in chunk.gaps:
            if abs(start - last_end) < 1e-6:  # the stretch goes on from the last chunk
                if gaps and abs(gaps[-1][1] - start) < 1e-6:
                    gaps[-1] = (gaps[-1][0], end)
            elif since <= start < until:
                gaps.append((start, end))
            last_end = end
        yield chunk


def _observation(video_id: str, segment: Segment, end: float, source: str) -> Observation | None:
    """The observation of one segment clipped to [0, end], or None when it lies outside."""

    def clip(t: float) -> float:
        return min(max(t, 0.0), end)

    if segment.start >= end:
        return None
    start = clip(segment.start)
    stop = max(start, clip(segment.end))
    words = [[clip(w.start), clip(w.end), w.word] for w in segment.words if w.start < end]
    return Observation(
        video_id=video_id, start=start, end=stop, kind="speech", text=segment.text.strip(),
        data={"words": words, "avg_logprob": segment.avg_logprob,
              "no_speech_prob": segment.no_speech_prob},
        source=source)
