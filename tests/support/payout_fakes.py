"""Fake payout API: Stripe payouts and balance transactions (Shopify Payments payouts are
served by the fake GraphQL Admin API, `tests.support.shopify_graphql`).

A subclass of the fake in `providers.py` (same auth, error bodies, request log, faults):

- `FakeStripePayouts`: `GET /v1/payouts/<id>` and `GET /v1/balance_transactions`
  (`payout`, `limit` <= 100, `starting_after`, `expand[]=data.source`; without the
  expansion `source` is the id). `add_payout(payout, transactions)`.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Response, request

from tests.support.providers import FakeStripe, _BadRequest, _json, _limit


class FakeStripePayouts(FakeStripe):
    def __init__(self, api_key: str = "sk_test_payouts") -> None:
        super().__init__(api_key)
        self._payouts: dict[str, dict[str, Any]] = {}
        self._txns: dict[str, list[dict[str, Any]]] = {}
        self.app.get("/v1/payouts/<payout_id>")(self._get_payout)
        self.app.get("/v1/balance_transactions")(self._list_txns)

    def add_payout(self, payout: dict[str, Any], transactions: list[dict[str, Any]]) -> None:
        with self._lock:
            self._payouts[payout["id"]] = copy.deepcopy(payout)
            self._txns[payout["id"]] = copy.deepcopy(transactions)

    def _auth(self) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self.error(401, "Invalid API Key provided")
        return None

    def _get_payout(self, payout_id: str) -> Response:
        refused = self._auth()
        if refused is not None:
            return refused
        with self._lock:
            payout = self._payouts.get(payout_id)
        if payout is None:
            return self.error(404, f"No such payout: '{payout_id}'")
        return _json(payout)

    def _list_txns(self) -> Response:
        refused = self._auth()
        if refused is not None:
            return refused
        query = request.args.to_dict(flat=False)
        unknown = set(query) - {"payout", "limit", "starting_after", "expand[]"}
        try:
            if unknown:
                raise _BadRequest(f"Received unknown parameter: {sorted(unknown)[0]}")
            if query.get("expand[]", ["data.source"]) != ["data.source"]:
                raise _BadRequest(f"This property cannot be expanded ({query['expand[]']}).")
            limit = _limit(query, default=10, maximum=100)
        except _BadRequest as exc:
            return self.error(400, str(exc))
        payout_id = query.get("payout", [""])[-1]
        with self._lock:
            txns = self._txns.get(payout_id)
        if txns is None:
            return self.error(404, f"No such payout: '{payout_id}'")
        after = query.get("starting_after", [None])[-1]
        start = 0
        if after is not None:
            ids = [t["id"] for t in txns]
            if after not in ids:
                return self.error(400, f"No such balance transaction: '{after}'")
            start = ids.index(after) + 1
        page = txns[start : start + limit]
        if "expand[]" not in query:
            page = [{**t, "source": _id_of(t.get("source"))} for t in page]
        return _json(
            {
                "object": "list",
                "url": "/v1/balance_transactions",
                "has_more": start + limit < len(txns),
                "data": page,
            }
        )


def _id_of(source: Any) -> Any:
    return source.get("id") if isinstance(source, dict) else source
