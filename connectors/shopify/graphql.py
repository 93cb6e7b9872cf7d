"""Shopify's GraphQL Admin API: `POST /admin/api/<version>/graphql.json`, throttled by cost.

Shopify meters GraphQL by query cost, not by request count: each shop and app has a bucket
(`maximumAvailable` points, refilled at `restoreRate` points a second); a query whose
`requestedQueryCost` does not fit in `currentlyAvailable` is refused with a `THROTTLED`
error. Every answer carries `extensions.cost` (requested and actual cost, `throttleStatus`).

`ShopifyGraphQL` keeps a local estimate of that bucket (the last `throttleStatus`, refilled
by the time since) and, before sending a query, waits until its cost fits. The cost of a
document is what Shopify last requested for it; before Shopify has priced it, a static
estimate (`estimate_cost`) stands in. So a client never sends what it knows would be
refused; a `THROTTLED` answer (another app process spent the bucket) is waited out and
retried, never hammered.

Errors and retries are the one HTTP layer's (`connectors.http.send`), as for the REST readers:
- 401 / 403: `ProviderAuthError` with Shopify's message;
- 429, 5xx, timeouts and connection errors: retried with doubling backoff (`Retry-After`
  honoured, capped) up to `max_attempts` tries, then `ProviderUnavailable`;
- other 4xx, a body that is not GraphQL, GraphQL `errors` (other than `THROTTLED`), or a
  query that costs more than the whole bucket: `ProviderApiError` naming the problem.

A mutation is retried like a query, so one that timed out or got a 5xx may have run
already: a caller that mutates looks at the result in Shopify before trusting an error
(`bridge.poller.writeback` reads the order's status again).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
from graphql import FieldNode, OperationDefinitionNode, SelectionSetNode, parse
from graphql.error import GraphQLSyntaxError
from graphql.language import IntValueNode, VariableNode

from connectors.http import ProviderApiError, RetryPolicy, send

log = logging.getLogger(__name__)

MUTATION_COST = 10  # Shopify's documented price of a mutation
CONNECTION_OVERHEAD = 2  # ... and of a connection, on top of its nodes
MAX_THROTTLED = 20  # THROTTLED answers waited out for one query before giving up


class ShopifyGraphQLError(ProviderApiError):
    """Shopify answered the query with GraphQL `errors`; `codes` are their extension codes."""

    def __init__(self, message: str, codes: list[str]) -> None:
        super().__init__(message)
        self.codes = codes


@dataclass
class CostBucket:
    """The local estimate of Shopify's cost bucket (unknown until the first answer)."""

    maximum: float | None = None
    available: float = 0.0
    restore_rate: float = 0.0
    at: float = 0.0  # monotonic time of the last update

    def now_available(self, now: float) -> float:
        if self.maximum is None:
            return float("inf")
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` points are available (0 when they are, or nothing is known)."""
        if self.maximum is None or cost <= 0:
            return 0.0
        missing = min(cost, self.maximum) - self.now_available(now)
        if missing <= 0:
            return 0.0
        return missing / self.restore_rate if self.restore_rate > 0 else 1.0

    def spend(self, cost: float, when: float) -> None:
        """Take `cost` points out at `when` (Shopify charges the requested cost up front)."""
        if self.maximum is not None:
            self.available, self.at = self.now_available(when) - cost, when

    def update(self, status: Mapping[str, Any], now: float) -> None:
        """Adopt Shopify's `throttleStatus`."""
        try:
            maximum = float(status["maximumAvailable"])
            available = float(status["currentlyAvailable"])
            rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return
        self.maximum, self.available, self.restore_rate, self.at = maximum, available, rate, now


def estimate_cost(document: str) -> int:
    """A static estimate of a document's requested cost, used until Shopify prices it.

    Shopify's rules: a mutation 10; an object 1; a connection 2 plus its page size times
    the cost of one node; scalars and enums 0. A `first` given as a variable counts 250.

    Raises:
        ProviderApiError: the document is not valid GraphQL syntax.
    """
    return _estimate(document)


@lru_cache(maxsize=64)
def _estimate(document: str) -> int:
    try:
        tree = parse(document)
    except GraphQLSyntaxError as exc:
        raise ProviderApiError(f"not a GraphQL document: {exc.message}") from exc
    total = 0
    for definition in tree.definitions:
        if isinstance(definition, OperationDefinitionNode):
            cost = _selection_cost(definition.selection_set)
            if definition.operation.value == "mutation":
                cost = max(cost, MUTATION_COST)
            total += cost
    return total


def _selection_cost(selection_set: SelectionSetNode | None) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode):
            total += _selection_cost(getattr(selection, "selection_set", None))
            continue
        if selection.selection_set is None:
            continue  # a scalar or an enum
        name = selection.name.value
        inner = _selection_cost(selection.selection_set)
        first = _page_size(selection)
        if first is not None:
            total += CONNECTION_OVERHEAD + first * max(1, inner)
        elif name in ("nodes", "edges", "node", "pageInfo") and not selection.arguments:
            total += inner if name != "pageInfo" else 0  # parts of a connection: priced there
        else:
            total += 1 + inner
    return total


def _page_size(field: FieldNode) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return 250
    return None


Sleep = Callable[[float], None]


class ShopifyGraphQL:
    """One shop's GraphQL Admin API, with an Admin API access token."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        api_version: str,
        base_url: str | None = None,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        max_attempts: int = 6,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.shop_domain = shop_domain
        self.api_version = api_version
        root = (base_url or f"https://{shop_domain}").rstrip("/")
        self.url = f"{root}/admin/api/{api_version}/graphql.json"
        self._client = client or httpx.Client(timeout=timeout)
        self._headers = {"X-Shopify-Access-Token": access_token}
        self.max_attempts, self.backoff, self.max_wait = max_attempts, backoff, max_wait
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self.bucket = CostBucket()
        self._costs: dict[str, float] = {}  # document -> the cost Shopify last requested
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for the bucket (for progress lines, tests)
        self.throttled = 0  # THROTTLED answers received
        self.served_version: str | None = None  # Shopify's `X-Shopify-API-Version`

    def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The `data` of the answer to `document`, once its cost fits in the bucket.

        Raises:
            ProviderAuthError: the access token was refused.
            ShopifyGraphQLError: Shopify answered with GraphQL `errors`.
            ProviderApiError: Shopify refused or stayed unavailable, or answered nonsense.
        """
        for _ in range(MAX_THROTTLED):
            self._wait_for_bucket(document)
            body = self._post(document, variables)
            self._note_cost(document, body)
            errors = body.get("errors")
            if not errors:
                if not isinstance(body.get("data"), dict):
                    raise ProviderApiError(f"Shopify answered {self.url} without `data`")
                return body["data"]
            codes = _error_codes(errors)
            if "THROTTLED" not in codes:
                raise ShopifyGraphQLError(f"Shopify refused the query: {_messages(errors)}", codes)
            self.throttled += 1
        raise ProviderApiError(f"Shopify kept throttling a query after {MAX_THROTTLED} waits")

    def download(self, url: str) -> Iterator[str]:
        """The lines of a file Shopify made available (a bulk operation's JSONL), streamed.

        Raises:
            ProviderApiError: the file cannot be read.
        """
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 300:
                    raise ProviderApiError(
                        f"Shopify's bulk result answered {response.status_code}: {url}"
                    )
                yield from response.iter_lines()
        except httpx.TransportError as exc:
            raise ProviderApiError(f"Shopify's bulk result could not be read: {exc!r}") from exc

    def close(self) -> None:
        self._client.close()

    # --- internals --------------------------------------------------------------------

    def _wait_for_bucket(self, document: str) -> None:
        """Wait until the document's cost fits the estimated bucket, then take it out."""
        with self._lock:
            cost = self._costs.get(document)
        if cost is None:
            cost = float(estimate_cost(document))
        with self._lock:
            now = self._clock()
            wait = self.bucket.wait_for(cost, now)
            # taken out now, at the moment the wait ends: a concurrent caller waits after us
            self.bucket.spend(cost, now + wait)
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

    def _note_cost(self, document: str, body: Mapping[str, Any]) -> None:
        cost = (body.get("extensions") or {}).get("cost")
        if not isinstance(cost, dict):
            return
        with self._lock:
            requested = cost.get("requestedQueryCost")
            if isinstance(requested, int | float):
                self._costs[document] = float(requested)
                maximum = self.bucket.maximum
                if maximum is not None and requested > maximum:
                    raise ProviderApiError(
                        f"a query costs {requested} points, more than Shopify's whole bucket "
                        f"({maximum:g}): ask for smaller pages"
                    )
            status = cost.get("throttleStatus")
            if isinstance(status, dict):
                self.bucket.update(status, self._clock())

    def _post(self, document: str, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        payload = {"query": document, "variables": dict(variables or {})}
        policy = RetryPolicy(
            self.max_attempts, self.backoff, self.max_wait, self._sleep, self._jitter
        )
        response = send(
            "Shopify",
            f"POST {self.url}",
            lambda: self._client.post(self.url, json=payload, headers=self._headers),
            policy,
        )
        self._note_version(response.headers.get("X-Shopify-API-Version"))
        return _body(response)

    def _note_version(self, served: str | None) -> None:
        """Warn once when Shopify serves another version (the one asked for is retired)."""
        if served and served != self.api_version and served != self.served_version:
            log.warning(
                "Shopify serves Admin API %s, not %s (SHOPIFY_API_VERSION): a retired version "
                "is answered by the oldest supported one; set a supported version",
                served,
                self.api_version,
            )
        self.served_version = served


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderApiError(f"Shopify answered {response.url} with non-JSON") from exc
    if not isinstance(body, dict):
        raise ProviderApiError(f"Shopify answered {response.url} with a non-object")
    return body


def _error_codes(errors: object) -> list[str]:
    codes: list[str] = []
    for error in errors if isinstance(errors, list) else [errors]:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if isinstance(code, str):
            codes.append(code)
    return codes


def _messages(errors: object) -> str:
    if not isinstance(errors, list):
        return str(errors)[:300]
    texts = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
    return "; ".join(texts)[:500]
