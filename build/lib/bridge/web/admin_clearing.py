"""`GET /admin/clearing` (bearer token): the processors' clearing accounts reconciled
(`bridge.payouts.clearing`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.payouts.clearing import clearing_status
from bridge.web.common import current_services, require_admin

bp = Blueprint("admin_clearing", __name__, url_prefix="/admin")


@bp.get("/clearing")
@require_admin
def clearing() -> Response:
    """Per processor: Sage's balance of its clearing account, payouts booked, and what
    explains a balance that is not zero."""
    processors, attention = clearing_status(current_services())
    return jsonify(
        {
            "processors": [p.model_dump(mode="json") for p in processors],
            "attention": [i.model_dump(mode="json") for i in attention],
        }
    )
