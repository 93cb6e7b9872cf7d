"""The sandbox's whole state: organisations' books behind one lock, and a change signal.

Every GraphQL document and control action runs while holding `lock`, so a mutation is
atomic and readers never see half a change. `changed()` tells the persistence writer
(if any) that there is something new to save.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID

from connectors.sage_active.sandbox.books import Books, Clock
from connectors.sage_active.sandbox.seed import ensure_chart, seed_books


class SandboxState:
    """Books by organisation id; starts seeded."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.books: dict[UUID, Books] = {}
        self.version = 0
        # Seconds the simulated e-invoicing platform takes for each step (`einvoicing.py`).
        self.einvoice_step = 2.0
        self._listeners: list[Callable[[], None]] = []
        self.reset()

    def reset(self) -> None:
        """Empty books, freshly seeded (same ids as every other seed)."""
        with self.lock:
            books = seed_books(self.clock)
            self.books = {books.organization.id: books}
            self.changed()

    def replace(self, books: list[Books]) -> None:
        """Take books loaded from a file; the clock never goes back before their dates."""
        with self.lock:
            self.books = {each.organization.id: each for each in books}
            for each in books:
                for invoice in each.invoices.values():
                    self.clock.observe(invoice.modification_date)
                ensure_chart(each, self.clock.now())
            self.version += 1

    def default_books(self) -> Books:
        """The first (seeded) organisation's books."""
        with self.lock:
            return next(iter(self.books.values()))

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        self.version += 1
        for listener in self._listeners:
            listener()
