"""How a connector keeps a secret in Redis: sealed (encrypted) when given a `Sealer`.

The connectors store a few secrets of their own in Redis (Sage's refresh and access
tokens). The bridge hands them a `Sealer` (`bridge.connections.at_rest`) that encrypts
what is written and opens what is read; without one, values are stored as they are.
`open` must accept a value written before sealing was turned on (it is returned as is),
so that a deployment migrates without a flag day.
"""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    def seal(self, value: str) -> str:
        """`value` as it is to be stored."""
        ...

    def open(self, stored: str) -> str:
        """The value of `stored` (a sealed value, or a plain one written before sealing).

        Raises:
            RuntimeError (a subclass): no configured key opens it.
        """
        ...


class Plain:
    """No sealing: values stored as they are (no `BRIDGE_SECRET_KEY`)."""

    def seal(self, value: str) -> str:
        return value

    def open(self, stored: str) -> str:
        return stored
