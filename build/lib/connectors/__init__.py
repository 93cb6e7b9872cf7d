"""Clients for outside systems. Nothing here imports `bridge` or `tasks`."""
