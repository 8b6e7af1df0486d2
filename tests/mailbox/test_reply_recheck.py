"""Unreplied messages re-checked through their list rows (issue 10, incremental crawls): the next day's
crawl of a board whose list shows each message's status asks the list pages (conditionally) and no
detail page of a message its row still shows unreplied; two messages that got their replies in between
(one on the first list page, one on a later page) are read from their detail pages, and the board's
statistics follow the site. Each crawl runs in its own process (one Twisted reactor per process)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from collectors.mailbox import CODES
from storage.store import page_identity

pytestmark = pytest.mark.slow

CITY = "330100"                 # 杭州: the 市长信箱 board (list rows with statuses) and a JSON board
BOARD, HOST = "hz-mayor", "hd.hangzhou.gov.cn.test"
REPLY = "经核查，已协调相关部门处理，感谢您的来信。"
ADDENDUM = "补充答复：该事项已全部办结。"
REVISIT_DAYS = 15           # past the detail role's first revisit interval (spiders/revisit.yaml: 14 days)


def _crawl(tmp: Path, key: str, day, env) -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(tmp / "settings.json"),
                           f"sqlite:///{tmp / 'r.db'}", key, day.isoformat(), CITY, "--spiders=mailbox",
                           str(tmp / f"{key}.json")], capture_output=True, text=True, timeout=300, env=env,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert proc.returncode == 0, proc.stderr[-4000:]


def _path(url: str) -> str:
    return "/" + page_identity(url).split("://", 1)[1].split("/", 1)[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from sgi.sampleweb.mailbox import board_truth, reply_to
    from sgi.sampleweb.mutate import change_page
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("reply-recheck")
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}
    with serve_sample_web(tmp / "web") as running:
        (tmp / "settings.json").write_text(json.dumps(running.crawl_settings()))
        day1 = running.web.reference_date
        _crawl(tmp, "day1", day1, env)
        con = sqlite3.connect(tmp / "r.db")
        con.row_factory = sqlite3.Row
        waiting = [dict(r) for r in con.execute(
            "SELECT * FROM message WHERE board = ? AND status != 'replied' AND detail_status = 'ok' "
            "ORDER BY message_id", (BOARD,))]
        first_page = [m for m in waiting if _path(m["list_url"]) == "/mail/list.jsp"]
        later_page = [m for m in waiting if _path(m["list_url"]) != "/mail/list.jsp"]
        assert first_page and later_page
        answered = [first_page[0], later_page[-1]]
        for m in answered:
            reply_to(running.web, BOARD, m["message_id"], day1 + timedelta(days=1), "市住房和城乡建设局", REPLY)
        # A reply already read is edited: not read again the next day, but once its page is due.
        edited = con.execute("SELECT message_id, reply_length FROM message WHERE board = ? AND status = 'replied' "
                             "AND detail_status = 'ok' AND reply_length > 0 ORDER BY message_id LIMIT 1",
                             (BOARD,)).fetchone()
        change_page(running.web, HOST, f"/mail/detail.jsp?id={edited[0]}",
                    lambda body: body.replace(b'<div class="hfnr"><p>', b'<div class="hfnr"><p>' + ADDENDUM.encode(), 1))
        mark = len(running.server.log)
        _crawl(tmp, "day2", day1 + timedelta(days=1), env)
        log = [r for r in running.server.log[mark:] if r.host == HOST]
        truth = [t for t in board_truth(running.web) if t["board"] == BOARD and not t["period"].startswith("R")]
        after_day2 = con.execute("SELECT reply_length FROM message WHERE board = ? AND message_id = ?",
                                 (BOARD, edited[0])).fetchone()[0]
        mark = len(running.server.log)
        _crawl(tmp, "weeks-later", day1 + timedelta(days=REVISIT_DAYS), env)
        later_log = [r for r in running.server.log[mark:] if r.host == HOST]
    yield {"con": con, "waiting": waiting, "answered": answered, "log": log, "truth": truth,
           "edited": (edited[0], edited[1], after_day2), "later_log": later_log}
    con.close()


def test_rows_still_unreplied_need_no_detail_page(runs):
    from spiders.mailbox import DEFAULT_RECHECK_DAYS

    asked = {r.path for r in runs["log"] if r.path.startswith("/mail/detail.jsp")}
    answered = {m["message_id"] for m in runs["answered"]}
    day2 = date.fromisoformat(_day(runs["con"], "day2"))
    young = [m for m in runs["waiting"] if m["message_id"] not in answered
             and (day2 - date.fromisoformat(m["submitted_date"])).days <= DEFAULT_RECHECK_DAYS]
    still = {"/mail/detail.jsp?id=" + m["message_id"] for m in young}
    assert len(still) > 20
    assert not (asked & still), sorted(asked & still)[:5]
    # the list pages that show them were asked of the site, conditionally
    lists = {_path(m["list_url"]) for m in young}
    asked_lists = {r.path: r for r in runs["log"] if r.path.startswith("/mail/list.jsp")}
    assert lists <= set(asked_lists), lists - set(asked_lists)
    assert all(asked_lists[p].conditional for p in lists)


def test_a_row_turning_replied_sends_for_its_detail_page(runs):
    asked = {r.path for r in runs["log"] if r.path.startswith("/mail/detail.jsp")}
    con = runs["con"]
    for m in runs["answered"]:
        assert "/mail/detail.jsp?id=" + m["message_id"] in asked
        row = con.execute("SELECT status, reply_date, reply_length, detail_status FROM message "
                          "WHERE board = ? AND message_id = ?", (BOARD, m["message_id"])).fetchone()
        assert tuple(row) == ("replied", str(_day(con, "day2")), len(REPLY), "ok")


def _day(con, run_key):
    return con.execute("SELECT as_of FROM crawl_run WHERE run_key = ?", (run_key,)).fetchone()[0]


def test_the_boards_statistics_follow_the_site(runs):
    con = runs["con"]
    got = {r["period"]: r for r in con.execute(
        "SELECT s.* FROM message_board_stat s JOIN crawl_run c ON c.id = s.run_id "
        "WHERE c.run_key = 'day2' AND s.board = ?", (BOARD,))}
    before = {r["period"]: r for r in con.execute(
        "SELECT s.* FROM message_board_stat s JOIN crawl_run c ON c.id = s.run_id "
        "WHERE c.run_key = 'day1' AND s.board = ?", (BOARD,))}
    assert runs["truth"]
    for want in runs["truth"]:
        g = got[want["period"]]
        for code in CODES:
            w = want[code]
            assert (w is None and g[code] is None) or abs(float(w) - float(g[code])) <= 1e-4, \
                (want["period"], code, g[code], w)
    # and the replies did change them (the current year holds the answered messages)
    year = str(_day(con, "day2"))[:4]
    assert got[year]["reply_rate"] > before[year]["reply_rate"]


def test_a_reply_already_read_is_read_again_once_its_page_is_due(runs):
    """A replied message's detail page is a leaf: not asked the next day, asked (conditionally) once
    its revisit date has come; an edited reply is then read."""
    mid, before, after_day2 = runs["edited"]
    page = f"/mail/detail.jsp?id={mid}"
    assert page not in {r.path for r in runs["log"]}
    assert after_day2 == before
    asked = {r.path: r for r in runs["later_log"] if r.path.startswith("/mail/detail.jsp")}
    assert page in asked and asked[page].conditional
    replied = [m for (m,) in runs["con"].execute(
        "SELECT message_id FROM message WHERE board = ? AND status = 'replied' AND detail_status = 'ok'", (BOARD,))]
    assert sum(("/mail/detail.jsp?id=" + m) in asked for m in replied) > 100     # the others, 304s
    now = runs["con"].execute("SELECT reply_length FROM message WHERE board = ? AND message_id = ?",
                              (BOARD, mid)).fetchone()[0]
    assert now == before + len(ADDENDUM)
