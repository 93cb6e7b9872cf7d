"""Sync: plan and execute Sage Active operations for inbound events, idempotently.

`bridge.sync.dispatch` holds the handler registry, the outcome types and the error classes;
handler modules register themselves with `@handler(provider, topic)`. This package's
`__init__` imports nothing so that importing the registry stays cheap.
"""
