"""Distributed crawling on scrapyd: the cities of one crawl run are sharded across scrapyd nodes.

Cities are independent (a city's findings are merged inside one spider process) and politeness is per
host (a host belongs to one city), so a city is the unit of distribution: each node crawls its share of
the cities with every spider, as ordinary scrapyd jobs, and all jobs write to one database (PostgreSQL)
under one crawl_run row that the dispatcher opens before and closes after.

Nodes run the installed sgi package: `sgi cluster node` writes a scrapyd.conf whose [settings] section
maps the scrapyd project ``sgi`` to ``spiders.settings``, so scrapyd's runner imports the spiders from the
same installation (no egg upload; every node must have the same sgi version installed).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from sgi.crawl import merge_counts  # noqa: F401  (one definition; tests import it from here too)
from sgi.errors import SgiError

PROJECT = "sgi"
SETTINGS_MODULE = "spiders.settings"
DEFAULT_POLL_S = 2.0


# --- nodes ------------------------------------------------------------------------------------------
def node_config(*, port: int, directory: Path, bind: str = "127.0.0.1", max_proc: int = 0,
                poll_interval: float = 1.0) -> str:
    """scrapyd.conf for a node that runs this installation's spiders as project 'sgi'."""
    directory = Path(directory).resolve()
    return "\n".join([
        "# Written by `sgi cluster node`: a scrapyd node for sgi (see docs/CLUSTER.md).",
        "[scrapyd]",
        f"bind_address = {bind}",
        f"http_port = {port}",
        f"eggs_dir = {directory / 'eggs'}",
        f"logs_dir = {directory / 'logs'}",
        f"dbs_dir = {directory / 'dbs'}",
        # The dispatcher reads each job's log for its stats: keep the logs of a whole nightly run.
        "jobs_to_keep = 1000",
        "finished_to_keep = 1000",
        f"poll_interval = {poll_interval}",
        f"max_proc = {max_proc}",
        "max_proc_per_cpu = 2",
        "",
        "# No egg: the project is the installed sgi package (scrapyd passes SCRAPY_SETTINGS_MODULE to jobs).",
        "[settings]",
        f"{PROJECT} = {SETTINGS_MODULE}",
        "",
    ])


class ScrapydNode:
    """The few scrapyd JSON API calls the dispatcher needs (urllib: no extra dependency)."""

    def __init__(self, url: str, timeout: float = 30.0):
        url = url.rstrip("/")
        if "://" not in url:
            url = f"http://{url}"
        self.url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ScrapydNode({self.url})"

    def _call(self, path: str, params: dict | None = None, post: list[tuple[str, str]] | None = None) -> dict:
        url = f"{self.url}/{path}"
        if params:
            url += "?" + urlencode(params)
        data = urlencode(post).encode() if post is not None else None
        try:
            with urlopen(Request(url, data=data), timeout=self.timeout) as resp:
                answer = json.loads(resp.read().decode("utf-8"))
        except (HTTPError, URLError, OSError, ValueError) as exc:
            raise SgiError(f"scrapyd node {self.url} did not answer {path}: {exc}",
                           "is the node running (`sgi cluster node`) and reachable from here?") from exc
        if answer.get("status") != "ok":
            raise SgiError(f"scrapyd node {self.url}: {path} failed: {answer.get('message', answer)}",
                           "check the node's scrapyd.conf ([settings] sgi = spiders.settings) and its log")
        return answer

    def status(self) -> dict:
        return self._call("daemonstatus.json")

    def spiders(self) -> list[str]:
        return self._call("listspiders.json", {"project": PROJECT})["spiders"]

    def schedule(self, spider: str, *, job_id: str, settings: dict[str, str], args: dict[str, str]) -> str:
        post = [("project", PROJECT), ("spider", spider), ("jobid", job_id)]
        post += [("setting", f"{k}={v}") for k, v in settings.items()]
        post += list(args.items())
        return self._call("schedule.json", post=post)["jobid"]

    def jobs(self) -> dict:
        return self._call("listjobs.json", {"project": PROJECT})

    def cancel(self, job_id: str) -> None:
        try:
            self._call("cancel.json", post=[("project", PROJECT), ("job", job_id)])
        except SgiError:
            pass   # already finished, or the node is gone: nothing left to stop

    def text(self, path: str) -> str | None:
        try:
            with urlopen(f"{self.url}/{path.lstrip('/')}", timeout=self.timeout) as resp:
                return resp.read().decode("utf-8", "replace")
        except (HTTPError, URLError, OSError):
            return None


# --- planning ---------------------------------------------------------------------------------------
def shard_cities(cities: Iterable[str], n_nodes: int) -> list[list[str]]:
    """Round-robin over the sorted city codes: the same cities and nodes always give the same shards."""
    if n_nodes < 1:
        raise SgiError("no scrapyd node given", "name at least one with --node http://HOST:6800")
    shards: list[list[str]] = [[] for _ in range(n_nodes)]
    for i, code in enumerate(sorted(set(cities))):
        shards[i % n_nodes].append(code)
    return shards


def setting_value(value) -> str:
    """A Scrapy setting as `-s KEY=VALUE` text: dicts and lists as JSON (Settings.getdict parses it)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass
class Job:
    node: str
    spider: str
    cities: list[str]
    job_id: str
    state: str = "pending"          # pending, running, finished (the scrapyd process ended), lost
    finish_reason: str | None = None  # from the job's Scrapy stats: 'finished' when the crawl completed
    stats: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == "finished" and self.finish_reason == "finished"


def plan_jobs(nodes: Sequence[str], spiders: Sequence[str], cities: Sequence[str], tag: str) -> list[Job]:
    """One job per (node, spider) over the node's shard of the cities; nodes without cities get none."""
    jobs = []
    for index, (node, shard) in enumerate(zip(nodes, shard_cities(cities, len(nodes)))):
        if not shard:
            continue
        for spider in spiders:
            jobs.append(Job(node=node, spider=spider, cities=shard, job_id=f"{tag}-n{index}-{spider}"))
    return jobs


# --- job outcome ------------------------------------------------------------------------------------
_STAT_LINE = re.compile(r"'([^']+)':\s*('(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?)")


def stats_from_log(log: str) -> dict:
    """The last 'Dumping Scrapy stats' block of a job log, numbers and strings only."""
    start = log.rfind("Dumping Scrapy stats")
    if start < 0:
        return {}
    block = log[start:]
    end = re.search(r"\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", block)
    if end:
        block = block[:end.start()]
    stats = {}
    for key, raw in _STAT_LINE.findall(block):
        if raw.startswith("'"):
            stats[key] = raw[1:-1]
        else:
            stats[key] = float(raw) if "." in raw else int(raw)
    return stats


def job_counts(stats: dict) -> dict:
    """The crawl_run counters of one job (the same ones `sgi crawl` records; spiders/extensions.py)."""
    from spiders.extensions import crawl_counts

    counts = crawl_counts(stats)
    counts.pop("elapsed_s", None)
    return counts


# --- dispatching ------------------------------------------------------------------------------------
@dataclass
class ClusterResult:
    run_id: int
    run_key: str
    state: str
    jobs: list[Job]
    shards: dict[str, list[str]]
    per_node: list[dict]
    totals: dict


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60]


def check_nodes(nodes: Sequence[ScrapydNode], spiders: Sequence[str]) -> None:
    """Every node answers and knows every spider (same sgi installed, project configured)."""
    for node in nodes:
        node.status()
        missing = sorted(set(spiders) - set(node.spiders()))
        if missing:
            raise SgiError(f"scrapyd node {node.url} lacks spider(s) {', '.join(missing)}",
                           "install the same sgi version on every node and start it with `sgi cluster node`")


def dispatch(*, node_urls: Sequence[str], db_url: str, run_key: str, cities: Sequence[str],
             spiders: Sequence[str], extra_settings: dict | None = None, as_of: str | None = None,
             command: str = "", poll_s: float = DEFAULT_POLL_S, timeout_s: float | None = None,
             on_event: Callable[[str], None] | None = None) -> ClusterResult:
    """Open the run, schedule the jobs, wait for all of them, close the run. Blocks until done."""
    from datetime import date

    from sgi.cities import load_cities
    from storage import db
    from storage.store import finish_run, start_run, sync_cities

    say = on_event or (lambda message: None)
    if not cities:
        raise SgiError("no city to crawl", "name cities with --city, or check the source file")
    if db.is_sqlite(db_url) and any(urlsplit(ScrapydNode(u).url).hostname not in ("127.0.0.1", "localhost", "::1")
                                    for u in node_urls):
        raise SgiError("a cluster on several machines needs a shared database, not SQLite",
                       "use --db postgresql+psycopg://user@host/db")
    nodes = {n.url: n for n in (ScrapydNode(u) for u in node_urls)}
    urls = list(nodes)
    check_nodes(list(nodes.values()), spiders)

    overrides = dict(extra_settings or {})
    as_of_text = as_of or overrides.get("SGI_AS_OF") or date.today().isoformat()
    # Schema and cities before any job starts: jobs must never race to migrate the database.
    sync_cities(db_url, load_cities())
    run_id = start_run(db_url, run_key, command=command, spiders=spiders, cities=cities, as_of=as_of_text,
                       sample_web=bool(overrides.get("SGI_SAMPLE_WEB")), settings={
                           **{k: v for k, v in overrides.items() if isinstance(v, (str, int, float, bool))},
                           "cluster_nodes": ",".join(urls)})
    overrides.update({"SGI_DATABASE_URL": db_url, "SGI_RUN_ID": run_id, "SGI_RUN_KEY": run_key,
                      "SGI_AS_OF": as_of_text})
    if overrides.get("LOG_LEVEL") != "DEBUG":
        overrides["LOG_LEVEL"] = "INFO"   # the stats dump, which the dispatcher reads, is logged at INFO
    settings = {k: setting_value(v) for k, v in overrides.items()}

    tag = f"{_sanitize(run_key)}-{uuid.uuid4().hex[:6]}"
    jobs = plan_jobs(urls, spiders, cities, tag)
    shards = {u: s for u, s in zip(urls, shard_cities(cities, len(urls)))}
    state = "failed"
    try:
        for job in jobs:
            nodes[job.node].schedule(job.spider, job_id=job.job_id, settings=settings,
                                     args={"city": ",".join(job.cities)})
        say(f"scheduled {len(jobs)} job(s) on {len(urls)} node(s)")
        _wait(nodes, jobs, poll_s, timeout_s, say)
        for job in jobs:
            if job.state == "finished":
                job.stats = _job_stats(nodes[job.node], job)
                job.finish_reason = job.stats.get("finish_reason")
        state = "finished" if all(job.ok for job in jobs) else "failed"
    finally:
        for job in jobs:
            if job.state in ("pending", "running"):
                nodes[job.node].cancel(job.job_id)
        totals = merge_counts(job_counts(job.stats) for job in jobs if job.stats)
        finish_run(db_url, run_id, state=state, **totals)
    per_node = _per_node(db_url, run_id, urls, shards, jobs)
    return ClusterResult(run_id=run_id, run_key=run_key, state=state, jobs=jobs, shards=shards,
                         per_node=per_node, totals=totals)


def _wait(nodes: dict[str, ScrapydNode], jobs: list[Job], poll_s: float, timeout_s: float | None,
          say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout_s if timeout_s else None
    by_id = {job.job_id: job for job in jobs}
    while True:
        for url, node in nodes.items():
            listing = node.jobs()
            seen = set()
            for phase in ("pending", "running", "finished"):
                for entry in listing.get(phase, []):
                    job = by_id.get(entry["id"])
                    if job is None or job.node != url:
                        continue
                    seen.add(job.job_id)
                    if job.state != phase and job.state != "finished":
                        job.state = phase
                        if phase == "finished":
                            job.stats["_log_url"] = entry.get("log_url")
                            say(f"{url}: {job.spider} {','.join(job.cities)} ended")
            for job in jobs:
                # A node restarted mid-run forgets its jobs: they are lost, not waited for forever.
                if job.node == url and job.job_id not in seen and job.state != "finished":
                    job.state = "lost"
        if all(job.state in ("finished", "lost") for job in jobs):
            return
        if deadline and time.monotonic() > deadline:
            say("timed out waiting for jobs; cancelling the rest")
            return
        time.sleep(poll_s)


def _job_stats(node: ScrapydNode, job: Job) -> dict:
    path = job.stats.get("_log_url") or f"/logs/{PROJECT}/{job.spider}/{job.job_id}.log"
    log = node.text(path) or ""
    return stats_from_log(log)


def _per_node(db_url: str, run_id: int, urls: list[str], shards: dict[str, list[str]], jobs: list[Job]) -> list[dict]:
    """Per node: jobs, cities, and the rows its cities produced in this run (from the database)."""
    from sqlalchemy import text

    from storage import db

    with db.get_engine(db_url).connect() as conn:
        snaps = dict(conn.execute(text("SELECT city_code, count(*) FROM snapshot WHERE run_id = :r GROUP BY city_code"),
                                  {"r": run_id}).all())
        obs = dict(conn.execute(text("SELECT city_code, count(*) FROM observation WHERE run_id = :r GROUP BY city_code"),
                                {"r": run_id}).all())
    rows = []
    for url in urls:
        mine = [j for j in jobs if j.node == url]
        counts = merge_counts(job_counts(j.stats) for j in mine if j.stats)
        rows.append({"node": url, "cities": shards.get(url, []), "jobs": len(mine),
                     "jobs_ok": sum(j.ok for j in mine), "requests": counts["requests"], "items": counts["items"],
                     "errors": counts["errors"],
                     "snapshots": sum(snaps.get(c, 0) for c in shards.get(url, [])),
                     "observations": sum(obs.get(c, 0) for c in shards.get(url, []))})
    return rows
