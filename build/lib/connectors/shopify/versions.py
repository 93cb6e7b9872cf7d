"""Shopify API versions: which ones Shopify supports on a given day.

Shopify releases a stable version each quarter, named after its release month
(`2026-01`, `-04`, `-07`, `-10`, released on the first of that month), and supports each for
twelve months: four stable versions are supported at any time, the newest being the one
released last. A request or webhook subscription on a retired version is served by the
oldest supported one. `unstable` is Shopify's preview of the next changes.

Every webhook names its version in `X-Shopify-API-Version`. The bridge reads the payloads
of every supported version (their shapes only add fields, which the payload models
ignore), so a version is only recorded and logged, never a reason to refuse an event.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

VERSION_HEADER = "X-Shopify-API-Version"
# The newest stable version when this release was made; the default of SHOPIFY_API_VERSION.
NEWEST_STABLE = "2026-10"
RELEASE_MONTHS = (1, 4, 7, 10)
SUPPORTED_COUNT = 4  # twelve months of quarterly releases
_VERSION = re.compile(r"^(\d{4})-(\d{2})$")

VersionStatus = Literal["supported", "retired", "unreleased", "unstable", "invalid"]


def _quarter_index(year: int, month: int) -> int:
    return year * 4 + (month - 1) // 3


def _name(index: int) -> str:
    year, quarter = divmod(index, 4)
    return f"{year:04d}-{RELEASE_MONTHS[quarter]:02d}"


def supported_versions(today: dt.date) -> list[str]:
    """The stable versions Shopify supports on `today`, oldest first."""
    newest = _quarter_index(today.year, today.month)
    return [_name(index) for index in range(newest - SUPPORTED_COUNT + 1, newest + 1)]


def version_status(version: str, today: dt.date) -> VersionStatus:
    """Whether `version` is supported on `today`, retired, not released yet, Shopify's
    `unstable` preview, or not a version name at all."""
    if version == "unstable":
        return "unstable"
    match = _VERSION.match(version)
    if match is None or int(match.group(2)) not in RELEASE_MONTHS:
        return "invalid"
    supported = supported_versions(today)
    if version in supported:
        return "supported"
    return "retired" if version < supported[0] else "unreleased"
