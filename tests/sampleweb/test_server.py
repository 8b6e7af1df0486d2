"""The sample web server is a real HTTP server: these tests talk to it over loopback sockets."""

import gzip
import http.client
import ssl
import time
from datetime import date, datetime, timezone

import pytest

from sgi.sampleweb.model import Fault, Resource, SampleWeb, Site
from sgi.sampleweb.server import CHALLENGE_COOKIE, SampleWebServer

PAGE = "<html><body><a href='http://data.x.gov.cn.test/list'>数据开放</a>" + "政务公开" * 200 + "</body></html>"


def make_web() -> SampleWeb:
    web = SampleWeb(reference_date=date(2026, 6, 30), seed=1)
    site = Site(host="www.x.gov.cn.test", city_code="440300", kind="portal",
                robots_txt="User-agent: *\nDisallow: /private/\n")
    site.resources["/"] = Resource(PAGE.encode("utf-8"), last_modified=datetime(2026, 6, 1, tzinfo=timezone.utc))
    site.resources["/gbk.html"] = Resource(PAGE.encode("gbk"), content_type="text/html; charset=utf-8")
    site.resources["/blocked.html"] = Resource(b"x", fault=Fault(status=412))
    site.resources["/slow.html"] = Resource(b"slow", fault=Fault(delay_s=1.0))
    site.resources["/cut.html"] = Resource(PAGE.encode(), fault=Fault(truncate_to=100))
    site.resources["/flaky.html"] = Resource(b"fine", fault=Fault(status=503, retry_after=7, times=1))
    site.resources["/old"] = Resource(b"", redirect_to="/")
    site.resources["/loop1"] = Resource(b"", redirect_to="/loop2")
    site.resources["/loop2"] = Resource(b"", redirect_to="/loop1")
    site.resources["/echo"] = Resource(lambda req: f"{req.method} {req.body.decode()}".encode(),
                                       content_type="text/plain")
    web.add_site(site)
    secure = Site(host="www.y.gov.cn.test", city_code="330100", kind="portal", https=True, hsts=True)
    secure.resources["/"] = Resource(b"<html>secure</html>")
    web.add_site(secure)
    guarded = Site(host="www.z.gov.cn.test", city_code="510100", kind="portal", js_challenge=True)
    guarded.resources["/"] = Resource(b"<html>real page</html>")
    web.add_site(guarded)
    return web


@pytest.fixture(scope="module")
def server():
    with SampleWebServer(make_web()) as srv:
        yield srv


def get(server, host, path, headers=None, method="GET", body=None, https=False, timeout=5):
    if https:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", server.https_port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=timeout)
    conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_serves_bytes_and_rewrites_test_urls_with_ports(server):
    resp, data = get(server, "www.x.gov.cn.test", "/")
    assert resp.status == 200
    assert f"http://data.x.gov.cn.test:{server.http_port}/list".encode() in data


def test_charset_bytes_are_served_as_generated(server):
    _, data = get(server, "www.x.gov.cn.test", "/gbk.html")
    assert "政务公开".encode("gbk") in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_gzip_when_accepted(server):
    resp, data = get(server, "www.x.gov.cn.test", "/", {"Accept-Encoding": "gzip"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert "政务公开" in gzip.decompress(data).decode()


def test_conditional_requests_answer_304(server):
    resp, _ = get(server, "www.x.gov.cn.test", "/")
    etag, modified = resp.getheader("ETag"), resp.getheader("Last-Modified")
    assert etag and modified
    assert get(server, "www.x.gov.cn.test", "/", {"If-None-Match": etag})[0].status == 304
    assert get(server, "www.x.gov.cn.test", "/", {"If-Modified-Since": modified})[0].status == 304
    assert get(server, "www.x.gov.cn.test", "/", {"If-None-Match": '"other"'})[0].status == 200


def test_robots_and_unknown_paths_and_hosts(server):
    resp, data = get(server, "www.x.gov.cn.test", "/robots.txt")
    assert resp.status == 200 and b"Disallow: /private/" in data
    assert get(server, "www.x.gov.cn.test", "/nope.html")[0].status == 404
    assert get(server, "www.y.gov.cn.test", "/robots.txt", https=True)[0].status == 404
    assert get(server, "unknown.test", "/")[0].status == 404


def test_injected_status_faults(server):
    assert get(server, "www.x.gov.cn.test", "/blocked.html")[0].status == 412
    first = get(server, "www.x.gov.cn.test", "/flaky.html")[0]
    assert first.status == 503 and first.getheader("Retry-After") == "7"
    assert get(server, "www.x.gov.cn.test", "/flaky.html")[0].status == 200   # times=1: only the first


def test_runtime_injection_and_clearing(server):
    server.inject("www.x.gov.cn.test", None, Fault(status=403))
    try:
        assert get(server, "www.x.gov.cn.test", "/")[0].status == 403
        assert get(server, "www.x.gov.cn.test", "/gbk.html")[0].status == 403
    finally:
        server.inject("www.x.gov.cn.test", None, None)
    assert get(server, "www.x.gov.cn.test", "/")[0].status == 200
    server.inject("www.x.gov.cn.test", "/", Fault(status=500, times=2))
    assert [get(server, "www.x.gov.cn.test", "/")[0].status for _ in range(3)] == [500, 500, 200]


def test_slow_response_times_out_a_client(server):
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        get(server, "www.x.gov.cn.test", "/slow.html", timeout=0.3)
    assert time.monotonic() - start < 1.0


def test_truncated_body_is_detected_by_the_client(server):
    with pytest.raises(http.client.IncompleteRead):
        get(server, "www.x.gov.cn.test", "/cut.html")


def test_redirects_and_https_upgrade_with_hsts(server):
    resp, _ = get(server, "www.x.gov.cn.test", "/old")
    assert resp.status == 302 and resp.getheader("Location").endswith(":%d/" % server.http_port)
    assert get(server, "www.x.gov.cn.test", "/loop1")[0].getheader("Location").endswith("/loop2")
    plain = get(server, "www.y.gov.cn.test", "/")[0]
    assert plain.status == 301 and plain.getheader("Location").startswith("https://www.y.gov.cn.test:")
    secure, data = get(server, "www.y.gov.cn.test", "/", https=True)
    assert secure.status == 200 and data == b"<html>secure</html>"
    assert "max-age" in secure.getheader("Strict-Transport-Security")


def test_js_challenge_needs_the_cookie_a_script_computes(server):
    resp, data = get(server, "www.z.gov.cn.test", "/")
    assert resp.status == 412 and b"document.cookie" in data
    # What the script computes: the char codes listed in the page.
    codes = data.split(b"var p=[")[1].split(b"]")[0].decode().split(",")
    token = "".join(chr(int(c)) for c in codes)
    resp, data = get(server, "www.z.gov.cn.test", "/", {"Cookie": f"{CHALLENGE_COOKIE}={token}"})
    assert resp.status == 200 and data == b"<html>real page</html>"


def test_post_bodies_reach_dynamic_resources_and_requests_are_logged(server):
    _, data = get(server, "www.x.gov.cn.test", "/echo", method="POST", body=b"page=2",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert data == b"POST page=2"
    logged = [r for r in server.requests_to("www.x.gov.cn.test") if r.path == "/echo"]
    assert logged and logged[-1].method == "POST" and logged[-1].bytes_sent == len(data)


def test_refuses_non_loopback_binding():
    with pytest.raises(ValueError):
        SampleWebServer(make_web(), host="0.0.0.0")


def test_latency_is_per_host_seeded_and_bounded():
    from sgi.sampleweb.server import ResponseLatency

    a, b = ResponseLatency(7, 100), ResponseLatency(7, 100)
    hosts = [f"www.{i}.gov.cn.test" for i in range(40)]
    assert [a.host_s(h) for h in hosts] == [b.host_s(h) for h in hosts]      # same seed, same sites
    assert len({round(a.host_s(h), 6) for h in hosts}) > 30                  # sites differ
    assert all(0.02 <= a.host_s(h) <= 0.5 for h in hosts)
    assert all(0.7 * a.host_s(h) <= a.answer_s(h) <= 1.3 * a.host_s(h) for h in hosts)
    assert ResponseLatency(8, 100).host_s(hosts[0]) != a.host_s(hosts[0])


def test_a_server_with_latency_answers_no_sooner_than_its_sites_take():
    with SampleWebServer(make_web(), latency_ms=150) as slow:
        least = 0.7 * slow.latency.host_s("www.x.gov.cn.test")
        started = time.monotonic()
        resp, _ = get(slow, "www.x.gov.cn.test", "/")
        assert resp.status == 200 and time.monotonic() - started >= least


def test_starting_leaves_no_certificate_or_key_in_the_temp_folder(tmp_path, monkeypatch):
    """Issue 23 D24: every start wrote cert.pem and key.pem into a temp folder and never removed it."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with SampleWebServer(make_web()) as srv:
        resp, data = get(srv, "www.y.gov.cn.test", "/", https=True)
        assert resp.status == 200 and data == b"<html>secure</html>"
        assert list(tmp_path.iterdir()) == []
    assert list(tmp_path.iterdir()) == []
