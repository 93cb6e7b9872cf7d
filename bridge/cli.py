"""The `bridge` console script: one command group, one sub-command per process or tool.

Every command that serves HTTP takes `--host` and `--port`. Commands build the settings
once (`load_settings`) and hand them to the code they start.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from pydantic import ValidationError

from bridge import __version__
from bridge.settings import Settings, load_settings

if TYPE_CHECKING:  # imported by the commands that use them (a light `bridge --help`)
    from bridge.ops.operator import Operator


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bridge")
def main() -> None:
    """Sage Active Bridge: Shopify and Stripe events booked in Sage Active."""


F = TypeVar("F", bound=Callable[..., Any])


def operator_options(command: F) -> F:
    """`--connection` and `--state-dir`, shared by the operator commands."""
    command = click.option(
        "--state-dir",
        default=None,
        type=click.Path(file_okay=False, path_type=Path),
        help="Where a running `bridge dev` is found when REDIS_URL is not set "
        "[BRIDGE_DEV_STATE_DIR, else .bridge].",
    )(command)
    return click.option(
        "--connection",
        default=None,
        help="The connection to work on (default: the environment's, BRIDGE_CONNECTION).",
    )(command)


def _operator(connection: str | None, state_dir: Path | None) -> Operator:
    """Raises: click.ClickException: see `bridge.ops.operator.open_operator`."""
    from bridge.ops.operator import OperatorError, open_operator

    try:
        return open_operator(connection, state_dir)
    except OperatorError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8090, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Keep the sandbox's books in this file, so a restart keeps them.",
)
@click.option(
    "--token-lifetime",
    default=28800,
    show_default=True,
    type=int,
    help="Lifetime of issued access tokens, in seconds.",
)
@click.option(
    "--rate-limit",
    default=3000,
    show_default=True,
    type=int,
    help="Requests per minute per client before HTTP 429.",
)
def sandbox(
    host: str, port: int, state_file: str | None, token_lifetime: int, rate_limit: int
) -> None:
    """Run the Sage Active sandbox alone (GraphQL at /graphql, OAuth at /connect/token)."""
    from connectors.sage_active.sandbox import SandboxConfig, serve

    config = SandboxConfig(
        state_file=state_file, token_lifetime=token_lifetime, rate_limit_per_minute=rate_limit
    )
    serve(config, host=host, port=port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface of the web app.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port of the web app.")
@click.option(
    "--sandbox-port", default=8090, show_default=True, type=int, help="Port of the sandbox."
)
@click.option(
    "--state-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Where Redis data, the sandbox's books and the dev secrets are kept "
    "[BRIDGE_DEV_STATE_DIR, else .bridge].",
)
@click.option("--concurrency", default=4, show_default=True, type=int, help="Worker threads.")
def dev(host: str, port: int, sandbox_port: int, state_dir: str | None, concurrency: int) -> None:
    """Run everything on this machine: Redis, the sandbox, web, worker, beat (Ctrl-C stops)."""
    from pathlib import Path

    from bridge.dev.supervisor import DevError, DevOptions, DevServer

    settings = load_settings()
    folder = Path(state_dir or settings.dev_state_dir).resolve()
    options = DevOptions(host, port, sandbox_port, folder, concurrency)
    try:
        code = DevServer(settings, options).run()
    except DevError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@main.command()
@click.option(
    "--state-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="The state directory of the running `bridge dev` [BRIDGE_DEV_STATE_DIR, else .bridge].",
)
@click.option("--url", default=None, help="The bridge's base URL (default: from `bridge dev`).")
@click.option("--timeout", default=120.0, show_default=True, type=float, help="Seconds to wait.")
@click.option(
    "--wait",
    default=120.0,
    show_default=True,
    type=float,
    help="Seconds to wait for a `bridge dev` that is still starting.",
)
def demo(state_dir: str | None, url: str | None, timeout: float, wait: float) -> None:
    """Send signed sample Shopify and Stripe events to `bridge dev`; print what happened."""
    from pathlib import Path

    from bridge.dev.demo import DemoError, run_demo, wait_ready
    from bridge.dev.state import DevStateError, wait_for_run_info

    try:
        folder = Path(state_dir) if state_dir else _settings_or_stop().dev_state_dir
        info = wait_for_run_info(Path(folder), wait, click.echo)
        if url:
            info = info.model_copy(update={"web_url": url.rstrip("/")})
        wait_ready(info, wait)
        code = run_demo(info, timeout)
    except (DevStateError, DemoError) as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@main.command("sage-login")
@click.option("--timeout", default=300.0, show_default=True, type=float, help="Seconds to wait.")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option(
    "--host",
    default=None,
    help="Interface the callback listener binds (default: SAGE_REDIRECT_URI's, 127.0.0.1); "
    "e.g. 0.0.0.0 on a server whose redirect URI reaches it. Or use an SSH tunnel.",
)
@click.option("--port", default=None, type=int, help="Port of the callback listener.")
@operator_options
def sage_login(
    timeout: float,
    no_browser: bool,
    host: str | None,
    port: int | None,
    connection: str | None,
    state_dir: Path | None,
) -> None:
    """Log in to Sage Active once (OAuth code flow); the refresh token is kept in Redis.

    On a server: `ssh -L 8765:127.0.0.1:8765 server` and run it there with --no-browser,
    or listen elsewhere with --host/--port (see docs/operations.md)."""
    import webbrowser

    from bridge.ops.sage_login import Bind, SageLoginError, exchange, wait_for_code
    from bridge.services import ConfigurationError

    operator = _operator(connection, state_dir)
    settings = operator.settings
    operator.close()

    def send_person(url: str) -> None:
        click.echo(f"Open this URL and log in to Sage Active:\n\n  {url}\n")
        where = f" (listening on {host or 'its host'}:{port or 'its port'})" if host or port else ""
        click.echo(f"Waiting for Sage to redirect to {settings.sage.redirect_uri}{where} ...")
        if not no_browser:
            webbrowser.open(url)

    try:
        code = wait_for_code(settings, timeout, send_person, Bind(host, port))
        key = exchange(settings, code)
    except (SageLoginError, ConfigurationError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Logged in. The refresh token is stored in Redis at {key} (rotated there).")


def _settings_or_stop() -> Settings:
    """Raises: click.ClickException: invalid settings (the message names them)."""
    try:
        return load_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc


def _settings_with_redis() -> Settings:
    try:
        settings = load_settings()
    except ValidationError as exc:  # e.g. a bad BRIDGE_SUBSCRIPTIONS entry: stop at start
        raise click.ClickException(f"invalid settings: {exc}") from exc
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)")
    return settings


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity (a container's cpuset, `taskset`),
    capped by a cgroup v2 CPU quota (`docker run --cpus`) when one is set."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        count = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="utf-8").split()[:2]
        if quota != "max":
            count = min(count, max(1, -(-int(quota) // int(period))))  # rounded up
    except (OSError, ValueError):
        pass  # no readable cgroup quota: the CPUs the process may use stand
    return max(1, count)


def gunicorn_options(
    workers: int | None = None, threads: int | None = None, concurrency: int | None = None
) -> list[str]:
    """gunicorn's worker options for `bridge web` (bench/ingress.py measures with these):
    `--workers`, else `WEB_CONCURRENCY` (`concurrency`), else 2 per usable CPU."""
    processes = str(workers or concurrency or 2 * usable_cpus())
    return ["--worker-class", "gthread", "--workers", processes, "--threads", str(threads or 4)]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=None,
    type=int,
    help="gunicorn processes [WEB_CONCURRENCY, else 2 x the CPUs this process may use].",
)
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per process.")
@click.option(
    "--front/--no-front",
    default=True,
    show_default=True,
    help="Put the bridge's asyncio front before gunicorn (read deadlines, whole requests "
    "only); --no-front when a buffering proxy such as nginx is in front already.",
)
def web(host: str, port: int, workers: int | None, threads: int, front: bool) -> None:
    """Serve webhooks, the admin API and metrics with gunicorn (gthread workers), behind a
    front that slow or hostile clients cannot stall (`bridge.web.front`)."""
    settings = _settings_with_redis()
    options = gunicorn_options(workers, threads, settings.web_concurrency)
    argv = [sys.executable, "-m", "gunicorn", *options]
    argv += ["--access-logfile", "-", "bridge.web:create_production_app()"]
    if not front:
        argv[3:3] = ["--bind", f"{host}:{port}"]
        os.execv(sys.executable, argv)  # noqa: S606 - replace this process: signals reach it
        return  # not reached (execv does not return), but a test's stand-in does
    from bridge.observability import configure_logging
    from bridge.web.front import Limits, serve_with_gunicorn

    configure_logging(settings)
    # gunicorn sees the front's socket: log the client's address the front passes on.
    argv[-1:-1] = ["--access-logformat", '%({x-forwarded-for}i)s %(t)s "%(r)s" %(s)s %(b)s']
    limits = Limits(
        header_timeout=settings.read_header_timeout,
        body_timeout=settings.read_body_timeout,
        max_body=settings.webhook_max_body,
    )
    raise SystemExit(serve_with_gunicorn(host, port, argv, limits))


@main.command()
@click.option(
    "--pool",
    default="threads",
    show_default=True,
    help="Celery pool (threads: events wait on Sage, so many share one process and the "
    "Sage writer batches what they send).",
)
@click.option("--concurrency", default=32, show_default=True, type=int, help="Pool size.")
def worker(pool: str, concurrency: int) -> None:
    """Run a Celery worker (with its outbox relay) for inbound events and outbound deliveries."""
    settings = _settings_with_redis()
    argv = [sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool", pool]
    argv += ["--concurrency", str(concurrency), "--loglevel", settings.log_level]
    os.execv(sys.executable, argv)  # noqa: S606 - replace this process: signals reach celery


@main.command()
@click.option(
    "--schedule-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where beat keeps its last-run times (default: the temp directory).",
)
def beat(schedule_file: str | None) -> None:
    """Run Celery beat: the periodic sweep, outbound pump, poller and reconciliation."""
    settings = _settings_with_redis()
    path = schedule_file or os.path.join(
        tempfile.gettempdir(), f"bridge-beat-{settings.connection}"
    )
    argv = [sys.executable, "-m", "celery", "-A", "tasks.app", "beat", "--schedule", path]
    argv += ["--loglevel", settings.log_level]
    os.execv(sys.executable, argv)  # noqa: S606 - replace this process: signals reach celery


@main.command()
@click.option(
    "--no-store",
    is_flag=True,
    help="Do not keep the report in Redis (where the worker's hold and the console read it).",
)
@operator_options
def doctor(no_store: bool, connection: str | None, state_dir: Path | None) -> None:
    """Check Sage, the mapping, secrets and Redis; print what to fix; exit 1 on an error.

    The report is stored (for the console and the worker's hold) only when this shell's
    settings are complete: a partial environment's report is printed, not stored."""
    import redis

    from bridge.ops.doctor import DoctorStore, diagnose, render
    from bridge.ops.operator import missing_for_service

    operator = _operator(connection, state_dir)
    services = operator.services
    missing = missing_for_service(services.settings)
    try:
        report = diagnose(services)
        if not no_store and not missing:
            DoctorStore(services.redis, services.settings).save(report)
    except redis.RedisError as exc:
        raise click.ClickException(f"Redis did not answer: {exc}") from exc
    finally:
        operator.close()
    name = services.settings.connection
    if operator.dev is not None:
        click.echo(f"(settings completed from the running `bridge dev`, {operator.dev.web_url})")
    click.echo(f"Connection {name}:")
    click.echo(render(report))
    if missing and not no_store:
        click.echo(
            f"(report not stored: this shell lacks {', '.join(missing)}; the console keeps "
            "the running bridge's own report)"
        )
    sys.exit(1 if report.errors else 0)


@main.command()
@click.argument("ref", required=False)
@click.option(
    "--status",
    type=click.Choice(["failed", "parked"]),
    default=None,
    help="Bulk replay: every event in this status (with the filters below).",
)
@click.option("--provider", type=click.Choice(["shopify", "stripe"]), default=None)
@click.option("--topic", default=None, help="Only this topic, e.g. orders/create.")
@click.option("--since", default=None, help="Received at or after: ISO time or an age (48h).")
@click.option("--until", default=None, help="Received before: same forms.")
@click.option("--dry-run", is_flag=True, help="Only count what would be queued.")
@operator_options
def replay(
    ref: str | None,
    status: str | None,
    provider: str | None,
    topic: str | None,
    since: str | None,
    until: str | None,
    dry_run: bool,
    connection: str | None,
    state_dir: Path | None,
) -> None:
    """Queue inbound event REF (stripe:evt_123, or the bare id evt_123) for processing again,
    or with --status every failed (or parked) event matching the filters."""
    from bridge.store.event_models import event_ref

    if status is not None or ref is None:
        if ref is not None:
            raise click.UsageError("give either an event REF or --status, not both")
        if status is None:
            raise click.UsageError("give an event REF, or --status failed for a bulk replay")
        wanted = _replay_filter(status, provider, topic, since, until, dry_run)
        _bulk_replay(wanted, _operator(connection, state_dir))
        return
    ref = event_ref(ref)

    operator = _operator(connection, state_dir)
    try:
        previous = operator.services.events.requeue(ref)
    finally:
        operator.close()
    if previous is None:
        raise click.ClickException(
            f"no event {ref!r} (refs look like stripe:evt_... or shopify:<id>)"
        )
    click.echo(f"{ref}: {previous.value} -> queued (back on the outbox; a worker will process it)")


def _replay_filter(
    status: str,
    provider: str | None,
    topic: str | None,
    since: str | None,
    until: str | None,
    dry_run: bool,
) -> Any:
    """The `ReplayFilter` of the options (raises click.UsageError for a bad one)."""
    from bridge.ops.backfill import parse_moment
    from bridge.ops.replay import ReplayFilter

    now = dt.datetime.now(dt.UTC)
    try:
        wanted = ReplayFilter(
            status=status,
            provider=provider,
            topic=topic,
            since=parse_moment(since, now) if since else None,
            until=parse_moment(until, now) if until else None,
            dry_run=dry_run,
        )
    except (ValueError, ValidationError) as exc:
        raise click.UsageError(str(exc)) from exc
    return wanted


def _bulk_replay(wanted: Any, operator: Operator) -> None:
    from bridge.ops.replay import replay

    status, dry_run = wanted.status, wanted.dry_run

    def progress(done: int, total: int) -> None:  # on stderr; the summary goes to stdout
        click.echo(f"\rlooked at {done}/{total} {status} events", err=True, nl=done >= total)

    services = operator.services
    try:
        report = replay(services.events, services.redis, wanted, progress)
    finally:
        operator.close()
    if dry_run:
        click.echo(f"{report.matched} {status} events match; would queue {report.matched}")
    else:
        click.echo(f"{report.matched} {status} events match; queued {report.queued}")


@main.command()
@click.option(
    "--since",
    default=None,
    help="Start of the window: ISO date or date-time (UTC unless it says so), or an age "
    "(48h, 7d) [the connection's go-live date, BRIDGE_START_DATE].",
)
@click.option("--until", default=None, help="End of the window, same forms [now].")
@click.option(
    "--provider",
    type=click.Choice(["all", "stripe", "shopify"]),
    default="all",
    show_default=True,
    help="Which provider to read; all = every one configured.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would be queued; write nothing.")
@operator_options
def backfill(
    since: str | None,
    until: str | None,
    provider: str,
    dry_run: bool,
    connection: str | None,
    state_dir: Path | None,
) -> None:
    """Feed what the providers' APIs say happened in a window, and the bridge lacks.

    Stripe needs STRIPE_API_KEY; Shopify SHOPIFY_SHOP_DOMAIN and SHOPIFY_ACCESS_TOKEN.
    Missing events are recorded and queued like webhooks; the workers book them.
    """
    from bridge.ops.backfill import Backfill, open_readers, parse_moment
    from connectors.http import ProviderApiError
    from connectors.stripe.api import RETENTION

    operator = _operator(connection, state_dir)
    settings = operator.settings
    now = dt.datetime.now(dt.UTC)
    if since is None and settings.start_date is None:
        operator.close()
        raise click.UsageError("give --since, or set the go-live date (BRIDGE_START_DATE)")
    since = since or (settings.start_date.isoformat() if settings.start_date else "")
    try:
        start = parse_moment(since, now)
        end = parse_moment(until, now) if until else now
        readers = open_readers(settings, provider)
    except ValueError as exc:
        operator.close()
        raise click.UsageError(str(exc)) from exc
    if start >= end:
        operator.close()
        raise click.UsageError(f"the window is empty: {start.isoformat()} .. {end.isoformat()}")
    say = functools.partial(click.echo, err=True)  # progress on stderr, the summary on stdout
    say(f"backfill {start.isoformat()} .. {end.isoformat()}" + (" (dry run)" if dry_run else ""))
    if "stripe" in readers and start < now - RETENTION:
        say("stripe: note: Stripe lists only the last 30 days of events")
    services = operator.services
    runner = Backfill(services, dry_run=dry_run, progress=say)
    summary: list[str] = []
    try:
        for name, reader in readers.items():
            tally = runner.read(reader, start, end)
            for problem in tally.problems:
                say(f"{name}: skipped {problem}")
            verb = "would queue" if dry_run else "queued"
            summary.append(
                f"{name}: {tally.read} read, {verb} {tally.queued}, "
                f"{tally.known} already known, {tally.skipped} skipped"
            )
    except ProviderApiError as exc:
        raise click.ClickException(f"{exc}. What was queued stays queued: run it again.") from exc
    finally:
        for reader in readers.values():
            reader.close()
        operator.close()
    click.echo("\n".join(summary))


def _add_connections() -> None:
    from bridge.connections.cli import connections
    from bridge.einvoice.cli import einvoice

    main.add_command(connections)
    main.add_command(einvoice)


def _add_month_end() -> None:
    from bridge.month.cli import close_month

    main.add_command(close_month)


_add_connections()
_add_month_end()


def _add_report() -> None:
    from bridge.reports.cli import report

    main.add_command(report)


_add_report()


if __name__ == "__main__":  # pragma: no cover
    main()
