"""`REDIS_URL`, the one place that decides how every part of the bridge reaches Redis.

The ledger, the locks and the stores (`redis_client`) and Celery's broker and result
backend (`celery_options`) all read `REDIS_URL` through here, so one setting moves them all:

- `redis://[:password@]host:port/db`: one server.
- `rediss://[:password@]host:port/db[?ssl_ca_certs=/path/ca.pem]`: the same over TLS. The
  server's certificate is verified (`ssl_cert_reqs=required` unless the URL says otherwise;
  `ssl_ca_certs` names the CA that signed it when it is not a public one).
- `redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`: Redis Sentinel.
  The sentinels are asked which server is the master of `service`; after a failover every
  client (redis-py's sentinel pools, kombu's sentinel transport) finds the new master by
  itself. `?sentinel_password=...` when the sentinels ask for one (the `password` of the
  URL is the master's). `redis+sentinels://` (with an s) speaks TLS to the master and
  replicas, with the same `ssl_*` options as `rediss://`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEMES = ("redis+sentinel", "redis+sentinels")
SSL_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


class RedisUrlError(ValueError):
    """A `REDIS_URL` this module cannot read."""


@dataclass(frozen=True)
class SentinelTarget:
    hosts: list[tuple[str, int]]
    service: str
    db: int = 0
    password: str | None = None
    sentinel_password: str | None = None
    ssl: bool = False
    ssl_options: dict[str, str] = field(default_factory=dict)


def sentinel_target(url: str) -> SentinelTarget | None:
    """The sentinels and service a `redis+sentinel://` URL names; None for another scheme.

    Raises:
        RedisUrlError: a sentinel URL without hosts or service, or with a bad port or db.
    """
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        return None
    netloc = parts.netloc.rpartition("@")[2]
    password = unquote(parts.password) if parts.password else None
    hosts: list[tuple[str, int]] = []
    for item in netloc.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise RedisUrlError(f"REDIS_URL: sentinel {item!r} is not host:port")
        hosts.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise RedisUrlError("REDIS_URL: a sentinel URL names its service: .../<service>[/db]")
    if len(path) > 1 and not path[1].isdigit():
        raise RedisUrlError(f"REDIS_URL: database {path[1]!r} is not a number")
    query = dict(parse_qsl(parts.query))
    return SentinelTarget(
        hosts=hosts,
        service=path[0],
        db=int(path[1]) if len(path) > 1 else 0,
        password=password,
        sentinel_password=query.get("sentinel_password"),
        ssl=parts.scheme.endswith("s"),
        ssl_options={k: v for k, v in query.items() if k in SSL_OPTIONS},
    )


def _tls_url(url: str) -> str:
    """A `rediss://` URL that verifies the server's certificate unless it says otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "rediss":
        return url
    query = dict(parse_qsl(parts.query))
    query.setdefault("ssl_cert_reqs", "required")
    return parts._replace(query=urlencode(query)).geturl()


def _sentinel_ssl(target: SentinelTarget) -> dict[str, Any]:
    if not target.ssl:
        return {}
    return {"ssl": True, "ssl_cert_reqs": "required", **target.ssl_options}


def redis_client(url: str, **options: Any) -> redis.Redis:
    """A client of the Redis `url` names (see the module docstring); `options` are
    redis-py's (timeouts, decode_responses...).

    Raises:
        RedisUrlError: a sentinel URL that cannot be read.
    """
    target = sentinel_target(url)
    if target is None:
        return redis.Redis.from_url(_tls_url(url), **options)
    sentinel_options = {
        k: v for k, v in options.items() if k in ("socket_connect_timeout", "socket_timeout")
    }
    if target.sentinel_password:
        sentinel_options["password"] = target.sentinel_password
    sentinel = Sentinel(target.hosts, sentinel_kwargs=sentinel_options, **options)
    master: redis.Redis = sentinel.master_for(
        target.service, db=target.db, password=target.password, **_sentinel_ssl(target)
    )
    return master


def celery_options(url: str) -> dict[str, Any]:
    """Celery settings (broker, result backend and their options) for the same Redis.

    Raises:
        RedisUrlError: a sentinel URL that cannot be read.
    """
    target = sentinel_target(url)
    if target is None:
        tls = _tls_url(url)
        return {"broker_url": tls, "result_backend": tls}
    auth = f":{quote(target.password, safe='')}@" if target.password else ""
    broker = ";".join(
        f"sentinel://{auth}{f'[{host}]' if ':' in host else host}:{port}/{target.db}"
        for host, port in target.hosts
    )
    transport: dict[str, Any] = {"master_name": target.service}
    if target.sentinel_password:
        transport["sentinel_kwargs"] = {"password": target.sentinel_password}
    options: dict[str, Any] = {
        "broker_url": broker,
        "result_backend": broker,
        "broker_transport_options": dict(transport),
        "result_backend_transport_options": dict(transport),
    }
    if target.ssl:
        use_ssl: dict[str, Any] = {k: v for k, v in target.ssl_options.items()}
        reqs = str(use_ssl.get("ssl_cert_reqs", "required")).lower().removeprefix("cert_")
        use_ssl["ssl_cert_reqs"] = CERT_REQS.get(reqs, ssl.CERT_REQUIRED)
        options["broker_use_ssl"] = use_ssl
        options["redis_backend_use_ssl"] = use_ssl
    return options
