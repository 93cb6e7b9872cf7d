"""Fake payout APIs: Stripe payouts and balance transactions, Shopify Payments payouts.

Subclasses of the fakes in `providers.py` (same auth, error bodies, request log, faults):

- `FakeStripePayouts`: `GET /v1/payouts/<id>` and `GET /v1/balance_transactions`
  (`payout`, `limit` <= 100, `starting_after`, `expand[]=data.source`; without the
  expansion `source` is the id). `add_payout(payout, transactions)`.
- `FakeShopifyPayments`: `GET /admin/api/<v>/shopify_payments/payouts.json` (`date_min`,
  `status`, `limit`, `page_info`) and `.../balance_transactions.json` (`payout_id`, `limit`,
  `page_info`), cursor pages with a `Link` header. `add_payout(payout, transactions)`.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Response, request

from tests.support.providers import FakeShopify, FakeStripe, _BadRequest, _json, _limit


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


class FakeShopifyPayments(FakeShopify):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._payouts: list[dict[str, Any]] = []
        self._ptxns: dict[int, list[dict[str, Any]]] = {}
        base = "/admin/api/<version>/shopify_payments"
        self.app.get(f"{base}/payouts.json")(self._list_payouts)
        self.app.get(f"{base}/balance_transactions.json")(self._list_ptxns)

    def add_payout(self, payout: dict[str, Any], transactions: list[dict[str, Any]]) -> None:
        with self._lock:
            self._payouts = [p for p in self._payouts if p["id"] != payout["id"]]
            self._payouts.append(copy.deepcopy(payout))
            self._ptxns[payout["id"]] = copy.deepcopy(transactions)

    def _page(
        self, version: str, path: str, key: str, items: list[dict[str, Any]], extra: str = ""
    ) -> Response:
        query = request.args.to_dict(flat=False)
        try:
            limit = _limit(query, default=50, maximum=250)
        except _BadRequest as exc:
            return self.error(400, str(exc))
        start = int(query.get("page_info", ["0"])[-1])
        response = _json({key: items[start : start + limit]})
        if start + limit < len(items):
            base = request.host_url.rstrip("/")
            url = f"{base}/admin/api/{version}/shopify_payments/{path}?{extra}limit={limit}"
            response.headers["Link"] = f'<{url}&page_info={start + limit}>; rel="next"'
        return response

    def _list_payouts(self, version: str) -> Response:
        refused = self._refuse(version)
        if refused is not None:
            return refused
        query = request.args.to_dict(flat=False)
        unknown = set(query) - {"date_min", "status", "limit", "page_info"}
        if unknown:
            return self.error(400, f"unsupported parameter(s): {', '.join(sorted(unknown))}")
        low = query.get("date_min", [""])[-1]
        status = query.get("status", [None])[-1]
        with self._lock:
            chosen = [
                p
                for p in self._payouts
                if p["date"] >= low and (status is None or p["status"] == status)
            ]
        return self._page(version, "payouts.json", "payouts", chosen)

    def _list_ptxns(self, version: str) -> Response:
        refused = self._refuse(version)
        if refused is not None:
            return refused
        query = request.args.to_dict(flat=False)
        unknown = set(query) - {"payout_id", "limit", "page_info"}
        if unknown:
            return self.error(400, f"unsupported parameter(s): {', '.join(sorted(unknown))}")
        payout_id = int(query.get("payout_id", ["0"])[-1])
        with self._lock:
            txns = list(self._ptxns.get(payout_id, []))
        extra = f"payout_id={payout_id}&"
        return self._page(version, "balance_transactions.json", "transactions", txns, extra)
