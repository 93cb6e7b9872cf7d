"""The admin API's French e-invoicing (bearer token), see docs/einvoicing.md.

`POST /admin/einvoice/retry` with `{"ref": "<order reference or Sage document id>"}` calls
`retrySalesInvoiceElectronicSubmission` once: 200 with the invoice and the attention items
it resolved; 404 for an unknown reference; 409 when the invoice was not sent electronically
or Sage refuses the retry (the reason says why); 502 when Sage could not be reached. An
order's e-invoicing (status, history) is part of `GET /admin/orders/<reference>`.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.einvoice.retry import RetryRefused, describe_error, retry
from bridge.web.common import current_services, json_error, require_admin
from connectors.sage_active.errors import SageError

bp = Blueprint("admin_einvoice", __name__, url_prefix="/admin/einvoice")


class RetryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=300)


@bp.post("/retry")
@require_admin
def retry_submission() -> Response:
    """Resubmit one e-invoice to Sage's platform."""
    try:
        body = RetryBody.model_validate(json.loads(request.get_data() or b"null"))
    except (ValueError, ValidationError) as exc:
        return json_error(400, "invalid_body", f'expected {{"ref": "<order reference>"}}: {exc}')
    services = current_services()
    try:
        result = retry(services, body.ref)
    except RetryRefused as exc:
        code = 404 if str(exc).startswith("no order") else 409
        return json_error(code, "not_retried", str(exc))
    except SageError as exc:
        return json_error(502, "sage_unavailable", describe_error(exc))
    return jsonify(
        {
            "invoice_id": result.invoice_id,
            "order_reference": result.order_reference,
            "previous_status": result.previous_status,
            "resolved_attention": result.resolved,
        }
    )
