"""Schema creation when several processes open a new database at once (issue 23, D14): every one of them
succeeds and the schema is built once, on SQLite and PostgreSQL. Before, two `sgi db upgrade` (or two
crawls) on a new database often failed with "table city already exists"."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

PROCESSES = 4
TRIALS = 2

# Each process imports everything first, then waits for a common moment: the migrations start together.
OPEN_AT = """
import sys, time
from storage import db
url, start_at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
db.ensure_schema(url)
with db.get_engine(url).connect() as conn:
    conn.exec_driver_sql("SELECT count(*) FROM crawl_run").fetchone()
"""


def open_together(url: str) -> list[subprocess.CompletedProcess]:
    start_at = time.time() + 4.0     # enough for every interpreter to import sqlalchemy and alembic
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, url, str(start_at)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def assert_built_once(url: str, results) -> None:
    failures = [[line for line in r.stderr.splitlines() if "Error" in line][-1:] or r.stderr[-500:]
                for r in results if r.returncode != 0]
    assert not failures, failures
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.slow
def test_processes_creating_a_sqlite_schema_together_all_succeed(tmp_path):
    for trial in range(TRIALS):
        url = f"sqlite:///{tmp_path / f'race{trial}.db'}"
        assert_built_once(url, open_together(url))


@pytest.mark.slow
def test_processes_creating_a_postgres_schema_together_all_succeed():
    from tests.pg_support import fresh_database

    for _ in range(TRIALS):
        with fresh_database("sgi_race") as url:
            assert_built_once(url, open_together(url))
