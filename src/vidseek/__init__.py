"""vidseek: ask questions about long videos and get answers that point to exact moments."""

from vidseek.errors import MediaError, VidseekError

__version__ = "0.1.0"

__all__ = ["MediaError", "VidseekError", "__version__"]
