"""Incremental harvest: a second run against the same database and the same running sample web fetches
no detail page of a message already stored as replied; unreplied ones are re-checked; the indicators
do not change. Each run is a subprocess (one Twisted reactor per process); the server log counts requests."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sgi.sampleweb.runner import serve_sample_web

pytestmark = pytest.mark.slow

HOSTS = ("hd.hangzhou.gov.cn.test", "www.nn12345.gov.cn.test", "liuyan.people.com.cn.test",
         "szxx.xm.gov.cn.test", "www.qd12345.gov.cn.test", "www.lz12345.gov.cn.test",
         "liuyan.wuhan.gov.cn.test", "ly.chengdu.gov.cn.test")


def _crawl(db_url: str, settings_file: Path, run_key: str, env: dict) -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.mailbox.crawl_once", db_url, str(settings_file), run_key],
                          capture_output=True, text=True, timeout=600, env=env,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert proc.returncode == 0, proc.stderr[-4000:]


def _details(log) -> list[str]:
    return [r.path for r in log if r.host in HOSTS and ("detail" in r.path)]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mailbox-incremental")
    db = tmp / "m.db"
    db_url = f"sqlite:///{db}"
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}
    with serve_sample_web(tmp / "web") as running:
        settings_file = tmp / "settings.json"
        settings_file.write_text(json.dumps(running.crawl_settings()), encoding="utf-8")
        server = running.server
        _crawl(db_url, settings_file, "inc-1", env)
        first = list(server.log)
        con = sqlite3.connect(db)
        con.row_factory = sqlite3.Row
        after_first = {(r["board"], r["message_id"]): dict(r) for r in con.execute("SELECT * FROM message")}
        obs_first = sorted(tuple(r) for r in con.execute(
            "SELECT city_code, indicator, period, value_num, status FROM observation o JOIN crawl_run c "
            "ON c.id = o.run_id WHERE c.run_key = 'inc-1'"))
        con.close()
        _crawl(db_url, settings_file, "inc-2", env)
        second = list(server.log)[len(first):]
        # A third run with the 12345 site refusing us (412): that city is blocked, never absent or 0.
        from sgi.sampleweb.model import Fault
        server.inject("www.nn12345.gov.cn.test", None, Fault(status=412))
        _crawl(db_url, settings_file, "inc-3", env)
        web = running.web
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    obs_second = sorted(tuple(r) for r in con.execute(
        "SELECT city_code, indicator, period, value_num, status FROM observation o JOIN crawl_run c "
        "ON c.id = o.run_id WHERE c.run_key = 'inc-2'"))
    blocked = [dict(r) for r in con.execute(
        "SELECT o.* FROM observation o JOIN crawl_run c ON c.id = o.run_id WHERE c.run_key = 'inc-3'")]
    yield {"blocked": blocked, "first": first, "second": second, "stored": after_first, "obs": (obs_first, obs_second), "web": web,
           "con": con}
    con.close()


def test_second_run_fetches_no_detail_page_of_a_replied_message(two_runs):
    stored = two_runs["stored"]
    done = {row["detail_url"].split("://", 1)[1].split("/", 1)[1] for row in stored.values()
            if row["status"] == "replied" and row["detail_status"] == "ok"}
    done = {"/" + p for p in done}
    first, second = _details(two_runs["first"]), _details(two_runs["second"])
    assert len(done) > 300 and len(first) >= len(done)
    refetched = [p for p in second if p in done]
    assert refetched == [], f"{len(refetched)} replied detail pages fetched again, e.g. {refetched[:3]}"
    print(f"\ndetail requests: first run {len(first)}, second run {len(second)} (replied and read: {len(done)})")


def test_unreplied_messages_are_rechecked_until_recheck_days(two_runs):
    """The 市长信箱 list shows each message's status, so the re-check of a young unreplied message is its
    list row read from the site again (the list page asked conditionally), not its detail page; old
    ones are re-checked by neither."""
    from datetime import date

    from spiders.mailbox import DEFAULT_RECHECK_DAYS

    stored = two_runs["stored"]
    crawl = two_runs["web"].reference_date
    young, old, young_lists = set(), set(), set()
    for (board, mid), row in stored.items():
        if board != "hz-mayor" or row["status"] == "replied":
            continue
        age = (crawl - date.fromisoformat(row["submitted_date"])).days
        (old if age > DEFAULT_RECHECK_DAYS else young).add("/mail/detail.jsp?id=" + mid)
        if age <= DEFAULT_RECHECK_DAYS:
            young_lists.add("/" + row["list_url"].split("://", 1)[1].split("/", 1)[1])
    second = set(_details(two_runs["second"]))
    assert young and old
    assert not (young & second) and not (old & second)
    lists = {r.path: r for r in two_runs["second"] if r.host == "hd.hangzhou.gov.cn.test"}
    assert young_lists <= set(lists) and all(lists[p].conditional for p in young_lists)


def test_list_pages_are_read_again_and_values_do_not_change(two_runs):
    # A same-day rerun reads the list pages again: from the network when due, else from the archive
    # (incremental crawling: a 'reused' or 'not_modified' snapshot); either way the run has them.
    con = two_runs["con"]
    list_reads = con.execute(
        "SELECT s.fetch_status FROM snapshot s JOIN crawl_run c ON c.id = s.run_id "
        "WHERE c.run_key = 'inc-2' AND s.requested_url LIKE '%/mail/list.jsp%'").fetchall()
    assert list_reads and {r[0] for r in list_reads} <= {"ok", "reused", "not_modified"}
    # POST list APIs too: each page (one request body) has its own revisit schedule
    api_reads = con.execute(
        "SELECT s.fetch_status FROM snapshot s JOIN crawl_run c ON c.id = s.run_id "
        "WHERE c.run_key = 'inc-2' AND s.requested_url LIKE '%/v1/threads/list/df%'").fetchall()
    assert len(api_reads) > 5 and {r[0] for r in api_reads} <= {"ok", "reused"}
    assert "reused" in {r[0] for r in api_reads}
    first_obs, second_obs = two_runs["obs"]
    assert first_obs and first_obs == second_obs


def test_messages_are_not_duplicated(two_runs):
    con = two_runs["con"]
    n, distinct = con.execute("SELECT count(*), count(DISTINCT board || '|' || message_id) FROM message").fetchone()
    assert n == distinct == sum(len(b.messages) for b in two_runs["web"].mailbox_boards)


def test_a_blocked_board_makes_its_city_blocked_never_zero(two_runs):
    rows = two_runs["blocked"]
    nanning = [r for r in rows if r["city_code"] == "450100"]
    assert len(nanning) == 7 * 3
    assert all(r["status"] == "blocked" and r["value_num"] is None and r["snapshot_id"] for r in nanning)
    others = [r for r in rows if r["city_code"] != "450100"]
    assert others and all(r["status"] in ("ok", "not_applicable") for r in others)
    con = two_runs["con"]
    stat = con.execute("SELECT s.status, s.messages_total FROM message_board_stat s JOIN crawl_run c ON c.id = s.run_id "
                       "WHERE c.run_key = 'inc-3' AND s.board = 'nn-12345'").fetchall()
    assert stat and all(r[0] == "blocked" and r[1] is None for r in stat)
