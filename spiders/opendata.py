"""The opendata spider: harvests each city's open-data catalogue through the adapter its source entry
names (``options.adapter``: ckan / jsonapi / html), saves every dataset to the ``dataset`` table and
reports the opendata_* indicators once per city.

Navigation only: which request comes next, and what an answer holds, is decided by the pure
functions of :mod:`collectors.opendata`. A platform that is down, blocks us, or answers with an error
object (after ``options.error_retries`` retries of that page) gives every opendata indicator the
status error / blocked, and its stored catalogue is left as it was (nothing is marked removed). Only a
complete, non-empty harvest marks the datasets it no longer lists as removed; a detail page that failed,
or a harvest cut at ``max_pages``, marks nothing (and says so in the evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import scrapy

from collectors import opendata as rules
from collectors.base import BLOCKED, ERROR, OK, Finding
from collectors.fetch import BLOCKED as FETCH_BLOCKED
from collectors.fetch import classify_fetch
from spiders import browser
from spiders.base import SgiSpider, page_from_response
from spiders.incremental import MORE_PAGES, next_page
from spiders.robots import refused_by_robots


@dataclass
class PlatformCrawl:
    city_code: str
    source: object
    options: dict
    platform: str
    paging: rules.PagingState = field(default_factory=rules.PagingState)
    records: list = field(default_factory=list)            # Dataset, in the order read (duplicates kept)
    stubs: dict = field(default_factory=dict)              # html: dataset_id -> Dataset read from a list page
    snapshot_of: dict = field(default_factory=dict)        # dataset_id -> snapshot id it was read from
    list_refs: list = field(default_factory=list)          # SnapshotRef of every list answer
    detail_refs: list = field(default_factory=list)
    pending: int = 0
    retries: dict = field(default_factory=dict)            # page -> error-body retries spent
    failed: str | None = None                               # blocked / error
    reason: str = ""
    fail_ref: object = None
    incomplete: list = field(default_factory=list)          # why the harvest cannot prove removals
    stop_reason: str = ""
    terms: tuple | None = None                               # (found: bool | None, ref, evidence)
    done: bool = False


class OpendataSpider(SgiSpider):
    name = "opendata"
    source_kind = "opendata"
    indicators = rules.INDICATORS

    def start_requests(self):
        for source in self.selected_sources():
            options = dict(source.options or {})
            problems = rules.validate_options(options)
            platform = options.get("platform") or (urlsplit(source.start_url).hostname or source.start_url)
            state = PlatformCrawl(source.city_code, source, options, platform)
            if problems:
                self.logger.error("opendata source %s (%s): %s", source.name, source.where, "; ".join(problems))
                for item in self.unreadable(source.city_code, ERROR, None,
                                            f"source entry unusable: {'; '.join(problems)}"[:300]):
                    yield item
                continue
            # Every request of the platform is counted before the first is yielded: the list may be
            # answered, and the platform finish, before this generator is resumed.
            requests = [self._request(state, rules.first_request(source.start_url, options), self.parse_list)]
            if options.get("terms_url"):
                requests.append(self._request(state, rules.RequestSpec(
                    rules.urljoin(source.start_url, options["terms_url"]), role="terms"), self.parse_terms))
            yield from requests

    # --- requests ------------------------------------------------------------------------------------------
    def _request(self, state: PlatformCrawl, spec: rules.RequestSpec, callback, **revisit):
        meta = {"city_code": state.city_code, "sgi_state": state, "sgi_spec": spec, "sgi_role": spec.role,
                "handle_httpstatus_all": True, **revisit}
        if state.options.get("render") and spec.method == "GET":
            meta.update(browser.render_meta())
        state.pending += 1
        return scrapy.Request(spec.url, method=spec.method, body=spec.body, headers=dict(spec.headers) or None,
                              callback=callback, errback=self.on_error, meta=meta, dont_filter=True)

    def _fail(self, state: PlatformCrawl, status: str, reason: str, ref) -> None:
        if state.failed != BLOCKED:          # blocked wins over error: the site refused us
            state.failed = status
            state.fail_ref = ref or state.fail_ref
        state.reason = (state.reason + "; " if state.reason else "") + reason
        state.reason = state.reason[:1000]

    # --- answers -------------------------------------------------------------------------------------------
    def parse_list(self, response):
        state: PlatformCrawl = response.meta["sgi_state"]
        spec: rules.RequestSpec = response.meta["sgi_spec"]
        ref = response.meta.get("sgi_snapshot")
        if state.failed:
            yield from self._answered(state)
            return
        page = page_from_response(response)
        fetch = classify_fetch(page)
        if ref is not None:
            state.list_refs.append(ref)
        if fetch != OK:
            self._fail(state, BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                       f"list {spec.url}: {fetch} (HTTP {page.status})", ref)
            yield from self._answered(state)
            return
        opts = rules.adapter_options(state.options)
        if opts["adapter"] == "html":
            result = rules.parse_html_list(page, state.source.start_url, state.options, spec, state.paging)
            for detail in result.details:
                # the list's own reading of the dataset (id and link) counts it even if the detail fails
                state.stubs.setdefault(detail.dataset_id, rules.Dataset(dataset_id=detail.dataset_id, url=detail.url))
                yield self._request(state, detail, self.parse_detail)
        else:
            result = rules.parse_json_answer(page.body, state.source.start_url, state.options, spec, state.paging)
            if result.error:
                spent = state.retries.get(spec.page, 0)
                if spent < int(opts.get("error_retries", 2)):
                    state.retries[spec.page] = spent + 1
                    self.logger.info("opendata %s: %s; retrying page %s", state.platform, result.error, spec.page)
                    # Asked of the site itself: the answer may have come from the archive.
                    yield self._request(state, spec, self.parse_list, sgi_fresh=True)
                else:
                    self._fail(state, ERROR, f"list {spec.url}: {result.error}", ref)
                yield from self._answered(state)
                return
            for record in result.records:
                state.records.append(record)
                if ref is not None:
                    state.snapshot_of[record.dataset_id] = ref.id
        if result.next is not None:
            # Revisited as the list's next page (spiders/incremental.py), read as a list page.
            yield self._request(state, result.next, self.parse_list, sgi_role=MORE_PAGES, **next_page(response))
        else:
            state.stop_reason = result.stop_reason or ""
            if result.stop_reason and result.stop_reason.startswith("max_pages"):
                state.incomplete.append(result.stop_reason)
        yield from self._answered(state)

    def parse_detail(self, response):
        state: PlatformCrawl = response.meta["sgi_state"]
        spec: rules.RequestSpec = response.meta["sgi_spec"]
        ref = response.meta.get("sgi_snapshot")
        page = page_from_response(response)
        fetch = classify_fetch(page)
        if fetch == OK:
            record = rules.parse_html_detail(page, spec.dataset_id)
            if record is not None:
                state.records.append(record)
                if ref is not None:
                    state.snapshot_of[record.dataset_id] = ref.id
                    state.detail_refs.append(ref)
        else:
            # The dataset is listed (it counts), but its attributes are unknown this run.
            state.incomplete.append(f"detail {spec.url}: {fetch} (HTTP {page.status})")
        yield from self._answered(state)

    def parse_terms(self, response):
        state: PlatformCrawl = response.meta["sgi_state"]
        ref = response.meta.get("sgi_snapshot")
        page = page_from_response(response)
        fetch = classify_fetch(page)
        if fetch == OK:
            found = rules.terms_page_published(page)
            state.terms = (found, ref, f"terms page {page.url} " + ("names its terms" if found else "names no terms"))
        elif fetch == "not_found":
            state.terms = (False, ref, f"terms page {page.url} answers {page.status}")
        else:
            state.terms = (None, ref, f"terms page {page.url}: {fetch} (HTTP {page.status})")
        yield from self._answered(state)

    async def on_error(self, failure):
        request = failure.request
        state: PlatformCrawl = request.meta["sgi_state"]
        spec: rules.RequestSpec = request.meta["sgi_spec"]
        ref = request.meta.get("sgi_snapshot")
        robots = refused_by_robots(failure)
        reason = f"{spec.role} {request.url}: " + ("robots.txt disallows it" if robots else repr(failure.value))
        if spec.role == "list":
            self._fail(state, BLOCKED if robots else ERROR, reason[:300], ref)
        elif spec.role == "terms":
            state.terms = (None, ref, reason[:300])
        else:
            state.incomplete.append(reason[:300])
        for item in self._answered(state):
            yield item

    # --- results -------------------------------------------------------------------------------------------
    def _answered(self, state: PlatformCrawl):
        """One request of the platform answered, and all its callback asked for counted: the platform
        is harvested when none is left."""
        state.pending -= 1
        if state.pending > 0 or state.done:
            return
        state.done = True
        yield from self._finish(state)

    def _finish(self, state: PlatformCrawl):
        list_ids = [r.id for r in state.list_refs]
        if state.failed:
            ref = state.fail_ref or (state.list_refs[-1] if state.list_refs else None)
            self.logger.warning("opendata %s (%s): %s", state.platform, state.city_code, state.reason)
            for item in self.unreadable(state.city_code, state.failed, ref, state.reason):
                item.evidence_snapshots = list_ids
                yield item
            return
        from storage.opendata_models import save_datasets

        read = {r.dataset_id for r in state.records}
        datasets = rules.dedupe(state.records + [s for i, s in state.stubs.items() if i not in read])
        store = getattr(self.crawler, "sgi_store", None)
        run_id = self.settings.getint("SGI_RUN_ID") or None
        if store is not None:
            store.flush()          # snapshot rows first: dataset rows cite them
            run_id = store.run_id
        saved = save_datasets(self.settings.get("SGI_DATABASE_URL"), run_id, self.crawl_date, state.city_code,
                              state.platform, rules.adapter_options(state.options)["adapter"], datasets,
                              state.snapshot_of, complete=not state.incomplete and bool(datasets))
        self.logger.info("opendata %s: %d datasets (%s), %d marked removed; stop: %s", state.platform,
                         len(datasets), "complete" if not state.incomplete else "incomplete", saved["removed"],
                         state.stop_reason)
        terms_found, terms_ref, terms_ev = state.terms or (None, None, "")
        findings = rules.catalogue_findings(datasets, self.crawl_date, terms_found=bool(terms_found),
                                            terms_evidence=terms_ev, reported_total=state.paging.total)
        main = state.list_refs[0] if state.list_refs else None
        evidence = list_ids + [r.id for r in state.detail_refs]
        note = f"; harvest incomplete: {'; '.join(state.incomplete)[:300]}" if state.incomplete else ""
        for code, finding in findings.items():
            if code == "opendata_licence":
                licensed = any(d.licence for d in datasets)
                if not licensed and terms_found is None and state.terms is not None:
                    # The terms page could not be read: the licence is unknown, not absent.
                    yield from self.unreadable(state.city_code, ERROR, terms_ref, terms_ev, codes=[code])
                    continue
                if not licensed and terms_found and terms_ref is not None:
                    yield self.observe(state.city_code, finding, terms_ref, list_ids)
                    continue
            if note and finding.evidence is not None:
                finding = Finding(finding.code, finding.value, finding.status, finding.evidence + note, finding.rule,
                                  finding.rule_version, finding.url)
            yield self.observe(state.city_code, finding, main, evidence)
