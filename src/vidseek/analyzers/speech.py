"""Speech: what is said, as ``speech`` observations with word times."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from vidseek.media import AudioChunk
from vidseek.models import resolve
from vidseek.models.protocols import DEFAULT_SPECS, Segment, SpeechRecognizer
from vidseek.types import Observation

__all__ = ["SpeechAnalyzer"]


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
                since: float = 0.0, until: float = math.inf) -> Iterator[Observation]:
        """Transcribe the audio.

        Args:
            video_id: the video's id.
            chunks: 16 kHz mono audio chunks in time order (`vidseek.media.read_audio`).
            duration: seconds of video; times are clipped to [0, duration] (a duration that
                is not positive clips at 0 only).
            since: transcribe only the recognizer's windows that start at or after this...
            until: ...and before this (see `WhisperRecognizer.transcribe`).

        Returns:
            Speech observations, lazily, in time order.
        """
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
