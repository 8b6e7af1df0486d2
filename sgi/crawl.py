"""Running spiders: one Scrapy CrawlerProcess per command, with a live progress display and the
crawl_run row opened before and closed after."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import date

from rich.console import Console
from rich.live import Live
from rich.table import Table

from sgi.errors import Interrupted, SgiError
from storage.store import cut_partial_records, finish_run, start_run, sync_cities


def scrapy_settings(overrides: dict | None = None):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "spiders.settings")
    from scrapy.settings import Settings

    import spiders.settings as module

    settings = Settings()
    settings.setmodule(module, priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def available_spiders(include_tools: bool = False) -> list[str]:
    """Spiders that collect indicators (tools such as sources_check only with include_tools)."""
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(scrapy_settings())
    return sorted(n for n in loader.list()
                  if include_tools or getattr(loader.load(n), "collects_indicators", True))


def check_sources(*, db_url: str, cities: list[str] | None, extra_settings: dict | None = None) -> list[dict]:
    """Fetch every source's start URL once and say whether it responds, redirects, blocks or fails."""
    from scrapy.crawler import CrawlerProcess

    overrides = dict(extra_settings or {})
    validate_sources(overrides)
    run_id = start_run(db_url, f"sources-check-{date.today().isoformat()}-{os.getpid()}",
                       command="sgi sources check", spiders=["sources_check"],
                       sample_web=bool(overrides.get("SGI_SAMPLE_WEB")))
    overrides.update({"SGI_DATABASE_URL": db_url, "SGI_RUN_ID": run_id, "LOG_LEVEL": "ERROR",
                      "ITEM_PIPELINES": {}})
    process = CrawlerProcess(scrapy_settings(overrides))
    crawler = process.create_crawler("sources_check")
    crawler.sgi_results = []
    process.crawl(crawler, **({"city": ",".join(cities)} if cities else {}))
    process.start()
    counts = getattr(crawler, "sgi_counts", None) or {}
    finish_run(db_url, run_id, state="finished", **merge_counts([counts]))
    return sorted(crawler.sgi_results, key=lambda r: (r["city_code"], r["kind"]))


def validate_sources(settings: dict) -> None:
    """Read and validate the source file before a run is opened: a mistake is one ConfigError naming file
    and line (exit 2) and leaves no crawl_run row. Inside Scrapy it would be a logged traceback per spider
    and a 'finished' run with nothing crawled."""
    from sgi.sources import load_sources

    load_sources(settings.get("SGI_SOURCES_FILE"))


def run_crawl(*, db_url: str, spiders: list[str] | None, cities: list[str] | None, run_key: str | None,
              as_of: date | None = None, extra_settings: dict | None = None, command: str = "",
              console: Console | None = None, quiet: bool = False, resume: bool = False) -> dict:
    """Crawl with the given spiders (default all); returns the run's counts. Blocks until done.

    ``resume``: continue the run ``run_key`` (default: the latest unfinished one) with its own spiders,
    cities and crawl date; fetches its journal holds are answered from its archive (spiders/incremental.py).
    """
    from scrapy.crawler import CrawlerProcess

    from sgi.cities import load_cities

    console = console or Console(stderr=True)
    if resume:
        run_key, spiders, cities, as_of = resume_arguments(db_url, run_key, spiders, cities, as_of)
        extra_settings = {**(extra_settings or {}), "SGI_RESUME": True}
    names = spiders or available_spiders()
    unknown = sorted(set(names) - set(available_spiders()))
    if unknown:
        raise SgiError(f"unknown spider(s): {', '.join(unknown)}",
                       f"available: {', '.join(available_spiders())}")
    overrides = dict(extra_settings or {})
    validate_sources(overrides)
    sync_cities(db_url, load_cities())
    as_of_text = (as_of.isoformat() if as_of else overrides.get("SGI_AS_OF")) or date.today().isoformat()
    run_id = start_run(db_url, run_key, command=command, spiders=names, cities=cities or [], as_of=as_of_text,
                       sample_web=bool(overrides.get("SGI_SAMPLE_WEB")), settings={
                           k: v for k, v in overrides.items() if isinstance(v, (str, int, float, bool))})
    overrides.update({"SGI_DATABASE_URL": db_url, "SGI_RUN_ID": run_id, "SGI_RUN_KEY": run_key,
                      "SGI_AS_OF": as_of_text})
    if resume:
        cut_partial_records(db_url, run_id, overrides.get("SGI_ARCHIVE_DIR"))
    if quiet or not console.is_terminal:
        overrides.setdefault("LOG_LEVEL", "WARNING")
    else:
        overrides.setdefault("LOG_LEVEL", "ERROR")
    settings = scrapy_settings(overrides)
    process = CrawlerProcess(settings)   # LOG_INSTALL_ROOT_HANDLER (default True) installs the root handler
    progress: dict[str, Counter] = {}
    crawlers = []
    close_reasons: dict[str, str] = {}
    for name in names:
        crawler = process.create_crawler(name)
        counter = progress.setdefault(name, Counter())
        _connect_progress(crawler, counter)
        _connect_close_reason(crawler, name, close_reasons)
        crawlers.append(crawler)
        kwargs = {"city": ",".join(cities)} if cities else {}
        process.crawl(crawler, **kwargs)

    def render() -> Table:
        table = Table(title=f"crawl {run_key}", expand=False)
        for col in ("spider", "requests", "responses", "blocked", "errors", "observations"):
            table.add_column(col, justify="right" if col != "spider" else "left")
        for name, c in progress.items():
            table.add_row(name, str(c["requests"]), str(c["responses"]), str(c["blocked"]), str(c["errors"]),
                          str(c["items"]))
        return table

    signals_received: list[int] = []
    _note_shutdown_signals(signals_received)
    state = "finished"
    try:
        if quiet:
            process.start()
        else:
            with Live(render(), console=console, refresh_per_second=4) as live:
                for crawler in crawlers:
                    _connect_refresh(crawler, live, render)
                process.start()
        # Scrapy stops gracefully on SIGINT/SIGTERM and returns as if the crawl were done: such a run did
        # not finish. It is closed as `failed`, which `sgi crawl --resume` continues.
        if signals_received or "shutdown" in close_reasons.values():
            state = "failed"
    except BaseException:
        state = "failed"
        raise
    finally:
        parts = [getattr(c, "sgi_counts", None) or {} for c in crawlers]
        totals = merge_counts(parts)
        finish_run(db_url, run_id, state=state, **totals)
    if state != "finished":
        resume_command = "sgi crawl --resume"
        if overrides.get("SGI_SAMPLE_WEB"):
            resume_command += " --sample-web"
        elif overrides.get("SGI_SOURCES_FILE"):
            resume_command += f" --sources {overrides['SGI_SOURCES_FILE']}"
        raise Interrupted(run_key, signals_received[0] if signals_received else None, resume_command)
    # Crawl time proper (engine start to close), without process start-up: what benchmarks compare.
    return {"run_id": run_id, "run_key": run_key, **totals, "elapsed_s": max([p.get("elapsed_s", 0.0) for p in parts] or [0.0]),
            "reused": sum(int(c.stats.get_value("sgi/reused", 0) or 0) for c in crawlers)}


def resume_arguments(db_url: str, run_key: str | None, spiders, cities, as_of):
    """The run to resume and what it crawled (given arguments must not contradict it)."""
    from storage.frontier import resumable_run

    try:
        run = resumable_run(db_url, run_key)
    except SgiError:
        if not run_key:
            raise
        return run_key, spiders, cities, as_of   # killed before it began: --resume starts it
    if run["state"] == "finished":
        console_note = f"run {run['run_key']} finished already; resuming replays it from its journal"
        Console(stderr=True).print(console_note)
    run_spiders = list(run["spiders"] or []) or None
    run_cities = list(run["cities"] or []) or None
    for given, recorded, what in ((spiders, run_spiders, "spiders"), (cities, run_cities, "cities")):
        if given and sorted(given) != sorted(recorded or []):
            raise SgiError(f"run {run['run_key']} crawled {what} {recorded or 'all'}, not {given}",
                           f"resume without --{what[:-1] if what != 'cities' else 'city'} to continue it as it was")
    run_as_of = date.fromisoformat(run["as_of"]) if run.get("as_of") else None
    return run["run_key"], run_spiders, run_cities, as_of or run_as_of


def merge_counts(parts) -> dict:
    """Sum the counts of several crawlers (or cluster jobs) into one crawl_run's figures."""
    out = {"requests": 0, "responses_by_status": Counter(), "items": 0, "errors": 0}
    for p in parts:
        out["requests"] += p.get("requests", 0)
        out["items"] += p.get("items", 0)
        out["errors"] += p.get("errors", 0)
        out["responses_by_status"].update(p.get("responses_by_status", {}))
    out["responses_by_status"] = dict(out["responses_by_status"])
    return out


def _connect_progress(crawler, counter: Counter) -> None:
    from scrapy import signals

    def on_request(request, spider):
        counter["requests"] += 1

    def on_response(response, request, spider):
        counter["responses"] += 1
        if response.status in (403, 412, 429):
            counter["blocked"] += 1

    def on_error(failure, request, spider):
        counter["errors"] += 1

    def on_item(item, response, spider):
        counter["items"] += 1

    for fn, sig in ((on_request, signals.request_scheduled), (on_response, signals.response_received),
                    (on_error, signals.request_dropped), (on_item, signals.item_scraped)):
        crawler.signals.connect(fn, signal=sig, weak=False)


def _connect_close_reason(crawler, name: str, reasons: dict) -> None:
    from scrapy import signals

    def closed(spider, reason):
        reasons[name] = reason

    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)


def _note_shutdown_signals(received: list) -> None:
    """Record which shutdown signal stopped the crawl. Scrapy installs its own SIGINT/SIGTERM handlers
    once the reactor has started; ours wraps them in the reactor's first turn, after that."""
    from twisted.internet import reactor

    def wrap():
        for sig in (signal.SIGINT, signal.SIGTERM):
            inner = signal.getsignal(sig)
            if callable(inner):
                def handler(signum, frame, inner=inner):
                    received.append(signum)
                    inner(signum, frame)
                signal.signal(sig, handler)

    reactor.callWhenRunning(reactor.callLater, 0, wrap)


def _connect_refresh(crawler, live: Live, render) -> None:
    from scrapy import signals

    def refresh(*args, **kwargs):
        live.update(render())

    crawler.signals.connect(refresh, signal=signals.response_received, weak=False)
    crawler.signals.connect(refresh, signal=signals.spider_closed, weak=False)
