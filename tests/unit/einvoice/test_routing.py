"""Routing addresses and billing frameworks of French e-invoicing (pure rules)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.einvoice.routing import (
    UnmappedProductType,
    framework,
    is_french,
    line_natures,
    routing,
    siren_of_vat,
    valid_siren,
    valid_siret,
)
from bridge.models import Address, Line, LineKind, Party
from bridge.settings import (
    DEFAULT_EINVOICE_PRODUCT_TYPES,
    EInvoiceAddressType,
    EInvoiceNature,
    EInvoiceSource,
)

SIRET, VAT = EInvoiceSource.SIRET, EInvoiceSource.VAT_NUMBER
FR = Address(city="Lyon", country_code="FR")


def party(**values: object) -> Party:
    return Party.model_validate({"provider_id": "1", "name": "Dupont Conseil SAS", **values})


def line(kind: LineKind, title: str = "x") -> Line:
    return Line.build(
        kind=kind, title=title, quantity=Decimal(1), unit_price=Decimal(10), vat_rate=Decimal(20)
    )


def test_siren_and_siret_check_digits() -> None:
    assert valid_siren("123456782")
    assert not valid_siren("123456789")  # one digit off
    assert valid_siret("12345678200010")
    assert not valid_siret("12345678200001")  # the reference's example is not a real SIRET
    assert valid_siret("35600000000010")  # La Poste: another check


def test_the_siren_inside_a_french_vat_number() -> None:
    assert siren_of_vat("FR11123456782") == "123456782"
    assert siren_of_vat("fr 11 123 456 782") == "123456782"
    assert siren_of_vat("FR12123456782") is None  # wrong key
    assert siren_of_vat("DE123456789") is None


@pytest.mark.parametrize(
    ("values", "kind", "sources", "expected"),
    [
        ({"siret": "12345678200010"}, EInvoiceAddressType.SIREN, [SIRET, VAT],
         ("fr.siren", "123456782")),
        ({"siret": "123 456 782 00010"}, EInvoiceAddressType.SIRENSIRET, [SIRET],
         ("fr.sirensiret", "123456782_12345678200010")),
        ({"siret": "123456782"}, EInvoiceAddressType.SIRENSIRET, [SIRET],
         ("fr.siren", "123456782")),
        ({"vat_number": "FR11123456782"}, EInvoiceAddressType.SIREN, [SIRET, VAT],
         ("fr.siren", "123456782")),
        ({"vat_number": "FR11123456782"}, EInvoiceAddressType.SIREN, [SIRET], None),
        ({"siret": "12345678900010"}, EInvoiceAddressType.SIREN, [SIRET, VAT], None),
    ],
)  # fmt: skip
def test_routing_follows_the_configured_rule(
    values: dict[str, str],
    kind: EInvoiceAddressType,
    sources: list[EInvoiceSource],
    expected: tuple[str, str] | None,
) -> None:
    found = routing(party(**values), kind, sources)
    assert (found.address_type, found.address) if found else None is expected


def test_french_customers() -> None:
    assert is_french(party(address=FR.model_dump()))
    assert not is_french(party(address={"country_code": "BE"}, siret="12345678200010"))
    assert is_french(party(siret="12345678200010"))
    assert not is_french(party())


def test_frameworks_from_the_product_lines() -> None:
    mapping = dict(DEFAULT_EINVOICE_PRODUCT_TYPES)
    goods, service, shipping = (
        line(LineKind.PRODUCT),
        line(LineKind.PRODUCT),
        line(LineKind.SHIPPING),
    )
    assert framework(line_natures([service], ["SERVICE"], mapping)) == "S1"
    assert framework(line_natures([goods, shipping], ["PRODUCT", "SERVICE"], mapping)) == "B1"
    assert framework(line_natures([goods, service], ["PRODUCT", "SERVICE"], mapping)) == "M1"
    assert framework(line_natures([shipping], ["SERVICE"], mapping)) == "S1"
    assert framework([]) == "B1"
    assert framework([EInvoiceNature.GOODS]) == "B1"


def test_an_unmapped_category_is_a_clear_error() -> None:
    with pytest.raises(UnmappedProductType, match="PRODUCT_AND_SERVICE"):
        line_natures([line(LineKind.PRODUCT, "Kit")], ["PRODUCT_AND_SERVICE"], {})
