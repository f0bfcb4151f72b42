"""MVBench (OpenGVLab/MVBench on Hugging Face): 20 temporal tasks of multiple-choice
questions on short clips.

Layout (unzip each archive of the repo's ``video`` folder in place)::

    DATA/json/action_sequence.json ...        one file per task: [{video, question,
                                              candidates, answer (text), start?, end?}]
    DATA/video/star/Charades_v1_480/...       videos, under the folder each task names
    DATA/video/clevrer/video_validation/...   (see _TASKS)

Tasks with ``start``/``end`` ask about that part of the video only (``Sample.clip``).
Episodic Reasoning ships frame folders, not videos: it is left out, and the notes say so.
"""

from __future__ import annotations

from pathlib import Path

from vidseek.errors import DataError
from vidseek.eval.datasets.base import Dataset, Sample, read_json, require

NAME = "mvbench"

# task: (json file, video folder under video/, media type, questions bound to start/end)
_TASKS = {
    "Action Sequence": ("action_sequence.json", "star/Charades_v1_480", "video", True),
    "Action Prediction": ("action_prediction.json", "star/Charades_v1_480", "video", True),
    "Action Antonym": ("action_antonym.json", "ssv2_video", "video", False),
    "Fine-grained Action": ("fine_grained_action.json", "Moments_in_Time_Raw/videos", "video",
                            False),
    "Unexpected Action": ("unexpected_action.json", "FunQA_test/test", "video", False),
    "Object Existence": ("object_existence.json", "clevrer/video_validation", "video", False),
    "Object Interaction": ("object_interaction.json", "star/Charades_v1_480", "video", True),
    "Object Shuffle": ("object_shuffle.json", "perception/videos", "video", False),
    "Moving Direction": ("moving_direction.json", "clevrer/video_validation", "video", False),
    "Action Localization": ("action_localization.json", "sta/sta_video", "video", True),
    "Scene Transition": ("scene_transition.json", "scene_qa/video", "video", False),
    "Action Count": ("action_count.json", "perception/videos", "video", False),
    "Moving Count": ("moving_count.json", "clevrer/video_validation", "video", False),
    "Moving Attribute": ("moving_attribute.json", "clevrer/video_validation", "video", False),
    "State Change": ("state_change.json", "perception/videos", "video", False),
    "Fine-grained Pose": ("fine_grained_pose.json", "nturgbd", "video", False),
    "Character Order": ("character_order.json", "perception/videos", "video", False),
    "Egocentric Navigation": ("egocentric_navigation.json", "vlnqa", "video", False),
    "Episodic Reasoning": ("episodic_reasoning.json", "tvqa/frames_fps3_hq", "frame", True),
    "Counterfactual Inference": ("counterfactual_inference.json", "clevrer/video_validation",
                                 "video", False),
}


def load(root: Path) -> Dataset:
    """Every task whose json file is present, in MVBench's task order."""
    samples, files, notes = [], [], []
    for task, (name, folder, media, bound) in _TASKS.items():
        path = root / "json" / name
        if not path.is_file():
            notes.append(f"{task}: {path} not found, left out")
            continue
        if media != "video":
            notes.append(f"{task}: ships frame folders, not videos; left out")
            continue
        files.append(path)
        for n, row in enumerate(read_json(path)):
            require(row, ("video", "question", "candidates", "answer"), f"{path} entry {n}")
            options = [str(c) for c in row["candidates"]]
            if row["answer"] not in options:
                raise DataError(f"{path} entry {n}: answer {row['answer']!r} is not one of "
                                "its candidates")
            clip = None
            if bound and "start" in row and "end" in row:
                clip = (float(row["start"]), float(row["end"]))
            samples.append(Sample(
                id=f"{path.stem}/{n}", task=NAME, kind="mc",
                video=root / "video" / folder / row["video"], question=str(row["question"]),
                options=options, answer=options.index(row["answer"]),
                answer_text=row["answer"], clip=clip, category=task))
    if not files:
        raise DataError(f"no MVBench task file found in {root / 'json'}; download the repo's "
                        "json/ and video/ folders (see docs/benchmarks.md)")
    return Dataset(NAME, root, samples, files=files, notes=notes)
