"""The variance report as text (a terminal) and as CSV (a spreadsheet)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from bridge.reports.variance import COLUMNS, SAGE_NAMES, Figures, Report


def cents(value: Decimal) -> str:
    """An amount to the cent, as accountants read it (`0.00`, `-20.00`)."""
    return f"{value:.2f}"


CSV_HEADER = [
    "row",
    "day",
    "reference",
    "label",
    "column",
    "provider",
    "sage",
    "difference",
    "note",
]


def _line(name: str, figures: Figures) -> str:
    cells = [f"{name:<12}"]
    for column in COLUMNS:
        diff = figures.difference(column)
        mark = "" if diff == 0 else f" (Δ {cents(diff)})"
        provider, sage = cents(figures.provider[column]), cents(figures.sage[column])
        cells.append(f"{provider:>10} / {sage:<10}{mark}")
    return "  ".join(cells)


def render_text(report: Report) -> str:
    """The report for a terminal: a line per day, the totals, then the differences."""
    head = "  ".join(f"{c + ' / ' + SAGE_NAMES[c]:<23}" for c in COLUMNS)
    lines = [
        f"Variance report {report.first} to {report.last}, connection {report.connection}, "
        f"{report.currency} (provider / Sage)",
        f"{'day':<12}  {head}",
    ]
    lines += [_line(day.isoformat(), figures) for day, figures in report.days.items()]
    lines.append(_line("total", report.totals))
    if not report.differences:
        lines.append("No difference: every order and payout matches Sage.")
        return "\n".join(lines)
    lines.append(f"\n{len(report.differences)} difference(s), by order:")
    for diff in report.differences:
        lines.append(
            f"  {diff.label} [{diff.reference}] {diff.column}: Δ {cents(diff.amount)}: {diff.note}"
        )
    return "\n".join(lines)


def render_csv(report: Report) -> str:
    """One row per day and column, a total row per column, then one row per difference."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    rows = [(day.isoformat(), figures) for day, figures in report.days.items()]
    for name, figures in [*rows, ("total", report.totals)]:
        for column in COLUMNS:
            writer.writerow(
                [
                    "day" if name != "total" else "total",
                    name,
                    "",
                    "",
                    column,
                    cents(figures.provider[column]),
                    cents(figures.sage[column]),
                    cents(figures.difference(column)),
                    "",
                ]
            )
    for diff in report.differences:
        writer.writerow(
            [
                "difference",
                "",
                diff.reference,
                diff.label,
                diff.column,
                cents(diff.provider),
                cents(diff.sage),
                cents(diff.amount),
                diff.note,
            ]
        )
    return out.getvalue()
