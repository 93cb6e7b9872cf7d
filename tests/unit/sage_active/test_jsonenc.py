from datetime import date
from decimal import Decimal

import pytest

from connectors.sage_active import jsonenc


def test_decimals_keep_their_digits() -> None:
    text = jsonenc.dumps({"a": Decimal("12.30"), "b": [Decimal("0.1"), Decimal("1E+2")]})
    assert text == '{"a":12.30,"b":[0.1,100]}'


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        jsonenc.dumps({"a": 0.1})


def test_non_finite_decimals_are_refused() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        jsonenc.dumps(Decimal("NaN"))


def test_dates_strings_and_nulls() -> None:
    assert (
        jsonenc.dumps([date(2024, 1, 2), 'é"', None, True, 3])
        == '["2024-01-02","é\\"",null,true,3]'
    )


def test_loads_reads_fractions_as_decimals() -> None:
    assert jsonenc.loads('{"x": 0.10, "n": 3}') == {"x": Decimal("0.10"), "n": 3}
