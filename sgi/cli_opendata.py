"""Commands of the opendata harvest: `sgi opendata check` (are the source entries' adapter options
usable), `sgi opendata datasets` (the harvested catalogues, with removed datasets) and
`sgi extract opendata` (run an adapter on a saved answer: what a new source entry would read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from sgi.cli import DbOption, app, extract_app, out
from sgi.errors import SgiError

opendata_app = typer.Typer(help="Open-data platforms (catalogue harvest).", no_args_is_help=True)
app.add_typer(opendata_app, name="opendata")


@opendata_app.command("check")
def check_cmd(sources: Optional[Path] = typer.Option(None, "--sources", help="source file (YAML/CSV)")):
    """Validate the adapter options of every opendata source entry (JMESPaths compile, required keys)."""
    from collectors.opendata import adapter_options, validate_options
    from sgi.sources import load_sources

    bad = 0
    table = Table(title="opendata sources")
    for col in ("city", "name", "adapter", "problems", "where"):
        table.add_column(col, overflow="fold")
    for s in load_sources(sources):
        if s.kind != "opendata":
            continue
        problems = validate_options(s.options or {})
        bad += bool(problems)
        table.add_row(s.city_code, s.name, str(adapter_options(s.options or {}).get("adapter")),
                      "; ".join(problems) or "ok", s.where)
    out.print(table)
    if bad:
        raise SgiError(f"{bad} opendata source entr{'y has' if bad == 1 else 'ies have'} unusable options",
                       "fix the options named above (see collectors/opendata.py for the keys)")


@opendata_app.command("datasets")
def datasets_cmd(city: List[str] = typer.Option(None, "--city", "-c", help="city code or name (repeatable)"),
                 db: Optional[str] = DbOption):
    """Per platform: datasets held, removed, and the runs that first / last saw them."""
    from sqlalchemy import text

    from sgi.cities import resolve_many
    from storage.db import connect

    codes = [c.code for c in resolve_many(city)] if city else None
    sql = ("SELECT city_code, platform, adapter, count(*), sum(CASE WHEN removed THEN 1 ELSE 0 END), "
           "min(first_seen_run_id), max(last_seen_run_id) FROM dataset GROUP BY city_code, platform, adapter "
           "ORDER BY city_code, platform")
    table = Table(title="harvested catalogues")
    for col in ("city", "platform", "adapter", "datasets", "removed", "first run", "last run"):
        table.add_column(col)
    with connect(db) as conn:
        for row in conn.execute(text(sql)):
            if codes and row[0] not in codes:
                continue
            table.add_row(*[str(v) for v in row])
    out.print(table)


@extract_app.command("opendata")
def extract_opendata_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="saved answer or page"),
                         url: str = typer.Option(..., "--url", help="the URL it was fetched from"),
                         options: Path = typer.Option(..., "--options", exists=True, dir_okay=False,
                                                      help="YAML/JSON file with a source entry's options"),
                         start_url: Optional[str] = typer.Option(None, "--start-url"),
                         kind: str = typer.Option("list", "--as", help="list | detail"),
                         as_json: bool = typer.Option(False, "--json")):
    """Run an opendata adapter on a saved list answer or detail page: the records and the paging decision."""
    from dataclasses import asdict

    import yaml

    from collectors import opendata as rules
    from collectors.page import Page

    opts = yaml.safe_load(options.read_text(encoding="utf-8")) or {}
    opts = opts.get("options", opts)
    problems = rules.validate_options(opts)
    if problems:
        raise SgiError("; ".join(problems), "fix the options file")
    base = start_url or url
    page = Page.from_file(str(file), url, None)
    from urllib.parse import parse_qs, urlsplit

    eff = rules.adapter_options(opts)
    asked = parse_qs(urlsplit(url).query).get(eff.get("page_param") or "page")
    spec = rules.RequestSpec(url, page=int(asked[-1]) if asked and asked[-1].isdigit() else int(eff.get("first_page", 1)))
    state = rules.PagingState()
    if kind == "detail":
        records, decision = [rules.parse_html_detail(page, url)], None
    elif rules.adapter_options(opts)["adapter"] == "html":
        result = rules.parse_html_list(page, base, opts, spec, state)
        records = result.details
        decision = {"next": result.next.url if result.next else None, "stop": result.stop_reason, "total": result.total}
    else:
        result = rules.parse_json_answer(file.read_bytes(), base, opts, spec, state)
        records = result.records
        decision = {"error": result.error, "next": result.next.url if result.next else None,
                    "stop": result.stop_reason, "total": result.total}
    rows = [asdict(r) for r in records if r is not None]
    if as_json:
        print(json.dumps({"records": rows, "paging": decision}, ensure_ascii=False, default=str, indent=1))
        return
    table = Table(title=f"{len(rows)} records")
    cols = ("dataset_id", "title", "publisher", "topic", "formats", "api", "updated", "downloads") if kind != "list" or \
        rules.adapter_options(opts)["adapter"] != "html" else ("dataset_id", "url")
    for col in cols:
        table.add_column(col, overflow="fold")
    for r in rows[:50]:
        table.add_row(*[str(r.get(c)) for c in cols])
    out.print(table)
    out.print(f"paging: {decision}")
