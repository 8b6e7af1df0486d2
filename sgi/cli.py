"""The `sgi` command line: demo, crawl, export, registries, database, sample web, extraction."""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from sgi.errors import Interrupted, SgiError

app = typer.Typer(help="sgi: smart-governance indicator crawler (collect, keep evidence, score).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
export_app = typer.Typer(help="Export tables.", no_args_is_help=True)
sample_app = typer.Typer(help="The bundled sample web (local test sites with ground truth).", no_args_is_help=True)
extract_app = typer.Typer(help="Run extraction rules on a saved page (no network).", no_args_is_help=True)
sources_app = typer.Typer(help="The source file (what to crawl per city).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(export_app, name="export")
app.add_typer(sample_app, name="sampleweb")
app.add_typer(extract_app, name="extract")
app.add_typer(sources_app, name="sources")

out = Console()
err = Console(stderr=True, soft_wrap=True)   # an error is one line, never wrapped

DbOption = typer.Option(None, "--db", help="database URL (default: SGI_DATABASE_URL or sqlite:///sgi.db)")


# --- registries -------------------------------------------------------------------------------------
@app.command()
def cities(query: Optional[str] = typer.Argument(None, help="code, name, province, region or level")):
    """List the city registry (every prefecture-level and higher city of mainland China)."""
    from sgi.cities import load_cities, search

    rows = search(query) if query else load_cities()
    table = Table(title=f"{len(rows)} cities")
    for col in ("code", "name", "province", "region", "level", "type"):
        table.add_column(col)
    for c in rows:
        table.add_row(c.code, c.name, c.province, c.region, c.level, c.admin_type)
    out.print(table)


@app.command()
def indicators(as_json: bool = typer.Option(False, "--json", help="print JSON")):
    """List the indicator registry: every raw indicator, defined once."""
    from sgi.indicators import registry

    reg = registry()
    if as_json:
        print(json.dumps([vars(i) for i in reg.values()], ensure_ascii=False, indent=1))
        return
    table = Table(title=f"{len(reg)} indicators")
    for col in ("code", "name_zh", "unit", "dir", "source", "dimension", "period"):
        table.add_column(col)
    for i in reg.values():
        table.add_row(i.code, i.name_zh, i.unit, f"{i.direction:+d}" if i.direction else "0", i.source,
                      i.dimension, i.period)
    out.print(table)


# --- database ---------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(db: Optional[str] = DbOption):
    """Create or migrate the database schema, and load the city registry."""
    from sgi.cities import load_cities
    from storage.db import database_url, upgrade
    from storage.store import sync_cities

    url = database_url(db)
    upgrade(url)
    n = sync_cities(url, load_cities())
    out.print(f"database {url} is at the latest schema; {n} cities loaded")


# --- crawling ---------------------------------------------------------------------------------------
@app.command()
def crawl(city: List[str] = typer.Option(None, "--city", "-c", help="city code or name (repeatable)"),
          spider: List[str] = typer.Option(None, "--spider", "-s", help="spider name (repeatable; default all)"),
          db: Optional[str] = DbOption,
          sample_web: bool = typer.Option(False, "--sample-web", help="crawl the bundled sample web on loopback"),
          sources: Optional[Path] = typer.Option(None, "--sources", help="source file (YAML/CSV)"),
          run_key: Optional[str] = typer.Option(None, "--run-key", help="name the run; the same key upserts"),
          as_of: Optional[str] = typer.Option(None, "--as-of", help="crawl date YYYY-MM-DD (default today)"),
          resume: bool = typer.Option(False, "--resume", help="continue the latest unfinished run (or --run-key)"),
          full: bool = typer.Option(False, "--full", help="fetch every page fresh: no conditional requests, "
                                                          "no reuse of pages not due for a revisit")):
    """Crawl cities: the real sites in the source file (polite settings), or the sample web.

    Incremental by default: conditional requests and per-page revisit intervals (spiders/revisit.yaml).
    A killed crawl continues with --resume and ends with the rows an uninterrupted one would give."""
    from sgi.cities import resolve_many
    from sgi.crawl import run_crawl
    from storage.db import database_url

    url = database_url(db)
    codes = [c.code for c in resolve_many(city)] if city else None
    key = run_key or (None if resume else f"crawl-{date.today().isoformat()}-{uuid.uuid4().hex[:6]}")
    as_of_date = date.fromisoformat(as_of) if as_of else None
    mode = {"SGI_INCREMENTAL": False} if full else {}
    if sample_web:
        from sgi.sampleweb.runner import SAMPLE_CRAWL_PORTS, serve_sample_web

        # Fixed ports when free: archived bodies name them, and a resumed or incremental crawl replays them.
        with tempfile.TemporaryDirectory(prefix="sgi-sample-") as tmp, \
                serve_sample_web(tmp, ports=SAMPLE_CRAWL_PORTS) as running:
            result = run_crawl(db_url=url, spiders=spider or None, cities=codes, run_key=key, as_of=as_of_date,
                               extra_settings={**running.crawl_settings(), **mode}, command=" ".join(sys.argv),
                               console=err, resume=resume)
    else:
        extra = {"SGI_SOURCES_FILE": str(sources)} if sources else {}
        result = run_crawl(db_url=url, spiders=spider or None, cities=codes, run_key=key, as_of=as_of_date,
                           extra_settings={**extra, **mode}, command=" ".join(sys.argv), console=err, resume=resume)
    key = result.get("run_key", key)
    out.print(f"run {key}: {result['requests']} requests, {result['items']} observations, "
              f"{result['errors']} errors; responses {result['responses_by_status']}")


@app.command()
def demo(out_dir: Path = typer.Option(Path("demo-output"), "--out", help="output directory")):
    """Serve the bundled sample web on loopback, crawl it with every spider, score, write results."""
    from sgi.demo import run_demo

    run_demo(out_dir, console=out)


@sources_app.command("check")
def sources_check(city: List[str] = typer.Option(None, "--city", "-c", help="city code or name (repeatable)"),
                  sources: Optional[Path] = typer.Option(None, "--sources", help="source file (YAML/CSV)"),
                  sample_web: bool = typer.Option(False, "--sample-web", help="check the sample web's sources"),
                  as_json: bool = typer.Option(False, "--json"),
                  db: Optional[str] = DbOption):
    """Fetch each source's start URL once: responds, redirects, blocked or error (evidence archived)."""
    from sgi.cities import resolve_many
    from sgi.crawl import check_sources
    from storage.db import database_url

    url = database_url(db)
    codes = [c.code for c in resolve_many(city)] if city else None
    if sample_web:
        from sgi.sampleweb.runner import serve_sample_web

        with tempfile.TemporaryDirectory(prefix="sgi-sample-") as tmp, serve_sample_web(tmp) as running:
            results = check_sources(db_url=url, cities=codes, extra_settings=running.crawl_settings())
    else:
        results = check_sources(db_url=url, cities=codes,
                                extra_settings={"SGI_SOURCES_FILE": str(sources)} if sources else {})
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"{len(results)} sources")
    for col in ("city", "kind", "verdict", "status", "start_url", "final_url"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r["city_code"], r["kind"], r["verdict"], str(r["http_status"] or ""), r["start_url"],
                      r["final_url"] or r.get("error", ""))
    out.print(table)


@app.command("import")
def import_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX table"),
               indicator_map: Path = typer.Option(..., "--indicator-map", exists=True, help="map file (YAML)"),
               db: Optional[str] = DbOption):
    """Import figures the crawler cannot measure (yearbook tables) as observations, the file as evidence."""
    from collectors.imports import load_map, read_table
    from sgi.cities import load_cities
    from storage.db import database_url
    from storage.store import import_table, sync_cities

    mapping = load_map(indicator_map)
    result = read_table(file, mapping)
    read_as = f" (read as {result.encoding})" if result.encoding else ""
    if result.problems:
        for problem in result.problems[:50]:
            err.print(problem, highlight=False)
        raise SgiError(f"{len(result.problems)} problem(s) in {file}{read_as}; nothing was imported",
                       "fix the rows above (city names, numbers, units, duplicates) and run again")
    url = database_url(db)
    sync_cities(url, load_cities())
    summary = import_table(url, file, result.records, indicator_map, encoding=result.encoding)
    read_as = f"read as {result.encoding}, " if result.encoding else ""
    out.print(f"imported {summary['observations']} values from {file} ({read_as}sha256 {summary['digest'][:12]}…); "
              f"population set for {summary['cities_with_population']} cities", highlight=False)


# --- scoring ----------------------------------------------------------------------------------------
@app.command()
def score(framework: str = typer.Option("sgi-default", "--framework", "-f", help="shipped name or YAML file"),
          period: Optional[str] = typer.Option(None, "--period", help="year to score (default every year)"),
          uncertainty: int = typer.Option(0, "--uncertainty", help="Monte Carlo draws for rank intervals"),
          output: Path = typer.Option(Path("scores.csv"), "-o", "--output", help="scores.csv or scores.xlsx"),
          seed: int = typer.Option(0, "--seed"),
          db: Optional[str] = DbOption):
    """Score the latest observations under a framework: score table, and scores.csv / .xlsx."""
    from scoring.run import score_database

    csv_path = output if output.suffix != ".xlsx" else output.with_suffix(".csv")
    result = score_database(db, framework=framework, period=period, uncertainty=uncertainty, seed=seed,
                            out_csv=csv_path, run_key=framework)
    if result is None:
        raise SgiError(f"no observations for any indicator of framework {framework}",
                       "crawl first (`sgi crawl`) or import tables (`sgi import`)")
    if output.suffix == ".xlsx":
        result.scores.to_excel(output, index=False)
    index = result.index()
    table = Table(title=f"{framework}: {index['city_code'].nunique()} cities")
    for col in ("rank", "city", "period", "score", "tier", "coverage"):
        table.add_column(col)
    for rec in index.head(40).to_dict("records"):
        table.add_row(f"{rec['rank']:.0f}" if rec["rank"] == rec["rank"] else "", rec["city_code"],
                      str(rec["period"]), f"{rec['value']:.2f}" if rec["value"] == rec["value"] else "—",
                      str(rec.get("tier") or ""), f"{rec['coverage']:.2f}")
    out.print(table)
    out.print(f"wrote {output} and the score table")


@app.command()
def explain(city: str = typer.Argument(..., help="city code or name"),
            framework: str = typer.Option("sgi-default", "--framework", "-f"),
            period: Optional[str] = typer.Option(None, "--period"),
            db: Optional[str] = DbOption):
    """Print one city's score tree: each indicator's raw value, normalised value, weight, contribution."""
    from scoring.run import score_database
    from sgi.cities import lookup

    code = lookup(city).code
    result = score_database(db, framework=framework, period=period, write_db=False)
    if result is None:
        raise SgiError(f"no observations for any indicator of framework {framework}", "crawl first")
    print(result.explain(code, period))


# --- exports ----------------------------------------------------------------------------------------
@export_app.command("indicators")
def export_indicators_cmd(output: Path = typer.Option(..., "-o", "--output", help="output file"),
                          fmt: Optional[str] = typer.Option(None, "--format", "-f", help="csv | xlsx | parquet"),
                          wide: bool = typer.Option(False, "--wide", help="one row per city and period"),
                          chinese: bool = typer.Option(False, "--zh", help="Chinese headers (xlsx)"),
                          db: Optional[str] = DbOption):
    """Export the raw indicator table (long by default)."""
    from storage.exports import export_indicators

    n = export_indicators(output, fmt, wide=wide, url=db, chinese_headers=chinese)
    out.print(f"wrote {n} rows to {output}")


# --- sample web -------------------------------------------------------------------------------------
@sample_app.command("serve")
def sampleweb_serve(seed: Optional[int] = typer.Option(None, help="generator seed"),
                    latency_ms: float = typer.Option(0.0, "--latency-ms", min=0,
                                                     help="median time a site takes to answer (0: at once)")):
    """Serve the sample web on loopback until interrupted; prints the hosts and ports."""
    import time

    from sgi.sampleweb.generate import DEFAULT_SEED
    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-sample-") as tmp, \
            serve_sample_web(tmp, seed=seed or DEFAULT_SEED, latency_ms=latency_ms) as running:
        table = Table(title=f"sample web (seed {running.web.seed}, today = {running.web.reference_date})")
        table.add_column("host")
        table.add_column("city")
        table.add_column("kind")
        table.add_column("url")
        for host, site in sorted(running.web.sites.items()):
            table.add_row(host, site.city_code, site.kind, running.server.url(host))
        out.print(table)
        out.print(f"HTTP on 127.0.0.1:{running.server.http_port}, HTTPS on 127.0.0.1:{running.server.https_port},"
                  f" DNS on {running.dns.address}. Hosts resolve only through these settings: "
                  f"curl --resolve HOST:{running.server.http_port}:127.0.0.1 URL. Ctrl-C stops.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


@sample_app.command("truth")
def sampleweb_truth(output: Path = typer.Option(..., "-o", "--output"),
                    seed: Optional[int] = typer.Option(None, help="generator seed")):
    """Write the sample web's ground truth (city_code, indicator, period, value, status) as CSV."""
    from sgi.sampleweb.generate import DEFAULT_SEED, build_sample_web, write_truth

    n = write_truth(build_sample_web(seed or DEFAULT_SEED), output)
    out.print(f"wrote {n} truth rows to {output}")


# --- extraction -------------------------------------------------------------------------------------
@extract_app.command("portal")
def extract_portal_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="saved page"),
                       url: str = typer.Option(..., "--url", help="the URL the page was fetched from"),
                       as_json: bool = typer.Option(False, "--json"),
                       crawl_date: Optional[str] = typer.Option(None, "--date", help="crawl date (default today)"),
                       content_type: Optional[str] = typer.Option(None, "--content-type")):
    """Run the portal rules on a saved page and print every feature with its evidence."""
    from collectors import portal
    from collectors.page import Page

    page = Page.from_file(str(file), url, content_type)
    when = date.fromisoformat(crawl_date) if crawl_date else date.today()
    findings = portal.extract_portal(page, when)
    if as_json:
        print(json.dumps(portal.to_json(page, findings), ensure_ascii=False, indent=1, default=str))
        return
    table = Table(title=f"portal rules on {file} ({page.encoding})")
    for col in ("feature", "value", "status", "evidence"):
        table.add_column(col, overflow="fold")
    for code, f in findings.items():
        table.add_row(code, str(f.value), f.status, f.evidence or "")
    out.print(table)


# Commands of the individual harvests live in their own modules (sgi/cli_<kind>.py) and register
# themselves on the apps above when imported.
for _module in ("sgi.cli_opendata", "sgi.cli_mailbox", "sgi.cli_policy", "sgi.cli_apps",
                "sgi.cli_override", "sgi.cli_report", "sgi.cli_browse", "sgi.cli_nightly", "sgi.cli_audit",
                "sgi.cli_cluster"):
    try:
        __import__(_module)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise


def main() -> None:
    """Entry point: errors are one clear line plus a hint, never a bare traceback."""
    import os

    try:
        app()   # standalone: usage errors print click's own message and exit 2
    except SgiError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"[yellow]hint:[/] {exc.hint}", highlight=False)
        sys.exit(2)
    except Interrupted as exc:
        err.print(f"[bold red]interrupted:[/] run {exc.run_key} did not finish; it is closed as failed",
                  highlight=False)
        err.print(f"[yellow]hint:[/] continue it with `{exc.resume}`", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # anything unexpected: one line, the traceback on request
        if os.environ.get("SGI_DEBUG"):
            raise
        from storage.db import database_problem

        problem = database_problem(exc)
        if problem:
            message, hint, code = problem
            err.print(f"[bold red]error:[/] {message}", highlight=False)
            err.print(f"[yellow]hint:[/] {hint}", highlight=False)
            sys.exit(code)
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", highlight=False)
        err.print("[yellow]hint:[/] rerun with SGI_DEBUG=1 for the traceback, and report it if it persists")
        sys.exit(1)


if __name__ == "__main__":
    main()
