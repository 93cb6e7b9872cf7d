"""Organisations by legislation (ES, DE), identification documents, tax treatments, OSS
taxes, and the sales account chosen by the customer's country."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

BOOKS = """{
  taxes(where: {taxType: {neq: "FOREIGN"}}, order: [{percentage: DESC}]) {
    nodes { percentage taxType } }
  oss: taxes(where: {name: {eq: "FR 20 % (OSS)"}}) { nodes { percentage taxType } }
  journalTypes(order: [{code: ASC}]) { nodes { code type } }
  products(where: {code: {startsWith: "GEN-"}}, order: [{code: ASC}]) {
    nodes { code name salesVatPercentage } }
  customers { nodes { code socialName customerType nonIdentifiedCustomer countryAcronym
    documentType { code } } }
  documentTypes(order: [{code: ASC}]) { nodes { code name } }
  taxTreatments(where: {isIntracomunity: {eq: true}, registerType: {eq: ISSUED}}) {
    nodes { taxCode } }
}"""


def _organisation(http: httpx.Client, legislation: str) -> str:
    made = http.post("/_sandbox/organizations", json={"legislationCode": legislation})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _data(http: httpx.Client, headers: dict[str, str], org: str, query: str) -> dict[str, Any]:
    answer = http.post(
        "/graphql", json={"query": query}, headers={**headers, "X-OrganizationId": org}
    )
    body = answer.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_a_spanish_organisation_is_seeded_with_its_rates_journals_and_simplified_walkin(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    data = _data(http, sandbox_headers, _organisation(http, "ES"), BOOKS)
    assert [t["percentage"] for t in data["taxes"]["nodes"]] == [21, 10, 4, 0]
    assert {t["taxType"] for t in data["taxes"]["nodes"]} == {"IVA"}
    assert data["oss"]["nodes"] == [{"percentage": 20, "taxType": "FOREIGN"}]
    assert data["journalTypes"]["nodes"] == [
        {"code": "BA", "type": "FINANCIAL"},
        {"code": "HA", "type": "PURCHASE_INVOICE"},  # the purchase side, as in every org
        {"code": "VE", "type": "SALES_INVOICE"},
    ]
    assert data["products"]["nodes"] == [
        {"code": "GEN-0", "name": "Artículo IVA 0 %", "salesVatPercentage": 0},
        {"code": "GEN-10", "name": "Artículo IVA 10 %", "salesVatPercentage": 10},
        {"code": "GEN-21", "name": "Artículo IVA 21 %", "salesVatPercentage": 21},
        {"code": "GEN-4", "name": "Artículo IVA 4 %", "salesVatPercentage": 4},
    ]
    assert data["customers"]["nodes"] == [
        {
            "code": "WALKIN",
            "socialName": "Clientes varios",
            "customerType": "INDIVIDUAL",
            "nonIdentifiedCustomer": True,
            "countryAcronym": "ES",
            "documentType": {"code": "01"},
        }
    ]
    assert [d["code"] for d in data["documentTypes"]["nodes"]] == [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
    ]
    assert data["taxTreatments"]["nodes"] == [{"taxCode": "IC"}]


def test_a_german_organisation_is_seeded_with_its_rates(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    data = _data(http, sandbox_headers, _organisation(http, "DE"), BOOKS)
    assert [t["percentage"] for t in data["taxes"]["nodes"]] == [19, 7, 0]
    assert [p["code"] for p in data["products"]["nodes"]] == ["GEN-0", "GEN-19", "GEN-7"]
    assert data["customers"]["nodes"][0]["socialName"] == "Laufkundschaft"
    assert [d["name"] for d in data["documentTypes"]["nodes"]][1] == "USt-IdNr"


def test_customers_get_their_document_type_and_only_es_has_non_identified_customers(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    create = """mutation ($v: CustomerCreateGLDtoInput!) { createCustomer(input: $v) {
      code customerType vatNumber documentType { code } } }"""
    headers = {**sandbox_headers}
    be = {"socialName": "BelgiumCorp SA", "vatNumber": "BE1489052515", "customerType": "BUSINESS",
          "addresses": [{"firstLine": "1 Grand Place", "countryIsoCodeAlpha2": "BE"}]}  # fmt: skip
    made = http.post("/graphql", json={"query": create, "variables": {"v": be}}, headers=headers)
    assert made.json()["data"]["createCustomer"]["documentType"] == {"code": "02"}
    us = {"socialName": "Smiths Corporation",
          "addresses": [{"firstLine": "456 Oak S", "countryIsoCodeAlpha2": "US"}]}  # fmt: skip
    made = http.post("/graphql", json={"query": create, "variables": {"v": us}}, headers=headers)
    assert made.json()["data"]["createCustomer"]["documentType"] == {"code": "06"}
    # a non-identified customer is Spanish only
    walkin = {"socialName": "Clients", "customerType": "INDIVIDUAL", "nonIdentifiedCustomer": True}
    refused = http.post(
        "/graphql", json={"query": create, "variables": {"v": walkin}}, headers=headers
    ).json()
    assert refused["data"]["createCustomer"] is None
    assert refused["errors"][0]["extensions"]["code"] == "nonIdentifiedCustomerNotAllowed"


def test_german_customers_are_numbered_by_sage(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    org = _organisation(http, "DE")
    headers = {**sandbox_headers, "X-OrganizationId": org}
    create = """mutation ($v: CustomerCreateGLDtoInput!) { createCustomer(input: $v) { code } }"""
    named = {"socialName": "Müller GmbH", "code": "SH7012"}
    refused = http.post(
        "/graphql", json={"query": create, "variables": {"v": named}}, headers=headers
    ).json()
    assert refused["errors"][0]["extensions"]["code"] == "customerCodeMustBeAutomatic"
    for expected in ("10000", "10001"):
        made = http.post(
            "/graphql",
            json={"query": create, "variables": {"v": {"socialName": "Müller GmbH"}}},
            headers=headers,
        ).json()
        assert made["data"]["createCustomer"] == {"code": expected}


def test_a_business_in_another_eu_country_needs_its_vat_number(
    http: httpx.Client, sandbox_headers: dict[str, str]
) -> None:
    create = """mutation ($v: CustomerCreateGLDtoInput!) { createCustomer(input: $v) { code } }"""
    address = {"firstLine": "1 Grand Place", "countryIsoCodeAlpha2": "BE"}
    company = {"socialName": "BelgiumCorp SA", "customerType": "BUSINESS", "addresses": [address]}
    refused = http.post(
        "/graphql", json={"query": create, "variables": {"v": company}}, headers=sandbox_headers
    ).json()
    assert refused["errors"][0]["extensions"]["code"] == "vatNumberRequired"
