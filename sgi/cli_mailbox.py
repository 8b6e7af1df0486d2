"""Commands of the mailbox harvest: `sgi extract mailbox` (rules on a saved page / answer) and
`sgi mailbox stats` (the per-board breakdown kept in message_board_stat)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from sgi.cli import DbOption, app, extract_app, out

mailbox_app = typer.Typer(help="Message boards and mailboxes (responsiveness).", no_args_is_help=True)
app.add_typer(mailbox_app, name="mailbox")


@extract_app.command("mailbox")
def extract_mailbox_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="saved page or JSON answer"),
                        url: str = typer.Option(..., "--url", help="the URL it was fetched from"),
                        kind: str = typer.Option("list", "--as", help="list | detail | json"),
                        crawl_date: Optional[str] = typer.Option(None, "--date", help="crawl date (default today)"),
                        content_type: Optional[str] = typer.Option(None, "--content-type"),
                        as_json: bool = typer.Option(False, "--json")):
    """Run the mailbox rules on a saved list page, detail page or JSON answer (personal data scrubbed)."""
    from dataclasses import asdict

    from collectors import mailbox as rules
    from collectors.page import Page

    when = date.fromisoformat(crawl_date) if crawl_date else date.today()
    if kind == "detail":
        rows = [asdict(rules.parse_detail(Page.from_file(str(file), url, content_type), when))]
    elif kind == "json":
        msgs, _ = rules.parse_json_list(file.read_bytes(), when)
        rows = [asdict(m.scrubbed()) for m in msgs]
    else:
        rows = [asdict(m.scrubbed()) for m in rules.parse_html_list(Page.from_file(str(file), url, content_type), when)]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    table = Table(title=f"mailbox {kind} rules on {file}")
    cols = [c for c in rows[0] if c != "extra"] if rows else []
    for c in cols:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*[str(r[c]) if r[c] is not None else "" for c in cols])
    out.print(table)


@mailbox_app.command("stats")
def mailbox_stats_cmd(db: Optional[str] = DbOption, city: Optional[str] = typer.Option(None, "--city")):
    """Per-board indicator values of the latest run (the observation table holds the combined ones)."""
    from sqlalchemy import text

    from storage.db import connect

    with connect(db) as conn:
        rows = conn.execute(text(
            "SELECT s.* FROM message_board_stat s JOIN (SELECT city_code, board, period, max(run_id) AS run_id "
            "FROM message_board_stat GROUP BY city_code, board, period) l USING (city_code, board, period, run_id) "
            "ORDER BY city_code, board, period")).mappings().all()
    if city:
        rows = [r for r in rows if r["city_code"] == city]
    cols = ["city_code", "board", "period", "status", "messages_total", "reply_rate", "reply_delay_median_days",
            "reply_delay_p90_days", "replied_within_15d_share", "reply_length_median", "messages_per_10k",
            "replies_flagged", "messages_undated"]
    table = Table(title="message boards (latest run)")
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*["" if r[c] is None else str(r[c]) for c in cols])
    out.print(table)
