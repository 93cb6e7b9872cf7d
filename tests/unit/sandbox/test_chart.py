"""The seeded chart of accounts, and books saved before the sandbox had one."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.sage_active.sandbox import persist, seed_id
from connectors.sage_active.sandbox.state import SandboxState


def test_payment_methods_post_to_their_accounts() -> None:
    books = SandboxState().default_books()
    stripe = books.payment_methods[seed_id("paymentMethod", "Stripe")]
    assert stripe.sub_account_id is not None
    assert books.accounts[stripe.sub_account_id].code == "511500000"
    assert {"411000000", "512000000", "627000000", "706000000", "445710000"} <= {
        a.code for a in books.accounts.values()
    }


def test_a_state_file_without_accounts_gets_the_chart(tmp_path: Path) -> None:
    state = SandboxState()
    path = tmp_path / "sandbox.json"
    persist.save(state, path)
    old = json.loads(path.read_text())
    for books in old:
        books.pop("accounts")
        for method in books["payment_methods"].values():
            method.pop("sub_account_id")
    path.write_text(json.dumps(old))

    loaded = persist.load(path)
    assert loaded is not None
    assert loaded[0].accounts == {}
    state.replace(loaded)

    books = state.default_books()
    assert books.account_by_code("511600000") is not None
    shopify = books.payment_methods[seed_id("paymentMethod", "Shopify Payments")]
    assert shopify.sub_account_id == seed_id("accountingAccount", "511600000")
