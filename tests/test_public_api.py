"""The top-level names are the public API: keep the list from drifting."""

import vidseek
import vidseek.media


def test_top_level_names():
    assert sorted(vidseek.__all__) == [
        "Answer", "AskError", "Cost", "DataError", "Evidence", "IndexReport", "IndexResult",
        "Library", "MediaError", "ModelError", "Moment", "Observation", "QueryError", "Step",
        "StoreError", "UnknownVideoError", "VidseekError", "__version__",
    ]
    for name in vidseek.__all__:
        assert getattr(vidseek, name) is not None


def test_import_is_lazy():
    """``import vidseek`` loads neither the library nor its heavy dependencies."""
    import subprocess
    import sys

    code = ("import sys, vidseek; print(sorted(m for m in ('vidseek.library', 'lancedb', "
            "'vidseek.media') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    from vidseek import Library, Moment  # noqa: F401 - the documented way in works


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
