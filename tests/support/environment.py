"""The suite runs in an environment of its own, whatever the developer's shell or `.env` says.

`isolate()` runs once, when `tests/conftest.py` is imported (before any test module, and so
before the settings are first built): it removes every variable the bridge reads
(`BRIDGE_*`, `SAGE_*`, `SHOPIFY_*`, `STRIPE_*`, `REDIS_URL`, `SENTRY_*`, `WEB_CONCURRENCY`)
from this process's environment, which the processes the tests start inherit, and sets
`BRIDGE_ENV_FILE` empty so that no process of the suite reads a `.env` file. A test that
wants a variable sets it itself (`monkeypatch.setenv`, or the `env` of a process it starts).
`TEST_REDIS_URL` (the suite's own knob) is kept.
"""

from __future__ import annotations

import os

PREFIXES = ("BRIDGE_", "SAGE_", "SHOPIFY_", "STRIPE_", "SENTRY_")
NAMES = ("REDIS_URL", "WEB_CONCURRENCY")


def bridge_variables(environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """The names in `environ` that the bridge reads."""
    return sorted(n for n in environ if n.startswith(PREFIXES) or n in NAMES)


def isolate() -> list[str]:
    """Clear the bridge's variables and turn `.env` off; returns the names removed."""
    removed = bridge_variables(os.environ)
    for name in removed:
        del os.environ[name]
    os.environ["BRIDGE_ENV_FILE"] = ""
    # In case the settings module was imported before this ran (its config is read at import).
    from bridge.settings import Settings

    Settings.model_config["env_file"] = None
    return removed
