"""`POST /_sandbox/bank-movements`: a statement line arrives on a bank account, as a bank
feed would bring it (no token, like the rest of `/_sandbox`).

Body: `{"bankAccount": "512000000", "amount": "139.00", "date": "2026-12-04",
"label": "...", "reference": "...", "organizationId": "..."}`: the bank account by its
general account's code, the amount as a string (positive: money in), the date it was
posted; label, reference and organisation (default: the first) optional. Answers 201 with
the movement (`id`, `bankAccountId`, `transactionAmount`, `datePosted`, `linkStatus`);
400 for a body that is not that (nothing added), 404 for an unknown organisation.
`GET /_sandbox/bank-movements` lists the movements of the first organisation.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.sage_active.sandbox.banking import add_movement
from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.money import dumps
from connectors.sage_active.sandbox.purchase_entities import BankMovement
from connectors.sage_active.sandbox.runtime import Sandbox

bank_blueprint = Blueprint("sandbox_bank", __name__, url_prefix="/_sandbox")


class MovementBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    bank_account: str = Field(alias="bankAccount", min_length=1, max_length=30)
    amount: str
    date: date
    label: str | None = Field(default=None, max_length=140)
    reference: str | None = Field(default=None, max_length=140)
    organization_id: UUID | None = Field(default=None, alias="organizationId")

    @field_validator("amount")
    @classmethod
    def _exact(cls, value: str) -> str:
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError('amount must be a decimal number in a string, e.g. "139.00"') from exc
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or not amount:
            raise ValueError("amount must be a non-zero amount with at most two decimals")
        return value


def _answer(payload: Any, status: int) -> Response:
    return Response(dumps(payload), status, mimetype="application/json")


def _view(movement: BankMovement) -> dict[str, Any]:
    return {
        "id": str(movement.id),
        "bankAccountId": str(movement.bank_account_id),
        "transactionAmount": movement.transaction_amount,
        "datePosted": movement.date_posted.date().isoformat(),
        "transactionNarrative": movement.transaction_narrative,
        "referenceNumber": movement.reference_number,
        "linkStatus": movement.link_status,
        "linkedAccountingEntries": [
            str(link.accounting_entry_id) for link in movement.linked_accounting_entries
        ],
    }


def _books(box: Sandbox, organization: UUID | None) -> Books | None:
    if organization is None:
        return box.state.default_books()
    return box.state.books.get(organization)


@bank_blueprint.post("/bank-movements")
def add_bank_movement() -> Response:
    box: Sandbox = current_app.extensions["sandbox"]
    try:
        raw = json.loads(request.get_data() or b"null")
        body = MovementBody.model_validate(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        errors = (
            exc.errors(include_url=False, include_context=False)
            if isinstance(exc, ValidationError)
            else None
        )
        return _answer({"error": "invalid body", "details": errors or str(exc)}, 400)
    with box.state.lock:
        books = _books(box, body.organization_id)
        if books is None:
            return _answer({"error": "no such organisation"}, 404)
        day = datetime(body.date.year, body.date.month, body.date.day, tzinfo=UTC)
        try:
            movement = add_movement(
                books, box.state.clock, body.bank_account, Decimal(body.amount), day,
                body.label, body.reference,
            )  # fmt: skip
        except BusinessError as exc:
            return _answer({"error": exc.message, "details": exc.details}, 400)
        box.state.changed()
        return _answer(_view(movement), 201)


@bank_blueprint.get("/bank-movements")
def list_bank_movements() -> Response:
    box: Sandbox = current_app.extensions["sandbox"]
    with box.state.lock:
        books = box.state.default_books()
        moves = sorted(books.purchases.bank_movements.values(), key=lambda m: m.creation_date)
        return _answer({"movements": [_view(m) for m in moves]}, 200)
