"""`bridge demo`: sample Shopify and Stripe events through a running `bridge dev`, end to end.

1. Start a local subscriber and register it (`POST /admin/subscriptions`, every event type).
2. Send, signed like the providers do, a Shopify order, its payment, a partial refund, and a
   Stripe Billing invoice with its invoice payment and charge (API version
   `2026-10-28.endive`, `bridge.dev.demo_data`), each waited for (admin API) before the next.
3. Wait, bounded, until Sage shows the invoices posted and collected, the settlement and the
   credit note, and the subscriber has the outbound events (a progress line meanwhile).
4. End with a Stripe payout of the demo's charge (`bridge.dev.payout_demo`, balance
   transactions served by `bridge dev`'s Stripe stand-in) and show the Stripe clearing
   account, as Sage computes it, back where it was before the charge (zero when fresh).
5. Print the timeline; exit 1 if the expected outcome did not happen (it says what is missing).
The subscription is deleted at the end, so runs do not pile up subscribers.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

import httpx

from bridge.dev.demo_data import DemoEvent, DemoRun, demo_run
from bridge.dev.outcome import EventView, Outcome, invoice_view, render
from bridge.dev.payout_demo import clearing_lines, give_to_standin, payout_plan
from bridge.dev.state import RunInfo
from bridge.dev.subscriber import Subscriber
from bridge.outbound.events import EventType
from bridge.services import Services, build_services
from bridge.settings import load_settings
from connectors.outbound.signing import new_secret
from connectors.sage_active.errors import SageError

FINAL = ("processed", "ignored", "failed")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class DemoError(RuntimeError):
    """The demo could not run (bridge unreachable, a request refused); the message says why."""


class Progress:
    """One status line: redrawn in place on a terminal, plain new lines otherwise."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._spin = itertools.cycle(SPINNER)
        self._last = ""

    def show(self, text: str) -> None:
        if self._tty:
            self._out.write(f"\r{next(self._spin)} {text[:110]:<110}")
            self._out.flush()
        elif text != self._last:
            self._out.write(f"... {text}\n")
            self._out.flush()
        self._last = text

    def done(self, text: str) -> None:
        self._out.write(f"\r✔ {text:<110}\n" if self._tty else f"ok  {text}\n")
        self._out.flush()
        self._last = ""


@dataclass
class Demo:
    """One run against one bridge."""

    info: RunInfo
    http: httpx.Client
    services: Services
    progress: Progress
    timeout: float

    def send(self, event: DemoEvent) -> None:
        """POST one signed event to the bridge's webhook endpoint.

        Raises:
            DemoError: the bridge did not accept it.
        """
        secret = self.info.shopify_webhook_secret
        if event.provider == "stripe":
            secret = self.info.stripe_webhook_secret
        response = self.http.post(
            f"/webhooks/{event.provider}", content=event.body, headers=event.headers(secret)
        )
        if response.status_code not in (200, 202):
            raise DemoError(f"{event.label}: the bridge answered {response.status_code}: "
                            f"{response.text[:300]}")  # fmt: skip

    def event_view(self, event: DemoEvent) -> EventView:
        """Raises DemoError: the admin API refused the request."""
        response = self.http.get(f"/admin/events/{event.ref}")
        if response.status_code == 404:
            return EventView(event.label, event.ref, event.topic, "not recorded", None, None)
        if response.status_code != 200:
            raise DemoError(f"admin API: {response.status_code} {response.text[:300]}")
        body = response.json()
        return EventView(event.label, event.ref, event.topic, str(body["status"]),
                         body.get("received_at"), body.get("error"))  # fmt: skip

    def wait_for(self, what: str, check: Callable[[], bool], deadline: float) -> bool:
        while time.monotonic() < deadline:
            if check():
                return True
            self.progress.show(what)
            time.sleep(0.3)
        return check()

    def process(self, event: DemoEvent, deadline: float) -> EventView:
        """Send `event` and wait until the bridge has processed it (or gave up on it)."""
        self.send(event)
        views: list[EventView] = []

        def settled() -> bool:
            views.append(self.event_view(event))
            return views[-1].status in FINAL

        self.wait_for(f"{event.label}: waiting for the worker", settled, deadline)
        self.progress.done(f"{event.label}: {views[-1].status}")
        return views[-1]

    def outcome(self, run: DemoRun, subscriber: Subscriber) -> Outcome:
        return Outcome(
            events=[self.event_view(e) for e in run.events],
            invoices=[
                invoice_view(self.services, f"Order {run.order_name}", run.order_reference),
                invoice_view(self.services, run.invoice.label, run.stripe_reference),
            ],
            received=subscriber.snapshot(),
        )

    def run(self, run: DemoRun, subscriber: Subscriber) -> Outcome:
        """Send the events, wait for the outcome (bounded), and return it."""
        deadline = time.monotonic() + self.timeout
        for event in run.events:
            if self.process(event, deadline).status == "failed":
                break
        latest: list[Outcome] = []

        def complete() -> bool:
            latest.append(self.outcome(run, subscriber))
            return latest[-1].failed() or not latest[-1].missing()

        self.wait_for("waiting for Sage statuses and outbound deliveries", complete, deadline)
        return latest[-1]

    def payout(self, run: DemoRun, standin_url: str, before: Decimal) -> tuple[str, list[str]]:
        """Pay the demo's charge out; the clearing account's lines and what went wrong."""
        account = self.services.settings.clearing_accounts["stripe"]
        plan = payout_plan(run.run, run.charge.payload["data"]["object"])
        charged = self.services.sage.account_balance(account)
        try:
            give_to_standin(standin_url, plan)
        except httpx.HTTPError as exc:
            raise DemoError(f"the Stripe stand-in at {standin_url} refused: {exc}") from exc
        view = self.process(plan.event, time.monotonic() + self.timeout)
        after = self.services.sage.account_balance(account)
        problems = []
        if view.status != "processed":
            problems.append(f"event {view.label} is {view.status} ({view.error or ''})")
        elif after != before:
            problems.append(f"Stripe clearing account is {after:.2f}, expected {before:.2f}")
        return clearing_lines(account, before, charged, after, plan), problems


def _subscribe(http: httpx.Client, subscriber: Subscriber) -> str:
    body = {"url": subscriber.url, "event_types": [t.value for t in EventType],
            "secret": subscriber.secret}  # fmt: skip
    response = http.post("/admin/subscriptions", json=body)
    if response.status_code != 201:
        raise DemoError(f"could not subscribe: {response.status_code} {response.text[:300]}")
    return str(response.json()["id"])


def wait_ready(info: RunInfo, timeout: float) -> None:
    """Wait until the bridge's web app answers `/readyz` (it may still be starting).

    Raises:
        DemoError: it did not within `timeout` s.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(base_url=info.web_url, timeout=5.0) as http:
        while True:
            try:
                response = http.get("/readyz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                last = str(exc)
            if time.monotonic() >= deadline:
                raise DemoError(f"the bridge at {info.web_url} is not ready ({last})")
            time.sleep(0.5)


def run_demo(info: RunInfo, timeout: float = 120.0, out: TextIO = sys.stdout) -> int:
    """Run the demo against `info`; print the timeline; 0 when the outcome is as expected.

    Raises:
        DemoError: the bridge is unreachable or refused a request.
    """
    settings = load_settings(
        redis_url=info.redis_url, sage_api_url=info.sage_api_url, sage_auth_url=info.sage_auth_url
    )
    headers = {"Authorization": f"Bearer {info.admin_token}"}
    services = build_services(settings)
    try:
        with (
            httpx.Client(base_url=info.web_url, headers=headers, timeout=10.0) as http,
            Subscriber(secret=new_secret()) as subscriber,
        ):
            demo = Demo(info, http, services, Progress(out), timeout)
            run = demo_run(int(time.time()))
            out.write(f"Demo run {run.run} against {info.web_url}\n")
            sub_id = _subscribe(http, subscriber)
            standin = info.stripe_standin_url
            clearing = services.settings.clearing_accounts["stripe"]
            before = services.sage.account_balance(clearing) if standin else Decimal(0)
            payout_text, payout_gaps = "", list[str]()
            try:
                outcome = demo.run(run, subscriber)
                if standin and not outcome.missing():
                    payout_text, payout_gaps = demo.payout(run, standin, before)
            finally:
                http.delete(f"/admin/subscriptions/{sub_id}")
            out.write(render(outcome, subscriber.url) + payout_text)
    except httpx.TransportError as exc:
        raise DemoError(f"the bridge at {info.web_url} is unreachable: {exc}") from exc
    except SageError as exc:
        raise DemoError(f"Sage did not answer the clearing account's balance: {exc}") from exc
    finally:
        services.close()
    missing = outcome.missing() + payout_gaps
    if missing:
        out.write("\nNot the expected outcome:\n" + "".join(f"  - {m}\n" for m in missing))
        return 1
    paid_out = ", Stripe payout booked" if payout_text else ""
    out.write("\nAll as expected: invoices posted and collected, refund credited, "
              f"outbound events delivered{paid_out}.\n")  # fmt: skip
    return 0
