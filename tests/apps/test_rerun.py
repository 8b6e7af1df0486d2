"""The apps spider run again into the same database (issue 23): a same-day rerun reports what the first
run reported, citing the same store pages (D25: the evidence URL no longer follows which store
answered first), and so does a second fresh crawl; a next-day crawl reports what a fresh crawl of that
day reports (except the 90-day rating trend, which compares with the earlier days a database holds).
Each crawl runs in its own process against the sample web served here."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DAY = date(2026, 6, 30)
NEXT = DAY + timedelta(days=1)


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("apps-rerun")
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}
    with serve_sample_web(tmp / "web") as running:
        settings = tmp / "settings.json"
        settings.write_text(json.dumps(running.crawl_settings()))
        for db, key, day in (("a.db", "day1", DAY), ("a.db", "same-day", DAY), ("b.db", "fresh", DAY),
                             ("a.db", "next-day", NEXT), ("c.db", "fresh-next", NEXT)):
            proc = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(settings), f"sqlite:///{tmp / db}",
                                   key, day.isoformat(), "", "--spiders=apps"], capture_output=True, text=True,
                                  timeout=300, env=env)
            assert proc.returncode == 0, proc.stderr[-4000:]
    return tmp


def observations(db, run_key: str, with_url: bool = True) -> dict:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT o.city_code, o.indicator, o.value_num, o.value_text, o.status, o.evidence_url "
                       "FROM observation o JOIN crawl_run r ON r.id = o.run_id WHERE r.run_key = ?", (run_key,))
    out = {(c, i): (vn, vt, st, url if with_url else None) for c, i, vn, vt, st, url in rows}
    con.close()
    return out


def test_a_rerun_and_a_second_fresh_crawl_report_and_cite_the_same(dbs):
    first = observations(dbs / "a.db", "day1")
    assert len(first) > 30 and sum(v[2] == "ok" for v in first.values()) > 20
    assert observations(dbs / "a.db", "same-day") == first
    assert observations(dbs / "b.db", "fresh") == first


def test_a_next_day_crawl_reports_what_a_fresh_one_does(dbs):
    trend = "app_rating_trend_90d"
    next_day = {k: v for k, v in observations(dbs / "a.db", "next-day", False).items() if k[1] != trend}
    fresh = {k: v for k, v in observations(dbs / "c.db", "fresh-next", False).items() if k[1] != trend}
    assert len(fresh) > 30 and next_day == fresh
