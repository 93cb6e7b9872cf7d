"""`bridge dev`: the whole bridge on one machine, supervised by one Python process.

Started in order, each waited for before the next: Redis (embedded, in the state directory,
unless `REDIS_URL` is set), the Sage Active sandbox (its books in `sandbox.json`, unless
`SAGE_API_URL` is set), the web app (gunicorn), a Celery worker and Celery beat. Then the
banner: webhook URLs, console, admin token, where state lives. Ctrl-C or SIGTERM stops the
children (SIGTERM to each process group, a grace period, SIGKILL), then Redis.

A child that exits on its own (a worker killed, Redis crashed) is started again, alone,
with a back-off (`bridge.dev.restart`) and a line saying so; the others keep running: a dead
worker does not take the ingress down, and while Redis is away the ingress answers 503 (the
providers retry) and the worker waits for it. Redis comes back on the same port and data
directory, so everyone reconnects to the same URL and finds everything acknowledged.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import redis

from bridge.dev.processes import Child, echo, stop_all, wait_http, wait_marker
from bridge.dev.redis_child import READY
from bridge.dev.restart import Backoff
from bridge.dev.state import (
    DevSecrets,
    RunInfo,
    clear_run_info,
    load_or_create_secrets,
    write_run_info,
)
from bridge.dev.stripe_standin import STANDIN_KEY, StripeStandin
from bridge.embedded_redis import free_port
from bridge.services import sage_config
from bridge.settings import Settings
from connectors.sage_active.sandbox.legislations import oss_products

START_TIMEOUT = 60.0
STOP_GRACE = 20.0
# Periodic work logs a line every few seconds; shown, it would bury what people look for.
MUTE = {
    "sandbox": ('"POST /graphql', '"GET /_sandbox/stats', '"POST /connect/token'),
    "web": ('"GET /readyz', '"GET /admin/', '"GET /static/'),
    "worker": ("tasks.outbound.pump", "tasks.poll.poll", "tasks.ingest.sweep", "[poll]"),
    "beat": ("Sending due task",),
}
DEV_POLL_INTERVAL = "5"  # seconds: the demo sees Sage status changes quickly


class DevError(RuntimeError):
    """`bridge dev` could not start; the message says which part and why."""


def check_port(host: str, port: int, option: str) -> None:
    """Fail early, and clearly, when `port` is taken (or another bridge would answer there).

    The probe binds as the servers do, with SO_REUSEADDR: connections of a previous run left
    in TIME-WAIT (thousands after a load test) do not stop a server from listening, so they
    must not stop us either; only a listener (or a connected socket) makes the port taken.

    Raises:
        DevError: something listens on `host:port`.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DevError(
                f"{host}:{port} is already in use ({exc.strerror}): pass another {option}"
            ) from None


@dataclass
class DevOptions:
    """What `bridge dev` was asked for on the command line."""

    host: str = "127.0.0.1"
    port: int = 8000
    sandbox_port: int = 8090
    state_dir: Path = Path(".bridge")
    concurrency: int = 4


@dataclass
class DevServer:
    """The supervisor. `run()` blocks until stopped; `start()` / `stop()` for finer use."""

    settings: Settings
    options: DevOptions
    children: list[Child] = field(default_factory=list)
    redis: Child | None = None  # the embedded Redis, stopped after everything else
    stopping: threading.Event = field(default_factory=threading.Event)
    standin: StripeStandin | None = None  # when STRIPE_API_KEY is not set
    backoff: Backoff = field(default_factory=Backoff)

    def _bridge(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bridge.cli", *args]

    def _start_redis(self) -> str:
        """Redis as a child of its own (see `bridge.dev.redis_child`), unless `REDIS_URL`."""
        if self.settings.redis_url:
            return self.settings.redis_url
        data_dir = str(self.options.state_dir / "redis")
        argv = [sys.executable, "-m", "bridge.dev.redis_child", data_dir]
        self.redis = Child("redis", argv, {**os.environ, "PYTHONUNBUFFERED": "1"}, READY)
        self.redis.start()
        wait_marker(self.redis, START_TIMEOUT)
        url = self.redis.ready_line.split(READY, 1)[1].strip()
        # Started again (after a crash) on the same port: every client keeps its URL.
        self.redis.argv = [*argv, url.rsplit(":", 1)[1].split("/", 1)[0]]
        return url

    def _env(self, redis_url: str, secrets: DevSecrets, sage: tuple[str, str]) -> dict[str, str]:
        """The children's environment: ours, plus what makes them one development bridge."""
        # Passed through, not interpreted: each child reads it with its own Settings.
        env = dict(os.environ)
        given = self.settings.model_fields_set
        env.update(REDIS_URL=redis_url, SAGE_API_URL=sage[0], SAGE_AUTH_URL=sage[1])
        env.update(SHOPIFY_WEBHOOK_SECRET=self._secret("shopify_webhook_secret", secrets))
        env.update(STRIPE_WEBHOOK_SECRET=self._secret("stripe_webhook_secret", secrets))
        env.update(BRIDGE_ADMIN_TOKEN=self._secret("admin_token", secrets))
        env.update(BRIDGE_OUTBOUND_ALLOW_PRIVATE="true", PYTHONUNBUFFERED="1")
        if "poll_interval" not in given:
            env["BRIDGE_POLL_INTERVAL"] = DEV_POLL_INTERVAL
        if "log_json" not in given:
            env["BRIDGE_LOG_JSON"] = "false"  # people read these lines, machines do not
        if self.settings.sage.api_url is None and "oss_products" not in given:
            # the embedded sandbox's (French) organisation has a product per EU rate (OSS)
            env["BRIDGE_OSS_PRODUCTS"] = json.dumps(oss_products("FR"))
        return env

    def _secret(self, name: str, secrets: DevSecrets) -> str:
        """The configured value of secret `name`, or the generated development one."""
        configured = getattr(self.settings, name)
        if isinstance(configured, list) and configured:
            return ",".join(s.get_secret_value() for s in configured)
        if configured is not None and not isinstance(configured, list):
            return str(configured.get_secret_value())
        return str(getattr(secrets, name))

    def _add(self, child: Child) -> Child:
        self.children.append(child)
        child.start()
        return child

    def _start_sandbox(self, env: dict[str, str]) -> str:
        port = self.options.sandbox_port or free_port()
        state_file = str(self.options.state_dir / "sandbox.json")
        argv = self._bridge("sandbox", "--port", str(port), "--state-file", state_file)
        child = self._add(Child("sandbox", argv, env, mute=MUTE["sandbox"]))
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/_sandbox/stats", child, START_TIMEOUT)
        return base

    def _forget_sandbox_tokens(self, redis_url: str, api_url: str) -> None:
        """Drop the Sage tokens a previous run kept in Redis.

        Redis outlives the sandbox (both keep their files), but the sandbox forgets the
        tokens it issued when it stops: a refresh token rotated in an earlier run would be
        refused. The connector starts again from the configured development refresh token.
        """
        config = sage_config(
            self.settings.model_copy(
                update={"sage": self.settings.sage.model_copy(update={"api_url": api_url})}
            )
        )
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        try:
            client.delete(config.key("token"), config.key("refresh_token"))
        except redis.RedisError as exc:
            raise DevError(f"Redis at {redis_url} did not answer: {exc}") from exc
        finally:
            client.close()

    def start(self) -> RunInfo:
        """Start everything and return where it is.

        Raises:
            DevError: a part did not start (what was started is stopped again).
        """
        state_dir = self.options.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        check_port(self.options.host, self.options.port, "--port")
        if not self.settings.sage.api_url and self.options.sandbox_port:
            check_port("127.0.0.1", self.options.sandbox_port, "--sandbox-port")
        try:
            return self._start_all(state_dir)
        except (RuntimeError, OSError) as exc:
            self.stop()
            raise DevError(str(exc)) from exc

    def _start_all(self, state_dir: Path) -> RunInfo:
        secrets = load_or_create_secrets(state_dir)
        redis_url = self._start_redis()
        sandbox_url: str | None = None
        sage = (self.settings.sage.api_url or "", self.settings.sage.auth_url)
        if not self.settings.sage.api_url:
            sandbox_url = self._start_sandbox(self._env(redis_url, secrets, ("", "")))
            sage = (f"{sandbox_url}/graphql", sandbox_url)
            self._forget_sandbox_tokens(redis_url, sage[0])
        env = self._env(redis_url, secrets, sage)
        standin_url = None
        if self.settings.stripe_api_key is None:  # no Stripe: payouts read the stand-in
            self.standin = StripeStandin()
            standin_url = self.standin.start()
            env.update(STRIPE_API_KEY=STANDIN_KEY, STRIPE_API_URL=standin_url)
        opts = self.options
        web = self._add(
            Child("web", self._bridge("web", "--host", opts.host, "--port", str(opts.port),
                                      "--workers", "1", "--threads", "8"), env, mute=MUTE["web"])
        )  # fmt: skip
        web_url = f"http://{_client_host(opts.host)}:{opts.port}"
        wait_http(f"{web_url}/readyz", web, START_TIMEOUT)
        worker_argv = [
            *self._bridge("worker", "--pool", "threads", "--concurrency", str(opts.concurrency)),
        ]
        worker = self._add(Child("worker", worker_argv, env, " ready.", MUTE["worker"]))
        beat_argv = self._bridge("beat", "--schedule-file", str(state_dir / "beat-schedule"))
        beat = self._add(Child("beat", beat_argv, env, "beat: Starting", MUTE["beat"]))
        wait_marker(worker, START_TIMEOUT)
        wait_marker(beat, START_TIMEOUT)
        info = RunInfo(
            pid=os.getpid(),
            web_url=web_url,
            redis_url=redis_url,
            sage_api_url=sage[0],
            sage_auth_url=sage[1],
            sandbox_url=sandbox_url,
            admin_token=env["BRIDGE_ADMIN_TOKEN"],
            shopify_webhook_secret=env["SHOPIFY_WEBHOOK_SECRET"].split(",")[0],
            stripe_webhook_secret=env["STRIPE_WEBHOOK_SECRET"].split(",")[0],
            state_dir=str(state_dir.resolve()),
            stripe_standin_url=standin_url,
        )
        write_run_info(state_dir, info)
        return info

    def stop(self) -> None:
        """Stop the children (grace period, then SIGKILL), then Redis; idempotent."""
        stop_all(self.children, STOP_GRACE)
        self.children.clear()
        if self.redis is not None:
            stop_all([self.redis], STOP_GRACE)
            self.redis = None
        if self.standin is not None:
            self.standin.stop()
            self.standin = None
        clear_run_info(self.options.state_dir, os.getpid())

    def watch(self) -> int:
        """Block until asked to stop; start again, with back-off, a child that exits. 0."""
        while not self.stopping.wait(0.5):
            for child in [*([self.redis] if self.redis else []), *self.children]:
                self.supervise(child, time.monotonic())
        return 0

    def supervise(self, child: Child, now: float) -> None:
        """Note that `child` exited (its restart is scheduled), or restart it when due."""
        if child.alive:
            return
        backoff = self.backoff
        if not backoff.waiting(child.name):
            delay = backoff.exited(child.name, now - child.started_at, now)
            last = child.tail().splitlines()[-1:] or [""]
            echo(f"{child.name} exited on its own (status {child.exit_code}; last line: "
                 f"{last[0][:200]!r}); starting it again in {delay:.0f}s "
                 f"(exit {backoff.in_a_row(child.name)} in a row)")  # fmt: skip
        elif backoff.due(child.name, now):
            try:
                child.restart()
            except OSError as exc:
                echo(f"{child.name} could not be started again: {exc}")
                return
            assert child.process is not None
            echo(f"{child.name} started again (pid {child.process.pid})")

    def run(self) -> int:
        """Start, print the banner, supervise until Ctrl-C / SIGTERM, stop. The exit code.

        Raises:
            DevError: a part did not start.
        """

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            echo(f"\n{signal.Signals(signum).name} received: stopping (this takes a few seconds)")
            self.stopping.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in _STOP_SIGNALS}
        try:
            info = self.start()
            echo(banner(info, self.settings, self.options))
            code = self.watch()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        echo("bridge dev stopped; nothing left running")
        return code


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _client_host(host: str) -> str:
    """The address a local client uses to reach a server bound to `host`."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - a comparison


def _bridge_command() -> str:
    """How to run `bridge` from here: the script next to this Python (a venv's bin) if any."""
    script = Path(sys.executable).parent / "bridge"
    return str(script) if script.exists() else "bridge"


def banner(info: RunInfo, settings: Settings, options: DevOptions) -> str:
    """What a person needs to use the running bridge."""
    web, state = info.web_url, options.state_dir
    redis_where = "yours (REDIS_URL)" if settings.redis_url else f"embedded, data in {state}/redis"
    if info.sandbox_url:
        sage_line = f"sandbox {info.sandbox_url}/graphql (books in {state}/sandbox.json)"
    else:
        sage_line = f"{info.sage_api_url} (SAGE_API_URL)"
    rows = [
        ("Shopify webhooks", f"{web}/webhooks/shopify"),
        ("Stripe webhooks", f"{web}/webhooks/stripe"),
        ("Console", f"{web}/console"),
        ("Admin API", f"{web}/admin/events"),
        ("Metrics", f"{web}/metrics"),
        ("Admin token", info.admin_token),
        ("Shopify secret", info.shopify_webhook_secret),
        ("Stripe secret", info.stripe_webhook_secret),
        ("Sage Active", sage_line),
        ("Redis", f"{info.redis_url} ({redis_where})"),
        ("State", f"{state}/ (secrets in {state}/dev.env)"),
    ]
    lines = ["", "Sage Active Bridge is running. Ctrl-C stops everything.", ""]
    lines += [f"  {name:<17} {value}" for name, value in rows]
    lines += ["", f"  Try it: {_bridge_command()} demo   (in another terminal)", ""]
    return "\n".join(lines)
