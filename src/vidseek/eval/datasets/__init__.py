"""Benchmark loaders: each reads one benchmark's official released layout (annotation files
plus a video folder) into :class:`Sample` records. See docs/benchmarks.md, "Evaluation
harness", for what to download and where to put it.

    dataset = load_task("nextgqa", "/data/nextgqa")
    for sample in dataset: ...
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from vidseek.errors import DataError
from vidseek.eval.datasets.base import LETTERS, Dataset, Sample

__all__ = ["LETTERS", "TASKS", "Dataset", "Sample", "load_task"]

TASKS = {
    "videomme": "videomme",
    "longvideobench": "longvideobench",
    "mlvu": "mlvu",
    "egoschema": "egoschema",
    "nextqa": "nextqa",
    "nextgqa": "nextgqa",
    "mvbench": "mvbench",
    "charades_sta": "charades_sta",
    "qvhighlights": "qvhighlights",
    "activitynet_captions": "activitynet_captions",
    "needle": "needle",
    "real-mini": "real_mini",
}
"""Task name -> loader module (in this package)."""


def load_task(task: str, data: str | Path, **options: Any) -> Dataset:
    """The samples of ``task`` read from the folder ``data``.

    Args:
        task: a name of `TASKS`.
        data: the benchmark's folder.
        options: the loader's own keyword options (``split="test"`` for QVHighlights,
            ``clip_to_video=True`` for Charades-STA, ``subset=False`` for EgoSchema, ...).

    Raises:
        DataError: an unknown task or option, a missing folder, or files not in the official
            layout.
    """
    name = task.strip().lower().replace("-", "_")
    modules = {k.replace("-", "_"): v for k, v in TASKS.items()}
    if name not in modules:
        raise DataError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    root = Path(data).expanduser()
    if name != "needle" and not root.is_dir():
        raise DataError(f"data folder {root} not found; download {task} there (see "
                        "docs/benchmarks.md, 'Evaluation harness')")
    module = importlib.import_module(f"vidseek.eval.datasets.{modules[name]}")
    accepted = [n for n in inspect.signature(module.load).parameters if n != "root"]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise DataError(f"{task} takes no option {', '.join(unknown)}; its options: "
                        f"{', '.join(accepted) or 'none'}")
    return module.load(root, **options)
