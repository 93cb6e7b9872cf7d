"""Operator alerts by e-mail (SMTP) and chat (a Slack-compatible incoming webhook).

Beyond outbound webhooks (for systems), people are told of what needs them: Sage needs a
new login, Sage's circuit opened, an event was dead-lettered, an attention item was
recorded. The places where that happens queue an alert (`bridge.store.alert_queue`);
`flush` (beat, every few seconds) sends the batch as ONE message per channel, and keeps
for a channel that failed what it did not get (retried at the next flush, `MAX_TRIES`
times). With `BRIDGE_ALERT_DIGEST=daily`, dead letters and attention items wait for the
daily digest (`send_digest`, beat at `BRIDGE_ALERT_DIGEST_HOUR` UTC); needs-login and
circuit alerts still go at once.

Channels: e-mail with `smtplib` (STARTTLS, TLS or plain; login when a user is set), chat
with an HTTP POST of `{"text": ...}` (Slack, Mattermost, Rocket.Chat, Google Chat and
Teams' workflows accept it). A channel raises `NotifyError` on any failure.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import httpx

from bridge.settings import Settings
from bridge.store.alert_queue import URGENT, Alert, AlertQueue

log = logging.getLogger(__name__)

MAX_TRIES = 5
TIMEOUT = 15.0
NAMES = {
    "needs_login": "Sage needs a new login",
    "circuit_open": "Sage is unavailable",
    "dead_letter": "Event failed",
    "attention": "To book by hand",
}


class NotifyError(RuntimeError):
    """A channel could not deliver a message; the text says why."""


class Channel(Protocol):
    name: str

    def send(self, subject: str, text: str) -> None:
        """Raises: NotifyError."""


@dataclass
class EmailChannel:
    """Alerts by e-mail through `BRIDGE_ALERT_SMTP_*`."""

    settings: Settings
    name: str = "email"

    def send(self, subject: str, text: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = s.alert_email_from or f"bridge@{s.alert_smtp_host}"
        message["To"] = ", ".join(s.alert_email_to)
        message.set_content(text)
        host, port = s.alert_smtp_host or "", s.alert_smtp_port
        try:
            if s.alert_smtp_tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=TIMEOUT, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
            with smtp:
                if s.alert_smtp_tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if s.alert_smtp_user:
                    password = (
                        s.alert_smtp_password.get_secret_value() if s.alert_smtp_password else ""
                    )
                    smtp.login(s.alert_smtp_user, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(f"e-mail via {host}:{port} failed: {exc}") from exc


@dataclass
class ChatChannel:
    """Alerts POSTed as `{"text": ...}` to `BRIDGE_ALERT_CHAT_WEBHOOK_URL`."""

    url: str
    transport: httpx.BaseTransport | None = None
    name: str = "chat"

    def send(self, subject: str, text: str) -> None:
        try:
            with httpx.Client(
                timeout=TIMEOUT, transport=self.transport, follow_redirects=False
            ) as client:
                body = {"text": f"*{_escape(subject)}*\n{_escape(text)}"}
                response = client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise NotifyError(f"chat webhook failed: {exc.__class__.__name__}") from exc
        if not response.is_success:
            raise NotifyError(f"chat webhook answered {response.status_code}")


def _escape(text: str) -> str:
    """Slack's escaping: a provider's text cannot ping `<!channel>` or forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def channels(settings: Settings) -> list[Channel]:
    """The channels configured in `settings` (none: alerts are not even queued)."""
    found: list[Channel] = []
    if settings.alert_smtp_host and settings.alert_email_to:
        found.append(EmailChannel(settings))
    if settings.alert_chat_webhook_url is not None:
        found.append(ChatChannel(settings.alert_chat_webhook_url.get_secret_value()))
    return found


def _line(alert: Alert, settings: Settings) -> str:
    link = (
        f" {settings.alert_console_url.rstrip('/')}{alert.path}"
        if (settings.alert_console_url and alert.path)
        else ""
    )
    when = alert.at.strftime("%Y-%m-%d %H:%M UTC")
    return f"- [{alert.connection}] {alert.title} ({when}): {alert.detail}{link}"


def render(
    alerts: Sequence[Alert], settings: Settings, heading: str | None = None
) -> tuple[str, str]:
    """(subject, text) of one message about `alerts`."""
    kinds = sorted({NAMES[a.kind] for a in alerts})
    subject = heading or f"[Sage Active Bridge] {len(alerts)} alert(s): {', '.join(kinds)}"
    text = "\n".join(_line(a, settings) for a in alerts)
    return subject, text


def _deliver(
    alerts: list[Alert], chans: Sequence[Channel], settings: Settings, heading: str | None = None
) -> list[Alert]:
    """Send `alerts` on each channel they still wait for; returns those to retry."""
    retry: list[Alert] = []
    for channel in chans:
        batch = [a for a in alerts if not a.pending or channel.name in a.pending]
        if not batch:
            continue
        try:
            channel.send(*render(batch, settings, heading))
        except NotifyError as exc:
            log.warning("alert channel %s: %s", channel.name, exc)
            for alert in batch:
                if alert.tries + 1 < MAX_TRIES:
                    retry.append(
                        alert.model_copy(
                            update={"pending": [channel.name], "tries": alert.tries + 1}
                        )
                    )
                else:
                    log.error(
                        "alert %s dropped for %s after %s tries", alert.key, channel.name, MAX_TRIES
                    )
    return retry


def flush(queue: AlertQueue, settings: Settings, chans: Sequence[Channel]) -> int:
    """Send what is queued (urgent ones only when a daily digest collects the rest);
    returns how many alerts were taken.

    Raises:
        redis.RedisError: Redis is unreachable (nothing is lost: alerts are taken last).
    """
    taken = queue.take()
    if not taken:
        return 0
    now = taken
    if settings.alert_digest == "daily":
        now = [a for a in taken if a.kind in URGENT or a.pending]
        queue.keep_for_digest([a for a in taken if a.kind not in URGENT and not a.pending])
    queue.put_back(_deliver(now, chans, settings))
    return len(taken)


def send_digest(
    queue: AlertQueue, settings: Settings, chans: Sequence[Channel], summary: Callable[[], str]
) -> int:
    """Send the day's kept alerts in one message per channel, with `summary()` (what is
    open now) on top; returns how many alerts it held (0: nothing sent).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    kept = queue.take_digest()
    if not kept:
        return 0
    heading = f"[Sage Active Bridge] daily digest: {len(kept)} alert(s). {summary()}"
    retry = _deliver(kept, chans, settings, heading)
    queue.keep_for_digest(retry)  # a channel that failed gets them with tomorrow's digest
    return len(kept)
