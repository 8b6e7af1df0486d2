"""Configuration is validated before anything is crawled (issue 23, D13/D26): a bad source file gives one
error line naming file and line, exit 2, no traceback and no crawl_run row, for every command that
crawls (`sgi crawl`, `sgi sources check`, `sgi nightly`, `sgi audit`)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

ENTRY = "sources:\n  - city: {city}\n    kind: portal\n    name: x\n    start_url: \"{url}\"\n"
# Hosts are loopback: with the validation missing, the old code fetched these URLs (port 9: refused).
BAD_SOURCES = {
    "bad YAML": ("sources:\n  - city: 440300\n    kind: portal\n    name: x\n   start_url: [unclosed\n", 5),
    "unknown city": (ENTRY.format(city="999999", url="http://127.0.0.1:9/"), 2),
    "file URL": (ENTRY.format(city="440300", url="file:///etc/passwd"), 5),
    "space in URL": (ENTRY.format(city="440300", url="http://127.0.0.1:9/a b/"), 5),
    "tab in URL": (ENTRY.format(city="440300", url="http://127.0.0.1:9/a\\tb/"), 5),
    "user name in URL": (ENTRY.format(city="440300", url="http://www.sz.gov.cn@127.0.0.1:9/"), 5),
    "empty file": ("", None),
    "sources is a number": ("sources: 5\n", 1),
}


def sgi(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=timeout)


def crawl_runs(db) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM crawl_run").fetchone()[0]
    except sqlite3.OperationalError:     # no schema yet
        return 0
    finally:
        con.close()


def assert_config_error(result: subprocess.CompletedProcess, path, line) -> None:
    where = f"{path}:{line}:" if line else f"{path}:"
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1 and where in errors[0], result.stderr[-2000:]


@pytest.mark.parametrize("case", BAD_SOURCES)
def test_crawl_refuses_a_bad_source_file_before_opening_a_run(tmp_path, case):
    text, line = BAD_SOURCES[case]
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "c.db"
    assert_config_error(sgi("crawl", "--sources", str(path), "--db", f"sqlite:///{db}"), path, line)
    assert crawl_runs(db) == 0


@pytest.mark.parametrize("command", [["sources", "check", "--json"], ["nightly", "--report-dir", "{tmp}/r"],
                                     ["audit", "440300", "-o", "{tmp}/a.html"]])
def test_other_crawling_commands_refuse_it_too(tmp_path, command):
    text, line = BAD_SOURCES["bad YAML"]
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "c.db"
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    result = sgi(*args, "--sources", str(path), "--db", f"sqlite:///{db}")
    assert_config_error(result, path, line)
    assert "[]" not in result.stdout     # sources check printed an empty result and exited 0
    assert crawl_runs(db) == 0
    assert not (tmp_path / "r").exists()
