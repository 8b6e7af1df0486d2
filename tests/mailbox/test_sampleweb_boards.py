"""The sample boards are deterministic, hold the hard cases the issue asks for, and link only .test hosts."""

from __future__ import annotations

import re
from datetime import date

from collectors import mailbox as rules
from collectors.page import Page
from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.mailbox import board_truth

CRAWL = date(2026, 6, 30)


def test_generation_is_deterministic_and_has_hundreds_of_messages_per_board():
    a, b = build_sample_web(), build_sample_web()
    assert board_truth(a) == board_truth(b)
    extra = {"xm-mayor", "qd-12345", "wh-ldly", "cd-ldly", "lz-12345"}    # five more cities, modest sizes
    assert {b.key for b in a.mailbox_boards} == {"hz-mayor", "rmw-539", "rmw-1012", "nn-12345"} | extra
    for board in a.mailbox_boards:
        assert 60 <= len(board.messages) <= 150 if board.key in extra else len(board.messages) >= 250
        assert {m.status for m in board.messages} == {"replied", "in_progress", "not_replied"}
    assert sum(m.detail_404 for bd in a.mailbox_boards for m in bd.messages) == 2
    flagged = [m for bd in a.mailbox_boards for m in bd.messages if m.reply_date and m.reply_date < m.submitted]
    assert len(flagged) == 2


def test_html_list_pages_repeat_rows_and_parse_to_every_message():
    web = build_sample_web()
    site = web.sites["hd.hangzhou.gov.cn.test"]
    url, seen, rows = "http://hd.hangzhou.gov.cn.test/mail/list.jsp", set(), 0
    while url:
        path = url.split(".test", 1)[1]
        page = Page(url=url, body=site.resources[path].body, headers={"Content-Type": "text/html; charset=utf-8"})
        found = rules.parse_html_list(page, CRAWL, {"detail_link": r"detail\.jsp\?id="})
        rows += len(found)
        seen |= {m.message_id for m in found}
        url = rules.next_page_url(page)
    assert len(seen) == 300 and rows > 300          # duplicates across pages


def test_gbk_pages_are_gbk_and_every_link_is_a_test_host():
    web = build_sample_web()
    body = web.sites["www.nn12345.gov.cn.test"].resources["/gsgk/"].body
    assert "诉求标题".encode("gbk") in body
    for host, site in web.sites.items():
        if site.kind != "mailbox":
            continue
        assert host.endswith(".test")
        for res in site.resources.values():
            if callable(res.body):
                continue
            for m in re.finditer(rb"https?://([A-Za-z0-9.-]+)", res.body):
                assert m.group(1).endswith(b".test"), (host, m.group(0))
