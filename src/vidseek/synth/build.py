"""Write a synthetic video and its ground truth from a `Script`."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av

from vidseek.synth.audio import AUDIO_RATE, AudioTrack, PlacedClip, place_speech
from vidseek.synth.compose import ContentRenderer
from vidseek.synth.containers import ContainerProfile, container_for
from vidseek.synth.looks import Look, resolve_looks
from vidseek.synth.overlays import Overlays
from vidseek.synth.script import Script
from vidseek.synth.speech import ESPEAK, SpeechClip, find_espeak, synthesize
from vidseek.synth.timecode import draw_timecode_yuv
from vidseek.synth.timeline import BoundaryRecorder, Clock, Cutlist
from vidseek.synth.truth import (
    BoundaryTruth,
    GroundTruth,
    PictureTruth,
    ShotTruth,
    SpeechTruth,
    TextTruth,
    save_truth,
    truth_path,
)

__all__ = ["build"]

_PROGRESS_STEPS = 200


def _speak(script: Script, workdir: str) -> list[SpeechClip]:
    if not script.speech:
        return []
    exe = find_espeak()
    if exe is None:
        warnings.warn(f"{ESPEAK} is not on PATH: the video gets no speech and the truth an "
                      f"empty speech list ({len(script.speech)} item(s) left out). Install it "
                      f"with `apt-get install {ESPEAK}`.", RuntimeWarning, stacklevel=3)
        return []
    return [synthesize(spec, AUDIO_RATE, workdir, exe, i) for i, spec in enumerate(script.speech)]


def _video_stream(container: av.container.OutputContainer, script: Script,
                  clock: Clock) -> av.video.stream.VideoStream:
    keyint = max(1, round(script.gop_seconds * script.fps))
    stream = container.add_stream("libx264", rate=clock.rate, options={
        "preset": script.preset, "crf": str(script.crf), "g": str(keyint)})
    stream.width, stream.height, stream.pix_fmt = script.width, script.height, "yuv420p"
    # pts in our own ticks: every frame time (and half frame, and ms) is a whole number
    stream.time_base = Fraction(1, clock.den)
    stream.codec_context.time_base = Fraction(1, clock.den)
    if script.rotation:
        # The display matrix is counter-clockwise; Script.rotation is clockwise like probe().
        stream.set_display_rotation(-script.rotation)
    return stream


def _audio_stream(container: av.container.OutputContainer) -> av.audio.stream.AudioStream:
    stream = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
    stream.bit_rate = 64000
    stream.time_base = Fraction(1, AUDIO_RATE)
    return stream


def _shots(script: Script, looks: list[Look], boundaries: list[BoundaryTruth]) -> list[ShotTruth]:
    edges = [0.0] + [b.time for b in boundaries] + [script.duration]
    return [ShotTruth(start=edges[i], end=edges[i + 1], content=shot.content, label=shot.label,
                      photo=looks[i].photo, color=looks[i].color)
            for i, shot in enumerate(script.shots)]


def _start_time(path: Path) -> float:
    """The file's first video pts in seconds, read back (muxers may shift timestamps)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.start_time is not None:
            return float(stream.start_time * stream.time_base)
        return (container.start_time or 0) / 1e6


class _Encoded(NamedTuple):
    frames: int
    boundaries: list[BoundaryTruth]
    looks: list[Look]
    times: list[float]  # every frame's timeline time, only when not exactly k / fps


def _encode(script: Script, path: Path, profile: ContainerProfile, clock: Clock,
            speech: list[PlacedClip], progress: Callable[[float], None] | None) -> _Encoded:
    """Render, encode and mux every frame and the audio into `path`."""
    cutlist = Cutlist(script.shots)
    looks = resolve_looks(script.shots, script.seed)
    content = ContentRenderer(script, looks, cutlist)
    overlays = Overlays(script)
    recorder = BoundaryRecorder(cutlist)
    start_ticks = round(script.start_time * clock.den)
    n_frames = sum(1 for _ in clock.ticks())
    step = max(1, n_frames // _PROGRESS_STEPS)
    times: list[float] = []
    # not video.time_base: the muxer may change that once the header is written
    time_base = Fraction(1, clock.den)
    with av.open(str(path), "w", format=profile.format) as container:
        video = _video_stream(container, script, clock)
        audio = None
        if script.audio:
            audio = AudioTrack(_audio_stream(container), speech, rate=AUDIO_RATE,
                               lead=profile.audio_lead,
                               first_pts=round(start_ticks * AUDIO_RATE / clock.den),
                               duration=script.duration)
        for k, tick in enumerate(clock.ticks()):
            t = tick / clock.den
            mix = cutlist.mix_at(t)
            recorder.add(t, mix)
            image = content.render(t, mix)
            overlays.paint(image, t)
            if script.timecode:
                # integer maths: the same ms whatever float t rounds to (halves round up)
                draw_timecode_yuv(image, (tick * 2000 + clock.den) // (2 * clock.den))
            frame = image.to_frame()
            frame.pts, frame.time_base = start_ticks + tick, time_base
            container.mux(video.encode(frame))
            if audio is not None:
                container.mux(list(audio.encode_until(t)))
            if not clock.exact:
                times.append(t)
            if progress is not None and k % step == 0:
                progress(k / n_frames)
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(list(audio.finish()))
    return _Encoded(n_frames, recorder.boundaries(), looks, times)


def build(script: Script, out: str | Path, *,
          progress: Callable[[float], None] | None = None) -> GroundTruth:
    """Write the video of `script` to `out` and its truth to `truth_path(out)`.

    The container follows the suffix (see `vidseek.synth.containers`): ``.mp4``/``.m4v``/
    ``.mov``, ``.mkv`` or ``.ts``. Memory stays flat whatever the duration. Both files are
    written under temporary names and renamed when complete; the folder of `out` is made
    when it does not exist.

    Args:
        script: what to build.
        out: the video file to write.
        progress: called with the fraction done, 0 to 1, as frames are encoded.

    Returns:
        The ground truth (also saved as JSON beside the video).

    Raises:
        ValueError: the container cannot carry the script (rotation in ``.ts``), espeak-ng
            failed, or spoken sentences overlap or run past the end.
        OSError: the folder of `out` cannot be made or written (a file of that name, no
            permission).
    """
    out = Path(out)
    profile = container_for(out)
    if script.rotation and not profile.rotation:
        raise ValueError(f"{out}: {out.suffix} cannot carry rotation metadata; use .mp4 or .mkv")
    out.parent.mkdir(parents=True, exist_ok=True)
    clock = Clock(script.fps, script.duration, vfr=script.vfr, seed=script.seed,
                  time_base_den=profile.time_base_den)
    partial = out.with_name(f".{out.name}.partial")
    speech_truth: list[SpeechTruth] = []
    with tempfile.TemporaryDirectory(prefix="vidseek-synth-") as workdir:
        placed = []
        if script.audio:
            clips = _speak(script, workdir)
            placed, speech_truth = place_speech(clips, rate=AUDIO_RATE, lead=profile.audio_lead,
                                                duration=script.duration)
        try:
            encoded = _encode(script, partial, profile, clock, placed, progress)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    truth = GroundTruth(
        video=out.name, duration=script.duration, width=script.width, height=script.height,
        fps=script.fps, vfr=script.vfr, rotation=script.rotation,
        start_time=_start_time(out), has_audio=script.audio, frame_count=encoded.frames,
        shots=_shots(script, encoded.looks, encoded.boundaries), boundaries=encoded.boundaries,
        texts=[TextTruth(text=t.text, start=t.start, end=t.end) for t in script.texts],
        speech=speech_truth,
        pictures=[PictureTruth(photo=p.photo, start=p.start, end=p.end) for p in script.pictures],
        frame_times=encoded.times or None,
    )
    save_truth(truth, truth_path(out))
    if progress is not None:
        progress(1.0)
    return truth
