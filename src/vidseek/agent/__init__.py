"""Answering questions about a video: tools over the index and the media, the
evidence-seeking loop with a chat model, and the embedded answerer that needs no model."""

from vidseek.agent.budget import Budget
from vidseek.agent.embedded import EmbeddedAnswerer
from vidseek.agent.loop import Agent
from vidseek.agent.tools import TOOL_NAMES, ToolError, ToolResult, VideoTools
from vidseek.agent.trajectory import append_trajectory, read_trajectories

__all__ = ["TOOL_NAMES", "Agent", "Budget", "EmbeddedAnswerer", "ToolError", "ToolResult",
           "VideoTools", "append_trajectory", "read_trajectories"]
