"""Items spiders yield. Observations only: snapshots are recorded by the evidence middleware."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ObservationItem:
    city_code: str
    indicator: str
    period: str
    status: str                      # ok / absent / blocked / error / not_applicable
    value: Any = None
    rule: str = ""
    rule_version: str = ""
    snapshot_id: str | None = None   # the main response the value was read from
    evidence_url: str | None = None
    evidence_detail: str | None = None
    evidence_snapshots: list = field(default_factory=list)
