"""`bridge backfill` from the command line: progress on stderr, a summary, clear refusals."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from click.testing import CliRunner

from bridge.cli import main
from tests.integration.backfill.test_backfill import stripe_event
from tests.support.providers import STRIPE_API_KEY, FakeStripe

pytestmark = pytest.mark.integration


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> pytest.MonkeyPatch:
    for name in ("STRIPE_API_KEY", "SHOPIFY_SHOP_DOMAIN", "SHOPIFY_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", redis_url)
    return monkeypatch


def test_backfill_prints_progress_and_a_summary(
    env: pytest.MonkeyPatch, fake_stripe: tuple[FakeStripe, str], redis_client: redis.Redis
) -> None:
    fake, base = fake_stripe
    now = dt.datetime.now(dt.UTC)
    for n in range(3):
        fake.add_event(stripe_event(n, at=now))
    env.setenv("STRIPE_API_KEY", STRIPE_API_KEY)
    env.setenv("STRIPE_API_URL", base)

    dry = CliRunner().invoke(main, ["backfill", "--since", "2h", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "(dry run)" in dry.stderr
    assert dry.stdout == "stripe: 3 read, would queue 3, 0 already known, 0 skipped\n"
    assert redis_client.dbsize() == 0

    real = CliRunner().invoke(main, ["backfill", "--since", "2h"])
    assert real.exit_code == 0, real.output
    assert "stripe: page 1, 3 read, 3 queued, 0 already known" in real.stderr
    assert real.stdout == "stripe: 3 read, queued 3, 0 already known, 0 skipped\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2h"], "no provider API is configured: set STRIPE_API_KEY"),
        (["--since", "2h", "--provider", "shopify"], "backfilling shopify needs SHOPIFY_SHOP"),
        (["--since", "last week"], "is not a time: use an ISO date"),
        (["--since", "1h", "--until", "2h"], "the window is empty"),
    ],
)
def test_refusals_name_what_to_fix(
    env: pytest.MonkeyPatch, redis_client: redis.Redis, args: list[str], message: str
) -> None:
    if "shopify" in args or "last week" in args or "--until" in args:
        env.setenv("STRIPE_API_KEY", STRIPE_API_KEY)
    result = CliRunner().invoke(main, ["backfill", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert redis_client.dbsize() == 0


def test_a_provider_failure_is_one_clear_line(
    env: pytest.MonkeyPatch, fake_stripe: tuple[FakeStripe, str]
) -> None:
    _, base = fake_stripe
    env.setenv("STRIPE_API_KEY", "sk_test_wrong")
    env.setenv("STRIPE_API_URL", base)
    result = CliRunner().invoke(main, ["backfill", "--since", "2h"])
    assert result.exit_code == 1
    assert "Error: Stripe refused the credentials (401)" in result.stderr
    assert "Traceback" not in result.output
