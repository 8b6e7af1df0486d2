"""A database the user cannot write (issue 23, D17, D26): on read-only media the read-only commands
(report, export, evidence, override list) still work; a command that writes, a corrupt file or a
directory as --db gets one line and a hint about the file, never "report it" (it is no bug)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MAP = "city_column: 城市\nperiod_column: 年份\nindicators:\n  - {column: 研发强度, indicator: ruc_enterprise_rd_depth}\n"


def sgi(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def _mount(*args) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def read_only_dir(tmp_path):
    """A real read-only filesystem (a tmpfs remounted ro): chmod means nothing to root. Skips where this
    process may not mount."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a read-only tmpfs needs root")
    target = tmp_path / "ro"
    target.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=32m", "tmpfs", str(target)):
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


@pytest.mark.slow
def test_read_only_commands_work_on_a_database_on_read_only_media(tmp_path, read_only_dir):
    (tmp_path / "t.csv").write_text("城市,年份,研发强度\n深圳,2023,5.81\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(MAP, encoding="utf-8")
    made = tmp_path / "made"
    url = f"sqlite:///{made / 'e.db'}"
    assert sgi("import", str(tmp_path / "t.csv"), "--indicator-map", str(tmp_path / "m.yaml"), "--db", url).returncode == 0
    assert sgi("override", "add", "深圳", "site_search", "no", "--reason", "checked by hand", "--by", "t",
               "--db", url).returncode == 0
    con = sqlite3.connect(made / "e.db")
    snapshot_id = con.execute("SELECT id FROM snapshot").fetchone()[0]
    con.close()
    # the database (no -wal left: its last writer checkpointed) and its archive, on media nobody can write
    shutil.copytree(made, read_only_dir, dirs_exist_ok=True)
    assert _mount("-o", "remount,ro", str(read_only_dir))
    ro = f"sqlite:///{read_only_dir / 'e.db'}"
    out = tmp_path / "out"
    out.mkdir()

    listed = sgi("override", "list", "--db", ro)
    assert listed.returncode == 0, listed.stderr
    assert "1 override(s) active" in listed.stdout
    exported = sgi("export", "indicators", "-o", str(out / "e.csv"), "--db", ro)
    assert exported.returncode == 0, exported.stderr
    assert "ruc_enterprise_rd_depth" in (out / "e.csv").read_text(encoding="utf-8")
    evidence = sgi("evidence", str(snapshot_id), "-o", str(out / "body"), "--db", ro)
    assert evidence.returncode == 0, evidence.stderr
    assert (out / "body").read_bytes() == (tmp_path / "t.csv").read_bytes()
    report = sgi("report", "-o", str(out / "r.html"), "--db", ro)
    assert report.returncode == 0, report.stderr
    assert (out / "r.html").stat().st_size > 1000

    written = sgi("override", "add", "深圳", "site_search", "yes", "--reason", "r", "--by", "t", "--db", ro)
    assert written.returncode == 2
    assert "read-only" in written.stderr and "report it" not in written.stderr
    assert sorted(p.name for p in read_only_dir.iterdir()) == sorted(p.name for p in made.iterdir())


@pytest.mark.parametrize("kind", ["random bytes", "SQLite header and garbage", "a directory"])
def test_a_bad_database_file_is_the_users_to_fix_not_a_bug_to_report(tmp_path, kind):
    path = tmp_path / "x.db"
    if kind == "random bytes":
        path.write_bytes(os.urandom(8192))
    elif kind == "SQLite header and garbage":
        path.write_bytes(b"SQLite format 3\x00" + b"garbage!" * 1000)
    else:
        path.mkdir()
    result = sgi("override", "list", "--db", f"sqlite:///{path}")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: database:") and lines[1].startswith("hint:"), result.stderr
    assert "report it" not in result.stderr and "Traceback" not in result.stderr
