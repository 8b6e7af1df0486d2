"""Crawl state that outlives a crawl process: what we know about each URL between runs (url_state),
and what a run has already fetched (fetch_journal, the durable part of the frontier).

url_state is keyed by (spider, url_key): url_key is the page identity (storage.store.page_identity),
with " [rendered]" appended for pages fetched through the browser, since a rendered document is a
different body from the plain one. It holds the validators of the last good (HTTP 200, ok) body, the
snapshot whose WARC record holds that body, and the revisit schedule.

fetch_journal is keyed by (run_id, key): key names one hop of one logical request of a spider in a run
(see spiders/incremental.py journal_key). A row is written in the same transaction as the hop's
snapshot row, after the WARC record is flushed, so a 'done' row always has its snapshot and its body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel


class UrlState(SQLModel, table=True):
    __tablename__ = "url_state"
    spider: str = Field(primary_key=True)
    url_key: str = Field(primary_key=True, description="page identity, ' [rendered]' for browser fetches")
    role: str = Field(default="", description="meta['sgi_role'] of the last request (revisit class)")
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    digest: Optional[str] = Field(default=None, description="sha256 of the last good body")
    last_snapshot_id: Optional[str] = Field(default=None, description="snapshot whose WARC record holds that body")
    last_run_id: Optional[int] = Field(default=None, description="run that last updated this row")
    last_fetched_at: Optional[datetime] = None
    last_changed_at: Optional[datetime] = None
    revisit_interval_s: int = 86400
    next_due_at: Optional[datetime] = Field(default=None, index=True)
    change_count: int = 0
    unchanged_count: int = 0


class FetchJournal(SQLModel, table=True):
    __tablename__ = "fetch_journal"
    run_id: int = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=60, description="logical request key ':' hop number")
    spider: str = ""
    url: str = ""
    state: str = Field(description="done (a response is archived) / failed (no response; refetched on resume)")
    snapshot_id: Optional[str] = None
    recorded_at: datetime
