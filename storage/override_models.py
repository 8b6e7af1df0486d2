"""Auditor overrides: a person's correction of a machine value, kept beside it, never over it.

An override names (city, indicator) and optionally a period ('' = every period of that city's
indicator until removed). Removing an override stamps removed_at/removed_by; the row stays, so the
audit trail of who corrected what, when and why is never lost. At most one active override per
(city, indicator, period): adding a new one retires the previous.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class Override(SQLModel, table=True):
    __tablename__ = "override"
    __table_args__ = (Index("ix_override_city_ind", "city_code", "indicator"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_code: str = Field(description="GB/T 2260 code of the city")
    indicator: str = Field(description="indicator code in the registry")
    period: str = Field(default="", description="period it applies to; '' = every period")
    value_num: Optional[float] = None
    value_text: Optional[str] = None
    status: str = Field(default="ok", description="ok / absent / not_applicable: what the auditor established")
    reason: str = Field(description="why the machine value is wrong (required)")
    created_by: str = Field(description="the auditor's name")
    created_at: datetime
    evidence_url: Optional[str] = Field(default=None, description="where the auditor saw it, if anywhere")
    machine_observation_id: Optional[int] = Field(default=None, description="observation.id it corrected, when made")
    removed_at: Optional[datetime] = None
    removed_by: Optional[str] = None
    removed_reason: Optional[str] = None
