"""What `bridge dev` keeps in its state directory (`.bridge/` by default), and reads back.

    dev.env        development secrets, generated once and kept across restarts:
                   SHOPIFY_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, BRIDGE_ADMIN_TOKEN
    dev.json       the running instance (URLs, secrets in effect, supervisor pid), written
                   when everything is up and removed on stop: `bridge demo` reads it
    redis/         the embedded Redis's append-only file
    sandbox.json   the sandbox's books
    beat-schedule  Celery beat's last-run times

Both files are created readable by their owner only: they hold secrets.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

DEV_ENV = "dev.env"
RUN_FILE = "dev.json"


class DevStateError(RuntimeError):
    """The state directory holds something unreadable, or no running `bridge dev`."""


class DevSecrets(BaseModel):
    """The webhook secrets and admin token of a development install."""

    model_config = ConfigDict(frozen=True)

    shopify_webhook_secret: str
    stripe_webhook_secret: str
    admin_token: str


class RunInfo(BaseModel):
    """A running `bridge dev`: where everything is, and the secrets it accepts."""

    model_config = ConfigDict(frozen=True)

    pid: int
    web_url: str
    redis_url: str
    sage_api_url: str
    sage_auth_url: str
    sandbox_url: str | None
    admin_token: str
    shopify_webhook_secret: str
    stripe_webhook_secret: str
    state_dir: str
    # `bridge.dev.stripe_standin` when STRIPE_API_KEY was not set (payouts in the demo)
    stripe_standin_url: str | None = None


_ENV_NAMES = {
    "SHOPIFY_WEBHOOK_SECRET": "shopify_webhook_secret",
    "STRIPE_WEBHOOK_SECRET": "stripe_webhook_secret",
    "BRIDGE_ADMIN_TOKEN": "admin_token",
}


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _generated() -> DevSecrets:
    return DevSecrets(
        shopify_webhook_secret="shpss_dev_" + secrets.token_hex(16),
        stripe_webhook_secret="whsec_dev_" + secrets.token_hex(16),
        admin_token=secrets.token_urlsafe(24),
    )


def load_or_create_secrets(state_dir: Path) -> DevSecrets:
    """The secrets in `<state_dir>/dev.env`, generated and saved there on first use.

    Raises:
        DevStateError: the file exists but lacks a value (delete it to start afresh).
    """
    path = state_dir / DEV_ENV
    if not path.exists():
        fresh = _generated()
        lines = [f"{env}={getattr(fresh, field)}" for env, field in _ENV_NAMES.items()]
        header = "# Development secrets of `bridge dev` (generated once; delete to renew)\n"
        _write_private(path, header + "\n".join(lines) + "\n")
        return fresh
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in _ENV_NAMES:
            values[_ENV_NAMES[name.strip()]] = value.strip()
    try:
        return DevSecrets.model_validate(values)
    except ValidationError as exc:
        raise DevStateError(f"{path} is incomplete; delete it to generate new secrets") from exc


def write_run_info(state_dir: Path, info: RunInfo) -> None:
    """Record the running instance for `bridge demo` (written whole: a reader never sees a
    half-written file)."""
    partial = state_dir / (RUN_FILE + ".partial")
    _write_private(partial, info.model_dump_json(indent=2) + "\n")
    partial.replace(state_dir / RUN_FILE)


def clear_run_info(state_dir: Path, pid: int) -> None:
    """Remove the run file if it is this instance's (`pid`)."""
    path = state_dir / RUN_FILE
    try:
        if RunInfo.model_validate_json(path.read_text(encoding="utf-8")).pid == pid:
            path.unlink()
    except (OSError, ValidationError):
        return


def read_run_info(state_dir: Path) -> RunInfo:
    """The running `bridge dev` recorded in `state_dir`.

    Raises:
        DevStateError: no instance is recorded there (or the record is unreadable).
    """
    path = state_dir / RUN_FILE
    try:
        return RunInfo.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DevStateError(
            f"no running `bridge dev` found ({path} is missing): start it first, "
            "or point --state-dir at its state directory"
        ) from None
    except (OSError, ValidationError) as exc:
        raise DevStateError(f"{path} is unreadable: {exc}") from exc


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def running_instance(state_dir: Path) -> RunInfo | None:
    """The `bridge dev` recorded in `state_dir` if it is running now, else None."""
    try:
        info = read_run_info(state_dir)
    except DevStateError:
        return None
    return info if _running(info.pid) else None


def wait_for_run_info(
    state_dir: Path,
    timeout: float,
    on_wait: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunInfo:
    """The running `bridge dev` of `state_dir`, waited for up to `timeout` s: one started a
    moment ago writes its run file only once everything is up. `on_wait` is told once.

    Raises:
        DevStateError: none was there (or its supervisor is gone) when the time was up.
    """
    deadline = clock() + timeout
    told = False
    while True:
        try:
            info = read_run_info(state_dir)
            if _running(info.pid):
                return info
            problem = f"the `bridge dev` recorded in {state_dir} (pid {info.pid}) is not running"
        except DevStateError as exc:
            problem = str(exc)
        if clock() >= deadline:
            raise DevStateError(f"{problem} (waited {timeout:.0f}s)")
        if not told:
            on_wait(f"Waiting up to {timeout:.0f}s for `bridge dev` to be ready in {state_dir} "
                    "(start it with `scripts/dev` if it is not running) ...")  # fmt: skip
            told = True
        sleep(0.5)
