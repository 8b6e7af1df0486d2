"""Resume (issue 10): a sample-web crawl killed with SIGKILL at random moments and resumed with
`--resume` until it completes ends with exactly the rows of an uninterrupted crawl: the same snapshots
(ids and fetch statuses), observations and harvest rows; nothing lost, nothing twice.

The kill moments are random (seed printed on failure; set SGI_RESUME_SEED to replay one). The sample
web runs in this process for all crawls, so every crawl sees the same server.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CITY = "440300"
SPIDERS = "--spiders=portal,mailbox,opendata,policy"
AS_OF = "2026-06-30"
KILLS = 3
# Columns that differ between any two crawls: clocks, timings, autoincrement ids, log-like counters.
VOLATILE = {"id", "run_id", "observed_at", "fetched_at", "elapsed_ms", "recorded_at", "first_seen_at",
            "last_seen_at", "computed_at", "created_at", "started_at", "finished_at", "crawled_at"}
SKIP_TABLES = {"crawl_run", "alembic_version", "fetch_journal", "url_state", "city", "sqlite_sequence"}
TIMING = ("homepage_load_ms",)


def _journal_rows(db: Path) -> int:
    """Fetches journalled so far in a crawl's database (0 before the crawl created it)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM fetch_journal").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def command(ctx, db_url, *flags):
    return [sys.executable, "-m", "tests.crawl_once", str(ctx["settings"]), db_url, "resume-test", AS_OF, CITY,
            SPIDERS, *flags]


def table_rows(db: Path) -> dict:
    con = sqlite3.connect(db)
    out = {}
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in sorted(set(tables) - SKIP_TABLES):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] not in VOLATILE]
        if table == "snapshot":
            cols = ["id", "requested_url", "final_url", "fetch_status", "http_status", "digest"]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        if table == "observation":
            rows = [r for r in rows if r[cols.index("indicator")] not in TIMING]
            keep = [cols.index(c) for c in ("city_code", "indicator", "period", "value_num", "value_text", "status")]
            rows = [tuple(r[i] for i in keep) for r in rows]
        out[table] = sorted(map(repr, rows))
    con.close()
    return out


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    from sgi.sampleweb.runner import serve_sample_web

    tmp = tmp_path_factory.mktemp("resume")
    with serve_sample_web(tmp / "web") as running:
        settings = tmp / "settings.json"
        settings.write_text(json.dumps(running.crawl_settings()))
        yield {"tmp": tmp, "settings": settings}


def test_killed_and_resumed_crawl_equals_an_uninterrupted_one(ctx):
    tmp = ctx["tmp"]
    seed = int(os.environ.get("SGI_RESUME_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    ref_env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc-ref")}
    started = time.monotonic()
    ref = subprocess.run(command(ctx, f"sqlite:///{tmp / 'ref.db'}"), capture_output=True, text=True,
                         timeout=300, env=ref_env)
    duration = time.monotonic() - started
    assert ref.returncode == 0, ref.stderr[-3000:]

    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")}
    killed_db = tmp / "killed.db"
    db_url = f"sqlite:///{killed_db}"
    # Random moments measured in progress, not seconds (a loaded machine crawls at any speed): each kill
    # comes once the journal holds a random number of fetches, plus a random few milliseconds, so it
    # lands anywhere, mid-write included.
    total = _journal_rows(tmp / "ref.db")
    assert total > 10
    targets = sorted(rng.sample(range(1, total), KILLS))
    moments = []
    killed_while_running = 0
    for n, target in enumerate(targets):
        flags = ("--resume",) if n else ()
        log = open(tmp / f"killed-{n}.log", "wb")      # a file, not a pipe nobody drains
        proc = subprocess.Popen(command(ctx, db_url, *flags), stdout=subprocess.DEVNULL, stderr=log,
                                env=env, start_new_session=True)
        deadline = time.monotonic() + 300
        while proc.poll() is None and _journal_rows(killed_db) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        if proc.poll() is None:
            time.sleep(rng.uniform(0, 0.15))
            os.killpg(proc.pid, signal.SIGKILL)     # the crawl and anything it started, nothing else
            proc.wait()
            killed_while_running += 1
            moments.append(_journal_rows(killed_db))
        log.close()
    final = subprocess.run(command(ctx, db_url, "--resume"), capture_output=True, text=True, timeout=300, env=env)
    where = f"seed {seed}, kills at journal rows {moments} (targets {targets}) of {total}; reference {duration:.1f} s"
    assert final.returncode == 0, f"{where}\n{final.stderr[-3000:]}"
    assert killed_while_running >= 1, where

    want, got = table_rows(tmp / "ref.db"), table_rows(tmp / "killed.db")
    assert len(want["snapshot"]) > 50 and len(want["observation"]) > 50, where
    for table in want:
        missing = sorted(set(want[table]) - set(got.get(table, [])))[:5]
        extra = sorted(set(got.get(table, [])) - set(want[table]))[:5]
        assert not missing and not extra, f"{table} ({where}): missing {missing}, extra {extra}"
        assert len(got[table]) == len(want[table]), f"{table} ({where}): duplicates"
    con = sqlite3.connect(tmp / "killed.db")
    assert con.execute("SELECT state FROM crawl_run").fetchone()[0] == "finished"
    # Every journalled fetch has its snapshot, and every archived snapshot is readable.
    assert con.execute("SELECT count(*) FROM fetch_journal j LEFT JOIN snapshot s ON s.id = j.snapshot_id "
                       "WHERE s.id IS NULL").fetchone()[0] == 0
    con.close()


def test_records_before_a_truncated_gzip_member_stay_readable(tmp_path):
    """A crawl killed while writing leaves half a record at the end of its WARC file; the records
    before it are still read back (a resumed run writes a new file and never appends to that one)."""
    from datetime import datetime, timezone

    from storage.warc import WarcArchive, read_record

    archive = WarcArchive(tmp_path, prefix="cut")
    first = archive.write_response("http://a.test/", 200, "OK", [("Content-Type", "text/html")], b"<p>one</p>",
                                   datetime.now(timezone.utc))
    second = archive.write_response("http://a.test/2", 200, "OK", [("Content-Type", "text/html")], b"<p>two</p>" * 50,
                                    datetime.now(timezone.utc))
    archive.close()
    path = tmp_path / first.file
    path.write_bytes(path.read_bytes()[: second.offset + second.length // 2])
    assert read_record(tmp_path, first.file, first.offset).body == b"<p>one</p>"
    later = WarcArchive(tmp_path, prefix="cut")
    third = later.write_response("http://a.test/3", 200, "OK", [], b"three", datetime.now(timezone.utc))
    later.close()
    assert third.file != first.file and read_record(tmp_path, third.file, third.offset).body == b"three"


def test_a_resume_cuts_the_half_record_a_killed_crawl_left(tmp_path):
    """Issue 23 D22: before a run resumes, each of its WARC files ends in a whole record again (gzip -t
    passes), and every record the database cites stays readable."""
    import gzip
    from datetime import datetime, timezone

    from storage import db as dbmod
    from storage.store import CrawlStore, cut_partial_records, start_run
    from storage.warc import read_record

    url = f"sqlite:///{tmp_path / 'c.db'}"
    run_id = start_run(url, "killed")
    store = CrawlStore(url, run_id, archive_dir=tmp_path / "warc")
    refs = [store.record_response(city_code=CITY, spider="portal", requested_url=f"http://a.test/{i}",
                                  final_url=f"http://a.test/{i}", http_status=200, reason="OK",
                                  headers=[("Content-Type", "text/html")], body=f"<p>{i}</p>".encode() * 40,
                                  fetched_at=datetime.now(timezone.utc), elapsed_ms=1.0, fetch_status="ok",
                                  content_type="text/html", encoding="utf-8", rendered=False) for i in range(3)]
    store.close()
    con = sqlite3.connect(tmp_path / "c.db")
    cited = con.execute("SELECT warc_file, warc_offset, warc_length FROM snapshot WHERE run_id = ? "
                        "ORDER BY warc_offset", (run_id,)).fetchall()
    con.close()
    assert len(cited) == len(refs)
    (path,) = (tmp_path / "warc").glob(f"sgi-run{run_id}-*.warc.gz")
    whole = path.read_bytes()
    # a fourth record, written after the last commit, and half a fifth: the process died mid-write
    _, offset, length = cited[-1]
    fourth = whole[offset:offset + length]
    path.write_bytes(whole + fourth + fourth[:length // 2])
    with pytest.raises(EOFError):
        gzip.decompress(path.read_bytes())

    assert cut_partial_records(url, run_id, tmp_path / "warc") == length // 2
    assert path.read_bytes() == whole + fourth      # whole records stay, cited or not
    gzip.decompress(path.read_bytes())
    for file, offset, length in cited:
        assert read_record(tmp_path / "warc", file, offset, length).status == 200
    dbmod.dispose_all()
