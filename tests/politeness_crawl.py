"""A crawl of a few misbehaving / demanding sample hosts with the project's settings (politeness
middlewares, robots.txt, AutoThrottle, retries, evidence), in its own process since a Twisted reactor
starts once per process. Used by tests/test_politeness.py.

    python -m tests.politeness_crawl WORKDIR           writes WORKDIR/log.json, stats.json, sgi.db
    python -m tests.politeness_crawl browser WORKDIR   the same for a few Playwright renders

The spider is a minimal one (follow every same-host link) so that what the server sees is only the
politeness machinery at work, not a spider's own pacing.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import scrapy

from sgi.sampleweb.model import Fault, Resource, SampleWeb, Site

SETTINGS = {
    "DOWNLOAD_DELAY": 0,               # hosts set their own pace; loopback latency would let AutoThrottle
    "AUTOTHROTTLE_ENABLED": True,      # go to ~0 s without the Crawl-delay floor
    "AUTOTHROTTLE_START_DELAY": 0.0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "SGI_MAX_CRAWL_DELAY": 1.5,
    "SGI_BACKOFF_BASE": 0.5,           # small, so the Retry-After (2 s) is what the test sees
    "RETRY_TIMES": 2,
    "DOWNLOAD_TIMEOUT": 10,
    "LOG_LEVEL": "INFO",
}
RETRY_AFTER_S = 2


def _links(paths) -> bytes:
    return ("<html><head><title>t</title></head><body>" + "".join(f"<a href='{p}'>{p}</a>" for p in paths)
            + "<p>" + "政务公开 " * 80 + "</p></body></html>").encode()


def _site(web: SampleWeb, host: str, pages: dict[str, Resource], robots: str | None = None) -> Site:
    site = Site(host=host, city_code="440300", kind="portal", robots_txt=robots)
    site.resources["/"] = Resource(_links(pages))
    site.resources.update(pages)
    return web.add_site(site)


def politeness_web() -> SampleWeb:
    web = SampleWeb(reference_date=date(2026, 6, 30), seed=11)
    page = lambda **kw: Resource(_links([]), **kw)  # noqa: E731
    _site(web, "delay.polite.test", {f"/p{i}": page() for i in range(4)}, "User-agent: *\nCrawl-delay: 1\n")
    _site(web, "capped.polite.test", {f"/p{i}": page() for i in range(2)}, "User-agent: *\nCrawl-delay: 60\n")
    _site(web, "busy.polite.test", {f"/p{i}": page(fault=Fault(delay_s=0.4)) for i in range(6)})
    # The home page answers 429 + Retry-After once: every later request to the host waits.
    # Its pages are slow, so requests that pile up during the pause show as overlaps if released at once.
    throttled = _site(web, "throttled.polite.test", {f"/p{i}": page(fault=Fault(delay_s=0.3)) for i in range(4)})
    throttled.resources["/"].fault = Fault(status=429, retry_after=RETRY_AFTER_S, times=1)
    _site(web, "forbidden.polite.test", {"/x": page(fault=Fault(status=403)), "/y": page(fault=Fault(status=412))})
    # Down for the run: robots.txt included, everything answers 503 (RFC 9309: the site is disallowed).
    _site(web, "down.polite.test", {f"/p{i}": page() for i in range(3)}).fault = Fault(status=503)
    # robots.txt answers 503 once, then its rules: the retry decides, and the pages are crawled.
    flaky = _site(web, "flaky.polite.test", {f"/p{i}": page() for i in range(2)})
    flaky.resources["/robots.txt"] = Resource(b"User-agent: *\nDisallow: /p1\n", content_type="text/plain",
                                              fault=Fault(status=503, times=1))
    return web


class Probe(scrapy.Spider):
    name = "probe"
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, start_urls=(), **kwargs):
        super().__init__(**kwargs)
        self.start_urls = list(start_urls)

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url, meta=self.meta(url))

    def parse(self, response):
        host = urlsplit(response.url).hostname
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if urlsplit(url).hostname == host:
                yield scrapy.Request(url, meta=self.meta(url))

    @staticmethod
    def meta(url: str) -> dict:
        meta = {"handle_httpstatus_all": True}
        if urlsplit(url).hostname.startswith(("busy.", "throttled.")):
            # No delay at all for this host (as on the sample web): only the concurrency limit holds it.
            meta["autothrottle_dont_adjust_delay"] = True
        return meta


# --- browser renders -----------------------------------------------------------------------------------
RENDERS = 5
RECYCLE_EVERY = 2
_RENDERED_PAGE = ("<html><head><title>r</title><link rel='stylesheet' href='/s.css'>"
                  "<script src='/app.js'></script></head><body><img src='/img.png'>"
                  + "<p>政务公开 网上办事</p>" * 40 + "</body></html>").encode()


def browser_web() -> SampleWeb:
    web = SampleWeb(reference_date=date(2026, 6, 30), seed=12)
    for host, https in (("plain.render.test", False), ("secure.render.test", True)):
        site = Site(host=host, city_code="440300", kind="portal", https=https)
        for i in range(RENDERS):
            site.resources[f"/r{i}"] = Resource(_RENDERED_PAGE)
        site.resources["/s.css"] = Resource(b"@font-face{font-family:x;src:url(/f.woff2)} body{font-family:x}",
                                            content_type="text/css")
        site.resources["/app.js"] = Resource(b"document.title='rendered';", content_type="application/javascript")
        site.resources["/img.png"] = Resource(b"\x89PNG", content_type="image/png")
        site.resources["/f.woff2"] = Resource(b"wOF2", content_type="font/woff2")
        web.add_site(site)
    return web


class Renderer(scrapy.Spider):
    name = "renderer"
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, urls=(), **kwargs):
        super().__init__(**kwargs)
        self.urls = list(urls)

    async def start(self):
        from spiders import browser

        for url in self.urls:
            yield scrapy.Request(url, meta={**browser.render_meta(wait=False), "handle_httpstatus_all": True},
                                 dont_filter=True)

    def parse(self, response):
        assert "playwright" in response.flags


def main_browser(workdir: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from sgi.crawl import scrapy_settings
    from sgi.sampleweb.runner import serve_sample_web
    from spiders import browser

    out = Path(workdir)
    browser.SAMPLE_WEB_ONLY = True
    with serve_sample_web(out / "web", web=browser_web()) as running:
        overrides = {**running.crawl_settings(), "SGI_BROWSER_RECYCLE_PAGES": RECYCLE_EVERY,
                     "PLAYWRIGHT_LAUNCH_OPTIONS": browser.launch_options(True),
                     "PLAYWRIGHT_CONTEXTS": {browser.BASE_CONTEXT: {"ignore_https_errors": True}},
                     "SGI_DATABASE_URL": f"sqlite:///{out / 'sgi.db'}", "SGI_RUN_KEY": "render",
                     "SGI_ARCHIVE_DIR": str(out / "warc")}
        process = CrawlerProcess(scrapy_settings(overrides))
        crawler = process.create_crawler(Renderer)
        urls = [running.server.url(host, f"/r{i}") for i in range(RENDERS) for host in sorted(running.web.sites)]
        process.crawl(crawler, urls=urls)
        process.start()
        log = [asdict(r) for r in running.server.requests_to()]
    stats = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in crawler.stats.get_stats().items()}
    (out / "log.json").write_text(json.dumps(log))
    (out / "stats.json").write_text(json.dumps({"stats": stats}))


def main(workdir: str) -> None:
    from scrapy.crawler import CrawlerProcess

    from sgi.crawl import scrapy_settings
    from sgi.sampleweb.runner import serve_sample_web

    out = Path(workdir)
    with serve_sample_web(out / "web", web=politeness_web()) as running:
        overrides = {**running.crawl_settings(), **SETTINGS,
                     "SGI_DATABASE_URL": f"sqlite:///{out / 'sgi.db'}", "SGI_RUN_KEY": "politeness",
                     "SGI_ARCHIVE_DIR": str(out / "warc")}
        process = CrawlerProcess(scrapy_settings(overrides))
        crawler = process.create_crawler(Probe)
        started = time.time()
        process.crawl(crawler, start_urls=[running.server.url(h) for h in running.web.sites])
        process.start()
        log = [asdict(r) for r in running.server.requests_to()]
    stats = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in crawler.stats.get_stats().items()}
    (out / "log.json").write_text(json.dumps(log))
    (out / "stats.json").write_text(json.dumps({"wall_s": time.time() - started, "stats": stats}))


if __name__ == "__main__":
    if sys.argv[1] == "browser":
        main_browser(*sys.argv[2:])
    else:
        main(*sys.argv[1:])
