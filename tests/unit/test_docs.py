"""The docs hold together: every relative link and anchor resolves, the README stays short,
and the configuration page is the one `Settings` writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.ops import config_reference

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(path: Path) -> str:
    """The page without its fenced code blocks (a link inside one is an example)."""
    kept, fenced = [], False
    for line in path.read_text("utf-8").splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found = set()
    for line in _prose(path).splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        if match:
            found.add(slug(match.group(1)))
    return found


def _links() -> list[tuple[Path, str]]:
    return [(page, target) for page in PAGES for target in LINK.findall(_prose(page))]


@pytest.mark.parametrize(
    ("page", "target"), _links(), ids=lambda v: v.name if isinstance(v, Path) else v
)
def test_every_relative_link_resolves(page: Path, target: str) -> None:
    if re.match(r"^[a-z]+:", target):  # http(s), mailto: not fetched (no network here)
        assert target.startswith(("https://", "http://", "mailto:")), target
        return
    path_part, _, anchor = target.partition("#")
    linked = (page.parent / path_part).resolve() if path_part else page
    assert linked.exists(), f"{page.name}: {target} names no file"
    if anchor and linked.suffix == ".md":
        assert anchor in anchors(linked), f"{page.name}: {target}: no such heading"


def test_the_readme_stays_short() -> None:
    lines = (ROOT / "README.md").read_text("utf-8").count("\n")
    assert lines <= 160, f"README.md has {lines} lines: move the detail to docs/"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in readme, f"docs/{page.name} is not linked from README.md"


def test_a_slug_is_githubs() -> None:
    assert slug("Go-live check: `bridge doctor`") == "go-live-check-bridge-doctor"
    assert slug("Payouts and fees: clearing accounts that reconcile to zero") == (
        "payouts-and-fees-clearing-accounts-that-reconcile-to-zero"
    )


def test_every_setting_has_a_description() -> None:
    assert config_reference.undescribed() == []


def test_the_configuration_page_is_written_from_settings() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    assert page == config_reference.render(), (
        "docs/configuration.md is stale: run python -m bridge.ops.config_reference"
    )
