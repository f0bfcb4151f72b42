"""Answering questions about a video: tools over the index and the media, the
evidence-seeking loop with a vision-language model, the text agent for a text-only model,
and the embedded answerer that needs no model."""

from vidseek.agent.budget import Budget
from vidseek.agent.embedded import EmbeddedAnswerer
from vidseek.agent.index import VideoIndex
from vidseek.agent.loop import Agent
from vidseek.agent.text import TextAgent, default_model, is_text_only
from vidseek.agent.tools import TOOL_NAMES, ToolError, ToolResult, VideoTools
from vidseek.agent.trajectory import append_trajectory, read_trajectories

__all__ = ["TOOL_NAMES", "Agent", "Budget", "EmbeddedAnswerer", "TextAgent", "ToolError",
           "ToolResult", "VideoIndex", "VideoTools", "append_trajectory", "default_model",
           "is_text_only", "read_trajectories"]
