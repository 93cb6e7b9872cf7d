"""Shared by the event-store tests: a clock the test moves by hand."""

from __future__ import annotations

import pytest

from tests.support.clock import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()
