"""Suite-wide fixtures live in `tests/support/`, one module per part of the system."""

pytest_plugins = [
    "tests.support.redis",
    "tests.support.celery",
    "tests.support.sandbox",
    "tests.support.pipeline",
    "tests.support.providers",
    "tests.support.shopify_graphql",
]
