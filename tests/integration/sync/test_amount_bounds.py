"""Amounts no provider sends (`1e309`, NaN, Infinity, 10^30 cents) fail the event with a
named reason a person can act on: never an `InvalidOperation` traceback, nothing posted."""

from __future__ import annotations

import copy
import json

import pytest

from tests.support.pipeline import Pipeline, payload

pytestmark = pytest.mark.integration


def _failure(pipeline: Pipeline, provider: str, topic: str, body: dict[str, object]) -> str:
    ref = pipeline.record(provider, topic, body)
    result = pipeline.run(ref)
    record = pipeline.services.events.get(ref)
    assert record is not None
    assert (result.status, record.status) == ("failed", "failed"), result
    return record.error or ""


@pytest.mark.parametrize("price", ["1e309", "NaN", "Infinity", "-1e400", 1e309])
def test_a_shopify_amount_out_of_range_is_a_named_failure(
    pipeline: Pipeline, price: object
) -> None:
    order = payload("shopify", "orders-create-001-ttc-single-mug")
    order["id"] = 7_100_000_000_001
    order["line_items"][0]["price"] = price
    error = _failure(pipeline, "shopify", "orders/create", json.loads(json.dumps(order)))
    assert "line_items.0.price" in error
    assert "out of range" in error or "finite number" in error
    assert "InvalidOperation" not in error
    assert "Traceback" not in error
    assert pipeline.documents(f"shopify:boutique-demo.myshopify.com:{order['id']}") == []


def test_a_stripe_amount_out_of_range_is_a_named_failure(pipeline: Pipeline) -> None:
    event = payload("stripe", "invoice-paid-101-endive-one-line-20-vat-rate-id-only")
    huge = copy.deepcopy(event)
    huge["data"]["object"]["amount_paid"] = 10**30
    error = _failure(pipeline, "stripe", huge["type"], huge)
    assert "amount_paid" in error
    assert "out of range" in error
    assert "InvalidOperation" not in error
