"""Shared fixtures: the demo output (built once per session through the real CLI, twice)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def run_demo(out: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "sgi", "demo", "--out", str(out)], capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"sgi demo failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def table_dump(db: Path) -> dict:
    con = sqlite3.connect(db)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("city", "crawl_run", "snapshot", "observation")}
    obs = sorted(con.execute("SELECT city_code, indicator, period, value_num, value_text, status FROM observation"
                             " WHERE indicator NOT IN ('homepage_load_ms')").fetchall(), key=repr)
    con.close()
    return {"counts": counts, "observations": obs}


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    first = run_demo(out)
    dump1 = table_dump(out / "sgi.db")
    run_demo(out)
    dump2 = table_dump(out / "sgi.db")
    return {"out": out, "stdout": first.stdout, "first": dump1, "second": dump2}


