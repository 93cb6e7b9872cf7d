"""The console in a real browser, over a real bridge: log in, see a failed event, replay it,
see it succeed.

Given the web app, a Celery worker and the sandbox, with the worker started with a payment
method mapping that lacks Stripe, a Stripe invoice is booked and the invoice payment that pays it
fails for good (dead-lettered, with the reason). The operator fixes the mapping (a worker
with the right settings replaces the first) and, in headless Chromium, logs in, finds the
failed event on the overview, presses Replay, and sees the event processed. Screenshots of
both moments are saved under tests/artifacts/.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from bridge.dev.demo_data import DemoEvent, demo_run
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import EventStatus
from bridge.web import create_app
from tests.support.celery import WorkerHandle
from tests.support.servers import serve_wsgi

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(240)]

TOKEN = "browser-test-admin-token"
STRIPE_SECRET = "whsec_browser_test"
NO_STRIPE = '{"paypal": "PayPal", "shopify_payments": "Shopify Payments"}'


@pytest.fixture
def services(redis_url: str, sandbox_url: str) -> Iterator[Services]:
    settings = Settings(
        REDIS_URL=redis_url,
        BRIDGE_ADMIN_TOKEN=TOKEN,
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        SAGE_API_URL=f"{sandbox_url}/graphql",
        SAGE_AUTH_URL=sandbox_url,
    )
    built = build_services(settings)
    yield built
    built.close()


def _wait_status(services: Services, ref: str, wanted: EventStatus, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = services.events.get(ref)
        if record is not None and record.status is wanted:
            return
        time.sleep(0.2)
    record = services.events.get(ref)
    raise AssertionError(f"{ref} is {record.status if record else 'missing'}, not {wanted}")


def _send(base: str, event: DemoEvent) -> None:
    response = httpx.post(
        f"{base}/webhooks/stripe", content=event.body, headers=event.headers(STRIPE_SECRET)
    )
    assert response.status_code == 202, response.text


def test_replay_a_failed_event_from_the_console(
    services: Services,
    sandbox_url: str,
    start_worker: Callable[..., WorkerHandle],
    browser: webdriver.Chrome,
    artifacts: Path,
) -> None:
    sage_env = {"SAGE_API_URL": f"{sandbox_url}/graphql", "SAGE_AUTH_URL": sandbox_url}
    run = demo_run(int(time.time()))
    with serve_wsgi(create_app(services=services)) as base:
        misconfigured = start_worker(BRIDGE_PAYMENT_METHODS=NO_STRIPE, **sage_env)
        _send(base, run.invoice)
        _wait_status(services, run.invoice.ref, EventStatus.PROCESSED, 60)
        _send(base, run.invoice_payment)
        _wait_status(services, run.invoice_payment.ref, EventStatus.FAILED, 60)
        misconfigured.stop()
        start_worker(**sage_env)  # the operator fixed the mapping

        browser.get(f"{base}/console/")
        assert "/console/login" in browser.current_url
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login").click()

        wait = WebDriverWait(browser, 15)
        # The click only starts the login's POST and redirect: wait for the overview.
        row = wait.until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, f'tr.event[data-ref="{run.invoice_payment.ref}"]')
            )
        )
        assert row.get_attribute("data-status") == "failed"
        assert "stripe" in row.find_element(By.CSS_SELECTOR, "td.error").text.lower()
        browser.save_screenshot(str(artifacts / "console-failed-event.png"))

        row.find_element(By.CSS_SELECTOR, "button.replay").click()
        wait.until(expected_conditions.staleness_of(row))  # the POST, then its redirect
        flash = wait.until(
            expected_conditions.presence_of_element_located((By.CLASS_NAME, "flash"))
        )
        assert f"{run.invoice_payment.ref}: failed -> queued" in flash.text
        _wait_status(services, run.invoice_payment.ref, EventStatus.PROCESSED, 60)

        browser.get(f"{base}/console/events/{run.invoice_payment.ref}")
        assert browser.find_element(By.ID, "event-status").text == "processed"
        browser.get(f"{base}/console/events")
        statuses = {
            r.get_attribute("data-ref"): r.get_attribute("data-status")
            for r in browser.find_elements(By.CSS_SELECTOR, "tr.event")
        }
        assert statuses == {run.invoice.ref: "processed", run.invoice_payment.ref: "processed"}
        browser.save_screenshot(str(artifacts / "console-after-replay.png"))
        browser.get(f"{base}/console/orders")
        assert "Collected" in browser.page_source
        browser.save_screenshot(str(artifacts / "console-orders.png"))
        browser.get(f"{base}/console/")
        assert browser.find_element(By.CSS_SELECTOR, '[data-count="failed"]').text == "0"
