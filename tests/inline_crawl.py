"""A small two-day crawl for tests/test_inline.py: day 1 fetches everything; on day 2 the list is due
(asked conditionally) and its leaf pages are not (answered from the archive, inline by default). The
spider's pages exercise what the inline path must get right: a chain of reused pages, a duplicate
request, a callback that raises half-way, a reused page with a meta refresh, Referer headers.

    python -m tests.inline_crawl SETTINGS.json DB_URL ARCHIVE_DIR RUN_KEY AS_OF OUT.json

The test serves :func:`inline_web` in its own process (replayed bodies name its port) and runs each
crawl in a process of its own (one Twisted reactor per process).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import scrapy

from sgi.sampleweb.model import Resource, SampleWeb, Site

HOST = "reuse.inline.test"
LEAVES = [f"/d{i}" for i in range(4)]


def _page(title: str, links=(), extra: str = "") -> Resource:
    anchors = "".join(f"<a href='{p}'>{p}</a>" for p in links)
    return Resource(f"<html><head><title>{title}</title>{extra}</head><body>{anchors}<p>{title}</p></body></html>"
                    .encode())


def inline_web() -> SampleWeb:
    web = SampleWeb(reference_date=date(2026, 6, 30), seed=13)
    site = Site(host=HOST, city_code="440300", kind="portal", robots_txt="User-agent: *\nAllow: /\n")
    site.resources["/"] = _page("home", ["/list"])
    site.resources["/list"] = _page("list", LEAVES + ["/d0", "/boom", "/refresh"])
    for path in LEAVES:
        site.resources[path] = _page(f"leaf {path}", [f"{path}/more"])
        site.resources[f"{path}/more"] = _page(f"more of {path}")
    site.resources["/boom"] = _page("boom")
    site.resources["/refresh"] = _page("moved", extra="<meta http-equiv='refresh' content='0;url=/target'>")
    site.resources["/target"] = _page("target")
    web.add_site(site)
    return web


class Exploder:
    """A downloader middleware whose process_response fails once for the path in INLINE_TEST_EXPLODE."""

    def __init__(self, path):
        self.path, self.done = path, False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("INLINE_TEST_EXPLODE"))

    def process_response(self, request, response, spider=None):
        if self.path and not self.done and request.url.endswith(self.path):
            self.done = True
            raise RuntimeError("a middleware failing on an archived answer")
        return response


class Reader(scrapy.Spider):
    name = "reader"
    custom_settings = {"ITEM_PIPELINES": {}}

    def __init__(self, home: str = "", **kwargs):
        super().__init__(**kwargs)
        self.home = home

    async def start(self):
        yield scrapy.Request(self.home, callback=self.parse_home, meta={"sgi_role": "home"})

    def parse_home(self, response):
        yield response.follow("/list", callback=self.parse_list, meta={"sgi_role": "list"})

    def parse_list(self, response):
        for href in response.css("a::attr(href)").getall():
            callback = self.parse_boom if href == "/boom" else self.parse_leaf
            yield response.follow(href, callback=callback, meta={"sgi_role": "detail"})

    def parse_leaf(self, response):
        yield {"url": response.url.split(HOST, 1)[1].split("/", 1)[1], "title": response.css("title::text").get(),
               "referer": (response.request.headers.get("Referer") or b"").decode().rsplit("/", 1)[-1],
               "reused": "sgi-reused" in response.flags}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_leaf, meta={"sgi_role": "detail"})

    def parse_boom(self, response):
        yield {"url": "boom", "title": "before the error", "referer": "", "reused": "sgi-reused" in response.flags}
        raise ValueError("a spider bug half-way through a page")


def crawl(settings_file: str, db_url: str, archive: str, run_key: str, as_of: str, out: str) -> None:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from sgi.crawl import scrapy_settings

    settings = json.loads(Path(settings_file).read_text())
    home = settings.pop("_home")
    overrides = {**settings, "SGI_DATABASE_URL": db_url, "SGI_RUN_KEY": run_key, "SGI_AS_OF": as_of,
                 "SGI_ARCHIVE_DIR": archive, "LOG_LEVEL": "INFO", "LOG_INSTALL_ROOT_HANDLER": True}
    settings_obj = scrapy_settings(overrides)
    if overrides.get("INLINE_TEST_EXPLODE"):
        settings_obj.set("DOWNLOADER_MIDDLEWARES", {**settings_obj.getdict("DOWNLOADER_MIDDLEWARES"),
                                                    "tests.inline_crawl.Exploder": 950})
    process = CrawlerProcess(settings_obj)
    crawler = process.create_crawler(Reader)
    items: list = []
    crawler.signals.connect(lambda item, response, spider: items.append(dict(item)), signal=signals.item_scraped,
                            weak=False)
    process.crawl(crawler, home=home)
    process.start()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
    Path(out).write_text(json.dumps({"items": items, "stats": stats}))


if __name__ == "__main__":
    crawl(*sys.argv[1:])
