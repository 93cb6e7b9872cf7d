"""French e-invoicing in the sandbox (reference 20-einvoice-fr.md): the registration, the
routing fields, the simulated platform on its clock, rejections and the retry mutation."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.integration.sandbox.helpers import (
    CLOSE,
    MUG,
    Sage,
    close,
    create,
    post,
    settlement,
)

SETUP = "{ organizationEInvoiceSetupByOrgId { status mandateNumber effectiveDate errorCode } }"
CREATE_CUSTOMER = """mutation ($v: CustomerCreateGLDtoInput!) {
  createCustomer(input: $v) { id customerType eInvoicingAddressType eInvoicingAddress } }"""
CREATE_INVOICE = """mutation ($v: SalesInvoiceCreateGLDtoInput!) {
  createSalesInvoice(input: $v) { id shouldSendViaElectronicInvoicing
    eInvoicingAddressTypeCustomer eInvoicingAddressCustomer regulatoryBillingFramework } }"""
EINVOICE = """query ($id: UUID!) { salesInvoices(where: { id: { eq: $id } }) { nodes {
  status modificationDate eInvoiceId eInvoicingStatus shouldSendViaElectronicInvoicing
  eInvoicingAddressCustomer regulatoryBillingFramework
  eInvoice { id status rejectedReason traceParent salesInvoiceId } } } }"""
RETRY = """mutation ($v: RetrySalesInvoiceElectronicSubmissionGLDtoInput!) {
  retrySalesInvoiceElectronicSubmission(input: $v) { id } }"""
DUPONT = {
    "socialName": "Dupont Conseil SAS",
    "customerType": "BUSINESS",
    "eInvoicingAddressType": "fr.siren",
    "eInvoicingAddress": "123456782",
}


def _customer(sage: Sage, **values: Any) -> str:
    made = sage.data(CREATE_CUSTOMER, {"v": {**DUPONT, **values}})["createCustomer"]
    customer_id: str = made["id"]
    return customer_id


def _line() -> list[dict[str, Any]]:
    return [{"productId": MUG, "totalQuantity": 1, "unitPrice": 100}]


def _einvoice(sage: Sage, invoice_id: str) -> dict[str, Any]:
    [node] = sage.data(EINVOICE, {"id": invoice_id})["salesInvoices"]["nodes"]
    found: dict[str, Any] = node
    return found


def _posted_einvoice(sage: Sage) -> str:
    customer = _customer(sage)
    values = {"customerId": customer, "regulatoryBillingFramework": "S1", "lines": _line()}
    invoice_id: str = sage.data(CREATE_INVOICE, {"v": values})["createSalesInvoice"]["id"]
    close(sage, invoice_id)
    post(sage, invoice_id)
    return invoice_id


def _wait_status(sage: Sage, invoice_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = _einvoice(sage, invoice_id)
        if found["eInvoicingStatus"] == status:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{invoice_id} never reached {status}: {found}")


def test_the_seeded_french_organisation_is_registered(sage: Sage) -> None:
    setup = sage.data(SETUP)["organizationEInvoiceSetupByOrgId"]
    assert setup["status"] == "Accepted"
    assert setup["effectiveDate"].startswith("2026-09-01")
    assert setup["errorCode"] is None


def test_a_business_customer_routes_its_invoices_and_posting_submits_them(
    sage: Sage, http: httpx.Client
) -> None:
    # given a fast platform and a French business customer with its routing address
    http.post("/_sandbox/einvoicing", json={"stepSeconds": 0.1}).raise_for_status()
    customer = _customer(sage)
    # when an invoice is created for it (the address is copied) and posted
    values = {"customerId": customer, "regulatoryBillingFramework": "S1", "lines": _line()}
    made = sage.data(CREATE_INVOICE, {"v": values})["createSalesInvoice"]
    assert made["shouldSendViaElectronicInvoicing"] is True
    assert made["eInvoicingAddressTypeCustomer"] == "fr.siren"
    assert made["eInvoicingAddressCustomer"] == "123456782"
    before = _einvoice(sage, made["id"])
    assert before["eInvoice"] == []
    assert before["eInvoicingStatus"] is None
    close(sage, made["id"])
    post(sage, made["id"])
    # then it is SUBMITTED, moves on the clock to APPROVED, each step a modification
    submitted = _einvoice(sage, made["id"])
    assert submitted["eInvoicingStatus"] == "SUBMITTED"
    [entry] = submitted["eInvoice"]
    assert entry["salesInvoiceId"] == made["id"]
    assert entry["traceParent"].startswith("00-")
    assert submitted["eInvoiceId"] == entry["id"]
    approved = _wait_status(sage, made["id"], "APPROVED")
    assert approved["modificationDate"] > submitted["modificationDate"]
    # and PAYMENT_RECEIVED once the invoice is settled
    item = sage.data(
        "query ($id: UUID!) { salesInvoices(where: { id: { eq: $id } }) "
        "{ nodes { customerId openItems { id } } } }",
        {"id": made["id"]},
    )["salesInvoices"]["nodes"][0]
    pay = settlement(item["openItems"][0]["id"], 120, thirdPartyId=item["customerId"])
    sage.data(
        "mutation($input: SalesOpenItemSettlementGLDtoInput!) "
        "{ salesOpenItemSettlement(input: $input) { accountingEntryId } }",
        pay,
    )
    _wait_status(sage, made["id"], "PAYMENT_RECEIVED")


def test_the_next_submission_can_be_rejected_and_retried_once(
    sage: Sage, http: httpx.Client
) -> None:
    # given the platform will reject the next submission
    answer = http.post(
        "/_sandbox/einvoicing",
        json={"stepSeconds": 0.05, "next": "REJECTED", "reason": "SIREN inconnu"},
    )
    assert answer.json()["next"] == "REJECTED"
    invoice_id = _posted_einvoice(sage)
    rejected = _wait_status(sage, invoice_id, "REJECTED")
    assert rejected["eInvoice"][0]["rejectedReason"] == "SIREN inconnu"
    # when it is retried
    assert sage.data(RETRY, {"v": {"salesInvoiceId": invoice_id}}) == {
        "retrySalesInvoiceElectronicSubmission": {"id": invoice_id}
    }
    # then a second submission goes through (the outcome was for one submission only)
    approved = _wait_status(sage, invoice_id, "APPROVED")
    assert [e["status"] for e in approved["eInvoice"]] == ["REJECTED", "APPROVED"]
    # and an approved invoice cannot be retried
    error = sage.error(RETRY, {"v": {"salesInvoiceId": invoice_id}})
    assert error["extensions"]["code"] == "eInvoiceSubmissionNotRetryable"


def test_refused_and_failed_to_send_end_that_way(sage: Sage, http: httpx.Client) -> None:
    for outcome in ("REFUSED", "FAILED_TO_SEND"):
        http.post("/_sandbox/einvoicing", json={"stepSeconds": 0.02, "next": outcome})
        invoice_id = _posted_einvoice(sage)
        ended = _wait_status(sage, invoice_id, outcome)
        assert ended["eInvoice"][0]["rejectedReason"]


def test_without_an_accepted_registration_the_fields_are_refused(
    sage: Sage, http: httpx.Client
) -> None:
    assert http.post("/_sandbox/einvoicing", json={"status": "InProgress"}).status_code == 200
    assert sage.data(SETUP)["organizationEInvoiceSetupByOrgId"]["status"] == "InProgress"
    error = sage.error(CREATE_CUSTOMER, {"v": DUPONT})
    assert error["extensions"]["code"] == "eInvoicingNotAvailable"
    plain = _customer(sage, eInvoicingAddressType=None, eInvoicingAddress=None)
    values = {"customerId": plain, "regulatoryBillingFramework": "B1", "lines": _line()}
    assert sage.error(CREATE_INVOICE, {"v": values})["extensions"]["code"] == (
        "eInvoicingNotAvailable"
    )
    # a plain invoice is posted as before, never submitted
    invoice_id = create(sage)
    sage.data(CLOSE, {"input": {"salesInvoiceId": invoice_id}})
    post(sage, invoice_id)
    assert _einvoice(sage, invoice_id)["eInvoice"] == []
    failed = http.post("/_sandbox/einvoicing", json={"status": "Failed"}).json()
    assert failed["status"] == "Failed"
    assert sage.data(SETUP)["organizationEInvoiceSetupByOrgId"]["errorCode"]


def test_routing_rules_and_bad_control_bodies(sage: Sage, http: httpx.Client) -> None:
    individual = sage.error(CREATE_CUSTOMER, {"v": {**DUPONT, "customerType": "INDIVIDUAL"}})
    assert individual["extensions"]["code"] == "eInvoicingAddressRequiresBusiness"
    bad = sage.error(CREATE_CUSTOMER, {"v": {**DUPONT, "eInvoicingAddress": "12345"}})
    assert bad["extensions"]["code"] == "invalidEInvoicingAddress"
    siret = {
        "eInvoicingAddressType": "fr.sirensiret",
        "eInvoicingAddress": "123456782_99999999900010",
    }
    assert sage.error(CREATE_CUSTOMER, {"v": {**DUPONT, **siret}})["extensions"]["code"] == (
        "invalidEInvoicingAddress"
    )
    ok = {"eInvoicingAddressType": "fr.sirensiret", "eInvoicingAddress": "123456782_12345678200010"}
    assert _customer(sage, **ok)
    values = {"customerId": _customer(sage), "regulatoryBillingFramework": "X9", "lines": _line()}
    framework = sage.error(CREATE_INVOICE, {"v": values})
    assert framework["extensions"]["code"] == "invalidRegulatoryBillingFramework"
    for body in ({"status": "Done"}, {"next": "LOST"}, {"stepSeconds": 0}, {"other": 1}):
        assert http.post("/_sandbox/einvoicing", json=body).status_code == 400, body
    assert http.post("/_sandbox/einvoicing", content=b"{").status_code == 400


def test_removed_and_read_only_fields_are_not_inputs(sage: Sage) -> None:
    # 2026-06/07: contact fields left the invoice inputs; line taxId is read-only
    for extra in ({"contactEmail": "a@b.c"}, {"lines": [{"productId": MUG, "taxId": MUG}]}):
        values = {"customerId": _customer(sage), "lines": _line(), **extra}
        response = sage.call(CREATE_INVOICE, {"v": values})
        assert response.status_code == 400, response.text
