"""Tables of the opendata harvest: every dataset of every harvested open-data catalogue, with history.

``dataset``  natural key (platform, dataset_id); ``platform`` is the source's ``options.platform`` or the
             host of its start URL. A row is upserted on every run that reads it (``last_seen_run_id``),
             keeps the run that first saw it (``first_seen_run_id``), and is marked ``removed`` (never
             deleted) when a *complete* harvest of its platform no longer lists it. A run whose harvest
             failed or stopped early (platform down, error body, max_pages) marks nothing removed.
             A dataset that comes back is un-marked.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Dataset(SQLModel, table=True):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("platform", "dataset_id", name="uq_dataset"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_code: str = Field(foreign_key="city.code", index=True)
    platform: str = Field(index=True, description="options.platform or the start URL's host")
    adapter: Optional[str] = Field(default=None, description="ckan / jsonapi / html")
    dataset_id: str = Field(description="the platform's own id of the dataset")
    title: Optional[str] = None
    publisher: Optional[str] = Field(default=None, description="publishing department")
    topic: Optional[str] = Field(default=None, description="the platform's own topic / sector label")
    sector: Optional[str] = Field(default=None, description="fixed sector (collectors/lexicons/opendata_rules.yaml)")
    formats: list = Field(default_factory=list, sa_column=Column(JSON), description="e.g. ['CSV', 'PDF']")
    api: Optional[bool] = Field(default=None, description="offers an API")
    machine_readable: Optional[bool] = None
    record_count: Optional[int] = None
    file_size: Optional[str] = None
    created: Optional[str] = Field(default=None, description="YYYY-MM-DD")
    updated: Optional[str] = Field(default=None, description="YYYY-MM-DD")
    frequency: Optional[str] = Field(default=None, description="update frequency the platform claims")
    views: Optional[int] = None
    downloads: Optional[int] = None
    licence: Optional[str] = None
    url: Optional[str] = None
    first_seen_run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id")
    last_seen_run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id", index=True)
    removed: bool = Field(default=False, description="no longer listed by a complete harvest of its platform")
    removed_run_id: Optional[int] = Field(default=None, foreign_key="crawl_run.id")
    snapshot_id: Optional[str] = Field(default=None, description="the answer its values were last read from")
    checked_on: Optional[str] = Field(default=None, description="crawl date of the last reading")


UPDATE_ON_SEEN = ("city_code", "adapter", "title", "publisher", "topic", "sector", "formats", "api", "machine_readable",
                  "record_count", "file_size", "created", "updated", "frequency", "views", "downloads", "licence",
                  "url", "last_seen_run_id", "removed", "removed_run_id", "snapshot_id", "checked_on")


def save_datasets(url: str | None, run_id: int | None, crawl_date, city_code: str, platform: str, adapter: str,
                  datasets: list, snapshot_of: dict, complete: bool) -> dict:
    """Upsert the datasets read in this run; when ``complete``, mark the platform's unseen ones removed.

    ``datasets``: collectors.opendata.Dataset (deduplicated); ``snapshot_of``: dataset_id -> snapshot id."""
    from sqlalchemy import and_, update

    from storage import db

    rows = [dict(city_code=city_code, platform=platform, adapter=adapter, dataset_id=d.dataset_id, title=d.title,
                 publisher=d.publisher, topic=d.topic, sector=d.sector, formats=list(d.formats), api=bool(d.api),
                 machine_readable=d.machine_readable, record_count=d.record_count, file_size=d.file_size,
                 created=d.created.isoformat() if d.created else None,
                 updated=d.updated.isoformat() if d.updated else None, frequency=d.frequency, views=d.views,
                 downloads=d.downloads, licence=d.licence, url=d.url, first_seen_run_id=run_id,
                 last_seen_run_id=run_id, removed=False, removed_run_id=None,
                 snapshot_id=snapshot_of.get(d.dataset_id), checked_on=crawl_date.isoformat())
            for d in datasets]
    removed = 0
    with db.connect(url) as conn:
        db.upsert(conn, Dataset, rows, ["platform", "dataset_id"], update=list(UPDATE_ON_SEEN))
        if complete and run_id is not None:
            table = Dataset.__table__
            result = conn.execute(update(table).where(and_(
                table.c.platform == platform, table.c.removed.is_(False),
                (table.c.last_seen_run_id != run_id) | table.c.last_seen_run_id.is_(None))).values(
                removed=True, removed_run_id=run_id))
            removed = result.rowcount or 0
    return {"saved": len(rows), "removed": removed}
