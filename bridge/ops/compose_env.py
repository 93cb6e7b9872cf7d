"""The environment block of `docker-compose.yml`, written from `Settings` itself.

Compose passes a variable listed without a value through from the shell or the `.env`
next to the compose file, and leaves it unset otherwise. So the `x-bridge` environment
lists every variable the bridge reads (each field's `validation_alias`), between the marker
comments; a few get a compose default (`FIXED`). `python -m bridge.ops.compose_env`
rewrites the block; `--check` exits 1 when it is stale (tests/unit/deploy does the same).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridge.ops.config_reference import env_name, fields

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
BEGIN = "    # -- every setting, passed through (python -m bridge.ops.compose_env) --"
END = "    # -- end of settings --"
# Variables given a value by compose: its own Redis, and production unless told otherwise.
FIXED = {
    "REDIS_URL": "${REDIS_URL:-redis://redis:6379/0}",
    "BRIDGE_ENV": "${BRIDGE_ENV:-production}",
}


def variables() -> list[str]:
    """Every environment variable `Settings` reads, in declaration order."""
    return [env_name(name, field) for name, field in fields()]  # `Settings.sage`'s too


def block() -> str:
    """The lines between (and with) the markers."""
    lines = [BEGIN]
    for name in variables():
        lines.append(f"    - {name}={FIXED[name]}" if name in FIXED else f"    - {name}")
    lines.append(END)
    return "\n".join(lines)


def rendered(text: str) -> str:
    """`text` (the compose file) with its block rewritten.

    Raises:
        ValueError: the markers are missing.
    """
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{COMPOSE.name} lacks the markers {BEGIN!r} .. {END!r}")
    return text[:start] + block() + text[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docker-compose.yml's settings block.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = COMPOSE.read_text(encoding="utf-8")
    fresh = rendered(text)
    if args.check:
        if fresh != text:
            print(f"{COMPOSE} is stale: run python -m bridge.ops.compose_env", file=sys.stderr)
            return 1
        return 0
    COMPOSE.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
