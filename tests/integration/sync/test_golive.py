"""The go-live date (`bridge.sync.golive`) through `run_event`, against the sandbox over
HTTP and the real Redis: refunds of an older order are listed, an order the bridge invoiced
before the date was set stays served, and the backfill starts at the date by default."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.services import build_services
from tests.support.pipeline import SHOP, Pipeline, SandboxControl, payload, sandbox_settings
from tests.support.providers import STRIPE_API_KEY, FakeStripe

ORDER_3 = f"shopify:{SHOP}:5910000003039"  # orders-create-003, dated 2026-03-03, 64.80
REFUND = "refunds-create-001-line-and-shipping"  # a refund of that order


@pytest.fixture
def after_go_live(redis_url: str, sandbox_url: str) -> Iterator[Pipeline]:
    """The `pipeline`'s connection, with a go-live date the day after order 003."""
    settings = sandbox_settings(redis_url, sandbox_url, BRIDGE_START_DATE="2026-03-04")
    services = build_services(settings)
    control = SandboxControl(sandbox_url)
    try:
        yield Pipeline(services, control, itertools.count(1000))
    finally:
        control.close()
        services.close()


def test_a_refund_of_an_older_order_is_ignored_and_listed(after_go_live: Pipeline) -> None:
    order = after_go_live.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates")
    )
    refund = after_go_live.deliver("shopify", "refunds/create", payload("shopify", REFUND))

    assert order.status == "ignored"
    assert refund.status == "ignored", refund.detail
    assert "before the go-live date 2026-03-04" in (refund.detail or "")
    [item] = after_go_live.services.attention.items(kind="before_go_live")
    assert item.order_reference == ORDER_3
    assert "credit note" in item.reason
    assert after_go_live.documents(ORDER_3) == []

    # the same refund again: still one item
    after_go_live.deliver("shopify", "refunds/create", payload("shopify", REFUND))
    assert len(after_go_live.services.attention.items(kind="before_go_live")) == 1


def test_an_order_invoiced_before_the_date_was_set_stays_served(
    pipeline: Pipeline, after_go_live: Pipeline
) -> None:
    # given order 003 invoiced while no go-live date was set
    first = pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates")
    )
    assert first.status == "processed", first.detail
    # when the date is set after it, its update and refund are still booked
    updated = after_go_live.deliver(
        "shopify", "orders/updated", payload("shopify", "orders-create-003-ttc-mixed-rates")
    )
    refund = after_go_live.deliver("shopify", "refunds/create", payload("shopify", REFUND))

    assert updated.status != "ignored", updated.detail
    assert refund.status == "processed", refund.detail
    assert after_go_live.services.attention.items(kind="before_go_live") == []


def test_the_backfill_starts_at_the_go_live_date(
    redis_url: str, fake_stripe: tuple[FakeStripe, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, base = fake_stripe
    env = {"REDIS_URL": redis_url, "STRIPE_API_KEY": STRIPE_API_KEY, "STRIPE_API_URL": base}

    dated = CliRunner().invoke(
        main, ["backfill", "--dry-run"], env={**env, "BRIDGE_START_DATE": "2026-11-20"}
    )
    undated = CliRunner().invoke(main, ["backfill", "--dry-run"], env=env)

    assert dated.exit_code == 0, dated.output
    assert "backfill 2026-11-20T00:00:00+00:00 .. " in dated.stderr
    assert undated.exit_code == 2
    assert "give --since, or set the go-live date (BRIDGE_START_DATE)" in undated.output


def test_a_payment_before_the_date_whose_order_never_came_is_listed(
    after_go_live: Pipeline,
) -> None:
    tx = payload("shopify", "order-transactions-create-001-sale-shopify-payments")  # 03-02

    paid = after_go_live.deliver("shopify", "order_transactions/create", tx)

    assert paid.status == "ignored", paid.detail  # not parked waiting for an old order
    assert "(dated 2026-03-02 or earlier), before the go-live date 2026-03-04" in (
        paid.detail or ""
    )
    [item] = after_go_live.services.attention.items(kind="before_go_live")
    assert item.order_reference == f"shopify:{SHOP}:5910000001013"
    assert str(item.amount) == "19.80"
