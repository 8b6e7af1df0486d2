"""`sgi cluster …`: crawling on several scrapyd nodes, sharded by city, into one database (sgi/cluster.py).

    sgi cluster node --port 6800 --dir /var/lib/sgi-node          # on every crawling machine
    sgi cluster crawl --node http://10.0.0.5:6800 --node http://10.0.0.6:6800 --db postgresql+psycopg://…
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import List, Optional

import typer

from sgi.cli import DbOption, app, err, out
from sgi.errors import SgiError

cluster_app = typer.Typer(help="Distributed crawling on scrapyd nodes (sharded by city, one database).",
                          no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("node")
def node(port: int = typer.Option(6800, "--port", help="HTTP port of the scrapyd API"),
         directory: Path = typer.Option(Path("sgi-node"), "--dir", help="node directory (config, logs, WARC)"),
         bind: str = typer.Option("127.0.0.1", "--bind", help="address to listen on (scrapyd has no auth by default)"),
         max_proc: int = typer.Option(0, "--max-proc", help="parallel jobs (0: 2 per CPU)"),
         poll: float = typer.Option(1.0, "--poll", help="seconds between queue polls")):
    """Run a scrapyd node for sgi's spiders in DIR (writes DIR/scrapyd.conf; WARC files go to DIR/warc)."""
    from sgi.cluster import node_config

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "scrapyd.conf").write_text(node_config(port=port, directory=directory, bind=bind,
                                                        max_proc=max_proc, poll_interval=poll), encoding="utf-8")
    env = dict(os.environ)
    # Jobs inherit scrapyd's environment: the evidence archive is the node's unless the operator says otherwise.
    env.setdefault("SGI_ARCHIVE_DIR", str(directory / "warc"))
    env["SCRAPY_SETTINGS_MODULE"] = "spiders.settings"
    err.print(f"scrapyd node on http://{bind}:{port}/ in {directory}")
    os.chdir(directory)   # scrapyd reads ./scrapyd.conf
    os.execve(sys.executable, [sys.executable, "-m", "scrapyd", "--pidfile", str(directory / "scrapyd.pid")], env)


@cluster_app.command("crawl")
def crawl(node_urls: List[str] = typer.Option(..., "--node", "-n", help="scrapyd node URL (repeatable)"),
          city: List[str] = typer.Option(None, "--city", "-c", help="city code or name (repeatable; default: every "
                                                                     "city in the source file)"),
          spider: List[str] = typer.Option(None, "--spider", "-s", help="spider name (repeatable; default all)"),
          db: Optional[str] = DbOption,
          sample_web: bool = typer.Option(False, "--sample-web", help="crawl the bundled sample web (nodes on this machine)"),
          sources: Optional[Path] = typer.Option(None, "--sources", help="source file (a path every node can read)"),
          run_key: Optional[str] = typer.Option(None, "--run-key", help="name the run; the same key upserts"),
          as_of: Optional[str] = typer.Option(None, "--as-of", help="crawl date YYYY-MM-DD (default today)"),
          archive_dir: Optional[str] = typer.Option(None, "--archive-dir", help="WARC directory on the nodes "
                                                    "(default: each node's own)"),
          timeout: Optional[float] = typer.Option(None, "--timeout", help="give up (and cancel) after N seconds"),
          poll: float = typer.Option(2.0, "--poll", help="seconds between job polls")):
    """Crawl on scrapyd nodes: cities sharded across the nodes, one job per node and spider, one run."""
    from sgi.cluster import dispatch
    from sgi.crawl import available_spiders
    from storage.db import database_url

    url = database_url(db)
    names = list(spider or []) or available_spiders()
    unknown = sorted(set(names) - set(available_spiders()))
    if unknown:
        raise SgiError(f"unknown spider(s): {', '.join(unknown)}", f"available: {', '.join(available_spiders())}")
    key = run_key or f"cluster-{date.today().isoformat()}-{uuid.uuid4().hex[:6]}"
    command = " ".join(sys.argv)

    def run(settings: dict, codes: list[str]):
        if archive_dir:
            settings["SGI_ARCHIVE_DIR"] = archive_dir
        return dispatch(node_urls=node_urls, db_url=url, run_key=key, cities=codes, spiders=names,
                        extra_settings=settings, as_of=as_of, command=command, poll_s=poll, timeout_s=timeout,
                        on_event=lambda message: err.print(message, highlight=False))

    if sample_web:
        from sgi.sampleweb.runner import serve_sample_web

        with tempfile.TemporaryDirectory(prefix="sgi-sample-") as tmp, serve_sample_web(tmp) as running:
            settings = running.crawl_settings()
            result = run(settings, _cities(city, settings["SGI_SOURCES_FILE"]))
    else:
        settings = {"SGI_SOURCES_FILE": str(sources.resolve())} if sources else {}
        result = run(settings, _cities(city, sources))
    _report(result)
    if result.state != "finished":
        failed = [f"{j.node} {j.spider} ({_outcome(j)})" for j in result.jobs if not j.ok]
        raise SgiError(f"run {key}: {len(failed)} job(s) did not finish: {'; '.join(failed[:10])}",
                       "read the job logs on the nodes (logs/sgi/SPIDER/JOB.log); rerun with the same --run-key")


def _outcome(job) -> str:
    if job.state == "lost":
        return "lost: the node no longer knows the job"
    if job.state != "finished":
        return f"still {job.state}: cancelled"
    if job.finish_reason:
        return f"ended: {job.finish_reason}"
    return "ended without its stats: killed or crashed"


def _cities(queries: list[str] | None, sources_file) -> list[str]:
    from sgi.cities import resolve_many
    from sgi.sources import load_sources

    if queries:
        return [c.code for c in resolve_many(queries)]
    return sorted({s.city_code for s in load_sources(sources_file)})


def _report(result) -> None:
    # Plain lines, not a table: node URLs stay whole in logs and mails of unattended runs.
    out.print(f"cluster run {result.run_key}: {result.state}", highlight=False)
    for row in result.per_node:
        out.print(f"  node {row['node']}: cities {','.join(row['cities']) or '-'}; jobs ok {row['jobs_ok']}/{row['jobs']}; "
                  f"{row['requests']} requests, {row['errors']} errors; in the database {row['snapshots']} snapshots, "
                  f"{row['observations']} observations", highlight=False, soft_wrap=True)
    t = result.totals
    out.print(f"run {result.run_key}: {t['requests']} requests, {t['items']} observations, {t['errors']} errors; "
              f"responses {t['responses_by_status']}", highlight=False, soft_wrap=True)
