"""Pure: one row of the mapping table (a legacy field and what it becomes), and how rows cite
the Adobe pages behind them (markdown links, table cells)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.model import Kind

DOCS = (
    "https://github.com/AdobeDocs/journey-optimizer.en/blob/main/help/using/experience-decisioning/"
)
"""Where the pages the table cites live (AdobeDocs/journey-optimizer.en)."""
INFERRED = "inferred"


@dataclass(frozen=True, slots=True)
class Row:
    """One legacy field: the target field it becomes (with how), or None and why not.

    A row covers its path and everything under it (`representations` covers every field of
    every representation). Paths are dotted; `[]` steps into the items of a list.
    """

    kind: Kind
    legacy_path: str
    target_kind: Kind | None
    target_path: str | None
    reason: str
    source: str


ENTITY_MAPPING = "decisioning-migration-api.md: Entity mapping reference"
POLICY = "create-decision-policy.md"

LABELS = (
    "usage labels are not a field of the Decisioning create bodies (an item's lookup shows "
    "itemLabels, with no documented meaning): apply them in the UI"
)
NO_AUDIENCES = (
    "the API reference documents no audience field for decision items or selection strategies: "
    "migrate stops at an object with audiences (write them as an eligibility rule with "
    "inSegment(), or use Adobe's Migration API, which maps audiences)"
)


def _page(source: str) -> tuple[str, str]:
    page, _, section = source.partition(": ")
    return page, section


def source_link(source: str) -> str:
    """A row's source as markdown: a reference link to the Adobe page (see `link_definitions`),
    its section after it."""
    if source == INFERRED:
        return "*inferred*"
    page, section = _page(source)
    return f"[{page}]" + (f" ({section})" if section else "")


def link_definitions(sources: Iterable[str]) -> list[str]:
    """The markdown link definitions of the pages sources name, sorted."""
    pages = sorted({_page(source)[0] for source in sources if source != INFERRED})
    return [f"[{page}]: {DOCS}{page}" for page in pages]


def markdown_cell(text: str) -> str:
    """Text for a markdown table cell: no column break, no HTML tag (`<name>` stays visible)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
