"""Bounds on the numbers a provider payload may carry, checked when it is parsed.

`Decimal` reads `1e309` (and `9` followed by 40 digits) without complaint, but no money
amount is that large: rounding it to the cent overflows the decimal context later, deep in
the sync, as an `InvalidOperation` with a traceback. So the payload models refuse such a
number at once, naming the field and the reason (NaN and infinities are refused by
`allow_inf_nan=False` already).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MAX_AMOUNT = Decimal(10) ** 15  # no order, payment or line reaches a quadrillion
MAX_INTEGER = 10**17  # minor units (cents) of MAX_AMOUNT, ids and timestamps alike


def bounded(value: Any) -> Any:
    """`value` unchanged when it is a number of a plausible size.

    Raises:
        ValueError: a decimal of 10^15 or more (in absolute value), or an integer of 10^17
            or more: not an amount the bridge can book exactly.
    """
    if isinstance(value, Decimal) and value.is_finite() and abs(value) >= MAX_AMOUNT:
        raise ValueError(f"the amount {value} is out of range (10^15 or more)")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INTEGER:
        raise ValueError(f"the number {value} is out of range (10^17 or more)")
    return value
