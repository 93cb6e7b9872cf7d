"""Reference data cached in Redis with an expiry, so a warm order costs no look-ups.

Keys: `<prefix>:cache:<kind>` for whole lists (journals, payment methods, taxes) and
`<prefix>:cache:<kind>:<key>` for items (products by code, customers by code or e-mail).
Values are the models' JSON; an unreadable value counts as a miss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import redis
from pydantic import BaseModel, TypeAdapter, ValidationError

M = TypeVar("M", bound=BaseModel)


class RefCache:
    """Get and put models under `<prefix>:cache:...` with a time to live."""

    def __init__(self, redis_client: redis.Redis, prefix: str, ttl: int) -> None:
        self._redis = redis_client
        self._prefix = f"{prefix}:cache"
        self.ttl = ttl

    def _key(self, kind: str, key: str | None = None) -> str:
        return f"{self._prefix}:{kind}" + (f":{key}" if key is not None else "")

    def get(self, kind: str, key: str, model: type[M]) -> M | None:
        return self.get_many(kind, [key], model).get(key)

    def get_many(self, kind: str, keys: Sequence[str], model: type[M]) -> dict[str, M]:
        """The cached items among `keys` (misses are left out)."""
        if not keys:
            return {}
        found: dict[str, M] = {}
        for key, raw in zip(
            keys, self._redis.mget([self._key(kind, k) for k in keys]), strict=True
        ):
            if raw is None:
                continue
            try:
                found[key] = model.model_validate_json(raw)
            except ValidationError:
                continue
        return found

    def put(self, kind: str, key: str, item: BaseModel) -> None:
        self._redis.set(self._key(kind, key), item.model_dump_json(), ex=self.ttl)

    def put_many(self, kind: str, items: Iterable[tuple[str, BaseModel]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for key, item in items:
            pipe.set(self._key(kind, key), item.model_dump_json(), ex=self.ttl)
        pipe.execute()

    def get_list(self, kind: str, model: type[M]) -> list[M] | None:
        raw = self._redis.get(self._key(kind))
        if raw is None:
            return None
        try:
            return TypeAdapter(list[model]).validate_json(raw)  # type: ignore[valid-type]
        except ValidationError:
            return None

    def put_list(self, kind: str, items: Sequence[BaseModel]) -> None:
        payload = b"[" + b",".join(i.model_dump_json().encode() for i in items) + b"]"
        self._redis.set(self._key(kind), payload, ex=self.ttl)

    def clear(self) -> int:
        """Drop every cached value; return how many keys went."""
        keys = list(self._redis.scan_iter(match=f"{self._prefix}:*", count=500))
        return int(self._redis.delete(*keys)) if keys else 0
