"""Real mode connects to public addresses only (spiders/addressguard.py; issue 23, probe D19).

The crawl test runs in a fresh network namespace with nothing routable but its own loopback, so a broken
guard still sends nothing off the machine: it then fails on the loopback server's connection count and on
snapshots that record a connection error instead of the guard's refusal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request

from spiders.addressguard import AddressGuard, SAMPLE_WEB_NETWORKS, literal_address

ROOT = Path(__file__).resolve().parents[1]

REFUSED = ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "10.0.0.1", "172.16.5.4",
           "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.251", "255.255.255.255",
           "::1", "[::1]", "::", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
           "ff02::1", "2002:a00:1::1", "64:ff9b::a9fe:a9fe"]
PUBLIC = ["1.2.3.4", "8.8.8.8", "202.96.128.86", "2400:3200::1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("host", REFUSED)
def test_non_public_literals_are_refused(host):
    assert literal_address(host) is not None
    assert AddressGuard().host_refusal(host).startswith("refused to connect to")


@pytest.mark.parametrize("host", PUBLIC)
def test_public_literals_pass(host):
    assert AddressGuard().host_refusal(host) is None


def test_names_are_judged_on_their_address_and_loopback_only_in_sample_web_runs():
    assert literal_address("www.sz.gov.cn") is None and AddressGuard().host_refusal("www.sz.gov.cn") is None
    assert "192.168.10.10" in AddressGuard().refusal("192.168.10.10", "intranet.example.cn")
    sample = AddressGuard(SAMPLE_WEB_NETWORKS)
    assert sample.host_refusal("127.0.0.1") is None and sample.host_refusal("::1") is None
    assert sample.host_refusal("10.0.0.1") is not None


def _namespace_available() -> str | None:
    if not shutil.which("unshare"):
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace here (needs root or user namespaces): {probe.stderr.strip()}"
    return None


@pytest.mark.slow
def test_a_real_mode_crawl_connects_to_no_private_address(tmp_path):
    why = _namespace_available()
    if why:
        pytest.skip(why)
    proc = subprocess.run(["unshare", "--net", sys.executable, "-m", "tests.guard_crawl", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads((tmp_path / "result.json").read_text())
    # The loopback server named directly, as a decimal and a hex IP and through a host name never saw a connection.
    assert result["accepted"] == 0
    snapshots = result["snapshots"]
    assert snapshots
    for requested_url, fetch_status, http_status, error in snapshots:
        assert (fetch_status, http_status) == ("error", None), (requested_url, fetch_status, error)
        assert error.startswith("AddressRefused: refused to connect to"), (requested_url, error)
    refused_urls = {s[0] for s in snapshots}
    kinds = {"127.0.0.1": "(loopback)", "10.0.0.1": "(private)", "169.254.169.254": "(link-local)",
             "intranet.example.cn": "(192.168.10.10): not a public address (private)",
             "loopback-alias.example.cn": "(127.0.0.1): not a public address (loopback)"}
    for code, url in result["start_urls"].items():
        requested = Request(url).url      # Scrapy spells 2130706433 and 0x7f000001 as 127.0.0.1
        assert requested in refused_urls, (code, url)
        reason = next(error for u, _, _, error in snapshots if u == requested)
        assert next(k for host, k in kinds.items() if host in requested) in reason, (url, reason)
    assert result["refused"] == len(snapshots)     # the guard's stats count every refusal
    check = {r["start_url"]: r for r in json.loads(result["check"])}
    assert result["check_rc"] == 0, result["check_stderr"]
    assert len(check) == 5
    for url, row in check.items():
        assert row["verdict"] == "error" and row["error"].startswith("refused to connect to"), row


def test_the_browser_aborts_requests_to_non_public_addresses_in_real_mode(monkeypatch):
    """Chromium resolves names itself: every request it makes (the page's subresources, redirects and script
    navigations included) is judged on the address the name resolves to, just before it goes out."""
    import asyncio
    from types import SimpleNamespace

    from spiders import browser

    def aborted(url, resource_type="document"):
        return asyncio.run(browser.should_abort_request(SimpleNamespace(url=url, resource_type=resource_type)))

    monkeypatch.setattr(browser, "SAMPLE_WEB_ONLY", False)     # a real-mode crawl (in-process tests may set it)
    for url in ("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://2130706433:22/",
                "http://localhost:9/", "ws://127.0.0.1:9/", "http://[::ffff:192.168.0.1]/"):
        assert aborted(url, "xhr"), url
    assert not aborted("data:text/html,hi")


def test_the_audit_screenshot_refuses_a_non_public_start_url_before_starting_chromium(tmp_path):
    from sqlalchemy import text

    from sgi.audit import screenshot_portal
    from storage import db
    from storage.store import start_run

    url = f"sqlite:///{tmp_path / 's.db'}"
    db.ensure_schema(url)
    run_id = start_run(url, "shot", command="t", spiders=[], cities=[], as_of="2026-06-30", sample_web=False)
    shot_id = screenshot_portal(url, run_id, "440300", "http://localhost:9/", sample_web=False)
    with db.ensure_schema(url).connect() as conn:
        status, error = conn.execute(text("SELECT fetch_status, error FROM snapshot WHERE id=:i"), {"i": shot_id}).one()
    assert status == "error" and error.startswith("AddressRefused: refused to connect to localhost (127.0.0.1)")


def test_the_ipv6_check_does_not_connect_to_a_non_public_aaaa_address():
    import socket

    from collectors.base import ERROR, OK
    from collectors.dns import check_ipv6
    from sgi.sampleweb.dns import SampleDNSServer

    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    listener = socket.socket(socket.AF_INET6)
    try:
        listener.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 here")
    listener.listen(4)
    port = listener.getsockname()[1]
    with listener, SampleDNSServer({}, {"v6.example.cn": "::1"}) as dns_server:
        refused = check_ipv6(f"http://v6.example.cn:{port}/", dns_server.address, refusal=AddressGuard().refusal)
        listener.settimeout(0.3)
        with pytest.raises(socket.timeout):
            listener.accept()        # nothing connected
        assert refused.status == ERROR and "not a public address (loopback)" in refused.evidence
        # the sample web's own guard lets loopback through: the same check connects
        allowed = check_ipv6(f"http://v6.example.cn:{port}/", dns_server.address,
                             refusal=AddressGuard(SAMPLE_WEB_NETWORKS).refusal)
        assert allowed.status == OK


def test_a_rendered_pages_web_socket_to_a_non_public_address_is_not_connected(monkeypatch):
    """Playwright's request routing does not see WebSockets: spiders/browser.guard_web_sockets closes one
    whose host is not public before it connects (a loopback server counts the connections)."""
    import asyncio
    import socket

    from playwright.async_api import async_playwright

    from spiders import browser

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    page_html = f"<html><body><script>new WebSocket('ws://127.0.0.1:{port}/')</script></body></html>"

    def accepted() -> int:
        n = 0
        while True:
            try:
                listener.accept()[0].close()
                n += 1
            except BlockingIOError:
                return n

    shipped = browser.launch_options(False)
    direct = {**shipped, "args": [a for a in shipped["args"] if not a.startswith("--proxy-")]}

    async def render(guarded: bool) -> int:
        async with async_playwright() as p:     # without the guard proxy: the WebSocket route alone
            chromium = await p.chromium.launch(**direct)
            try:
                page = await chromium.new_page()
                if guarded:
                    await browser.guard_web_sockets(page)
                await page.set_content(page_html)
                await page.wait_for_timeout(1000)
                return accepted()
            finally:
                await chromium.close()

    monkeypatch.setattr(browser, "SAMPLE_WEB_ONLY", False)     # a real-mode crawl
    with listener:
        assert asyncio.run(render(guarded=False)) >= 1       # the page does connect when nothing guards it
        assert asyncio.run(render(guarded=True)) == 0


def test_the_audit_screenshot_page_connects_nowhere_private():
    """The real-mode screenshot routes every request and WebSocket of the page through the guard."""
    import socket
    from urllib.parse import quote

    from sgi.audit import capture_screenshot

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    html = (f"<html><body><h1>portal</h1><img src='http://127.0.0.1:{port}/x.png'>"
            f"<script>fetch('http://127.0.0.1:{port}/api'); new WebSocket('ws://127.0.0.1:{port}/')</script></body></html>")
    with listener:
        shot = capture_screenshot("data:text/html," + quote(html), sample_web=False, timeout_ms=5000)
        assert shot["png"]
        with pytest.raises(socket.timeout):
            listener.accept()


def test_a_rendered_page_sends_no_webrtc_udp():
    """WebRTC's STUN packets go wherever a script says (here 127.0.0.1), past every request route: Chromium
    is launched with UDP for WebRTC off (spiders/browser.CHROMIUM_ARGS)."""
    import asyncio
    import socket

    from playwright.async_api import async_playwright

    from spiders import browser

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    port = udp.getsockname()[1]
    html = (f"<script>const pc = new RTCPeerConnection({{iceServers: [{{urls: 'stun:127.0.0.1:{port}'}}]}});"
            "pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o));</script>")

    async def packets(options) -> int:
        async with async_playwright() as p:
            chromium = await p.chromium.launch(**options)
            try:
                page = await chromium.new_page()
                await page.set_content(html)
                await page.wait_for_timeout(2000)
            finally:
                await chromium.close()
        n = 0
        while True:
            try:
                udp.recvfrom(2048)
                n += 1
            except BlockingIOError:
                return n

    shipped = browser.launch_options(False)
    without = {**shipped, "args": [a for a in shipped["args"] if not a.startswith("--webrtc-ip-handling-policy")]}
    with udp:
        assert asyncio.run(packets(without)) > 0       # the control: the page does send them otherwise
        assert asyncio.run(packets(shipped)) == 0


def _http_server():
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        hits = 0

        def do_GET(self):
            Page.hits += 1
            body = "<html><body><h1>通过代理</h1></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, Page


def test_real_mode_chromium_connects_only_through_the_guard_proxy():
    """Chromium resolves nothing itself in real mode: the guard proxy resolves, judges and connects to the
    address it judged (no DNS-rebinding window). Loopback is refused by name and by address; the same proxy
    allowing loopback (as a test's stand-in for a public address) serves the page, plain and tunnelled."""
    import asyncio

    from playwright.sync_api import sync_playwright

    from spiders import browser
    from spiders.guardproxy import GuardProxy, chromium_proxy_args

    server, handler = _http_server()
    port = server.server_address[1]
    shipped = browser.launch_options(False)
    assert any(a.startswith("--proxy-server=http://127.0.0.1:") for a in shipped["args"])
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(**shipped)
            try:
                page = chromium.new_page()
                for url in (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/", f"http://2130706433:{port}/"):
                    with pytest.raises(Exception):
                        page.goto(url, timeout=5000)
            finally:
                chromium.close()
            assert handler.hits == 0
            allowing = GuardProxy(AddressGuard(["127.0.0.0/8"])).start()
            direct = [a for a in shipped["args"] if not a.startswith("--proxy-")]
            chromium = p.chromium.launch(**{**shipped, "args": direct + chromium_proxy_args(allowing)})
            try:
                page = chromium.new_page()
                page.goto(f"http://localhost:{port}/", timeout=5000)
                assert "通过代理" in page.inner_text("h1")
            finally:
                chromium.close()
            assert handler.hits >= 1
    finally:
        server.shutdown()

    async def tunnel(proxy) -> bytes:       # a CONNECT tunnel (HTTPS, WebSockets) to the allowed server
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(f"CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(1024), 5)
        writer.close()
        return answer

    server, handler = _http_server()
    port = server.server_address[1]
    try:
        assert asyncio.run(tunnel(allowing)).startswith(b"HTTP/1.1 200")
        assert asyncio.run(tunnel(GuardProxy().start())) == b""          # refused: closed unanswered
    finally:
        server.shutdown()
