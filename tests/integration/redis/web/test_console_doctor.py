"""The overview shows the latest `bridge doctor` report, and says when processing is held."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient

from bridge.ops.doctor import DoctorStore, Finding, Level, Report
from bridge.services import Services
from tests.support.web import ADMIN_TOKEN


def _login(client: FlaskClient) -> None:
    assert client.post("/console/login", data={"token": ADMIN_TOKEN}).status_code == 302


def test_overview_says_when_doctor_has_not_run(client: FlaskClient) -> None:
    _login(client)
    html = client.get("/console/").get_data(as_text=True)
    assert "Go-live check" in html
    assert "Not run yet" in html


def test_overview_shows_the_findings_and_the_hold(client: FlaskClient, services: Services) -> None:
    report = Report(
        checked_at=dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC),
        findings=[
            Finding(check="Sales journal", level=Level.OK, detail="VT (Ventes)"),
            Finding(
                check="Payment methods",
                level=Level.ERROR,
                holds=True,
                detail="gateway 'paypal' is mapped to 'PayPal EU', which Sage does not have",
                fix="create it in Sage",
            ),
            Finding(check="Admin token", level=Level.WARNING, detail="short", fix="longer"),
        ],
    )
    DoctorStore(services.redis, services.settings).save(report)
    _login(client)
    html = client.get("/console/").get_data(as_text=True)
    assert "Processing is held" in html
    assert "Payment methods: gateway &#39;paypal&#39; is mapped to &#39;PayPal EU&#39;" in html
    assert "create it in Sage" in html
    assert "1 error(s), 1 warning(s)" in html
    assert "2026-11-29 10:00:00" in html


def test_no_hold_banner_when_only_warnings(client: FlaskClient, services: Services) -> None:
    report = Report(
        checked_at=dt.datetime.now(dt.UTC),
        findings=[Finding(check="Admin token", level=Level.WARNING, detail="short")],
    )
    DoctorStore(services.redis, services.settings).save(report)
    _login(client)
    html = client.get("/console/").get_data(as_text=True)
    assert "Processing is held" not in html
    assert "0 error(s), 1 warning(s)" in html
