"""`sgi sources check`: does each source's start URL respond, redirect, or block? (no observations)"""

from __future__ import annotations

import scrapy

from collectors.fetch import classify_fetch
from spiders.base import SgiSpider, page_from_response


class SourcesCheckSpider(SgiSpider):
    name = "sources_check"
    collects_indicators = False      # a tool, not part of `sgi crawl` / the demo
    source_kind = None               # every kind

    def selected_sources(self):
        from sgi.sources import load_sources

        sources = load_sources(self.settings.get("SGI_SOURCES_FILE"))
        if self.city_arg:
            from sgi.cities import resolve_many

            wanted = {c.code for c in resolve_many(str(self.city_arg).split(","))}
            sources = [s for s in sources if s.city_code in wanted]
        return sources

    async def start(self):
        self.results = getattr(self, "results", [])
        for source in self.selected_sources():
            yield scrapy.Request(source.start_url, callback=self.parse, errback=self.failed, dont_filter=True,
                                 meta={"city_code": source.city_code, "sgi_source": source,
                                       "handle_httpstatus_all": True})

    def parse(self, response):
        source = response.meta["sgi_source"]
        page = page_from_response(response)
        fetch = classify_fetch(page)
        redirects = response.meta.get("redirect_urls") or []
        verdict = {"ok": "responds", "blocked": "blocked"}.get(fetch, fetch)
        if fetch == "ok" and redirects:
            verdict = "redirects"
        self.crawler.sgi_results.append({
            "city_code": source.city_code, "kind": source.kind, "start_url": source.start_url,
            "verdict": verdict, "http_status": response.status, "final_url": response.url,
            "where": source.where})

    def failed(self, failure):
        source = failure.request.meta["sgi_source"]
        text = str(failure.value)
        verdict = "blocked" if "robots" in text.lower() else "error"
        self.crawler.sgi_results.append({
            "city_code": source.city_code, "kind": source.kind, "start_url": source.start_url,
            "verdict": verdict, "http_status": None, "final_url": None, "where": source.where,
            "error": text[:200]})
