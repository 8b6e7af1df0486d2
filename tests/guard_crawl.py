"""A real-mode crawl of start URLs at non-public addresses, run by tests/test_address_guard.py inside a fresh
network namespace (nothing routable: even a broken guard sends nothing off the machine).

    python -m tests.guard_crawl WORKDIR      # writes WORKDIR/result.json

Inside the namespace, loopback is brought up and a TCP server on 127.0.0.1 counts the connections it
accepts; start URLs name it directly, as a decimal IP and through a host name mapped to it, next to
10.0.0.1, 169.254.169.254 and a host name mapped to a private address (SGI_HOST_MAP, the resolver's own
host table: no DNS).
"""

from __future__ import annotations

import fcntl
import json
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
from pathlib import Path

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> None:
    """`ip link set lo up` without needing iproute2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sh", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh", b"lo", 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


class CountingServer:
    """Accepts TCP connections on 127.0.0.1, counts them, answers a tiny HTTP page."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>internal</body></html>")
            conn.close()


def main(workdir: Path) -> None:
    loopback_up()
    server = CountingServer()
    port = server.port
    start_urls = {
        "440300": f"http://127.0.0.1:{port}/",
        "330100": "http://10.0.0.1/",
        "420100": "http://169.254.169.254/latest/meta-data/",
        "510100": f"http://2130706433:{port}/",                # 127.0.0.1 in decimal
        "370200": f"http://0x7f000001:{port}/",                # 127.0.0.1 in hex
        "110000": "http://intranet.example.cn/",             # resolves to 192.168.10.10
        "310000": f"http://loopback-alias.example.cn:{port}/",   # resolves to 127.0.0.1
    }
    sources, literal_sources = workdir / "sources.yaml", workdir / "literal-sources.yaml"
    for path, urls in ((sources, start_urls), (literal_sources, {c: u for c, u in start_urls.items() if ".cn" not in u})):
        path.write_text("sources:\n" + "".join(
            f"  - {{city: '{code}', kind: portal, name: guard-{code}, start_url: '{url}'}}\n"
            for code, url in urls.items()), encoding="utf-8")

    from scrapy.crawler import CrawlerProcess

    from sgi.crawl import run_crawl
    from spiders.addressguard import STATS_KEY

    crawlers = []
    create = CrawlerProcess.create_crawler

    def keep(self, *args, **kwargs):
        crawler = create(self, *args, **kwargs)
        if crawler not in crawlers:
            crawlers.append(crawler)
        return crawler

    CrawlerProcess.create_crawler = keep
    db = workdir / "guard.db"
    run_crawl(db_url=f"sqlite:///{db}", spiders=["portal"], cities=None, run_key="guard", quiet=True,
              extra_settings={"SGI_SOURCES_FILE": str(sources),
                              "SGI_HOST_MAP": {"intranet.example.cn": "192.168.10.10",
                                               "loopback-alias.example.cn": "127.0.0.1"},
                              "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_TIMEOUT": 5})
    con = sqlite3.connect(db)
    snapshots = con.execute("SELECT requested_url, fetch_status, http_status, error FROM snapshot").fetchall()
    accepted_by_crawl = server.accepted
    # `sgi sources check` fetches the IP-literal start URLs through the same guard (its own process: one
    # reactor each; the CLI has no host map, and the host names would go to the system resolver)
    check = subprocess.run([sys.executable, "-m", "sgi", "sources", "check", "--sources", str(literal_sources), "--json",
                            "--db", f"sqlite:///{workdir / 'check.db'}"], capture_output=True, text=True, timeout=300)
    (workdir / "result.json").write_text(json.dumps({
        "start_urls": start_urls, "accepted_by_crawl": accepted_by_crawl, "accepted": server.accepted,
        "snapshots": snapshots, "refused": sum(int(c.stats.get_value(STATS_KEY, 0) or 0) for c in crawlers),
        "check_rc": check.returncode, "check": check.stdout, "check_stderr": check.stderr[-3000:]}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
