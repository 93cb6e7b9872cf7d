"""Sales across borders and to businesses, end to end: signed webhooks into the ingress, a
real worker, the sandbox over HTTP (French, Spanish and German organisations)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bridge.ops.doctor import Level, diagnose
from bridge.services import build_services
from bridge.web import create_app
from tests.support.celery import WorkerHandle
from tests.support.pipeline import payload, sandbox_settings
from tests.support.rig import ADMIN_TOKEN, Rig
from tests.support.sandbox import SandboxControl
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, API_VERSION, FakeShopifyGraphQL
from tests.support.webhooks import SHOPIFY_SECRET, STRIPE_SECRET, stripe_headers

pytestmark = pytest.mark.e2e

SHOP = "boutique-demo.myshopify.com"
OSS_DE = "orders-create-050-ttc-oss-germany-consumer-v2026-10"
US_GUEST = "orders-create-051-ht-export-us-guest-v2026-10"
BE_B2B = "orders-create-052-ht-b2b-belgium-company-location-v2026-10"
ES_SHOP = "orders-create-054-ttc-es-shop-21-and-10-v2026-10"
DE_SHOP = "orders-create-055-ttc-de-shop-19-and-7-v2026-10"
ES_GUEST = "orders-create-056-ttc-es-shop-guest-simplified-v2026-10"
STRIPE_RC = "invoice-finalized-103-endive-reverse-charge-de"
INVOICE = """query ($ref: String) { salesInvoices(where: {salesOrderNumber: {eq: $ref}}) {
  nodes { status totalLiquid totalVat specialMention
    customer { code customerType countryAcronym vatNumber documentType { code }
      nonIdentifiedCustomer }
    lines { vatPercentage productCode taxTreatment { isIntracomunity } tax { taxType } } } } }"""
MakeRig = Callable[..., Rig]
JSON_SETTINGS = ("BRIDGE_OSS_PRODUCTS", "BRIDGE_CLEARING_ACCOUNTS")
# The journals and accounts of the sandbox's ES and DE books (docs/sandbox.md).
BOOKS = {
    "ES": {
        "BRIDGE_SALES_JOURNAL": "VE",
        "BRIDGE_BANK_JOURNAL": "BA",
        "BRIDGE_BANK_ACCOUNT": "572000000",
        "BRIDGE_CUSTOMERS_ACCOUNT": "430000000",
        "BRIDGE_FEES_ACCOUNT": "626000000",
        "BRIDGE_CLEARING_ACCOUNTS": '{"stripe": "572100000", "shopify_payments": "572200000"}',
    },
    "DE": {
        "BRIDGE_SALES_JOURNAL": "VK",
        "BRIDGE_BANK_JOURNAL": "BK",
        "BRIDGE_BANK_ACCOUNT": "1200",
        "BRIDGE_CUSTOMERS_ACCOUNT": "1400",
        "BRIDGE_FEES_ACCOUNT": "4970",
        "BRIDGE_CLEARING_ACCOUNTS": '{"stripe": "1360", "shopify_payments": "1361"}',
    },
}


@pytest.fixture
def make_rig(
    redis_url: str, sandbox_url: str, start_worker: Callable[..., WorkerHandle]
) -> Iterator[MakeRig]:
    """`make_rig(**env)`: the e2e rig with extra settings (an organisation, a mapping)."""
    opened: list[Any] = []

    def make(**extra: str) -> Rig:
        overrides = {
            "BRIDGE_CONNECTION": "default",
            "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
            "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
            "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
            **extra,
        }
        decoded = {k: json.loads(v) if k in JSON_SETTINGS else v for k, v in overrides.items()}
        settings = sandbox_settings(redis_url, sandbox_url, **decoded)
        services = build_services(settings)
        env = {
            "SAGE_API_URL": f"{sandbox_url}/graphql",
            "SAGE_AUTH_URL": sandbox_url,
            "SAGE_TIMEOUT": "5",
            **overrides,
        }
        client = create_app(settings, services).test_client()
        rig = Rig(services, client, SandboxControl(sandbox_url), env, start_worker)
        opened.append(rig)
        return rig

    yield make
    for rig in opened:
        rig.control.close()
        rig.services.close()


def sage_invoice(rig: Rig, reference: str) -> dict[str, Any]:
    data = rig.services.sage.client.execute(INVOICE, {"ref": reference}, name="salesInvoices")
    nodes: list[dict[str, Any]] = data["salesInvoices"]["nodes"]
    assert len(nodes) == 1
    return nodes[0]


def booked(rig: Rig, name: str, status: str = "Posted") -> dict[str, Any]:
    body = payload("shopify", name)
    rig.send("orders/create", body)
    reference = f"shopify:{SHOP}:{body['id']}"
    rig.wait_status(reference, status, timeout=90)
    return sage_invoice(rig, reference)


def paid(rig: Rig, name: str) -> None:
    """The order's Shopify Payments sale (the recorded transaction's shape)."""
    order = payload("shopify", name)
    tx = copy.deepcopy(payload("shopify", "order-transactions-create-001-sale-shopify-payments"))
    tx.update(id=order["id"] + 7, order_id=order["id"], amount=order["total_price"])
    rig.send("order_transactions/create", tx)


def organisation(sandbox_url: str, legislation: str) -> str:
    answer = httpx.post(
        f"{sandbox_url}/_sandbox/organizations", json={"legislationCode": legislation}
    )
    if answer.status_code == 409:
        return str(answer.json()["id"])
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_german_consumer_is_booked_at_the_german_rate_on_its_oss_product(
    make_rig: MakeRig,
) -> None:
    # given a French organisation mapping German 19 % to its OSS product
    rig = make_rig(BRIDGE_OSS_PRODUCTS=json.dumps({"DE:19": "OSS-DE-19"}))
    rig.worker()
    # when the German consumer's order (123.90, 19 % incl.) and its payment arrive
    invoice = booked(rig, OSS_DE)
    paid(rig, OSS_DE)
    # then the invoice is Collected at 123.90 with 19.78 VAT at 19 %, customer in DE
    order = payload("shopify", OSS_DE)
    rig.wait_status(f"shopify:{SHOP}:{order['id']}", "Collected", timeout=90)
    assert (invoice["totalLiquid"], invoice["totalVat"]) == (Decimal("123.90"), Decimal("19.78"))
    assert {line["vatPercentage"] for line in invoice["lines"]} == {19}
    assert {line["productCode"] for line in invoice["lines"]} == {"OSS-DE-19"}
    assert {line["tax"]["taxType"] for line in invoice["lines"]} == {"FOREIGN"}
    assert invoice["customer"]["countryAcronym"] == "DE"
    assert invoice["customer"]["customerType"] == "INDIVIDUAL"


def test_guests_abroad_and_eu_companies_get_customers_of_their_country(
    make_rig: MakeRig,
) -> None:
    rig = make_rig()
    rig.worker()
    # a US guest: a walk-in customer of the US (Sage's foreign sales account)
    guest = booked(rig, US_GUEST)
    assert guest["customer"]["code"] == "WALKIN-US"
    assert guest["customer"]["countryAcronym"] == "US"
    # a Belgian company on a B2B location: BUSINESS, BE, its VAT number, intra-community
    company = booked(rig, BE_B2B)
    assert company["customer"] == {
        "code": "SH7012345678952",
        "customerType": "BUSINESS",
        "countryAcronym": "BE",
        "vatNumber": "BE0123456749",
        "documentType": {"code": "02"},
        "nonIdentifiedCustomer": False,
    }
    assert company["totalLiquid"] == 149
    assert company["totalVat"] == 0
    assert {line["productCode"] for line in company["lines"]} == {"INTRA-EU"}
    assert all(line["taxTreatment"]["isIntracomunity"] for line in company["lines"])
    assert "Autoliquidation" in company["specialMention"]
    # and the doctor sees the walk-in customer created for the US, in the US
    found = [f for f in diagnose(rig.services).findings if f.check == "Walk-in customers"]
    assert [f.level for f in found] == [Level.OK]
    assert "abroad WALKIN-US" in found[0].detail


def test_a_b2b_order_takes_the_vat_id_its_company_location_registered(
    make_rig: MakeRig,
) -> None:
    # given a B2B company location registered with its VAT id in Shopify
    fake = FakeShopifyGraphQL(shop_domain=SHOP)
    fake.add_company_location(
        {
            "id": "gid://shopify/CompanyLocation/98765101",
            "name": "Brasserie Claes - Bruxelles",
            "company": {"name": "Brasserie Claes SRL"},
            "billingAddress": {"countryCode": "BE"},
            "taxSettings": {
                "taxRegistrationId": "BE0123456749",
                "taxExempt": True,
                "taxExemptions": ["EU_REVERSE_CHARGE_EXEMPTION_RULE"],
            },
        }
    )
    with serve_wsgi(fake.app) as base:
        rig = make_rig(
            SHOPIFY_ACCESS_TOKEN=ACCESS_TOKEN,
            SHOPIFY_API_URL=base,
            SHOPIFY_API_VERSION=API_VERSION,
        )
        rig.worker()
        # when its order carries no VAT id of its own (no note attribute)
        body = payload("shopify", BE_B2B)
        body.update(id=body["id"] + 100, name="#1152", note_attributes=[])
        rig.send("orders/create", body)
        reference = f"shopify:{SHOP}:{body['id']}"
        rig.wait_status(reference, "Posted", timeout=90)
    fake.close()
    # then the customer is the company, with the location's VAT id, intra-community
    invoice = sage_invoice(rig, reference)
    assert invoice["customer"]["vatNumber"] == "BE0123456749"
    assert invoice["customer"]["customerType"] == "BUSINESS"
    assert invoice["customer"]["countryAcronym"] == "BE"
    assert all(line["taxTreatment"]["isIntracomunity"] for line in invoice["lines"])
    assert "CompanyLocationTax" in fake.requests


def test_a_stripe_reverse_charge_invoice_books_an_intra_community_sale(
    make_rig: MakeRig,
) -> None:
    rig = make_rig()
    rig.worker()
    event = payload("stripe", STRIPE_RC)
    raw = json.dumps(event).encode()
    answer = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert answer.status_code == 202, answer.get_data(as_text=True)
    invoice_id = event["data"]["object"]["id"]
    reference = f"stripe:default:{invoice_id}"
    rig.wait_status(reference, "Posted", timeout=90)
    invoice = sage_invoice(rig, reference)
    assert invoice["customer"]["customerType"] == "BUSINESS"
    assert invoice["customer"]["countryAcronym"] == "DE"
    assert invoice["customer"]["vatNumber"] == "DE129273398"
    assert all(line["taxTreatment"]["isIntracomunity"] for line in invoice["lines"])
    assert invoice["totalVat"] == 0
    assert invoice["specialMention"]


@pytest.mark.parametrize(
    ("legislation", "name", "total", "vat", "rates"),
    [("ES", ES_SHOP, "55.44", "7.44", {21, 10}), ("DE", DE_SHOP, "51.15", "6.15", {19, 7})],
)
def test_spanish_and_german_organisations_book_their_rates_to_the_cent(
    make_rig: MakeRig,
    sandbox_url: str,
    legislation: str,
    name: str,
    total: str,
    vat: str,
    rates: set[int],
) -> None:
    # given an organisation of that legislation, its journals and accounts mapped
    rig = make_rig(
        SAGE_ORGANIZATION_ID=organisation(sandbox_url, legislation), **BOOKS[legislation]
    )
    rig.worker()
    # when a domestic order arrives
    invoice = booked(rig, name)
    # then it is booked at the legislation's rates, to the cent, on its fallback products
    assert (invoice["totalLiquid"], invoice["totalVat"]) == (Decimal(total), Decimal(vat))
    assert {line["vatPercentage"] for line in invoice["lines"]} == rates
    assert invoice["customer"]["countryAcronym"] == legislation
    if legislation == "DE":
        # German customers are numbered by Sage (10000-69999); the bridge's code is kept aside
        assert 10000 <= int(invoice["customer"]["code"]) < 70000
        # a guest abroad too, and the doctor finds its walk-in customer by the bridge's code
        guest = booked(rig, US_GUEST)
        assert guest["customer"]["countryAcronym"] == "US"
        found = [f for f in diagnose(rig.services).findings if f.check == "Walk-in customers"]
        assert [f.level for f in found] == [Level.OK]
        assert "abroad WALKIN-US" in found[0].detail
    if legislation == "ES":
        # and a guest consumer gets a simplified invoice: the non-identified walk-in customer
        guest = booked(rig, ES_GUEST)
        assert guest["customer"]["code"] == "WALKIN"
        assert guest["customer"]["nonIdentifiedCustomer"] is True
        assert (guest["totalLiquid"], guest["totalVat"]) == (Decimal("12.10"), Decimal("2.10"))


def test_the_doctor_names_an_unmapped_destination_rate_and_passes_once_mapped(
    make_rig: MakeRig, redis_url: str, sandbox_url: str
) -> None:
    # given a German consumer's order and no OSS mapping
    rig = make_rig()
    rig.worker()
    body = payload("shopify", OSS_DE)
    ref = rig.send("orders/create", body)
    rig.wait_for(lambda: rig.event_status(ref) == "failed", 90, "the order refused")
    record = rig.services.events.get(ref)
    assert record is not None
    assert "'DE:19'" in (record.error or "")
    # when the doctor runs, then it names the destination and rate (an error: exit 1)
    report = diagnose(rig.services)
    oss = [f for f in report.findings if f.check == "OSS destinations"]
    assert [f.level for f in oss] == [Level.ERROR]
    assert "DE at 19 %" in oss[0].detail
    assert oss[0] in report.errors  # `bridge doctor` exits 1 on it
    # and once mapped it passes
    mapped = make_rig(BRIDGE_OSS_PRODUCTS=json.dumps({"DE:19": "OSS-DE-19"}))
    oss = [f for f in diagnose(mapped.services).findings if f.check == "OSS destinations"]
    assert [f.level for f in oss] == [Level.OK]
    assert "DE:19" in oss[0].detail
