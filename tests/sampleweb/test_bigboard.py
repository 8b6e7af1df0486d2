"""The scale-benchmark board (sgi.sampleweb.bigboard): generated on request, complete, deterministic, and
not part of the default sample web."""

from __future__ import annotations

import urllib.request

import pytest

from collectors import mailbox as rules
from collectors.page import Page
from sgi.sampleweb import bigboard
from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.server import SampleWebServer

HTML = {"Content-Type": "text/html; charset=utf-8"}


def _walk_lists(web):
    """Follow '下一页' from the first list page like the spider; returns (list pages read, messages)."""
    site = web.sites[bigboard.HOST]
    url, pages, messages = web.sources[0]["start_url"], 0, []
    while url:
        resource = site.resources.get(url.split(".test", 1)[1])
        assert resource is not None, url
        page = Page(url=url, body=resource.body, headers=HTML)
        messages += rules.parse_html_list(page, web.reference_date, web.sources[0]["options"])
        pages += 1
        url = rules.next_page_url(page)
    return pages, messages


def test_lists_link_every_message_once_and_the_page_count_adds_up():
    web = bigboard.build_big_board_web(pages=130)
    n = bigboard.message_count(130)
    pages, messages = _walk_lists(web)
    assert pages == bigboard.list_page_count(n) == 7 and n == 123
    assert len(messages) == n and len({m.message_id for m in messages}) == n
    assert pages + n == bigboard.expected_pages(n)
    assert all(m.submitted is None and m.detail_url for m in messages)   # dates only on detail pages


def test_detail_pages_carry_the_generated_dates_and_status():
    web = bigboard.build_big_board_web(pages=50)
    site = web.sites[bigboard.HOST]
    for generated in list(bigboard.big_board_messages(bigboard.message_count(50)))[::7]:
        url = f"http://{bigboard.HOST}{bigboard.DETAIL_PATH}?id={generated.mid}"
        detail = rules.parse_detail(Page(url=url, body=site.resources[url.split(".test", 1)[1]].body, headers=HTML),
                                    web.reference_date)
        assert detail.submitted == generated.submitted
        assert detail.status == generated.status
        assert detail.reply_date == generated.reply_date


def test_pages_are_made_on_request_and_are_the_same_every_time():
    site = bigboard.build_big_board_web(pages=100_000).sites[bigboard.HOST]
    assert len(site.resources) == 0                       # nothing is held
    last = f"{bigboard.DETAIL_PATH}?id=SZ{100000 + bigboard.message_count(100_000) - 1}"
    assert site.resources.get(last).body == site.resources.get(last).body
    assert site.resources.get(f"{bigboard.DETAIL_PATH}?id=SZ{100000 + bigboard.message_count(100_000)}") is None
    assert site.resources.get(f"{bigboard.LIST_PATH}?pageNo=0") is None
    assert site.resources.get("/mail/other.jsp") is None


def test_the_real_server_serves_it_and_the_default_web_does_not_include_it():
    assert bigboard.HOST not in build_sample_web().sites
    web = bigboard.build_big_board_web(pages=40)
    with SampleWebServer(web, tls=False) as server:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        def get(path):
            request = urllib.request.Request(f"http://127.0.0.1:{server.http_port}{path}",
                                             headers={"Host": bigboard.HOST})
            return opener.open(request, timeout=10)

        with get(f"{bigboard.DETAIL_PATH}?id=SZ100003") as answer:
            assert answer.status == 200 and "来信时间".encode() in answer.read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            get(f"{bigboard.DETAIL_PATH}?id=SZ100999")
        assert missing.value.code == 404
