"""The configuration reference, `docs/configuration.md`, written from `Settings` itself.

Every field of `Settings` (and of its nested models, e.g. `Settings.sage`, whose variables
are read flat) names its environment variable (`validation_alias`), its default and a
`description`; this module lays them out as one table per group, so the page cannot
drift from the code. `python -m bridge.ops.config_reference` rewrites the page;
`--check` exits 1 when the page on disk is stale (a test does the same).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bridge.settings import Settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"

INTRO = """\
# Configuration

<!-- Written by `python -m bridge.ops.config_reference` from `bridge/settings.py`:
edit the fields' descriptions there, not this page (a test fails when it is stale). -->

Every setting is an environment variable (or a line of a `.env` file in the working
directory; the test suite ignores both). Secrets (marked 🔒) never appear in logs or
reprs; a secret that may be rotated accepts several values, comma-separated: the first is
used, any is accepted. `bridge dev` fills in what it needs (embedded Redis, the sandbox,
generated secrets); a real deployment sets at least `REDIS_URL`, `SAGE_API_URL`, the Sage
credentials, the webhook secrets and `BRIDGE_SECRET_KEY`
(see [getting-started.md](getting-started.md)).
"""

# Groups, in page order: the first prefix an environment variable starts with wins.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Infrastructure", ("REDIS", "SENTRY", "BRIDGE_CONNECTION", "BRIDGE_SECRET", "BRIDGE_LOG")),
    ("Sage Active", ("SAGE_", "BRIDGE_SAGE_")),
    ("Shopify", ("SHOPIFY_", "BRIDGE_SHOPIFY_")),
    ("Stripe", ("STRIPE_", "BRIDGE_STRIPE_")),
    ("Everything else", ("",)),
)


def env_name(name: str, field: FieldInfo) -> str:
    """The environment variable of a field: its alias, else its name in capitals."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return alias
    return name.upper()


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def default_text(field: FieldInfo) -> str:
    """The default as a reader would type it (`—` for none)."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    value = _plain(value)
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    structured = isinstance(value, dict | list)
    text = json.dumps(value, ensure_ascii=False) if structured else str(value)
    return f"`{text}`".replace("|", "\\|")


def _is_secret(field: FieldInfo) -> bool:
    return "SecretStr" in repr(field.annotation)


def _nested(field: FieldInfo) -> type[BaseModel] | None:
    """The model of a field whose values are read flat (`Settings.sage`), else None."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def fields(model: type[BaseModel] = Settings) -> Iterator[tuple[str, FieldInfo]]:
    """Every field with a variable, in declaration order: a nested model's in its place."""
    for name, field in model.model_fields.items():
        inner = _nested(field)
        if inner is None:
            yield name, field
        else:
            yield from fields(inner)


def rows() -> Iterator[tuple[str, str, str, str]]:
    """(group, env var, default, description) of every field, in declaration order."""
    for name, field in fields():
        env = env_name(name, field)
        group = next(g for g, prefixes in GROUPS if env.startswith(prefixes))
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        lock = " 🔒" if _is_secret(field) else ""
        yield group, f"`{env}`{lock}", default_text(field), description


def undescribed() -> list[str]:
    """Environment variables whose field has no description."""
    return [
        env_name(name, field) for name, field in fields() if not (field.description or "").strip()
    ]


def render() -> str:
    """The whole page."""
    by_group: dict[str, list[tuple[str, str, str]]] = {g: [] for g, _ in GROUPS}
    for group, env, default, description in rows():
        by_group[group].append((env, default, description))
    parts = [INTRO]
    for group, items in by_group.items():
        if not items:
            continue
        parts.append(f"\n## {group}\n\n| Variable | Default | Meaning |\n|---|---|---|\n")
        parts.append("".join(f"| {e} | {d} | {m} |\n" for e, d, m in sorted(items)))
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/configuration.md from Settings.")
    parser.add_argument("--check", action="store_true", help="Exit 1 if the page is stale.")
    args = parser.parse_args(argv)
    missing = undescribed()
    if missing:
        print(f"settings without a description: {', '.join(missing)}", file=sys.stderr)
        return 1
    page = render()
    if args.check:
        if PAGE.read_text("utf-8") != page:
            print(f"{PAGE} is stale: run python -m bridge.ops.config_reference", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, "utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
