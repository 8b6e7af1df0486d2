"""Sample-web ports (issue 23, D11): the sample web takes other ports when its usual ones are taken, and
bodies archived by one run name that run's ports. The next incremental run follows their links to the
sample web's ports of now, never to a dead port (connection refused, a broken link that is not)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from sgi.sampleweb.runner import serve_sample_web

pytestmark = pytest.mark.slow

# Xiamen's policy library links attachments on another host: the link a reused page gives is followed.
CITY, SPIDERS = "350200", "--spiders=policy"


def test_an_incremental_run_on_other_ports_follows_archived_links_to_the_live_ones(tmp_path):
    db = tmp_path / "p.db"
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp_path / "warc")}
    ports = {}
    for key, as_of in (("day1", "2026-06-30"), ("day2", "2026-07-01")):
        with serve_sample_web(tmp_path / f"web-{key}") as running:    # free ports: another pair each time
            ports[key] = {running.server.http_port, running.server.https_port}
            settings = tmp_path / f"{key}.json"
            settings.write_text(json.dumps(running.crawl_settings()))
            run = subprocess.run([sys.executable, "-m", "tests.crawl_once", str(settings), f"sqlite:///{db}", key,
                                  as_of, CITY, SPIDERS], capture_output=True, text=True, timeout=300, env=env)
            assert run.returncode == 0, run.stderr[-3000:]
    assert not ports["day1"] & ports["day2"]
    con = sqlite3.connect(db)
    rows = con.execute("SELECT s.requested_url, s.fetch_status, s.error FROM snapshot s JOIN crawl_run r "
                       "ON r.id = s.run_id WHERE r.run_key = 'day2'").fetchall()
    con.close()
    assert len(rows) > 20
    refused = [(url, error) for url, _, error in rows if error and "refused" in error]
    assert refused == []
    assert {urlsplit(url).port for url, _, _ in rows} <= ports["day2"]
    assert any("file.xm.gov.cn.test" in url for url, _, _ in rows)
