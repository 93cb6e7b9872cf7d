"""Suite-wide fixtures live in `tests/support/`, one module per part of the system."""

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
    "tests.support.stripe_endpoints",
]
