"""`bridge doctor`'s set-up checks (`bridge.ops.doctor_setup`) against the sandbox over HTTP:
the line products only the sandbox seeds, the go-live date, the environment's shop."""

from __future__ import annotations

from click.testing import CliRunner

from bridge.cli import main


def env(redis_url: str, sandbox_url: str, **extra: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SHOPIFY_WEBHOOK_SECRET": "shopify-doctor-secret",
        **extra,
    }


def test_the_seeded_line_products_are_found(redis_url: str, sandbox_url: str) -> None:
    result = CliRunner().invoke(main, ["doctor", "--no-store"], env=env(redis_url, sandbox_url))
    assert "[ok  ] Line products: duties, fees, tip, gift card and cash rounding found" in (
        result.output
    )
    assert "[ok  ] Go-live date: not set: orders of any date are invoiced" in result.output
    assert "[ok  ] Shop routing: no shop yet" in result.output


def test_each_missing_line_product_is_an_error_that_holds(redis_url: str, sandbox_url: str) -> None:
    given = env(
        redis_url,
        sandbox_url,
        BRIDGE_GIFT_CARD_PRODUCT="CARTE-CADEAU",
        BRIDGE_DUTIES_PRODUCT="DOUANE",
        BRIDGE_START_DATE="2026-11-01",
        SHOPIFY_SHOP_DOMAIN="my-shop.myshopify.com",
    )
    result = CliRunner().invoke(main, ["doctor", "--no-store"], env=given)

    assert result.exit_code == 1
    assert "[FAIL] Line products: BRIDGE_GIFT_CARD_PRODUCT names 'CARTE-CADEAU'" in result.output
    assert "[FAIL] Line products: BRIDGE_DUTIES_PRODUCT names 'DOUANE'" in result.output
    assert "Processing is held" in result.output
    assert "[ok  ] Go-live date: 2026-11-01: older orders are not invoiced" in result.output
    assert "[ok  ] Shop routing: my-shop.myshopify.com (declared)" in result.output
