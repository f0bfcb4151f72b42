"""The needle benchmark as an evaluation task: a generated lecture with planted facts
(`vidseek.eval.needle`), each sought by a paraphrasing query, plus queries whose answer is in
no haystack (they must find nothing).

Layout: ``DATA`` is a work folder. The haystack is built there on first use and reused::

    DATA/needle.json                  optional: {"hours": 1.0, "needles": 30, "seed": 0}
    DATA/haystack-<digest>.mp4        the video and its ground truth (.truth.json)
"""

from __future__ import annotations

import json
from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample

NAME = "needle"
CONFIG = "needle.json"
DEFAULTS = {"hours": 1.0, "needles": 30, "seed": 0}


def load(root: Path) -> Dataset:
    """Build (or reuse) the haystack ``root/needle.json`` describes, and its queries."""
    from vidseek.eval import needle

    config = dict(DEFAULTS)
    files = []
    if (root / CONFIG).is_file():
        given = json.loads((root / CONFIG).read_text())
        unknown = set(given) - set(DEFAULTS)
        if unknown:
            raise DataError(f"{root / CONFIG}: unknown keys {sorted(unknown)}; known: "
                            f"{sorted(DEFAULTS)}")
        config.update(given)
        files.append(root / CONFIG)
    root.mkdir(parents=True, exist_ok=True)
    script, plans = needle.needle_script(float(config["hours"]), int(config["needles"]),
                                         int(config["seed"]))
    video, truth, _ = needle._haystack(script, root, needle._Steps(None))
    plans = needle.measure_needles(plans, truth)
    samples = []
    for n, plan in enumerate(plans):
        extra = {"needle_kind": plan.kind, "needle": plan.needle}
        if plan.kind == "picture":
            extra["needs"] = "objects"  # found through object and scene tags only
        samples.append(Sample(id=f"needle/{n}", task=NAME, kind="grounding", video=video,
                              question=plan.query, windows=[(plan.start, plan.end)],
                              duration=truth.duration, category=plan.kind, extra=extra))
    for n, (source, query) in enumerate(needle._absent_queries(plans)):
        samples.append(Sample(id=f"absent/{n}", task=NAME, kind="grounding", video=video,
                              question=query, duration=truth.duration, category="absent",
                              extra={"absent": True, "source": source}))
    from vidseek.synth import truth_path

    files.append(truth_path(video))
    notes = [f"haystack: {config['hours']:g} h, {config['needles']} needles, seed "
             f"{config['seed']} ({video.name})"]
    return Dataset(NAME, root, samples, files=files, notes=notes)
