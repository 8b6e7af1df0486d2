"""The policy spider's failure paths without a crawl: an oversized or failed attachment is recorded with
its reason and changes nothing else; an unreadable list makes the city's counts blocked / error, never 0."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import DownloadCancelledError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from collectors import policy as rules
from spiders.policy import CityCrawl, PolicySpider


@pytest.fixture
def spider(tmp_path):
    crawler = get_crawler(PolicySpider, {"SGI_DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "SGI_AS_OF": "2026-06-30"})
    return PolicySpider.from_crawler(crawler)


def _failure(exc, request):
    try:
        raise exc
    except Exception:
        f = Failure()
    f.request = request
    return f


def _drain(agen):
    async def run():
        return [x async for x in agen]
    return asyncio.new_event_loop().run_until_complete(run())


def _state():
    source = SimpleNamespace(city_code="440300", start_url="http://xxgk.sz.gov.cn.test/zcwj/index.html",
                             allowed_domains=["sz.gov.cn.test"], options={})
    return CityCrawl("440300", [source], options={"years_back": 1}), source


def test_oversized_attachment_is_skipped_with_the_reason(spider):
    state, source = _state()
    url = "http://file.sz.gov.cn.test/upload/big.pdf"
    state.attachments[("http://xxgk.sz.gov.cn.test/a.html", url)] = {"url": url, "status": "error"}
    state.pending = 2           # the crawl goes on: another request is still in flight
    req = Request(url, meta={"sgi_state": state, "sgi_role": "attachment", "doc_url": "http://xxgk.sz.gov.cn.test/a.html"})
    msg = (f"Expected to receive 52428800 bytes which is larger than download max size (10485760) in request <GET {url}>.")
    items = _drain(spider.on_error(_failure(DownloadCancelledError(msg), req)))
    row = state.attachments[("http://xxgk.sz.gov.cn.test/a.html", url)]
    assert row["status"] == "skipped" and row["size"] == 52428800
    assert row["skip_reason"] == "size cap: 52428800 bytes > 10485760 bytes allowed"
    assert items == [] and not state.failed and not state.done


def test_unreadable_list_gives_blocked_counts_not_zero(spider):
    state, source = _state()
    state.pending = 1
    req = Request(source.start_url, meta={"sgi_state": state, "sgi_role": "list", "sgi_source": source})
    from scrapy.exceptions import IgnoreRequest
    items = _drain(spider.on_error(_failure(IgnoreRequest("Forbidden by robots.txt"), req)))
    assert state.done
    codes = {(i.indicator, i.period) for i in items}
    assert codes == {(c, p) for c in rules.INDICATORS for p in ("2025", "2026", "2026-06-30")}
    assert all(i.status == "blocked" and i.value is None for i in items)
