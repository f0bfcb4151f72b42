"""Moment search: a query to ranked time ranges with calibrated scores and evidence.

``Library.search`` is the usual way in; `Searcher` works on a store directly.
"""

from vidseek.search.calibration import Calibration, ChannelModel, load_calibration
from vidseek.search.channels import TEXT_KINDS, Hit
from vidseek.search.fusion import fuse
from vidseek.search.searcher import Searcher, SpaceEncoder, load_picture

__all__ = [
    "TEXT_KINDS",
    "Calibration",
    "ChannelModel",
    "Hit",
    "Searcher",
    "SpaceEncoder",
    "fuse",
    "load_calibration",
    "load_picture",
]
