"""What a rule returns: a value with its evidence and the rule that read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Observation statuses. Only 'ok' and 'absent' can come from reading a page; 'blocked' and 'error'
# come from the fetch, 'not_applicable' from the data (e.g. no population to divide by).
OK, ABSENT, BLOCKED, ERROR, NOT_APPLICABLE = "ok", "absent", "blocked", "error", "not_applicable"
STATUSES = (OK, ABSENT, BLOCKED, ERROR, NOT_APPLICABLE)


@dataclass(frozen=True)
class Finding:
    """One indicator value read by one rule.

    value     bool / number / text; None only when status is not 'ok'
    status    'ok' (found / measured) or 'absent' (looked for and not there); see STATUSES
    evidence  the element, link or text that proves the value (or why it is absent), short
    rule      rule id, e.g. 'portal.site_search'
    rule_version  bumped whenever the rule's logic or lexicon changes meaning
    url       the page the evidence is on, when it is not the page the rule was given
    """

    code: str
    value: Any
    status: str
    evidence: str | None
    rule: str
    rule_version: str
    url: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"bad status {self.status!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def snippet(element: Any, limit: int = 300) -> str:
    """A short, single-line rendering of a BeautifulSoup element (or any object) for evidence."""
    text = str(element)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
