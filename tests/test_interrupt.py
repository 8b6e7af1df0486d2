"""Interruption (issue 23, D2/D3): a real SIGINT to a real `sgi crawl --sample-web` or `sgi nightly
--sample-web` process. The run did not finish, so it is closed as `failed`, the command exits 130, and
a plain `sgi crawl --resume` (no --run-key) continues it to the end. An interrupted nightly run is
never the "previous run" a later night is compared with.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CITY = "440300"


def sgi(*args) -> list[str]:
    return [sys.executable, "-m", "sgi", *args]


def _journal_rows(db: Path) -> int:
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


def interrupt_midway(cmd: list[str], db: Path, log: Path, sig=signal.SIGINT, after_fetches: int = 15) -> int:
    """Start cmd, send sig once it has journalled some fetches (progress, not seconds), return its exit code."""
    with open(log, "wb") as err:
        # A child of a non-interactive shell may inherit SIGINT ignored; Ctrl-C in a terminal is not.
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 240
        while proc.poll() is None and _journal_rows(db) < after_fetches and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, f"finished before it could be interrupted:\n{log.read_text()[-2000:]}"
        proc.send_signal(sig)
        try:
            return proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()


def runs(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT run_key, state, finished_at IS NOT NULL FROM crawl_run ORDER BY id").fetchall()
    finally:
        con.close()


def test_sigint_to_crawl_exits_130_and_a_plain_resume_finishes_the_run(tmp_path):
    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    rc = interrupt_midway(sgi("crawl", "--sample-web", "--city", CITY, "--db", url, "--run-key", "si"), db,
                          tmp_path / "crawl.log")
    log = (tmp_path / "crawl.log").read_text()
    assert rc == 130, log[-3000:]
    assert runs(db) == [("si", "failed", 1)]
    assert "Traceback" not in log
    assert "continue it with `sgi crawl --resume --sample-web`" in log

    resumed = subprocess.run(sgi("crawl", "--sample-web", "--resume", "--db", url), capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert runs(db) == [("si", "finished", 1)]
    con = sqlite3.connect(db)
    # The resumed run has every spider's readings, not just those taken before the interruption.
    spiders = {r[0] for r in con.execute("SELECT DISTINCT s.spider FROM observation o "
                                         "JOIN snapshot s ON s.id = o.snapshot_id")}
    con.close()
    assert {"portal", "mailbox", "opendata", "policy"} <= spiders


def test_sigint_to_nightly_exits_130_and_the_run_is_failed_not_a_previous_run(tmp_path):
    from sgi.nightly import previous_run
    from storage import db as dbmod

    db = tmp_path / "n.db"
    url = f"sqlite:///{db}"
    rc = interrupt_midway(sgi("nightly", "--sample-web", "--city", CITY, "--db", url, "--run-key", "nightly-1",
                              "--report-dir", str(tmp_path / "reports")), db, tmp_path / "nightly.log")
    log = (tmp_path / "nightly.log").read_text()
    assert rc == 130, log[-3000:]
    assert runs(db) == [("nightly-1", "failed", 1)]
    with dbmod.get_engine(url).connect() as conn:
        assert previous_run(conn, {"id": 10**6, "run_key": "nightly-2"}) is None
    dbmod.dispose_all()
    # The failure alert mails latest.md: it is this night's report, saying the run failed.
    latest = (tmp_path / "reports" / "latest.md").read_text(encoding="utf-8")
    assert "nightly-1" in latest and "**INTERRUPTED** (exit code 130)" in latest and "state failed" in latest


def test_sigterm_to_crawl_exits_143_and_the_run_is_failed(tmp_path):
    db = tmp_path / "t.db"
    rc = interrupt_midway(sgi("crawl", "--sample-web", "--city", CITY, "--spider", "portal", "--db",
                              f"sqlite:///{db}", "--run-key", "st"), db, tmp_path / "crawl.log", sig=signal.SIGTERM,
                          after_fetches=5)
    assert rc == 128 + signal.SIGTERM, (tmp_path / "crawl.log").read_text()[-3000:]
    assert runs(db) == [("st", "failed", 1)]
