"""`sgi override add|remove|list`: auditors' corrections beside the machine values.

The issue's short form works too: `sgi override CITY INDICATOR VALUE --reason … --by NAME` means
`sgi override add …`, and `sgi override --remove ID …` means `sgi override remove ID …`.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from typer.core import TyperGroup

from sgi.cli import DbOption, app, export_app, out
from sgi.errors import SgiError


class _AddByDefault(TyperGroup):
    """A group whose first word, when it is not a subcommand, starts an `add` (the issue's short form)."""

    def parse_args(self, ctx, args):
        if args and args[0] == "--remove":
            args = ["remove", *args[1:]]
        elif args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["add", *args]
        return super().parse_args(ctx, args)


override_app = typer.Typer(cls=_AddByDefault, no_args_is_help=True,
                           help="Auditors' corrections (overrides) beside the machine values; never over them.")
app.add_typer(override_app, name="override")


@override_app.command("add")
def override_add(city: str = typer.Argument(..., help="city code or name"),
                 indicator: str = typer.Argument(..., help="indicator code (`sgi indicators`)"),
                 value: Optional[str] = typer.Argument(None, help="corrected value: yes/no, a number or text"),
                 reason: str = typer.Option(None, "--reason", help="why the machine value is wrong (required)"),
                 by: str = typer.Option(None, "--by", help="the auditor's name (required)"),
                 period: str = typer.Option("", "--period", help="period it corrects (default: every period)"),
                 status: Optional[str] = typer.Option(None, "--status", help="ok | absent | not_applicable"),
                 evidence_url: Optional[str] = typer.Option(None, "--evidence-url", help="where the auditor saw it"),
                 db: Optional[str] = DbOption):
    """Record a correction: scoring, reports and exports use it; the machine value stays beside it."""
    from storage.db import database_url
    from storage.overrides import active_overrides, add_override

    url = database_url(db)
    new_id = add_override(url, city, indicator, value, reason, by, period=period, status=status,
                          evidence_url=evidence_url)
    row = active_overrides(url).set_index("id").loc[new_id]
    where = f" for period {row['period']}" if row["period"] else " for every period"
    out.print(f"override #{new_id}: {row['city_name'] or row['city_code']} {indicator} = {row['value']} "
              f"({row['status']}){where}, by {row['created_by']}", highlight=False)


@override_app.command("remove")
def override_remove(target: List[str] = typer.Argument(..., help="override ID, or CITY INDICATOR"),
                    by: str = typer.Option(None, "--by", help="who removes it (required)"),
                    reason: str = typer.Option(None, "--reason", help="why (required)"),
                    period: str = typer.Option("", "--period", help="with CITY INDICATOR: the override's period"),
                    db: Optional[str] = DbOption):
    """Retire an override (the row stays as audit trail); the machine value is effective again."""
    from storage.db import database_url
    from storage.overrides import remove_override

    if len(target) == 1 and target[0].isdigit():
        key: int | tuple = int(target[0])
    elif len(target) == 2:
        key = (target[0], target[1], period)
    else:
        raise SgiError(f"cannot tell which override {' '.join(target)!r} means",
                       "give its id (`sgi override list`) or CITY INDICATOR [--period P]")
    removed = remove_override(database_url(db), key, by=by, reason=reason)
    out.print(f"override #{removed} removed; the machine value applies again")


@override_app.command("list")
def override_list(city: Optional[str] = typer.Argument(None, help="only this city (code or name)"),
                  include_removed: bool = typer.Option(False, "--all", help="include removed overrides"),
                  db: Optional[str] = DbOption):
    """Print the active overrides (with --all also the removed ones)."""
    from storage.db import database_url
    from storage.overrides import overrides_frame

    df = overrides_frame(database_url(db), city, include_removed=include_removed)
    table = Table(title=f"{len(df)} override(s)" + (" incl. removed" if include_removed else " active"))
    columns = ["id", "city", "indicator", "period", "value", "status", "by", "at", "reason"]
    if include_removed:
        columns += ["removed"]
    for col in columns:
        table.add_column(col, overflow="fold")
    for r in df.to_dict("records"):
        cells = [str(r["id"]), f"{r['city_code']} {r['city_name'] or ''}", r["indicator"], r["period"] or "(all)",
                 "" if r["value"] is None else str(r["value"]), r["status"], r["created_by"], r["created_at"],
                 r["reason"]]
        if include_removed:
            cells.append(f"{r['removed_at']} by {r['removed_by']}: {r['removed_reason']}" if r["removed_by"] else "")
        table.add_row(*cells)
    out.print(table, highlight=False)


@export_app.command("overrides")
def export_overrides_cmd(output: Path = typer.Option(..., "-o", "--output", help="output file"),
                         fmt: Optional[str] = typer.Option(None, "--format", "-f", help="csv | xlsx | parquet"),
                         db: Optional[str] = DbOption):
    """Export every override, removed ones included (who corrected what, when and why)."""
    from storage.exports import export_overrides

    n = export_overrides(output, fmt, url=db)
    out.print(f"wrote {n} overrides to {output}")
