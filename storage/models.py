"""The data model (SQLModel). See docs/ARCHITECTURE.md for how the tables relate.

Natural keys make every write an upsert, so a rerun or a resumed crawl never duplicates rows:
  city(code) · source(city_code, kind, start_url) · crawl_run(run_key) · snapshot(id: digest of run,
  url, attempt) · observation(city_code, indicator, period, run_id) · score(run_id, framework, city, node, period).
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class City(SQLModel, table=True):
    __tablename__ = "city"
    code: str = Field(primary_key=True, max_length=6, description="GB/T 2260 administrative code")
    name: str = Field(index=True, description="full name, e.g. 深圳市")
    short_name: str = Field(index=True, description="name without 市/地区/盟 suffix, e.g. 深圳")
    province: str
    province_code: str = Field(max_length=6)
    region: str = Field(description="东部 / 中部 / 西部 / 东北 (National Bureau of Statistics split)")
    level: str = Field(description="直辖市 / 副省级 / 省会 / 地级")
    admin_type: str = Field(description="直辖市 / 地级市 / 地区 / 自治州 / 盟")
    population: Optional[int] = Field(default=None, description="resident population, persons, where known")
    population_year: Optional[int] = None


class Source(SQLModel, table=True):
    __tablename__ = "source"
    __table_args__ = (UniqueConstraint("city_code", "kind", "start_url"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    city_code: str = Field(foreign_key="city.code", index=True)
    kind: str = Field(description="portal | opendata | mailbox | policy | app")
    name: str
    start_url: str
    allowed_domains: list = Field(default_factory=list, sa_column=Column(JSON))
    options: dict = Field(default_factory=dict, sa_column=Column(JSON))
    verified: bool = False
    origin: str = Field(default="", description="file:line the entry was loaded from")


class CrawlRun(SQLModel, table=True):
    __tablename__ = "crawl_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True, description="natural key; rerunning the same key resumes/upserts")
    started_at: datetime
    finished_at: Optional[datetime] = None
    who: str = Field(default="", description="user@host that ran it")
    command: str = ""
    spiders: list = Field(default_factory=list, sa_column=Column(JSON))
    cities: list = Field(default_factory=list, sa_column=Column(JSON))
    as_of: str = Field(default="", description="crawl date used for date-relative indicators, YYYY-MM-DD")
    sample_web: bool = False
    requests: int = 0
    responses_by_status: dict = Field(default_factory=dict, sa_column=Column(JSON))
    items: int = 0
    errors: int = 0
    state: str = Field(default="running", description="running / finished / failed")
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON))


class Snapshot(SQLModel, table=True):
    """Evidence: one fetched response (or one failed fetch), with where its WARC record lies."""

    __tablename__ = "snapshot"
    __table_args__ = (Index("ix_snapshot_run_city", "run_id", "city_code"),)
    id: str = Field(primary_key=True, max_length=40, description="sha1 of (run, requested url, attempt time)")
    run_id: int = Field(foreign_key="crawl_run.id", index=True)
    city_code: Optional[str] = Field(default=None, index=True)
    spider: str = ""
    requested_url: str
    final_url: str
    http_status: Optional[int] = None
    fetch_status: str = Field(description="ok / blocked / error / not_found / not_modified / robots_denied")
    fetched_at: datetime
    elapsed_ms: Optional[float] = None
    digest: Optional[str] = Field(default=None, description="sha256 hex of the body as parsed")
    content_type: Optional[str] = None
    encoding: Optional[str] = None
    size: Optional[int] = None
    rendered: bool = Field(default=False, description="a real browser produced the body")
    warc_file: Optional[str] = Field(default=None, description="path relative to the archive directory")
    warc_offset: Optional[int] = None
    warc_length: Optional[int] = None
    error: Optional[str] = None
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    reused_from: Optional[str] = Field(default=None, description="for not_modified / reused rows: the earlier "
                                       "snapshot whose WARC record holds the body")


class Observation(SQLModel, table=True):
    """A raw indicator value with its status and evidence. One row per (city, indicator, period, run)."""

    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint("city_code", "indicator", "period", "run_id", name="uq_observation"),
                      Index("ix_observation_city_ind", "city_code", "indicator"))
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="crawl_run.id", index=True)
    city_code: str = Field(foreign_key="city.code")
    indicator: str = Field(index=True, description="code in the indicator registry")
    period: str = Field(description="YYYY-MM-DD (crawl date), YYYY (year) or R365:YYYY-MM-DD")
    value_num: Optional[float] = None
    value_text: Optional[str] = None
    status: str = Field(description="ok / absent / blocked / error / not_applicable")
    rule: str = ""
    rule_version: str = ""
    snapshot_id: Optional[str] = Field(default=None, foreign_key="snapshot.id",
                                       description="the main response the value was read from")
    evidence_url: Optional[str] = None
    evidence_snapshots: list = Field(default_factory=list, sa_column=Column(JSON),
                                     description="every snapshot id the value was derived from")
    evidence_detail: Optional[str] = Field(default=None, description="the element / text that proves the value")
    observed_at: datetime


class Score(SQLModel, table=True):
    __tablename__ = "score"
    __table_args__ = (UniqueConstraint("framework", "city_code", "node", "period", "run_key", name="uq_score"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    run_key: str = Field(default="", description="scoring run label")
    framework: str
    city_code: str = Field(index=True)
    node: str = Field(description="node path in the framework tree; 'total' for the index")
    period: str
    value: Optional[float] = None
    rank: Optional[float] = None
    tier: Optional[str] = None
    coverage: Optional[float] = None
    imputed: int = 0
    rank_median: Optional[float] = None
    rank_p05: Optional[float] = None
    rank_p95: Optional[float] = None
    computed_at: datetime


# Tables of the individual harvests live beside their issue's code; importing them here registers them
# on the shared metadata (Alembic, create_all).
from storage import apps_models, crawlstate_models, mailbox_models, opendata_models, override_models, policy_models  # noqa: E402,F401,E501
