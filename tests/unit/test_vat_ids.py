"""VAT id and SIRET format checks (VIES formats, no network)."""

from __future__ import annotations

import pytest

from bridge.vat_ids import InvalidTaxId, is_eu, normalise_siret, normalise_vat_number


@pytest.mark.parametrize(
    ("number", "country", "expected"),
    [
        ("BE 0123.456.749", "BE", "BE0123456749"),
        ("0123456749", "BE", "BE0123456749"),
        ("DE129273398", "DE", "DE129273398"),
        ("FR40303265045", "FR", "FR40303265045"),
        ("EL123456789", "GR", "EL123456789"),
        ("NL123456789B01", None, "NL123456789B01"),
        ("ATU12345678", "AT", "ATU12345678"),
    ],
)
def test_well_formed_numbers_are_normalised(
    number: str, country: str | None, expected: str
) -> None:
    assert normalise_vat_number(number, country) == expected


@pytest.mark.parametrize(
    ("number", "country", "message"),
    [
        ("BE123", "BE", "malformed for BE"),
        ("DE12345678", "DE", "malformed for DE"),
        ("FR123456789", "FR", "malformed for FR"),
        ("DE129273398", "BE", "the customer is in BE"),
        ("12345", "US", "no EU country prefix"),
        ("", "DE", "empty"),
    ],
)
def test_malformed_numbers_are_refused_with_the_reason(
    number: str, country: str, message: str
) -> None:
    with pytest.raises(InvalidTaxId, match=message):
        normalise_vat_number(number, country)


def test_siret_and_siren() -> None:
    assert normalise_siret("732 829 320 00074") == "73282932000074"
    assert normalise_siret("732829320") == "732829320"
    with pytest.raises(InvalidTaxId, match="SIRET"):
        normalise_siret("7328293")


def test_eu_membership() -> None:
    assert all(is_eu(country) for country in ("de", "GR", "XI"))
    assert not any(is_eu(country) for country in ("CH", "US", None))
