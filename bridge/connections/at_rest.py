"""Secrets the bridge writes to Redis itself, encrypted at rest with `BRIDGE_SECRET_KEY`.

Sage's refresh and access tokens (`bridge:<conn>:sage:refresh_token`, `:sage:token`, by
`connectors.sage_active.auth.TokenManager`) and the outbound signing secrets
(`bridge:<conn>:outbound:secrets`, by `bridge.store.outbound.OutboundStore`) are stored as
`enc:v1:<Fernet token>` (the same keys and rotation as the connection secrets:
`bridge.connections.secrets`). A value without the prefix was written in clear before this
(or while no key is set): it is read as is, and `reseal` (run when a worker starts, and by
`bridge connections rotate-key`) encrypts it in place; an encrypted one is re-encrypted with
the first key. Without `BRIDGE_SECRET_KEY` values stay in clear and `bridge doctor` warns.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis
from pydantic import SecretStr

from bridge.connections.secrets import SecretBox, SecretKeyError
from connectors.sealing import Plain, Sealer

log = logging.getLogger(__name__)

PREFIX = "enc:v1:"

# Replace a string only if it still holds what was read (its expiry kept).
_SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0
"""
_HSWAP = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


class AtRest:
    """Seals with the first `BRIDGE_SECRET_KEY` value, opens with any of them."""

    def __init__(self, box: SecretBox) -> None:
        self._box = box

    def seal(self, value: str) -> str:
        return PREFIX + self._box.encrypt(value)

    def open(self, stored: str) -> str:
        """Raises: SecretKeyError: no configured key opens it."""
        if not stored.startswith(PREFIX):
            return stored  # written in clear before sealing: `reseal` encrypts it
        return self._box.decrypt(stored[len(PREFIX) :])

    def reseal(self, stored: str) -> str:
        """`stored` encrypted with the first key (a clear value sealed, an old one rotated).

        Raises:
            SecretKeyError: no configured key opens it.
        """
        if not stored.startswith(PREFIX):
            return self.seal(stored)
        return PREFIX + self._box.rotate(stored[len(PREFIX) :])


def sealer(keys: list[SecretStr]) -> Sealer:
    """`AtRest` with `keys` (`Settings.secret_key`), or `Plain` when none is set.

    Raises:
        SecretKeyError: a value of `BRIDGE_SECRET_KEY` is not a Fernet key.
    """
    return AtRest(SecretBox(keys)) if keys else Plain()


def sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def reseal(client: redis.Redis, keys: list[SecretStr], connections: Iterable[str]) -> int:
    """Encrypt (or re-encrypt with the first key) every token and outbound signing secret
    of `connections`; how many values changed. Nothing to do without a key.

    Raises:
        SecretKeyError: a stored value no configured key opens.
        redis.RedisError: Redis is unreachable.
    """
    if not keys:
        return 0
    box = AtRest(SecretBox(keys))
    swap, hswap = client.register_script(_SWAP), client.register_script(_HSWAP)
    changed = 0
    for name in connections:
        for key in (f"bridge:{name}:sage:refresh_token", f"bridge:{name}:sage:token"):
            raw = client.get(key)
            if raw is None:
                continue
            current = raw.decode() if isinstance(raw, bytes) else str(raw)
            changed += int(swap(keys=[key], args=[current, box.reseal(current)]))
        secrets_key = f"bridge:{name}:outbound:secrets"
        for field, raw in client.hgetall(secrets_key).items():
            current = raw.decode() if isinstance(raw, bytes) else str(raw)
            field_name = field.decode() if isinstance(field, bytes) else str(field)
            changed += int(
                hswap(keys=[secrets_key], args=[field_name, current, box.reseal(current)])
            )
    if changed:
        log.info("secrets at rest: %d value(s) encrypted with the first BRIDGE_SECRET_KEY", changed)
    return changed


__all__ = ["PREFIX", "AtRest", "SecretKeyError", "reseal", "sealed", "sealer"]
