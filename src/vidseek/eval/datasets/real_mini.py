"""A mini set from the real annotated clips in ``../shared/data/real``: the NExT-QA clip's 9
five-option questions (6 with NExT-GQA grounding windows) and the Charades clip's windows
(2 Charades-STA queries and 7 action segments).

Layout (``DATA`` is ``../shared/data/real``)::

    DATA/annotations/nextqa_6037747123.json   {"video", "qa": [{qid, question, options,
                                              answer_idx, type, grounding_windows_s}]}
    DATA/annotations/charades_Y1HGC.json      {"video", "moments": [{query, windows_s,
                                              source}]} (queries and action segments)
    DATA/videos/...                           the clips
"""

from __future__ import annotations

from pathlib import Path

from vidseek.eval.datasets.base import Dataset, Sample, find_file, read_json, require

NAME = "real-mini"


def load(root: Path) -> Dataset:
    """The NExT-QA clip's questions, then the Charades clip's queries."""
    from vidseek.media import probe

    nextqa = find_file(root, ("annotations/nextqa_6037747123.json",), "the NExT-QA clip's "
                       "annotation")
    charades = find_file(root, ("annotations/charades_Y1HGC.json",), "the Charades clip's "
                         "annotation")
    samples = []
    qa = read_json(nextqa)
    video = root / qa["video"]
    duration = probe(video).duration
    for q in qa["qa"]:
        require(q, ("qid", "question", "options", "answer_idx"), f"{nextqa} qa")
        windows = _clipped(q.get("grounding_windows_s") or [], duration)
        samples.append(Sample(
            id=f"nextqa/{q['qid']}", task=NAME, kind="mc", video=video,
            question=q["question"], options=list(q["options"]), answer=int(q["answer_idx"]),
            answer_text=q["options"][int(q["answer_idx"])], windows=windows,
            duration=duration, category=f"NExT-QA {q.get('type', '')}".strip()))
    sta = read_json(charades)
    video = root / sta["video"]
    duration = probe(video).duration
    for n, m in enumerate(sta.get("moments", [])):
        # "moments" holds the Charades-STA queries and the action segments, by source
        category = "Charades-STA" if "Charades-STA" in m.get("source", "") else "Charades action"
        samples.append(Sample(
            id=f"charades/{n}", task=NAME, kind="grounding", video=video,
            question=m["query"], windows=_clipped(m["windows_s"], duration), duration=duration,
            category=category))
    return Dataset(NAME, root, samples, files=[nextqa, charades])


def _clipped(windows, duration: float) -> list[tuple[float, float]]:
    # Charades ends may run past the file (32.0 s on a 30.7-s clip, by Charades convention)
    out = [(max(0.0, float(s)), min(float(e), duration)) for s, e in windows]
    return [(s, e) for s, e in out if e > s]
