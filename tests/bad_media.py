"""Small media files for robustness tests, written with PyAV: unusual but valid ones (extreme
shapes, old codecs, rotation, variable frame rate, one frame) and damaged ones (corrupt
headers, cut files, undecodable audio packets). ``tests/`` is on ``sys.path``: import as
``bad_media``."""

from __future__ import annotations

import struct
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

AUDIO_RATE = 48_000


def picture(width: int, height: int, k: int) -> np.ndarray:
    """Frame ``k`` of a moving pattern: a bright bar sliding over a gradient."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    grey = (x * 0.5 + y * 0.5 + k * 7) % 256
    image = np.repeat(grey.astype(np.uint8)[:, :, None], 3, axis=2)
    bar = (k * max(1, width // 12)) % max(1, width)
    image[:, bar : bar + max(1, width // 10)] = (250, 40, 40)
    return image


def beeps(seconds: float, rate: int = AUDIO_RATE) -> np.ndarray:
    """A 440-880 Hz tone switched on and off every quarter second: its timing shows."""
    t = np.arange(int(seconds * rate)) / rate
    tone = np.sin(2 * np.pi * (440 + 440 * (t % 1.0)) * t)
    return (0.5 * tone * ((t * 4).astype(int) % 2 == 0)).astype(np.float32)


def video(path: Path, *, width: int = 64, height: int = 48, seconds: float = 2.0,
          fps: int = 10, codec: str = "libx264", pix_fmt: str = "yuv420p",
          audio: bool = False, video_stream: bool = True, rotation: int = 0,
          times: list[float] | None = None, options: dict[str, str] | None = None,
          container_options: dict[str, str] | None = None) -> Path:
    """Write a small video.

    Args:
        codec, pix_fmt: the video encoder and its pixel format.
        audio: add an AAC (MP4/MOV/MKV) or PCM (WAV) track of `beeps`.
        video_stream: False writes audio only.
        rotation: degrees clockwise to show the stored frames rotated (display matrix).
        times: frame times in seconds (variable frame rate) instead of ``k / fps``.
        options: encoder options (``{"preset": "ultrafast"}`` for libx264 by default).
    """
    frames = times if times is not None else [k / fps for k in range(round(seconds * fps))]
    length = (frames[-1] + 1 / fps) if frames else seconds
    if options is None and codec == "libx264":
        options = {"preset": "ultrafast"}
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = None
        if video_stream:
            stream = out.add_stream(codec, rate=fps, options=options or {})
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            if times is not None:
                stream.codec_context.time_base = Fraction(1, 1000)
            if rotation:
                stream.set_display_rotation(-rotation)  # the matrix is counter-clockwise
        sound = _audio_stream(out, path) if audio else None
        samples = beeps(length) if audio else None
        sent = 0
        for k, t in enumerate(frames):
            if stream is not None:
                frame = av.VideoFrame.from_ndarray(picture(width, height, k), format="rgb24")
                if times is not None:
                    frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
                out.mux(stream.encode(frame))
            if sound is not None:
                sent = _encode_audio(out, sound, samples, sent, round((t + 1 / fps) * AUDIO_RATE))
        if sound is not None:
            _encode_audio(out, sound, samples, sent, len(samples))
            out.mux(sound.encode(None))
        if stream is not None:
            out.mux(stream.encode(None))
    return path


def _audio_stream(out, path: Path):
    codec = "pcm_s16le" if path.suffix in (".wav", ".avi") else "aac"
    stream = out.add_stream(codec, rate=AUDIO_RATE, layout="mono")
    if codec == "aac":
        stream.bit_rate = 64_000
    stream.time_base = Fraction(1, AUDIO_RATE)
    return stream


def _encode_audio(out, stream, samples: np.ndarray, sent: int, until: int) -> int:
    """Encode whole 1024-sample blocks up to sample `until` (a last short block only at the
    end of `samples`); returns the samples sent."""
    block = 1024
    fmt = "s16" if stream.codec_context.name == "pcm_s16le" else "fltp"
    while sent < len(samples) and (sent + block <= until or until >= len(samples)):
        piece = samples[sent : sent + block]
        data = (piece * 32767).astype(np.int16)[None] if fmt == "s16" else piece[None]
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
        frame.sample_rate, frame.pts = AUDIO_RATE, sent
        frame.time_base = Fraction(1, AUDIO_RATE)
        out.mux(stream.encode(frame))
        sent += len(piece)
    return sent


def wav(path: Path, seconds: float = 1.0) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((beeps(seconds, 16000) * 16000).astype("<i2").tobytes())
    return path


def audio_packets(path: Path) -> list[tuple[float, int, int]]:
    """``(time, byte position, size)`` of each audio packet of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(float(p.pts * stream.time_base), p.pos, p.size)
                for p in container.demux(stream) if p.size and p.pts is not None]


def damage_audio(src: Path, dst: Path, start: float, end: float,
                 fill: bytes = b"\x00") -> int:
    """Copy `src` to `dst` with the bytes of every audio packet that starts in [start, end)
    overwritten with `fill` (the decoder rejects them); returns how many packets."""
    data = bytearray(src.read_bytes())
    hit = 0
    for t, pos, size in audio_packets(src):
        if start <= t < end:
            data[pos : pos + size] = (fill * size)[:size]
            hit += 1
    dst.write_bytes(bytes(data))
    return hit


def cut(src: Path, dst: Path, fraction: float) -> Path:
    """The first `fraction` of `src`'s bytes."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def overwrite(src: Path, dst: Path, offset: int, garbage: int, seed: int = 0) -> Path:
    """`src` with `garbage` random bytes written at `offset`."""
    data = bytearray(src.read_bytes())
    data[offset : offset + garbage] = np.random.default_rng(seed).integers(
        0, 256, garbage, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def claim_jpeg_size(src: Path, dst: Path, width: int, height: int) -> Path:
    """An MJPEG file whose every picture header (SOF0) claims `width` x `height`."""
    data = bytearray(src.read_bytes())
    at = data.find(b"\xff\xc0")
    while at >= 0:
        data[at + 5 : at + 9] = struct.pack(">HH", height, width)
        at = data.find(b"\xff\xc0", at + 2)
    dst.write_bytes(bytes(data))
    return dst


def claim_avi_size(src: Path, dst: Path, width: int, height: int) -> Path:
    """An AVI file whose headers (``avih``, the video ``strf``) claim `width` x `height`."""
    data = bytearray(src.read_bytes())
    strf = data.find(b"strf")
    data[strf + 12 : strf + 20] = struct.pack("<ii", width, height)
    avih = data.find(b"avih")
    data[avih + 40 : avih + 48] = struct.pack("<II", width, height)
    dst.write_bytes(bytes(data))
    return dst


def claim_mp4_display_size(src: Path, dst: Path, width: int, height: int) -> Path:
    """An MP4 file whose track header (``tkhd``) claims a display size of `width` x
    `height` (what the picture is stretched to)."""
    data = bytearray(src.read_bytes())
    tkhd = data.find(b"tkhd")
    version = data[tkhd + 4]
    fixed = 4 + 4 + (28 if version == 1 else 16) + 4 + 8 + 8 + 36  # to the width field
    at = tkhd + fixed
    data[at : at + 8] = struct.pack(">II", width << 16, height << 16)
    dst.write_bytes(bytes(data))
    return dst
