"""The Hugging Face download policy, in one place (DESIGN.md, "offline first").

Nothing is downloaded unless the user asked for it with ``VIDSEEK_ALLOW_DOWNLOADS=1``. Every
backend that loads from the Hugging Face stack (transformers, huggingface_hub, faster-whisper)
calls `local_files_only` first and passes its answer on as ``local_files_only=``. When
downloads are not allowed it also sets ``HF_HUB_OFFLINE=1`` (unless the user set it), since a
download the network blocks otherwise hangs for many seconds before it fails.
"""

from __future__ import annotations

import os

__all__ = ["ALLOW_DOWNLOADS_ENV", "downloads_allowed", "local_files_only"]

ALLOW_DOWNLOADS_ENV = "VIDSEEK_ALLOW_DOWNLOADS"
"""Set to ``1`` (or ``true``, ``yes``) to let a hub name download its model."""


def downloads_allowed() -> bool:
    """Whether the user allowed downloads (``VIDSEEK_ALLOW_DOWNLOADS=1``, ``true`` or
    ``yes``)."""
    return os.environ.get(ALLOW_DOWNLOADS_ENV, "").strip().lower() in ("1", "true", "yes")


def local_files_only() -> bool:
    """Apply the download policy before anything from the Hugging Face stack loads.

    Call it before ``huggingface_hub`` is imported where possible: that package reads
    ``HF_HUB_OFFLINE`` once, when it is imported.

    Returns:
        True when models must come from local files or the Hugging Face cache (pass it as
        ``local_files_only=``); ``HF_HUB_OFFLINE=1`` is then set as well, unless the
        environment already sets it. False when the user allowed downloads.
    """
    if downloads_allowed():
        return False
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return True
