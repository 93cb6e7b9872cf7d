"""EU VAT identification numbers and French SIREN/SIRET: format checks, no network.

A business customer's VAT id reaches Sage (`vatNumber`) only when it has the shape the
European Commission publishes for its country (VIES FAQ 11): the country prefix (Greece
`EL`, Northern Ireland `XI`) then the national part. A number without its prefix gets the
one of the customer's country; spaces, dots and dashes are dropped. Whether the number is
*registered* is VIES's business (a network look-up the bridge does not make).

`EU_COUNTRIES` are the ISO codes of the VIES members (Sage's `countries.viesCode` is set
for exactly these, `XI` included).
"""

from __future__ import annotations

import re

# ISO alpha-2 -> the VIES prefix of its VAT numbers.
_SAME_PREFIX = "AT BE BG CY CZ DE DK EE ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI"
VIES_PREFIX: dict[str, str] = {**{code: code for code in _SAME_PREFIX.split()}, "GR": "EL"}
EU_COUNTRIES = frozenset(VIES_PREFIX)
_PREFIX_COUNTRY = {prefix: country for country, prefix in VIES_PREFIX.items()}

# The national part after the prefix (European Commission, VIES FAQ 11).
_FORMATS: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[0-9A-Z]\d{7}[0-9A-Z]",
    "FI": r"\d{8}",
    "FR": r"[0-9A-HJ-NP-Z]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][AH]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
_SEPARATORS = re.compile(r"[\s.\-/]")
_SIRET = re.compile(r"\d{9}(\d{5})?")


class InvalidTaxId(ValueError):
    """A VAT id or SIREN/SIRET that cannot be right; the message says what and why."""


def is_eu(country: str | None) -> bool:
    """Whether `country` (ISO alpha-2) is a VIES member (`GR` and `XI` included)."""
    return (country or "").upper() in EU_COUNTRIES


def vat_country(number: str) -> str | None:
    """The ISO country of a VAT id's prefix (`EL...` -> `GR`), None when not an EU prefix."""
    return _PREFIX_COUNTRY.get(_SEPARATORS.sub("", number).upper()[:2])


def normalise_vat_number(number: str, country: str | None) -> str:
    """`number` as VIES writes it (`BE 0123.456.749` -> `BE0123456749`), checked.

    `country` is the customer's country (ISO alpha-2): the number must be one of its
    numbers. Without a country the number's own prefix decides.

    Raises:
        InvalidTaxId: empty, no EU prefix known, a prefix of another country than the
            customer's, or a national part that does not have its country's format.
    """
    compact = _SEPARATORS.sub("", number).upper()
    if not compact:
        raise InvalidTaxId("the VAT number is empty")
    wanted = VIES_PREFIX.get((country or "").upper())
    prefix = compact[:2] if compact[:2] in _PREFIX_COUNTRY else None
    if prefix is None:
        if wanted is None:
            raise InvalidTaxId(
                f"VAT number {number!r} has no EU country prefix and the customer's country "
                f"{country!r} is not an EU (VIES) country"
            )
        prefix, compact = wanted, wanted + compact
    if wanted is not None and prefix != wanted:
        raise InvalidTaxId(
            f"VAT number {number!r} is a number of {_PREFIX_COUNTRY[prefix]} ({prefix}) but "
            f"the customer is in {country} (expected the prefix {wanted})"
        )
    national = compact[2:]
    if not re.fullmatch(_FORMATS[prefix], national):
        raise InvalidTaxId(
            f"VAT number {number!r} is malformed for {_PREFIX_COUNTRY[prefix]}: after "
            f"{prefix!r} it must match {_FORMATS[prefix]!r} (VIES format)"
        )
    return compact


def normalise_siret(number: str) -> str:
    """A French SIREN (9 digits) or SIRET (14 digits), separators dropped.

    Raises:
        InvalidTaxId: anything else.
    """
    compact = _SEPARATORS.sub("", number)
    if not _SIRET.fullmatch(compact):
        raise InvalidTaxId(
            f"SIRET {number!r} is malformed: a SIREN has 9 digits, a SIRET 14 digits"
        )
    return compact
