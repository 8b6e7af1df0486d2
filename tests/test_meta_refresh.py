"""spiders.middlewares.MetaRefreshMiddleware answers as Scrapy's does, deciding on the bytes only when
a body's head cannot hold a refresh."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse
from scrapy import Spider
from scrapy.utils.test import get_crawler

from spiders.middlewares import MetaRefreshMiddleware, may_refresh

REFRESH = "<meta http-equiv='Refresh' content='0; url=/moved'>"
BODIES = {
    "utf-8 refresh": ("<html><head>" + REFRESH + "</head><body>政务公开</body></html>", "utf-8"),
    "gbk refresh": ("<html><head><meta charset='gbk'>" + REFRESH + "</head><body>政务公开</body></html>", "gbk"),
    "utf-16 refresh": ("<html><head>" + REFRESH + "</head><body>政务公开</body></html>", "utf-16"),
    "none": ("<html><head><title>首页</title></head><body>" + "政务公开 " * 2000 + "</body></html>", "utf-8"),
    "word in text only": ("<html><body>refresh your browser 请刷新</body></html>", "utf-8"),
    # past the first 4,096 characters: Scrapy does not look there either
    "late refresh": ("<html><head><title>x</title></head><body>" + "政" * 5000 + REFRESH + "</body></html>", "utf-8"),
    "refresh in script": ("<html><head><script>var s=\"" + REFRESH + "\";</script></head></html>", "utf-8"),
}


def _built(cls):
    return cls.from_crawler(get_crawler(Spider))


def _answer(middleware, body: bytes):
    request = Request("http://www.example.gov.cn/index.html")
    response = HtmlResponse(request.url, body=body, request=request)
    out = middleware.process_response(request, response)
    return out.url if isinstance(out, Request) else "kept"


@pytest.mark.parametrize("name", sorted(BODIES))
def test_same_answer_as_scrapy(name):
    text, encoding = BODIES[name]
    body = text.encode(encoding)
    ours, theirs = _built(MetaRefreshMiddleware), _built(ScrapyMetaRefresh)
    assert _answer(ours, body) == _answer(theirs, body)


def test_the_byte_check():
    assert may_refresh(BODIES["utf-8 refresh"][0].encode("utf-8"))
    assert may_refresh(BODIES["utf-16 refresh"][0].encode("utf-16"))      # NUL bytes: cannot tell
    assert not may_refresh(BODIES["none"][0].encode("utf-8"))
    # and the cases above include redirects (the comparison is not between two no-ops)
    assert _answer(_built(MetaRefreshMiddleware), BODIES["gbk refresh"][0].encode("gbk")) == \
        "http://www.example.gov.cn/moved"


@pytest.mark.parametrize("target", ["http://127.0.0.2:18778/secret.html", "http://169.254.169.254/latest/meta-data/",
                                    "//intranet.example.gov.cn/", "https://www.example.gov.cn.evil.test/"])
def test_a_refresh_to_another_host_is_not_followed(target):
    """Issue 23 D18: a meta refresh obeys the rule a 302 does; the refreshing page stays the answer."""
    crawler = get_crawler(Spider)
    ours = MetaRefreshMiddleware.from_crawler(crawler)
    crawler.stats.open_spider()
    body = f"<html><head><meta http-equiv='refresh' content='0;url={target}'></head></html>".encode()
    assert _answer(ours, body) == "kept"
    assert _answer(_built(ScrapyMetaRefresh), body) != "kept"      # Scrapy alone follows it
    assert crawler.stats.get_value("sgi/meta_refresh/other_host_not_followed") == 1


def test_a_refresh_on_the_same_host_is_followed():
    body = b"<html><head><meta http-equiv='refresh' content='0;url=https://WWW.example.gov.cn./zwgk/'></head></html>"
    assert _answer(_built(MetaRefreshMiddleware), body) == "https://www.example.gov.cn./zwgk/"
