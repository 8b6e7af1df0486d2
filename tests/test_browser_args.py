"""Chromium's launch arguments (spiders/browser.py CHROMIUM_ARGS): they keep Playwright's own feature
switches, and they cut the browser's processes as intended (issue 10, bench/bench_browser.py measures the
memory)."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

from spiders import browser


def playwright_feature_list(name: str) -> list[str]:
    """A feature list of the installed Playwright driver's chromiumSwitches (comments dropped)."""
    import playwright

    package = Path(playwright.__file__).parent / "driver" / "package" / "lib"
    sources = (p.read_text(errors="replace") for p in sorted(package.rglob("*.js")))
    source = "\n".join(s for s in sources if "chromiumSwitches" in s)
    match = re.search(rf"\b{name} = (?:\(\) => )?\[(.*?)\]\.filter\(Boolean\)", source, re.S)
    assert match, f"Playwright's {name} not found: check spiders/browser.py against chromiumSwitches"
    return [f for f in re.findall(r'"([^"]*)"', re.sub(r"//[^\n]*", "", match.group(1))) if f]


def switch_values(switch: str) -> list[str]:
    values = [a.split("=", 1)[1] for a in browser.CHROMIUM_ARGS if a.startswith(switch + "=")]
    assert len(values) == 1, f"exactly one {switch} expected (Chromium keeps only the last)"
    return values[0].split(",")


@pytest.mark.parametrize("switch, name", [("--disable-features", "disabledFeatures"),
                                          ("--enable-features", "enabledFeatures")])
def test_our_feature_switches_keep_playwrights(switch, name):
    # Ours come after Playwright's and replace them: every feature Playwright sets must be in ours.
    theirs = playwright_feature_list(name)
    assert theirs
    assert set(theirs) <= set(switch_values(switch))


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>t</title><p>" + self.headers.get("Host", "").encode() + b"</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def chromium_processes(exclude: set[int]) -> list[list[str]]:
    out = []
    for p in psutil.Process().children(recursive=True):
        if p.pid in exclude:
            continue
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.cmdline())
        except psutil.Error:
            pass
    return out


def test_chromium_runs_few_processes(loopback_site):
    from playwright.sync_api import sync_playwright

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(**browser.launch_options(True))
        try:
            context = chromium.new_context()
            # Four sites in one context: with site isolation, or the omnibox WebUI renderer, there
            # would be a renderer for each.
            for host in ("a.test", "b.test", "c.test", "d.test"):
                context.new_page().goto(f"http://{host}:{loopback_site}/")
            deadline = time.monotonic() + 5
            while True:   # a renderer left from the first navigation (about:blank) exits shortly
                procs = chromium_processes(before)
                renderers = [c for c in procs if "--type=renderer" in c]
                if len(renderers) <= 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            chromium.close()
    assert procs, "no Chromium process found"
    assert 1 <= len(renderers) <= 2, [next((a for a in c if a.startswith("--type")), c[0]) for c in procs]
    # The GPU process and the network service run inside the browser process.
    assert not [c for c in procs if "--type=gpu-process" in c]
    assert not [c for c in procs if "--utility-sub-type=network.mojom.NetworkService" in c]
    assert not [c for c in renderers if "--top-chrome-webui" in c]
