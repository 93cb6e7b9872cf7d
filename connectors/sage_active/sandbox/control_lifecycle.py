"""Control routes for the 2026 lifecycles: an organisation's status (2026-07) and French
e-invoicing (2026-09: registration, the next submission's outcome, the platform's clock).

They join the `/_sandbox` blueprint of `control.py` (imported by `app.py`).
"""

from __future__ import annotations

from uuid import UUID

from flask import Response
from pydantic import Field

from connectors.sage_active.sandbox.books import Books
from connectors.sage_active.sandbox.control import (
    StrictBody,
    blueprint,
    current_sandbox,
    json_response,
    parse_body,
)
from connectors.sage_active.sandbox.einvoice_platform import control
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.organization_status import set_status, usable
from connectors.sage_active.sandbox.runtime import Sandbox


class OrganizationStatusBody(StrictBody):
    status: str | None = None
    onboarding_completed: bool | None = Field(default=None, alias="onboardingCompleted")


@blueprint.post("/organizations/<organization_id>")
def set_organization_status(organization_id: str) -> Response:
    """Move an organisation through its lifecycle as Sage would (2026-07 `status`):
    `{"status": "PENDING", "onboardingCompleted": false}`; READY and onboarded is usable."""
    body = parse_body(OrganizationStatusBody)
    if isinstance(body, Response):
        return body
    box = current_sandbox()
    with box.state.lock:
        books = _organization_books(box, organization_id)
        if books is None:
            return json_response({"error": f"no organisation {organization_id!r}"}, 404)
        org = books.organization
        try:
            set_status(org, box.state.clock.now(), body.status, body.onboarding_completed)
        except BusinessError as exc:
            return json_response({"error": exc.message, "details": exc.details}, 400)
        box.state.changed()
        answer = {
            "id": str(org.id),
            "socialName": org.social_name,
            "status": org.status,
            "onboardingCompleted": org.onboarding_completed,
            "usable": usable(org),
        }
    return json_response(answer, 200)


class EInvoicingBody(StrictBody):
    status: str | None = None
    next: str | None = None
    reason: str | None = Field(default=None, max_length=500)
    step_seconds: float | None = Field(default=None, alias="stepSeconds", gt=0, le=3600)
    organization_id: str | None = Field(default=None, alias="organizationId")


@blueprint.post("/einvoicing")
def set_einvoicing() -> Response:
    """The organisation's registration with the platform (`{"status": "Accepted" |
    "InProgress" | "Failed"}`), how the next submission ends (`{"next": "REJECTED" |
    "REFUSED" | "FAILED_TO_SEND", "reason": "..."}`) and the platform's clock step
    (`{"stepSeconds": 0.2}`); the seeded organisation unless `organizationId` names one."""
    body = parse_body(EInvoicingBody)
    if isinstance(body, Response):
        return body
    box = current_sandbox()
    with box.state.lock:
        if body.organization_id is None:
            books = box.state.default_books()
        else:
            found = _organization_books(box, body.organization_id)
            if found is None:
                return json_response({"error": f"no organisation {body.organization_id!r}"}, 404)
            books = found
        try:
            setup = control(books, box.state.clock.now(), body.status, body.next, body.reason)
        except BusinessError as exc:
            return json_response({"error": exc.message, "details": exc.details}, 400)
        if body.step_seconds is not None:
            box.state.einvoice_step = body.step_seconds
        box.state.changed()
        answer = {
            "organizationId": str(books.organization.id),
            "status": setup.status,
            "next": setup.next_outcome,
            "reason": setup.next_reason,
            "stepSeconds": box.state.einvoice_step,
        }
    return json_response(answer, 200)


def _organization_books(box: Sandbox, organization_id: str) -> Books | None:
    try:
        return box.state.books.get(UUID(organization_id))
    except ValueError:
        return None
