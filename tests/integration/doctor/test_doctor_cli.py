"""`bridge doctor` against the sandbox over HTTP and a real Redis.

Given a bridge configured for the sandbox with a persistent Redis, when the mapping names a
payment method Sage does not have, then `bridge doctor` names the gateway and the code,
lists what Sage has, exits 1 and stores a report that holds processing; with the correct
mapping it exits 0 and the stored report holds nothing. A Redis that refuses CONFIG is a
warning, not an error; so is a Redis without its append-only file (it never holds).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bridge.cli import main
from bridge.embedded_redis import EmbeddedRedis, find_redis_server, free_port
from bridge.ops.doctor import DoctorStore
from bridge.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def persistent_redis(tmp_path: Path) -> Iterator[str]:
    with EmbeddedRedis(data_dir=tmp_path / "redis", persistent=True) as server:
        yield server.url


def _env(redis_url: str, sandbox_url: str, **extra: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SAGE_ORGANIZATION_ID": "",
        "SHOPIFY_WEBHOOK_SECRET": "shopify-doctor-secret",
        "STRIPE_WEBHOOK_SECRET": "whsec_doctor",
        "BRIDGE_ADMIN_TOKEN": "doctor-admin-token-long-enough",
        "BRIDGE_CONNECTION": "doctor",
        **extra,
    }


def test_a_wrong_payment_method_is_named_and_exits_1(
    persistent_redis: str, sandbox_url: str
) -> None:
    wrong = '{"stripe": "Stripe", "shopify_payments": "Shopify Paiements"}'
    env = _env(persistent_redis, sandbox_url, BRIDGE_PAYMENT_METHODS=wrong)
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 1, result.output
    assert "gateway 'shopify_payments' is mapped to 'Shopify Paiements'" in result.output
    assert "Shopify Payments" in result.output  # what Sage has, to choose from
    assert "[FAIL] Payment methods" in result.output
    assert "[ok  ] Sales journal" in result.output
    assert "Processing is held" in result.output
    client = redis.Redis.from_url(persistent_redis, decode_responses=True)
    report = DoctorStore(client, Settings(BRIDGE_CONNECTION="doctor")).load()
    client.close()
    assert report is not None
    assert "Shopify Paiements" in report.hold_message()


def test_the_correct_mapping_exits_0_and_lifts_the_hold(
    persistent_redis: str, sandbox_url: str
) -> None:
    wrong = '{"stripe": "Stripe Europe"}'
    first = CliRunner().invoke(
        main, ["doctor"], env=_env(persistent_redis, sandbox_url, BRIDGE_PAYMENT_METHODS=wrong)
    )
    fixed = CliRunner().invoke(main, ["doctor"], env=_env(persistent_redis, sandbox_url))
    assert first.exit_code == 1, first.output
    assert fixed.exit_code == 0, fixed.output
    assert "[FAIL]" not in fixed.output
    for name in (
        "Sage connection",
        "Organisation",
        "Sales journal",
        "Payment methods",
        "Products",
        "Walk-in customer",
        "Payout accounts",
        "Redis persistence",
    ):
        assert f"[ok  ] {name}" in fixed.output, fixed.output
    assert "Ready" in fixed.output
    client = redis.Redis.from_url(persistent_redis, decode_responses=True)
    report = DoctorStore(client, Settings(BRIDGE_CONNECTION="doctor")).load()
    client.close()
    assert report is not None
    assert report.hold_message() == ""


def test_missing_products_customer_and_journal_are_each_named(
    persistent_redis: str, sandbox_url: str
) -> None:
    env = _env(
        persistent_redis,
        sandbox_url,
        BRIDGE_SALES_JOURNAL="VX",
        BRIDGE_SHIPPING_PRODUCT="PORT",
        BRIDGE_FALLBACK_PRODUCTS='{"20": "GEN-20", "5.5": "GEN-20"}',
        BRIDGE_WALKIN_CUSTOMER="GUEST",
    )
    result = CliRunner().invoke(main, ["doctor", "--no-store"], env=env)
    assert result.exit_code == 1
    assert "BRIDGE_SALES_JOURNAL 'VX' is not an active journal" in result.output
    assert "BRIDGE_SHIPPING_PRODUCT names 'PORT'" in result.output
    assert "fallback product 'GEN-20' for 5.5 % VAT has 20 % VAT" in result.output
    assert "BRIDGE_WALKIN_CUSTOMER 'GUEST' is not a customer" in result.output


def test_a_missing_fees_account_is_named_and_holds_only_payouts(
    persistent_redis: str, sandbox_url: str
) -> None:
    env = _env(persistent_redis, sandbox_url, BRIDGE_FEES_ACCOUNT="627999999")
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 1, result.output
    assert "[FAIL] Payout accounts" in result.output
    assert "BRIDGE_FEES_ACCOUNT" in result.output
    assert "627999999" in result.output
    assert "Processing is held" not in result.output  # invoices and payments go on
    client = redis.Redis.from_url(persistent_redis, decode_responses=True)
    report = DoctorStore(client, Settings(BRIDGE_CONNECTION="doctor")).load()
    client.close()
    assert report is not None
    assert report.hold_message() == ""


def test_redis_persistence_off_is_a_warning_that_never_holds(
    redis_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    off = CliRunner().invoke(main, ["doctor"], env=_env(redis_url, sandbox_url))
    assert off.exit_code == 0, off.output  # ready: a warning never stops the books
    assert "[warn] Redis persistence: appendonly is off" in off.output
    assert "never booked" in off.output  # the risk, named
    assert "appendonly yes" in off.output  # and what to set
    assert "Processing is held" not in off.output
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    report = DoctorStore(client, Settings(BRIDGE_CONNECTION="doctor")).load()
    client.close()
    assert report is not None
    assert report.hold_message() == ""

    port = free_port()
    argv = [
        str(find_redis_server()),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--dir",
        str(tmp_path),
        "--rename-command",
        "CONFIG",
        "",
    ]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        probe = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        probe.close()
        managed = CliRunner().invoke(main, ["doctor", "--no-store"], env=_env(url, sandbox_url))
    finally:
        server.terminate()
        server.wait(10)
    assert managed.exit_code == 0, managed.output
    assert "[warn] Redis persistence: Redis refused CONFIG GET" in managed.output
