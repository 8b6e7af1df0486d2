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
          pack: bool = typer.Option(True, "--pack/--no-pack", help="write the WACZ evidence pack <name>.wacz"),
          key: Optional[Path] = typer.Option(None, "--key", help="operator's signing key for the pack "
                                             "(default SGI_PACK_KEY; none: unsigned); see `sgi evidence keygen`"),
          tsa: Optional[str] = typer.Option(None, "--tsa", help="RFC 3161 timestamp authority URL (default SGI_TSA_URL)"),
          tsa_cert: Optional[Path] = typer.Option(None, "--tsa-cert", help="its certificate, PEM (default SGI_TSA_CERT)"),
          include_letters: bool = typer.Option(False, "--include-letters",
                                               help="put letters' raw pages (personal data) in the pack"),
          db: Optional[str] = DbOption):
    """Audit one city: crawl it fresh with every spider, screenshot its portal, score, and write a
    self-contained HTML report with every indicator's value, status, rule and archived evidence, and
    beside it a signed WACZ pack of that evidence."""
    from sgi.audit import run_audit
    from sgi.packs import PackOptions
    from storage.db import database_url

    options = PackOptions(key, tsa, tsa_cert, include_letters).checked() if pack else False
    result = run_audit(city, db_url=database_url(db), out=output, sample_web=sample_web, sources=sources,
                       console=err, pack=options)
    c = result.crawl
    out.print(f"audit {result.run_key}: {c['requests']} requests, {c['items']} observations, {c['errors']} errors")
    if result.score:
        total = next(n for n in result.score["nodes"] if n["node"] == "total")
        rank = f"rank {total['rank']} of {total['of']}" if total["rank"] is not None else "no rank"
        out.print(f"score ({result.score['framework']}, {result.score['period']}): total {total['value_text']}, "
                  f"{rank}" + (f", tier {total['tier']}" if total["tier"] else ""))
    out.print(f"wrote {result.report} (evidence in {result.report.stem}_evidence/)")
    if result.pack is not None:
        p = result.pack
        how = f"signed by {p.signed_by}" + (", timestamped" if p.timestamped else "") if p.signed_by else \
            "UNSIGNED (give --key or set SGI_PACK_KEY)"
        out.print(f"wrote {p.path} ({len(p.records)} records, {how})", highlight=False, soft_wrap=True)
    elif result.pack_error:
        err.print(f"[bold red]error:[/] no evidence pack: {result.pack_error}", highlight=False)
        raise typer.Exit(1)


@app.command()
def evidence(snapshot_id: str = typer.Argument(..., help="snapshot id (or a unique prefix of 6+ characters), "
                                               "or 'verify' / 'keygen'"),
             target: Optional[Path] = typer.Argument(None, help="verify: the pack (.wacz); keygen: the key file"),
             output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the archived body to this file"),
             serve: bool = typer.Option(False, "--serve", help="serve the body on 127.0.0.1 (sandboxed) until Ctrl-C"),
             port: int = typer.Option(0, "--port", help="port for --serve (default: a free one)"),
             public_key: Optional[Path] = typer.Option(None, "--public-key",
                                                       help="verify: the key the pack must be signed with (PEM)"),
             tsa_cert: Optional[Path] = typer.Option(None, "--tsa-cert", help="verify: the timestamp authority's certificate"),
             db: Optional[str] = DbOption):
    """Read an archived response back from the WARC: show its record, extract the body, or serve it.
    `sgi evidence verify PACK` checks an evidence pack; `sgi evidence keygen FILE` makes a signing key."""
    if snapshot_id in ("verify", "keygen"):
        if target is None:
            raise typer.BadParameter(f"sgi evidence {snapshot_id} needs a file")
        if snapshot_id == "verify":
            _verify_pack(target, public_key, tsa_cert)
        else:
            _keygen(target)
        return
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


def _verify_pack(pack: Path, public_key: Optional[Path], tsa_cert: Optional[Path]) -> None:
    """Exit 0 when every digest and the signature check out, else 1 with one line per problem."""
    from sgi.errors import SgiError
    from storage.wacz import PackError, load_public_key, verify_pack

    if not pack.is_file():
        raise SgiError(f"no pack {pack}", "give the path of a .wacz file")
    try:
        expected = load_public_key(public_key) if public_key else None
    except (PackError, OSError) as exc:
        raise SgiError(str(exc), "give the operator's public key (PEM)") from exc
    check = verify_pack(pack, public_key=expected, tsa_cert=tsa_cert.read_bytes() if tsa_cert else None)
    from rich.markup import escape

    for problem in check.problems:
        err.print(f"[bold red]FAIL[/] {escape(problem)}", highlight=False)
    if check.ok:
        stamp = f", RFC 3161 timestamp {check.timestamp}" if check.timestamp else ", no trusted timestamp"
        who = f"signed by key {check.signed_by}" + ("" if expected else " (compare it with the operator's published key, "
                                                     "or give --public-key)")
        out.print(f"{pack}: OK: {check.n_files} files, {check.n_records} WARC records, every digest matches; "
                  f"{who}; created {check.created}{stamp}", highlight=False, soft_wrap=True)
        return
    out.print(f"{pack}: INVALID ({len(check.problems)} problem(s))", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _keygen(path: Path) -> None:
    from sgi.errors import SgiError
    from storage.wacz import PackError, generate_key, load_private_key, public_key_pem

    try:
        fingerprint = generate_key(path)
    except PackError as exc:
        raise SgiError(str(exc), "choose another file name") from exc
    pub = path.with_name(path.name + ".pub")
    pub.write_bytes(public_key_pem(load_private_key(path).public_key()))
    out.print(f"wrote {path} (private, mode 600) and {pub} (public: publish it); key {fingerprint}", highlight=False,
              soft_wrap=True)
