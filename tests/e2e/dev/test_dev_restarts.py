"""`bridge dev` repairs itself: a killed worker and a killed Redis are started again.

Given `bridge dev` running (embedded Redis and sandbox), when orders and their payments
stream in and the Celery worker is SIGKILLed, then the ingress keeps answering 2xx, the
supervisor starts the worker again by itself, and every order ends Collected in Sage with
no manual step. When the Redis server is SIGKILLed, it is started again on the same port
and data: the webhooks acknowledged before are still there and new ones are accepted.
Ctrl-C still stops everything, and `bridge dev` starts again at once on the same port
although the web port has connections in TIME-WAIT.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from bridge.dev.state import RunInfo, read_run_info
from bridge.embedded_redis import free_port
from tests.e2e.dev.test_dev_demo import _env, _session, _stop, running_dev
from tests.support.pipeline import SHOP, payload
from tests.support.webhooks import shopify_headers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

TX = "order-transactions-create-001-sale-shopify-payments"


def _wait(check: Callable[[], object], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tail = log.read_text()[-4000:]
    raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{tail}")


def _send(http: httpx.Client, info: RunInfo, topic: str, body: dict[str, object]) -> int:
    raw = json.dumps(body).encode()
    headers = shopify_headers(raw, topic=topic, webhook_id=str(uuid.uuid4()), shop=SHOP,
                              secret=info.shopify_webhook_secret)  # fmt: skip
    return http.post("/webhooks/shopify", content=raw, headers=headers).status_code


def _order_and_payment(http: httpx.Client, info: RunInfo, order_id: int) -> str:
    order = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
    order.update(id=order_id, name=f"#R{order_id % 100000}")
    tx = copy.deepcopy(payload("shopify", TX))
    tx.update(id=order_id + 1, order_id=order_id, amount="19.80")
    tx.pop("amount_set", None)
    assert _send(http, info, "orders/create", order) == 202
    assert _send(http, info, "order_transactions/create", tx) == 202
    return f"shopify:{SHOP}:{order_id}"


def _child(sid: int, *words: str) -> psutil.Process:
    for proc in _session(sid):
        cmdline = " ".join(proc.cmdline())
        if all(word in cmdline for word in words):
            return proc
    raise AssertionError(f"no process of the session runs {words}")


def test_killed_worker_and_redis_come_back_by_themselves(tmp_path: Path) -> None:
    state, log = tmp_path / "state", tmp_path / "dev-1.log"
    port = free_port()
    base_id = 5_940_000_000_000 + int(uuid.uuid4().int % 1_000_000) * 1000
    with running_dev(state, log, port=port) as process:
        info = read_run_info(state)
        admin = {"Authorization": f"Bearer {info.admin_token}"}
        with httpx.Client(base_url=info.web_url, timeout=10) as http:
            orders = [_order_and_payment(http, info, base_id + 10 * n) for n in range(4)]
            worker = _child(process.pid, "celery", "worker")
            worker.kill()  # SIGKILL mid-stream
            # The ingress stays up while the worker is dead.
            orders += [_order_and_payment(http, info, base_id + 10 * n) for n in range(4, 8)]
            _wait(lambda: "worker started again" in log.read_text(), 60, "the restart", log)
            assert _child(process.pid, "celery", "worker").pid != worker.pid

            def collected() -> bool:
                for reference in orders:
                    answer = http.get(f"/admin/orders/{reference}", headers=admin)
                    if answer.status_code != 200 or answer.json()["status"] != "Collected":
                        return False
                return True

            _wait(collected, 240, "every order Collected", log)

            # Redis crashes: started again on its port, with its data.
            _child(process.pid, "redis-server").kill()
            _wait(lambda: "redis started again" in log.read_text(), 60, "Redis back", log)
            _wait(lambda: http.get("/readyz").status_code == 200, 60, "web ready", log)
            reference = orders[0]
            assert http.get(f"/admin/orders/{reference}", headers=admin).json()["status"] == (
                "Collected"
            )
            orders.append(_order_and_payment(http, info, base_id + 900))
            _wait(collected, 240, "the order sent after the Redis restart Collected", log)
            # Connections the server closed first leave TIME-WAIT sockets on its port.
            for _ in range(20):
                http.get("/healthz", headers={"Connection": "close"})
        _stop(process, state, log)

    # Started again at once on the same port, with `bridge demo` right behind it: the demo
    # waits for it to be ready.
    with running_dev(state, tmp_path / "dev-2.log", port=port, wait=False) as process:
        demo = subprocess.run(
            [sys.executable, "-m", "bridge.cli", "demo", "--state-dir", state.name],
            cwd=state.parent, env=_env(), capture_output=True, text=True, timeout=300,
            check=False,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "Waiting up to" in demo.stdout
        assert "All as expected" in demo.stdout
        assert read_run_info(state).web_url.endswith(f":{port}")
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) == 0
