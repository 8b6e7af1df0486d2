"""Running the sample web for a crawl: HTTP(S) server + DNS server + a source file with live ports."""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from sgi.sampleweb.dns import SampleDNSServer
from sgi.sampleweb.generate import DEFAULT_SEED, REFERENCE_DATE, build_sample_web
from sgi.sampleweb.model import SampleWeb
from sgi.sampleweb.server import SampleWebServer


# `sgi crawl --sample-web` prefers these (http, https) ports: bodies archived by one crawl name them,
# and the next incremental or resumed crawl replays those bodies (other ports than the demo's).
SAMPLE_CRAWL_PORTS = (18640, 18641)


@dataclass
class RunningSampleWeb:
    web: SampleWeb
    server: SampleWebServer
    dns: SampleDNSServer
    sources_file: Path

    def crawl_settings(self) -> dict:
        """Scrapy settings that point a crawl at this sample web (and nowhere else)."""
        return {
            "SGI_SAMPLE_WEB": True,
            "SGI_HOST_MAP": self.server.host_map(),
            "SGI_SAMPLE_PORTS": {"http": self.server.http_port, "https": self.server.https_port},
            "SGI_DNS_SERVER": self.dns.address,
            "SGI_SOURCES_FILE": str(self.sources_file),
            "SGI_AS_OF": self.web.reference_date.isoformat(),
            # Our own loopback server: no politeness delays needed, per-host concurrency still bounded.
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
            "RETRY_TIMES": 1,
            "DOWNLOAD_TIMEOUT": 15,
            # A 503 still backs the host off (Retry-After is honoured as sent), from half a second:
            # the sample web's permanently-down hosts would otherwise cost every test run seconds.
            "SGI_BACKOFF_BASE": 0.5,
        }


def ipv6_hosts(web: SampleWeb) -> set[str]:
    """Hosts the generators declared IPv6-capable (module-level IPV6_HOSTS in each generator)."""
    from sgi.sampleweb.generate import GENERATORS

    hosts: set[str] = set()
    for module, _ in GENERATORS:
        hosts |= set(getattr(importlib.import_module(module), "IPV6_HOSTS", {}) or {})
    return {h for h in hosts if h in web.sites}


@contextmanager
def serve_sample_web(workdir: str | Path, seed: int = DEFAULT_SEED, reference_date=REFERENCE_DATE,
                     web: SampleWeb | None = None, ports: tuple[int, int] | None = None,
                     latency_ms: float = 0.0):
    """Start the sample web; ``ports`` asks for fixed (http, https) ports so URLs, and with them the
    evidence keys, are the same from run to run (falls back to free ports when taken);
    ``latency_ms``: the median time a site takes to answer (0: at once)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    web = web or build_sample_web(seed, reference_date)
    with SampleWebServer(web, ports=ports, latency_ms=latency_ms) as server:
        v6 = {h: "::1" for h in ipv6_hosts(web)} if server.ipv6 else {}
        with SampleDNSServer(server.host_map(), v6) as dns_server:
            sources_file = workdir / "sample-sources.yaml"
            with open(sources_file, "w", encoding="utf-8") as fh:
                fh.write("# Source file for the sample web, written with this run's ports.\n")
                yaml.safe_dump({"sources": server.sources()}, fh, allow_unicode=True, sort_keys=False)
            yield RunningSampleWeb(web, server, dns_server, sources_file)
