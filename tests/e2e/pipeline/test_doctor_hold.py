"""A mapping error holds processing before the first order; fixed, everything completes.

Given a worker whose walk-in customer code names no customer in Sage, when it starts, its
`bridge doctor` run stores a report that holds processing; orders and payments that arrive
then wait `queued`, with no attempt and nothing in Sage, instead of failing one by one.
When the customer is created in Sage and `bridge doctor` is run again, the hold is lifted
and every order ends Collected, with no replay.
"""

from __future__ import annotations

import copy
import time
import uuid

from click.testing import CliRunner

from bridge.cli import main
from bridge.ops.doctor import DoctorStore
from connectors.sage_active.models import CustomerInput
from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig

TX = "order-transactions-create-001-sale-shopify-payments"


def test_a_missing_walkin_customer_holds_events_until_fixed(rig: Rig) -> None:
    walkin = f"W{uuid.uuid4().hex[:10].upper()}"
    env = {**rig.worker_env, "BRIDGE_WALKIN_CUSTOMER": walkin}
    rig.start_worker(pool="threads", concurrency=2, **env)
    store = DoctorStore(rig.services.redis, rig.services.settings)

    def held() -> str:
        report = store.load()
        return report.hold_message() if report else ""

    message = rig.wait_for(held, 60, "the worker's doctor run to hold processing")
    assert f"BRIDGE_WALKIN_CUSTOMER '{walkin}'" in message

    refs, references = [], []
    for n in range(3):
        order = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
        order_id = 5_950_000_000_000 + int(uuid.uuid4().int % 10**9) * 10 + n
        order.update(id=order_id, name=f"#H{n}")
        tx = copy.deepcopy(payload("shopify", TX))
        tx.update(id=order_id + 5, order_id=order_id, amount="19.80")
        tx.pop("amount_set", None)
        refs += [rig.send("orders/create", order), rig.send("order_transactions/create", tx)]
        references.append(f"shopify:{SHOP}:{order_id}")

    time.sleep(5)  # the worker had time to fail them, were they not held
    for ref in refs:
        record = rig.services.events.get(ref)
        assert record is not None
        assert record.status.value == "queued", (ref, record.status, record.error)
        assert record.attempts == []
    for reference in references:
        assert rig.services.links.order(reference) is None

    rig.services.sage.create_customer(CustomerInput(code=walkin, social_name="Comptoir"))
    CliRunner().invoke(
        main, ["doctor"], env={"REDIS_URL": rig.services.settings.redis_url or "", **env}
    )
    assert held() == ""
    for reference in references:
        rig.wait_status(reference, "Collected", timeout=120)
    # the event that settled an invoice ends `processed` just after Sage shows it Collected
    rig.wait_for(
        lambda: all(rig.event_status(ref) == "processed" for ref in refs), 60, "every event done"
    )
