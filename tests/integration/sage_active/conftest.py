"""Helpers for the connector's integration tests: configs and a client for the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.sandbox import SandboxControl

Control = SandboxControl


@pytest.fixture
def control_for() -> Iterator[Callable[..., Control]]:
    made: list[Control] = []

    def make(base: str, transport: httpx.BaseTransport | None = None) -> Control:
        made.append(Control(base, transport))
        return made[-1]

    yield make
    for control in made:
        control.close()
