"""One Redis connection per thread, held for the thread's life: the ingress's fast lane.

The ingress sends ONE command per webhook (`EventStore.record`). Through `redis.Redis`, each
command also takes a connection from the pool and gives it back (a lock each way) and goes
through the retry, observability and response-callback layers: on this path that costs
about as much CPU as the round trip itself (measured: about 63 against 37 µs per call). A
web server thread serves one request at a time, so it can own a connection outright.
redis-py's `Connection` still does the connecting (AUTH, SELECT, TLS, unix sockets,
timeouts), the packing and the reply parsing (error replies raise as usual).

A connection lives as long as its thread: when a thread ends, its connection is garbage
and redis-py closes it. `close()` closes those of threads still alive.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Protocol, cast

import redis


class Connection(Protocol):
    """What this module uses of a redis-py `Connection` (whose methods are untyped)."""

    pid: int

    def connect(self) -> None: ...
    def pack_command(self, *args: Any) -> list[bytes]: ...
    def send_packed_command(self, command: list[bytes], check_health: bool = True) -> None: ...
    def read_response(self) -> Any: ...
    def disconnect(self) -> None: ...


class HeldConnections:
    """Connections with `pool`'s settings, one per thread, kept open between commands."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self._pool = pool
        self._local = threading.local()
        self._opened: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._lock = threading.Lock()

    def execute(self, *args: Any) -> Any:
        """Send one command on this thread's connection and return the reply.

        Use it only for commands that are safe to send twice: a command whose connection
        breaks, on a connection that has answered before (Redis restarted, or dropped it
        while idle), is sent once more on a new connection.

        Raises:
            redis.RedisError: Redis is unreachable, timed out, or answered an error.
        """
        connection = self._connection()
        proven, self._local.proven = self._local.proven, False
        try:
            reply = self._round_trip(connection, args)
        except redis.ConnectionError:
            connection.disconnect()
            if not proven:
                raise
            reply = self._round_trip(connection, args)  # connects anew first
        except redis.ResponseError:
            self._local.proven = True  # refused, but the connection works
            raise
        self._local.proven = True
        return reply

    @staticmethod
    def _round_trip(connection: Connection, args: tuple[Any, ...]) -> Any:
        # connect() first (a no-op once connected): a Sentinel-managed connection asks the
        # sentinels for the master there, which sending alone would skip (it would dial the
        # default localhost:6379).
        connection.connect()
        connection.send_packed_command(connection.pack_command(*args), check_health=False)
        return connection.read_response()

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.pid != os.getpid():  # a new thread, or a fork
            # Made as the pool makes them, but not counted against its `max_connections`:
            # they are never returned to it (one per thread, closed by `close`), so a
            # server with a thread per client (werkzeug) would exhaust the pool's count.
            kwargs = dict(self._pool.connection_kwargs)
            connection = cast(Connection, self._pool.connection_class(**kwargs))
            self._local.connection, self._local.proven = connection, False
            with self._lock:
                self._opened.add(connection)
        return connection

    def close(self) -> None:
        """Close the held connections (a thread that sends again reconnects)."""
        with self._lock:
            opened = list(self._opened)
        for connection in opened:
            connection.disconnect()
