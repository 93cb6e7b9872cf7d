"""Sage Active calls the connector's typed API lacks, used by refunds and the total check.

- `credit_notes_of(sage, invoice_id)`: the credit notes generated from an invoice
  (`sourceSalesInvoiceId`), to find an earlier attempt's credit note.
- `set_sales_order_number(sage, id, reference)`: `updateSalesInvoice` on a Pending
  document, to write the refund's reference on a credit note (`generateCreditNote` cannot
  carry one); it answers the document as Sage computed it (lines, totals), which the
  total check reads before posting (`bridge.sync.totals`), at no extra request.
- `delete_document(sage, id)`: `deleteSalesInvoice` of a Pending draft.

Both raise the connector's `SageError` tree only.
"""

from __future__ import annotations

from connectors.sage_active.documents import INVOICE_FIELDS
from connectors.sage_active.models import SalesInvoice
from connectors.sage_active.operations import SageActive
from connectors.sage_active.pagination import connection, parse

CREDIT_NOTES_OF = (
    "query ($id: UUID) { salesInvoices(first: 500, where: { sourceSalesInvoiceId: "
    "{ eq: $id } }, order: [{ creationDate: ASC }]) { nodes { " + INVOICE_FIELDS + " } } }"
)
UPDATE_SALES_ORDER_NUMBER = (
    "mutation ($values: SalesInvoiceUpdateGLDtoInput!) { updateSalesInvoice(input: $values) "
    "{ " + INVOICE_FIELDS + " } }"
)
DELETE_DOCUMENT = (
    "mutation ($values: SalesInvoiceDeleteGLDtoInput!) { deleteSalesInvoice(input: $values) "
    "{ id } }"
)


def credit_notes_of(sage: SageActive, invoice_id: str) -> list[SalesInvoice]:
    """Credit notes whose source is `invoice_id`, oldest first.

    Raises:
        SageError: as `SageClient.execute`.
    """
    data = sage.client.execute(CREDIT_NOTES_OF, {"id": invoice_id}, name="salesInvoices")
    nodes = connection(data, "salesInvoices").nodes
    return [n for n in (parse(SalesInvoice, node) for node in nodes) if n.type == "CREDIT_NOTE"]


def set_sales_order_number(
    sage: SageActive, document_id: str, reference: str, extra: dict[str, object] | None = None
) -> SalesInvoice:
    """Write `reference` as the `salesOrderNumber` of a Pending document (and the `extra`
    fields: a credit note's e-invoicing fields); returns it.

    Raises:
        SageBusinessError: the document is no longer Pending, or not found.
        SageError: as `SageClient.execute`.
    """
    data = sage.client.execute(
        UPDATE_SALES_ORDER_NUMBER,
        {"values": {"id": document_id, "salesOrderNumber": reference, **(extra or {})}},
        mutation=True,
        name="updateSalesInvoice",
    )
    return parse(SalesInvoice, data.get("updateSalesInvoice"))


def delete_document(sage: SageActive, document_id: str) -> None:
    """Delete a Pending draft (an invoice or credit note that must not be posted).

    Raises:
        SageBusinessError: the document is not Pending, or not found.
        SageError: as `SageClient.execute`.
    """
    sage.client.execute(
        DELETE_DOCUMENT, {"values": {"id": document_id}}, mutation=True, name="deleteSalesInvoice"
    )
