"""The front of `bridge web`: whole requests only reach gunicorn, within deadlines.

gunicorn's threads read a request from the client themselves: a client that sends its
headers or body slowly (or declares a body and sends nothing) holds a thread for as long as
it likes, and a dozen of them stop the ingress. So `bridge web` listens with this small
asyncio server instead, which costs a coroutine per connection, however slow:

- the request head (line and headers, at most `MAX_HEAD` bytes: else 431) must arrive within
  `BRIDGE_READ_HEADER_TIMEOUT` s of the connection (or of the previous answer), else 408;
- a declared `Content-Length` over `BRIDGE_MAX_BODY` is answered 413 at once, before
  reading it; a chunked body is counted as it comes (413 past the limit);
- the body must arrive whole within `BRIDGE_READ_BODY_TIMEOUT` s, else 408;
- every refusal closes the connection (after reading and discarding, for at most
  `DRAIN_SECONDS`, what the client is still sending, so it can read the answer).

Only then is the request, buffered, with its `Content-Length`, handed to gunicorn over a
private Unix socket (one connection per request); gunicorn's answer is relayed, and the
client's connection kept alive when the answer says its length. gunicorn's threads thus
only ever wait for Redis, never for a client. A buffering reverse proxy (nginx, see
`deploy/nginx.conf`) in front does the same at the edge; this is the same guarantee
without one (`bridge dev`, a bare `bridge web`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from http import HTTPStatus

log = logging.getLogger(__name__)

MAX_HEAD = 64 * 1024  # request line and headers
KEEP_ALIVE_IDLE = 15.0  # seconds a kept-alive connection may wait for its next request
SEND_TIMEOUT = 30.0  # seconds a client has to take an answer
DRAIN_SECONDS = 2.0  # after a refusal: how long what the client still sends is discarded
DRAIN_MAX = 16 * 1024 * 1024
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
     b"transfer-encoding", b"upgrade", b"content-length", b"expect", b"x-forwarded-for"}
)  # fmt: skip
TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_body: int = 8 * 1024 * 1024
    idle_timeout: float = KEEP_ALIVE_IDLE


class Refusal(Exception):
    """A request answered by the front itself, then the connection closed."""

    def __init__(self, status: int, detail: str, error: str = "") -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.error = error or HTTPStatus(status).phrase.lower().replace(" ", "_")


@dataclass
class Head:
    method: bytes
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]

    def get(self, name: bytes) -> list[bytes]:
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for v in self.get(b"connection") for t in v.split(b",")}
        if self.version == b"HTTP/1.0":
            return b"keep-alive" in tokens
        return b"close" not in tokens


def parse_head(raw: bytes) -> Head:
    """The request line and headers of `raw` (ending with an empty line).

    Raises:
        Refusal: 400 for anything that is not a well-formed HTTP/1.x request head.
    """
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not TOKEN.match(parts[0]) or parts[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise Refusal(400, "malformed request line")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep or not TOKEN.match(name):
            raise Refusal(400, "malformed header line")
        headers.append((name, value.strip(b" \t")))
    return Head(parts[0], parts[1], parts[2], headers)


def answer(refusal: Refusal) -> bytes:
    """The JSON answer of the rest of the app (`{"error", "detail"}`), closing."""
    status = refusal.status
    body = json.dumps({"error": refusal.error, "detail": refusal.detail}).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class Front:
    """Accepts clients on `host:port`, hands whole requests to gunicorn at `upstream`."""

    def __init__(self, upstream: str, limits: Limits) -> None:
        self.upstream = upstream  # a Unix socket path
        self.limits = limits
        self.open_connections = 0

    async def serve(self, host: str, port: int) -> asyncio.Server:
        return await asyncio.start_server(
            self.connection, host, port, limit=MAX_HEAD, reuse_address=True, backlog=1024
        )

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        peer = writer.get_extra_info("peername")
        client = str(peer[0]) if isinstance(peer, tuple) else ""
        try:
            first = True
            while await self._one(reader, writer, client, first):
                first = False
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the client went away mid-request: nobody to answer, the socket is closed below
        except asyncio.CancelledError:  # the server is stopping: close without a word
            pass
        except Exception:  # a bug here must not take the server down
            log.exception("front: unexpected error")
        finally:
            self.open_connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str, first: bool
    ) -> bool:
        """Serve one request; whether the connection stays open for another."""
        try:
            head, body = await self._read(reader, writer, first)
        except Refusal as refusal:
            await self._refuse(reader, writer, refusal)
            return False
        if head is None:
            return False
        status_keep = await self._forward(head, body, writer, client)
        return status_keep and head.keep_alive

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bool
    ) -> tuple[Head | None, bytes]:
        limits = self.limits
        start = b""
        if not first:  # a kept-alive connection may idle; its next request has the deadline
            try:
                start = await asyncio.wait_for(reader.readexactly(1), limits.idle_timeout)
            except (TimeoutError, asyncio.IncompleteReadError):
                return None, b""  # idle too long, or the client went away: close quietly
        try:
            raw = start + await asyncio.wait_for(
                reader.readuntil(b"\r\n\r\n"), limits.header_timeout
            )
        except TimeoutError:
            raise Refusal(408, "the request head did not arrive in time") from None
        except asyncio.LimitOverrunError:
            raise Refusal(431, f"the request head is over {MAX_HEAD} bytes") from None
        except asyncio.IncompleteReadError:
            return None, b""  # the client went away
        head = parse_head(raw)
        lengths = head.get(b"content-length")
        chunked = any(b"chunked" in v.lower() for v in head.get(b"transfer-encoding"))
        if head.get(b"transfer-encoding") and not chunked:
            raise Refusal(501, "only the chunked transfer-encoding is supported")
        if chunked and lengths:
            raise Refusal(400, "both Content-Length and Transfer-Encoding")
        if len(set(lengths)) > 1 or (lengths and not lengths[0].isdigit()):
            raise Refusal(400, "Content-Length is not one number")
        size = int(lengths[0]) if lengths else 0
        if size > limits.max_body:
            raise Refusal(413, f"the body is over {limits.max_body} bytes", "payload_too_large")
        if (size or chunked) and any(v.lower() == b"100-continue" for v in head.get(b"expect")):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            if chunked:
                body = await asyncio.wait_for(self._chunks(reader), limits.body_timeout)
            else:
                body = await asyncio.wait_for(reader.readexactly(size), limits.body_timeout)
        except TimeoutError:
            raise Refusal(408, "the body did not arrive in time") from None
        return head, body

    async def _chunks(self, reader: asyncio.StreamReader) -> bytes:
        body = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise Refusal(400, "malformed chunk size", "unreadable_body") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers, ignored
                return bytes(body)
            if len(body) + size > self.limits.max_body:
                raise Refusal(
                    413, f"the body is over {self.limits.max_body} bytes", "payload_too_large"
                )
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise Refusal(400, "malformed chunk", "unreadable_body")

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, refusal: Refusal
    ) -> None:
        with contextlib.suppress(Exception):
            writer.write(answer(refusal))
            await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)
            if writer.can_write_eof():
                writer.write_eof()
            # What the client still sends is read and dropped for a moment: closing with
            # unread data would reset the connection before it reads the answer.
            loop = asyncio.get_running_loop()
            end, dropped = loop.time() + DRAIN_SECONDS, 0
            while dropped < DRAIN_MAX and loop.time() < end:
                chunk = await asyncio.wait_for(reader.read(256 * 1024), end - loop.time())
                if not chunk:
                    break
                dropped += len(chunk)

    async def _forward(
        self, head: Head, body: bytes, writer: asyncio.StreamWriter, client: str
    ) -> bool:
        """Hand the request to gunicorn and relay its answer; whether the client's
        connection may stay open (the answer said its length)."""
        lines = [b"%s %s HTTP/1.1" % (head.method, head.target)]
        lines += [k + b": " + v for k, v in head.headers if k.lower() not in HOP_BY_HOP]
        lines += [b"Content-Length: %d" % len(body), b"Connection: close"]
        if client:
            lines.append(b"X-Forwarded-For: " + client.encode())
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.upstream, limit=MAX_HEAD)
        except OSError as exc:
            log.error("front: gunicorn is not answering at %s: %s", self.upstream, exc)
            writer.write(answer(Refusal(503, "the web server is starting or stopping; retry")))
            await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)
            return False
        try:
            up_writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            raw = await up_reader.readuntil(b"\r\n\r\n")
            status_line, _, rest = raw.partition(b"\r\n")
            headers = [
                line for line in rest.split(b"\r\n") if line
                and line.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")
            ]  # fmt: skip
            length = next(
                (line.split(b":", 1)[1].strip() for line in headers
                 if line.split(b":", 1)[0].strip().lower() == b"content-length"), None,
            )  # fmt: skip
            keep = length is not None and length.isdigit() and head.keep_alive
            headers.append(b"Connection: keep-alive" if keep else b"Connection: close")
            writer.write(status_line + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n")
            if keep and length is not None:
                if head.method != b"HEAD":
                    writer.write(await up_reader.readexactly(int(length)))
            else:
                while chunk := await up_reader.read(256 * 1024):
                    writer.write(chunk)
                    await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)
            await asyncio.wait_for(writer.drain(), SEND_TIMEOUT)
            return keep
        finally:
            up_writer.close()


def serve_with_gunicorn(host: str, port: int, gunicorn_argv: list[str], limits: Limits) -> int:
    """Run gunicorn (`gunicorn_argv`, without `--bind`) on a private Unix socket and the front
    on `host:port` until SIGTERM / SIGINT (or gunicorn exits); gunicorn's exit status."""
    private = tempfile.mkdtemp(prefix="bridge-web-")  # 0700: only this user reaches the socket
    socket_path = os.path.join(private, "gunicorn.sock")
    gunicorn = subprocess.Popen([*gunicorn_argv, "--bind", f"unix:{socket_path}"])
    try:
        return asyncio.run(_run(host, port, socket_path, gunicorn, limits))
    finally:
        if gunicorn.poll() is None:
            gunicorn.terminate()  # gunicorn's graceful stop
            try:
                gunicorn.wait(35)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait()
        shutil.rmtree(private, ignore_errors=True)


async def _run(
    host: str, port: int, socket_path: str, gunicorn: subprocess.Popen[bytes], limits: Limits
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    while not os.path.exists(socket_path):  # gunicorn's workers are up once it binds
        if gunicorn.poll() is not None or stop.is_set():
            return gunicorn.poll() or 0
        await asyncio.sleep(0.05)
    server = await Front(socket_path, limits).serve(host, port)
    log.info("bridge web: listening on %s:%s, gunicorn behind at %s", host, port, socket_path)
    try:
        while not stop.is_set() and gunicorn.poll() is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        server.close()
    code = gunicorn.poll()
    if code is not None:
        log.error("bridge web: gunicorn exited (%s)", code)
        return code or 1
    return 0
