"""Stable ids of seeded records: uuid5 of a name, the same on every machine and reset."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://sage-active-bridge/sandbox")


def seed_id(kind: str, name: str) -> UUID:
    """The stable id of a seeded record, e.g. `seed_id("journalType", "VT")`."""
    return uuid5(NAMESPACE, f"{kind}:{name}")
