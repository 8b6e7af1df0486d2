"""`sgi audit CITY`: crawl one city fresh with every spider, photograph its portal, score, and write
the audit report (sgi/report/audit.py) with the evidence beside it.

An audit is a normal crawl run with its own key (``audit-<code>-<UTC time>``), so its snapshots and
observations stay in the database next to earlier runs and the report can say what changed since the
previous audit of the city. It never reuses earlier answers: SGI_INCREMENTAL is off and there is no
HTTP cache. The portal screenshot is archived like any response (a WARC resource record named
``urn:screenshot:<url>``) with a snapshot row of the run.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from rich.console import Console

from sgi.report.audit import SCREENSHOT_SPIDER
from collectors.fetch import classify_fetch
from spiders.base import page_from_document
from spiders.addressguard import AddressGuard, AddressRefused
from spiders.middlewares import is_loopback_or_test

FRAMEWORK = "sgi-default"
SCORE_NODES = (("total", "Total"), ("capability", "Capability 治理能力"), ("effect", "Effect 治理效果"),
               ("institution", "Institution 制度体系"))
SCREENSHOT_TIMEOUT_MS = 20000
SCREENSHOT_VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT_URN = "urn:screenshot:"          # the WARC target URI convention for page screenshots


@dataclass
class AuditResult:
    city_code: str
    run_key: str
    run_id: int
    report: Path
    crawl: dict
    screenshot_id: str | None
    score: dict | None
    pack: object | None = None          # storage.wacz.PackInfo of the WACZ evidence pack
    pack_error: str | None = None       # why no pack was written (the report was)


def audit_run_key(code: str, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"audit-{code}-{now:%Y%m%dT%H%M%SZ}"


def spider_indicators(names: list[str] | None = None) -> dict[str, str]:
    """Indicator code -> the spider that reports it, for the given spiders (default: every indicator spider)."""
    from scrapy.spiderloader import SpiderLoader

    from sgi.crawl import available_spiders, scrapy_settings

    loader = SpiderLoader.from_settings(scrapy_settings())
    out: dict[str, str] = {}
    for name in names or available_spiders():
        codes = getattr(loader.load(name), "indicators", ())
        if isinstance(codes, property):          # the portal spider computes its list from its rules
            codes = codes.fget(None)
        for code in codes:
            out.setdefault(code, name)
    return out


def portal_start_url(sources_file: str | Path | None, code: str) -> str | None:
    from sgi.sources import load_sources

    for source in load_sources(sources_file):
        if source.city_code == code and source.kind == "portal":
            return source.start_url
    return None


def _unique_key(db_url: str, key: str) -> str:
    """Two audits of a city in the same second get distinct keys (a run key upserts)."""
    from sqlalchemy import text

    from storage import db

    with db.ensure_schema(db_url).connect() as conn:
        taken = {r[0] for r in conn.execute(text("SELECT run_key FROM crawl_run WHERE run_key LIKE :k"),
                                            {"k": key + "%"})}
    n, candidate = 1, key
    while candidate in taken:
        n += 1
        candidate = f"{key}-{n}"
    return candidate


def run_audit(city: str, *, db_url: str, out: str | Path | None = None, sample_web: bool = False,
              sources: str | Path | None = None, console: Console | None = None, quiet: bool = False,
              web=None, prepare: Callable | None = None, extra_settings: dict | None = None,
              pack=None) -> AuditResult:
    """Crawl, photograph, score and report one city. ``web`` / ``prepare(running)`` let tests serve a
    modified sample web or inject faults into the running one before the crawl. ``pack``: the
    sgi.packs.PackOptions of the WACZ evidence pack written beside the report (default: unsigned
    unless SGI_PACK_KEY names a key; ``False``: no pack)."""
    from sgi.cities import lookup
    from sgi.crawl import available_spiders, run_crawl
    from storage.db import dispose_all

    console = console or Console(stderr=True)
    code = lookup(city).code
    key = _unique_key(db_url, audit_run_key(code))
    spiders = available_spiders()
    # Fresh evidence: nothing reused from earlier runs, no cache (the incremental helper honours it).
    settings = {"SGI_INCREMENTAL": False, "HTTPCACHE_ENABLED": False, **(extra_settings or {})}
    command = f"sgi audit {code}" + (" --sample-web" if sample_web else "")
    if sample_web:
        from sgi.sampleweb.runner import serve_sample_web

        with tempfile.TemporaryDirectory(prefix="sgi-audit-") as tmp, serve_sample_web(tmp, web=web) as running:
            if prepare:
                prepare(running)
            settings = {**running.crawl_settings(), **settings}
            crawl = run_crawl(db_url=db_url, spiders=spiders, cities=[code], run_key=key,
                              as_of=running.web.reference_date, extra_settings=settings, command=command,
                              console=console, quiet=quiet)
            shot = screenshot_portal(db_url, crawl["run_id"], code, portal_start_url(running.sources_file, code),
                                     sample_web=True, console=console)
    else:
        if sources:
            settings["SGI_SOURCES_FILE"] = str(sources)
        crawl = run_crawl(db_url=db_url, spiders=spiders, cities=[code], run_key=key, extra_settings=settings,
                          command=command, console=console, quiet=quiet)
        shot = screenshot_portal(db_url, crawl["run_id"], code, portal_start_url(sources, code), sample_web=False,
                                 console=console)
    score = score_summary(db_url, code)
    if pack is None:
        from sgi.packs import PackOptions

        pack = PackOptions()
    packed: dict = {}
    report = write_report(db_url, key, code, Path(out) if out else Path(f"{key}.html"), spiders, score,
                          pack=pack or None, packed=packed)
    dispose_all()
    return AuditResult(code, key, crawl["run_id"], report, crawl, shot, score, packed.get("info"), packed.get("error"))


def write_report(db_url: str, run_key: str, code: str, out: Path, spiders: list[str], score: dict | None,
                 pack=None, packed: dict | None = None) -> Path:
    """The HTML report; with ``pack`` (PackOptions) first the WACZ of the evidence it cites, beside it
    (``<report stem>.wacz``), so the report can link each value to its record in the pack. The pack's
    PackInfo (or the error that stopped it) goes to ``packed``."""
    from sgi.report.audit import collect_audit, write_audit_report
    from storage import db

    data = collect_audit(db_url, run_key, code, spider_indicators(spiders), score=score)
    if pack is not None:
        from sgi.packs import pack_path_for, write_run_pack
        from storage.wacz import PackError

        packed = packed if packed is not None else {}
        try:
            packed["info"] = info = write_run_pack(db_url, pack_path_for(out), list(data["snapshots"]), run_key=run_key,
                                                   city_code=code, options=pack, title=f"sgi audit of {code}: {run_key}")
            data["pack"] = {"name": info.path.name, "records": info.records, "signed_by": info.signed_by,
                            "timestamped": info.timestamped, "letters_included": pack.include_letters}
        except (PackError, OSError) as exc:   # the report is still written; the caller says why no pack
            packed["error"] = str(exc)
    return write_audit_report(data, out, db.archive_dir(db.database_url(db_url)))


# --- screenshot ------------------------------------------------------------------------------------
def capture_screenshot(url: str, sample_web: bool, timeout_ms: int = SCREENSHOT_TIMEOUT_MS) -> dict:
    """Open the page in headless Chromium (spiders/browser.py launch options) and take a PNG of the
    first screen. On the sample web every request that is not for a *.test / loopback host is aborted
    (and Chromium resolves only *.test names), so nothing leaves the machine."""
    from playwright.sync_api import sync_playwright

    from spiders.browser import CONTENT_READY_JS, launch_options

    guard = AddressGuard()
    reason = None if sample_web else guard.resolve_refusal(urlsplit(url).hostname or "")
    if reason:
        raise AddressRefused(reason)
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(**launch_options(sample_web))
        try:
            context = browser.new_context(ignore_https_errors=sample_web, viewport=SCREENSHOT_VIEWPORT,
                                          locale="zh-CN", service_workers="block")
            page = context.new_page()
            if sample_web:
                page.route("**/*", lambda route: route.continue_() if is_loopback_or_test(urlsplit(route.request.url).hostname or "")
                           else route.abort())
            else:   # real mode: public addresses only, for everything the page loads and its WebSockets
                page.route("**/*", lambda route: route.abort() if _refused(guard, route.request.url) else route.continue_())
                page.route_web_socket("**", lambda ws: ws.close() if _refused(guard, ws.url) else ws.connect_to_server())
            response = page.goto(url, wait_until="load", timeout=timeout_ms)
            try:   # challenge pages reload themselves; single-page shells fill in: wait for real content
                page.wait_for_function(CONTENT_READY_JS, timeout=5000)
            except Exception:
                pass
            png = page.screenshot(type="png", full_page=False)
            return {"png": png, "final_url": page.url, "status": response.status if response else None,
                    "html": page.content(), "title": page.title(), "elapsed_ms": (time.monotonic() - started) * 1000}
        finally:
            browser.close()


def _refused(guard: AddressGuard, url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and guard.resolve_refusal(parts.hostname or "") is not None


def screenshot_portal(db_url: str, run_id: int, code: str, url: str | None, sample_web: bool,
                      console: Console | None = None) -> str | None:
    """Photograph the portal home page and archive the PNG as evidence of the run; returns the snapshot
    id. A failure is recorded as a failed snapshot (the report says why), never raised."""
    from storage.store import CrawlStore

    if not url:
        return None
    store = CrawlStore(db_url, run_id)
    fetched_at = datetime.now(timezone.utc)
    try:
        shot = capture_screenshot(url, sample_web)
        # The picture is evidence of what the browser was shown: a 403 or challenge page is 'blocked',
        # never 'ok' (the rules that judge crawled pages judge this one too).
        shown = page_from_document(shot["final_url"], shot["html"].encode("utf-8"), {}, shot["status"] or 200,
                                   rendered=True)
        ref = store.record_response(
            city_code=code, spider=SCREENSHOT_SPIDER, requested_url=SCREENSHOT_URN + url,
            final_url=SCREENSHOT_URN + shot["final_url"], http_status=shot["status"] or 0, reason="",
            headers=[("Content-Type", "image/png")], body=shot["png"], fetched_at=fetched_at,
            elapsed_ms=shot["elapsed_ms"], fetch_status=classify_fetch(shown), content_type="image/png", encoding=None, rendered=True)
    except Exception as exc:   # a page that never loads is a finding of the audit, not a crash
        ref = store.record_failure(city_code=code, spider=SCREENSHOT_SPIDER, url=SCREENSHOT_URN + url,
                                   fetched_at=fetched_at, fetch_status="error", error=f"{type(exc).__name__}: {exc}")
        if console:
            console.print(f"[yellow]screenshot of {url} failed:[/] {type(exc).__name__}", highlight=False)
    finally:
        store.close()
    return ref.id


# --- scores ----------------------------------------------------------------------------------------
def score_summary(db_url: str, code: str, framework: str = FRAMEWORK) -> dict | None:
    """The city's total and sub-scores, rank among the cities scored and tier, for the latest period in
    which the city has a total (else the latest period it appears in). Not written to the score table."""
    from scoring.run import score_database

    result = score_database(db_url, framework=framework, write_db=False)
    if result is None:
        return None
    scores = result.scores
    mine = scores[scores["city_code"] == code]
    if mine.empty:
        return None
    with_total = mine[(mine["node"] == "total") & mine["value"].notna()]
    period = (with_total if not with_total.empty else mine)["period"].astype(str).max()
    same = scores[scores["period"].astype(str) == period]
    nodes = []
    for node, label in SCORE_NODES:
        row = same[(same["city_code"] == code) & (same["node"] == node)]
        ranked = same[(same["node"] == node) & same["value"].notna()]
        rec = row.iloc[0].to_dict() if not row.empty else {}
        value, rank = _num(rec.get("value")), _num(rec.get("rank"))
        coverage = _num(rec.get("coverage"))
        nodes.append({"node": node, "label": label, "value": value,
                      "value_text": f"{value:.1f}" if value is not None else "—",
                      "rank": int(rank) if rank is not None else None, "of": int(ranked["city_code"].nunique()),
                      "tier": rec.get("tier") if isinstance(rec.get("tier"), str) else None,
                      "coverage_text": f"{coverage:.0%}" if coverage is not None else "—"})
    n_cities = int(same[(same["node"] == "total") & same["value"].notna()]["city_code"].nunique())
    note = "" if not with_total.empty else "the city has no total score (too little data)"
    return {"framework": framework, "period": period, "nodes": nodes, "n_cities": n_cities, "note": note}


def _num(x):
    try:
        if x is None or x != x:
            return None
        return float(x)
    except (TypeError, ValueError):
        return None
