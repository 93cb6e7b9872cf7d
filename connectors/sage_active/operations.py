"""Typed Sage Active operations for the pipeline, on top of `SageClient`.

Each method takes and returns pydantic models from `models` (money as `Decimal`) and
raises the `errors` tree only. Reference data (journals, payment methods, taxes,
products, customers) is cached in Redis for `cache_ttl` seconds; nothing is cached
negatively, so a product or customer created in Sage is found on the next look-up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import redis

from connectors.sage_active import documents as doc
from connectors.sage_active.accounting import AccountingOperations
from connectors.sage_active.batch import Operation
from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageBusinessError, SageError, SageInvalidRequest
from connectors.sage_active.models import (
    AccountingEntry,
    CloseAndPost,
    ClosedInvoice,
    CreatedInvoice,
    CreditNoteLineInput,
    OpenItem,
    PostedInvoice,
    PostInvoiceInput,
    SalesInvoice,
    SalesInvoiceInput,
    Settlement,
    SettlementInput,
)
from connectors.sage_active.pagination import connection, paginate, parse
from connectors.sage_active.reference import ReferenceData
from connectors.sage_active.tax_reference import TaxReference
from connectors.sage_active.writer import SageWriter


def _op(spec: tuple[str, str, str], payload: dict[str, Any]) -> Operation:
    field, input_type, selection = spec
    return Operation(field, selection, {"input": (input_type, payload)})


def _open_items_op(invoice_id: str) -> Operation:
    field, filter_type, selection = doc.OPEN_ITEMS_FIELD
    where = {"id": {"eq": invoice_id}}
    return Operation(field, selection, {"first": ("Int", 1), "where": (filter_type, where)}, False)


def _result(value: dict[str, Any] | SageError) -> dict[str, Any]:
    if isinstance(value, SageError):
        raise value
    return value


class SageActive(ReferenceData, TaxReference, AccountingOperations):
    """The operations the bridge needs; see the module docstring.

    `SageActive(client, redis=None, cache_ttl=None)`: the cache uses the client's Redis
    and `cache_ttl` from its config unless given.
    """

    def __init__(
        self,
        client: SageClient,
        redis: redis.Redis | None = None,
        cache_ttl: int | None = None,
    ) -> None:
        super().__init__(client, redis, cache_ttl)
        # Creates, close+posts, settlements, credit notes and open-item reads of every
        # worker go through the organisation's writer, batched (`writer`).
        self.writer = SageWriter(client)

    # -- sales invoices ----------------------------------------------------------------

    def invoice(self, invoice_id: str) -> SalesInvoice | None:
        """The invoice with its lines and open items, or None when Sage has no such id."""
        data = self.client.execute(doc.INVOICE_BY_ID, {"id": invoice_id}, name="salesInvoices")
        nodes = connection(data, "salesInvoices").nodes
        return parse(SalesInvoice, nodes[0]) if nodes else None

    def invoices_by_sales_order_number(self, ref: str) -> list[SalesInvoice]:
        """Documents carrying `salesOrderNumber == ref`, oldest first; credit notes that
        copied the reference are included (`type == "CREDIT_NOTE"`)."""
        data = self.client.execute(doc.INVOICES_BY_ORDER, {"ref": ref}, name="salesInvoices")
        return [parse(SalesInvoice, n) for n in connection(data, "salesInvoices").nodes]

    def invoices_changed_since(
        self, since: datetime, *, where: dict[str, Any] | None = None, page_size: int = 500
    ) -> Iterator[SalesInvoice]:
        """Invoices modified at or after `since`, oldest change first, walking all pages.

        `where` is an extra Sage filter (e.g. `{"status": {"in": ["Posted"]}}`), and-ed.
        """
        variables: dict[str, Any] = {"since": since}
        document = doc.INVOICES_CHANGED
        if where:
            variables["where"] = where
            document = doc.INVOICES_CHANGED_WHERE
        for node in paginate(
            self.client,
            document,
            variables,
            "salesInvoices",
            page_size=page_size,
            name="salesInvoices",
        ):
            yield parse(SalesInvoice, node)

    def create_invoice(self, values: SalesInvoiceInput) -> CreatedInvoice:
        """Create a Pending invoice (batched by the writer with other callers' steps)."""
        [result] = self.writer.submit(
            [_op(doc.CREATE_INVOICE, values.to_graphql())], key=values.sales_order_number or ""
        )
        return parse(CreatedInvoice, _result(result))

    def close_invoice(self, invoice_id: str) -> ClosedInvoice:
        [result] = self.client.execute_batch([self._close_op(invoice_id)])
        return parse(ClosedInvoice, _result(result))

    def post_invoice(self, invoice_id: str, journal_id: str, description: str) -> PostedInvoice:
        [result] = self.post_invoices(
            [
                PostInvoiceInput(
                    sales_invoice_id=invoice_id,
                    journal_type_id=journal_id,
                    accounting_entry_description=description,
                )
            ]
        )
        if isinstance(result, SageError):
            raise result
        return result

    def close_and_post(self, invoice_id: str, journal_id: str, description: str) -> CloseAndPost:
        """Close then post in ONE request (two aliased mutations, run in order).

        A close refused while the post succeeds means an earlier attempt had closed the
        invoice already: `closed` is then None.

        Raises:
            SageBusinessError: the post was refused (the close's errors are in the note).
        """
        post = PostInvoiceInput(
            sales_invoice_id=invoice_id,
            journal_type_id=journal_id,
            accounting_entry_description=description,
        )
        closed, posted = self.writer.submit(
            [self._close_op(invoice_id), _op(doc.POST_INVOICE, post.to_graphql())], key=invoice_id
        )
        if isinstance(posted, SageError):
            if isinstance(closed, SageError):
                posted.add_note(f"close failed too: {closed}")
            raise posted
        if isinstance(closed, SageError) and not isinstance(closed, SageBusinessError):
            raise closed
        return CloseAndPost(
            closed=None if isinstance(closed, SageError) else parse(ClosedInvoice, closed),
            posted=parse(PostedInvoice, posted),
        )

    def post_invoices(self, posts: Sequence[PostInvoiceInput]) -> list[PostedInvoice | SageError]:
        """Post many invoices in as few requests as allowed; one result or error each."""
        results = self.client.execute_batch([_op(doc.POST_INVOICE, p.to_graphql()) for p in posts])
        return [r if isinstance(r, SageError) else parse(PostedInvoice, r) for r in results]

    @staticmethod
    def _close_op(invoice_id: str) -> Operation:
        return _op(doc.CLOSE_INVOICE, {"salesInvoiceId": invoice_id})

    def open_items(self, invoice_id: str) -> list[OpenItem]:
        """Raises: SageInvalidRequest when Sage has no such invoice."""
        [result] = self.writer.submit([_open_items_op(invoice_id)], key=invoice_id)
        nodes = connection({"salesInvoices": _result(result)}, "salesInvoices").nodes
        if not nodes or not isinstance(nodes[0], dict):
            raise SageInvalidRequest(f"no sales invoice {invoice_id} in Sage")
        return [parse(OpenItem, item) for item in nodes[0].get("openItems") or []]

    # -- settlements, credit notes, ledger ---------------------------------------------

    def settle(self, values: SettlementInput) -> Settlement:
        """Settle open items (batched by the writer with other callers' steps)."""
        payload = values.model_dump(by_alias=True, exclude_none=True, mode="python")
        spec = (self.client.config.settlement_mutation, doc.SETTLEMENT_INPUT_TYPE)
        op = _op((*spec, doc.SETTLEMENT_FIELDS), payload)
        [result] = self.writer.submit([op], key=values.document_number or "")
        return parse(Settlement, _result(result))

    def generate_credit_note(
        self, invoice_id: str, lines: Sequence[CreditNoteLineInput] | None = None
    ) -> str:
        """Credit the whole invoice (no lines) or the given quantities; return its id."""
        payload: dict[str, Any] = {"id": invoice_id}
        if lines:
            payload["lines"] = [line.to_graphql() for line in lines]
        [result] = self.writer.submit([_op(doc.GENERATE_CREDIT_NOTE, payload)], key=invoice_id)
        value = _result(result).get("id")
        if not value:
            raise SageInvalidRequest("generateCreditNote returned no id")
        return str(value)

    def retry_einvoice(self, invoice_id: str) -> str:
        """`retrySalesInvoiceElectronicSubmission`: submit a failed e-invoice again, once
        (sent on its own, never batched, never repeated by the client after Sage may have
        run it); returns the invoice id Sage confirms.

        Raises:
            SageBusinessError: Sage refused (not e-invoiced, not in a state to retry...).
            SageError: as `SageClient.execute`.
        """
        data = self.client.execute(
            doc.RETRY_EINVOICE,
            {"values": {"salesInvoiceId": invoice_id}},
            mutation=True,
            name="retrySalesInvoiceElectronicSubmission",
        )
        answer = data.get("retrySalesInvoiceElectronicSubmission") or {}
        return str(answer.get("id") or invoice_id)

    def accounting_entries_by_document_number(self, document_number: str) -> list[AccountingEntry]:
        data = self.client.execute(
            doc.ACCOUNTING_ENTRIES_BY_DOCUMENT, {"doc": document_number}, name="accountingEntries"
        )
        return [parse(AccountingEntry, n) for n in connection(data, "accountingEntries").nodes]
