"""Redis-backed stores, one module per concern (events, links, outbound, ...).

Every key is under `settings.key(...)` = `bridge:<connection>:...`. Each store takes its
Redis client and settings as arguments; none opens a connection at import.
"""
