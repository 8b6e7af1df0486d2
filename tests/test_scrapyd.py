"""Distributed crawling on real scrapyd nodes (sgi/cluster.py): two nodes on loopback, started with
`sgi cluster node`, crawl the sample cities sharded between them into one PostgreSQL database; the
combined result must equal a single-node `sgi crawl` of the same cities."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from sqlalchemy import create_engine, text

from sgi.cluster import merge_counts, setting_value, shard_cities, stats_from_log
from tests.pg_support import CITIES, crawl_dump, diff_dumps, fresh_database, reference_crawl, server_url, sgi

SPIDERS = ["apps", "mailbox", "opendata", "policy", "portal"]


# --- pure parts -------------------------------------------------------------------------------------
def test_shards_are_round_robin_over_sorted_codes():
    assert shard_cities(["620100", "330100", "440300", "330100"], 2) == [["330100", "620100"], ["440300"]]
    assert shard_cities(["330100"], 3) == [["330100"], [], []]
    # every city exactly once, whatever the order given
    cities = [f"{n:06d}" for n in range(100000, 100037)]
    shards = shard_cities(reversed(cities), 4)
    assert sorted(c for s in shards for c in s) == cities
    assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_settings_travel_as_text_scrapy_parses_back():
    from scrapy.settings import Settings

    host_map = {"www.hangzhou.gov.cn.test": "127.0.0.1:40001"}
    raw = {"SGI_HOST_MAP": setting_value(host_map), "SGI_SAMPLE_WEB": setting_value(True),
           "AUTOTHROTTLE_ENABLED": setting_value(False), "DOWNLOAD_DELAY": setting_value(0),
           "SGI_RUN_ID": setting_value(17)}
    settings = Settings()
    settings.setdict(raw, priority="cmdline")
    assert settings.getdict("SGI_HOST_MAP") == host_map
    assert settings.getbool("SGI_SAMPLE_WEB") is True
    assert settings.getbool("AUTOTHROTTLE_ENABLED") is False
    assert settings.getfloat("DOWNLOAD_DELAY") == 0
    assert settings.getint("SGI_RUN_ID") == 17


def test_job_stats_come_from_the_last_stats_dump_of_the_log():
    log = """2026-06-30 10:00:00 [scrapy.core.engine] INFO: Spider opened
2026-06-30 10:00:09 [scrapy.statscollectors] INFO: Dumping Scrapy stats:
{'downloader/request_count': 12,
 'downloader/response_status_count/200': 10,
 'downloader/response_status_count/403': 2,
 'elapsed_time_seconds': 8.5,
 'finish_reason': 'finished',
 'finish_time': datetime.datetime(2026, 6, 30, 10, 0, 9, tzinfo=datetime.timezone.utc),
 'item_scraped_count': 7,
 'log_count/ERROR': 1}
2026-06-30 10:00:09 [scrapy.core.engine] INFO: Spider closed (finished)
"""
    stats = stats_from_log(log)
    assert stats["finish_reason"] == "finished"
    assert stats["downloader/request_count"] == 12 and stats["item_scraped_count"] == 7
    assert stats["elapsed_time_seconds"] == 8.5
    assert stats_from_log("2026-06-30 10:00:00 [x] ERROR: killed before the end") == {}
    from sgi.cluster import job_counts

    assert merge_counts([job_counts(stats), job_counts(stats)]) == {
        "requests": 24, "responses_by_status": {"200": 20, "403": 4}, "items": 14, "errors": 2}


# --- two real scrapyd nodes ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> dict:
    with urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


class Node:
    """A scrapyd process we start (and only we stop: by its own pid and process group)."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "SGI_ARCHIVE_DIR"}
        self.log = open(directory.parent / f"{directory.name}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sgi", "cluster", "node", "--port", str(self.port), "--dir", str(directory),
             "--max-proc", "3", "--poll", "0.3"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"scrapyd exited: {(self.dir.parent / f'{self.dir.name}.log').read_text()}"
            try:
                if _get(f"{self.url}/daemonstatus.json")["status"] == "ok":
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"scrapyd on {self.url} did not come up")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        try:   # job processes it left behind are in its session: ours, and only ours
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server_url()    # skip or fail before the expensive reference crawl
    reference = reference_crawl(tmp_path_factory)
    base = tmp_path_factory.mktemp("cluster")
    nodes = [Node(base / "node-a"), Node(base / "node-b")]
    try:
        for node in nodes:
            node.wait_ready()
        with fresh_database("sgi_cluster") as url:
            started = time.monotonic()
            city_args = [a for code in CITIES for a in ("--city", code)]
            node_args = [a for node in nodes for a in ("--node", node.url)]
            proc = sgi("cluster", "crawl", "--sample-web", *node_args, *city_args, "--db", url,
                       "--run-key", "cluster-run", "--poll", "0.5", "--timeout", "400", cwd=base)
            elapsed = time.monotonic() - started
            jobs = {node.url: _get(f"{node.url}/listjobs.json?project=sgi") for node in nodes}
            engine = create_engine(url)
            with engine.connect() as conn:
                runs = conn.execute(text("SELECT run_key, state, requests, items, settings FROM crawl_run")).all()
                warcs = conn.execute(text("SELECT DISTINCT city_code, warc_file FROM snapshot"
                                          " WHERE warc_file IS NOT NULL")).all()
            engine.dispose()
            ref_engine = create_engine(reference["url"])
            with ref_engine.connect() as conn:
                reference_items = conn.execute(text("SELECT items FROM crawl_run")).scalar_one()
            ref_engine.dispose()
            yield {"dump": crawl_dump(url), "reference": reference["dump"], "reference_items": reference_items, "nodes": nodes, "jobs": jobs,
                   "runs": runs, "warcs": warcs, "stdout": proc.stdout, "elapsed": elapsed}
    finally:
        for node in nodes:
            node.stop()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_cluster_crawl_equals_a_single_node_crawl(cluster):
    assert cluster["dump"]["observations"], "the cluster stored no observation"
    assert diff_dumps(cluster["dump"], cluster["reference"]) == ""


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_each_node_crawled_its_own_shard(cluster):
    a, b = cluster["nodes"]
    shards = dict(zip((a.url, b.url), shard_cities(CITIES, 2)))
    for node in (a, b):
        listing = cluster["jobs"][node.url]
        assert listing["pending"] == [] and listing["running"] == []
        assert sorted(j["spider"] for j in listing["finished"]) == SPIDERS, listing
    # Each node archived the evidence of its own cities, and only those (SGI_ARCHIVE_DIR = node dir/warc).
    archived = {node.url: {p.name for p in (node.dir / "warc").glob("*.warc.gz")} for node in (a, b)}
    for city, warc_file in cluster["warcs"]:
        if city is None:    # pages of no one city (a shared app store's search): whichever node asked
            continue
        owner = [url for url, cities in shards.items() if city in cities]
        holders = [url for url, files in archived.items() if warc_file in files]
        assert holders == owner, (city, warc_file, holders, owner)
    assert {c for c, _ in cluster["warcs"]} - {None} == set(CITIES)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_cluster_run_is_one_finished_run(cluster):
    runs = cluster["runs"]
    assert len(runs) == 1
    key, state, requests, items, settings = runs[0]
    assert (key, state) == ("cluster-run", "finished")
    # counted from the jobs' Scrapy stats, as `sgi crawl` counts its own
    assert requests > 0
    assert items == cluster["reference_items"]
    assert set(settings["cluster_nodes"].split(",")) == {n.url for n in cluster["nodes"]}
    shards = dict(zip((n.url for n in cluster["nodes"]), shard_cities(CITIES, 2)))
    for url, cities in shards.items():   # the per-node report
        assert f"node {url}: cities {','.join(cities)}; jobs ok {len(SPIDERS)}/{len(SPIDERS)};" in cluster["stdout"]
