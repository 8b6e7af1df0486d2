"""Pages no rule can read (D7, D12): an empty body, a PDF or binary bytes served as text/html with 200,
and pages past the parse budget. They prove nothing absent: their indicators are 'error' with the
reason. A real empty HTML page is still a page without features, and a moderately deep page still
reads as it always did."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors import mailbox, opendata, policy, portal
from collectors.base import ABSENT, ERROR, OK
from collectors.fetch import ERROR as FETCH_ERROR, OK as FETCH_OK, classify_fetch
from collectors.page import MAX_DEPTH, MAX_ELEMENTS, Page
from sgi.sampleweb.dns import SampleDNSServer

CRAWL_DATE = date(2026, 7, 1)
URL = "https://www.sz.gov.cn/"
NORMAL = ("<html><head><meta name='viewport' content='width=device-width'><title>深圳市人民政府</title></head>"
          "<body><div class='search'><form action='/search'><input type='text' name='keyword'></form></div>"
          "<ul class='news'><li><a href='/xw/t20260628_1.html'>市政府常务会议召开</a><span>2026-06-28</span></li>"
          "<li><a href='/xw/t20260627_2.html'>优化营商环境新举措</a><span>2026-06-27</span></li></ul>"
          "<div class='nav'><a href='/wzdt/'>网站地图</a><a href='http://en.sz.gov.cn/'>English</a>"
          "<a href='/hdjl/szxx/'>市长信箱</a><span>12345热线</span></div>"
          "<div class='footer'>网站标识码：4403000001 粤ICP备05112303号</div></body></html>")
RANDOM_BYTES = random.Random(7).randbytes(200_000)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def nested(levels: int, inner: str) -> str:
    return "<html><body>" + "<div>" * levels + inner + "</div>" * levels + "</body></html>"


def page(body: bytes | str, url: str = URL) -> Page:
    return Page(url=url, body=body.encode() if isinstance(body, str) else body,
                headers={"Content-Type": "text/html; charset=utf-8"})


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, reason", [
    (b"", "not an HTML document: 0 bytes"),
    (b"  \r\n ", "not an HTML document: 5 bytes of whitespace"),
    (PDF, "not an HTML document: PDF"),
    (b"PK\x03\x04" + RANDOM_BYTES[:1000], "not an HTML document: ZIP"),
    (RANDOM_BYTES, "not an HTML document: binary"),
])
def test_a_body_that_is_not_a_document_gives_errors(body, reason):
    p = page(body)
    assert p.unreadable.startswith(reason)
    assert classify_fetch(p) == FETCH_OK          # the fetch worked; what came back is not a page
    findings = portal.extract_portal(p, CRAWL_DATE)
    assert set(findings) == set(portal.RULE_VERSIONS)
    assert {f.status for f in findings.values()} == {ERROR}
    assert all(reason in f.evidence for f in findings.values())


def test_a_real_empty_page_is_a_page_without_features():
    p = page("<html><body></body></html>")
    assert p.unreadable is None and classify_fetch(p) == FETCH_OK
    findings = portal.extract_portal(p, CRAWL_DATE)
    assert findings["site_map"].status == ABSENT and findings["site_search"].status == ABSENT


def test_text_in_other_encodings_is_a_document():
    html = NORMAL.replace("<head>", "<head><meta charset='gbk'>")
    for body in (html.encode("gbk"), html.encode("utf-16"), html.encode("big5", "replace")):
        assert page(body).unreadable is None


def test_a_page_past_the_depth_budget_is_an_error_with_the_reason():
    levels = 50_000
    p = page(nested(levels, "网站地图"))
    assert MAX_DEPTH < levels
    assert p.unreadable == f"page too deep: {levels + 2:,} levels of elements > budget {MAX_DEPTH:,}"
    assert classify_fetch(p) == FETCH_ERROR
    findings = portal.extract_portal(p, CRAWL_DATE)
    assert {f.status for f in findings.values()} == {ERROR}
    assert "page too deep: 50,002 levels" in findings["site_map"].evidence
    # every rule of every harvest gets an empty tree, so none of them can spend long on it
    assert policy.parse_detail(p).body == "" and mailbox.parse_html_list(p, CRAWL_DATE) == []
    assert opendata.read_html_list(p, URL, {"adapter": "html"}, 1)[0] == []


def test_a_page_past_the_element_budget_is_an_error():
    p = page("<html><body>" + "<i></i>" * (MAX_ELEMENTS + 10) + "</body></html>")
    assert p.unreadable == f"page too large: more than {MAX_ELEMENTS:,} elements (budget {MAX_ELEMENTS:,})"
    assert classify_fetch(p) == FETCH_ERROR


def test_a_moderately_deep_page_reads_as_the_same_page_flat():
    flat = portal.extract_portal(page(NORMAL), CRAWL_DATE)
    body = NORMAL[NORMAL.index("<body>") + 6:NORMAL.index("</body>")]
    deep_html = NORMAL.replace(body, "<div>" * 2_000 + body + "</div>" * 2_000)
    deep = page(deep_html)
    assert deep.unreadable is None and classify_fetch(deep) == FETCH_OK
    found = portal.extract_portal(deep, CRAWL_DATE)
    assert {c: (f.value, f.status) for c, f in found.items() if c != "homepage_bytes"} == \
        {c: (f.value, f.status) for c, f in flat.items() if c != "homepage_bytes"}
    # and the page says what we put there, so the comparison is not between two empty readings
    assert found["site_map"].status == OK and found["site_search"].status == OK
    assert found["language_versions"].value == 1 and found["homepage_freshness_days"].value == 3
    assert found["site_identifier"].value == "4403000001" and found["icp_record"].value == "粤ICP备05112303号"
    assert portal.column_links(deep) == portal.column_links(page(NORMAL))
    assert portal.extract_portal_links(deep) == portal.extract_portal_links(page(NORMAL))


def test_deep_policy_page_reads_its_fields():
    inner = ("<table><tr><td>发文字号：</td><td>深府〔2026〕12号</td></tr>"
             "<tr><td>发文机关：</td><td>深圳市人民政府</td></tr></table>"
             "<div class='TRS_Editor'>" + "为进一步优化营商环境，现就有关事项通知如下。" * 5 + "</div>")
    flat, deep = policy.parse_detail(page(nested(1, inner))), policy.parse_detail(page(nested(2_000, inner)))
    assert (deep.doc_number, deep.issuer, deep.body) == (flat.doc_number, flat.issuer, flat.body)
    assert deep.doc_number == "深府〔2026〕12号" and deep.issuer == "深圳市人民政府"


# --- a crawl of loopback portals -----------------------------------------------------------------

HOMES = {   # city code -> home page body (all sent as text/html with 200)
    "440300": b"",
    "330100": PDF,
    "420100": RANDOM_BYTES,
    "510100": nested(50_000, "网站地图").encode(),
    "370200": b"<html><body></body></html>",     # a real, empty page: features absent
}


class _Homes(BaseHTTPRequestHandler):
    def do_GET(self):
        code = self.path.strip("/").split("/")[0]
        body = HOMES.get(code)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def homes_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Homes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # A sample-web host name (*.test resolves to loopback in sample-web mode): real mode refuses loopback.
    yield f"http://homes.test:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_crawl_records_unreadable_home_pages_as_errors(tmp_path, homes_server):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n" + "".join(
        f"  - {{city: '{code}', kind: portal, name: p{code}, start_url: '{homes_server}/{code}/'}}\n"
        for code in HOMES), encoding="utf-8")
    db = tmp_path / "c.db"
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp_path / "warc")}
    # The IPv6 check asks a DNS server on loopback (an empty one), never the system's resolver.
    with SampleDNSServer({}, {}) as dns_server:
        settings = tmp_path / "settings.json"
        settings.write_text(json.dumps({"SGI_SOURCES_FILE": str(sources), "SGI_DNS_SERVER": dns_server.address,
                                        "SGI_SAMPLE_WEB": True}))
        proc = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(settings), f"sqlite:///{db}", "unreadable",
                               CRAWL_DATE.isoformat(), ",".join(HOMES), "--spiders=portal"],
                              capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = sqlite3.connect(db).execute(
        "select city_code, indicator, status, evidence_detail from observation").fetchall()
    by_city: dict[str, dict] = {}
    for city, indicator, status, detail in rows:
        by_city.setdefault(city, {})[indicator] = (status, detail)
    expected = {"440300": "home page: not an HTML document: 0 bytes (HTTP 200)",
                "330100": "home page: not an HTML document: PDF (HTTP 200)",
                "420100": "home page: not an HTML document: binary",
                "510100": "home page: page too deep: 50,002 levels of elements > budget"}
    for city, reason in expected.items():
        readings = {k: v for k, v in by_city[city].items() if k != "portal_ipv6"}
        assert len(readings) > 25, (city, readings)
        assert {status for status, _ in readings.values()} == {ERROR}, (city, readings)
        assert all(detail.startswith(reason) for _, detail in readings.values()), (city, readings)
    # the loopback DNS server answered the IPv6 check
    assert by_city["440300"]["portal_ipv6"] == (ABSENT, "no AAAA record for homes.test")
    # the real empty page is read: nothing on it
    empty_doc = by_city["370200"]
    assert empty_doc["site_map"][0] == ABSENT and empty_doc["portal_reachable"][0] == OK
