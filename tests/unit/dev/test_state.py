"""`bridge dev`'s state directory: secrets kept once, the run file for `bridge demo`."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bridge.dev.state import (
    DEV_ENV,
    RUN_FILE,
    DevStateError,
    RunInfo,
    clear_run_info,
    load_or_create_secrets,
    read_run_info,
    write_run_info,
)
from bridge.dev.supervisor import DevError, check_port


def _info(pid: int) -> RunInfo:
    return RunInfo(
        pid=pid, web_url="http://127.0.0.1:8000", redis_url="redis://127.0.0.1:1/0",
        sage_api_url="http://127.0.0.1:8090/graphql", sage_auth_url="http://127.0.0.1:8090",
        sandbox_url="http://127.0.0.1:8090", admin_token="t", shopify_webhook_secret="s",
        stripe_webhook_secret="whsec_x", state_dir="/tmp/x",
    )  # fmt: skip


def test_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path)
    second = load_or_create_secrets(tmp_path)
    assert first == second
    assert first.stripe_webhook_secret.startswith("whsec_")
    assert len(first.admin_token) >= 24
    assert os.stat(tmp_path / DEV_ENV).st_mode & 0o077 == 0


def test_an_incomplete_secrets_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / DEV_ENV).write_text("SHOPIFY_WEBHOOK_SECRET=abc\n")
    with pytest.raises(DevStateError, match="delete it"):
        load_or_create_secrets(tmp_path)


def test_run_info_round_trip_and_only_its_owner_clears_it(tmp_path: Path) -> None:
    write_run_info(tmp_path, _info(pid=123))
    assert read_run_info(tmp_path) == _info(pid=123)
    clear_run_info(tmp_path, pid=456)  # another instance's stop leaves it alone
    assert (tmp_path / RUN_FILE).exists()
    clear_run_info(tmp_path, pid=123)
    assert not (tmp_path / RUN_FILE).exists()


def test_no_run_file_says_to_start_bridge_dev(tmp_path: Path) -> None:
    with pytest.raises(DevStateError, match="no running `bridge dev`"):
        read_run_info(tmp_path)


def test_a_port_in_use_is_refused_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevError, match=f"127.0.0.1:{port} is already in use.*--port"):
            check_port("127.0.0.1", port, "--port")
