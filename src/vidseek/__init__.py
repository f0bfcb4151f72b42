"""vidseek: ask questions about long videos and get answers that point to exact moments."""

from vidseek.errors import MediaError, ModelError, StoreError, UnknownVideoError, VidseekError
from vidseek.types import Observation

__version__ = "0.1.0"

__all__ = [
    "MediaError",
    "ModelError",
    "Observation",
    "StoreError",
    "UnknownVideoError",
    "VidseekError",
    "__version__",
]
