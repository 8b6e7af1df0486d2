"""The audit's portal screenshot is judged like a crawled page: what the browser was shown decides its
fetch status, so a photographed 403 or challenge page is evidence of a block, never an 'ok' capture."""

from collectors.fetch import classify_fetch
from spiders.base import page_from_document

REAL = ("<html><head><title>深圳市人民政府门户网站</title></head><body>"
        + "<p>政务公开 政策文件 办事服务 互动交流 市长信箱 12345 热线。</p>" * 20 + "</body></html>").encode()


def test_a_403_document_is_blocked():
    page = page_from_document("https://www.example.gov.cn.test/", b"<html><body>403 Forbidden</body></html>", {},
                              403, rendered=True)
    assert classify_fetch(page) == "blocked"


def test_a_passed_challenge_is_judged_by_its_content():
    assert classify_fetch(page_from_document("https://www.example.gov.cn.test/", REAL, {}, 412, rendered=True)) == "ok"
    shell = b"<html><body><script>document.cookie='x=1';location.reload()</script></body></html>"
    assert classify_fetch(page_from_document("https://www.example.gov.cn.test/", shell, {}, 412, rendered=True)) \
        == "blocked"


def test_a_200_page_is_ok():
    assert classify_fetch(page_from_document("https://www.example.gov.cn.test/", REAL, {}, 200, rendered=True)) == "ok"
