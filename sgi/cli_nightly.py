"""`sgi nightly …` (crawl, score, report, health checks) and `sgi archive prune` (WARC retention).

Exit codes of `sgi nightly` and `sgi nightly report`: 0 healthy, 3 a health check failed (the report says
which), 2 a usage or configuration error (e.g. health.yaml invalid: file:line), 1 an unexpected error.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from sgi.cli import DbOption, app, err, out

nightly_app = typer.Typer(help="The unattended nightly job: crawl every city, score, report, check health.",
                          invoke_without_command=True)
archive_app = typer.Typer(help="The WARC evidence archive.", no_args_is_help=True)
app.add_typer(nightly_app, name="nightly")
app.add_typer(archive_app, name="archive")

ReportDirOption = typer.Option(Path("nightly-reports"), "--report-dir", help="where run reports go (JSON + Markdown)")
HealthOption = typer.Option(None, "--health", help="health-check file (default: sgi/data/health.yaml)")
FrameworkOption = typer.Option("sgi-default", "--framework", help="scoring framework")


@nightly_app.callback()
def nightly(ctx: typer.Context,
            db: Optional[str] = DbOption,
            sample_web: bool = typer.Option(False, "--sample-web", help="crawl the bundled sample web on loopback"),
            cities: List[str] = typer.Option(None, "--cities", "--city", "-c", help="city code or name (repeatable; default all)"),
            spiders: List[str] = typer.Option(None, "--spiders", "--spider", "-s", help="spider (repeatable; default all)"),
            framework: str = FrameworkOption,
            report_dir: Path = ReportDirOption,
            health: Optional[Path] = HealthOption,
            log_dir: Optional[Path] = typer.Option(None, "--log-dir", help="write <run key>.log here (INFO and up)"),
            sources: Optional[Path] = typer.Option(None, "--sources", help="source file (YAML/CSV)"),
            run_key: Optional[str] = typer.Option(None, "--run-key", help="default nightly-YYYY-MM-DD[-n]"),
            as_of: Optional[str] = typer.Option(None, "--as-of", help="crawl date YYYY-MM-DD (default today)"),
            packs: bool = typer.Option(False, "--packs", help="write one WACZ evidence pack per city to "
                                       "<report dir>/packs/ (signed with SGI_PACK_KEY, timestamped via SGI_TSA_URL)"),
            include_letters: bool = typer.Option(False, "--include-letters",
                                                 help="with --packs: put letters' raw pages (personal data) in the packs")):
    """Crawl all cities with all spiders, score, write the run report, exit 3 when a health check fails."""
    if ctx.invoked_subcommand:
        return
    from sgi.cities import resolve_many
    from sgi.nightly import run_nightly
    from storage.db import database_url

    url = database_url(db)
    codes = [c.code for c in resolve_many(cities)] if cities else None
    kwargs = dict(db_url=url, cities=codes, spiders=spiders or None, framework=framework, report_dir=report_dir,
                  health_file=health, log_dir=log_dir, run_key=run_key, command=" ".join(sys.argv), console=err,
                  as_of=date.fromisoformat(as_of) if as_of else None, quiet=not err.is_terminal)
    if packs:
        from sgi.packs import PackOptions

        kwargs["packs"] = PackOptions(include_letters=include_letters).checked()
    if sample_web:
        from sgi.sampleweb.runner import SAMPLE_CRAWL_PORTS, serve_sample_web

        # The same fixed ports as `sgi crawl --sample-web` when free: archived bodies name them and the
        # incremental crawl replays them.
        with tempfile.TemporaryDirectory(prefix="sgi-sample-") as tmp, \
                serve_sample_web(tmp, ports=SAMPLE_CRAWL_PORTS) as running:
            result = run_nightly(extra_settings=running.crawl_settings(), **kwargs)
    else:
        result = run_nightly(extra_settings={"SGI_SOURCES_FILE": str(sources)} if sources else {}, **kwargs)
    _print_summary(result)
    raise typer.Exit(result.exit_code)


@nightly_app.command("report")
def nightly_report(run_key: str = typer.Option(..., "--run-key", help="the run to report"),
                   previous: Optional[str] = typer.Option(None, "--previous", help="compare with this run key "
                                                          "(default: the previous finished run)"),
                   db: Optional[str] = DbOption,
                   framework: str = FrameworkOption,
                   report_dir: Path = ReportDirOption,
                   health: Optional[Path] = HealthOption,
                   packs: bool = typer.Option(False, "--packs", help="also write the run's evidence packs (one per city)"),
                   include_letters: bool = typer.Option(False, "--include-letters",
                                                        help="with --packs: put letters' raw pages in the packs")):
    """Report and check a run already in the database (crawled here, elsewhere, or on scrapyd nodes)."""
    from sgi.nightly import report_run
    from storage.db import database_url

    options = None
    if packs:
        from sgi.packs import PackOptions

        options = PackOptions(include_letters=include_letters).checked()
    result = report_run(db_url=database_url(db), run_key=run_key, previous_key=previous, framework=framework,
                        report_dir=report_dir, health_file=health, packs=options)
    _print_summary(result)
    raise typer.Exit(result.exit_code)


def _print_summary(result) -> None:
    run = result.report["run"]
    table = Table(title=f"health of {run['run_key']}")
    for col in ("check", "result", "numbers"):
        table.add_column(col)
    for c in result.report["checks"]:
        table.add_row(c["name"], "pass" if c["passed"] else "[bold red]FAIL[/]", c["summary"], end_section=False)
    out.print(table)
    out.print(f"run {run['run_key']}: {run['pages']} pages ({run['unchanged']} unchanged), "
              f"{run['observations']} observations, {run['new_items']} new items, "
              f"{run['changed_indicators']} changed indicators; report {result.paths['markdown']}", highlight=False)
    for path in result.paths.get("packs", []):
        out.print(f"evidence pack {path}", highlight=False, soft_wrap=True)
    for problem in result.paths.get("pack_errors", []):
        err.print(f"[bold red]error:[/] no evidence pack for {problem}", highlight=False)
    if result.exit_code:
        err.print(f"[bold red]unhealthy:[/] {sum(not c['passed'] for c in result.report['checks'])} check(s) "
                  f"failed (exit code {result.exit_code}); see {result.paths['markdown']}", highlight=False)


@archive_app.command("prune")
def archive_prune(keep_runs: int = typer.Option(7, "--keep-runs", min=1, help="keep every file of the last K runs"),
                  dry_run: bool = typer.Option(False, "--dry-run", help="list what would go; delete nothing"),
                  min_age_hours: float = typer.Option(24.0, "--min-age-hours", min=0,
                                                      help="never delete files modified more recently"),
                  include_orphans: bool = typer.Option(False, "--include-orphans",
                                                       help="also delete files no snapshot of this database names"),
                  archive_dir: Optional[Path] = typer.Option(None, "--archive-dir",
                                                             help="default: SGI_ARCHIVE_DIR or warc/ beside the SQLite file"),
                  db: Optional[str] = DbOption):
    """Delete WARC files no kept evidence cites (files of the last K runs, of exported observations, of
    current harvest rows and of reuse chains always stay)."""
    from sgi.retention import execute, plan_prune
    from storage.db import database_url

    plan = plan_prune(database_url(db), keep_runs=keep_runs, archive_dir=archive_dir, min_age_hours=min_age_hours,
                      include_orphans=include_orphans)
    size = plan.bytes_to_free()
    verb = "would delete" if dry_run else "deleting"
    for name in plan.delete:
        out.print(f"{verb} {plan.archive_dir / name}", highlight=False)
    removed = 0 if dry_run else execute(plan)
    out.print(f"{plan.archive_dir}: keep {len(plan.keep)} cited files, "
              f"{'would delete' if dry_run else 'deleted'} {len(plan.delete) if dry_run else removed} "
              f"({size / 1e6:.1f} MB); {len(plan.young)} too recent, {len(plan.orphans)} not named by this "
              f"database (kept; --include-orphans deletes them)", highlight=False)
    if plan.missing:
        err.print(f"[yellow]warning:[/] {len(plan.missing)} cited WARC file(s) are missing from the archive, "
                  f"e.g. {plan.missing[0]}", highlight=False)


@archive_app.command("index")
def archive_index(archive_dir: Optional[Path] = typer.Option(None, "--archive-dir",
                                                            help="default: SGI_ARCHIVE_DIR or warc/ beside the SQLite file"),
                  output: Optional[Path] = typer.Option(None, "-o", "--output", help="default <archive dir>/index.cdxj"),
                  db: Optional[str] = DbOption):
    """Write a CDXJ index of every WARC file of the archive, so pywb can browse the whole archive
    (run it when no crawl is writing)."""
    from sgi.errors import SgiError
    from storage import db as storage_db
    from storage.db import database_url
    from storage.wacz import index_archive

    directory = archive_dir or storage_db.archive_dir(database_url(db))
    if not directory.is_dir():
        raise SgiError(f"no archive directory {directory}", "give --archive-dir or set SGI_ARCHIVE_DIR")
    path, files, lines = index_archive(directory, output)
    out.print(f"wrote {path}: {lines} records of {files} WARC files", highlight=False, soft_wrap=True)
    out.print("pywb: in a directory with this config.yaml run `wayback --bind 127.0.0.1`:\n"
              f"collections:\n  sgi:\n    index_paths: {path.resolve()}\n    archive_paths: {directory.resolve()}/",
              highlight=False, soft_wrap=True)
