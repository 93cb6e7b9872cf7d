"""The registration with the Plateforme Agréée a seeded French organisation starts with."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from connectors.sage_active.sandbox.entities import EInvoiceSetup


def registered_setup(now: datetime, status: str = "Accepted") -> EInvoiceSetup:
    """A registration as a French merchant live since September 2026 has it."""
    start = now.replace(year=2026, month=9, day=1, hour=0, minute=0, second=0, microsecond=0)
    return EInvoiceSetup(
        id=uuid4(),
        status=status,
        status_connection_date=now,
        connection_id=uuid4(),
        mandate_number="MDT-SANDBOX-0001",
        effective_date=start,
        sales_invoice_effective_date=start,
        e_reporting_start_date=start,
        pa_siren_number="313966129",
        software_business_name="Sage Active",
    )
