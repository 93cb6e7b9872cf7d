"""Suite-wide fixtures live in `tests/support/`, one module per part of the system.

Markers follow the folders, so a new file cannot forget its own: `tests/integration/` is
`integration`, `tests/e2e/` is `e2e`, `tests/browser/` is `browser` (`-m "not e2e"` and the
like select by them). A unit test (`tests/unit/`) starts no server: one that asks for a
Redis server, the sandbox over HTTP or a Celery worker fails at collection, naming the
fixture; such a test belongs in `tests/integration/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.environment import isolate

# Before anything builds settings: the developer's `.env` and exported variables are not
# the suite's (tests/support/environment.py).
isolate()

pytest_plugins = [
    "tests.support.redis",
    "tests.support.celery",
    "tests.support.sandbox",
    "tests.support.pipeline",
    "tests.support.providers",
    "tests.support.shopify_graphql",
    "tests.support.rig",
    "tests.support.poller_bridge",
    "tests.support.subscriber",
    "tests.support.poller_env",
    "tests.support.make_pipeline",
    "tests.support.stripe_endpoints",
]

TESTS = Path(__file__).resolve().parent
MARKED_FOLDERS = ("integration", "e2e", "browser")
SERVER_FIXTURES = frozenset({"redis_server", "_sandbox_base_url", "start_worker", "celery_worker"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        if folder in MARKED_FOLDERS:
            item.add_marker(getattr(pytest.mark, folder))
        elif folder == "unit":
            servers = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if servers:
                raise pytest.UsageError(
                    f"{item.nodeid}: a unit test starts no server, but it uses "
                    f"{', '.join(sorted(servers))}: move it to tests/integration/"
                )
