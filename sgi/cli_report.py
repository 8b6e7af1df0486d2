"""`sgi report -o report.html`: the self-contained HTML report over all cities (sgi/report/index.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sgi.cli import DbOption, app, out


@app.command()
def report(output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML file to write"),
           framework: str = typer.Option("sgi-default", "--framework", "-f", help="shipped name or YAML file"),
           top: int = typer.Option(20, "--top", help="cities in the stacked sub-score chart"),
           db: Optional[str] = DbOption):
    """Write a self-contained HTML report (works offline): ranking, tiers, distributions, regions and
    levels, top cities' sub-scores, correlations, data coverage, crawl health, overrides."""
    from sgi.report.index import build_index_report
    from storage.db import database_url

    path = build_index_report(database_url(db), output, framework=framework, top_n=top)
    out.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser, no network needed")
