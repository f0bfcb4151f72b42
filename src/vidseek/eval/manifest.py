"""A run's manifest: everything needed to reproduce a number and to see what produced it
(versions, decoder, sampling, prompts, seed, data checksums)."""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["build_manifest", "file_checksum"]


def file_checksum(path: Path) -> dict[str, Any]:
    """``{"path", "bytes", "sha256"}`` of one file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _decoder() -> dict[str, Any]:
    import av

    versions = {name: ".".join(map(str, v)) if isinstance(v, tuple) else str(v)
                for name, v in getattr(av, "library_versions", {}).items()}
    return {"pyav": av.__version__, "ffmpeg_libraries": versions}


def _videos(paths: Iterable[Path]) -> list[dict[str, Any]]:
    from vidseek.store import video_id

    out = []
    for path in sorted(set(paths)):
        try:
            out.append({"path": str(path), "video_id": video_id(path)})
        except OSError as exc:
            out.append({"path": str(path), "missing": str(exc)})
    return out


def build_manifest(*, task: str, data: Path, run: str, method: dict[str, Any],
                   model: str | None, settings: dict[str, Any], prompts: dict[str, str],
                   data_files: Iterable[Path], videos: Iterable[Path], notes: list[str],
                   library: dict[str, Any] | None, command: list[str]) -> dict[str, Any]:
    """The manifest of one run (JSON-ready).

    Args:
        task, data, run: what was run, on which folder, under which run name.
        method: the method's own description (sampling, decoder, answerer).
        model: the chat model spec, or None for the embedded default.
        settings: frames, fps, limit, workers, seed.
        prompts: every prompt template sent to a model.
        data_files: annotation files (checksummed in full).
        videos: the videos the run touched (identified by vidseek's content id).
        notes: what the loader left out.
        library: the library's folder, analyzers and model specs (agent, search).
        command: the command line.
    """
    from vidseek import __version__

    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "vidseek": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "task": task,
        "data": str(data),
        "run": run,
        "method": method,
        "model": {"spec": model or "embedded"},
        "settings": settings,
        "decoder": _decoder(),
        "prompts": {"templates": prompts, "sha256": hashlib.sha256(
            "\n".join(f"{k}={v}" for k, v in sorted(prompts.items())).encode()).hexdigest()},
        "library": library,
        "data_files": [file_checksum(Path(p)) for p in data_files],
        "videos": _videos(videos),
        "dataset_notes": notes,
    }
