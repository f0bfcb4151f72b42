"""Analyzers turn frames and audio into Observations. See base.py for the two protocols."""
