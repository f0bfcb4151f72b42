"""Spoken sentences from espeak-ng, with their voiced span measured on the waveform."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vidseek.synth.script import SpeechSpec

__all__ = ["ESPEAK", "SILENCE", "SpeechClip", "find_espeak", "synthesize", "voiced_span"]

ESPEAK = "espeak-ng"
"""The program that speaks (``apt-get install espeak-ng``)."""

SILENCE = 0.01
"""Absolute amplitude (full scale = 1) at or below which a sample counts as silence."""


@dataclass(frozen=True)
class SpeechClip:
    """One synthesized sentence.

    Attributes:
        spec: what was asked for.
        path: ``.npy`` file of the mono float32 waveform at `rate`.
        length: number of samples.
        rate: samples per second.
        voiced: ``(first, stop)`` sample indices of the voiced part, stop exclusive.
    """

    spec: SpeechSpec
    path: Path
    length: int
    rate: int
    voiced: tuple[int, int]

    def load(self) -> np.ndarray:
        """The waveform, read from disk (only while it is being mixed)."""
        return np.load(self.path)


def find_espeak() -> str | None:
    """Locate espeak-ng.

    Returns:
        The executable's path on PATH, or None when it is not installed.
    """
    return shutil.which(ESPEAK)


def voiced_span(samples: np.ndarray, threshold: float = SILENCE) -> tuple[int, int] | None:
    """Trim leading and trailing silence.

    Args:
        samples: mono waveform, full scale 1.
        threshold: largest absolute amplitude that counts as silence.

    Returns:
        ``(first, stop)`` indices of the first loud sample and one past the last, or None
        when every sample is silent.
    """
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return None
    return int(loud[0]), int(loud[-1]) + 1


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM from {ESPEAK}")
        raw = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        channels, rate = wav.getnchannels(), wav.getframerate()
    return raw.reshape(-1, channels).mean(axis=1).astype(np.int16), rate


def _resample(pcm: np.ndarray, rate: int, target: int) -> np.ndarray:
    """16-bit mono PCM to float32 at `target` Hz with FFmpeg's resampler."""
    frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    parts = resampler.resample(frame) + resampler.resample(None)
    if not parts:
        return np.zeros(0, np.float32)
    return np.concatenate([p.to_ndarray().reshape(-1) for p in parts]).astype(np.float32)


def synthesize(spec: SpeechSpec, rate: int, workdir: str | Path, executable: str,
               index: int = 0) -> SpeechClip:
    """Speak one sentence with espeak-ng.

    The waveform is kept in `workdir` as a ``.npy`` file, so holding many clips for a long
    video costs no memory.

    Args:
        spec: the sentence, voice and rate.
        rate: sample rate of the audio track.
        workdir: a scratch folder that outlives the returned clip.
        executable: path of espeak-ng (from `find_espeak`).
        index: a number that keeps this clip's files apart from others in `workdir`.

    Returns:
        The clip with its voiced span.

    Raises:
        ValueError: espeak-ng failed (e.g. unknown voice) or produced only silence.
    """
    workdir = Path(workdir)
    text_file, wav_file = workdir / f"speech{index}.txt", workdir / f"speech{index}.wav"
    # text through a file: a sentence starting with "-" must not be read as an option
    text_file.write_text(spec.text, encoding="utf-8")
    cmd = [executable, "-v", spec.voice, "-s", str(spec.words_per_minute),
           "-w", str(wav_file), "-f", str(text_file)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not wav_file.exists():
        raise ValueError(f"{ESPEAK} could not speak {spec.text!r} with voice {spec.voice!r}: "
                         f"{done.stderr.strip() or f'exit code {done.returncode}'}")
    pcm, wav_rate = _read_wav(wav_file)
    samples = _resample(pcm, wav_rate, rate)
    span = voiced_span(samples)
    if span is None:
        raise ValueError(f"{ESPEAK} produced silence for {spec.text!r}")
    npy = workdir / f"speech{index}.npy"
    np.save(npy, samples)
    wav_file.unlink()
    return SpeechClip(spec, npy, len(samples), rate, span)
