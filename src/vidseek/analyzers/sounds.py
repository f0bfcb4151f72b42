"""Sounds: what is heard besides words (a dog barking, applause, music, an engine), as
``sound`` observations.

Every 0.96 s of audio gets AudioSet class probabilities (`vidseek.models.sounds`). A label
opens when its probability reaches `on` and stays open while it stays above `off`, one
quiet patch forgiven (hysteresis), so a bark is one observation, not twenty. Each
observation's text is the AudioSet label ("Dog", "Bark", "Applause", "Music"), so full-text
and meaning search find it ("a dog barking" matches "Dog" and "Bark"). Singing and
music come out as labels too, usable as filters ("music under speech" is a Music
observation overlapping speech); speech itself is left to the speech analyzer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from vidseek.media import AudioChunk
from vidseek.models.protocols import SoundTagger
from vidseek.models.sounds import PATCH_SAMPLES, PATCH_SECONDS, SAMPLE_RATE
from vidseek.types import Observation

__all__ = ["SoundAnalyzer"]

_IGNORED = frozenset({
    # the absence of sound is not an event to search for
    "Silence",
    # speech is the speech analyzer's (its words, with times); as a label it matched every
    # question about what is said and crowded out the transcript (on the fact videos the
    # answers' evidence overlapped the stated fact 17 times in 24, under the 80% it keeps
    # without them)
    "Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue",
    "Babbling", "Speech synthesizer",
})


@dataclass
class _Open:
    start: float
    last: float
    """Start of the last patch above ``off``."""
    peak: float
    misses: int = 0


class SoundAnalyzer:
    """An `AudioAnalyzer` that tags sound events.

    Each observation has ``kind="sound"``, the AudioSet label as ``text``, ``source`` naming
    the tagger, and ``data={"label": str, "confidence": float}`` (the label's highest
    probability over the observation). Times are those of the 0.96 s patches: ``start`` is
    the start of the first patch that heard it, ``end`` the end of the last.

    Args:
        tagger: the sound tagger.
        on: probability at which a label opens.
        off: probability under which an open label counts a miss.
        patience: misses forgiven before a label closes.
    """

    name = "sounds"
    version = "1"

    def __init__(self, tagger: SoundTagger, *, on: float = 0.5, off: float = 0.3,
                 patience: int = 1) -> None:
        if not 0 < off <= on < 1:
            raise ValueError(f"need 0 < off <= on < 1, got on={on}, off={off}")
        self.tagger = tagger
        self.on, self.off, self.patience = on, off, patience

    def analyze(self, video_id: str, chunks: Iterable[AudioChunk], duration: float, *,
                since: float = 0.0, until: float = math.inf) -> Iterator[Observation]:
        """Sound observations of the audio, lazily, in the order they close."""
        names = [c.name for c in self.tagger.classes]
        size = round(PATCH_SECONDS * SAMPLE_RATE)
        end_of_video = duration if duration > 0 else math.inf
        open_: dict[int, _Open] = {}
        buffer = np.zeros(0, np.float32)
        at = None  # timeline start of the buffer
        for chunk in chunks:
            if at is None:
                at = chunk.start
            buffer = np.concatenate([buffer, chunk.samples.astype(np.float32)])
            while buffer.size >= PATCH_SAMPLES:  # a whole patch, read past the next start
                yield from self._patch(video_id, names, open_, at, buffer[:PATCH_SAMPLES],
                                       end_of_video)
                buffer, at = buffer[size:], at + PATCH_SECONDS
        if at is not None and buffer.size >= size // 4:  # a last partial patch, if not tiny
            yield from self._patch(video_id, names, open_, at, buffer, end_of_video)
        for index in sorted(open_, key=lambda i: open_[i].start):
            yield self._observation(video_id, names[index], open_.pop(index), end_of_video)

    def _patch(self, video_id: str, names: list[str], open_: dict[int, _Open], at: float,
               samples: np.ndarray, end_of_video: float) -> Iterator[Observation]:
        probabilities = self.tagger.tag(samples)[0]
        heard = set(np.flatnonzero(probabilities >= self.off).tolist())
        for index in list(open_):
            track = open_[index]
            if index in heard:
                track.last, track.misses = at, 0
                track.peak = max(track.peak, float(probabilities[index]))
                continue
            track.misses += 1
            if track.misses > self.patience:
                yield self._observation(video_id, names[index], open_.pop(index),
                                        end_of_video)
        for index in np.flatnonzero(probabilities >= self.on).tolist():
            if index not in open_ and names[index] not in _IGNORED:
                open_[index] = _Open(at, at, float(probabilities[index]))

    def _observation(self, video_id: str, label: str, track: _Open,
                     end_of_video: float) -> Observation:
        end = min(track.last + PATCH_SECONDS, end_of_video)
        return Observation(video_id=video_id, start=min(track.start, end), end=end,
                           kind="sound", text=label, source=self.tagger.name,
                           data={"label": label, "confidence": round(track.peak, 4)})
