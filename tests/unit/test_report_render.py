"""The variance report's text and CSV: amounts to the cent, a row per day and column, the
totals, then one row per difference; an empty range says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bridge.reports.render import render_csv, render_text
from bridge.reports.variance import Difference, Figures, Report

DAY = dt.date(2026, 3, 4)


def report(differences: list[Difference]) -> Report:
    figures = Figures()
    figures.provider["sales"] = figures.sage["sales"] = Decimal("64.8")
    figures.provider["payments"], figures.sage["payments"] = Decimal("64.80"), Decimal("84.80")
    return Report(DAY, DAY, "default", "EUR", {DAY: figures}, differences)


def test_csv_rows_per_day_total_and_difference() -> None:
    extra = Difference(
        "shopify:s:1",
        "#1001 · Camille Martin",
        "payments",
        Decimal(0),
        Decimal("20"),
        "provider 0.00, Sage 20.00 (settled on the invoice)",
    )

    rows = [line.split(",") for line in render_csv(report([extra])).splitlines()]

    assert rows[0][:3] == ["row", "day", "reference"]
    assert ["day", "2026-03-04", "", "", "sales", "64.80", "64.80", "0.00", ""] in rows
    assert ["total", "total", "", "", "payments", "64.80", "84.80", "-20.00", ""] in rows
    assert rows[-1][:8] == [
        "difference",
        "",
        "shopify:s:1",
        "#1001 · Camille Martin",
        "payments",
        "0.00",
        "20.00",
        "-20.00",
    ]


def test_text_names_the_order_and_says_when_nothing_differs() -> None:
    extra = Difference(
        "shopify:s:1", "#1001 · Camille Martin", "payments", Decimal(0), Decimal("20"), "detail"
    )

    listed = render_text(report([extra]))
    clean = render_text(report([]))

    assert "#1001 · Camille Martin [shopify:s:1] payments: Δ -20.00" in listed
    assert "(Δ -20.00)" in listed
    assert "No difference" in clean
