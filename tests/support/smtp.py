"""A tiny SMTP server for tests (stdlib only): EHLO/HELO, AUTH PLAIN/LOGIN, MAIL, RCPT,
DATA, RSET, NOOP, QUIT; each message kept whole, parsed with `email`. No TLS: tests set
`BRIDGE_ALERT_SMTP_TLS=none`."""

from __future__ import annotations

import base64
import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage
    login: tuple[str, str] | None


@dataclass
class SmtpRecorder:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(recorder: SmtpRecorder) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def say(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def read(self) -> str:
            return self.rfile.readline().decode().rstrip("\r\n")

        def handle(self) -> None:
            self.say("220 test ESMTP")
            sender, rcpts, login = "", [], None
            while line := self.read():
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    self.say("250-test")
                    self.say("250 AUTH PLAIN LOGIN")
                elif verb == "AUTH" and arg.upper().startswith("PLAIN "):
                    _, user, password = base64.b64decode(arg[6:]).decode().split("\0")
                    login = (user, password)
                    self.say("235 ok")
                elif verb == "AUTH" and arg.upper() == "LOGIN":
                    self.say("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.read()).decode()
                    self.say("334 UGFzc3dvcmQ6")
                    login = (user, base64.b64decode(self.read()).decode())
                    self.say("235 ok")
                elif verb == "MAIL":
                    sender = arg.split(":", 1)[1].strip().strip("<>").split(">")[0]
                    self.say("250 ok")
                elif verb == "RCPT":
                    rcpts.append(arg.split(":", 1)[1].strip().strip("<>"))
                    self.say("250 ok")
                elif verb == "DATA":
                    self.say("354 end with .")
                    lines = []
                    while (data := self.read()) != ".":
                        lines.append(data[1:] if data.startswith("..") else data)
                    parsed = email.message_from_string(
                        "\n".join(lines), policy=email.policy.default
                    )
                    assert isinstance(parsed, EmailMessage)
                    message = parsed
                    with recorder.lock:
                        recorder.received.append(Received(sender, rcpts, message, login))
                    sender, rcpts = "", []
                    self.say("250 queued")
                elif verb == "QUIT":
                    self.say("221 bye")
                    return
                else:  # HELO, RSET, NOOP
                    self.say("250 ok")

    return Handler


@contextmanager
def smtp_server() -> Iterator[SmtpRecorder]:
    """A running recorder on a free port of 127.0.0.1 (its `port` set)."""
    recorder = SmtpRecorder()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(recorder))
    server.daemon_threads = True
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="test-smtp", daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
