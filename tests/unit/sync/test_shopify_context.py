"""The Shopify handlers' context: the webhook's API version (logged, never refused) and a
refund's order money."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from bridge.models import Line, LineKind, Order, Presentment
from bridge.store.event_models import EventRecord, EventStatus
from bridge.sync.shopify.context import refund_context, shopify_api_version

TODAY = dt.date(2026, 11, 29)
NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)


def _event(version: str | None, provider: str = "shopify") -> EventRecord:
    headers = {"X-Shopify-Topic": "orders/create"}
    if version is not None:
        headers["X-Shopify-API-Version"] = version
    return EventRecord(
        ref=f"{provider}:d1",
        provider=provider,  # type: ignore[arg-type]
        provider_id="d1",
        topic="orders/create",
        status=EventStatus.QUEUED,
        received_at=NOW,
        updated_at=NOW,
        body="{}",
        headers=headers,
    )


def test_a_supported_version_is_read_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="bridge.sync.shopify.context"):
        assert shopify_api_version(_event("2026-01"), TODAY) == "2026-01"
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


@pytest.mark.parametrize(("version", "status"), [("2025-07", "retired"), ("2027-04", "unreleased")])
def test_a_version_outside_the_window_is_a_warning_not_a_refusal(
    caplog: pytest.LogCaptureFixture, version: str, status: str
) -> None:
    with caplog.at_level(logging.DEBUG, logger="bridge.sync.shopify.context"):
        assert shopify_api_version(_event(version), TODAY) == version
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert f"API version {version} ({status})" in record.getMessage()


def test_no_version_for_other_providers_or_without_the_header() -> None:
    assert shopify_api_version(_event(None), TODAY) is None
    assert shopify_api_version(_event("2026-01", provider="stripe"), TODAY) is None


def test_a_refund_context_carries_the_order_s_currencies_and_totals() -> None:
    line = Line.build(
        kind=LineKind.PRODUCT, title="Vin", quantity=Decimal(1), unit_price=Decimal("10"),
        vat_rate=Decimal(0),
    )  # fmt: skip
    order = Order(
        provider="shopify", account="s", provider_id="1", number="#1", reference="shopify:s:1",
        external_reference="#1", currency="EUR", date=TODAY, lines=[line], total=Decimal("10"),
        taxes_included=True, presentment=Presentment(currency="GBP", total=Decimal("8.78")),
    )  # fmt: skip

    assert refund_context(order) == {
        "taxes_included": True,
        "order_currency": "EUR",
        "order_total": Decimal("10"),
        "presentment_currency": "GBP",
        "presentment_total": Decimal("8.78"),
    }
