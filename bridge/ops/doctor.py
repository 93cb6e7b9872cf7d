"""`bridge doctor`: is this bridge ready to book? Each check says ok, warning or error, and
what to fix.

The checks are plain functions registered with `@check` (`bridge.ops.doctor_checks` holds the
built-in ones; a module of checks of its own is listed once in `CHECK_MODULES`). Each takes
a `DoctorContext` and yields `Finding`s. A check marked `needs_sage` runs only when Sage
answered the connection check; otherwise it reports one warning, "not checked".

The report is also kept in Redis (`DoctorStore`): the worker runs the checks when it starts
and beat every minute (`tasks.doctor`), and the console shows the latest.

Levels. An error means the mapping cannot book (a code Sage does not have): it holds that
connection's processing: the outbox relay stops handing its events to Celery and a task that
meets one puts it back, so events wait `queued` (not failed, no attempt spent) until a later
run finds the mapping fixed. Every error holds unless its finding says `holds=False` (the
Sage connection: events wait at the Sage gates instead; payout accounts: payouts wait on
their own). A warning (durability, e-mail, performance) is reported and never holds: a check
registered with `level=Level.WARNING` can only warn, whatever its findings say.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import redis
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bridge.services import Services
from bridge.settings import Settings
from connectors.sage_active.errors import SageError
from connectors.sage_active.operations import SageActive

log = logging.getLogger(__name__)

# Modules whose import registers checks. Add yours here, one line each.
CHECK_MODULES: list[str] = [
    "bridge.ops.doctor_checks",
    "bridge.month.doctor",
    "bridge.ops.doctor_setup",
    "bridge.ops.doctor_vat",
    "bridge.einvoice.doctor",
]


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class Finding(BaseModel):
    """One result: what was checked, how it went, and what to do about it."""

    model_config = ConfigDict(frozen=True)

    check: str
    level: Level
    detail: str
    fix: str = ""
    # Whether it holds the connection's processing until fixed: every error does unless it
    # says holds=False; a warning or an ok never does (see the module docstring).
    holds: bool = False

    @model_validator(mode="before")
    @classmethod
    def _errors_hold(cls, data: Any) -> Any:
        if isinstance(data, dict):
            holds = data.get("holds")
            if data.get("level") != Level.ERROR:
                holds = False
            data = {**data, "holds": True if holds is None else bool(holds)}
        return data


class Report(BaseModel):
    """Every finding of one run."""

    checked_at: dt.datetime
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.WARNING]

    @property
    def holding(self) -> list[Finding]:
        """The errors that hold processing (the mapping cannot book)."""
        return [f for f in self.errors if f.holds]

    def hold_message(self) -> str:
        """One line naming what holds processing ('' when nothing does)."""
        return "; ".join(f"{f.check}: {f.detail}" for f in self.holding)


@dataclass
class DoctorContext:
    """What checks read: the settings, Redis, and Sage (built on first use)."""

    settings: Settings
    redis: redis.Redis
    sage_factory: Callable[[], SageActive]
    fresh: bool = True  # drop Sage reference caches first: a fix made in Sage is seen at once
    sage_reachable: bool = False  # set by the connection check, which runs first
    notes: dict[str, object] = field(default_factory=dict)  # shared between checks

    @cached_property
    def sage(self) -> SageActive:
        return self.sage_factory()


Check = Callable[[DoctorContext], Iterable[Finding]]


@dataclass(frozen=True)
class Registered:
    name: str
    run: Check
    needs_sage: bool
    first: bool
    level: Level = Level.ERROR  # the most a finding of this check can be


CHECKS: list[Registered] = []


def check(
    name: str, needs_sage: bool = False, first: bool = False, level: Level = Level.ERROR
) -> Callable[[Check], Check]:
    """Register a check under `name` (the report follows the order of registration, the
    `first` checks before the others: the Sage connection check, which the `needs_sage`
    ones depend on, whatever the order the modules were imported in).

    `needs_sage`: it reads Sage, so it is skipped (one warning) when Sage did not answer.
    `level`: ERROR (the default: its errors hold the connection, see the module docstring)
    or WARNING (durability, e-mail, performance: its findings are at most warnings, never
    holding).
    """
    if level is Level.OK:
        raise ValueError("a check's level is ERROR or WARNING")

    def register(function: Check) -> Check:
        CHECKS.append(Registered(name, function, needs_sage, first, level))
        return function

    return register


def load_checks() -> None:
    """Import the modules of `CHECK_MODULES` (their `@check`s register themselves once)."""
    for module in CHECK_MODULES:
        importlib.import_module(module)


def _capped(registered: Registered, findings: Iterable[Finding]) -> Iterator[Finding]:
    """The findings of a warning-level check: its errors reported as warnings."""
    for finding in findings:
        if registered.level is Level.WARNING and finding.level is Level.ERROR:
            yield finding.model_copy(update={"level": Level.WARNING, "holds": False})
        else:
            yield finding


def _run_one(registered: Registered, ctx: DoctorContext) -> Iterator[Finding]:
    if registered.needs_sage and not ctx.sage_reachable:
        yield Finding(
            check=registered.name,
            level=Level.WARNING,
            detail="not checked: Sage did not answer",
            fix="fix the Sage connection first, then run `bridge doctor` again",
        )
        return
    try:
        yield from _capped(registered, registered.run(ctx))
    except SageError as exc:
        yield Finding(  # Sage's trouble, not the mapping's: events wait at the Sage gates
            check=registered.name,
            level=registered.level,
            detail=f"Sage refused the look-up: {exc}",
            fix="see the Sage connection check",
            holds=False,
        )
    except redis.RedisError as exc:
        yield Finding(
            check=registered.name,
            level=registered.level,
            detail=f"Redis did not answer: {exc}",
            fix="check REDIS_URL",
            holds=False,
        )


def run_checks(ctx: DoctorContext, clock: Callable[[], dt.datetime] | None = None) -> Report:
    """Every registered check, in order; a check's failure is its own finding."""
    load_checks()
    findings: list[Finding] = []
    for registered in sorted(CHECKS, key=lambda r: not r.first):  # stable: keeps the order
        findings.extend(_run_one(registered, ctx))
    now = clock() if clock else dt.datetime.now(dt.UTC)
    return Report(checked_at=now, findings=findings)


MARKS = {Level.OK: "ok  ", Level.WARNING: "warn", Level.ERROR: "FAIL"}


def render(report: Report) -> str:
    """The report for a terminal: a line per finding, what to fix under each problem."""
    lines = []
    for finding in report.findings:
        lines.append(f"[{MARKS[finding.level]}] {finding.check}: {finding.detail}")
        if finding.fix and finding.level is not Level.OK:
            lines.append(f"       fix: {finding.fix}")
    errors, warnings = len(report.errors), len(report.warnings)
    lines.append("")
    if errors:
        held = " Processing is held until the mapping is fixed." if report.holding else ""
        lines.append(f"{errors} error(s), {warnings} warning(s): not ready.{held}")
    else:
        lines.append(f"Ready ({warnings} warning(s)).")
    return "\n".join(lines)


class DoctorStore:
    """The latest report in Redis (`bridge:<connection>:doctor`), for the console and the
    worker's hold."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self.key = settings.key("doctor")

    def save(self, report: Report) -> None:
        """Raises: redis.RedisError: Redis is unreachable."""
        self._redis.set(self.key, report.model_dump_json())

    def load(self) -> Report | None:
        """The latest report, None if none (or unreadable: an older format).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        raw = self._redis.get(self.key)
        if raw is None:
            return None
        try:
            return Report.model_validate_json(raw)
        except ValidationError:
            return None

    def hold_message(self) -> str:
        """What holds processing now ('' when nothing does).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        report = self.load()
        return report.hold_message() if report else ""


def diagnose(services: Services, fresh: bool = True) -> Report:
    """Run every check with `services` (its Redis, its Sage client).

    `fresh`: drop the Sage reference caches (shared by every process) first, so that a code
    just created in Sage is seen by the checks, and by processing, at once. The periodic
    run does it only while something holds, to spare Sage the extra requests.
    """
    ctx = DoctorContext(services.settings, services.redis, lambda: services.sage, fresh=fresh)
    return run_checks(ctx)
