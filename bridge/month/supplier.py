"""The processor as a supplier in Sage: found by its code, else its VAT number, else its
name; created from `BRIDGE_FEE_SUPPLIERS` when missing (without a code in DE legislation,
where Sage numbers suppliers itself)."""

from __future__ import annotations

from collections.abc import Callable

from bridge.settings import FeeSupplier
from connectors.sage_active.purchases import (
    PurchaseOperations,
    Supplier,
    SupplierAddressInput,
    SupplierInput,
)


def supplier_input(config: FeeSupplier, legislation: str | None = None) -> SupplierInput:
    address = SupplierAddressInput(
        first_line=config.address,
        city=config.city,
        zip_code=config.zip_code,
        country_iso_code_alpha2=config.country,
    )
    return SupplierInput(
        code=None if legislation == "DE" else config.code,
        social_name=config.name,
        vat_number=config.vat_number,
        addresses=[address],
    )


def find_or_create_supplier(
    ops: PurchaseOperations,
    config: FeeSupplier,
    legislation: str | None,
    say: Callable[[str], None],
) -> Supplier:
    """Raises:
    ValueError: an EU supplier without a VAT number where the legislation (ES, DE) wants one.
    SageError: Sage refused or failed.
    """
    found = ops.find_supplier(config.code, config.vat_number)
    if found is None:
        named = ops.suppliers_where({"socialName": {"eq": config.name}})
        found = named[0] if named else None
    if found is not None:
        return found
    if legislation in ("ES", "DE") and config.country != legislation and not config.vat_number:
        raise ValueError(
            f"BRIDGE_FEE_SUPPLIERS: supplier {config.code} ({config.country}) needs its "
            f"vat_number in {legislation} legislation (it is on the processor's invoice)"
        )
    created = ops.create_supplier(supplier_input(config, legislation))
    say(f"supplier {created.code} created ({config.name}, {config.country})")
    if not config.vat_number:
        say("note: no VAT number configured for it (BRIDGE_FEE_SUPPLIERS vat_number)")
    return created
