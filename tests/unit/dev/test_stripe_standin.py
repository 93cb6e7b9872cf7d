"""The `bridge dev` Stripe stand-in answers the reads the worker makes, and only with its key."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from bridge.dev.stripe_standin import STANDIN_KEY, StripeStandin

AUTH = {"Authorization": f"Bearer {STANDIN_KEY}"}


@pytest.fixture
def client() -> Client:
    return Client(StripeStandin())


def test_a_wrong_key_is_refused(client: Client) -> None:
    response = client.get("/v1/events", headers={"Authorization": "Bearer sk_other"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path", ["/v1/events", "/v1/checkout/sessions?payment_intent=pi_1", "/v1/credit_notes"]
)
def test_lists_it_has_nothing_for_are_empty(client: Client, path: str) -> None:
    response = client.get(path, headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {"object": "list", "data": [], "has_more": False}


def test_a_payout_it_was_given_is_served_with_its_transactions(client: Client) -> None:
    payout = {"id": "po_1", "object": "payout", "amount": 9750, "currency": "eur"}
    transactions = [{"id": f"txn_{n}", "object": "balance_transaction"} for n in range(3)]
    given = client.post("/_standin/payouts", json={"payout": payout, "transactions": transactions})
    assert given.status_code == 201

    assert client.get("/v1/payouts/po_1", headers=AUTH).get_json() == payout
    first = client.get("/v1/balance_transactions?payout=po_1&limit=2", headers=AUTH).get_json()
    assert [t["id"] for t in first["data"]] == ["txn_0", "txn_1"]
    assert first["has_more"] is True
    rest = client.get(
        "/v1/balance_transactions?payout=po_1&limit=2&starting_after=txn_1", headers=AUTH
    ).get_json()
    assert [t["id"] for t in rest["data"]] == ["txn_2"]
    assert rest["has_more"] is False
    assert client.get("/v1/payouts/po_2", headers=AUTH).status_code == 404
