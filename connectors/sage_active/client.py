"""The Sage Active GraphQL client: auth, shared limits, retries, error classification.

One `SageClient` per process is enough (it is thread-safe as far as httpx and redis-py
are). The transport is injectable (`httpx.MockTransport`, `httpx.WSGITransport` around
the sandbox) and every request has explicit timeouts.

Retry policy: transient failures (5xx, 408, timeouts, connection errors, 429) are retried
up to `max_retries` times with exponential backoff and full jitter; 429 waits the
announced `Retry-After` for every process. A mutation is retried only when Sage cannot
have run it (connection never made, 429, 503): after a read timeout or a 500 the change
may have been committed, so the `SageTransientError` (with `maybe_committed=True`) goes to
the caller, whose look-before-act recovery decides. Other errors are never retried,
except a single retry with a fresh token after a 401.

Every request (and every token refresh) passes the shared circuit breaker
(`circuit.py`): while Sage keeps failing for everyone, requests are not sent and fail at
once with `SageCircuitOpen`, which is never retried here. A 401 on a token refreshed just
before marks the connection "needs login" (`auth.py`).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import httpx
import redis

from connectors.sage_active import jsonenc
from connectors.sage_active.auth import TokenManager
from connectors.sage_active.batch import Operation, build, plan
from connectors.sage_active.circuit import CircuitBreaker, Ticket, Transition
from connectors.sage_active.config import SageConfig
from connectors.sage_active.documents import ORGANIZATIONS
from connectors.sage_active.errors import (
    ErrorDetail,
    SageAuthError,
    SageBusinessError,
    SageCircuitOpen,
    SageComplexityError,
    SageError,
    SageInvalidRequest,
    SageRateLimited,
    SageTransientError,
    classify_response,
    classify_transport_error,
    graphql_errors_error,
)
from connectors.sage_active.limiter import MutationSlots, RateLimiter
from connectors.sage_active.models import Organization
from connectors.sage_active.organizations import EMPTY_GUID, OrganizationUnusable, choose
from connectors.sealing import Sealer

RequestHook = Callable[[str, str, float], None]
WaitHook = Callable[[float], None]
_ROOT_FIELD = re.compile(r"\{\s*(?:\w+\s*:\s*)?(\w+)")
_OUTCOMES: dict[type[SageError], str] = {
    SageRateLimited: "rate_limited",
    SageTransientError: "transient",
    SageAuthError: "auth",
    SageBusinessError: "business_error",
    SageComplexityError: "invalid",
    SageInvalidRequest: "invalid",
}


def operation_name(document: str) -> str:
    """The first root field of a document, used to label metrics."""
    match = _ROOT_FIELD.search(document)
    return match.group(1) if match else "unknown"


class SageClient:
    """Runs GraphQL documents against Sage Active; see the module docstring."""

    def __init__(
        self,
        config: SageConfig,
        redis_client: redis.Redis,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_request: RequestHook | None = None,
        on_wait: WaitHook | None = None,
        rng: random.Random | None = None,
        on_needs_login: Callable[[str], None] | None = None,
        on_circuit: Transition | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.config = config
        self._redis = redis_client
        self._sleep = sleep
        self._clock = clock
        self._on_request = on_request
        self._on_wait = on_wait
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        timeout = httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0))
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self.circuit = CircuitBreaker(config, redis_client, on_circuit)
        self.tokens = TokenManager(
            config,
            redis_client,
            self._http,
            clock=clock,
            sleep=sleep,
            circuit=self.circuit,
            on_needs_login=on_needs_login,
            sealer=sealer,
        )
        self.limiter = RateLimiter(config, redis_client)
        self.slots = MutationSlots(config, redis_client)
        self._org_id = config.organization_id
        self._on_close: list[Callable[[], None]] = []

    @property
    def redis(self) -> redis.Redis:
        return self._redis

    def close(self) -> None:
        """Stop what runs on this client (its batch writer), then close the connections."""
        for callback in self._on_close:
            callback()
        self._http.close()

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the client is closed, before its connections are."""
        self._on_close.append(callback)

    def __enter__(self) -> SageClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public API -------------------------------------------------------------------

    def execute(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        mutation: bool = False,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Run one document and return its `data`.

        Raises:
            SageBusinessError: Sage answered with `errors[]` (never treated as success).
            SageAuthError, SageTransientError, SageRateLimited, SageInvalidRequest: see
                `errors`; transient ones only after the retries allowed.
        """
        body = self._request(document, variables or {}, mutation, name or operation_name(document))
        if body.get("errors"):
            raise graphql_errors_error(_as_list(body["errors"]))
        data = body.get("data")
        if not isinstance(data, dict):
            raise SageInvalidRequest("Sage answered without data")
        return data

    def execute_batch(
        self, operations: Sequence[Operation], *, max_size: int | None = None
    ) -> list[dict[str, Any] | SageError]:
        """Run operations in as few documents as the limits allow; one result per operation.

        `max_size` (default `batch_max_operations`) caps the operations of one document.

        A result is the alias' data, or the `SageError` for that operation alone (a batch
        with one failing alias still returns the others' results). A document that Sage
        finds too complex is split in two and retried.

        Raises:
            SageAuthError, SageTransientError, SageInvalidRequest: the whole request failed.
        """
        results: list[dict[str, Any] | SageError] = [
            SageInvalidRequest("not run") for _ in operations
        ]
        groups = plan(
            operations,
            max_cost=self.config.max_batch_cost,
            max_size=max_size or self.config.batch_max_operations,
        )
        for group in groups:
            for index, result in zip(
                group, self._run_group([operations[i] for i in group]), strict=True
            ):
                results[index] = result
        return results

    def organization_id(self) -> str:
        """The organisation every request is for: the configured one, else the only one
        visible and usable (`organizations.choose`), cached in Redis.

        Raises:
            OrganizationUnusable: none configured and none, or several, visible; or the
                only one is not READY and onboarded.
        """
        if self._org_id:
            if self._org_id.strip() == EMPTY_GUID:
                raise OrganizationUnusable(
                    "SAGE_ORGANIZATION_ID is the empty GUID: Sage lists that id for an "
                    "organisation that is not READY and onboarded"
                )
            return self._org_id
        key = self.config.key("organization_id")
        cached = self._redis.get(key)
        if cached:
            self._org_id = cached.decode() if isinstance(cached, bytes) else str(cached)
            return self._org_id
        # Two are enough to know whether the choice is ours to make (a cheap query); the
        # whole list is read only to name them all in the error.
        found = self.list_organizations(first=2)
        chosen = choose(found if len(found) < 2 else self.list_organizations(), None)
        self._org_id = chosen.id
        self._redis.set(key, self._org_id, ex=self.config.cache_ttl)
        return self._org_id

    def list_organizations(self, first: int = 50) -> list[Organization]:
        """The organisations the user can access (`first` of them), with status and
        onboarding (no cache)."""
        data = self.execute(ORGANIZATIONS, {"first": first}, name="organizations")
        nodes = (data.get("organizations") or {}).get("nodes") or []
        return [Organization.model_validate(node) for node in nodes if isinstance(node, dict)]

    # -- batches ----------------------------------------------------------------------

    def _run_group(self, ops: list[Operation]) -> list[dict[str, Any] | SageError]:
        document = build(ops)
        body = self._request(document.text, document.variables, document.mutation, document.name)
        raw_errors = _as_list(body.get("errors") or [])
        unpathed = [e for e in raw_errors if not (isinstance(e, dict) and e.get("path"))]
        if unpathed and isinstance(graphql_errors_error(unpathed), SageComplexityError):
            if len(ops) == 1:
                raise graphql_errors_error(unpathed)
            half = len(ops) // 2  # Sage refused the whole document: try halves
            return self._run_group(ops[:half]) + self._run_group(ops[half:])
        raw_data = body.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        by_alias: dict[str, list[ErrorDetail]] = {}
        unplaced: list[ErrorDetail] = []
        for raw in raw_errors:
            detail = ErrorDetail.from_graphql(raw)
            if detail.path and detail.path[0] in document.aliases:
                by_alias.setdefault(str(detail.path[0]), []).append(detail)
            else:
                unplaced.append(detail)
        results: list[dict[str, Any] | SageError] = []
        for alias in document.aliases:
            value = data.get(alias)
            if alias in by_alias or unplaced:
                results.append(SageBusinessError(by_alias.get(alias, []) + unplaced))
            elif isinstance(value, dict):
                results.append(value)
            else:
                results.append(SageInvalidRequest(f"Sage returned no result for {alias}"))
        return results

    # -- transport --------------------------------------------------------------------

    def _request(
        self, document: str, variables: dict[str, Any], mutation: bool, name: str
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return self._send_authenticated(document, variables, mutation, name)
            except SageTransientError as err:
                if isinstance(err, SageCircuitOpen):
                    raise  # Sage is failing for everyone: no retry from here
                if isinstance(err, SageRateLimited):
                    self.limiter.pause(err.retry_after or 0.0, self._clock())
                unsafe = mutation and err.maybe_committed
                if attempt >= self.config.max_retries or unsafe:
                    raise
                if not isinstance(err, SageRateLimited):  # the limiter waits out a 429
                    self._sleep(self._backoff(attempt, err.retry_after))
                attempt += 1

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
        delay = self._rng.uniform(0, ceiling)  # full jitter spreads retrying workers
        return max(delay, retry_after or 0.0)

    def _send_authenticated(
        self, document: str, variables: dict[str, Any], mutation: bool, name: str
    ) -> dict[str, Any]:
        organization = None if name == "organizations" else self.organization_id()
        token = self.tokens.access_token()
        try:
            return self._send(document, variables, mutation, name, token, organization)
        except SageAuthError as err:
            if err.status != 401:
                raise
            self.tokens.invalidate(token)  # one retry, with a token refreshed once for all
            token = self.tokens.access_token()
            try:
                return self._send(document, variables, mutation, name, token, organization)
            except SageAuthError as again:
                if again.status != 401:
                    raise
                reason = "Sage refused a freshly refreshed access token (HTTP 401)"
                self.tokens.mark_needs_login(reason)
                raise SageAuthError(reason, status=401, needs_login=True) from again

    def _send(
        self,
        document: str,
        variables: dict[str, Any],
        mutation: bool,
        name: str,
        token: str,
        organization: str | None,
    ) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {token}",
            "x-api-key": self.config.api_key.get_secret_value(),
            "Content-Type": "application/json",
        }
        if organization:
            headers["X-OrganizationId"] = organization
        payload = jsonenc.dumps({"query": document, "variables": variables})
        ticket = self.circuit.allow(self._clock())
        self.limiter.acquire(self._clock, self._sleep, self._on_wait)
        if mutation:
            with self.slots.hold(self._clock, self._sleep) as waited:
                if waited and self._on_wait is not None:
                    self._on_wait(waited)
                return self._post_through_circuit(payload, headers, name, ticket)
        return self._post_through_circuit(payload, headers, name, ticket)

    def _post_through_circuit(
        self, payload: str, headers: dict[str, str], name: str, ticket: Ticket
    ) -> dict[str, Any]:
        """`_post`, telling the circuit breaker how it went (any answer but a transient
        failure means Sage is up; a 429 is an answer)."""
        try:
            body = self._post(payload, headers, name)
        except SageRateLimited:
            # Sage answered: up, but throttling. The limiter's shared pause honours its
            # Retry-After for every process; the circuit is for Sage failing.
            self.circuit.success(ticket)
            raise
        except SageTransientError as err:
            if self.circuit.failure(self._clock(), ticket):
                raise SageCircuitOpen(
                    f"{err.message} (circuit open)",
                    self.circuit.cooldown,
                    maybe_committed=err.maybe_committed,
                ) from err
            raise
        except SageError:
            self.circuit.success(ticket)
            raise
        self.circuit.success(ticket)
        return body

    def _post(self, payload: str, headers: dict[str, str], name: str) -> dict[str, Any]:
        started = time.monotonic()
        error: SageError | None
        body: Any = None
        try:
            response = self._http.post(self.config.api_url, content=payload, headers=headers)
            try:
                body = jsonenc.loads(response.content)
            except ValueError:
                body = None
            error = classify_response(response, body, self._clock())
        except httpx.TransportError as exc:
            error = classify_transport_error(exc)
        outcome = _OUTCOMES.get(type(error), "invalid") if error else "ok"
        if error is None and isinstance(body, dict) and body.get("errors"):
            outcome = "business_error"
        if self._on_request is not None:
            self._on_request(name, outcome, time.monotonic() - started)
        if error is not None:
            raise error
        result: dict[str, Any] = body
        return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
