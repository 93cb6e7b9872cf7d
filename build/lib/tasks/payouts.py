"""At worker start, check the payout mapping against the books (in a thread: a slow or
absent Sage must not hold the worker up). Problems are logged with their codes, recorded
as attention items and kept in Redis: payout events wait until the books have them
(`bridge.payouts.mapping`)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import signals

from bridge.payouts.mapping import MappingGate
from bridge.services import ConfigurationError
from connectors.sage_active.errors import SageError
from tasks.app import get_services

log = logging.getLogger(__name__)


def check_at_start() -> None:
    """Run the mapping check once; never raises (a failure is logged, payouts re-check)."""
    try:
        services = get_services()
        gate = MappingGate(services.redis, services.settings, services.attention)
        problems = gate.refresh(services.sage, services.settings)
    except (ConfigurationError, SageError) as exc:
        log.warning("payout mapping not checked at start: %s", exc)
        return
    except Exception:  # a start-up check must not kill the worker
        log.exception("payout mapping check failed")
        return
    if not problems:
        log.info("payout mapping checked: every account and the bank journal are in Sage")


def _on_worker_ready(**_: Any) -> None:
    threading.Thread(target=check_at_start, name="payout-mapping-check", daemon=True).start()


signals.worker_ready.connect(_on_worker_ready, weak=False)
