"""The portal spider: a city's government portal home page, the sub-pages one level down that hold
features (政民互动, 网站地图 ...), its columns (for the inspection checks) and a bounded sample of its
links (for broken links). Navigation only; every reading is a rule in collectors.portal.

Per city, requests fan out from the home page and the findings are merged when the last one returns,
so each indicator is reported once per city with the page that proves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import scrapy
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from collectors import portal as rules
from collectors.base import ABSENT, BLOCKED, ERROR, OK, Finding
from collectors.fetch import BLOCKED as FETCH_BLOCKED
from collectors.fetch import classify_fetch, is_empty_shell
from collectors import inspection
from collectors.inspection import MAX_BROKEN_LINK_SAMPLE, MAX_COLUMNS_SAMPLED
from sgi import indicators as indicator_registry
from spiders import browser
from spiders.base import SgiSpider, page_from_response
from spiders.incremental import REPLAYED, REUSED, fetch_timing
from spiders.robots import refused_by_robots

RULE_VERSION = "1"


def _counts(have_required: tuple[list, list]) -> tuple[int, int]:
    return len(have_required[0]), len(have_required[1])


def portal_indicator_codes() -> tuple[str, ...]:
    return tuple(code for code, ind in indicator_registry.registry().items() if ind.source in ("portal", "dns"))


@dataclass
class CityCrawl:
    """Per-city state while the fan-out requests are in flight."""

    city_code: str
    source: object
    home_ref: object = None
    home_page: object = None
    pending: int = 0
    findings: list = field(default_factory=list)          # dict[str, Finding] per page read
    page_refs: dict = field(default_factory=dict)         # url -> SnapshotRef
    columns: list = field(default_factory=list)           # (kind, url, newest, count, ref)
    meta_pages: list = field(default_factory=list)        # (page_type, present, applicable, ref)
    link_results: list = field(default_factory=list)      # (url, 'ok'|'broken'|'excluded', ref)
    ipv6: Finding | None = None
    cookies: dict = field(default_factory=dict)           # from a browser that passed a challenge
    load_ref: object = None                               # the snapshot whose fetch homepage_load_ms timed
    unread: list = field(default_factory=list)            # (role, url, 'blocked'|'error') pages we could not read
    done: bool = False


class PortalSpider(SgiSpider):
    name = "portal"
    renders_pages = True
    source_kind = "portal"

    @property
    def indicators(self):
        return portal_indicator_codes()

    def start_requests(self):
        for source in self.selected_sources():
            state = CityCrawl(source.city_code, source)
            yield self._request(state, source.start_url, self.parse_home, role="home")

    # --- requests ----------------------------------------------------------------------------------
    def _request(self, state: CityCrawl, url: str, callback, role: str, render: bool = False, **meta):
        meta = {"city_code": state.city_code, "sgi_state": state, "sgi_role": role,
                "handle_httpstatus_all": True, **meta}
        if render:
            meta.update(browser.render_meta(include_page=True))
        state.pending += 1
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, dont_filter=True,
                              cookies=state.cookies or None)

    def _allowed(self, state: CityCrawl, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        domains = state.source.allowed_domains or (urlsplit(state.source.start_url).hostname,)
        return any(host == d or host.endswith("." + d) for d in domains)

    # --- home page ---------------------------------------------------------------------------------
    async def parse_home(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        ref = response.meta.get("sgi_snapshot")
        # After a browser got through (a JS cookie challenge), the site's other pages are fetched
        # plainly with the browser's cookies.
        state.cookies.update(await browser.take_cookies(response.meta))
        page = page_from_response(response)
        fetch = classify_fetch(page)
        rendered = page.rendered
        if (rendered and not state.cookies and response.meta.get("sgi_plain_fetch") == FETCH_BLOCKED
                and not response.meta.get("sgi_live") and (REPLAYED in response.flags or REUSED in response.flags)):
            # The browser got through the site's challenge in an earlier process (a resumed run's
            # journal, a page not due read from the archive); its cookies went with it, and the site's
            # other pages refuse a plain client without them. Render it again, live, to earn them.
            retry = self._request(state, response.url, self.parse_home, role="home", render=True, sgi_live=True,
                                  sgi_plain_fetch=FETCH_BLOCKED,
                                  sgi_plain_snapshot=response.meta.get("sgi_plain_snapshot"))
            state.pending -= 1
            yield retry
            return
        if not rendered and (fetch == FETCH_BLOCKED or (fetch == OK and is_empty_shell(page))):
            # One retry through a real browser: JS cookie challenges and single-page shells.
            retry = self._request(state, response.url, self.parse_home, role="home", render=True,
                                  sgi_plain_fetch=fetch, sgi_plain_snapshot=ref)
            state.pending -= 1      # after the retry is counted: the city never sits at 0 in between
            yield retry
            return
        state.home_ref = ref
        # IPv6 is a DNS and TCP reading: it does not depend on the web server letting us in.
        # DNS and the connect run in a worker thread; the fan-out is asked for before its answer is
        # awaited, so the city's pages are not held up by it.
        ipv6 = maybe_deferred_to_future(deferToThread(self._check_ipv6, page.url))
        # An empty body, a PDF or binary bytes (whatever the Content-Type), or a page past the parse
        # budget, proves nothing absent: its features are errors, not 29 absences.
        unreadable = page.unreadable if fetch in (OK, ERROR) and page.status < 400 else None
        if fetch != OK or unreadable:
            state.ipv6 = await ipv6
            status = BLOCKED if fetch == FETCH_BLOCKED else ERROR
            state.done = True
            reason = f"home page: {unreadable} (HTTP {page.status})" if unreadable else \
                f"home page {fetch} (HTTP {page.status})"
            for item in self.unreadable(state.city_code, status, ref, reason,
                                        codes=[c for c in self.indicators if c != "portal_ipv6"]):
                yield item
            yield self.observe(state.city_code, state.ipv6, ref)
            return
        state.home_page = page
        state.page_refs[page.url] = ref
        state.findings.append(rules.extract_portal(page, self.crawl_date))
        timing = fetch_timing(self.crawler, response)
        state.load_ref = timing.ref
        state.findings.append(self._transport_findings(page, response, ref, timing))
        # Everything below fans out; findings are merged once all answers are in.
        for request in self._fan_out(state, page):
            yield request
        state.ipv6 = await ipv6
        state.pending -= 1   # the home request itself is answered (the city cannot finish before)
        for item in self._maybe_finish(state):
            yield item

    def _fan_out(self, state: CityCrawl, page):
        for url, _text in rules.extract_portal_links(page):
            if self._allowed(state, url) and url != page.url:
                yield self._request(state, url, self.parse_subpage, role="subpage")
        for kind, url in rules.column_links(page)[:MAX_COLUMNS_SAMPLED]:
            if self._allowed(state, url):
                yield self._request(state, url, self.parse_column, role="column", column_kind=kind)
        for url in rules.same_site_links(page, MAX_BROKEN_LINK_SAMPLE):
            yield self._request(state, url, self.parse_link, role="link")
        site_map = state.findings[0].get("site_map")
        if site_map is None or site_map.status != OK:
            # Some portals have no 网站地图 link but publish /sitemap.xml.
            yield self._request(state, page.absolute("/sitemap.xml"), self.parse_sitemap, role="sitemap")

    def _transport_findings(self, page, response, ref, timing=None) -> dict[str, Finding]:
        out = {}
        out["portal_reachable"] = Finding("portal_reachable", True, OK, f"HTTP {page.status} {page.url}",
                                          "portal.reachable", RULE_VERSION)
        timing = timing or fetch_timing(self.crawler, response)
        elapsed = timing.elapsed_ms
        how = "rendered by Chromium: request to settled document" if page.rendered else \
            "crawler wall time, request to full body"
        if timing.source == "archive" and timing.ref is not None:
            # Read back from the archive in this run: the time is that of the fetch that got the body.
            when = timing.ref.fetched_at.strftime("%Y-%m-%d %H:%M UTC") if timing.ref.fetched_at else "earlier"
            how += f"; measured at the fetch of {when} (this run read the page from the archive)"
        if elapsed is not None:
            out["homepage_load_ms"] = Finding("homepage_load_ms", round(elapsed, 1), OK, how, "portal.load_ms",
                                              RULE_VERSION)
        what = "rendered document" if page.rendered else "decoded body"
        out["homepage_bytes"] = Finding("homepage_bytes", len(page.body), OK, f"{len(page.body)} bytes, {what}",
                                        "portal.bytes", RULE_VERSION)
        return out

    # --- fan-out answers ---------------------------------------------------------------------------
    def parse_subpage(self, response):
        state = response.meta["sgi_state"]
        page = page_from_response(response)
        state.pending -= 1
        fetch = classify_fetch(page)
        self._note_unread(state, "subpage", response.url, fetch)
        if fetch == OK:
            state.page_refs[page.url] = response.meta.get("sgi_snapshot")
            found = rules.extract_portal(page, self.crawl_date)
            # Only presence on a sub-page counts: its absences say nothing about the portal.
            state.findings.append({c: f for c, f in found.items() if f.status == OK and f.value not in (False, 0, None)
                                   and c in rules.SUBPAGE_FEATURES})
        yield from self._maybe_finish(state)

    def parse_sitemap(self, response):
        state = response.meta["sgi_state"]
        page = page_from_response(response)
        state.pending -= 1
        fetch = classify_fetch(page)
        self._note_unread(state, "sitemap", response.url, fetch)
        if fetch == OK and inspection.is_sitemap_xml(page):
            state.page_refs[page.url] = response.meta.get("sgi_snapshot")
            state.findings.append({"site_map": Finding("site_map", True, OK, f"{page.url} answers 200 with a sitemap",
                                                       "portal.site_map", RULE_VERSION, url=page.url)})
        yield from self._maybe_finish(state)

    @staticmethod
    def _note_unread(state: CityCrawl, role: str, url: str, fetch: str) -> None:
        """Remember a page we were refused or failed to read (a 404 is a reading: the page is gone)."""
        if fetch in (FETCH_BLOCKED, "error"):
            state.unread.append((role, url, BLOCKED if fetch == FETCH_BLOCKED else ERROR))

    def parse_column(self, response):
        state = response.meta["sgi_state"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        fetch = classify_fetch(page)
        self._note_unread(state, "column", response.url, fetch)
        if fetch == OK:
            newest, count = rules.column_status(page, response.meta["column_kind"], self.crawl_date)
            state.columns.append((response.meta["column_kind"], page.url, newest, count, ref))
            state.meta_pages.append(("column", *_counts(rules.meta_tag_counts(page, "column")), ref))
            article = rules.first_article_link(page)
            if article and self._allowed(state, article):
                yield self._request(state, article, self.parse_article, role="article")
        state.pending -= 1
        yield from self._maybe_finish(state)

    def parse_article(self, response):
        state = response.meta["sgi_state"]
        page = page_from_response(response)
        state.pending -= 1
        fetch = classify_fetch(page)
        self._note_unread(state, "article", response.url, fetch)
        if fetch == OK:
            state.meta_pages.append(("article", *_counts(rules.meta_tag_counts(page, "article")),
                                     response.meta.get("sgi_snapshot")))
        yield from self._maybe_finish(state)

    def parse_link(self, response):
        state = response.meta["sgi_state"]
        page = page_from_response(response)
        state.pending -= 1
        fetch = classify_fetch(page)
        verdict = "excluded" if fetch == FETCH_BLOCKED else ("ok" if page.status < 400 else "broken")
        state.link_results.append((response.url, verdict, response.meta.get("sgi_snapshot")))
        yield from self._maybe_finish(state)

    async def on_error(self, failure):
        request = failure.request
        await browser.take_cookies(request.meta)   # closes a browser page left open by a failed render
        state: CityCrawl = request.meta["sgi_state"]
        ref = request.meta.get("sgi_snapshot")
        role = request.meta.get("sgi_role")
        state.pending -= 1
        robots = refused_by_robots(failure)
        if role == "home":
            state.done = True
            status = BLOCKED if robots else ERROR
            reason = "robots.txt disallows the home page" if robots else f"fetch failed: {failure.value!r}"[:300]
            if request.meta.get("sgi_plain_fetch") == FETCH_BLOCKED:
                # The browser retry of a blocked page failed too: the site still blocks us.
                status, ref = BLOCKED, request.meta.get("sgi_plain_snapshot") or ref
                reason = f"blocked to a plain client; browser retry failed: {failure.value!r}"[:300]
            for item in self.unreadable(state.city_code, status, ref, reason):
                yield item
            return
        if role == "link":
            state.link_results.append((request.url, "excluded" if robots else "broken", ref))
        elif role in ("column", "article", "subpage", "sitemap") and not robots:
            state.unread.append((role, request.url, ERROR))
        for item in self._maybe_finish(state):
            yield item

    # --- IPv6 ---------------------------------------------------------------------------------------
    def _check_ipv6(self, url: str) -> Finding:
        from collectors.dns import check_ipv6

        from spiders.addressguard import AddressGuard

        return check_ipv6(url, self.settings.get("SGI_DNS_SERVER"),
                          refusal=AddressGuard.from_settings(self.settings).refusal)

    # --- merging -----------------------------------------------------------------------------------
    def _maybe_finish(self, state: CityCrawl):
        if state.pending > 0 or state.done:
            return
        yield from self._finish(state)

    def _finish(self, state: CityCrawl):
        state.done = True
        home = state.home_ref
        merged = rules.merge_findings(state.findings)
        refs_by_url = {u: r for u, r in state.page_refs.items() if r}
        # A feature not found while a page that could hold it was unreadable is unknown, not absent.
        unread_sub = [u for u in state.unread if u[0] == "subpage"]
        unread_map = [u for u in state.unread if u[0] == "sitemap"]
        for code, finding in merged.items():
            could_be_on = unread_sub if code in rules.SUBPAGE_FEATURES else []
            if code == "site_map":
                could_be_on = could_be_on + unread_map
            if finding.status == ABSENT and could_be_on:
                yield from self._unknown(state, (code,), could_be_on)
                continue
            ref = refs_by_url.get(finding.url) or home
            if code == "homepage_load_ms":
                ref = state.load_ref or ref     # the fetch that was timed (an earlier one, when reused)
            yield self.observe(state.city_code, finding, ref)
        yield from self._inspection_items(state)
        if state.ipv6 is not None:
            yield self.observe(state.city_code, state.ipv6, home)

    def _inspection_items(self, state: CityCrawl):
        home = state.home_ref
        # A sampled page we could not read makes the counts over the sample unknown, not smaller.
        unread_columns = [u for u in state.unread if u[0] == "column"]
        col_refs = [c[4].id for c in state.columns if c[4]]
        if unread_columns:
            yield from self._unknown(state, ("stale_columns", "empty_columns"), unread_columns)
        else:
            # Columns: stale (news > 14 days, notices / policies > 183 days) and empty.
            for f in inspection.column_findings(state.columns, self.crawl_date):
                yield self.observe(state.city_code, f, home, col_refs)
        unread_sample = [u for u in state.unread if u[0] in ("column", "article")]
        if unread_sample:
            yield from self._unknown(state, ("page_meta_tags_share",), unread_sample)
        else:
            yield from self._meta_tags_item(state)
        yield from self._broken_links_item(state)

    def _unknown(self, state: CityCrawl, codes, unread):
        status = BLOCKED if any(u[2] == BLOCKED for u in unread) else ERROR
        reason = "could not read sampled page(s): " + ", ".join(f"{u[1]} ({u[2]})" for u in unread[:5])
        yield from self.unreadable(state.city_code, status, state.home_ref, reason, codes=codes)

    def _meta_tags_item(self, state: CityCrawl):
        home = state.home_ref
        # Page meta tags over home + sampled columns + one article per column.
        pages = [("home", *_counts(rules.meta_tag_counts(state.home_page, "home")), home)] + state.meta_pages
        present = sum(p[1] for p in pages)
        applicable = sum(p[2] for p in pages)
        share = round(present / applicable, 4) if applicable else None
        yield self.observe(state.city_code, Finding(
            "page_meta_tags_share", share, OK if share is not None else ABSENT,
            f"{present}/{applicable} required tags on {len(pages)} pages", "portal.page_meta_tags", RULE_VERSION),
            home, [p[3].id for p in pages if p[3]])

    def _broken_links_item(self, state: CityCrawl):
        home = state.home_ref
        # Broken links over the sample (blocked and robots-excluded links do not count).
        checked = [r for r in state.link_results if r[1] != "excluded"]
        broken = [r for r in checked if r[1] == "broken"]
        if checked:
            ratio = round(len(broken) / len(checked), 4)
            detail = f"{len(broken)}/{len(checked)} broken" + (
                ": " + ", ".join(r[0] for r in broken[:5]) if broken else "")
            yield self.observe(state.city_code, Finding("broken_link_ratio", ratio, OK, detail,
                                                        "portal.broken_links", RULE_VERSION),
                               home, [r[2].id for r in state.link_results if r[2]])
        else:
            yield self.observe(state.city_code, Finding("broken_link_ratio", None, ABSENT,
                                                        "no same-site links to check", "portal.broken_links",
                                                        RULE_VERSION), home)
