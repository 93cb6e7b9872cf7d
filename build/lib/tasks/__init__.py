"""Celery tasks: thin wrappers that load by id, call the bridge core and record the outcome."""
