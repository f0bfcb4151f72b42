"""vidseek: ask questions about long videos and get answers that point to exact moments."""

from vidseek.errors import MediaError, ModelError, VidseekError

__version__ = "0.1.0"

__all__ = ["MediaError", "ModelError", "VidseekError", "__version__"]
