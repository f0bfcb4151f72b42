"""The top-level names are the public API: keep the list from drifting."""

import vidseek
import vidseek.media


def test_top_level_names():
    assert sorted(vidseek.__all__) == [
        "MediaError", "ModelError", "Observation", "StoreError", "UnknownVideoError",
        "VidseekError", "__version__",
    ]


def test_media_names():
    assert set(vidseek.media.__all__) >= {
        "probe", "VideoReader", "Frame", "sample_frames", "read_audio", "detect_shots",
        "ShotDetector", "thumbnails",
    }
    for name in vidseek.media.__all__:
        assert hasattr(vidseek.media, name)


def test_errors_are_builtins_too():
    for error in (vidseek.MediaError, vidseek.ModelError):
        assert issubclass(error, ValueError)
        assert issubclass(error, vidseek.VidseekError)
