"""The apps spider: each government app of a city in each store of the source file (kind ``app``).

One source entry per app and store: ``start_url`` is the store answer to read (an iTunes Lookup URL,
or an Android store's app page) and the options name the app::

    - city: 440300
      kind: app
      name: i深圳（App Store）
      start_url: https://itunes.apple.com/lookup?id=1463587382&country=cn
      options: {app: i深圳, store: apple, apple_id: "1463587382", android_package: com.pingan.smt}

Android pages that are empty shells (single-page stores) are fetched again through Chromium, as are
pages whose options say ``render: true``. Navigation only: every reading is a rule in collectors.apps.
Per city, the listings are merged when the last store answer is in; then one ``app_snapshot`` row per
(store, app id, crawl date) is upserted and the city's indicators are reported, citing every answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import scrapy
from sqlalchemy import select

from collectors import apps as rules
from collectors.base import ABSENT, BLOCKED, ERROR, OK
from collectors.fetch import BLOCKED as FETCH_BLOCKED
from collectors.fetch import NOT_FOUND, classify_fetch, is_empty_shell
from spiders import browser
from spiders.base import SgiSpider, page_from_response
from spiders.robots import refused_by_robots
from spiders.store import store_for
from storage import db
from storage.apps_models import AppSnapshot
from storage.models import City
from storage.store import utcnow

MAX_RENDER_ATTEMPTS = 2


def store_key(source) -> str:
    """'apple' for the iTunes API, else the Android store's key (options.store, or from the host)."""
    store = (source.options or {}).get("store")
    if store:
        return str(store)
    host = (urlsplit(source.start_url).hostname or "").lower()
    if "itunes.apple" in host or "apps.apple" in host:
        return "apple"
    labels = [l for l in host.removesuffix(".test").split(".") if l not in ("www", "com", "cn", "net", "app", "sj")]
    return labels[0] if labels else host


def app_id_of(source, store: str) -> str:
    options = source.options or {}
    if store == "apple":
        if options.get("apple_id"):
            return str(options["apple_id"])
        return (parse_qs(urlsplit(source.start_url).query).get("id") or [""])[0]
    return str(options.get("android_package") or urlsplit(source.start_url).path.rstrip("/").rsplit("/", 1)[-1])


@dataclass
class CityState:
    city_code: str
    sources: list
    pending: int = 0
    listings: list = field(default_factory=list)     # (source, Listing, SnapshotRef | None)
    done: bool = False


class AppsSpider(SgiSpider):
    name = "apps"
    renders_pages = True
    source_kind = "app"
    indicators = rules.APP_CODES

    def start_requests(self):
        by_city: dict[str, CityState] = {}
        for source in self.selected_sources():
            by_city.setdefault(source.city_code, CityState(source.city_code, [])).sources.append(source)
        for state in by_city.values():
            # A city's requests are all counted before the first is yielded: it may be answered, and
            # the city finish, before this generator is resumed.
            yield from [self._request(state, source, source.start_url,
                                      render=bool((source.options or {}).get("render")))
                        for source in state.sources]

    def _request(self, state: CityState, source, url: str, render: bool = False, **meta):
        meta = {"city_code": state.city_code, "sgi_state": state, "sgi_source": source,
                "handle_httpstatus_all": True, **meta}
        if render:
            meta.update(browser.render_meta())
        state.pending += 1
        headers = {"Accept": "application/json, text/javascript, */*"} if store_key(source) == "apple" else None
        return scrapy.Request(url, callback=self.parse_store, errback=self.on_error, meta=meta, dont_filter=True,
                              headers=headers)

    # --- answers -----------------------------------------------------------------------------------
    def parse_store(self, response):
        state: CityState = response.meta["sgi_state"]
        source = response.meta["sgi_source"]
        ref = response.meta.get("sgi_snapshot")
        store = store_key(source)
        app_id = app_id_of(source, store)
        page = page_from_response(response)
        fetch = classify_fetch(page)
        shell = is_empty_shell(page)
        if page.rendered and shell and fetch == OK:
            fetch = ERROR           # the browser gave back the empty shell: nothing was read
        if store != "apple" and not page.rendered and (fetch == FETCH_BLOCKED or (fetch == OK and shell)):
            # Single-page stores (and JS challenges): read the page as a browser shows it. Only a shell
            # (not a block) may be rendered a second time: a block gets one browser retry.
            retry = self._request(state, source, response.url, render=True, sgi_plain_fetch=fetch,
                                  sgi_plain_snapshot=ref, sgi_plain_shell=shell and fetch == OK, sgi_render_attempt=1)
            state.pending -= 1      # after the retry is counted: the city never sits at 0 in between
            yield retry
            return
        if page.rendered and fetch != OK and response.meta.get("sgi_plain_shell") and \
                response.meta.get("sgi_render_attempt", 0) < MAX_RENDER_ATTEMPTS:
            retry = self._rerender(state, source, response.meta)
            state.pending -= 1
            yield retry
            return
        if fetch == OK or (fetch == NOT_FOUND and store != "apple"):
            try:
                if store == "apple":
                    listing = rules.apple_lookup(page.body, app_id)
                else:
                    listing = rules.android_listing(page, store, app_id, self.crawl_date)
            except (ValueError, KeyError) as exc:
                listing = rules.Listing(store=store, app_id=app_id, status=ERROR, url=page.url,
                                        evidence=f"unreadable store answer: {exc}"[:300])
        else:
            status = BLOCKED if fetch == FETCH_BLOCKED else ERROR
            if page.rendered and shell:
                status = ERROR      # the browser did not fill the shell: a failed reading, not a refusal
            elif response.meta.get("sgi_plain_fetch") == FETCH_BLOCKED and not response.meta.get("sgi_plain_shell"):
                status, ref = BLOCKED, response.meta.get("sgi_plain_snapshot") or ref
            listing = rules.Listing(store=store, app_id=app_id, status=status, url=page.url,
                                    evidence=f"store answer {fetch} (HTTP {page.status})")
        if listing.url is None or store == "apple":
            listing.url = listing.url or page.url
        state.listings.append((source, listing, ref))
        state.pending -= 1
        yield from self._maybe_finish(state)

    def _rerender(self, state: CityState, source, meta: dict):
        """Browser renders time out on a busy machine: try once more before giving up."""
        keep = {k: meta[k] for k in ("sgi_plain_fetch", "sgi_plain_snapshot", "sgi_plain_shell") if k in meta}
        return self._request(state, source, source.start_url, render=True,
                             sgi_render_attempt=meta.get("sgi_render_attempt", 1) + 1, **keep)

    async def on_error(self, failure):
        request = failure.request
        state: CityState = request.meta["sgi_state"]
        source = request.meta["sgi_source"]
        store = store_key(source)
        ref = request.meta.get("sgi_snapshot")
        robots = refused_by_robots(failure)
        if request.meta.get("playwright") and request.meta.get("sgi_plain_shell") and not robots and \
                request.meta.get("sgi_render_attempt", 1) < MAX_RENDER_ATTEMPTS:
            retry = self._rerender(state, source, request.meta)
            state.pending -= 1
            yield retry
            return
        plain_blocked = request.meta.get("sgi_plain_fetch") == FETCH_BLOCKED and not request.meta.get("sgi_plain_shell")
        status = BLOCKED if robots or plain_blocked else ERROR
        if plain_blocked:
            ref = request.meta.get("sgi_plain_snapshot") or ref
        state.listings.append((source, rules.Listing(store=store, app_id=app_id_of(source, store), status=status,
                                                     url=request.url,
                                                     evidence=f"fetch failed: {failure.value!r}"[:300]), ref))
        state.pending -= 1
        for item in self._maybe_finish(state):
            yield item

    # --- merging -----------------------------------------------------------------------------------
    def _maybe_finish(self, state: CityState):
        if state.pending > 0 or state.done:
            return
        state.done = True
        yield from self._finish(state)

    def _population(self, state: CityState, engine) -> int | None:
        for source in state.sources:
            value = (source.options or {}).get("population")
            if value:
                return int(value)
        with engine.connect() as conn:
            row = conn.execute(select(City.population).where(City.code == state.city_code)).first()
        return int(row[0]) if row and row[0] else None

    def _finish(self, state: CityState):
        # Answers arrive in any order; what the city reports (and the store it cites) follows the
        # source file's order, so identical runs give identical rows.
        order = {id(source): n for n, source in enumerate(state.sources)}
        state.listings.sort(key=lambda entry: order.get(id(entry[0]), len(order)))
        store = store_for(self.crawler)
        engine = store.engine
        apps: dict[str, rules.CityApp] = {}
        for source, listing, _ref in state.listings:
            name = str((source.options or {}).get("app") or source.name)
            apps.setdefault(name, rules.CityApp(name)).listings.append(listing)
        history = self._history(engine, state)
        self._save_snapshots(store, state)
        population = self._population(state, engine)
        findings = rules.city_findings(list(apps.values()), self.crawl_date, population)
        current = [dict(store=l.store, app_id=l.app_id, status=l.status, rating=l.rating,
                        rating_count=l.rating_count) for _s, l, _r in state.listings]
        findings["app_rating_trend_90d"] = rules.rating_trend(history, current, self.crawl_date)
        refs = [r for _s, _l, r in state.listings if r is not None]
        main = next((r for _s, l, r in state.listings if r is not None and l.status == OK), None) or \
            next((r for _s, l, r in state.listings if r is not None and l.status == ABSENT), None) or \
            (refs[0] if refs else None)
        for code in rules.APP_CODES:
            finding = findings[code]
            if finding.status in (OK, ABSENT) and main is None:
                continue   # cannot happen: an ok/absent reading comes from a read answer
            yield self.observe(state.city_code, finding, main, [r.id for r in refs])

    def _history(self, engine, state: CityState) -> list[dict]:
        keys = {(l.store, l.app_id) for _s, l, _r in state.listings}
        start = (self.crawl_date - timedelta(days=rules.TREND_WINDOW_DAYS)).isoformat()
        t = AppSnapshot.__table__
        with engine.connect() as conn:
            rows = conn.execute(select(t.c.store, t.c.app_id, t.c.crawl_date, t.c.status, t.c.rating,
                                       t.c.rating_count)
                                .where(t.c.crawl_date >= start, t.c.crawl_date < self.crawl_date.isoformat(),
                                       t.c.app_id.in_([k[1] for k in keys]))).mappings().all()
        return [dict(r) for r in rows if (r["store"], r["app_id"]) in keys]

    def _save_snapshots(self, store, state: CityState) -> None:
        """One row per (store, app id, crawl date): a reading (ok/absent) replaces the day's row; a failed
        fetch only fills a day that has no row yet (it never overwrites a reading)."""
        read, failed = [], []
        now = utcnow()
        for source, listing, ref in state.listings:
            row = listing.as_row()
            row.update(crawl_date=self.crawl_date.isoformat(), city_code=state.city_code,
                       app_name=str((source.options or {}).get("app") or source.name),
                       release_date=listing.release_date.isoformat() if listing.release_date else None,
                       run_id=store.run_id, snapshot_id=ref.id if ref else None, recorded_at=now)
            (read if listing.status in (OK, ABSENT) else failed).append(row)
        store.flush()   # the snapshot rows the harvest rows cite go in first
        with engine_begin(store) as conn:
            db.upsert(conn, AppSnapshot, read, ["store", "app_id", "crawl_date"])
            db.upsert(conn, AppSnapshot, failed, ["store", "app_id", "crawl_date"], update=[])


def engine_begin(store):
    return store.engine.begin()
