"""Fault rigs share the pipeline rig's fixtures (the beat starter)."""

from tests.support.rig import start_beat

__all__ = ["start_beat"]
