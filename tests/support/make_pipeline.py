"""`make_pipeline(**env)`: a sync pipeline on the test Redis and the sandbox over HTTP, built
from settings with some environment variables changed; closed after the test."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bridge.services import build_services
from tests.support.pipeline import Pipeline, SandboxControl, sandbox_settings

MakePipeline = Callable[..., Pipeline]


@pytest.fixture
def make_pipeline(redis_url: str, sandbox_url: str) -> Iterator[MakePipeline]:
    made: list[Pipeline] = []

    def make(**overrides: Any) -> Pipeline:
        services = build_services(sandbox_settings(redis_url, sandbox_url, **overrides))
        made.append(Pipeline(services, SandboxControl(sandbox_url), itertools.count(1)))
        return made[-1]

    yield make
    for each in made:
        each.control.close()
        each.services.close()
