"""`sgi import`: yearbook tables into the observation store, validated, with the file as evidence."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from collectors.imports import load_map, read_table
from sgi.errors import ConfigError
from storage.warc import read_record, sha256_hex

MAP = """city_column: 城市
period_column: 年份
indicators:
  - {column: 常住人口（万人）, indicator: population, scale: 10000}
  - {column: 研发强度, indicator: ruc_enterprise_rd_depth}
"""


def write(tmp_path, table: str, mapping: str = MAP):
    (tmp_path / "t.csv").write_text(table, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    return tmp_path / "t.csv", tmp_path / "m.yaml"


def sgi(*args):
    return subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))


def test_clean_table_is_read_with_units_scaled(tmp_path):
    table, mapping = write(tmp_path, "城市,年份,常住人口（万人）,研发强度\n深圳,2023,1779.01,5.81\n440100,2023年,1882.7,\n")
    result = read_table(table, load_map(mapping))
    assert result.problems == []
    by = {(r["city_code"], r["indicator"]): r["value"] for r in result.records}
    assert by[("440300", "population")] == pytest.approx(17_790_100)
    assert by[("440300", "ruc_enterprise_rd_depth")] == pytest.approx(5.81)
    assert ("440100", "ruc_enterprise_rd_depth") not in by          # an empty cell is missing, not zero


def test_problems_are_all_reported_with_lines(tmp_path):
    table, mapping = write(tmp_path, "城市,年份,常住人口（万人）,研发强度\n深圳,2023,1779,5.8\n不存在市,2023,1,1\n"
                                     "深圳市,2023,1780,5.9\n广州,2023,约1800,3.1\n")
    problems = read_table(table, load_map(mapping)).problems
    text = "\n".join(problems)
    assert "t.csv:3: unknown city '不存在市'" in text
    assert "t.csv:4: duplicate row" in text and "first at line 2" in text
    assert "t.csv:5: 常住人口（万人） is not a number: '约1800'" in text


def test_map_errors_name_file_and_line(tmp_path):
    _, mapping = write(tmp_path, "", "city_column: 城市\nperiod: '2023'\nindicators:\n  - {column: 人口（万人）, indicator: population}\n")
    with pytest.raises(ConfigError, match=r"m.yaml:4: .*万人.*scale"):
        load_map(mapping)
    _, mapping = write(tmp_path, "", "city_column: 城市\nperiod: '2023'\nindicators:\n  - {column: x, indicator: nope}\n")
    with pytest.raises(ConfigError, match=r"m.yaml:4: unknown indicator 'nope'"):
        load_map(mapping)


def test_cli_import_stores_values_population_and_evidence(tmp_path):
    table, mapping = write(tmp_path, "城市,年份,常住人口（万人）,研发强度\n深圳,2023,1779.01,5.81\n杭州,2023,1252.2,3.9\n")
    db = tmp_path / "i.db"
    env_archive = tmp_path / "warc"
    os.environ["SGI_ARCHIVE_DIR"] = str(env_archive)
    try:
        proc = sgi("import", str(table), "--indicator-map", str(mapping), "--db", f"sqlite:///{db}")
    finally:
        del os.environ["SGI_ARCHIVE_DIR"]
    assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT population, population_year FROM city WHERE code='440300'").fetchone() == (17790100, 2023)
    rows = con.execute("SELECT o.indicator, o.value_num, o.status, s.warc_file, s.warc_offset, s.digest "
                       "FROM observation o JOIN snapshot s ON s.id = o.snapshot_id WHERE o.city_code='330100'").fetchall()
    assert {r[0] for r in rows} == {"population", "ruc_enterprise_rd_depth"} and all(r[2] == "ok" for r in rows)
    record = read_record(env_archive, rows[0][3], rows[0][4])
    assert record.body == table.read_bytes() and sha256_hex(record.body) == rows[0][5]


def test_cli_refuses_a_dirty_table_and_stores_nothing(tmp_path):
    table, mapping = write(tmp_path, "城市,年份,常住人口（万人）,研发强度\n深圳,2023,abc,1\n")
    db = tmp_path / "d.db"
    proc = sgi("import", str(table), "--indicator-map", str(mapping), "--db", f"sqlite:///{db}")
    assert proc.returncode == 2 and "not a number" in proc.stderr and "nothing was imported" in proc.stderr
    assert not db.exists() or sqlite3.connect(db).execute("SELECT count(*) FROM observation").fetchone()[0] == 0
