"""The policy spider: a city's policy-document libraries and its government work reports. Navigation only;
every reading is a rule in collectors.policy.

One source entry is one city's library. ``options`` (all optional):

    lists:                       # more list pages of the same library (规范性文件, 主动公开目录 ...)
      - {url: /gfxwj/index.html, normative: true}     # normative: every document listed is a 规范性文件
    normative: false             # the start list itself lists 规范性文件 only
    api:                         # the start page is a single-page shell: read the JSON API instead
      url: /api/zcwj/list?pageNo={page}&pageSize=10  # relative to start_url; {page} is 1-based
      fields: {items: data.rows, total: data.total, title: docTitle, url: docUrl, date: pubDate}
    work_report: /zfgzbg/index.html   # list of 政府工作报告; the latest one is read
    attachment_max_bytes: 20971520    # size cap per attachment (Content-Length or bytes received)
    max_pages: 100
    years_back: 5                # yearly periods: crawl year and this many before; plus the cumulative
                                 # count with the crawl date as period

Pagination is read from each list page: TRS ``createPageHTML(n, …)`` scripts give every page at once,
otherwise a '下一页' link is followed (``?page=N`` lists). Attachments are fetched with
``meta['download_maxsize']``: an oversized one ends in the errback and is recorded as skipped with the
reason, a corrupt one is recorded with the parser's error; neither stops the crawl or changes a count.

When a list or detail page of a city cannot be read (blocked / failed), or the first page of a list
answers but no document link is recognised on it, the counts of that city are reported as blocked /
error (an undercount is not a value). A city without a policy source gets no policy rows at all.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import scrapy

from collectors import policy as rules
from collectors.base import BLOCKED, ERROR, OK, Finding
from collectors.fetch import BLOCKED as FETCH_BLOCKED
from collectors.fetch import classify_fetch
from spiders.base import SgiSpider, page_from_response
from spiders.incremental import MORE_PAGES, next_page
from spiders.robots import refused_by_robots
from storage.warc import sha256_hex

DEFAULT_ATTACHMENT_MAX = 20 * 1024 * 1024
DEFAULT_MAX_PAGES = 100
DEFAULT_YEARS_BACK = 5
_MAXSIZE = re.compile(r"(\d+) bytes which is larger than download max size \((\d+)\)")


def _place(city_code: str) -> tuple[str | None, str | None]:
    """(province, city) names of a city code, so an issuer written '省…厅' / '市…局' keeps its place."""
    from sgi.cities import lookup
    from sgi.errors import SgiError

    try:
        city = lookup(city_code)
    except SgiError:
        return None, None
    return city.province, city.name


@dataclass
class CityCrawl:
    city_code: str
    sources: list
    pending: int = 0
    failed: str | None = None
    reason: str = ""
    list_refs: list = field(default_factory=list)
    requested: set = field(default_factory=set)        # detail / list URLs already requested
    normative_urls: set = field(default_factory=set)
    docs: dict = field(default_factory=dict)           # url -> (PolicyDoc, snapshot id)
    attachments: dict = field(default_factory=dict)    # (doc url, att url) -> row dict
    report: tuple | None = None                        # (Finding, ref, year)
    report_failed: tuple | None = None                 # (status, reason, ref)
    report_doc: tuple | None = None                    # (PolicyDoc, snapshot id, year)
    options: dict = field(default_factory=dict)
    done: bool = False


class PolicySpider(SgiSpider):
    name = "policy"
    source_kind = "policy"
    indicators = rules.CODES

    def start_requests(self):
        by_city = self.sources_by_city()
        for city, sources in by_city.items():
            state = CityCrawl(city, sources, options=dict(sources[0].options or {}))
            # All of a city's first requests are counted before the first is yielded: one may be
            # answered, and the city finish, before this generator is resumed.
            requests = []
            for source in sources:
                opts = dict(source.options or {})
                lists = [{"url": source.start_url, "normative": bool(opts.get("normative")), "api": opts.get("api")}]
                for extra in opts.get("lists") or []:
                    lists.append({"url": urljoin(source.start_url, extra["url"]), "normative": bool(extra.get("normative")),
                                  "api": extra.get("api")})
                for lst in lists:
                    if lst["api"]:
                        requests.append(self._api_request(state, source, lst, 1))
                    else:
                        state.requested.add(lst["url"])
                        requests.append(self._request(state, source, lst["url"], self.parse_list, role="list",
                                                      lst=lst, page_no=1))
                if opts.get("work_report"):
                    requests.append(self._request(state, source, urljoin(source.start_url, opts["work_report"]),
                                                  self.parse_report_list, role="report_list"))
            yield from requests

    # --- requests ----------------------------------------------------------------------------------
    def _request(self, state: CityCrawl, source, url: str, callback, role: str, **meta):
        state.pending += 1
        meta = {"city_code": state.city_code, "sgi_state": state, "sgi_source": source, "sgi_role": role,
                "handle_httpstatus_all": True, **meta}
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, dont_filter=True)

    def _api_request(self, state: CityCrawl, source, lst: dict, page_no: int, **meta):
        url = urljoin(source.start_url, str(lst["api"]["url"]).replace("{page}", str(page_no)))
        return self._request(state, source, url, self.parse_api, role="list" if page_no == 1 else MORE_PAGES,
                             lst=lst, page_no=page_no, **meta)

    def _allowed(self, source, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        domains = source.allowed_domains or (urlsplit(source.start_url).hostname,)
        return any(host == d or host.endswith("." + d) for d in domains)

    def _fail(self, state: CityCrawl, status: str, reason: str) -> None:
        if state.failed != BLOCKED:
            state.failed, state.reason = status, reason

    def _answered(self, state: CityCrawl):
        state.pending -= 1
        if state.pending <= 0 and not state.done:
            state.done = True
            yield from self._finish(state)

    def _fetch_ok(self, state: CityCrawl, page, what: str) -> bool:
        fetch = classify_fetch(page)
        if fetch == OK:
            return True
        self._fail(state, BLOCKED if fetch == FETCH_BLOCKED else ERROR, f"{what} {page.url} {fetch} (HTTP {page.status})")
        return False

    # --- lists -------------------------------------------------------------------------------------
    def _details(self, state: CityCrawl, source, items, lst: dict):
        for item in items:
            if lst.get("normative"):
                state.normative_urls.add(item.url)
            if item.url in state.requested or not self._allowed(source, item.url):
                continue
            state.requested.add(item.url)
            yield self._request(state, source, item.url, self.parse_detail, role="detail")

    def parse_list(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        source, lst = response.meta["sgi_source"], response.meta["lst"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        if self._fetch_ok(state, page, "list page"):
            if ref:
                state.list_refs.append(ref)
            items = rules.parse_list(page, self.crawl_date)
            yield from self._details(state, source, items, lst)
            style, urls = rules.pagination(page)
            if not items and response.meta.get("page_no", 1) == 1:
                # A list read but not understood proves nothing: the counts are not zero, they are unknown.
                self._fail(state, ERROR, f"no document links recognised on list page {page.url}")
            max_pages = int(state.options.get("max_pages") or DEFAULT_MAX_PAGES)
            page_no = response.meta.get("page_no", 1)
            if style == "trs":
                urls = urls[:max_pages]
            elif page_no >= max_pages:
                urls = []
            for url in urls:
                if url not in state.requested and url != page.url and self._allowed(source, url):
                    state.requested.add(url)
                    yield self._request(state, source, url, self.parse_list, role=MORE_PAGES, lst=lst,
                                        page_no=page_no + 1, **next_page(response))
        yield from self._answered(state)

    def parse_api(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        source, lst = response.meta["sgi_source"], response.meta["lst"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        page_no = response.meta["page_no"]
        if self._fetch_ok(state, page, "list API"):
            try:
                items, total = rules.parse_api_list(page.body, source.start_url, lst["api"], self.crawl_date)
            except ValueError as exc:
                self._fail(state, ERROR, f"list API {page.url}: {exc}"[:300])
                items, total = None, None
            if items is not None:
                if ref:
                    state.list_refs.append(ref)
                yield from self._details(state, source, items, lst)
                seen = page_no * len(items) if items else 0
                max_pages = int(state.options.get("max_pages") or DEFAULT_MAX_PAGES)
                if items and page_no < max_pages and (total is None or seen < total):
                    yield self._api_request(state, source, lst, page_no + 1, **next_page(response))
        yield from self._answered(state)

    # --- details and attachments --------------------------------------------------------------------
    def parse_detail(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        source = response.meta["sgi_source"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        if self._fetch_ok(state, page, "detail page"):
            doc = rules.parse_detail(page, *_place(state.city_code))
            state.docs[page.url] = (doc, ref.id if ref else None, response.request.url)
            cap = int(state.options.get("attachment_max_bytes") or DEFAULT_ATTACHMENT_MAX)
            for url, text in doc.attachments:
                key = (page.url, url)
                if key in state.attachments or not self._allowed(source, url):
                    continue
                state.attachments[key] = {"url": url, "name": text, "ext": rules.attachment_ext(url) or rules.attachment_ext(text),
                                          "status": ERROR, "skip_reason": "not fetched"}
                yield self._request(state, source, url, self.parse_attachment, role="attachment", doc_url=page.url,
                                    download_maxsize=cap, download_warnsize=0)
        yield from self._answered(state)

    def parse_attachment(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        row = state.attachments[(response.meta["doc_url"], response.request.url)]
        ref = response.meta.get("sgi_snapshot")
        row["snapshot_id"] = ref.id if ref else None
        if response.status != 200:
            row.update(status=ERROR, skip_reason=f"HTTP {response.status}")
        else:
            body = response.body
            # The evidence middleware already took the body's sha256; reuse it.
            row.update(size=len(body), digest=ref.digest if ref and ref.digest else sha256_hex(body))
            text, reason = rules.attachment_text(body, row.get("ext"))
            row.update(text=text, skip_reason=reason, status=OK if reason is None else "skipped")
        yield from self._answered(state)

    # --- work reports --------------------------------------------------------------------------------
    def parse_report_list(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        source = response.meta["sgi_source"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        fetch = classify_fetch(page)
        if fetch != OK:
            state.report_failed = (BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                                   f"work report list {page.url} {fetch} (HTTP {page.status})", ref)
        else:
            best = None
            for item in rules.parse_list(page, self.crawl_date) or self._all_links(page):
                year = rules.is_work_report_title(item.title)
                if year and (best is None or year > best[0]):
                    best = (year, item.url)
            if best is None:
                state.report = (Finding(rules.WORK_REPORT_CODE, None, "absent", f"no 政府工作报告 listed on {page.url}",
                                        "policy.work_report", rules.RULE_VERSION), ref, None)
            elif self._allowed(source, best[1]):
                yield self._request(state, source, best[1], self.parse_report, role="report", year=best[0])
        yield from self._answered(state)

    @staticmethod
    def _all_links(page):
        return [rules.ListItem(page.absolute(a["href"]), a.get_text(" ").strip()) for a in page.soup.find_all("a", href=True)]

    def parse_report(self, response):
        state: CityCrawl = response.meta["sgi_state"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        fetch = classify_fetch(page)
        if fetch != OK:
            state.report_failed = (BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                                   f"work report {page.url} {fetch} (HTTP {page.status})", ref)
        else:
            doc = rules.parse_detail(page)
            value, n, chars = rules.env_term_frequency(doc.body)
            finding = Finding(rules.WORK_REPORT_CODE, value, OK if value is not None else "absent",
                              f"{n} environmental terms in {chars} characters of '{doc.title}'", "policy.work_report",
                              rules.RULE_VERSION, url=page.url)
            state.report = (finding, ref, response.meta["year"])
            state.report_doc = (doc, ref.id if ref else None, response.meta["year"])
        yield from self._answered(state)

    # --- failures -------------------------------------------------------------------------------------
    async def on_error(self, failure):
        request = failure.request
        state: CityCrawl = request.meta["sgi_state"]
        role = request.meta.get("sgi_role")
        ref = request.meta.get("sgi_snapshot")
        message = str(failure.value)
        robots = refused_by_robots(failure)
        if role == "attachment":
            row = state.attachments[(request.meta["doc_url"], request.url)]
            m = _MAXSIZE.search(message)
            if m:
                row.update(status="skipped", size=int(m.group(1)),
                           skip_reason=f"size cap: {m.group(1)} bytes > {m.group(2)} bytes allowed")
            else:
                row.update(status=BLOCKED if robots else ERROR,
                           skip_reason=f"fetch failed: {type(failure.value).__name__}: {message}"[:300])
            row["snapshot_id"] = ref.id if ref else None
        elif role in ("report_list", "report"):
            state.report_failed = (BLOCKED if robots else ERROR, f"{role} {request.url}: {message}"[:300], ref)
        else:
            self._fail(state, BLOCKED if robots else ERROR, f"{role} {request.url}: {failure.value!r}"[:300])
            if ref and role == "list":
                state.list_refs.append(ref)
        for item in self._answered(state):
            yield item

    # --- results ----------------------------------------------------------------------------------------
    def periods(self, state: CityCrawl) -> list[str]:
        back = int(state.options.get("years_back", DEFAULT_YEARS_BACK))
        y = self.crawl_date.year
        return [str(year) for year in range(y - back, y + 1)] + [self.crawl_date.isoformat()]

    def _finish(self, state: CityCrawl):
        db_url = self.settings.get("SGI_DATABASE_URL")
        store = getattr(self.crawler, "sgi_store", None)
        run_id = None
        if store is not None:
            store.flush()
            run_id = store.run_id
        main_ref = state.list_refs[0] if state.list_refs else None
        list_ids = [r.id for r in state.list_refs if r]
        groups = rules.dedupe([d for d, _s, _u in state.docs.values()])
        snap_of = {u: s for u, (_d, s, _r) in state.docs.items()}
        doc_rows, att_rows, canon = [], [], []
        for group in groups:
            first = group[0]
            key = rules.doc_key(first.doc_number, first.url)
            normative = any(d.is_normative or d.url in state.normative_urls for d in group)
            cls = rules.classify(first.title or "", first.body,
                                 issuer=next((d.issuer for d in group if d.issuer), None))
            best = {**{k: getattr(d, k) for d in reversed(group) for k in ("issuer", "index_number", "subject",
                                                                             "written_date", "published_date", "validity")
                       if getattr(d, k)}}
            published = min((d.published_date for d in group if d.published_date), default=None)
            written = best.get("written_date")
            canon.append({"cls": cls, "normative": normative, "validity": first.validity or best.get("validity"),
                          "date": published or written, "snap": snap_of.get(first.url)})
            iso = lambda d: d.isoformat() if d else None
            doc_rows.append(dict(city_code=state.city_code, doc_key=key, kind="document", title=first.title,
                                 doc_number=first.doc_number, issuer=best.get("issuer"),
                                 index_number=first.index_number or best.get("index_number"),
                                 subject=best.get("subject"), written_date=iso(written), published_date=iso(published),
                                 validity=first.validity or best.get("validity"), is_normative=normative,
                                 is_policy=cls.is_policy, categories=cls.categories, groups=cls.groups, rules=cls.rules,
                                 url=first.url, urls=sorted({d.url for d in group}), body_text=first.body,
                                 body_digest=hashlib.sha256(first.body.encode()).hexdigest(), run_id=run_id,
                                 snapshot_id=snap_of.get(first.url), rule_version=rules.RULE_VERSION))
            for d in group:
                for (doc_url, _att), row in state.attachments.items():
                    if doc_url == d.url:
                        att_rows.append(dict(city_code=state.city_code, doc_key=key, url=row["url"], name=row.get("name"),
                                             ext=row.get("ext"), status=row["status"], size=row.get("size"),
                                             digest=row.get("digest"), text=row.get("text"),
                                             skip_reason=row.get("skip_reason"), run_id=run_id,
                                             snapshot_id=row.get("snapshot_id")))
        if state.report_doc is not None:
            doc, snap, year = state.report_doc
            doc_rows.append(dict(city_code=state.city_code, doc_key=f"work_report:{year}", kind="work_report",
                                 title=doc.title, doc_number=doc.doc_number, issuer=doc.issuer,
                                 index_number=doc.index_number, subject=doc.subject,
                                 written_date=doc.written_date.isoformat() if doc.written_date else None,
                                 published_date=doc.published_date.isoformat() if doc.published_date else None,
                                 validity=doc.validity, is_normative=False, is_policy=False, categories=[], groups=[],
                                 rules=[state.report[0].evidence or ""], url=doc.url, urls=[doc.url], body_text=doc.body,
                                 body_digest=hashlib.sha256(doc.body.encode()).hexdigest(), run_id=run_id,
                                 snapshot_id=snap, rule_version=rules.RULE_VERSION))
        from storage.policy_models import save_policy

        if state.failed:       # an incomplete library is not stored; the work report read is
            doc_rows, att_rows = [r for r in doc_rows if r["kind"] == "work_report"], []
        save_policy(db_url, doc_rows, list({(r["doc_key"], r["url"]): r for r in att_rows}.values()))
        yield from self._indicators(state, canon, main_ref, list_ids)
        yield from self._report_items(state)

    def _indicators(self, state: CityCrawl, canon: list[dict], main_ref, list_ids: list[str]):
        periods = self.periods(state)
        if state.failed:
            for period in periods:
                for item in self.unreadable(state.city_code, state.failed, main_ref, state.reason, codes=rules.INDICATORS):
                    item.period = period
                    item.evidence_snapshots = list_ids
                    yield item
            return
        if main_ref is None:
            return
        lex = rules.load_lexicon()
        for period in periods:
            inside = [c for c in canon if c["cls"].is_policy and (
                len(period) != 4 or (c["date"] is not None and str(c["date"].year) == period))]
            counts = Counter()
            counts["policy_docs_total"] = len(inside)
            for c in inside:
                cats = c["cls"].categories
                for cat in cats:
                    counts[f"policy_cat_{cat}"] += 1
                for g in c["cls"].groups:
                    counts[f"policy_{g}"] += 1
                if cats and c["normative"] and c["validity"] not in ("失效", "废止"):
                    counts["policy_normative_smart_governance"] += 1
            snaps = list_ids + [c["snap"] for c in inside if c["snap"]]
            scope = f"published in {period}" if len(period) == 4 else f"published up to {period}"
            for code in rules.INDICATORS:
                finding = Finding(code, counts.get(code, 0), OK,
                                  f"{counts.get(code, 0)} of {len(inside)} distinct policy documents {scope} "
                                  f"({len(canon)} distinct documents read, lexicon v{lex.version})",
                                  f"policy.{code}", rules.RULE_VERSION)
                item = self.observe(state.city_code, finding, main_ref, snaps)
                item.period = period
                yield item

    def _report_items(self, state: CityCrawl):
        if state.report is not None:
            finding, ref, year = state.report
            if ref is None:
                return
            item = self.observe(state.city_code, finding, ref)
            item.period = str(year) if year else str(self.crawl_date.year)
            yield item
        elif state.report_failed is not None:
            status, reason, ref = state.report_failed
            for item in self.unreadable(state.city_code, status, ref, reason, codes=[rules.WORK_REPORT_CODE]):
                item.period = str(self.crawl_date.year)
                yield item
