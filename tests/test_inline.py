"""Pages that are not due, answered inline in the spider middleware (spiders/inline.py): the spider gets
the same items, Referer headers, errors and evidence as through Scrapy's scheduler and downloader, and
the site is not asked for them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date, timedelta

import pytest

from tests.inline_crawl import HOST, LEAVES, inline_web

pytestmark = pytest.mark.slow

DAY = date(2026, 6, 30)


def _crawl(tmp, settings: dict, key: str, day: date, db: str) -> dict:
    (tmp / f"{key}.settings.json").write_text(json.dumps(settings))
    out = tmp / f"{key}.json"
    proc = subprocess.run([sys.executable, "-m", "tests.inline_crawl", str(tmp / f"{key}.settings.json"),
                           f"sqlite:///{tmp / db}", str(tmp / f"warc-{db}"), key, day.isoformat(), str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {**json.loads(out.read_text()), "log": proc.stderr}


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("inline")
    with serve_sample_web(tmp / "web", web=inline_web()) as running:
        base = {**running.crawl_settings(), "_home": running.server.url(HOST, "/")}
        runs = {}
        for db, inline in (("inline.db", True), ("ordinary.db", False), ("exploding.db", True)):
            settings = {**base, "SGI_INLINE_REUSE": inline}
            _crawl(tmp, settings, "day1", DAY, db)
            if db == "exploding.db":
                settings["INLINE_TEST_EXPLODE"] = "/d2"
            mark = len(running.server.requests_to(HOST))
            runs[db] = _crawl(tmp, settings, "day2", DAY + timedelta(days=1), db)
            runs[db]["asked"] = [r.path for r in running.server.requests_to(HOST)[mark:]]
            con = sqlite3.connect(tmp / db)
            runs[db]["snapshots"] = sorted(con.execute(
                "SELECT s.requested_url, s.fetch_status, s.reused_from IS NOT NULL FROM snapshot s "
                "JOIN crawl_run r ON r.id = s.run_id WHERE r.run_key = 'day2'").fetchall())
            con.close()
    return runs


def _items(run):
    return sorted(json.dumps(i, sort_keys=True) for i in run["items"])


def test_reused_pages_are_answered_inline_and_not_asked_for(days):
    inline = days["inline.db"]
    assert inline["stats"].get("sgi/answered_inline", 0) >= len(LEAVES) * 2 + 1   # leaves, their 'more', boom
    assert days["ordinary.db"]["stats"].get("sgi/answered_inline", 0) == 0
    leaf_paths = {p for p in inline["asked"] if p.startswith(("/d", "/boom"))}
    assert not leaf_paths, leaf_paths                     # nothing not due went to the site
    assert "/list" in inline["asked"]                     # the list is due daily (a conditional GET)


def test_a_failing_process_response_fetches_the_page_instead(days):
    exploding = days["exploding.db"]
    assert exploding["stats"].get("sgi/inline_failed") == 1
    assert "/d2" in exploding["asked"]                    # asked of the site afresh ...
    by_url = {i["url"]: i for i in exploding["items"]}
    assert by_url["d2"]["reused"] is False and by_url["d2/more"]["reused"] is True   # ... and read as usual
    assert {i["url"] for i in exploding["items"]} == {i["url"] for i in days["ordinary.db"]["items"]}


def test_the_spider_gets_the_same_items_either_way(days):
    inline, ordinary = days["inline.db"], days["ordinary.db"]
    assert _items(inline) == _items(ordinary)
    urls = [i["url"] for i in inline["items"]]
    assert sorted(set(urls)) == sorted(urls)              # the duplicate /d0 request was dropped once
    assert {f"d{i}/more" for i in range(len(LEAVES))} <= set(urls)   # chains of reused pages
    assert "target" in urls                               # the reused page's meta refresh was followed
    assert all(i["reused"] for i in inline["items"] if i["url"] != "target")


def test_referer_is_the_page_that_linked_it(days):
    for run in (days["inline.db"], days["ordinary.db"]):
        by_url = {i["url"]: i for i in run["items"]}
        assert by_url["d1/more"]["referer"] == "d1"
        assert by_url["d1"]["referer"] == "list"


def test_a_callback_error_is_reported_and_keeps_what_came_before(days):
    for run in (days["inline.db"], days["ordinary.db"]):
        assert run["stats"].get("spider_exceptions/ValueError") == 1
        assert "a spider bug half-way through a page" in run["log"]
        assert any(i["url"] == "boom" for i in run["items"])


def test_evidence_rows_are_the_same_either_way(days):
    inline, ordinary = days["inline.db"], days["ordinary.db"]
    strip = lambda rows: sorted((url.split(HOST, 1)[1].split("/", 1)[1], st, reused) for url, st, reused in rows)  # noqa: E731
    assert strip(inline["snapshots"]) == strip(ordinary["snapshots"])
    assert sum(st == "reused" for _u, st, _r in inline["snapshots"]) >= len(LEAVES) * 2 + 1
    assert inline["stats"].get("dupefilter/filtered") == ordinary["stats"].get("dupefilter/filtered") >= 1
