"""Shared fixtures: the demo output (built once per session through the real CLI, twice)."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import contextmanager
import subprocess
import sys
from pathlib import Path

import pytest

from sgi.demo import DEMO_PORTS


@contextmanager
def _occupied(ports):
    socks = []
    for port in ports:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # the first run's sockets may be in TIME_WAIT
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
            socks.append(sock)
        except OSError:
            sock.close()   # already taken by someone else: just as good
    try:
        yield
    finally:
        for sock in socks:
            sock.close()


def run_demo(out: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "sgi", "demo", "--out", str(out)], capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"sgi demo failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def table_dump(db: Path) -> dict:
    con = sqlite3.connect(db)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    obs = sorted(con.execute("SELECT city_code, indicator, period, value_num, value_text, status FROM observation"
                             " WHERE indicator NOT IN ('homepage_load_ms')").fetchall(), key=repr)
    con.close()
    return {"counts": counts, "observations": obs}


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    first = run_demo(out)
    dump1 = table_dump(out / "sgi.db")
    # The second run finds the demo's preferred ports taken (as on a busy machine), so its URLs differ:
    # idempotence must not depend on the ports.
    with _occupied(DEMO_PORTS):
        run_demo(out)
    dump2 = table_dump(out / "sgi.db")
    return {"out": out, "stdout": first.stdout, "first": dump1, "second": dump2}


