"""Outbound subscriptions: create, read, update, delete, and those configured in settings.

A subscription is a URL, the event types it wants and a `whsec_` signing secret. The URL
must be https and reach only public addresses (checked after DNS) unless
`settings.outbound_allow_private`; the secret is stored (it signs every attempt) and shown
only when it is created or replaced. `SubscriptionAdmin` is mixed into `bridge.outbound.Outbound`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from bridge.outbound.events import EventType, parse_event_type
from bridge.outbound.subscription_spec import SubscriptionSpec
from bridge.settings import Settings
from bridge.store.outbound import OutboundStore, Subscription, new_id
from connectors.outbound import (
    DestinationRefused,
    InvalidSecret,
    check_destination,
    check_url,
    new_secret,
    secret_key,
)
from connectors.outbound.destination import Resolver

__all__ = [
    "InvalidSubscription",
    "NotFound",
    "OutboundError",
    "SubscriptionAdmin",
    "SubscriptionSpec",
]


class OutboundError(Exception):
    """A request about subscriptions or deliveries that cannot be carried out (nothing changed)."""


class NotFound(OutboundError):
    """No subscription or delivery with that id."""


class InvalidSubscription(OutboundError):
    """A subscription with a bad URL, destination, event type or secret."""


class SubscriptionAdmin:
    """Subscription management over an `OutboundStore` (see `bridge.outbound.Outbound`)."""

    store: OutboundStore
    _settings: Settings
    _clock: Callable[[], float]
    _resolver: Resolver

    # --- subscriptions --------------------------------------------------------------------
    def _check(self, url: str | None, types: list[str] | None, secret: str | None) -> None:
        """Raises InvalidSubscription with a message a person can act on."""
        try:
            for value in types or []:
                parse_event_type(value)
            if secret is not None:
                secret_key(secret)
            if url is not None:  # last: it may wait for DNS
                allow = self._settings.outbound_allow_private
                check_destination(url, allow_private=allow, resolver=self._resolver)
        except DestinationRefused as exc:
            raise InvalidSubscription(f"url refused: {exc.reason}") from exc
        except (ValueError, InvalidSecret) as exc:
            raise InvalidSubscription(str(exc)) from exc

    def create_subscription(
        self, url: str, event_types: list[str], secret: str | None = None
    ) -> tuple[Subscription, str]:
        """A new enabled subscription and its signing secret (generated unless given).

        Raises:
            InvalidSubscription: bad or refused URL, unknown or no event type, bad secret.
        """
        if not event_types:
            raise InvalidSubscription("event_types must name at least one event type")
        self._check(url, event_types, secret)
        now = self._clock()
        types = list(dict.fromkeys(EventType(t) for t in event_types))
        sub = Subscription(
            id=new_id("sub"), url=url, event_types=types, created_at=now, updated_at=now
        )
        secret = secret or new_secret()
        self.store.put_subscription(sub, secret)
        return sub, secret

    def subscription(self, sub_id: str) -> Subscription:
        """Raises NotFound."""
        sub = self.store.subscription(sub_id)
        if sub is None:
            raise NotFound(f"no subscription {sub_id!r}")
        return sub

    def update_subscription(self, sub_id: str, **changes: Any) -> Subscription:
        """Change `url`, `event_types`, `enabled` and/or `secret` (None leaves a field).

        Raises:
            NotFound: no such subscription.
            InvalidSubscription: a bad value (nothing is changed).
        """
        sub = self.subscription(sub_id)
        url, types, secret = changes.get("url"), changes.get("event_types"), changes.get("secret")
        if types is not None and not types:
            raise InvalidSubscription("event_types must name at least one event type")
        self._check(url, types, secret)
        update: dict[str, Any] = {"updated_at": self._clock()}
        if url is not None:
            update["url"] = url
        if types is not None:
            update["event_types"] = list(dict.fromkeys(EventType(t) for t in types))
        if changes.get("enabled") is not None:
            update["enabled"] = bool(changes["enabled"])
            update["disabled_reason"] = None if update["enabled"] else "disabled by an operator"
        updated = sub.model_copy(update=update)
        self.store.put_subscription(updated, secret)
        return updated

    def delete_subscription(self, sub_id: str) -> None:
        """Raises NotFound. Its pending deliveries die at their next attempt."""
        if not self.store.delete_subscription(sub_id):
            raise NotFound(f"no subscription {sub_id!r}")

    def sync_configured(self) -> int:
        """Create the subscriptions of `settings.outbound_subscriptions` that are missing.

        Idempotent: a configured subscription's id derives from its URL and event types.
        Returns how many were created.

        Raises:
            InvalidSubscription: a configured entry is malformed or its URL is refused.
        """
        created = 0
        for index, raw in enumerate(self._settings.outbound_subscriptions):
            try:
                spec = SubscriptionSpec.model_validate(raw)
                check_url(spec.url, allow_private=self._settings.outbound_allow_private)
                self._check(None, spec.event_types, spec.secret)
            except (ValidationError, DestinationRefused, InvalidSubscription) as exc:
                raise InvalidSubscription(f"BRIDGE_SUBSCRIPTIONS[{index}]: {exc}") from exc
            types = sorted(dict.fromkeys(EventType(t) for t in spec.event_types))
            digest = hashlib.sha256(f"{spec.url}\n{','.join(types)}".encode()).hexdigest()
            now = self._clock()
            sub = Subscription(
                id=f"sub_cfg_{digest[:20]}",
                url=spec.url,
                event_types=types,
                source="settings",
                created_at=now,
                updated_at=now,
            )
            secret, keep = (spec.secret, False) if spec.secret else (new_secret(), True)
            created += self.store.add_subscription_once(sub, secret, keep_secret=keep)
        return created
