from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from connectors.sage_active.sandbox.money import cents, dumps, number_text, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.125", "0.13"), ("0.135", "0.14"), ("-0.125", "-0.13"), ("2.675", "2.68"), ("1", "1.00")],
)
def test_cents_round_half_up(value: str, expected: str) -> None:
    assert cents(Decimal(value)) == Decimal(expected)


def test_dumps_writes_decimal_digits_exactly() -> None:
    big = Decimal("123456789012345678901234567.89")
    text = dumps({"a": big, "b": [Decimal("1.50"), Decimal("-0.00")], "c": None})
    assert text == '{"a":123456789012345678901234567.89,"b":[1.5,0],"c":null}'
    assert json.loads(text, parse_float=Decimal)["a"] == big


def test_dumps_uuid_datetime_and_text() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    ident = UUID(int=1)
    assert json.loads(dumps({"t": moment, "u": ident, "s": 'Démo "q"'})) == {
        "t": "2024-01-02T03:04:05.000006Z",
        "u": str(ident),
        "s": 'Démo "q"',
    }


def test_dumps_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_number_text_has_no_exponent() -> None:
    assert number_text(Decimal("1E+3")) == "1000"
    assert number_text(Decimal("0.000001")) == "0.000001"


@pytest.mark.parametrize("bad", [1.5, True, "abc", "NaN", None])
def test_to_decimal_refuses_floats_and_garbage(bad: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        to_decimal(bad)
