"""The events to subscribe to: one list, generated from the handler registry, in
docs/providers.md; the other pages link to it instead of keeping their own."""

from __future__ import annotations

import re
from pathlib import Path

from bridge.ops.webhook_events import DOC, NOTES, documented, render, subscribed

DOCS = Path(__file__).resolve().parents[2] / "docs"
ANCHOR = "providers.md#webhook-events-to-subscribe-to"


def test_the_docs_list_is_the_registry() -> None:
    assert documented(DOC.read_text()) == render(), (
        "docs/providers.md is stale: run python -m bridge.ops.webhook_events --write"
    )


def test_every_handled_event_has_a_note_and_every_note_a_handler() -> None:
    for provider in ("stripe", "shopify"):
        assert set(subscribed(provider)) == set(NOTES[provider]), provider
    assert {"invoice_payment.paid", "payout.paid", "payout.failed"} <= set(subscribed("stripe"))


def test_other_pages_link_to_the_list_and_keep_none_of_their_own() -> None:
    for page in ("architecture.md", "getting-started.md"):
        assert ANCHOR in (DOCS / page).read_text(), page
    for page in DOCS.glob("*.md"):
        if page.name == "providers.md":
            continue
        listed = re.findall(r"`(charge\.dispute\.created|invoice_payment\.paid)`", page.read_text())
        assert len(listed) <= 1, f"{page.name} lists webhook events: link to {ANCHOR}"
