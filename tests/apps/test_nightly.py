"""A nightly re-crawl adds one snapshot per app and store per day and never duplicates.

Three runs of the apps spider through the CLI (subprocesses) against one database: two on the same crawl
date, a third a day later. Rows seeded before the first run stand for an earlier crawl: the removed app's
earlier snapshot is kept, and the 90-day rating trend is computed against it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime

import pytest

from sgi.sampleweb.generate import build_sample_web

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REMOVED = ("apple", "1045678123")          # 武汉微政务: lookup answers resultCount 0
ISZ = ("apple", "1463587382")              # i深圳 on the App Store: 4.71234 from 85,231 ratings today


def sgi(*args):
    proc = subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def crawl(db_url, as_of):
    return sgi("crawl", "--sample-web", "--spider", "apps", "--db", db_url, "--as-of", as_of)


def seed(path):
    con = sqlite3.connect(path)
    for store, app_id, name, rating, count in [(*REMOVED, "武汉微政务", 3.1, 420), (*ISZ, "i深圳", 4.5, 80000)]:
        con.execute("INSERT INTO app_snapshot (store, app_id, crawl_date, city_code, app_name, status, name, rating,"
                    " rating_count, run_id, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (store, app_id, "2026-05-01", "420100" if app_id == REMOVED[1] else "440300", name, "ok", name,
                     rating, count, 0, datetime(2026, 5, 1).isoformat(" ")))
    con.commit()
    con.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apps-nightly")
    path = tmp / "apps.db"
    url = f"sqlite:///{path}"
    sgi("db", "upgrade", "--db", url)
    seed(path)
    dumps = []
    for as_of in ("2026-06-30", "2026-06-30", "2026-07-01"):
        crawl(url, as_of)
        con = sqlite3.connect(path)
        con.row_factory = sqlite3.Row
        dumps.append({
            "rows": [dict(r) for r in con.execute("SELECT * FROM app_snapshot ORDER BY store, app_id, crawl_date")],
            "obs": [dict(r) for r in con.execute("SELECT o.*, r.as_of FROM observation o JOIN crawl_run r"
                                                 " ON r.id = o.run_id WHERE indicator LIKE 'app_%'")],
            "snapshots": {r[0] for r in con.execute("SELECT id FROM snapshot")},
            "runs": [dict(r) for r in con.execute("SELECT id, as_of FROM crawl_run ORDER BY id")],
        })
        con.close()
    return dumps


def listings_in_sample_web() -> int:
    web = build_sample_web()
    return sum(1 for s in web.sources if s["kind"] == "app")


def test_one_snapshot_per_app_store_and_day(runs):
    n = listings_in_sample_web()
    first, second, third = runs
    by_day = lambda d, day: [r for r in d["rows"] if r["crawl_date"] == day]   # noqa: E731
    assert len(by_day(first, "2026-06-30")) == n
    assert len(first["rows"]) == n + 2                       # + the two seeded rows of 2026-05-01
    # the second run on the same date replaces, never adds
    assert len(second["rows"]) == n + 2 and len(by_day(second, "2026-06-30")) == n
    # a later date adds one row per app and store
    assert len(by_day(third, "2026-07-01")) == n and len(third["rows"]) == 2 * n + 2
    keys = [(r["store"], r["app_id"], r["crawl_date"]) for r in third["rows"]]
    assert len(keys) == len(set(keys))
    # the rows record the run and the evidence they came from
    last_run = third["runs"][-1]["id"]
    for r in by_day(third, "2026-07-01"):
        assert r["run_id"] == last_run and r["snapshot_id"] in third["snapshots"]
    assert {r["run_id"] for r in by_day(second, "2026-06-30")} == {second["runs"][-1]["id"]}


def test_removed_app_is_absent_and_its_history_kept(runs):
    rows = [r for r in runs[-1]["rows"] if (r["store"], r["app_id"]) == REMOVED]
    assert [(r["crawl_date"], r["status"]) for r in rows] == [
        ("2026-05-01", "ok"), ("2026-06-30", "absent"), ("2026-07-01", "absent")]
    assert rows[0]["rating"] == 3.1 and rows[1]["rating"] is None
    count = [o for o in runs[-1]["obs"] if o["city_code"] == "420100" and o["indicator"] == "app_count"]
    assert {o["value_num"] for o in count} == {1.0}          # the removed app is not counted


def test_rating_trend_against_the_earlier_snapshot(runs):
    for dump, as_of in ((runs[0], "2026-06-30"), (runs[2], "2026-07-01")):
        obs = {(o["city_code"], o["indicator"]): o for o in dump["obs"] if o["as_of"] == as_of}
        sz = obs[("440300", "app_rating_trend_90d")]
        assert sz["status"] == "ok" and sz["value_num"] == pytest.approx(round(4.71234 - 4.5, 4))
        assert "2026-05-01" in sz["evidence_detail"]
    hz = {(o["city_code"], o["indicator"]): o for o in runs[2]["obs"] if o["as_of"] == "2026-07-01"}
    # Hangzhou: the 30 June snapshot is the base on 1 July (the sample stores do not change: trend 0)
    assert hz[("330100", "app_rating_trend_90d")]["status"] == "ok"
    assert hz[("330100", "app_rating_trend_90d")]["value_num"] == pytest.approx(0.0)
    first = {(o["city_code"], o["indicator"]): o for o in runs[0]["obs"]}
    assert first[("330100", "app_rating_trend_90d")]["status"] == "not_applicable"


def test_days_since_update_follows_the_crawl_date(runs):
    got = {(o["city_code"], o["as_of"]): o["value_num"] for o in runs[2]["obs"]
           if o["indicator"] == "app_days_since_update"}
    assert got[("440300", "2026-07-01")] == got[("440300", "2026-06-30")] + 1
