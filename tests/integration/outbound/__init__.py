"""Outbound webhooks against a real Redis and real local HTTP subscribers."""
