"""One running sandbox: its state, tokens, rate limiter, faults, statistics and writer."""

from __future__ import annotations

from pathlib import Path

from connectors.sage_active.sandbox.auth import RateLimiter, Tokens
from connectors.sage_active.sandbox.config import SandboxConfig
from connectors.sage_active.sandbox.faults import Faults, Stats
from connectors.sage_active.sandbox.persist import Writer, load
from connectors.sage_active.sandbox.state import SandboxState


class Sandbox:
    """Everything the HTTP layer needs; `close()` stops the writer and saves."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._initial = (config.rate_limit_per_minute, config.token_lifetime)
        self._initial_cost = config.max_field_cost
        self.state = SandboxState()
        self.state.einvoice_step = config.einvoice_step
        self.tokens = Tokens(config)
        self.limiter = RateLimiter(config)
        self.faults = Faults()
        self.stats = Stats()
        self.writer: Writer | None = None
        if config.state_file:
            path = Path(config.state_file)
            saved = load(path)
            if saved:
                self.state.replace(saved)
            self.writer = Writer(self.state, path, config.persist_delay)

    def reset(self) -> None:
        """Fresh seeded books; faults, statistics, rate windows and runtime config back to how
        the sandbox started. Issued tokens stay valid, so connected clients carry on."""
        self.config.rate_limit_per_minute, self.config.token_lifetime = self._initial
        self.config.max_field_cost = self._initial_cost
        self.state.einvoice_step = self.config.einvoice_step
        self.faults.clear()
        self.tokens.refuse_grants = False
        self.stats.reset()
        self.limiter.reset()
        self.state.reset()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
