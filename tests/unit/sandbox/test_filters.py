from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from graphql import GraphQLError

from connectors.sage_active.sandbox.books import Clock
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.filters import _compare, paginate
from connectors.sage_active.sandbox.scalars import parse_datetime
from connectors.sage_active.sandbox.seed import bulk_invoices, seed_books


@pytest.mark.parametrize(
    ("op", "expected", "actual", "result"),
    [
        ("eq", 1, 1, True),
        ("neq", 1, 1, False),
        ("in", [1, 2], 2, True),
        ("nin", [1, 2], 2, False),
        ("gt", Decimal(1), Decimal(2), True),
        ("gte", 2, 2, True),
        ("lt", 2, 2, False),
        ("lte", 2, 2, True),
        ("ngt", 1, 2, False),
        ("gt", 1, None, False),
        ("contains", "DÉMO", "Mug démo", True),
        ("ncontains", "x", "abc", True),
        ("startsWith", "ab", "ABC", True),
        ("nstartsWith", "ab", "ABC", False),
        ("endsWith", "bc", "abc", True),
        ("nendsWith", "bc", "abc", False),
    ],
)
def test_compare(op: str, expected: object, actual: object, result: bool) -> None:
    assert _compare(op, expected, actual) is result


def test_unknown_operation_is_a_business_error() -> None:
    with pytest.raises(BusinessError):
        _compare("like", "a", "b")


def test_paginate_forward_backward_and_limits() -> None:
    items = list(range(30))
    first = paginate(items)
    second = paginate(items, first=20, after=first.page_info.end_cursor)
    last = paginate(items, last=3, before=second.edges[-1].cursor)
    assert (first.nodes, first.total_count, first.page_info.has_next_page) == (items[:20], 30, True)
    assert (second.nodes, second.page_info.has_next_page) == (items[20:], False)
    assert last.nodes == [26, 27, 28]
    with pytest.raises(BusinessError, match="maxPaginationSizeExceeded"):
        paginate(items, first=501)
    with pytest.raises(BusinessError, match="invalidCursor"):
        paginate(items, after="!!")


def test_parse_datetime_forms() -> None:
    assert parse_datetime("2024-01-01") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_datetime("2024-01-01T10:00:00+02:00") == datetime(2024, 1, 1, 8, tzinfo=UTC)
    assert parse_datetime("2024-01-01T10:00:00.5Z").microsecond == 500000
    with pytest.raises(GraphQLError):
        parse_datetime("yesterday")


def test_clock_is_strictly_increasing() -> None:
    clock = Clock()
    stamps = [clock.now() for _ in range(1000)]
    assert all(a < b for a, b in itertools.pairwise(stamps))
    clock.observe(stamps[-1] + timedelta(days=1))
    assert clock.now() > stamps[-1] + timedelta(days=1)


def test_modification_index_skips_stale_entries_and_compacts() -> None:
    clock = Clock()
    books = seed_books(clock)
    ids = bulk_invoices(books, clock, 600, "Pending")
    for _ in range(3):  # touch the first invoice many times: stale pairs pile up
        for ident in ids[:500]:
            books.invoices[ident].modification_date = clock.now()
            books.put_invoice(books.invoices[ident])
    since = books.invoices[ids[0]].modification_date
    changed = list(books.invoices_by_modification(since, strict=False))
    assert [inv.id for inv in changed] == ids[:500]
    assert len(list(books.invoices_by_modification(None, strict=False))) == 600
    assert len(books.mod_ids) < 4 * 600  # compaction happened
