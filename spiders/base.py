"""What every sgi spider shares: choosing sources, the crawl date, turning responses into Pages,
and citing evidence in observations. Spiders stay thin: extraction rules live in collectors/."""

from __future__ import annotations

from typing import Iterable

import scrapy

from collectors.base import ABSENT, BLOCKED, ERROR, OK, Finding
from collectors.fetch import is_empty_shell, looks_like_challenge
from collectors.page import Page
from spiders import browser
from spiders.items import ObservationItem
from spiders.store import as_of
from storage.store import SnapshotRef


MIN_PASSED_TEXT_CHARS = 200


def page_from_response(response, request=None) -> Page:
    """The response as a Page; built (and parsed) once per response: the evidence middleware builds it
    to classify the fetch (passing ``request``: a downloader middleware's response is not bound to its
    request yet) and the spider's callback gets the same object from the request's meta."""
    try:
        meta = request.meta if request is not None else response.meta
    except AttributeError:   # a response built without a request (tests, archived records)
        return _page_from_response(response)
    cached = meta.get("_sgi_page")
    what = (response.url, response.status, tuple(response.flags))
    if cached is not None and cached[0] is response.body and cached[1] == what:
        return cached[2]
    page = _page_from_response(response)
    meta["_sgi_page"] = (response.body, what, page)
    return page


def _page_from_response(response) -> Page:
    from spiders.incremental import REUSED

    headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
    return page_from_document(response.url, response.body, headers, response.status,
                              rendered="playwright" in response.flags, from_archive=REUSED in response.flags)


def page_from_document(url: str, body: bytes, headers: dict, status: int, rendered: bool,
                       from_archive: bool = False) -> Page:
    """A fetched document as a Page; for a browser render, judged by what the browser ended on.
    ``from_archive``: an incremental crawl's copy of an earlier answer read as ok (not judged again)."""
    if from_archive:
        return Page(url=url, body=body, headers=headers, status=status, rendered=rendered, from_archive=True)
    page = Page(url=url, body=body, headers=headers, status=status, rendered=rendered)
    if rendered and status in (412, 521):
        # Playwright reports the status of the first navigation; after a passed JS challenge
        # the document is the real page, so judge it by its content.
        probe = Page(url=url, body=body, headers=headers, status=200, rendered=True)
        # Only a document with real content proves the challenge was passed (an error page is not one).
        if (not looks_like_challenge(probe) and not is_empty_shell(probe)
                and len("".join(probe.soup.get_text().split())) > MIN_PASSED_TEXT_CHARS):
            return probe
    return page


_SOURCES_READ: dict[tuple, list] = {}


def _load_sources_once(path: str | None) -> list:
    """The source file, read and validated once per process while unchanged (every spider of a crawl
    reads it in start(), on the reactor thread, before its first request)."""
    from pathlib import Path

    from sgi.sources import default_path, load_sources

    file = Path(path) if path else default_path()
    try:
        stat = file.stat()
        key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    except OSError:
        return load_sources(path)       # let the loader report the missing file
    if key not in _SOURCES_READ:
        _SOURCES_READ.clear()
        _SOURCES_READ[key] = load_sources(path)
    return _SOURCES_READ[key]


class SgiSpider(scrapy.Spider):
    """Base spider: ``-a city=440300,杭州`` picks cities (default: every city with a source of this kind)."""

    source_kind: str = ""
    indicators: tuple[str, ...] = ()     # every indicator this spider reports, so failures cover them all
    # True for spiders that render pages as a rule (single-page portals, app-store pages): the browser
    # starts with the crawl, not at the first render, where its start-up round trips would queue
    # behind a busy reactor (spiders/browser.py).
    renders_pages: bool = False

    custom_settings: dict = {}

    def __init__(self, city: str | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.city_arg = city

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        sample = settings.getbool("SGI_SAMPLE_WEB")
        if not settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"):
            settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", browser.launch_options(sample, settings.get("SGI_CHROMIUM")),
                         priority="spider")
        # Service workers are blocked: their requests would bypass the request routing that aborts media
        # and, in real mode, non-public addresses (spiders/browser.py). The sample web's certificate is our
        # own; applied per render, so Chromium is launched only when a page needs it.
        settings.set("SGI_BROWSER_CONTEXT_KWARGS", {"service_workers": "block",
                                                    **({"ignore_https_errors": True} if sample else {})},
                     priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.crawl_date = as_of(crawler)
        browser.SAMPLE_WEB_ONLY = crawler.settings.getbool("SGI_SAMPLE_WEB")
        return spider

    # --- sources -----------------------------------------------------------------------------------
    def selected_sources(self) -> list:
        path = self.settings.get("SGI_SOURCES_FILE")
        sources = [s for s in _load_sources_once(path) if s.kind == self.source_kind]
        if self.city_arg:
            from sgi.cities import lookup

            wanted = {lookup(q.strip()).code for q in str(self.city_arg).split(",") if q.strip()}
            sources = [s for s in sources if s.city_code in wanted]
        return sources

    def sources_by_city(self) -> dict[str, list]:
        """The selected sources grouped by city, in source-file order."""
        by_city: dict[str, list] = {}
        for source in self.selected_sources():
            by_city.setdefault(source.city_code, []).append(source)
        return by_city

    async def start(self):
        # Scrapy's asynchronous entry point; sgi spiders write start_requests().
        for item in self.start_requests():
            yield item

    @property
    def period(self) -> str:
        return self.crawl_date.isoformat()

    # --- observations ------------------------------------------------------------------------------
    def observe(self, city_code: str, finding: Finding, ref: SnapshotRef | None,
                extra_snapshots: Iterable[str] = ()) -> ObservationItem:
        value = finding.value if finding.status == OK else (finding.value if finding.status == ABSENT else None)
        return ObservationItem(
            city_code=city_code, indicator=finding.code, period=self.period, status=finding.status,
            value=value, rule=finding.rule, rule_version=finding.rule_version,
            snapshot_id=ref.id if ref else None, evidence_url=finding.url or (ref.url if ref else None),
            evidence_detail=finding.evidence, evidence_snapshots=list(extra_snapshots))

    def unreadable(self, city_code: str, status: str, ref: SnapshotRef | None, reason: str,
                   codes: Iterable[str] | None = None) -> list[ObservationItem]:
        """Blocked or failed fetch: every indicator it would have informed gets that status, never absent."""
        assert status in (BLOCKED, ERROR)
        return [ObservationItem(city_code=city_code, indicator=code, period=self.period, status=status,
                                value=None, rule=f"{self.name}.fetch", rule_version="1",
                                snapshot_id=ref.id if ref else None, evidence_url=ref.url if ref else None,
                                evidence_detail=reason)
                for code in (codes if codes is not None else self.indicators)]
