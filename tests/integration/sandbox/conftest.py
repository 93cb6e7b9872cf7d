"""Fixtures for the sandbox's integration tests: an HTTP client and a small Sage client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.sandbox.helpers import Sage


@pytest.fixture
def http(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=10) as client:
        yield client


@pytest.fixture
def sage(http: httpx.Client, sandbox_headers: dict[str, str]) -> Sage:
    return Sage(http, sandbox_headers)
