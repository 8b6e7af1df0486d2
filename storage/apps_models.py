"""Tables of the apps harvest: one snapshot of one app in one store per crawl date.

Natural key (store, app_id, crawl_date): a nightly re-crawl adds one row per app and store per day, and
rerunning the same day upserts that row instead of adding another. An app that disappeared from a store
gets a row with status 'absent' for the day; its earlier rows are kept (history is never deleted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class AppSnapshot(SQLModel, table=True):
    __tablename__ = "app_snapshot"
    __table_args__ = (UniqueConstraint("store", "app_id", "crawl_date", name="uq_app_snapshot"),
                      Index("ix_app_snapshot_city_date", "city_code", "crawl_date"))
    id: Optional[int] = Field(default=None, primary_key=True)
    store: str = Field(description="apple | an Android store key (e.g. yyb, huawei)")
    app_id: str = Field(description="Apple trackId, or the Android package name")
    crawl_date: str = Field(description="YYYY-MM-DD, the crawl date (as_of) of the run")
    city_code: str = Field(index=True)
    app_name: str = Field(default="", description="the app's name in the source file (registry)")
    status: str = Field(description="ok (listed) / absent (store answered without it) / blocked / error")
    name: Optional[str] = Field(default=None, description="name shown by the store (trackName, page title)")
    developer: Optional[str] = Field(default=None, description="sellerName / 开发者")
    rating: Optional[float] = Field(default=None, description="average rating, 0-5 scale; None without ratings")
    rating_count: Optional[int] = None
    version: Optional[str] = None
    release_date: Optional[str] = Field(default=None, description="release date of the current version (Beijing)")
    downloads: Optional[int] = Field(default=None, description="store-reported downloads, parsed")
    downloads_note: Optional[str] = Field(default=None, description="exact / lower bound / rounded to 10^n")
    size_bytes: Optional[int] = None
    url: Optional[str] = Field(default=None, description="store page (trackViewUrl or the Android page)")
    run_id: int = Field(index=True, description="crawl_run.id of the run that wrote the row last")
    snapshot_id: Optional[str] = Field(default=None, description="snapshot.id of the store answer read")
    recorded_at: datetime
