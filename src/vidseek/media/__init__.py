"""Media layer: exact-time access to video files.

Every time here is float seconds on the media timeline: 0 is the start of the file (its
earliest stream), whatever the stream's pts, frame rate or edit list. Frame indices and pts
never leave this package.
"""

from vidseek.media.audio import SAMPLE_RATE, AudioChunk, Gap, read_audio
from vidseek.media.frames import (
    DecodeStats,
    Frame,
    Size,
    VideoReader,
    fit,
    sample_frames,
    uniform_times,
)
from vidseek.media.probe import AudioStreamInfo, MediaInfo, VideoStreamInfo, probe
from vidseek.media.shots import (
    DETECTION_SIZE,
    Shot,
    ShotBoundary,
    ShotDetector,
    boundaries_in,
    detect_shots,
    join_boundaries,
)
from vidseek.media.thumbnails import Thumbnail, encode_image, thumbnails

__all__ = [
    "DETECTION_SIZE",
    "SAMPLE_RATE",
    "AudioChunk",
    "AudioStreamInfo",
    "DecodeStats",
    "Frame",
    "Gap",
    "MediaInfo",
    "Shot",
    "ShotBoundary",
    "ShotDetector",
    "Size",
    "Thumbnail",
    "VideoReader",
    "VideoStreamInfo",
    "boundaries_in",
    "detect_shots",
    "encode_image",
    "fit",
    "join_boundaries",
    "probe",
    "read_audio",
    "sample_frames",
    "uniform_times",
    "thumbnails",
]
