"""French e-invoicing, the pure part: a customer's routing address, an invoice's framework.

Sage routes an e-invoice to the directory address of the buyer (`eInvoicingAddressType` /
`eInvoicingAddress`), built from its SIREN (9 digits: the company) and, for `fr.sirensiret`,
a SIRET (14 digits: one establishment, starting with the SIREN). The SIREN is read from the
sources the merchant configures, in order: the SIREN/SIRET the order carries (`siret`), or
a French VAT number (`vat_number`: `FR` + a 2-digit key + the SIREN). Both numbers carry a
Luhn check digit, so a mistyped one is refused instead of routing an invoice to another
company.

`regulatoryBillingFramework` says what the invoice sells: goods only `B1`, services only
`S1`, both `M1`. Only the lines that are sales of the shop's products count (shipping,
rounding, tips... follow the sale they belong to).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from bridge.models import Line, LineKind, Party
from bridge.settings import EInvoiceAddressType, EInvoiceNature, EInvoiceSource

LA_POSTE_SIREN = "356000000"  # its establishments' SIRETs use another check (sum % 5)
_SEPARATORS = re.compile(r"[\s.\-]")
_FR_VAT = re.compile(r"^FR([0-9A-Z]{2})(\d{9})$")


class EInvoiceFields(BaseModel):
    """What an invoice (and its credit notes) is sent with: routing and framework."""

    model_config = ConfigDict(frozen=True)

    address_type: str
    address: str
    framework: str = Field(pattern="^(B1|S1|M1|B4|M4|S4)$")

    def invoice_values(self) -> dict[str, object]:
        """The e-invoicing fields of `createSalesInvoice` / `updateSalesInvoice`."""
        return {
            "shouldSendViaElectronicInvoicing": True,
            "eInvoicingAddressTypeCustomer": self.address_type,
            "eInvoicingAddressCustomer": self.address,
            "regulatoryBillingFramework": self.framework,
        }


@dataclass(frozen=True)
class Routing:
    """The routing address of a French business customer."""

    address_type: str  # fr.siren | fr.sirensiret
    address: str
    siren: str
    source: EInvoiceSource


class UnmappedProductType(ValueError):
    """A line's Sage product has a category that BRIDGE_EINVOICE_PRODUCT_TYPES does not map."""


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def valid_siren(text: str) -> bool:
    return len(text) == 9 and text.isdigit() and _luhn(text)


def valid_siret(text: str) -> bool:
    if len(text) != 14 or not text.isdigit() or not valid_siren(text[:9]):
        return False
    if text[:9] == LA_POSTE_SIREN:
        return sum(int(c) for c in text) % 5 == 0
    return _luhn(text)


def _identifiers(value: str | None) -> tuple[str, str | None] | None:
    """(SIREN, SIRET or None) of a SIREN or SIRET as a person may have typed it."""
    digits = _SEPARATORS.sub("", value or "")
    if valid_siren(digits):
        return digits, None
    if valid_siret(digits):
        return digits[:9], digits
    return None


def siren_of_vat(vat_number: str | None) -> str | None:
    """The SIREN inside a French VAT number (`FR` + key + SIREN), key checked when numeric."""
    match = _FR_VAT.match(_SEPARATORS.sub("", (vat_number or "").upper()))
    if match is None or not valid_siren(match.group(2)):
        return None
    key, siren = match.groups()
    if key.isdigit() and int(key) != (12 + 3 * (int(siren) % 97)) % 97:
        return None
    return siren


def routing(
    party: Party, address_type: EInvoiceAddressType, sources: Sequence[EInvoiceSource]
) -> Routing | None:
    """The routing address of `party` from the first source that gives a valid SIREN; None
    when none does. `fr.sirensiret` falls back to `fr.siren` when no SIRET is known."""
    for source in sources:
        found: tuple[str, str | None] | None
        if source is EInvoiceSource.SIRET:
            found = _identifiers(party.siret)
        else:
            siren = siren_of_vat(party.vat_number)
            found = (siren, None) if siren else None
        if found is None:
            continue
        siren, siret = found
        if address_type is EInvoiceAddressType.SIRENSIRET and siret:
            return Routing("fr.sirensiret", f"{siren}_{siret}", siren, source)
        return Routing("fr.siren", siren, siren, source)
    return None


def is_french(party: Party) -> bool:
    """A French customer: its address is in France (else, with no country, a SIRET or a
    French VAT number says so)."""
    country = (party.address.country_code if party.address else None) or ""
    if country:
        return country.upper() == "FR"
    return _identifiers(party.siret) is not None or siren_of_vat(party.vat_number) is not None


def line_natures(
    lines: Sequence[Line], categories: Sequence[str | None], mapping: dict[str, EInvoiceNature]
) -> set[EInvoiceNature]:
    """What the invoice sells, from the Sage category of each product line's product.

    Raises:
        UnmappedProductType: a product line's category is not in `mapping`.
    """
    counted = [
        (line, category)
        for line, category in zip(lines, categories, strict=True)
        if line.kind is LineKind.PRODUCT
    ] or list(zip(lines, categories, strict=True))
    natures: set[EInvoiceNature] = set()
    for line, category in counted:
        nature = mapping.get((category or "").upper())
        if nature is None:
            raise UnmappedProductType(
                f"line {line.title!r}: its Sage product's category is {category or 'not set'}, "
                f"which BRIDGE_EINVOICE_PRODUCT_TYPES does not map to goods or services "
                f"(mapped: {', '.join(sorted(mapping)) or 'none'})"
            )
        natures.add(nature)
    return natures


def framework(natures: Iterable[EInvoiceNature]) -> str:
    """`B1` goods, `S1` services, `M1` both (an invoice with nothing counted is goods)."""
    found = set(natures)
    if found == {EInvoiceNature.SERVICES}:
        return "S1"
    if EInvoiceNature.SERVICES in found and EInvoiceNature.GOODS in found:
        return "M1"
    return "B1"
