"""A probe result for a video that need not exist (``tests/`` is on ``sys.path``: import as
``media_info``), for tests that write a library's rows directly."""

from __future__ import annotations

from vidseek.media.probe import MediaInfo, VideoStreamInfo


def make_info(path: str = "/videos/a.mp4", duration: float = 10.0) -> MediaInfo:
    stream = VideoStreamInfo(
        index=0, codec="h264", width=640, height=360, display_width=640, display_height=360,
        rotation=0, fps=30.0, variable_frame_rate=False, frame_count=round(30 * duration),
        start=0.0, duration=duration,
    )
    return MediaInfo(path=path, size_bytes=1234, container="mov,mp4", duration=duration,
                     start_time=0.0, video=stream)
