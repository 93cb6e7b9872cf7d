"""Business errors: a rule said no. The GraphQL layer turns them into `errors[]` entries.

Each carries a key; the message a client sees is `global.businessErrors.<key>` (as Sage
Active writes them) and `extensions.code` is the bare key, with details such as the field.
"""

from __future__ import annotations

from typing import Any


class BusinessError(Exception):
    """A Sage Active business rule refused the operation; nothing was changed."""

    def __init__(self, key: str, **details: Any) -> None:
        super().__init__(f"global.businessErrors.{key}")
        self.key = key
        self.details = details

    @property
    def message(self) -> str:
        return f"global.businessErrors.{self.key}"


def check_length(field: str, value: str | None, limit: int) -> None:
    """Refuse a string longer than Sage allows for `field` (Sage refuses, never truncates).

    Raises:
        BusinessError: `maxLengthExceeded` with the field and its limit.
    """
    if value is not None and len(value) > limit:
        raise BusinessError("maxLengthExceeded", field=field, maxLength=limit)


def require(field: str, value: object) -> None:
    """Refuse a missing or blank mandatory value.

    Raises:
        BusinessError: `requiredField` naming the field.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise BusinessError("requiredField", field=field)
