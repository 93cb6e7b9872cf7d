"""Which bank movement a payout may take, and in which order (pure)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bridge.month.bank import rank_movements
from connectors.sage_active.banking import BankMovement


def movement(ident: str, day: int, label: str | None = None, **extra: object) -> BankMovement:
    return BankMovement.model_validate(
        {
            "id": ident,
            "transactionAmount": Decimal("139.00"),
            "datePosted": dt.datetime(2026, 12, day, tzinfo=dt.UTC),
            "transactionNarrative": label,
            **extra,
        }
    )


def test_a_label_naming_the_payout_comes_first_then_the_earliest() -> None:
    found = rank_movements(
        [movement("late", 6), movement("early", 4), movement("named", 7, "STRIPE po_1A")],
        "po_1A",
    )
    assert [m.id for m in found] == ["named", "early", "late"]


def test_a_label_naming_another_payout_is_never_taken() -> None:
    found = rank_movements([movement("other", 4, "VIR STRIPE po_9Z"), movement("bare", 5)], "po_1A")
    assert [m.id for m in found] == ["bare"]


def test_a_movement_already_reconciled_says_so() -> None:
    linked = movement("a", 4, linkStatus="LINKED")
    by_item = movement("b", 4, reconciledItems=[{"linked": True, "bankAccountingEntryId": "e1"}])
    undone = movement("c", 4, reconciledItems=[{"linked": False, "bankAccountingEntryId": "e1"}])
    assert (linked.reconciled, by_item.reconciled, undone.reconciled) == (True, True, False)
    assert by_item.linked_to("e1")
    assert not undone.linked_to("e1")
