"""Incremental crawls (issue 10): the second crawl of an unchanged sample web asks with validators, is
answered 304 or not asked at all (pages not due), moves far fewer bytes and yields the same values as
a full crawl of the same day; after pages change, every change to a page due for a revisit is read.

The sample web runs in this process for all crawls (replayed bodies name its ports); each crawl runs
in its own process (one Twisted reactor per process). One small city with every harvest but app stores (no browser), to stay fast.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest

from sgi.sampleweb.mutate import append_paragraph, change_page
from storage.store import page_identity

pytestmark = pytest.mark.slow

CITIES = "620100"
SPIDERS = "--spiders=portal,mailbox,opendata,policy"
DAY = date(2026, 6, 30)
TIMING = ("homepage_load_ms",)     # measured, not read: differs between any two crawls


def crawl(ctx, key, as_of, *flags) -> dict:
    out = ctx["settings"].parent / f"{key}.json"
    proc = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(ctx["settings"]), ctx["db_url"], key,
                           as_of.isoformat(), CITIES, SPIDERS, *flags, str(out)], capture_output=True, text=True,
                          timeout=300, env=ctx["env"])
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    ctx.setdefault("results", {})[key] = result
    return result


def observations(con, run_key, day):
    rows = con.execute("SELECT o.city_code, o.indicator, o.period, o.value_num, o.value_text, o.status "
                       "FROM observation o JOIN crawl_run r ON r.id = o.run_id WHERE r.run_key = ?", (run_key,))
    return {(c, i, p.replace(day.isoformat(), "DAY")): (vn, vt, st) for c, i, p, vn, vt, st in rows
            if i not in TIMING}


def snapshots(con, run_key):
    return con.execute("SELECT s.requested_url, s.fetch_status, s.http_status, s.digest, s.reused_from, "
                       "s.warc_file, s.warc_offset FROM snapshot s JOIN crawl_run r ON r.id = s.run_id "
                       "WHERE r.run_key = ?", (run_key,)).fetchall()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("incremental")
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}
    with serve_sample_web(tmp / "web") as running:
        settings = tmp / "settings.json"
        settings.write_text(json.dumps(running.crawl_settings()))
        ctx = {"settings": settings, "db_url": f"sqlite:///{tmp / 'inc.db'}", "env": env}
        log = running.server.log
        marks = [len(log)]
        crawl(ctx, "day1", DAY)
        marks.append(len(log))
        crawl(ctx, "day2", DAY + timedelta(days=1))
        marks.append(len(log))
        crawl(ctx, "day2-full", DAY + timedelta(days=1), "--full")
        con = sqlite3.connect(tmp / "inc.db")
        # Change pages for day 3: the Lanzhou portal home gets a news item of day 2 (its freshness must
        # follow), and two list pages due for a revisit get a notice (their digests must follow).
        home = "www.lanzhou.gov.cn.test"
        news = f'<a href="/art/tzgg/index.html">关于端午节放假的通知</a> <span>{DAY + timedelta(days=1)}</span>'
        change_page(running.web, home, "/", append_paragraph(news))
        from storage.frontier import KnownUrl, crawl_clock

        rows = con.execute("SELECT url_key, next_due_at FROM url_state WHERE spider = 'policy' AND role = 'list' "
                           "ORDER BY url_key").fetchall()
        day3 = crawl_clock(DAY + timedelta(days=2))
        due = [k for k, when in rows if KnownUrl({"next_due_at": datetime.fromisoformat(when)}, None).due(day3)]
        listed = []
        for key in due:
            host, path = re.match(r"https?://([^/]+)(/.*)", key).groups()
            site = running.web.sites.get(host)
            if site and path in site.resources and not callable(site.resources[path].body):
                listed.append((host, path))
        assert len(listed) >= 2, due
        for host, path in listed[:2]:
            change_page(running.web, host, path, append_paragraph("更新"))
        changed = [(home, "/"), *listed[:2]]
        marks.append(len(log))
        crawl(ctx, "day3", DAY + timedelta(days=2))
        marks.append(len(log))
        logs = {"day1": log[marks[0]:marks[1]], "day2": log[marks[1]:marks[2]], "day3": log[marks[3]:marks[4]]}
        yield {"con": con, "logs": logs, "changed": changed, "results": ctx["results"]}
        con.close()


def test_second_crawl_asks_with_validators_and_moves_far_fewer_bytes(runs):
    day1, day2 = runs["logs"]["day1"], runs["logs"]["day2"]
    assert not any(r.conditional for r in day1)
    assert sum(r.conditional for r in day2) >= 10
    assert sum(r.status == 304 for r in day2) >= 10
    assert len(day2) < len(day1) / 2, (len(day1), len(day2))
    sent1, sent2 = sum(r.bytes_sent for r in day1), sum(r.bytes_sent for r in day2)
    assert sent2 < sent1 * 0.5, (sent1, sent2)


def test_unchanged_pages_are_recorded_not_modified_or_reused_with_the_earlier_record(runs):
    con = runs["con"]
    first = {page_identity(r[0]): r for r in snapshots(con, "day1") if r[1] == "ok"}
    rows = snapshots(con, "day2")
    statuses = {r[1] for r in rows}
    assert {"not_modified", "reused"} <= statuses, statuses
    for url, status, http, digest, reused_from, warc_file, offset in rows:
        if status not in ("not_modified", "reused"):
            continue
        assert http == (304 if status == "not_modified" else None)
        earlier = con.execute("SELECT digest, warc_file, warc_offset, fetch_status FROM snapshot WHERE id = ?",
                              (reused_from,)).fetchone()
        assert earlier is not None and earlier[3] == "ok", (url, reused_from)
        assert (digest, warc_file, offset) == earlier[:3]
        assert page_identity(url) in first
    # a full crawl of the same day fetched everything itself
    assert {r[1] for r in snapshots(con, "day2-full")} <= {"ok", "not_found", "blocked", "error"}


def test_second_crawl_reads_the_same_values_as_a_full_crawl_of_that_day(runs):
    """The same values, though the second crawl answered its pages that were not due from the archive
    and the full crawl read every page itself."""
    con, day2 = runs["con"], DAY + timedelta(days=1)
    reused = {k: r["reused"] for k, r in runs["results"].items()}
    assert reused["day2"] >= 50 and reused["day1"] == 0 and reused["day2-full"] == 0, reused
    incremental, full = observations(con, "day2", day2), observations(con, "day2-full", day2)
    assert len(full) > 100
    assert set(incremental) == set(full)
    differing = {k: (incremental[k], full[k]) for k in full if incremental[k] != full[k]}
    assert not differing, differing


def test_every_change_to_a_due_page_is_picked_up(runs):
    con = runs["con"]
    day3 = {page_identity(r[0]): r for r in snapshots(con, "day3")}
    day1 = {page_identity(r[0]): r for r in snapshots(con, "day1") if r[1] == "ok"}
    for host, path in runs["changed"]:
        key = next(k for k in day3 if re.match(rf"https?://{re.escape(host)}{re.escape(path)}$", k))
        row = day3[key]
        assert row[1] == "ok" and row[2] == 200, (key, row[1:3])
        assert row[3] != day1[key][3], f"{key}: change not read"
        state = con.execute("SELECT change_count, revisit_interval_s, role FROM url_state WHERE url_key = ?",
                            (key,)).fetchone()
        assert state[0] >= 1, (key, state)
    # The Lanzhou portal has news of yesterday now: its freshness follows the page.
    before = observations(con, "day2", DAY + timedelta(days=1))[("620100", "homepage_freshness_days", "DAY")]
    after = observations(con, "day3", DAY + timedelta(days=2))[("620100", "homepage_freshness_days", "DAY")]
    assert before[2] == "ok" and before[0] > 30, before
    assert after == (1.0, None, "ok"), after


def test_revisit_intervals_shrink_on_change_and_grow_without(runs):
    con = runs["con"]
    from storage.frontier import load_policy

    policy = load_policy()
    # list pages: first pages (role list) and the pages after them (role more_pages)
    rows = con.execute("SELECT url_key, role, revisit_interval_s, change_count, unchanged_count FROM url_state "
                       "WHERE spider = 'policy' AND role IN ('list', 'more_pages')").fetchall()
    start = policy.for_role("list").start_s
    grown = [r for r in rows if r[4] >= 1 and r[3] == 0]
    assert grown and all(r[2] > policy.for_role(r[1]).start_s or r[2] == policy.for_role(r[1]).max_s
                         for r in grown), rows
    changed_keys = {f"http://{h}{p}" for h, p in runs["changed"]} | {f"https://{h}{p}" for h, p in runs["changed"]}
    shrunk = [r for r in rows if r[0] in changed_keys]
    assert shrunk and all(r[3] >= 1 and r[2] < max(g[2] for g in grown) for r in shrunk), shrunk
    leaves = con.execute("SELECT revisit_interval_s FROM url_state WHERE role = 'detail'").fetchall()
    assert leaves and min(r[0] for r in leaves) > start   # leaf pages are revisited rarely


def test_pages_after_a_lists_first_follow_whether_the_first_changed(runs):
    """A list's later pages (role more_pages) come from the archive while their first page is unchanged
    and they are not due; once the first page changed, they are read again the same day."""
    con = runs["con"]
    later = {k for (k,) in con.execute("SELECT url_key FROM url_state WHERE role = 'more_pages'")}
    zcwj = {k for k in later if "/zcwj/index_" in k}
    assert len(zcwj) == 2, later
    day2 = {page_identity(r[0]): r for r in snapshots(con, "day2")}
    day3 = {page_identity(r[0]): r for r in snapshots(con, "day3")}
    assert all(day2[k][1] == "reused" for k in later), {k: day2[k][1] for k in later}
    # day 3: /zcwj/index.html changed (the fixture), so its later pages were asked of the site
    assert ("xxgk.lanzhou.gov.cn.test", "/zcwj/index.html") in runs["changed"]
    # (unchanged themselves: a 304 to the conditional request)
    assert all(day3[k][1] in ("ok", "not_modified") for k in zcwj), {k: day3[k][1:3] for k in zcwj}
    asked = {r.path for r in runs["logs"]["day3"] if r.host == "xxgk.lanzhou.gov.cn.test"}
    assert {"/zcwj/index_1.html", "/zcwj/index_2.html"} <= asked, asked
    untouched = later - zcwj
    assert all(day3[k][1] == "reused" for k in untouched), {k: day3[k][1] for k in untouched}


def test_every_role_the_spiders_ask_in_is_in_the_revisit_policy(runs):
    """A role missing from spiders/revisit.yaml would silently get the default (daily) interval; the
    portal's feature pages and column articles are leaves and are not asked the next day."""
    from storage.frontier import load_policy

    con, policy = runs["con"], load_policy()
    roles = {r for (r,) in con.execute("SELECT DISTINCT role FROM url_state")} - {""}
    assert {"subpage", "detail", "list"} <= roles, roles
    assert roles <= set(policy.roles), roles - set(policy.roles)
    day2 = {page_identity(r[0]): r[1] for r in snapshots(con, "day2")}
    leaves = con.execute("SELECT url_key, role FROM url_state WHERE spider = 'portal' "
                         "AND role IN ('article', 'subpage')").fetchall()
    assert leaves and all(day2[k] == "reused" for k, _role in leaves), \
        {k: (role, day2.get(k)) for k, role in leaves if day2.get(k) != "reused"}
