"""PostgreSQL and sample-web crawls for tests/test_postgres.py and tests/test_scrapyd.py.

The server is a real one: `.ci/run` (through `./dev test-pg`) starts a throwaway cluster with
scripts/postgres and exports SGI_TEST_POSTGRES_URL. Without it these tests skip locally, but with
SGI_REQUIRE_POSTGRES=1 (CI) a missing or unreachable server is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# Two sample cities with every kind of source between them, and ok, absent, error and not_applicable values.
CITIES = ("330100", "620100")
# Values that measure our own machine, not the site: they differ from run to run.
TIMING_INDICATORS = ("homepage_load_ms",)
# Rows about the database or the run itself rather than what was crawled.
BOOKKEEPING_TABLES = {"alembic_version", "crawl_run", "city"}


def required() -> bool:
    return os.environ.get("SGI_REQUIRE_POSTGRES", "") == "1"


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"SGI_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (run ./dev test-pg to start one)")


def server_url() -> str:
    """SGI_TEST_POSTGRES_URL, checked to answer; skips or fails (see the module doc) when it cannot."""
    url = os.environ.get("SGI_TEST_POSTGRES_URL", "")
    if not url:
        _unavailable("SGI_TEST_POSTGRES_URL is not set")
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means no usable server
        _unavailable(f"PostgreSQL at {url} does not answer: {exc}")
    finally:
        engine.dispose()
    return url


@contextmanager
def fresh_database(prefix: str = "sgi_t") -> Iterator[str]:
    """A new, empty database on the test server (dropped afterwards), so tests never see each other's rows."""
    url = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    new_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        yield new_url
    finally:
        from storage import db

        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sgi(*args: str, cwd: Path, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the sgi CLI in its own process (one Twisted reactor per crawl) and insist that it succeeds."""
    full_env = {**os.environ, "SGI_ARCHIVE_DIR": str(cwd / "warc"), **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "sgi", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    assert proc.returncode == 0, f"sgi {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def sample_crawl(db_url: str, workdir: Path, run_key: str, cities=CITIES) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    city_args = [a for code in cities for a in ("--city", code)]
    return sgi("crawl", "--sample-web", "--db", db_url, "--run-key", run_key, *city_args, cwd=workdir)


def crawl_dump(db_url: str) -> dict:
    """What a crawl found, in terms that do not depend on ports, run ids, clocks or the database engine:
    observations (city, indicator, period, value, status), snapshot fetch outcomes per page identity,
    and the row count of every table."""
    from storage.store import page_identity

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            observations = sorted(
                (r[0], r[1], r[2], None if r[3] is None else round(float(r[3]), 6), r[4], r[5])
                for r in conn.execute(text(
                    "SELECT city_code, indicator, period, value_num, value_text, status FROM observation"))
                if r[1] not in TIMING_INDICATORS)
            snapshots = Counter(
                (r[0], r[1], page_identity(r[2]), page_identity(r[3]), r[4], r[5])
                for r in conn.execute(text(
                    "SELECT spider, city_code, requested_url, final_url, fetch_status, http_status FROM snapshot")))
            tables = sorted(set(inspect(conn).get_table_names()) - BOOKKEEPING_TABLES)
            counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}
    finally:
        engine.dispose()
    return {"observations": observations, "snapshots": snapshots, "counts": counts}


_reference: dict[tuple, dict] = {}


def reference_crawl(tmp_path_factory, cities=CITIES) -> dict:
    """A single-node crawl of the cities into SQLite, made once per test session and shared by the
    PostgreSQL and scrapyd tests (both compare against it)."""
    key = tuple(cities)
    if key not in _reference:
        work = tmp_path_factory.mktemp("reference-sqlite")
        url = f"sqlite:///{work / 'sgi.db'}"
        sample_crawl(url, work, "reference", cities)
        _reference[key] = {"url": url, "dump": crawl_dump(url), "workdir": work}
    return _reference[key]


def diff_dumps(got: dict, want: dict) -> str:
    """A readable difference between two crawl dumps ('' when equal)."""
    lines = []
    if got["counts"] != want["counts"]:
        lines.append(f"row counts differ: got {got['counts']} want {want['counts']}")
    extra = Counter(got["observations"]) - Counter(want["observations"])
    missing = Counter(want["observations"]) - Counter(got["observations"])
    if extra or missing:
        lines.append(f"observations: {sum(missing.values())} missing, e.g. {list(missing)[:5]}; "
                     f"{sum(extra.values())} extra, e.g. {list(extra)[:5]}")
    extra = got["snapshots"] - want["snapshots"]
    missing = want["snapshots"] - got["snapshots"]
    if extra or missing:
        lines.append(f"snapshots: {sum(missing.values())} missing, e.g. {list(missing)[:5]}; "
                     f"{sum(extra.values())} extra, e.g. {list(extra)[:5]}")
    return "\n".join(lines)
