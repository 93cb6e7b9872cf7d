"""What the batch writer keeps in Redis: its keys, its steps, and their results as JSON.

A step's operations are stored as JSON with exact decimals (`jsonenc`), so the document
the writer sends carries the same values as the caller's. A result is the alias' data or
the error with what its caller needs (class, message, status, `maybe_committed`,
`retry_after`, the GraphQL error details), so the caller raises what it would have raised
had it sent the request itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.sage_active.batch import Operation
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
)

Result = dict[str, Any] | SageError


@dataclass(frozen=True)
class Step:
    """One caller's operations, sent together in one document."""

    id: str
    operations: list[Operation]
    key: str

    @property
    def mutation(self) -> bool:
        return self.operations[0].mutation

    @property
    def cost(self) -> int:
        return sum(op.estimated_cost() for op in self.operations)


@dataclass(frozen=True)
class WriterKeys:
    """The Redis keys of one organisation's writer (see the module docstring)."""

    base: str

    @property
    def ops(self) -> str:
        return f"{self.base}:ops"

    @property
    def pending(self) -> str:
        return f"{self.base}:pending"

    @property
    def inflight(self) -> str:
        return f"{self.base}:inflight"

    @property
    def lease(self) -> str:
        return f"{self.base}:lease"

    @property
    def bell(self) -> str:
        return f"{self.base}:bell"

    def alive(self, step_id: str) -> str:
        return f"{self.base}:alive:{step_id}"

    def result(self, step_id: str) -> str:
        return f"{self.base}:result:{step_id}"


def encode_op(op: Operation) -> dict[str, Any]:
    """An operation as JSON."""
    return {
        "field": op.field,
        "selection": op.selection,
        "arguments": {name: [t, v] for name, (t, v) in op.arguments.items()},
        "mutation": op.mutation,
        "cost": op.cost,
    }


def decode_op(raw: dict[str, Any]) -> Operation:
    """The operation `encode_op` wrote."""
    arguments = {name: (str(t), v) for name, (t, v) in raw["arguments"].items()}
    return Operation(raw["field"], raw["selection"], arguments, bool(raw["mutation"]), raw["cost"])


_KINDS: dict[str, type[SageError]] = {
    "auth": SageAuthError,
    "invalid": SageInvalidRequest,
    "complexity": SageComplexityError,
}


def encode_result(value: Result) -> dict[str, Any]:
    """A step's result as JSON (data, or the error with what the caller needs of it)."""
    if not isinstance(value, SageError):
        return {"data": value}
    error: dict[str, Any] = {"message": value.message, "status": value.status}
    retry_after = getattr(value, "retry_after", None)
    retry = None if retry_after is None else str(retry_after)  # floats are not JSON here
    if isinstance(value, SageBusinessError | SageInvalidRequest):
        error["errors"] = [[e.key, e.message, list(e.path)] for e in value.errors]
    if isinstance(value, SageRateLimited):
        error.update(kind="rate_limited", retry_after=retry)
    elif isinstance(value, SageCircuitOpen):
        error.update(kind="circuit_open", retry_after=retry, maybe_committed=value.maybe_committed)
    elif isinstance(value, SageTransientError):
        error.update(kind="transient", retry_after=retry, maybe_committed=value.maybe_committed)
    elif isinstance(value, SageBusinessError):
        error["kind"] = "business"
    elif isinstance(value, SageComplexityError):
        error["kind"] = "complexity"
    elif isinstance(value, SageInvalidRequest):
        error["kind"] = "invalid"
    else:
        error.update(kind="auth", needs_login=getattr(value, "needs_login", False))
    return {"error": error}


def decode_result(raw: dict[str, Any]) -> Result:
    """The result `encode_result` wrote, the same error class and flags."""
    if "data" in raw:
        data: dict[str, Any] = raw["data"]
        return data
    error: dict[str, Any] = raw["error"]
    kind, message, status = error["kind"], str(error["message"]), error.get("status")
    details = [ErrorDetail(str(k), str(m), tuple(p)) for k, m, p in error.get("errors") or []]
    retry_after = error.get("retry_after")
    if kind == "business":
        return SageBusinessError(details, status=status)
    if kind == "rate_limited":
        return SageRateLimited(float(retry_after or 0), message)
    if kind == "circuit_open":
        return SageCircuitOpen(
            message,
            float(retry_after or 0),
            maybe_committed=bool(error.get("maybe_committed")),
        )
    if kind == "transient":
        return SageTransientError(
            message,
            status=status,
            retry_after=None if retry_after is None else float(retry_after),
            maybe_committed=bool(error.get("maybe_committed")),
        )
    if kind in ("invalid", "complexity"):
        return _KINDS[kind](message, status=status, errors=details)  # type: ignore[call-arg]
    return SageAuthError(message, status=status, needs_login=bool(error.get("needs_login")))
