"""Component tests on a real Redis server (no Sage, no workers)."""
