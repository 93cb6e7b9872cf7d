"""An edited order's chain of documents in the admin API and the console's orders page."""

from __future__ import annotations

from decimal import Decimal

from flask.testing import FlaskClient

from bridge.models import Line, LineKind
from bridge.services import Services
from bridge.store.links import ChainDocument, OrderLink
from tests.support.web import ADMIN_TOKEN, REF, booked_order

EDIT = f"{REF}:edit:777"


def _edited(services: Services) -> None:
    booked_order(services)
    link = services.links.order(REF)
    assert link is not None
    assert link.order is not None
    mug = Line.build(kind=LineKind.PRODUCT, title="Mug", quantity=Decimal(1),
                     unit_price=Decimal("16.67"), vat_rate=Decimal(20))  # fmt: skip
    order = link.order
    link.current = order.model_copy(
        update={"lines": [*order.lines, mug], "total": order.total + mug.gross}
    )
    link.chain = [
        ChainDocument(kind="edit_invoice", edit_id="777", reference=EDIT, total=Decimal("20.00"))
    ]
    link.edits_booked = ["777"]
    services.links.save_order(link)
    services.links.save_order(
        OrderLink(reference=EDIT, invoice_id="inv-edit", number="VT-0099", status="Posted")
    )


def test_admin_order_shows_its_documents_oldest_first(
    client: FlaskClient, services: Services
) -> None:
    _edited(services)

    shown = client.get(f"/admin/orders/{REF}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    assert shown.status_code == 200
    body = shown.json
    assert body is not None
    documents = body["documents"]
    assert [d["kind"] for d in documents] == ["invoice", "edit_invoice"]
    assert documents[1] == {
        "kind": "edit_invoice",
        "reference": EDIT,
        "edit_id": "777",
        "total": "20.00",
        "invoice_id": "inv-edit",
        "number": "VT-0099",
        "status": "Posted",
    }
    assert Decimal(body["current_total"]) == Decimal(documents[0]["total"]) + Decimal("20.00")


def test_console_orders_page_shows_the_chain(client: FlaskClient, services: Services) -> None:
    _edited(services)
    assert client.post("/console/login", data={"token": ADMIN_TOKEN}).status_code == 302

    text = " ".join(client.get("/console/orders").get_data(as_text=True).split())

    assert f"edit invoice <code>{EDIT}</code> 20.00" in text
