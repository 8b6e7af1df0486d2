"""Crawling the same database again (issue 23, D1 and D6): a same-day rerun and a next-day crawl report
what a fresh crawl of that day reports, for every open-data platform of the sample web (and the
mailbox and policy counts of every city), and mark no dataset removed; a `--full` crawl reads every
mailbox page a fresh crawl reads and cites only its own snapshots.

Before the fix, the second crawl answered Chengdu's catalogue pages inline (spiders/inline.py, removed
since) and the platform finished half-way through its first list page: 1 dataset instead of 130, 129
marked removed.

The sample web runs in this process for all crawls (replayed bodies name its ports); each crawl runs in
its own process (one Twisted reactor per process). No portal or app spider: no browser, no timings.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

SPIDERS = "--spiders=opendata,mailbox,policy"
DAY = date(2026, 6, 30)
NEXT = DAY + timedelta(days=1)


def crawl(ctx, db: str, key: str, day: date, *flags) -> dict:
    out = ctx["tmp"] / f"{key}.json"
    mark = len(ctx["server"].log)
    proc = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(ctx["settings"]),
                           f"sqlite:///{ctx['tmp'] / db}", key, day.isoformat(), "", SPIDERS, *flags, str(out)],
                          capture_output=True, text=True, timeout=300, env=ctx["env"])
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {**json.loads(out.read_text()), "asked": list(ctx["server"].log[mark:])}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("rerun")
    with serve_sample_web(tmp / "web") as running:
        settings = tmp / "settings.json"
        settings.write_text(json.dumps(running.crawl_settings()))
        ctx = {"tmp": tmp, "settings": settings, "server": running.server,
               "env": {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}}
        out = {"tmp": tmp, "sources": list(running.web.sources)}
        out["day1"] = crawl(ctx, "again.db", "day1", DAY)                  # a fresh crawl of DAY
        out["same-day"] = crawl(ctx, "again.db", "same-day", DAY)          # rerun, same day
        out["datasets"] = [datasets(tmp / "again.db")]
        out["next-day"] = crawl(ctx, "again.db", "next-day", NEXT)         # the next night
        out["datasets"].append(datasets(tmp / "again.db"))
        out["fresh-next"] = crawl(ctx, "fresh.db", "fresh-next", NEXT)     # a fresh crawl of NEXT
        out["full"] = crawl(ctx, "again.db", "full", NEXT, "--full")       # fetch everything afresh
    return out


def datasets(db) -> list:
    """(platform, datasets stored, marked removed) per platform, as the crawls so far left them."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT platform, count(*), sum(removed) FROM dataset GROUP BY platform "
                       "ORDER BY platform").fetchall()
    con.close()
    return rows


def observations(db, run_key: str, day: date) -> dict:
    con = sqlite3.connect(db)
    rows = con.execute("SELECT o.city_code, o.indicator, o.period, o.value_num, o.value_text, o.status "
                       "FROM observation o JOIN crawl_run r ON r.id = o.run_id WHERE r.run_key = ?", (run_key,))
    out = {(c, i, p.replace(day.isoformat(), "DAY")): (vn, vt, st) for c, i, p, vn, vt, st in rows}
    con.close()
    return out


def _differences(want: dict, got: dict) -> list:
    keys = sorted(set(want) | set(got))
    return [(k, want.get(k), got.get(k)) for k in keys if want.get(k) != got.get(k)][:10]


def test_the_reruns_answer_pages_from_the_archive(runs):
    # the case that lost the catalogue: most pages not due, answered from the archive
    assert runs["same-day"]["reused"] > 100
    assert runs["next-day"]["reused"] > 100


def test_every_open_data_platform_counts_the_same_on_a_rerun(runs):
    tmp = runs["tmp"]
    first = observations(tmp / "again.db", "day1", DAY)
    datasets = {c: v for (c, i, _p), v in first.items() if i == "opendata_datasets"}
    platforms = {s["city"] for s in runs["sources"] if s["kind"] == "opendata"}
    assert set(datasets) == {str(c) for c in platforms}
    assert datasets["510100"][0] == 130 and datasets["440300"][0] > 100 and datasets["330100"][0] > 1000
    assert datasets["370200"][2] == "error" and datasets["620100"][2] == "error"
    opendata = lambda obs: {k: v for k, v in obs.items() if k[1].startswith("opendata_")}  # noqa: E731
    same_day = observations(tmp / "again.db", "same-day", DAY)
    assert not _differences(opendata(first), opendata(same_day))
    next_day = observations(tmp / "again.db", "next-day", NEXT)
    fresh = observations(tmp / "fresh.db", "fresh-next", NEXT)
    assert not _differences(opendata(fresh), opendata(next_day))


def test_mailbox_and_policy_counts_are_the_same_on_a_rerun(runs):
    tmp = runs["tmp"]
    first, same_day = observations(tmp / "again.db", "day1", DAY), observations(tmp / "again.db", "same-day", DAY)
    assert len(first) > 200
    assert not _differences(first, same_day)
    next_day, fresh = observations(tmp / "again.db", "next-day", NEXT), observations(tmp / "fresh.db", "fresh-next", NEXT)
    assert not _differences(fresh, next_day)


def test_no_dataset_is_marked_removed_by_a_rerun(runs):
    fresh = datasets(runs["tmp"] / "fresh.db")
    assert len(fresh) == 3 and all(removed == 0 for _p, _n, removed in fresh), fresh
    same_day, next_day = runs["datasets"]
    assert same_day == fresh and next_day == fresh


def test_a_full_crawl_reads_every_mailbox_page_afresh(runs):
    """D6: `--full` (and `sgi audit`) fetch every page: as many mailbox pages as a fresh crawl of the day,
    and every message read in that run cites a snapshot of that run."""
    hosts = {urlsplit(s["start_url"]).hostname for s in runs["sources"] if s["kind"] == "mailbox"}
    asked = lambda run: sorted((r.host, r.method, r.path) for r in runs[run]["asked"] if r.host in hosts)  # noqa: E731
    fresh, full = asked("fresh-next"), asked("full")
    assert len(fresh) > 300
    assert len(full) == len(fresh), (len(full), len(fresh))
    con = sqlite3.connect(runs["tmp"] / "again.db")
    run_id = con.execute("SELECT id FROM crawl_run WHERE run_key = 'full'").fetchone()[0]
    total, elsewhere = con.execute(
        "SELECT count(*), sum(s.run_id IS NOT ? OR s.fetch_status NOT IN ('ok', 'not_found')) FROM message m "
        "LEFT JOIN snapshot s ON s.id = m.snapshot_id WHERE m.run_id = ?", (run_id, run_id)).fetchone()
    assert total > 1000 and elsewhere == 0, (total, elsewhere)
    con.close()
