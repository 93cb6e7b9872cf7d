"""`bridge doctor`'s Month end check against the sandbox: what the close and the bank
reconciliation need, named with its setting; never a hold."""

from __future__ import annotations

import pytest

from bridge.ops.doctor import Level, diagnose
from bridge.services import build_services
from tests.support.pipeline import sandbox_settings

pytestmark = pytest.mark.integration


def month_findings(redis_url: str, sandbox_url: str, **env: object) -> list[tuple[str, str]]:
    services = build_services(sandbox_settings(redis_url, sandbox_url, **env))
    try:
        report = diagnose(services)
    finally:
        services.close()
    found = [f for f in report.findings if f.check == "Month end"]
    assert not any(f.holds for f in found)
    return [(f.level.value, f.detail) for f in found]


def test_the_seeded_books_have_what_the_month_end_needs(redis_url: str, sandbox_url: str) -> None:
    suppliers = {
        "stripe": {"code": "STRIPE", "name": "Stripe", "vat_number": "IE0000001A"},
        "shopify_payments": {"code": "SHOPIFY", "name": "Shopify", "vat_number": "IE0000002B"},
    }
    found = month_findings(
        redis_url, sandbox_url, BRIDGE_FEE_INVOICES=True, BRIDGE_FEE_SUPPLIERS=suppliers
    )
    assert found == [(Level.OK.value, "fee invoices on; bank reconciliation on")]


def test_a_domestic_treatment_and_missing_vat_numbers_are_named(
    redis_url: str, sandbox_url: str
) -> None:
    found = month_findings(
        redis_url,
        sandbox_url,
        BRIDGE_FEE_INVOICES=True,
        BRIDGE_FEE_TAX_TREATMENT="C0005",
        BRIDGE_PAYOUT_BANK_ACCOUNTS={"stripe": "512900000"},
    )
    levels = [level for level, _ in found]
    details = " | ".join(detail for _, detail in found)
    assert levels.count("error") == 1
    assert "'C0005' is not an intra-community" in details
    assert "no VAT number for the stripe supplier STRIPE" in details
    assert "no Sage bank account on 512900000 (stripe's payouts)" in details
