"""The `/_sandbox` control surface (JSON in and out, no token): reset, bulk seed, faults,
statistics, runtime config, refusing tokens, and settling an invoice by hand as a person in
the Sage UI.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from flask import Blueprint, Response, current_app, request
from graphql import GraphQLError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.faults import FaultSpec
from connectors.sage_active.sandbox.inputs import PaidAmountInput, SettlementInput
from connectors.sage_active.sandbox.invoices import get_invoice
from connectors.sage_active.sandbox.ledger import POSTED_STATES, settle
from connectors.sage_active.sandbox.legislations import DEFAULT_NAMES
from connectors.sage_active.sandbox.money import ZERO, dumps, to_decimal
from connectors.sage_active.sandbox.runtime import Sandbox
from connectors.sage_active.sandbox.scalars import parse_datetime
from connectors.sage_active.sandbox.seed import bulk_invoices, seed_books

M = TypeVar("M", bound=BaseModel)

blueprint = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


def json_response(payload: Any, status: int) -> Response:
    return Response(dumps(payload), status, mimetype="application/json")


def _box() -> Sandbox:
    found: Sandbox = current_app.extensions["sandbox"]
    return found


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedBody(_Strict):
    invoices: int = Field(default=0, ge=0, le=1_000_000)
    status: str = "Posted"


class ConfigBody(_Strict):
    rate_limit_per_minute: int | None = Field(default=None, ge=0)
    token_lifetime: int | None = Field(default=None, ge=1)
    max_field_cost: int | None = Field(default=None, ge=1)


class AuthBody(_Strict):
    refuse_grants: bool | None = None
    revoke_access: bool = False


class OrganizationBody(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    legislation_code: str = Field(default="FR", alias="legislationCode", pattern="^(FR|ES|DE)$")


class SettleBody(_Strict):
    amount: Decimal | None = None
    payment_method: str = Field(default="Bank transfer", alias="paymentMethod")
    document_number: str | None = Field(default=None, alias="documentNumber")
    entry_date: str | None = Field(default=None, alias="entryDate")


def _body(model: type[M]) -> M | Response:
    data = request.get_data()
    try:
        raw = json.loads(data, parse_float=Decimal) if data.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return json_response({"error": "the body must be JSON"}, 400)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return json_response(
            {
                "error": "invalid body",
                "details": exc.errors(include_url=False, include_context=False),
            },
            400,
        )


@blueprint.post("/reset")
def reset() -> Response:
    _box().reset()
    return json_response({"ok": True}, 200)


@blueprint.post("/seed")
def seed() -> Response:
    body = _body(SeedBody)
    if isinstance(body, Response):
        return body
    box = _box()
    with box.state.lock:
        try:
            made = bulk_invoices(
                box.state.default_books(), box.state.clock, body.invoices, body.status
            )
        except BusinessError as exc:
            return json_response({"error": exc.message, "details": exc.details}, 400)
        box.state.changed()
    books = box.state.default_books()
    return json_response({"created": len(made), "organizationId": books.organization.id}, 200)


@blueprint.post("/organizations")
def add_organization() -> Response:
    """Another organisation, seeded like the first (same products, journals, accounts);
    all of them share the app's rate limit (per client id)."""
    body = _body(OrganizationBody)
    if isinstance(body, Response):
        return body
    box = _box()
    with box.state.lock:
        name = body.name or DEFAULT_NAMES[body.legislation_code]
        books = seed_books(box.state.clock, name, body.legislation_code)
        org = books.organization
        if org.id in box.state.books:
            return json_response({"error": "organisation exists", "id": str(org.id)}, 409)
        box.state.books[org.id] = books
        box.state.changed()
    return json_response({"id": str(org.id), "socialName": org.social_name}, 201)


@blueprint.post("/faults")
def set_faults() -> Response:
    body = _body(FaultSpec)
    if isinstance(body, Response):
        return body
    _box().faults.set(body)
    return json_response(body.model_dump(), 200)


@blueprint.delete("/faults")
def clear_faults() -> Response:
    _box().faults.clear()
    return json_response({"ok": True}, 200)


@blueprint.get("/stats")
def stats() -> Response:
    return json_response(_box().stats.snapshot(), 200)


@blueprint.delete("/stats")
def reset_stats() -> Response:
    _box().stats.reset()
    return json_response({"ok": True}, 200)


@blueprint.post("/config")
def set_config() -> Response:
    body = _body(ConfigBody)
    if isinstance(body, Response):
        return body
    config = _box().config
    if body.rate_limit_per_minute is not None:
        config.rate_limit_per_minute = body.rate_limit_per_minute
    if body.token_lifetime is not None:
        config.token_lifetime = body.token_lifetime
    if body.max_field_cost is not None:
        config.max_field_cost = body.max_field_cost
    return json_response(
        {
            "rate_limit_per_minute": config.rate_limit_per_minute,
            "token_lifetime": config.token_lifetime,
            "max_field_cost": config.max_field_cost,
        },
        200,
    )


@blueprint.post("/auth")
def set_auth() -> Response:
    """Refuse refresh-token grants (`refuse_grants`), forget issued access tokens
    (`revoke_access`): Sage refusing the connection's tokens, until turned off."""
    body = _body(AuthBody)
    if isinstance(body, Response):
        return body
    tokens = _box().tokens
    if body.refuse_grants is not None:
        tokens.refuse_grants = body.refuse_grants
    revoked = tokens.revoke_access() if body.revoke_access else 0
    return json_response({"refuse_grants": tokens.refuse_grants, "revoked": revoked}, 200)


@blueprint.post("/invoices/<invoice_id>/settle")
def settle_by_hand(invoice_id: str) -> Response:
    """Pay an invoice as a person would in the UI: same rules as the mutation."""
    body = _body(SettleBody)
    if isinstance(body, Response):
        return body
    box = _box()
    try:
        with box.state.lock:
            entry = _settle(box, invoice_id, body)
            box.state.changed()
    except BusinessError as exc:
        return json_response({"error": exc.message, "details": exc.details}, 422)
    return json_response(
        {"accountingEntryId": entry.id, "accountingEntryNumber": entry.number}, 200
    )


def _entry_date(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except GraphQLError as exc:
        raise BusinessError("invalidDate", field="entryDate") from exc


def _settle(box: Sandbox, invoice_id: str, body: SettleBody) -> Any:
    books = box.state.default_books()
    try:
        invoice = get_invoice(books, UUID(invoice_id))
    except ValueError as exc:
        raise BusinessError("salesInvoiceNotFound", id=invoice_id) from exc
    if invoice.status not in POSTED_STATES:
        raise BusinessError("salesInvoiceNotPosted", status=invoice.status)
    method = next(
        (m for m in books.payment_methods.values() if m.reference_name == body.payment_method), None
    )
    if method is None:
        raise BusinessError("paymentMethodNotFound", referenceName=body.payment_method)
    items = sorted(
        (books.open_items[i] for i in invoice.open_item_ids), key=lambda item: item.due_date
    )
    left = to_decimal(body.amount) if body.amount is not None else None
    parts = []
    for item in items:
        remaining = item.amount - item.paid_amount_accumulated
        pay = remaining if left is None else min(remaining, left)
        if pay > ZERO:
            parts.append(PaidAmountInput(open_item_id=item.id, paid_amount=pay))
            left = None if left is None else left - pay
    if left is not None and left > ZERO:
        raise BusinessError("paidAmountExceedsRemaining", id=str(invoice.id))
    if not parts:
        raise BusinessError("paidAmountMustBePositive", id=str(invoice.id))
    data = SettlementInput(
        entry_date=_entry_date(body.entry_date) or box.state.clock.now(),
        payment_method_id=method.id,
        third_party_id=invoice.customer_id,
        description=f"Règlement manuel {invoice.operational_number or ''}".strip(),
        document_number=body.document_number,
        sales_open_item_linkage_paid_amounts=parts,
    )
    return settle(books, box.state.clock, data)


# For the control routes other modules add to this blueprint (`control_lifecycle.py`).
parse_body = _body
current_sandbox = _box
StrictBody = _Strict
