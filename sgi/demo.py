"""`sgi demo`: the main job on the bundled sample web, end to end, with a short summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from storage.db import dispose_all

DEMO_RUN_KEY = "demo"           # fixed: running the demo again upserts the same rows
DEMO_PORTS = (18630, 18631)     # fixed when free, so evidence URLs are the same from run to run


def run_demo(out_dir: Path, console: Console | None = None) -> dict:
    import os

    from sgi.crawl import run_crawl
    from sgi.sampleweb.generate import write_truth
    from sgi.sampleweb.runner import serve_sample_web
    from storage.exports import export_indicators, observations_frame

    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{(out_dir / 'sgi.db').resolve()}"
    os.environ["SGI_ARCHIVE_DIR"] = str((out_dir / "warc").resolve())
    with serve_sample_web(out_dir / "sampleweb", ports=DEMO_PORTS) as running:
        console.print(f"sample web: {len(running.web.sites)} sites of {len(running.web.cities)} cities on "
                      f"127.0.0.1:{running.server.http_port} (https {running.server.https_port}); "
                      f"crawl date {running.web.reference_date}")
        result = run_crawl(db_url=db_url, spiders=None, cities=None, run_key=DEMO_RUN_KEY,
                           as_of=running.web.reference_date, extra_settings=running.crawl_settings(),
                           command="sgi demo", console=console)
        write_truth(running.web, out_dir / "truth.csv")
    console.print()
    n = export_indicators(out_dir / "indicators.csv", "csv", url=db_url)
    scores = _score(db_url, out_dir, console)
    df = observations_frame(db_url)
    _summary(console, df, out_dir, result, n, scores)
    dispose_all()
    return {"crawl": result, "rows": n}


def _score(db_url: str, out_dir: Path, console: Console):
    """Score with the default framework when the scoring stage is available."""
    try:
        from scoring.run import score_database
    except ImportError:
        return None
    return score_database(db_url, framework="sgi-default", out_csv=out_dir / "scores.csv")


def _summary(console: Console, df: pd.DataFrame, out_dir: Path, result: dict, rows: int, scores) -> None:
    table = Table(title="observations by city and status")
    statuses = ["ok", "absent", "blocked", "error", "not_applicable"]
    table.add_column("city")
    for s in statuses:
        table.add_column(s, justify="right")
    for (code, name), part in df.groupby(["city_code", "city_name"]):
        counts = Counter(part["status"])
        table.add_row(f"{code} {name}", *[str(counts.get(s, 0)) for s in statuses])
    console.print(table)
    console.print(f"crawl: {result['requests']} requests, responses {result['responses_by_status']}, "
                  f"{result['items']} observations")
    console.print(f"wrote {out_dir / 'sgi.db'}, {out_dir / 'indicators.csv'} ({rows} rows), "
                  f"{out_dir / 'truth.csv'}, WARC files in {out_dir / 'warc'}")
    if scores is not None:
        console.print(f"wrote {out_dir / 'scores.csv'}")
