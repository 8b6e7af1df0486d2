"""Parsing stays linear and budgeted (issue 23, D12): hostile pages cost every page rule little, and a
city whose home page is one does not hold up the other cities of a crawl.

1. Every page rule of each harvest (portal, policy, mailbox, opendata; bench/parsing_worker.py) on
   a page of 50,000 nested <div>s (550 kB) and on 5 MB of random bytes sent as text/html, each run in a
   child process cut off after 120 s. Target < 2 s per harvest and page. For reference, also a page
   nested just under the depth budget, one with a link and a date at each of 1,000 levels, and one
   with a clickable box of text at each of 1,000 levels (its labels grow with the square of the depth).
2. A two-city portal crawl on loopback servers (city A on 127.0.0.1, city B on 127.0.0.2, a small
   portal of 12 pages): once with A's home page an ordinary page, once with the 50,000-deep page.
   Reported: when B's last reading was stored, counted from the crawl's first fetch, in both runs.
   Target: B finishes less than 2 s later next to the deep page.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("portal", "policy", "mailbox", "opendata")
RULE_TARGET_S = 2.0
DELAY_TARGET_S = 2.0
CUT_OFF_S = 120


def nested(levels: int, inner: str = "网站地图") -> bytes:
    return ("<html><body>" + "<div>" * levels + inner + "</div>" * levels + "</body></html>").encode()


def linked_levels(levels: int) -> bytes:
    return ("<html><body>" + "".join(f"<div class='c{i}'><a href='/a{i}.html'>链接{i}</a><span>2026-06-{i % 28 + 1:02d}"
                                     "</span>" for i in range(levels)) + "</div>" * levels + "</body></html>").encode()


def nested_boxes(levels: int) -> bytes:
    """A clickable box with text at each level: every box's label is all the text below it."""
    return ("<html><body>" + "".join(f"<div onclick='go({i})'>" + "文字" * 60 for i in range(levels))
            + "</div>" * levels + "</body></html>").encode()


def rule_seconds(kind: str, path: Path) -> dict:
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.parsing_worker", kind, str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=CUT_OFF_S)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "note": f"cut off after {CUT_OFF_S} s"}
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    out = json.loads(proc.stdout)
    out["process_s"] = round(time.perf_counter() - started, 3)
    return out


def portal_home(title: str) -> bytes:
    links = "".join(f"<li><a href='/xw/t2026062{i}_{i}.html'>{title}新闻{i}</a><span>2026-06-2{i}</span></li>"
                    for i in range(1, 8))
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<div class='nav'><a href='/wzdt/'>网站地图</a><a href='/hdjl/'>政民互动</a>"
            f"<a href='/xw/'>新闻动态</a></div><ul>{links}</ul>"
            f"<div class='footer'>网站标识码：4403000001</div></body></html>").encode()


def serve(pages: dict[str, bytes], host: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path.split("?")[0])
            if body is None:   # every other page: a small list page
                body = "<html><body><ul><li><a href='/xw/t20260620_1.html'>消息</a> 2026-06-20</li></ul></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def two_city_crawl(tmp: Path, a_home: bytes, label: str) -> dict:
    from sgi.sampleweb.dns import SampleDNSServer

    a = serve({"/": a_home, "/robots.txt": b"User-agent: *\nCrawl-delay: 0.2\n"}, "127.0.0.1")
    b = serve({"/": portal_home("青岛市人民政府"), "/robots.txt": b"User-agent: *\nCrawl-delay: 0.2\n"}, "127.0.0.2")
    try:
        sources = tmp / f"{label}.yaml"
        sources.write_text(
            "sources:\n"
            f"  - {{city: '440300', kind: portal, name: a, start_url: 'http://a.test:{a.server_address[1]}/'}}\n"
            f"  - {{city: '370200', kind: portal, name: b, start_url: 'http://b.test:{b.server_address[1]}/'}}\n",
            encoding="utf-8")
        db = tmp / f"{label}.db"
        env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / f"warc-{label}")}
        # The IPv6 check asks a DNS server on loopback (an empty one), never the system's resolver.
        with SampleDNSServer({}, {}) as dns_server:
            settings = tmp / f"{label}.json"
            # Sample-web mode (real mode refuses loopback): two hosts, two loopback addresses.
            settings.write_text(json.dumps({"SGI_SOURCES_FILE": str(sources), "SGI_DNS_SERVER": dns_server.address,
                                            "SGI_SAMPLE_WEB": True,
                                            "SGI_HOST_MAP": {"a.test": "127.0.0.1", "b.test": "127.0.0.2"}}))
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "bench.parsing_worker", "crawl", str(settings),
                                   f"sqlite:///{db}"], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
            wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
    finally:
        a.shutdown(), b.shutdown(), a.server_close(), b.server_close()
    con = sqlite3.connect(db)
    first = con.execute("select min(fetched_at) from snapshot").fetchone()[0]

    def done(city):
        last = con.execute("select max(observed_at) from observation where city_code=?", (city,)).fetchone()[0]
        return round(_seconds(last) - _seconds(first), 2)

    statuses = dict(con.execute("select status, count(*) from observation where city_code='440300' group by 1"))
    pages_b = con.execute("select count(*) from snapshot where city_code='370200'").fetchone()[0]
    return {"b_done_s": done("370200"), "a_done_s": done("440300"), "b_pages": pages_b, "a_statuses": statuses,
            "wall_s": round(wall, 2)}


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


def run() -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        inputs = {"deep_50k": nested(50_000), "random_5mb": random.Random(5).randbytes(5 * 1024 * 1024),
                  "deep_4900": nested(4_900), "links_1000_levels": linked_levels(1_000),
                  "onclick_boxes_1000_levels": nested_boxes(1_000)}
        for name, body in inputs.items():
            path = tmp / f"{name}.html"
            path.write_bytes(body)
            per_kind = {kind: rule_seconds(kind, path) for kind in KINDS}
            slowest = max((r["seconds"] if r["seconds"] is not None else float("inf")) for r in per_kind.values())
            hard = name in ("deep_50k", "random_5mb")
            out[f"parse_{name}_slowest_rules_s"] = {
                "value": slowest, "unit": "s (slowest harvest: classify + every page rule, one process)",
                "target": f"< {RULE_TARGET_S:g} s per harvest" if hard else "reference (no target)",
                "ok": slowest < RULE_TARGET_S if hard else True,
                "detail": {kind: {k: r.get(k) for k in ("seconds", "process_s", "fetch", "reason", "note")}
                           for kind, r in per_kind.items()} | {"bytes": len(body)}}
        normal = two_city_crawl(tmp, portal_home("深圳市人民政府"), "normal")
        deep = two_city_crawl(tmp, nested(50_000), "deep")
        delay = round(deep["b_done_s"] - normal["b_done_s"], 2)
        out["parse_deep_neighbour_delay_s"] = {
            "value": delay, "unit": "s later that city B finishes when city A's home page is 50,000 levels deep",
            "target": f"< {DELAY_TARGET_S:g} s", "ok": delay < DELAY_TARGET_S,
            "detail": {"with_normal_neighbour": normal, "with_deep_neighbour": deep}}
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))   # run from anywhere as a script
    print(json.dumps(run(), ensure_ascii=False, indent=2))
