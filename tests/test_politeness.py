"""Politeness (issue 10): Crawl-delay applied and capped, per-host concurrency, 429 / Retry-After
backoff, blocked answers not retried, an honest User-Agent. The crawl tests read what the sample web's
server saw (its request log), from one real crawl in a subprocess (tests/politeness_crawl.py)."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders import settings as project_settings
from spiders.politeness import (PolitenessMiddleware, backoff_pause, capped, fetch_status_of, parse_retry_after,
                                politeness_summary, pushes_back)
from tests.politeness_crawl import RETRY_AFTER_S, SETTINGS


# --- the crawl ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    out = tmp_path_factory.mktemp("politeness")
    proc = subprocess.run([sys.executable, "-m", "tests.politeness_crawl", str(out)], capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = json.loads((out / "log.json").read_text())
    result = json.loads((out / "stats.json").read_text())
    con = sqlite3.connect(out / "sgi.db")
    run_settings = json.loads(con.execute("SELECT settings FROM crawl_run").fetchone()[0])
    refused = con.execute("SELECT requested_url, fetch_status, error FROM snapshot WHERE requested_url LIKE "
                          "'%down.polite.test%' AND requested_url NOT LIKE '%robots.txt'").fetchall()
    con.close()
    return {"log": log, "stats": result["stats"], "wall_s": result["wall_s"], "run_settings": run_settings,
            "refused": refused}


def _to(log, host):
    return sorted((r for r in log if r["host"] == host), key=lambda r: r["started"])


def _gaps(requests):
    return [b["started"] - a["started"] for a, b in zip(requests, requests[1:])]


def assert_paced(requests, delay):
    """Every gap between request starts at least ~delay (the server stamps a request when its thread
    gets to it, which on a loaded machine can lag by a fraction of a second), and over the whole
    sequence, where such lags cannot add up, at least delay per gap."""
    gaps = _gaps(requests)
    assert min(gaps) >= delay - 0.25, gaps
    assert requests[-1]["started"] - requests[0]["started"] >= len(gaps) * delay - 0.1, gaps


def test_crawl_delay_spaces_every_request_to_the_host(crawl):
    requests = _to(crawl["log"], "delay.polite.test")
    assert len(requests) == 6   # robots.txt, home, 4 pages
    # AutoThrottle alone would go to ~0 s on loopback; the robots.txt Crawl-delay (1 s) is the floor.
    assert_paced(requests, 1.0)


def test_a_huge_crawl_delay_is_capped_and_the_cap_recorded(crawl):
    requests = _to(crawl["log"], "capped.polite.test")
    assert len(requests) == 4
    assert_paced(requests, 1.5)                           # SGI_MAX_CRAWL_DELAY 1.5 s, not the 60 s asked
    assert max(_gaps(requests)) < 10, _gaps(requests)
    stats = crawl["stats"]
    assert stats["sgi/politeness/crawl_delay_capped/capped.polite.test"] == 60.0
    assert stats["sgi/politeness/crawl_delay/capped.polite.test"] == 1.5
    assert "sgi/politeness/crawl_delay_capped/delay.polite.test" not in stats
    summary = crawl["run_settings"]["politeness"]["probe"]
    assert summary["crawl_delay_capped"] == {"capped.polite.test": 60.0}


def test_never_more_than_two_requests_in_flight_per_host(crawl):
    by_host = {}
    for r in crawl["log"]:
        by_host.setdefault(r["host"], []).append(r)
    for host, requests in by_host.items():
        peak = max(sum(1 for o in requests if o["started"] <= r["started"] < o["at"]) for r in requests)
        assert peak <= 2, host
    # The slow host (0.4 s answers, no delay) really had two at once: the limit, not the pace, bounded it.
    busy = _to(crawl["log"], "busy.polite.test")
    assert max(sum(1 for o in busy if o["started"] <= r["started"] < o["at"]) for r in busy) == 2


def test_429_with_retry_after_delays_the_next_request_to_that_host(crawl):
    requests = _to(crawl["log"], "throttled.polite.test")
    refused = next(r for r in requests if r["status"] == 429)
    later = [r for r in requests if r["started"] > refused["at"]]
    assert later, "the 429 was not retried"
    assert min(r["started"] for r in later) - refused["at"] >= RETRY_AFTER_S - 0.1
    assert [r["path"] for r in later].count("/") == 1      # RetryMiddleware retried the home page once
    assert crawl["stats"]["sgi/politeness/backoff/throttled.polite.test"] == 1
    # The backoff decays after the success: the remaining pages do not wait another 2 s each.
    assert max(r["at"] for r in later) - min(r["started"] for r in later) < RETRY_AFTER_S


def test_403_and_412_are_not_retried_and_are_counted_per_host(crawl):
    requests = _to(crawl["log"], "forbidden.polite.test")
    assert sorted(r["path"] for r in requests if r["status"] in (403, 412)) == ["/x", "/y"]
    assert crawl["stats"]["sgi/blocked/forbidden.polite.test"] == 2
    assert crawl["run_settings"]["politeness"]["probe"]["blocked"]["forbidden.polite.test"] == 2


def test_a_robots_txt_server_error_disallows_the_site_and_a_transient_one_is_retried(crawl):
    # RFC 9309 2.3.1.4: robots.txt unreachable (5xx after retries) = complete disallow; Scrapy alone
    # would read the error page as "no rules" and ask for every page of a site that is down.
    down = _to(crawl["log"], "down.polite.test")
    assert down and {r["path"] for r in down} == {"/robots.txt"}, [r["path"] for r in down]
    assert len(down) == 1 + SETTINGS["RETRY_TIMES"]          # retried like any request before judged
    stats = crawl["stats"]
    assert stats.get("sgi/robots_unreachable") == 1
    assert stats.get("sgi/robots_unreachable_refused", 0) >= 1   # the home page, refused without a request
    # ... and recorded as an error of its own (the site was down; it did not refuse us), naming the answer
    assert crawl["refused"] and all(st == "error" and "robots.txt answered HTTP 503 (snapshot" in err
                                    for _url, st, err in crawl["refused"]), crawl["refused"]
    flaky = [r["path"] for r in _to(crawl["log"], "flaky.polite.test")]
    assert flaky.count("/robots.txt") == 2 and "/" in flaky and "/p0" in flaky
    assert "/p1" not in flaky                                 # the rules read on the retry apply


def test_every_request_carries_the_contact_url(crawl):
    assert crawl["log"]
    assert all(project_settings.SGI_CONTACT_URL in r["user_agent"] for r in crawl["log"])


# --- pure policy ----------------------------------------------------------------------------------------
def test_retry_after_in_seconds_or_as_an_http_date():
    now = datetime(2026, 6, 30, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(b"7", now) == 7
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_doubles_with_upward_jitter_and_is_capped():
    rng = random.Random(1)
    for level, exact in ((1, 5), (2, 10), (3, 20)):
        pause = backoff_pause(level, 5, 300, rng)
        assert exact <= pause <= exact * 1.25
    assert backoff_pause(10, 5, 300, rng) == 300
    assert backoff_pause(0, 5, 300, rng) == 0
    assert capped(60, 30) == (30, True) and capped(1, 30) == (1, False)


def test_what_pushes_back():
    assert pushes_back(429, None) and pushes_back(503, None) and pushes_back(500, 30.0)
    assert not pushes_back(403, None) and not pushes_back(200, None) and not pushes_back(200, 5.0)


def test_summary_groups_stats_per_host():
    stats = {"sgi/blocked/a.test": 3, "sgi/blocked/browser_retry/a.test": 1,
             "sgi/politeness/crawl_delay/b.test": 2.0, "downloader/request_count": 9}
    assert politeness_summary(stats) == {"blocked": {"a.test": 3}, "browser_retry": {"a.test": 1},
                                         "crawl_delay": {"b.test": 2.0}}


def test_an_archived_answer_keeps_the_status_it_was_fetched_with():
    """A page answered from the archive (reused, or a 304's earlier body) is not read again to count
    blocks: its body was read as good when fetched, and this answer's status is not the record's."""
    from storage.store import SnapshotRef

    challenge = b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
    response = HtmlResponse("http://a.test/", status=200, body=challenge, request=Request("http://a.test/"))
    assert fetch_status_of(response.request, response) == "blocked"    # read, as for a fresh answer
    for kind, http_status in (("reused", None), ("not_modified", 304)):
        response.request.meta["sgi_snapshot"] = SnapshotRef("s1", "http://a.test/", datetime.now(timezone.utc),
                                                            "d", kind, http_status)
        assert fetch_status_of(response.request, response) == kind


# --- Scrapy components with the project's settings --------------------------------------------------------
def _project_crawler():
    from sgi.crawl import scrapy_settings

    settings = {k: v for k, v in scrapy_settings().copy_to_dict().items()
                if k.isupper() and not k.startswith("TWISTED_REACTOR")}
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = crawler._create_spider("t")
    return crawler


def test_retry_middleware_leaves_blocks_alone_and_retries_429():
    from scrapy.downloadermiddlewares.retry import RetryMiddleware

    retry = RetryMiddleware.from_crawler(_project_crawler())
    request = Request("http://www.x.gov.cn.test/")
    for status in (403, 412):
        response = HtmlResponse(request.url, status=status, body=b"<html></html>", request=request)
        assert retry.process_response(request, response) is response
    response = HtmlResponse(request.url, status=429, body=b"<html></html>", request=request)
    assert isinstance(retry.process_response(request, response), Request)


def test_a_blocked_page_goes_through_the_browser_once():
    crawler = _project_crawler()
    middleware = PolitenessMiddleware.from_crawler(crawler)
    meta = {"playwright": True, "sgi_plain_fetch": "blocked"}
    url = "http://www.x.gov.cn.test/"
    assert middleware.process_request(Request(url, meta=dict(meta))) is None
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request(url, meta=dict(meta)))
    assert middleware.process_request(Request(url + "other", meta=dict(meta))) is None
    assert middleware.process_request(Request(url, meta={"playwright": True})) is None   # not a block retry
    stats = crawler.stats.get_stats()
    assert stats["sgi/blocked/browser_retry/www.x.gov.cn.test"] == 2
    assert stats["sgi/blocked/browser_retry_refused/www.x.gov.cn.test"] == 1


# --- the browser --------------------------------------------------------------------------------------------
def test_renders_skip_media_recycle_contexts_and_share_one_browser(tmp_path):
    from tests.politeness_crawl import RECYCLE_EVERY, RENDERS

    proc = subprocess.run([sys.executable, "-m", "tests.politeness_crawl", "browser", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = json.loads((tmp_path / "log.json").read_text())
    stats = json.loads((tmp_path / "stats.json").read_text())["stats"]
    paths = [r["path"] for r in log]
    renders = 2 * RENDERS                                      # an http and an https host
    assert sum(p[:2] == "/r" and p[2:].isdigit() for p in paths) == renders
    assert paths.count("/s.css") == renders and paths.count("/app.js") == renders   # the page's own loads happen
    assert "/img.png" not in paths and "/f.woff2" not in paths                      # images and fonts never
    assert all(project_settings.SGI_CONTACT_URL in r["user_agent"] for r in log)
    assert stats["playwright/browser_count"] == 1              # one Chromium for http and https
    assert stats["playwright/context_count"] == renders // RECYCLE_EVERY
    assert stats["playwright/context_count/max_concurrent"] <= 2
    assert stats["sgi/browser/contexts_closed"] >= renders // RECYCLE_EVERY - 1


def test_an_unknown_reading_of_robots_server_errors_is_refused():
    from spiders.robots import Rfc9309RobotsTxtMiddleware

    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "SGI_ROBOTS_SERVER_ERROR": "alow"})
    with pytest.raises(ValueError, match="SGI_ROBOTS_SERVER_ERROR"):
        Rfc9309RobotsTxtMiddleware(crawler)
    assert Rfc9309RobotsTxtMiddleware(get_crawler(settings_dict={
        "ROBOTSTXT_OBEY": True, "SGI_ROBOTS_SERVER_ERROR": "allow"})).server_error_disallows is False
