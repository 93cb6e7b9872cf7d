"""Fault rigs share the pipeline rig's fixtures (the beat starter)."""

from tests.e2e.pipeline.conftest import start_beat

__all__ = ["start_beat"]
