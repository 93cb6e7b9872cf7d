"""The admin API's needs-attention items: list newest first, resolve, bearer auth."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from bridge.services import Services
from bridge.store.attention import AttentionItem, AttentionStore
from tests.support.web import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def item(n: int, kind: str = "order_adjustment") -> AttentionItem:
    return AttentionItem(
        id=f"{kind}:refund/{n}",
        kind=kind,
        order_reference=f"shopify:shop.example:{n}",
        amount=Decimal("1.05"),
        currency="EUR",
        reason=f"refund {n} has an order adjustment Sage cannot credit",
        source=f"refund {n}",
    )


@pytest.fixture
def store(services: Services) -> tuple[AttentionStore, Clock]:
    clock = Clock()
    # the app shares `services`: put a store with a controllable clock in its place
    services.__dict__["attention"] = AttentionStore(services.redis, services.settings, clock)
    return services.attention, clock


def test_attention_lists_open_items_newest_first_with_exact_amounts(
    client: FlaskClient, store: tuple[AttentionStore, Clock]
) -> None:
    attention, clock = store
    for n in (1, 2, 3):
        attention.add(item(n))
        clock.now += 10

    response = client.get("/admin/attention", headers=AUTH)

    assert response.status_code == 200
    items = response.json["items"]
    assert [i["id"] for i in items] == [
        "order_adjustment:refund/3",
        "order_adjustment:refund/2",
        "order_adjustment:refund/1",
    ]
    assert items[0]["amount"] == "1.05"
    assert items[0]["reason"] == "refund 3 has an order adjustment Sage cannot credit"
    assert items[0]["resolved_at"] is None
    assert items[0]["created_at"].startswith("2025-06-15T15:07:00")


def test_resolving_an_item_takes_it_off_the_open_list(
    client: FlaskClient, store: tuple[AttentionStore, Clock]
) -> None:
    attention, clock = store
    attention.add(item(1))
    attention.add(item(2))
    clock.now += 60

    response = client.post("/admin/attention/order_adjustment:refund/1/resolve", headers=AUTH)
    again = client.post("/admin/attention/order_adjustment:refund/1/resolve", headers=AUTH)

    assert response.status_code == 200
    assert response.json["id"] == "order_adjustment:refund/1"
    assert response.json["resolved_at"].startswith("2025-06-15T15:07:40")
    assert again.json["resolved_at"] == response.json["resolved_at"]  # first time kept
    open_ids = [i["id"] for i in client.get("/admin/attention", headers=AUTH).json["items"]]
    assert open_ids == ["order_adjustment:refund/2"]
    everything = client.get("/admin/attention?include_resolved=true", headers=AUTH).json["items"]
    resolved = {i["id"]: i["resolved_at"] for i in everything}
    assert resolved == {
        "order_adjustment:refund/1": response.json["resolved_at"],
        "order_adjustment:refund/2": None,
    }


def test_resolving_an_unknown_item_is_a_404_and_changes_nothing(
    client: FlaskClient, store: tuple[AttentionStore, Clock]
) -> None:
    attention, _ = store
    attention.add(item(1))

    response = client.post("/admin/attention/nope:1/resolve", headers=AUTH)

    assert response.status_code == 404
    assert response.json == {"error": "not_found", "detail": "no attention item 'nope:1'"}
    assert [i.id for i in attention.items()] == ["order_adjustment:refund/1"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=501", "limit=abc", "include_resolved=maybe", "colour=red"]
)
def test_a_bad_query_is_a_400(client: FlaskClient, query: str) -> None:
    response = client.get(f"/admin/attention?{query}", headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_query"


def test_attention_needs_the_admin_token(
    client: FlaskClient, store: tuple[AttentionStore, Clock]
) -> None:
    attention, _ = store
    attention.add(item(1))

    listed = client.get("/admin/attention")
    resolved = client.post(
        "/admin/attention/order_adjustment:refund/1/resolve",
        headers={"Authorization": "Bearer wrong"},
    )

    assert (listed.status_code, resolved.status_code) == (401, 401)
    assert attention.resolved_at(["order_adjustment:refund/1"]) == {}


def test_attention_lists_one_kind_newest_first(
    client: FlaskClient, store: tuple[AttentionStore, Clock]
) -> None:
    attention, clock = store
    for n in (1, 2, 3, 4):
        attention.add(item(n, kind="unlinked_payment" if n % 2 else "order_adjustment"))
        clock.now += 10
    attention.resolve("unlinked_payment:refund/3")

    listed = client.get("/admin/attention?kind=unlinked_payment", headers=AUTH).json["items"]
    everything = client.get(
        "/admin/attention?kind=unlinked_payment&include_resolved=true&limit=1", headers=AUTH
    ).json["items"]
    none = client.get("/admin/attention?kind=dispute", headers=AUTH).json["items"]

    assert [i["id"] for i in listed] == ["unlinked_payment:refund/1"]
    assert [i["id"] for i in everything] == ["unlinked_payment:refund/3"]
    assert none == []
    assert client.get("/admin/attention?kind=", headers=AUTH).status_code == 400
