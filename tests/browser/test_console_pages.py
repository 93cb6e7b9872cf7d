"""The accountant's console in a real browser over a real bridge (web app, a Celery worker,
the sandbox): orders in words with search, an order that failed saying why, an attention
item saying which entry to make in Sage and resolved with a note, and the variance report
listing the order whose payment is not in Sage.

Given a Shopify order paid and partly refunded, and a Stripe Billing invoice whose payment
fails (the worker's payment-method mapping lacks Stripe), plus the attention item a refund
adjustment the invoice's lines cannot express leaves on the Shopify order. Screenshots of
the orders, order, attention and report pages are saved under tests/artifacts/ (their
paths are printed).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
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
from bridge.store.attention import AttentionItem
from bridge.store.events import EventStatus
from bridge.web import create_app
from tests.support.celery import WorkerHandle
from tests.support.servers import serve_wsgi

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(240)]

TOKEN = "browser-pages-admin-token"
SECRETS = {"shopify": "shpss_browser_pages", "stripe": "whsec_browser_pages"}
NO_STRIPE = '{"paypal": "PayPal", "shopify_payments": "Shopify Payments"}'


@pytest.fixture
def services(redis_url: str, sandbox_url: str) -> Iterator[Services]:
    settings = Settings(
        REDIS_URL=redis_url,
        BRIDGE_ADMIN_TOKEN=TOKEN,
        SHOPIFY_WEBHOOK_SECRET=SECRETS["shopify"],
        STRIPE_WEBHOOK_SECRET=SECRETS["stripe"],
        SAGE_API_URL=f"{sandbox_url}/graphql",
        SAGE_AUTH_URL=sandbox_url,
    )
    built = build_services(settings)
    yield built
    built.close()


def _wait(services: Services, ref: str, wanted: EventStatus) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        record = services.events.get(ref)
        if record is not None and record.status is wanted:
            return
        time.sleep(0.2)
    record = services.events.get(ref)
    raise AssertionError(f"{ref} is {record.status if record else 'missing'}, not {wanted}")


def _send(base: str, event: DemoEvent) -> None:
    response = httpx.post(
        f"{base}/webhooks/{event.provider}",
        content=event.body,
        headers=event.headers(SECRETS[event.provider]),
    )
    assert response.status_code in (200, 202), response.text


def _shot(browser: webdriver.Chrome, artifacts: Path, name: str) -> None:
    path = artifacts / name
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")


def test_orders_order_attention_and_report_pages(
    services: Services,
    sandbox_url: str,
    start_worker: Callable[..., WorkerHandle],
    browser: webdriver.Chrome,
    artifacts: Path,
) -> None:
    run = demo_run(int(time.time()))
    env = {
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "BRIDGE_PAYMENT_METHODS": NO_STRIPE,
    }
    with serve_wsgi(create_app(services=services)) as base:
        start_worker(**env)
        for event in (run.order, run.payment, run.refund, run.invoice, run.invoice_payment):
            _send(base, event)
            wanted = EventStatus.FAILED if event is run.invoice_payment else EventStatus.PROCESSED
            _wait(services, event.ref, wanted)
        services.attention.add(
            AttentionItem(
                id=f"refund_not_exact:shopify:{run.run}",
                kind="refund_not_exact",
                order_reference=run.order_reference,
                amount=Decimal("2.00"),
                currency="EUR",
                reason=f"refund {run.run} not booked: order adjustment of 2.00: no quantity of "
                "the invoice's lines credits exactly 2.00",
                source=str(run.run),
            )
        )
        link = services.links.order(run.order_reference)
        assert link is not None
        assert link.order is not None
        assert link.order.customer is not None
        customer = link.order.customer.name

        browser.get(f"{base}/console/login")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        browser.find_element(By.ID, "login").click()
        wait = WebDriverWait(browser, 15)
        wait.until(expected_conditions.presence_of_element_located((By.CLASS_NAME, "cards")))

        # Orders: in words, with their state; the failed one links to its error.
        browser.get(f"{base}/console/orders")
        rows = {
            r.get_attribute("data-reference"): r
            for r in browser.find_elements(By.CSS_SELECTOR, "tr.order")
        }
        assert set(rows) == {run.order_reference, run.stripe_reference}
        shop_row, stripe_row = rows[run.order_reference], rows[run.stripe_reference]
        assert run.order_name in shop_row.text
        assert customer in shop_row.text
        assert "1 to book by hand" in shop_row.text
        assert stripe_row.get_attribute("data-state") == "failed"
        assert (
            stripe_row.find_element(By.CSS_SELECTOR, "div.error a")
            .get_attribute("href")
            .endswith(f"/console/events/{run.invoice_payment.ref}")
        )
        _shot(browser, artifacts, "console-orders.png")
        search = browser.find_element(By.ID, "order-search")
        search.send_keys(customer.split()[0])
        search.submit()
        wait.until(expected_conditions.url_contains("q="))
        found = [
            r.get_attribute("data-reference")
            for r in browser.find_elements(By.CSS_SELECTOR, "tr.order")
        ]
        assert found == [run.order_reference]

        # Attention: the entry to make in Sage, named on its order.
        browser.get(f"{base}/console/attention")
        item = browser.find_element(By.CSS_SELECTOR, "article.attention-item")
        assert "Refund not expressible on the invoice" in item.text
        assert "Create a credit note of 2.00 EUR" in item.text
        assert f"{run.order_name} · {customer}" in item.text
        _shot(browser, artifacts, "console-attention.png")

        # The order: documents, the attention item, events; resolved with a note.
        item.find_element(By.LINK_TEXT, f"{run.order_name} · {customer}").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "documents")))
        page = browser.find_element(By.TAG_NAME, "main").text
        assert "Sales invoice" in page
        assert "Credit note" in page
        assert "Settlement" in page
        _shot(browser, artifacts, "console-order.png")
        form = browser.find_element(By.CSS_SELECTOR, "form.resolve")
        form.find_element(By.NAME, "note").send_keys("credit note AV-0042 booked")
        form.find_element(By.CSS_SELECTOR, "button.resolve-button").click()
        flash = wait.until(
            expected_conditions.presence_of_element_located((By.CLASS_NAME, "flash"))
        )
        assert (
            "Resolved: Refund not expressible on the invoice (credit note AV-0042 booked)"
            in flash.text
        )
        assert services.attention.items() == []

        # The failed Stripe order says why and what to do.
        browser.get(f"{base}/console/order/{run.stripe_reference}")
        problem = browser.find_element(By.ID, "problem").text
        assert "Not booked: this event failed" in problem
        assert "What to do:" in problem

        # Report: the payment Sage does not have is listed by order.
        today = dt.datetime.now(dt.UTC).date()
        browser.get(f"{base}/console/report?from={today.replace(month=1, day=1)}&to={today}")
        differences = browser.find_elements(By.CSS_SELECTOR, "tr.difference")
        listed = {d.get_attribute("data-reference") for d in differences}
        assert run.stripe_reference in listed
        assert run.order_reference not in listed
        _shot(browser, artifacts, "console-report.png")
