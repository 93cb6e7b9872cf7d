"""The suite runs in an environment of its own, whatever the developer's shell or `.env` says.

`isolate()` runs once, when `tests/conftest.py` is imported (before any test module, and so
before the settings are first built): it removes every variable the bridge reads
(`BRIDGE_*`, `SAGE_*`, `SHOPIFY_*`, `STRIPE_*`, `REDIS_URL`, `SENTRY_*`, `WEB_CONCURRENCY`)
from this process's environment, which the processes the tests start inherit, and sets
`BRIDGE_ENV_FILE` empty so that no process of the suite reads a `.env` file, and
`BRIDGE_DEV_STATE_DIR` to a directory with no running `bridge dev` in it. A test that
wants a variable sets it itself (`monkeypatch.setenv`, or the `env` of a process it starts).
`TEST_REDIS_URL` (the suite's own knob) is kept.
"""

from __future__ import annotations

import os
import tempfile

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
    # Nor may a command of the suite find the developer's running `bridge dev` (.bridge/).
    os.environ["BRIDGE_DEV_STATE_DIR"] = os.path.join(tempfile.gettempdir(), "bridge-no-dev")
    # In case the settings module was imported before this ran (its config is read at import).
    from bridge.settings import Settings

    Settings.model_config["env_file"] = None
    return removed
