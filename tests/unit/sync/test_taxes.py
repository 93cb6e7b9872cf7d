"""Sale kinds: OSS, intra-EU B2B, export and domestic lines get the product their tax
needs; guests abroad get a walk-in customer of their country; business customers their
document type; a B2B location completes its buyer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bridge.models import Address, Line, LineKind, Order, Party
from bridge.settings import Settings, WalkinBy
from bridge.sync.customers import checked_party, customer_input, document_type_code
from bridge.sync.dispatch import PermanentError
from bridge.sync.shopify.companies import with_company_location
from bridge.sync.taxes import check_foreign_taxes, fallback_products, plan_taxes
from bridge.sync.walkins import walkin_code
from connectors.sage_active.tax_reference import ProductTax
from connectors.shopify.companies import CompanyLocation


def _order(
    country: str | None, *rates: str, vat: str | None = None, company: str | None = None
) -> Order:
    lines = [
        Line.build(kind=LineKind.PRODUCT, title=f"item {rate}", quantity=Decimal(1),
                   unit_price=Decimal(100), vat_rate=Decimal(rate))
        for rate in rates
    ]  # fmt: skip
    party = Party(
        provider_id="1",
        name="Buyer",
        company=company,
        vat_number=vat,
        address=Address(country_code=country) if country else None,
    )
    return Order(
        provider="shopify", account="shop", provider_id="9", number="#9", reference="ref",
        external_reference="#9", currency="EUR", date=dt.date(2026, 12, 1), customer=party,
        lines=lines, total=sum((line.gross for line in lines), Decimal(0)),
    )  # fmt: skip


OSS = Settings(BRIDGE_OSS_PRODUCTS={"DE:19": "OSS-DE-19", "DE:7": "OSS-DE-7"})


def test_an_eu_consumer_abroad_is_booked_on_the_destination_rate_product() -> None:
    plan = plan_taxes(_order("DE", "19", "7"), OSS, "FR", "FR", None)
    assert plan.codes == ["OSS-DE-19", "OSS-DE-7"]
    assert plan.mention is None


def test_an_unmapped_destination_rate_is_refused_never_booked_at_home() -> None:
    with pytest.raises(PermanentError, match=r"'DE:19'.*never booked on a domestic tax"):
        plan_taxes(_order("DE", "19"), Settings(), "FR", "FR", None)
    # a rate the home country shares, for a destination the shop maps, is refused too
    with pytest.raises(PermanentError, match="'DE:20'"):
        plan_taxes(_order("DE", "20"), OSS, "FR", "FR", None)


def test_below_the_threshold_a_home_rate_abroad_stays_domestic() -> None:
    assert plan_taxes(_order("BE", "20"), OSS, "FR", "FR", None).codes == [None]


def test_an_eu_business_at_zero_is_intra_community_with_the_reverse_charge_mention() -> None:
    plan = plan_taxes(_order("BE", "0", vat="BE0123456749", company="Claes"), OSS, "FR", "FR", None)
    assert plan.codes == ["INTRA-EU"]
    assert plan.mention is not None
    assert plan.mention.startswith("Autoliquidation")
    spanish = plan_taxes(_order("BE", "0", vat="BE0123456749"), Settings(), "ES", "ES", None)
    assert spanish.mention is not None
    assert "Inversión del sujeto pasivo" in spanish.mention


def test_exports_and_domestic_sales_keep_the_usual_products() -> None:
    assert plan_taxes(_order("US", "0"), OSS, "FR", "FR", None).codes == [None]
    assert plan_taxes(_order("FR", "20", "5.5"), OSS, "FR", "FR", None).codes == [None, None]


def test_fallback_products_follow_the_legislation_unless_set() -> None:
    assert fallback_products(Settings(), "ES") == {
        "21": "GEN-21", "10": "GEN-10", "4": "GEN-4", "0": "GEN-0",
    }  # fmt: skip
    assert set(fallback_products(Settings(), "DE")) == {"19", "7", "0"}
    assert "20" in fallback_products(Settings(), "FR")
    explicit = Settings(BRIDGE_FALLBACK_PRODUCTS={"21": "MINE"})
    assert fallback_products(explicit, "DE") == {"21": "MINE"}


@pytest.mark.parametrize(
    ("mode", "country", "code"),
    [
        (WalkinBy.COUNTRY, "US", "WALKIN-US"),
        (WalkinBy.COUNTRY, "FR", "WALKIN"),
        (WalkinBy.COUNTRY, None, "WALKIN"),
        (WalkinBy.ZONE, "DE", "WALKIN-EU"),
        (WalkinBy.ZONE, "CH", "WALKIN-WORLD"),
        (WalkinBy.SINGLE, "US", "WALKIN"),
    ],
)
def test_walkin_codes(mode: WalkinBy, country: str | None, code: str) -> None:
    assert walkin_code("WALKIN", mode, "FR", country) == code


def test_business_customers_get_their_document_type_and_checked_ids() -> None:
    french = checked_party(
        Party(provider_id="1", name="Dupont", company="Dupont SA", siret="732 829 320 00074",
              vat_number="FR40303265045", address=Address(country_code="FR")), "order #1",
    )  # fmt: skip
    assert (french.siret, document_type_code(french, "FR")) == ("73282932000074", "01")
    values = customer_input("SH1", french, home="FR", document_type_id="doc-01").to_graphql()
    assert values["customerType"] == "BUSINESS"
    assert (values["documentId"], values["documentTypeId"]) == ("73282932000074", "doc-01")
    belgian = checked_party(
        Party(provider_id="2", name="Claes", vat_number="be 0123.456.749",
              address=Address(country_code="BE")), "order #2",
    )  # fmt: skip
    assert (belgian.vat_number, document_type_code(belgian, "FR")) == ("BE0123456749", "02")
    swiss = checked_party(
        Party(provider_id="3", name="Meier AG", vat_number="CHE-123.456.789 MWST",
              address=Address(country_code="CH")), "order #3",
    )  # fmt: skip
    assert swiss.vat_number is None  # Sage does not use a VAT number outside the EU
    with pytest.raises(PermanentError, match=r"order #4: customer 'X'.*malformed for BE"):
        checked_party(
            Party(provider_id="4", name="X", vat_number="BE12", address=Address(country_code="BE")),
            "order #4",
        )


def test_a_company_location_completes_the_buyer() -> None:
    location = CompanyLocation.model_validate(
        {"id": "gid://shopify/CompanyLocation/1", "name": "HQ", "company": {"name": "Claes SRL"},
         "billingAddress": {"countryCode": "BE"},
         "taxSettings": {"taxRegistrationId": " BE0123456749 ", "taxExempt": True,
                         "taxExemptions": []}}
    )  # fmt: skip
    order = _order(None, "0")
    completed = with_company_location(order, location)
    assert completed.customer is not None
    assert completed.customer.vat_number == "BE0123456749"
    assert completed.customer.company == "Claes SRL"
    assert completed.customer.country == "BE"
    assert completed.customer.tax_exempt
    assert with_company_location(order, None) == order


class _Books:
    """Stands in for Sage's product look-up (the only call `check_foreign_taxes` makes)."""

    def __init__(self, tax_type: str) -> None:
        self.tax_type = tax_type

    def product_taxes(self, codes: object) -> dict[str, ProductTax]:
        tax = {"id": "t", "name": "TVA 20 %", "percentage": "19", "taxType": self.tax_type}
        return {
            "OSS-DE-19": ProductTax.model_validate({"id": "p", "code": "OSS-DE-19", "tax": tax})
        }


def test_an_oss_product_on_a_domestic_tax_is_refused() -> None:
    plan = plan_taxes(_order("DE", "19"), OSS, "FR", "FR", None)
    check_foreign_taxes(_Books("FOREIGN"), plan, OSS)  # type: ignore[arg-type]
    with pytest.raises(PermanentError, match="domestic tax 'TVA 20 %'"):
        check_foreign_taxes(_Books("TVA"), plan, OSS)  # type: ignore[arg-type]


def test_the_place_of_supply_is_where_the_goods_go() -> None:
    # given a French customer whose order ships to Germany, at the German rate
    billed_home = _order("FR", "19").model_copy(update={"ship_to_country": "DE"})
    # then the line is an OSS sale to Germany
    assert plan_taxes(billed_home, OSS, "FR", "FR", None).codes == ["OSS-DE-19"]
    # and the destination survives a snapshot; the customer's own country is implied
    dumped = billed_home.model_dump(mode="json")
    assert dumped["ship_to_country"] == "DE"
    assert Order.model_validate(dumped) == billed_home
    at_home = _order("DE", "19")
    assert "ship_to_country" not in at_home.model_dump(mode="json")
    assert Order.model_validate(at_home.model_dump(mode="json")).destination == "DE"


def test_a_company_abroad_in_the_eu_without_vat_id_is_booked_as_a_person() -> None:
    party = Party(
        provider_id="5", name="Claes", company="Claes SRL", address=Address(country_code="BE")
    )
    assert customer_input("SH5", party, home="FR").customer_type == "INDIVIDUAL"
    with_vat = party.model_copy(update={"vat_number": "BE0123456749"})
    assert customer_input("SH5", with_vat, home="FR").customer_type == "BUSINESS"
    at_home = party.model_copy(update={"address": Address(country_code="FR")})
    assert customer_input("SH5", at_home, home="FR").customer_type == "BUSINESS"
