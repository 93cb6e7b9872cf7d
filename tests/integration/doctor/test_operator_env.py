"""The operator commands' settings (`bridge.ops.operator`): a running `bridge dev` found by
its state file, a partial environment's doctor report never stored, `--connection`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bridge.cli import main
from bridge.connections.models import ConnectionCreate
from bridge.connections.registry import ConnectionRegistry
from bridge.connections.secrets import SecretBox
from bridge.dev.state import RunInfo, write_run_info
from bridge.ops.doctor import DoctorStore
from bridge.settings import Settings

pytestmark = pytest.mark.integration


def full_env(redis_url: str, sandbox_url: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SHOPIFY_WEBHOOK_SECRET": "shopify-operator-secret",
        "STRIPE_WEBHOOK_SECRET": "whsec_operator",
    }


def stored(redis_url: str) -> str | None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        report = DoctorStore(client, Settings()).load()
    finally:
        client.close()
    return report.model_dump_json() if report else None


def test_a_partial_environment_report_is_printed_not_stored(
    redis_url: str, sandbox_url: str
) -> None:
    # the running bridge's own report (complete settings) is in Redis
    complete = CliRunner().invoke(main, ["doctor"], env=full_env(redis_url, sandbox_url))
    assert "not stored" not in complete.output
    before = stored(redis_url)
    assert before is not None

    # someone runs doctor in a shell with REDIS_URL only
    partial = CliRunner().invoke(main, ["doctor"], env={"REDIS_URL": redis_url})

    assert partial.exit_code == 1
    assert "every webhook is answered 503" in partial.output  # what it found, printed ...
    assert "report not stored: this shell lacks SAGE_API_URL" in partial.output
    assert stored(redis_url) == before  # ... and not what the console shows


def test_commands_find_a_running_bridge_dev(
    redis_url: str, sandbox_url: str, tmp_path: Path, redis_client: redis.Redis
) -> None:
    info = RunInfo(
        pid=os.getpid(),  # a running process: this one
        web_url="http://127.0.0.1:8000",
        redis_url=redis_url,
        sage_api_url=f"{sandbox_url}/graphql",
        sage_auth_url=sandbox_url,
        sandbox_url=sandbox_url,
        admin_token="dev-admin-token-long-enough",
        shopify_webhook_secret="shpss_dev_secret",
        stripe_webhook_secret="whsec_dev_secret",
        state_dir=str(tmp_path),
    )
    write_run_info(tmp_path, info)

    doctor = CliRunner().invoke(main, ["doctor", "--state-dir", str(tmp_path)], env={})

    assert "settings completed from the running `bridge dev`" in doctor.output
    assert "[ok  ] Sage connection" in doctor.output
    assert "[ok  ] Webhook secrets: Shopify secret set" in doctor.output
    assert "[ok  ] Admin token: set" in doctor.output
    assert "not stored" not in doctor.output  # the dev's own settings: a complete report
    assert stored(redis_url) is not None
    # BRIDGE_DEV_STATE_DIR names it too, for every operator command
    replay = CliRunner().invoke(
        main,
        ["replay", "--status", "failed", "--dry-run"],
        env={"BRIDGE_DEV_STATE_DIR": str(tmp_path)},
    )
    assert replay.exit_code == 0, replay.output
    assert "0 failed events match" in replay.output


def test_without_redis_nor_a_running_dev_the_command_says_both(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["doctor", "--state-dir", str(tmp_path)], env={})
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.output
    assert f"no running `bridge dev` was found in {tmp_path}" in result.output


def test_bridge_connection_naming_a_registered_connection_asks_for_connection(
    redis_url: str, sandbox_url: str, redis_client: redis.Redis
) -> None:
    key = Fernet.generate_key().decode()
    registry = ConnectionRegistry(redis_client, lambda: SecretBox([SecretStr(key)]))
    registry.add(
        ConnectionCreate.model_validate(
            {
                "name": "shop-b",
                "source": "shopify",
                "shop_domain": "shop-b.myshopify.com",
                "sage_organization_id": "org-b",
                "secrets": {"webhook_secrets": ["shop-b-webhook-secret"]},
            }
        )
    )
    env = {**full_env(redis_url, sandbox_url), "BRIDGE_SECRET_KEY": key}

    wrong = CliRunner().invoke(main, ["doctor"], env={**env, "BRIDGE_CONNECTION": "shop-b"})
    right = CliRunner().invoke(main, ["doctor", "--connection", "shop-b", "--no-store"], env=env)

    assert wrong.exit_code == 1
    assert "use --connection shop-b" in wrong.output
    assert "Connection shop-b:" in right.output
    assert "SAGE_ORGANIZATION_ID org-b is not visible" in right.output  # shop-b's, checked
