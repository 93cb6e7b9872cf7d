"""`GET /admin/clearing` (bearer token): the processors' clearing accounts reconciled
(`bridge.payouts.clearing`)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.month.view import month_end_status
from bridge.payouts.clearing import clearing_status
from bridge.web.common import current_services, require_admin

bp = Blueprint("admin_clearing", __name__, url_prefix="/admin")


@bp.get("/clearing")
@require_admin
def clearing() -> Response:
    """Per processor: Sage's balance of its clearing account, payouts booked, and what
    explains a balance that is not zero; `month_end`: fee invoices per month and each
    payout's bank status (`bridge.month.view`)."""
    services = current_services()
    processors, attention = clearing_status(services)
    return jsonify(
        {
            "processors": [p.model_dump(mode="json") for p in processors],
            "attention": [i.model_dump(mode="json") for i in attention],
            "month_end": [m.model_dump(mode="json") for m in month_end_status(services)],
        }
    )
