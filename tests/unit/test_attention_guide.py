"""Every kind of attention item the bridge records says, in Sage terms, what to book."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from bridge.models import LineKind
from bridge.ops.attention_guide import GUIDES, KIND_LABELS, guidance
from bridge.settings import Settings
from bridge.store.attention import AttentionItem
from bridge.store.links import OrderLink

SOURCES = Path(__file__).resolve().parents[2] / "bridge"


def recorded_kinds() -> set[str]:
    """The kinds written in the sources: `kind="..."`, `KIND = "..."`, the credit planner's
    `CreditRefused("...")` (and its `kind = "a" if ... else "b"`), `f"{kind.value}_refund"`."""
    kinds: set[str] = set()
    for path in SOURCES.rglob("*.py"):
        text = path.read_text()
        if "AttentionItem(" not in text and "CreditRefused(" not in text:
            continue
        items = re.findall(r"AttentionItem\((.*?)\n\s*\)", text, re.S)
        constants = dict(re.findall(r'^([A-Z_]+) = "([a-z_]+)"', text, re.M))
        for body in items:
            kinds |= set(re.findall(r'\bkind="([a-z_]+)"', body))
            kinds |= {
                constants[c] for c in re.findall(r"\bkind=([A-Z_]+)\b", body) if c in constants
            }
        kinds |= set(re.findall(r'^KIND = "([a-z_]+)"', text, re.M))
        kinds |= set(re.findall(r'self\.attention\(\s*"([a-z_]+)"', text))
        kinds |= set(re.findall(r'CreditRefused\(\s*"([a-z_]+)"', text))
        kinds |= set(
            re.findall(r'kind = "([a-z_]+)" if .* else "([a-z_]+)"', text)[0]
            if re.search(r'kind = "([a-z_]+)" if .* else "([a-z_]+)"', text)
            else ()
        )
        if '_refund"' in text:
            kinds |= {f"{kind.value}_refund" for kind in LineKind}
    return kinds


def test_every_recorded_kind_has_a_guide_and_a_label() -> None:
    kinds = recorded_kinds()
    assert {"refund_not_exact", "refund_exceeds", "dispute", "payout", "unlinked_payment"} <= kinds
    assert kinds - set(GUIDES) == set()
    assert kinds - set(KIND_LABELS) == set()


def test_a_refund_adjustment_names_the_document_the_invoice_and_the_accounts() -> None:
    item = AttentionItem(id="a", kind="refund_adjustment", amount=Decimal("2.00"),
                         currency="EUR", reason="r", order_reference="o")  # fmt: skip
    link = OrderLink(reference="o", invoice_id="i", number="FA-0007")

    text = guidance(item, link, Settings())
    kept = guidance(item.model_copy(update={"amount": Decimal("-2.00")}), link, Settings())

    assert "credit note of 2.00 EUR" in text
    assert "invoice FA-0007" in text
    assert "44571" in text
    assert "411000000" in text
    assert "sales invoice of 2.00 EUR" in kept
