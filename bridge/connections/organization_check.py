"""`bridge connections add`: is the Sage organisation given usable (Sage 2026-07)?

Before a connection is stored, its organisation is looked up in Sage with the credentials
it will use: one that is not READY and onboarded (Sage lists it with the empty GUID), or
not visible at all, is refused with the organisations Sage shows. When Sage cannot be asked
now (no API URL, no login yet, Sage down), the connection is added and the doctor checks
the organisation at the worker's start and every minute (a warning says so).
"""

from __future__ import annotations

from pydantic import SecretStr

from bridge.services import ConfigurationError, build_services
from bridge.settings import Settings
from connectors.sage_active.errors import SageError
from connectors.sage_active.organizations import OrganizationUnusable, choose


def check_organization(
    base: Settings, name: str, organization: str, refresh_token: str | None
) -> tuple[bool, str]:
    """(usable or not checkable, a warning for the person or '') for `organization`; with
    no Sage configured (`SAGE_API_URL` unset) there is nothing to check.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    update: dict[str, object] = {"connection": name, "sage_organization_id": organization}
    if refresh_token:
        update["sage_refresh_token"] = SecretStr(refresh_token)
    services = build_services(base.model_copy(update=update))
    try:
        choose(services.sage.organizations(), organization)
    except OrganizationUnusable as exc:
        return False, f"Sage organisation refused: {exc}"
    except ConfigurationError:
        return True, ""
    except SageError as exc:
        return True, (
            f"warning: the organisation could not be checked in Sage now ({exc}); "
            "`bridge doctor` checks it once the connection can reach Sage"
        )
    finally:
        services.close()
    return True, ""
