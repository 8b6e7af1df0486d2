"""PostgreSQL as the database by URL, against a real server (see tests/pg_support.py for how one is found).

The same sample-web crawl goes into PostgreSQL and into SQLite; both must hold the same findings, a rerun
of the run key must change nothing, and exports and scoring must read PostgreSQL as they read SQLite.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from tests.pg_support import (TIMING_INDICATORS, crawl_dump, diff_dumps, fresh_database, reference_crawl,
                              sample_crawl, server_url)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]   # crawls in the fixtures count too


def _columns(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}
    finally:
        engine.dispose()


def test_migrations_build_the_same_schema_as_on_sqlite(tmp_path):
    from alembic.script import ScriptDirectory

    from storage import db

    sqlite_url = f"sqlite:///{tmp_path / 'schema.db'}"
    db.upgrade(sqlite_url)
    with fresh_database() as pg_url:
        db.upgrade(pg_url)     # every migration, including ones added after this test was written
        head = ScriptDirectory.from_config(db._alembic_config(pg_url)).get_current_head()
        assert db.current_revision(pg_url) == head
        pg_columns = _columns(pg_url)
        # ensure_schema on a migrated database is a no-op, not a second migration
        db.ensure_schema(pg_url)
        assert db.current_revision(pg_url) == head
    sqlite_columns = _columns(sqlite_url)
    assert pg_columns == sqlite_columns
    assert {"observation", "snapshot", "crawl_run", "city"} <= set(pg_columns)


@pytest.fixture(scope="module")
def pg_crawl(tmp_path_factory):
    """The sample cities crawled into a fresh PostgreSQL database, then once more with the same run key."""
    server_url()    # skip or fail before the expensive reference crawl
    reference = reference_crawl(tmp_path_factory)
    work = tmp_path_factory.mktemp("pg-crawl")
    with fresh_database() as url:
        began = datetime.now(timezone.utc)
        sample_crawl(url, work, "pg-run")
        first = crawl_dump(url)
        sample_crawl(url, work, "pg-run")
        second = crawl_dump(url)
        yield {"url": url, "first": first, "second": second, "reference": reference, "began": began}


def test_postgres_holds_what_sqlite_holds(pg_crawl):
    first, reference = pg_crawl["first"], pg_crawl["reference"]["dump"]
    assert first["observations"], "the crawl stored no observation"
    statuses = {o[5] for o in first["observations"]}
    assert {"ok", "absent", "error"} <= statuses, statuses
    assert diff_dumps(first, reference) == ""


def test_rerunning_a_run_key_upserts(pg_crawl):
    assert diff_dumps(pg_crawl["second"], pg_crawl["first"]) == ""
    engine = create_engine(pg_crawl["url"])
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT run_key, state, spiders, cities FROM crawl_run")).all()
    engine.dispose()
    assert len(runs) == 1
    key, state, spiders, cities = runs[0]
    # JSON columns come back as Python lists, not strings
    assert (key, state) == ("pg-run", "finished")
    assert spiders == ["apps", "mailbox", "opendata", "policy", "portal"]
    assert cities == ["330100", "620100"]


def test_times_are_stored_in_utc_whatever_the_server_zone(pg_crawl):
    """scripts/postgres runs the server in Asia/Shanghai: naive DateTime columns must still hold UTC."""
    engine = create_engine(pg_crawl["url"])
    with engine.connect() as conn:
        server_zone = conn.execute(text("SHOW timezone")).scalar_one()
        finished = conn.execute(text("SELECT finished_at FROM crawl_run")).scalar_one()
        recorded = conn.execute(text("SELECT min(recorded_at), max(recorded_at) FROM app_snapshot")).one()
        fetched = conn.execute(text("SELECT min(fetched_at), max(fetched_at) FROM snapshot")).one()
    engine.dispose()
    if server_zone in ("UTC", "Etc/UTC"):
        pytest.skip("the test server runs in UTC: nothing to learn about zones")
    # Rows of either crawl; a zone mix-up would move them by hours.
    began, slack = pg_crawl["began"], timedelta(seconds=5)
    assert recorded[0] is not None, "no app_snapshot rows: the sample city has no app"
    for naive in recorded:   # a naive column: read as UTC, it lies inside the crawls
        assert began - slack <= naive.replace(tzinfo=timezone.utc) <= finished + slack, (naive, began, finished)
    for aware in fetched:
        assert aware.utcoffset() is not None
        assert began - slack <= aware <= finished + slack, (aware, began, finished)


def test_observation_json_matches_sqlite(pg_crawl):
    """Evidence lists (JSON) keep their length and order on both engines."""
    query = ("SELECT city_code, indicator, period, evidence_snapshots FROM observation"
             " ORDER BY city_code, indicator, period")

    def lengths(url):
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text(query)).all()
        engine.dispose()
        out = {}
        for city, indicator, period, snaps in rows:
            snaps = json.loads(snaps) if isinstance(snaps, str) else snaps
            assert isinstance(snaps, list)
            out[(city, indicator, period)] = len(snaps)
        return out

    assert lengths(pg_crawl["url"]) == lengths(pg_crawl["reference"]["url"])


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[~frame["indicator"].isin(TIMING_INDICATORS)]
    cols = ["city_code", "city_name", "indicator", "period", "value", "status", "fetched_at"]
    out = frame[cols].copy()
    out["fetched_at"] = out["fetched_at"].notna()      # when differs; that there is one must not
    out["value"] = out["value"].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    return out.reset_index(drop=True)


def test_exports_and_scores_read_postgres_as_sqlite(pg_crawl, tmp_path):
    from scoring.run import score_database
    from storage.exports import export_indicators, observations_frame

    pg_url, sqlite_url = pg_crawl["url"], pg_crawl["reference"]["url"]
    pg_obs, sqlite_obs = observations_frame(pg_url), observations_frame(sqlite_url)
    assert len(pg_obs) > 100
    pd.testing.assert_frame_equal(_comparable(pg_obs), _comparable(sqlite_obs))

    for fmt in ("csv", "xlsx"):
        assert export_indicators(tmp_path / f"pg.{fmt}", fmt, wide=True, url=pg_url) == \
            export_indicators(tmp_path / f"sqlite.{fmt}", fmt, wide=True, url=sqlite_url)
    pg_wide = pd.read_csv(tmp_path / "pg.csv", dtype=str).drop(columns=list(TIMING_INDICATORS), errors="ignore")
    sqlite_wide = pd.read_csv(tmp_path / "sqlite.csv", dtype=str).drop(columns=list(TIMING_INDICATORS), errors="ignore")
    pd.testing.assert_frame_equal(pg_wide, sqlite_wide)

    pg_scores = score_database(pg_url, write_db=True, run_key="pg-test").scores
    sqlite_scores = score_database(sqlite_url, write_db=False).scores
    keys = ["city_code", "node", "period"]
    assert len(pg_scores) > 0
    pd.testing.assert_frame_equal(pg_scores.sort_values(keys).reset_index(drop=True),
                                  sqlite_scores.sort_values(keys).reset_index(drop=True))
    # scores upsert by their key: scoring twice leaves one row per score
    score_database(pg_url, write_db=True, run_key="pg-test")
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM score WHERE run_key = 'pg-test'")).scalar_one()
    engine.dispose()
    assert stored == len(pg_scores)
