"""When the mailbox spider asks for a message's detail page (spiders/mailbox.py needs_detail), and
whether a list page's rows are the site's answer of this run (spiders/incremental.answered_by_site)."""

from __future__ import annotations

from datetime import date

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from collectors.mailbox import Message
from spiders.incremental import REPLAYED, REUSED, answered_by_site
from spiders.mailbox import BoardCrawl, MailboxSpider

CRAWL = date(2026, 6, 30)
URL = "http://hd.example.gov.cn/mail/detail.jsp?id="


@pytest.fixture
def spider():
    spider = MailboxSpider()
    spider.crawl_date = CRAWL
    return spider


def board(**stored) -> BoardCrawl:
    return BoardCrawl("330100", None, "hz", {}, stored)


def row(status, detail="ok", submitted="2026-06-01"):
    return {"status": status, "detail_status": detail, "submitted_date": submitted}


def test_a_row_still_unreplied_on_a_current_list_needs_no_detail(spider):
    b = board(a=row("in_progress"))
    msg = Message("a", status="in_progress", detail_url=URL + "a")
    assert spider.needs_detail(b, msg, list_is_current=True) is False
    # rows from a list page answered from the archive say nothing new: the detail page is the re-check
    assert spider.needs_detail(b, msg, list_is_current=False) is True


def test_a_row_turning_replied_or_an_unread_detail_is_fetched(spider):
    replied = Message("a", status="replied", detail_url=URL + "a")
    assert spider.needs_detail(board(a=row("in_progress")), replied, list_is_current=True) is True
    # a stored detail that could not be read (404, blocked) is not a reading to keep
    pending = Message("a", status="in_progress", detail_url=URL + "a")
    assert spider.needs_detail(board(a=row("in_progress", detail="not_found")), pending, True) is True
    # a list without statuses says nothing about replies
    unknown = Message("a", status=None, detail_url=URL + "a")
    assert spider.needs_detail(board(a=row("in_progress")), unknown, list_is_current=True) is True
    # a new message whose list row has no date
    assert spider.needs_detail(board(), pending, list_is_current=True) is True


def test_replied_and_old_messages_are_not_rechecked(spider):
    msg = Message("a", status="replied", detail_url=URL + "a")
    assert spider.needs_detail(board(a=row("replied")), msg, list_is_current=False) is False
    old = Message("a", status="in_progress", detail_url=URL + "a")
    assert spider.needs_detail(board(a=row("in_progress", submitted="2024-01-01")), old, False) is False
    assert spider._rechecked(board(), row("in_progress")) is True
    assert spider._rechecked(board(), row("in_progress", submitted="2024-01-01")) is False
    assert spider._rechecked(board(), row("replied")) is False


def _response(flags=(), **meta):
    request = Request("http://hd.example.gov.cn/mail/list.jsp", meta=meta)
    return HtmlResponse(request.url, body=b"<html></html>", flags=list(flags), request=request)


def test_answered_by_site():
    assert answered_by_site(_response()) is True
    assert answered_by_site(_response([REUSED], sgi_reuse={"kind": "not_modified"})) is True
    assert answered_by_site(_response([REUSED], sgi_reuse={"kind": "reused"})) is False
    assert answered_by_site(_response([REPLAYED], sgi_replayed={"fetch_status": "not_modified"})) is True
    assert answered_by_site(_response([REPLAYED], sgi_replayed={"fetch_status": "reused"})) is False


def test_a_status_read_from_a_list_row_cites_that_list_page(spider):
    """A message not read again keeps its stored detail reading and cites the detail page; when this
    run's list row shows another status (no reply yet), the row cites the list page it came from."""
    stored = {**row("not_replied"), "message_id": "a", "snapshot_id": "detail-snap", "list_url": "u"}
    for listed, cited in (("not_replied", "detail-snap"), ("in_progress", "list-snap")):
        b = board(a=dict(stored))
        b.messages["a"] = (Message("a", status=listed, detail_url=URL + "a"), "http://x/list", "list-snap")
        merged = {m.message_id: (m, extra) for m, extra in spider._merge_stored(b)}
        msg, extra = merged["a"]
        assert msg.status == listed and msg.submitted == date(2026, 6, 1)
        assert extra["snapshot_id"] == cited and extra["detail_status"] == "ok"
