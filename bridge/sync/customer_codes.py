"""Finding and creating a customer by the bridge's stable code, in every legislation.

Under French and Spanish legislation the bridge gives a new customer its stable code
(`bridge.models.customer_code`, `WALKIN-<CC>`) and finds it by that code. Under German
legislation Sage numbers customers itself (10000-69999, 18-legislation-rules.md): the
customer is created without a code and the bridge's code is kept in its `comments`
(`bridge:SH7012345678901`), where the bridge finds it again, so that a retry after an
unknown outcome still finds the customer instead of creating it twice.
"""

from __future__ import annotations

from connectors.sage_active.errors import SageBusinessError
from connectors.sage_active.models import Customer, CustomerInput
from connectors.sage_active.operations import SageActive

NUMBERED_BY_SAGE = frozenset({"DE"})
REFERENCE_PREFIX = "bridge:"


def numbered_by_sage(legislation: str) -> bool:
    return legislation.upper() in NUMBERED_BY_SAGE


def find_customer(sage: SageActive, code: str, legislation: str) -> Customer | None:
    """The customer of the bridge's `code` (by code, or by its reference in `comments`)."""
    if numbered_by_sage(legislation):
        return sage.customer_by_comments(REFERENCE_PREFIX + code)
    return sage.customer_by_code(code)


def create_customer(sage: SageActive, values: CustomerInput, legislation: str) -> str:
    """Create the customer of `values.code`; its Sage id (another worker's, when it won).

    Raises:
        SageBusinessError: Sage refused it and no customer of that code exists.
        SageError: the call failed.
    """
    code = values.code or ""
    if numbered_by_sage(legislation):
        values = values.model_copy(update={"code": None, "comments": REFERENCE_PREFIX + code})
    try:
        return sage.create_customer(values).id
    except SageBusinessError:
        again = find_customer(sage, code, legislation)  # created a moment ago elsewhere
        if again is None:
            raise
        return again.id
