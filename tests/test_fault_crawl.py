"""Missing is not zero: a blocked (412/403) or failed (500, timeout, truncated) portal is recorded with
that status for every indicator, never as 'absent', and the failure itself is kept as evidence."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from spiders.portal import portal_indicator_codes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    db = tmp / "f.db"
    env = {"SGI_ARCHIVE_DIR": str(tmp / "warc"), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    proc = subprocess.run([sys.executable, "-m", "tests.fault_crawl", f"sqlite:///{db}", str(tmp / "web")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    yield con
    con.close()


def statuses(con, city):
    rows = con.execute("SELECT indicator, status, value_num, value_text, snapshot_id, evidence_detail "
                       "FROM observation WHERE city_code = ?", (city,)).fetchall()
    return {r["indicator"]: r for r in rows}


@pytest.mark.parametrize("city,expected", [("440300", "blocked"), ("330100", "blocked"), ("510100", "error"),
                                           ("420100", "error"), ("370200", "error")])
def test_unreadable_portal_gets_its_status_for_every_indicator(crawled, city, expected):
    got = statuses(crawled, city)
    wanted = set(portal_indicator_codes()) - {"portal_ipv6"}   # IPv6 is a DNS reading, not a page
    assert wanted <= set(got), f"missing: {sorted(wanted - set(got))}"
    for code in wanted:
        row = got[code]
        assert row["status"] == expected, (code, row["status"], row["evidence_detail"])
        assert row["value_num"] is None and row["value_text"] is None
    assert all(r["status"] != "absent" for c, r in got.items() if c != "portal_ipv6")


def test_blocked_responses_are_archived_as_evidence(crawled):
    snaps = crawled.execute("SELECT http_status, fetch_status, warc_file FROM snapshot "
                            "WHERE final_url LIKE '%blocked412%' AND requested_url NOT LIKE '%robots.txt'").fetchall()
    assert snaps and all(s["fetch_status"] == "blocked" and s["http_status"] == 412 and s["warc_file"]
                         for s in snaps)
    failures = crawled.execute("SELECT fetch_status, error FROM snapshot WHERE requested_url LIKE '%slow%' "
                               "AND requested_url NOT LIKE '%robots.txt'").fetchall()
    assert failures and all(f["fetch_status"] == "error" and "Timeout" in (f["error"] or "") for f in failures)


def test_the_working_portal_beside_them_is_read(crawled):
    got = statuses(crawled, "450100")
    assert got["portal_reachable"]["status"] == "ok" and got["portal_reachable"]["value_num"] == 1.0
    assert got["site_search"]["status"] == "ok" and got["site_map"]["status"] == "ok"
    assert got["portal_https"]["status"] == "absent"      # read and not so: that is absent


def test_run_counts_responses_by_status(crawled):
    run = crawled.execute("SELECT requests, responses_by_status, state FROM crawl_run").fetchone()
    assert run["state"] == "finished" and run["requests"] > 5
    assert '"412"' in run["responses_by_status"] and '"500"' in run["responses_by_status"]


def test_a_failed_column_makes_the_column_counts_unknown_not_smaller(crawled):
    got = statuses(crawled, "450100")
    for code in ("stale_columns", "empty_columns", "page_meta_tags_share"):
        assert got[code]["status"] == "error", (code, got[code]["status"], got[code]["evidence_detail"])
        assert "/xwdt/" in got[code]["evidence_detail"]


def test_a_blocked_sub_page_makes_its_features_unknown_not_absent(crawled):
    from collectors.portal import SUBPAGE_FEATURES

    got = statuses(crawled, "450100")
    assert "mayor_mailbox" in SUBPAGE_FEATURES and "policy_interpretation" in SUBPAGE_FEATURES
    for code in ("mayor_mailbox", "online_interview", "opinion_solicitation"):
        assert got[code]["status"] == "blocked" and got[code]["value_num"] is None, (code, dict(got[code]))
        assert "/hdjl/" in got[code]["evidence_detail"]
    assert got["site_search"]["status"] == "ok"          # read on the home page itself
