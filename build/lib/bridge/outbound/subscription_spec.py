"""An outbound subscription as an operator writes it, and the checks that need no network.

Shared by the settings (`BRIDGE_SUBSCRIPTIONS` is checked when `Settings` is built, so a bad
entry stops the process at start) and by the outbound side (which creates them). It imports
nothing of the bridge that reads the settings, so `bridge.settings` can use it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.outbound.events import parse_event_type
from connectors.outbound import DestinationRefused, InvalidSecret, check_url, secret_key


class SubscriptionSpec(BaseModel):
    """A subscription as an operator writes it (admin API body, `BRIDGE_SUBSCRIPTIONS`)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    event_types: list[str] = Field(min_length=1)
    secret: str | None = None


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else str(err["msg"]))
    return "; ".join(parts)


def subscription_problem(entry: Any, *, allow_private: bool) -> str | None:
    """What is wrong with a configured subscription `entry`, or None when it is usable.

    Checks its shape, its event types, its secret and its URL (without DNS: names are
    resolved when a delivery is made). Never raises.
    """
    try:
        spec = SubscriptionSpec.model_validate(entry)
    except ValidationError as exc:
        return _validation_message(exc)
    try:
        for value in spec.event_types:
            parse_event_type(value)
        if spec.secret is not None:
            secret_key(spec.secret)
        check_url(spec.url, allow_private=allow_private)
    except DestinationRefused as exc:
        return f"url refused: {exc.reason}"
    except (ValueError, InvalidSecret) as exc:
        return str(exc)
    return None
