"""How the app's one Sage budget is divided between connections.

Sage Active counts requests per app (3000 a minute), whatever the organisation. Every
connection's client therefore takes a slot from the app's limiter (one GCRA in Redis for
the deployment, `bridge:<env connection>:sage:ratelimit:*`), and a 429 pauses them all.

On top of it, each registered connection first takes a slot from its own limiter
(`bridge:<name>:sage:ratelimit:*`) at `BRIDGE_CONNECTION_RATE_SHARE` of the app's rate
(default 0.5). A connection with a backlog therefore uses at most that share, and the rest
stays free for the others: their requests find the app's limiter with room instead of
queueing behind the backlog's. Together with the relay's bound on each connection's events
in flight (`bridge.connections.scheduler`), that is what keeps a quiet connection's next
order fast while another one drains 10,000 events.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from connectors.sage_active.config import SageConfig
from connectors.sage_active.limiter import RateLimiter


class SharedLimiter(RateLimiter):
    """The app's rate limiter, entered through this connection's share of it."""

    def __init__(self, config: SageConfig, redis_client: redis.Redis, share: float) -> None:
        """`config.limiter_prefix` names the app's limiter; `config.key_prefix` the
        connection's own, at `share` of the rate."""
        super().__init__(config, redis_client)
        own = config.model_copy(
            update={
                "limiter_prefix": None,
                "rate_limit_per_minute": max(1, int(config.rate_limit_per_minute * share)),
            }
        )
        self.own = RateLimiter(own, redis_client)

    def acquire(
        self,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        on_wait: Callable[[float], None] | None = None,
    ) -> float:
        """Wait for this connection's share, then for the app; the seconds waited.

        Raises:
            SageRateLimited: either wait would exceed `max_limiter_wait`.
        """
        waited = self.own.acquire(clock, sleep, on_wait)
        return waited + super().acquire(clock, sleep, on_wait)
