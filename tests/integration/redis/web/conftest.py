"""The web app on the real test Redis, with webhook secrets and an admin token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.web import ADMIN_TOKEN
from tests.support.webhooks import SHOPIFY_SECRET, STRIPE_SECRET


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(
        REDIS_URL=redis_url,
        SHOPIFY_WEBHOOK_SECRET=f"old-shopify-secret,{SHOPIFY_SECRET}",
        STRIPE_WEBHOOK_SECRET=f"whsec_old,{STRIPE_SECRET}",
        BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN,
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
