"""Synthetic test videos with exact ground truth.

Write a `Script` (or draw one with `random_script`), then `build` it::

    from vidseek.synth import build, random_script
    truth = build(random_script(600, seed=1), "needles.mp4")   # also writes needles.truth.json

Every frame carries a barcode of its own timeline time (`read_timecode`), so a test can
check that a decoded frame's reported time is the time it shows.
"""

from vidseek.synth.build import build
from vidseek.synth.containers import CONTAINERS, container_for
from vidseek.synth.photos import PHOTOS
from vidseek.synth.randomize import random_script
from vidseek.synth.script import PictureSpec, Script, ShotSpec, SpeechSpec, TextSpec
from vidseek.synth.timecode import read_timecode
from vidseek.synth.truth import (
    BoundaryTruth,
    GroundTruth,
    PictureTruth,
    ShotTruth,
    SpeechTruth,
    TextTruth,
    load_truth,
    truth_path,
)

__all__ = [
    "CONTAINERS",
    "PHOTOS",
    "BoundaryTruth",
    "GroundTruth",
    "PictureSpec",
    "PictureTruth",
    "Script",
    "ShotSpec",
    "ShotTruth",
    "SpeechSpec",
    "SpeechTruth",
    "TextSpec",
    "TextTruth",
    "build",
    "container_for",
    "load_truth",
    "random_script",
    "read_timecode",
    "truth_path",
]
