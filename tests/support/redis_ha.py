"""Debian's redis-server and redis-sentinel for the TLS and Sentinel tests.

`scripts/ensure-redis-tools` (run by `scripts/test`) installs Debian's `redis-tools` and
links its server binary as `.venv/redis-bin/redis-server` and `redis-sentinel`, as Debian's
redis-server and redis-sentinel packages do. A test that needs them skips, saying why, only
where they could not be installed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.embedded_redis import free_port

REDIS_BIN = Path(sys.prefix) / "redis-bin"


def debian_binary(name: str) -> Path:
    path = REDIS_BIN / name
    if not path.exists():
        pytest.skip(f"{path} is missing: scripts/ensure-redis-tools could not install it here")
    return path


@dataclass
class Server:
    """A redis-server or redis-sentinel child process."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start(binary: str, directory: Path, config: str, ready: redis.Redis) -> Server:
    """Start `binary` with the config text `config` in `directory`; wait until `ready`
    answers PING."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / f"{binary}.conf"
    conf.write_text(config)
    process = subprocess.Popen(
        [str(debian_binary(binary)), str(conf)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = int(ready.connection_pool.connection_kwargs["port"])
    deadline = time.monotonic() + 20
    while True:
        try:
            ready.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "server.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                process.kill()
                raise RuntimeError(f"{binary} did not start on {port}: {tail}") from None
            time.sleep(0.05)
    ready.close()
    return Server(process, port, directory)


@contextlib.contextmanager
def servers() -> Iterator[list[Server]]:
    """Every server a test starts (append to the list), stopped at the end."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()


def server_config(port: int, directory: Path, *lines: str) -> str:
    return "\n".join(
        [f"port {port}", "bind 127.0.0.1", f"dir {directory}", "logfile server.log",
         "save \"\"", "appendonly yes", "appendfsync everysec", *lines, ""]
    )  # fmt: skip


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def self_signed(directory: Path) -> Certificates:
    """A CA and a certificate it signed for 127.0.0.1, made for this test."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bridge test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = Certificates(directory / "ca.pem", directory / "redis.pem", directory / "redis.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    paths.key.chmod(0o600)
    return paths


__all__ = [
    "Certificates", "Server", "free_port", "self_signed", "server_config", "servers", "start"
]  # fmt: skip
