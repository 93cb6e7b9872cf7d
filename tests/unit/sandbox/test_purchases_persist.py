"""The purchase side and the bank feed are saved with the books and read back (pure: the
state file, no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from connectors.sage_active.sandbox import banking, persist, suppliers
from connectors.sage_active.sandbox.inputs import AddressInput
from connectors.sage_active.sandbox.purchase_inputs import SupplierCreate
from connectors.sage_active.sandbox.state import SandboxState


def test_suppliers_treatments_and_movements_survive_a_restart(tmp_path: Path) -> None:
    state = SandboxState()
    books = state.default_books()
    address = AddressInput(city="Dublin", country_iso_code_alpha2="IE")
    made = suppliers.create_supplier(
        books,
        state.clock,
        SupplierCreate(
            code="STRIPE", social_name="Stripe", vat_number="IE0000001A", addresses=[address]
        ),
    )
    day = datetime(2026, 12, 4, tzinfo=UTC)
    moved = banking.add_movement(books, state.clock, "512000000", Decimal("139.00"), day, "VIR")
    path = tmp_path / "sandbox.json"
    persist.save(state, path)

    [loaded] = persist.load(path) or []
    again = loaded.purchases
    assert again.suppliers[made.id].vat_number == "IE0000001A"
    assert again.suppliers[made.id].addresses[0].city == "Dublin"
    assert again.bank_movements[moved.id].transaction_amount == Decimal("139.00")
    assert {t.tax_code for t in again.tax_treatments.values()} == {"C0005", "C0036", "C0037"}
    assert [t.reverse_charge for t in again.tax_treatments.values() if t.tax_code == "C0037"] == [
        True
    ]
