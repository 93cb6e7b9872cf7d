"""A sandbox with a state file keeps its books across restarts; `bridge sandbox` serves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sage_active.sandbox import SandboxConfig, create_app
from connectors.sage_active.sandbox.persist import StateFileError
from tests.integration.sandbox.helpers import CLOSE, CREATE, invoice_values
from tests.support.sandbox import CREDENTIALS, ORGANIZATION_ID, fetch_token
from tests.support.servers import serve_wsgi

pytestmark = pytest.mark.integration


def _headers(base: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {fetch_token(base)}",
        "x-api-key": CREDENTIALS["api_key"],
        "X-OrganizationId": ORGANIZATION_ID,
    }


def _gql(base: str, query: str, variables: dict[str, object] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=_headers(base),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_restarted_sandbox_keeps_its_books(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    config = SandboxConfig(state_file=str(path), persist_delay=0.05)
    app = create_app(config)
    try:
        with serve_wsgi(app) as base:
            created = _gql(base, CREATE, {"values": invoice_values()})["createSalesInvoice"]
            _gql(base, CLOSE, {"input": {"salesInvoiceId": created["id"]}})
    finally:
        app.extensions["sandbox"].close()
    assert [p.name for p in tmp_path.iterdir()] == ["books.json"]  # no temporary file left
    again = create_app(SandboxConfig(state_file=str(path)))
    try:
        with serve_wsgi(again) as base:
            found = _gql(
                base, "{ salesInvoices { nodes { id status operationalNumber totalLiquid } } }"
            )
            second = _gql(base, CREATE, {"values": invoice_values()})["createSalesInvoice"]
            _gql(base, CLOSE, {"input": {"salesInvoiceId": second["id"]}})
            numbers = _gql(
                base,
                "{ salesInvoices(order: [{operationalNumber: ASC}])"
                " { nodes { operationalNumber } } }",
            )
    finally:
        again.extensions["sandbox"].close()
    assert found == {
        "salesInvoices": {
            "nodes": [
                {
                    "id": created["id"],
                    "status": "Closed",
                    "operationalNumber": "0001",
                    "totalLiquid": 774.7,
                }
            ]
        }
    }
    assert numbers == {
        "salesInvoices": {"nodes": [{"operationalNumber": "0001"}, {"operationalNumber": "0002"}]}
    }


def test_background_writer_saves_shortly_after_a_change(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    app = create_app(SandboxConfig(state_file=str(path), persist_delay=0.05))
    try:
        with serve_wsgi(app) as base:
            _gql(base, CREATE, {"values": invoice_values(externalReference="#42")})
            for _ in range(100):
                if path.exists() and "#42" in path.read_text(encoding="utf-8"):
                    break
                time.sleep(0.05)
            saved = json.loads(path.read_text(encoding="utf-8"))
    finally:
        app.extensions["sandbox"].close()
    assert len(saved[0]["invoices"]) == 1


def test_a_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "books.json"
    path.write_text("{not a state", encoding="utf-8")
    with pytest.raises(StateFileError, match="not a sandbox state"):
        create_app(SandboxConfig(state_file=str(path)))


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_bridge_sandbox_command_serves_saves_and_stops(tmp_path: Path, stop: int) -> None:
    path = tmp_path / "books.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "sandbox", "--port", "0", "--state-file", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(6)]  # the URLs it prints
        base = banner[0].split(" on ")[1].strip()
        created = _gql(base, CREATE, {"values": invoice_values()})
        process.send_signal(stop)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert banner[0].startswith("Sage Active sandbox on http://127.0.0.1:")
    assert any(line.endswith(f"X-OrganizationId {ORGANIZATION_ID}\n") for line in banner)
    assert process.returncode == 0, err
    assert "sandbox stopped" in out
    assert created["createSalesInvoice"]["id"] in path.read_text(encoding="utf-8")
