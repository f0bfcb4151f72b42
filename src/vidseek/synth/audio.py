"""The audio track: silence with speech clips mixed in, encoded chunk by chunk.

The track is a buffer of samples; buffer sample n plays at timeline (lead + n) / rate,
where `lead` is the container's AAC priming shift (see `vidseek.synth.containers`). Only the
chunk being encoded is ever in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from vidseek.synth.speech import SpeechClip
from vidseek.synth.truth import SpeechTruth

__all__ = ["AUDIO_RATE", "AudioTrack", "PlacedClip", "place_speech"]

AUDIO_RATE = 48000
"""Sample rate of the audio track."""
_FRAME = 1024  # AAC frame size


@dataclass(frozen=True)
class PlacedClip:
    """A clip and the buffer index of its first sample (negative: its head is cut off)."""

    clip: SpeechClip
    offset: int


def place_speech(clips: list[SpeechClip], *, rate: int, lead: int,
                 duration: float) -> tuple[list[PlacedClip], list[SpeechTruth]]:
    """Position clips on the track and measure where their voiced audio really lands.

    Args:
        clips: synthesized sentences.
        rate: track sample rate.
        lead: samples of timeline before buffer sample 0.
        duration: timeline seconds of the track.

    Returns:
        The placed clips and their truth (start/end of voiced audio), both in start order.

    Raises:
        ValueError: a sentence's voice runs past the end of the video, or two sentences'
            voiced audio overlap.
    """
    total = round(duration * rate) - lead
    placed, truth = [], []
    for clip in sorted(clips, key=lambda c: c.spec.start):
        offset = round(clip.spec.start * rate) - lead
        first, stop = offset + clip.voiced[0], offset + clip.voiced[1]
        if stop > total:
            raise ValueError(f"speech {clip.spec.text!r} is voiced until "
                             f"{(lead + stop) / rate:.3f} s, after the video ends "
                             f"({duration:g} s); start it earlier or lengthen the video")
        first = max(first, 0)  # a clip at the very start loses what precedes the track
        item = SpeechTruth(text=clip.spec.text, start=(lead + first) / rate,
                           end=(lead + stop) / rate)
        if truth and item.start < truth[-1].end:
            raise ValueError(f"speech {truth[-1].text!r} (voiced {truth[-1].start:.3f}-"
                             f"{truth[-1].end:.3f} s) overlaps {item.text!r} (from "
                             f"{item.start:.3f} s); move one of them")
        placed.append(PlacedClip(clip, offset))
        truth.append(item)
    return placed, truth


class AudioTrack:
    """Encodes the mono track in AAC frames as the video advances.

    Args:
        stream: the container's audio stream (AAC, mono, `rate`).
        placed: clips from `place_speech`.
        rate: sample rate.
        lead: samples of timeline before buffer sample 0.
        first_pts: file pts (in 1 / rate) of timeline 0.
        duration: timeline seconds of audio to write.
    """

    def __init__(self, stream: av.audio.stream.AudioStream, placed: list[PlacedClip], *,
                 rate: int, lead: int, first_pts: int, duration: float) -> None:
        self.stream = stream
        self.placed = placed
        self.rate = rate
        self.lead = lead
        self.first_pts = first_pts
        self.total = max(0, round(duration * rate) - lead)
        self._next = 0  # next buffer sample to encode
        self._pending = sorted(placed, key=lambda p: p.offset, reverse=True)
        self._playing: list[tuple[PlacedClip, np.ndarray]] = []

    def _mix(self, start: int, stop: int) -> np.ndarray:
        # load clips as they begin and drop them once played: memory stays flat
        while self._pending and self._pending[-1].offset < stop:
            item = self._pending.pop()
            self._playing.append((item, item.clip.load()))
        out = np.zeros(stop - start, np.float32)
        for item, samples in self._playing:
            a, b = max(start, item.offset), min(stop, item.offset + len(samples))
            if a < b:
                out[a - start:b - start] += samples[a - item.offset:b - item.offset]
        self._playing = [(it, x) for it, x in self._playing if it.offset + len(x) > stop]
        return np.clip(out, -1, 1)

    def _encode(self, stop: int) -> Iterator[av.Packet]:
        while self._next < stop:
            n = min(_FRAME, self.total - self._next)
            frame = av.AudioFrame.from_ndarray(self._mix(self._next, self._next + n)[None, :],
                                               format="fltp", layout="mono")
            frame.sample_rate = self.rate
            frame.time_base = Fraction(1, self.rate)
            frame.pts = self.first_pts + self.lead + self._next
            self._next += n
            yield from self.stream.encode(frame)

    def encode_until(self, t: float) -> Iterator[av.Packet]:
        """Encode every sample before timeline `t`, in whole AAC frames.

        Args:
            t: timeline seconds.

        Returns:
            Packets to mux.
        """
        stop = min(self.total, round(t * self.rate) - self.lead)
        # whole frames only (the encoder wants full frames until the last one)
        stop = self._next + max(0, stop - self._next) // _FRAME * _FRAME
        yield from self._encode(stop)

    def finish(self) -> Iterator[av.Packet]:
        """Encode the rest of the track and flush the encoder.

        Returns:
            The remaining packets.
        """
        yield from self._encode(self.total)
        yield from self.stream.encode(None)
