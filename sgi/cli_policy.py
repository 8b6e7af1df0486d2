"""`sgi extract policy FILE --url URL [--city CITY] [--json]`: the policy rules on a saved detail page (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sgi.cli import extract_app, out


@extract_app.command("policy")
def extract_policy_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="saved detail page"),
                       url: str = typer.Option(..., "--url", help="the URL the page was fetched from"),
                       as_json: bool = typer.Option(False, "--json", help="print JSON"),
                       content_type: Optional[str] = typer.Option(None, "--content-type",
                                                                  help="Content-Type header it came with"),
                       city: Optional[str] = typer.Option(None, "--city",
                                                          help="city the site belongs to (code or name): an issuer "
                                                               "written 省…/市… keeps its place")):
    """Parse a policy-document page (title, 文号, issuer, 索引号, dates) and classify it with the lexicon."""
    from collectors import policy
    from collectors.page import Page

    page = Page.from_file(str(file), url, content_type)
    place = {}
    if city:
        from sgi.cities import lookup

        info = lookup(city)
        place = {"province": info.province, "city": info.name}
    doc = policy.parse_detail(page, **place)
    cls = policy.classify(doc.title or "", doc.body, issuer=doc.issuer)
    data = policy.to_json(doc, cls)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"policy rules on {file} ({page.encoding})")
    table.add_column("field")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(key, "\n".join(value) if isinstance(value, list) else ("" if value is None else str(value)))
    table.add_row("subject", doc.subject or "")
    table.add_row("validity", doc.validity or "")
    table.add_row("normative", "yes" if doc.is_normative else "no")
    table.add_row("attachments", "\n".join(u for u, _t in doc.attachments))
    out.print(table)
