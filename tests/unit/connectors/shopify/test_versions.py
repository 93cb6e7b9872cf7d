"""Shopify API versions: the supported window moves each quarter."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.settings import Settings
from connectors.shopify.versions import NEWEST_STABLE, supported_versions, version_status

TODAY = dt.date(2026, 11, 29)


def test_four_quarterly_versions_are_supported_the_newest_released_last() -> None:
    assert supported_versions(TODAY) == ["2026-01", "2026-04", "2026-07", "2026-10"]
    assert supported_versions(dt.date(2026, 10, 1))[-1] == "2026-10"
    assert supported_versions(dt.date(2026, 9, 30)) == ["2025-10", "2026-01", "2026-04", "2026-07"]
    assert supported_versions(dt.date(2027, 1, 1)) == ["2026-04", "2026-07", "2026-10", "2027-01"]


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("2026-01", "supported"),
        ("2026-10", "supported"),
        ("2025-10", "retired"),
        ("2024-10", "retired"),
        ("2027-01", "unreleased"),
        ("unstable", "unstable"),
        ("2026-02", "invalid"),
        ("latest", "invalid"),
    ],
)
def test_version_status(version: str, status: str) -> None:
    assert version_status(version, TODAY) == status


def test_calls_default_to_the_newest_stable_version_and_a_setting_overrides_it() -> None:
    assert supported_versions(TODAY)[-1] == NEWEST_STABLE
    assert Settings().shopify_api_version == NEWEST_STABLE
    assert Settings(SHOPIFY_API_VERSION="2026-04").shopify_api_version == "2026-04"
