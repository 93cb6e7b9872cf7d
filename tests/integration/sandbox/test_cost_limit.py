"""Documents above Sage's `maxFieldCost` are refused unrun, as the reference says."""

from __future__ import annotations

import httpx
import pytest

from connectors.sage_active.sandbox.cost import MAX_FIELD_COST
from tests.integration.sandbox.helpers import Sage, invoice_values

pytestmark = pytest.mark.integration

COUNT = "{ salesInvoices { totalCount } }"


def creates(n: int) -> tuple[str, dict[str, object]]:
    """One mutation document creating `n` invoices under aliases."""
    declarations = ", ".join(f"$v{i}: SalesInvoiceCreateGLDtoInput!" for i in range(n))
    fields = " ".join(f"c{i}: createSalesInvoice(input: $v{i}) {{ id status }}" for i in range(n))
    variables: dict[str, object] = {f"v{i}": invoice_values() for i in range(n)}
    return f"mutation ({declarations}) {{ {fields} }}", variables


def test_a_document_over_the_limit_is_refused_with_200_and_runs_nothing(
    http: httpx.Client, sage: Sage
) -> None:
    # given a limit of 30 (each create costs 10 + 2)
    assert http.post("/_sandbox/config", json={"max_field_cost": 30}).status_code == 200

    # when three creates (36) are sent in one document
    response = sage.call(*creates(3))

    # then Sage's complexity answer: HTTP 200, one error, no data, no invoice made
    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["message"] == "The maximum allowed field cost was exceeded."
    assert error["extensions"] == {"code": "HC0047", "fieldCost": 36, "maxFieldCost": 30}
    assert sage.data(COUNT)["salesInvoices"]["totalCount"] == 0

    # and two (24) pass
    created = sage.data(*creates(2))
    assert {v["status"] for v in created.values()} == {"Pending"}


def test_the_limit_is_sages_by_default_and_after_a_reset(http: httpx.Client, sage: Sage) -> None:
    http.post("/_sandbox/config", json={"max_field_cost": 5})
    assert http.post("/_sandbox/reset").status_code == 200
    answer = http.post("/_sandbox/config", json={}).json()
    assert answer["max_field_cost"] == MAX_FIELD_COST
    query = " ".join(
        f"a{i}: salesInvoices(first: 500) {{ nodes {{ id status totalLiquid }} }}"
        for i in range(400)
    )  # 400 x (1 + 500 x 4) = 800400
    response = sage.call("{ " + query + " }")
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["fieldCost"] == 800_400
