"""Walk every page of a Relay-style connection (`first`/`after`, `pageInfo`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connectors.sage_active.client import SageClient
from connectors.sage_active.errors import SageInvalidRequest
from connectors.sage_active.models import Page

MAX_PAGE_SIZE = 500  # Sage refuses more
M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: Any) -> M:
    """Validate one object from Sage.

    Raises:
        SageInvalidRequest: the object does not have the expected shape (permanent).
    """
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SageInvalidRequest(
            f"unexpected {model.__name__} from Sage: {exc.errors()[0]['msg']} "
            f"at {'.'.join(map(str, exc.errors()[0]['loc']))}"
        ) from None


def connection(data: dict[str, Any], field: str) -> Page:
    """The page under `data[field]` (nodes, pageInfo, totalCount).

    Raises:
        SageInvalidRequest: the answer has no such connection.
    """
    raw = data.get(field)
    if not isinstance(raw, dict) or not isinstance(raw.get("nodes"), list):
        raise SageInvalidRequest(f"Sage answered without {field}.nodes")
    info_raw = raw.get("pageInfo")
    info: dict[str, Any] = info_raw if isinstance(info_raw, dict) else {}
    return parse(
        Page,
        {
            "nodes": raw["nodes"],
            "endCursor": info.get("endCursor"),
            "hasNextPage": bool(info.get("hasNextPage")),
            "totalCount": raw.get("totalCount"),
        },
    )


def paginate(
    client: SageClient,
    document: str,
    variables: dict[str, Any],
    field: str,
    *,
    page_size: int = MAX_PAGE_SIZE,
    name: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every node of the connection `field`, one request per page.

    The document must declare `$first: Int` and `$after: String`.

    Raises:
        ValueError: `page_size` outside 1..500.
        SageInvalidRequest: a page without a cursor, or a cursor that does not advance.
        SageError: as `SageClient.execute`.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}")
    after: str | None = None
    seen: set[str] = set()
    while True:
        data = client.execute(
            document, {**variables, "first": page_size, "after": after}, name=name
        )
        page = connection(data, field)
        yield from page.nodes
        if not page.has_next_page:
            return
        if not page.end_cursor or page.end_cursor in seen:
            raise SageInvalidRequest(f"{field}: pagination cursor does not advance")
        seen.add(page.end_cursor)
        after = page.end_cursor
