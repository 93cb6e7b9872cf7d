"""`python -m bridge.dev.redis_child DATA_DIR [PORT]`: the embedded Redis of `bridge dev`.

Run as a process of its own (in its own process group) so that Ctrl-C in the terminal, which
reaches the whole foreground group, does not stop Redis before the web app and the worker
have finished with it: the supervisor stops Redis last. Prints `redis ready on <url>` once
the server answers, then waits for SIGTERM / SIGINT and stops the server. If redis-server
dies on its own, this process exits 1 and the supervisor starts it again with the PORT it
had, on the same data directory: clients reconnect to the same URL and find their data.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from bridge.embedded_redis import EmbeddedRedis, EmbeddedRedisError

READY = "redis ready on "


def main(argv: list[str]) -> int:
    """Start Redis in `argv[0]` (on port `argv[1]` if given, else a free one), wait for a stop
    signal, stop it. The exit code."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    try:
        # Absolute: redis-server enters its --dir before opening its log file there.
        port = int(argv[1]) if len(argv) > 1 else None
        data_dir = Path(argv[0]).resolve()
        server = EmbeddedRedis(data_dir=data_dir, port=port, persistent=True).start()
    except EmbeddedRedisError as exc:
        print(f"embedded Redis did not start: {exc}", flush=True)
        return 1
    try:
        print(f"{READY}{server.url}", flush=True)
        while not stop.wait(0.5):
            if not server.running:
                print("redis-server exited on its own", flush=True)
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the supervisor
    sys.exit(main(sys.argv[1:]))
