"""`sgi browse`: Datasette (a real subprocess on a free loopback port) serves the canned queries."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import time
import urllib.request
from datetime import datetime, timezone
from urllib.parse import quote

import pytest

from sgi.browse import (datasette_available, datasette_command, load_metadata, require_datasette, sqlite_file,
                        write_metadata)
from sgi.cities import lookup
from sgi.errors import ConfigError, SgiError
from storage import db
from storage.store import CrawlStore, finish_run, start_run, sync_cities

RUNS = {   # run key -> (crawl date, {city: {indicator: value or status}})
    "r1": ("2026-06-30", {"440300": {"site_search": True, "site_map": False, "reply_rate": 0.5},
                          "330100": {"site_search": True}}),
    "r2": ("2026-07-30", {"440300": {"site_search": True, "site_map": True, "reply_rate": "blocked",
                                     "hotline_12345": True}}),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def small_db(tmp_path):
    path = tmp_path / "small.db"
    url = f"sqlite:///{path}"
    sync_cities(url, [lookup("440300"), lookup("330100")])
    for key, (day, cities) in RUNS.items():
        run_id = start_run(url, key, as_of=day)
        store = CrawlStore(url, run_id, archive_dir=tmp_path / "warc")
        for city, values in cities.items():
            page = f"http://portal-{city}.test/{key}"
            ref = store.record_response(city_code=city, spider="portal", requested_url=page, final_url=page,
                                        http_status=200, reason="OK", headers=[("Content-Type", "text/html")],
                                        body=f"<html>{city} {key}</html>".encode(),
                                        fetched_at=datetime.now(timezone.utc), elapsed_ms=1.0, fetch_status="ok",
                                        content_type="text/html", encoding="utf-8", rendered=False)
            for code, value in values.items():
                if value == "blocked":
                    store.record_observation(city_code=city, indicator=code, period=day, status="blocked",
                                             rule=f"test.{code}", snapshot_id=ref.id)
                else:
                    store.record_observation(city_code=city, indicator=code, period=day,
                                             status="absent" if value is False else "ok", value=value,
                                             rule=f"test.{code}", snapshot_id=ref.id, evidence_url=page)
        store.close()
        finish_run(url, run_id, state="finished", requests=1, responses_by_status={}, items=1, errors=0)
    db.dispose_all()
    return path


def get_json(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
        return json.loads(resp.read().decode("utf-8"))


@pytest.fixture()
def datasette(small_db, tmp_path):
    if not datasette_available():
        pytest.skip("the browse extra (datasette) is not installed")
    port = free_port()
    metadata = write_metadata(small_db, tmp_path / "metadata.json")
    log = open(tmp_path / "datasette.log", "wb")
    proc = subprocess.Popen(datasette_command(small_db, metadata, port), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get_json(port, "/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "datasette.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_canned_queries_answer_over_http(datasette, small_db):
    port = datasette
    meta = get_json(port, "/-/metadata.json")
    assert {"evidence_for_city", "changed_since_last_run"} <= set(meta["databases"]["small"]["queries"])

    rows = get_json(port, "/small/evidence_for_city.json?city=440300&_shape=array")
    assert len(rows) == 7                                  # 3 observations in r1, 4 in r2
    with sqlite3.connect(small_db) as con:
        snaps = {r[0]: r[1:] for r in con.execute("SELECT id, digest, warc_file, warc_offset FROM snapshot")}
    for row in rows:
        assert row["rule"] == f"test.{row['indicator']}"
        assert (row["digest"], row["warc_file"], row["warc_offset"]) == snaps[row["snapshot_id"]]
        assert row["snapshot_url"].startswith("http://portal-440300.test/") and row["fetched_at"]
    assert [r["run_key"] for r in rows][:4] == ["r2"] * 4   # newest run first
    by_name = get_json(port, f"/small/evidence_for_city.json?city={quote('深圳')}&_shape=array")
    assert len(by_name) == 7

    changed = get_json(port, "/small/changed_since_last_run.json?_shape=array")
    found = {(r["city_code"], r["indicator"]): (r["previous_status"], r["latest_status"]) for r in changed}
    assert found == {("440300", "site_map"): ("absent", "ok"), ("440300", "reply_rate"): ("ok", "blocked"),
                     ("440300", "hotline_12345"): (None, "ok")}    # site_search unchanged; 330100 had one run


def test_metadata_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "datasette.yaml"
    bad.write_text("title: t\ndatabase:\n  tables: {}\n  queries:\n    wipe:\n      sql: DELETE FROM city\n",
                   encoding="utf-8")
    with pytest.raises(ConfigError, match=r"datasette.yaml:6: query wipe: only SELECT"):
        load_metadata(bad)
    assert set(load_metadata()["database"]["queries"]) >= {"evidence_for_city", "changed_since_last_run"}


def test_clear_errors_without_datasette_or_sqlite(monkeypatch):
    import sgi.browse as browse

    monkeypatch.setattr(browse.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SgiError) as info:
        require_datasette()
    assert "not installed" in info.value.message and "sgi[browse]" in info.value.hint
    with pytest.raises(SgiError, match="needs a SQLite database file"):
        sqlite_file("postgresql+psycopg://u@localhost/sgi")


def test_sigterm_to_browse_stops_datasette_and_cleans_up(small_db, tmp_path):
    """Issue 23 D23: SIGTERM to `sgi browse` left Datasette serving (orphaned) and its temp folder behind."""
    import os
    import signal
    import sys

    if not datasette_available():
        pytest.skip("the browse extra (datasette) is not installed")
    port = free_port()
    temp = tmp_path / "tmp"
    temp.mkdir()
    log = open(tmp_path / "browse.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "sgi", "browse", "--no-open", "--port", str(port), "--db",
                             f"sqlite:///{small_db}"], stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "TMPDIR": str(temp)}, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get_json(port, "/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "browse.log").read_text(errors="replace")[-3000:])
                time.sleep(0.3)
        assert [p.name[:11] for p in temp.iterdir()] == ["sgi-browse-"]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        time.sleep(0.5)
        with pytest.raises(OSError):
            get_json(port, "/-/versions.json")
        assert list(temp.iterdir()) == []
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)     # the group: sgi and an orphaned Datasette, nothing else
        except ProcessLookupError:
            pass
        proc.wait()
        log.close()
