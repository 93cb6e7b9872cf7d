"""Connector and translation errors turned into the dispatcher's kinds, in one place.

Every provider error (Sage, Stripe's REST API, Shopify's GraphQL API) is classified here and
nowhere else: permanent (`PermanentError`: replay once fixed), transient (`TransientError`:
retried with a delay) or waiting for a person (`Waiting`: Sage needs a login).

| raised                                   | becomes                                    |
| ---------------------------------------- | ------------------------------------------ |
| `SageCircuitOpen`                        | `Waiting(gate=sage_circuit)` (not counted)  |
| `SageRateLimited`                        | `TransientError(retry_in=Retry-After, counted=False)` |
| `SageTransientError`                     | `TransientError(retry_in=Retry-After)`     |
| `SageAuthError(needs_login=True)`        | `Waiting(gate=sage_auth)` (not counted)     |
| `SageAuthError`                          | `TransientError` (credentials may be fixed) |
| `OrganizationUnusable`, key `organizationNotReady` | `TransientError` (not counted) |
| `SageBusinessError`                      | `PermanentError` naming Sage's keys         |
| `SageInvalidRequest`                     | `PermanentError`                           |
| `TranslationError`, `ValidationError`    | `PermanentError`                           |
| `LockBusy`, `LockLost`                   | `TransientError` (retried shortly)          |
| `ProviderAuthError` (Stripe / Shopify)   | `PermanentError` naming the key to fix      |
| `ProviderUnavailable` (still 429 / 5xx) | `TransientError(retry_in=30 s)`        |
| `ProviderApiError` (any other refusal)   | `PermanentError` with the provider's message |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from bridge.models import TranslationError
from bridge.ops.gates import GATE_AUTH, GATE_CIRCUIT
from bridge.sync.dispatch import PermanentError, TransientError, Waiting
from bridge.sync.locks import LockBusy, LockLost
from connectors.http import ProviderApiError, ProviderAuthError, ProviderUnavailable
from connectors.sage_active.errors import (
    SageAuthError,
    SageBusinessError,
    SageCircuitOpen,
    SageError,
    SageRateLimited,
    SageTransientError,
)
from connectors.sage_active.organizations import OrganizationUnusable

AUTH_RETRY = 60.0
ORGANIZATION_RETRY = 60.0  # the doctor holds the connection meanwhile and names why
ORGANIZATION_NOT_READY = "global.businessErrors.organizationNotReady"
LOCK_RETRY = 2.0
PROVIDER_RETRY = 30.0


@contextmanager
def classified(what: str, *, auth_hint: str = "") -> Iterator[None]:
    """Run the block; connector and input errors leave it as Transient/PermanentError.

    `auth_hint` follows the message of a provider's refused credentials (which key, which
    scopes it needs).

    Raises:
        Waiting: Sage needs a login or its circuit is open (the event waits).
        TransientError: may succeed later (see the module table).
        PermanentError: will not succeed by trying again.
    """
    try:
        yield
    except SageCircuitOpen as exc:
        raise Waiting(f"{what}: {exc.message}", gate=GATE_CIRCUIT) from exc
    except SageRateLimited as exc:  # Sage throttles us: not the event's fault
        raise TransientError(f"{what}: {exc.message}", exc.retry_after, counted=False) from exc
    except SageTransientError as exc:
        hint = exc.retry_after
        raise TransientError(f"{what}: {exc.message}", retry_in=hint) from exc
    except SageAuthError as exc:
        if exc.needs_login:
            raise Waiting(f"{what}: {exc.message}", gate=GATE_AUTH) from exc
        raise TransientError(f"{what}: {exc.message}", retry_in=AUTH_RETRY) from exc
    except OrganizationUnusable as exc:
        raise TransientError(f"{what}: {exc.message}", ORGANIZATION_RETRY, counted=False) from exc
    except SageBusinessError as exc:
        if ORGANIZATION_NOT_READY in exc.keys:  # its status changed in Sage: it may come back
            reason = f"{what}: the Sage organisation is not READY and onboarded now"
            raise TransientError(reason, ORGANIZATION_RETRY, counted=False) from exc
        keys = ", ".join(k for k in exc.keys if k) or exc.message
        raise PermanentError(f"{what}: Sage refused it ({keys})") from exc
    except SageError as exc:
        raise PermanentError(f"{what}: {exc.message}") from exc
    except TranslationError as exc:
        raise PermanentError(f"{what}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PermanentError(f"{what}: invalid value at {where}: {first['msg']}") from exc
    except (LockBusy, LockLost) as exc:
        raise TransientError(f"{what}: {exc}", retry_in=LOCK_RETRY) from exc
    except ProviderAuthError as exc:
        then = f"; {auth_hint}" if auth_hint else ""
        raise PermanentError(f"{what}: {exc}{then}") from exc
    except ProviderUnavailable as exc:
        raise TransientError(f"{what}: {exc}", retry_in=PROVIDER_RETRY) from exc
    except ProviderApiError as exc:
        raise PermanentError(f"{what}: {exc}") from exc
