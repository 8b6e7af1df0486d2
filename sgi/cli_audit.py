"""`sgi audit CITY` (crawl one city fresh, screenshot, score, report) and `sgi evidence ID` (read an
archived record back from the WARC: show it, extract its body, or serve it on loopback)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from sgi.cli import DbOption, app, err, out


@app.command()
def audit(city: str = typer.Argument(..., help="city code or name, e.g. 440300 or 深圳"),
          sample_web: bool = typer.Option(False, "--sample-web", help="audit the bundled sample web on loopback"),
          output: Optional[Path] = typer.Option(None, "-o", "--output",
                                                help="report file (default <run key>.html); evidence goes to <name>_evidence/"),
          sources: Optional[Path] = typer.Option(None, "--sources", help="source file (YAML/CSV)"),
          db: Optional[str] = DbOption):
    """Audit one city: crawl it fresh with every spider, screenshot its portal, score, and write a
    self-contained HTML report with every indicator's value, status, rule and archived evidence."""
    from sgi.audit import run_audit
    from storage.db import database_url

    result = run_audit(city, db_url=database_url(db), out=output, sample_web=sample_web, sources=sources,
                       console=err)
    c = result.crawl
    out.print(f"audit {result.run_key}: {c['requests']} requests, {c['items']} observations, {c['errors']} errors")
    if result.score:
        total = next(n for n in result.score["nodes"] if n["node"] == "total")
        rank = f"rank {total['rank']} of {total['of']}" if total["rank"] is not None else "no rank"
        out.print(f"score ({result.score['framework']}, {result.score['period']}): total {total['value_text']}, "
                  f"{rank}" + (f", tier {total['tier']}" if total["tier"] else ""))
    out.print(f"wrote {result.report} (evidence in {result.report.stem}_evidence/)")


@app.command()
def evidence(snapshot_id: str = typer.Argument(..., help="snapshot id (or a unique prefix of 6+ characters)"),
             output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the archived body to this file"),
             serve: bool = typer.Option(False, "--serve", help="serve the body on 127.0.0.1 (sandboxed) until Ctrl-C"),
             port: int = typer.Option(0, "--port", help="port for --serve (default: a free one)"),
             db: Optional[str] = DbOption):
    """Read an archived response back from the WARC: show its record, extract the body, or serve it."""
    from rich.table import Table

    from sgi.errors import SgiError
    from storage.db import database_url
    from storage.evidence import evidence_server, load_evidence, serve_in_thread

    ev = load_evidence(database_url(db), snapshot_id)
    row = ev.snapshot
    table = Table(title=f"snapshot {row['id']}", show_header=False)
    for name in ("run_key", "spider", "requested_url", "final_url", "fetch_status", "http_status", "fetched_at",
                 "content_type", "encoding", "size", "digest", "warc_file", "warc_offset", "warc_length", "error"):
        if row.get(name) is not None:
            table.add_row(name, str(row[name]))
    if ev.record is not None:
        table.add_row("digest check", "matches" if ev.digest_ok else "DOES NOT MATCH" if ev.digest_ok is False else "-")
    err.print(table)
    if ev.record is None:
        raise SgiError(f"snapshot {row['id']} has no archived response ({row['fetch_status']})",
                       f"the fetch failed: {row.get('error') or 'nothing was received'}")
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(ev.record.body)
        out.print(f"wrote {output} ({len(ev.record.body)} bytes)")
    if serve:
        server = evidence_server(ev, port=port)
        serve_in_thread(server)
        host, bound = server.server_address[:2]
        out.print(f"serving snapshot {row['id']} at http://{host}:{bound}/ (sandboxed; Ctrl-C stops)")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()
    if not output and not serve:
        out.print("give -o FILE to extract the body or --serve to view it in a browser")
