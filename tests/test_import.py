"""`sgi import`: yearbook tables into the observation store, validated, with the file as evidence."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from collectors.imports import load_map, read_table
from sgi.errors import ConfigError, SgiError
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


POPULATION_MAP = "city_column: 城市\nperiod_column: 年份\nindicators:\n  - {column: 常住人口（万人）, indicator: population, scale: 10000}\n"


def import_cli(tmp_path, table):
    """`sgi import TABLE` into a fresh database with its own archive: (process, db path, archive dir)."""
    (tmp_path / "m.yaml").write_text(POPULATION_MAP, encoding="utf-8")
    db, archive = tmp_path / "i.db", tmp_path / "warc"
    proc = subprocess.run([sys.executable, "-m", "sgi", "import", str(table), "--indicator-map",
                           str(tmp_path / "m.yaml"), "--db", f"sqlite:///{db}"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, SGI_ARCHIVE_DIR=str(archive)))
    return proc, db, archive


def stored(db, sql):
    return sqlite3.connect(db).execute(sql).fetchall() if db.exists() else []


@pytest.mark.parametrize("encoding, reported", [("gbk", "GB18030"), ("gb18030", "GB18030"), ("utf-8", "UTF-8"),
                                                ("utf-8-sig", "UTF-8 with BOM"), ("utf-16", "UTF-16")])
def test_csv_encoding_is_detected_and_reported(tmp_path, encoding, reported):
    """D16: Excel on Chinese Windows saves CSV as GBK; it used to end in a UnicodeDecodeError."""
    (tmp_path / "t.csv").write_text("城市,年份,常住人口（万人）\n深圳,2024,1798.95\n", encoding=encoding)
    (tmp_path / "m.yaml").write_text(POPULATION_MAP, encoding="utf-8")
    result = read_table(tmp_path / "t.csv", load_map(tmp_path / "m.yaml"))
    assert result.problems == [] and result.encoding == reported
    assert [(r["city_code"], r["value"]) for r in result.records] == [("440300", pytest.approx(17_989_500))]


def test_cli_imports_a_gbk_csv_and_says_so(tmp_path):
    (tmp_path / "g.csv").write_text("城市,年份,常住人口（万人）\n深圳,2024,1798.95\n", encoding="gbk")
    proc, db, _ = import_cli(tmp_path, tmp_path / "g.csv")
    assert proc.returncode == 0, proc.stderr
    assert "read as GB18030" in " ".join(proc.stdout.split())     # rich wraps long lines
    assert stored(db, "SELECT population FROM city WHERE code = '440300'") == [(17_989_500,)]
    assert stored(db, "SELECT encoding FROM snapshot WHERE spider = 'import'") == [("GB18030",)]


def test_undecodable_csv_is_one_problem_line(tmp_path):
    (tmp_path / "b.csv").write_bytes("城市,年份\n".encode() + b"\x81\x30\xff\xfe\n")
    proc, db, archive = import_cli(tmp_path, tmp_path / "b.csv")
    assert proc.returncode == 2
    assert "b.csv: cannot be read as a CSV table: neither UTF-8 nor GB18030/GBK" in proc.stderr
    assert "Traceback" not in proc.stderr and not archive.exists()


def write_xlsx(path, rows, merge=None):
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    if merge:
        book.active.merge_cells(merge)
    book.save(path)      # openpyxl writes formulas without cached values, as scripts do
    return path


def test_xlsx_formulas_without_cached_values_are_refused_per_cell(tmp_path):
    """D8: they used to read as empty cells, so 2 of 3 rows vanished with 'imported 1 values'."""
    table = write_xlsx(tmp_path / "f.xlsx", [["城市", "年份", "常住人口（万人）"], ["深圳", 2024, "=1700+98.95"],
                                             ["杭州", 2024, 1262.4], ["武汉", 2024, "=C3*1"]])
    proc, db, archive = import_cli(tmp_path, table)
    assert proc.returncode == 2, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if "f.xlsx:" in line]
    assert len(lines) == 2
    assert lines[0].endswith("f.xlsx:2: 常住人口（万人） is a formula without a cached value (=1700+98.95); "
                             "open and save the file in Excel or LibreOffice so its values are computed")
    assert "f.xlsx:4: 常住人口（万人） is a formula without a cached value (=C3*1)" in lines[1]
    assert stored(db, "SELECT count(*) FROM observation") in ([], [(0,)]) and not archive.exists()


def test_xlsx_cached_values_are_read(tmp_path):
    table = write_xlsx(tmp_path / "v.xlsx", [["城市", "年份", "常住人口（万人）"], ["深圳", 2024, 1798.95], [],
                                             ["杭州", "2024年", "1,262.4"]])
    (tmp_path / "m.yaml").write_text(POPULATION_MAP, encoding="utf-8")
    result = read_table(table, load_map(tmp_path / "m.yaml"))
    assert result.problems == [] and result.encoding is None
    assert [(r["city_code"], r["row"]) for r in result.records] == [("440300", 2), ("330100", 4)]
    assert result.records[1]["value"] == pytest.approx(12_624_000)


def test_xlsx_with_a_merged_city_cell_says_so(tmp_path):
    """D26: the empty half of a merged cell used to be reported as unknown city 'nan'."""
    table = write_xlsx(tmp_path / "m.xlsx", [["城市", "年份", "常住人口（万人）"], ["深圳", 2023, 1779],
                                             [None, 2024, 1798]], merge="A2:A3")
    (tmp_path / "m.yaml").write_text(POPULATION_MAP, encoding="utf-8")
    assert read_table(table, load_map(tmp_path / "m.yaml")).problems == [f"{table}:3: city cell is empty (merged cells?)"]
    table = write_xlsx(tmp_path / "y.xlsx", [["城市", "年份", "常住人口（万人）"], ["深圳", 2024, 1779],
                                             ["杭州", None, 1262]], merge="B2:B3")
    assert read_table(table, load_map(tmp_path / "m.yaml")).problems == [f"{table}:3: 年份 cell is empty (merged cells?)"]
    (tmp_path / "e.csv").write_text("城市,年份,常住人口（万人）\n,2024,1\n", encoding="utf-8")
    assert read_table(tmp_path / "e.csv", load_map(tmp_path / "m.yaml")).problems == [f"{tmp_path / 'e.csv'}:2: city cell is empty"]


@pytest.mark.parametrize("cell, problem", [
    ("-5", "population (count) must be between 1 and 1,000,000,000, not -50,000"),
    ("0", "population (count) must be between 1 and 1,000,000,000, not 0"),
    ("1e308", "1e308 × scale 10000 is not a finite number"),
    ("1e400", "1e400 × scale 10000 is not a finite number"),
])
def test_values_outside_the_indicators_unit_are_refused_and_nothing_is_written(tmp_path, cell, problem):
    """D9 (negative / zero population stored) and D15 (1e308 × 10000 ended in an OverflowError that left a
    `running` run and a WARC file, which then blocked `sgi crawl --resume`)."""
    (tmp_path / "t.csv").write_text(f"城市,年份,常住人口（万人）\n深圳,2024,{cell}\n杭州,2024,1262.4\n", encoding="utf-8")
    proc, db, archive = import_cli(tmp_path, tmp_path / "t.csv")
    assert proc.returncode == 2, proc.stdout
    assert f"t.csv:2: 常住人口（万人）: {problem}" in proc.stderr
    assert "nothing was imported" in proc.stderr and "Error:" not in proc.stderr
    assert stored(db, "SELECT state FROM crawl_run") == []
    assert stored(db, "SELECT population FROM city WHERE population IS NOT NULL") == []
    assert not archive.exists() or list(archive.iterdir()) == []


def test_a_failed_import_closes_its_run_as_failed_and_leaves_no_archive(tmp_path, monkeypatch):
    """D15: a failure after the run opened (here the disk failing at the final write) must not leave a
    `running` run, a WARC file no snapshot cites, or a run that `sgi crawl --resume` trips over."""
    from storage.frontier import resumable_run
    from storage.store import CrawlStore, import_table

    table, mapping = write(tmp_path, "城市,年份,常住人口（万人）,研发强度\n深圳,2023,1779.01,5.81\n")
    records = read_table(table, load_map(mapping)).records
    url, archive = f"sqlite:///{tmp_path / 'f.db'}", tmp_path / "warc"
    monkeypatch.setenv("SGI_ARCHIVE_DIR", str(archive))

    def disk_full(self):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CrawlStore, "flush", disk_full)
    with pytest.raises(OSError, match="No space left"):
        import_table(url, table, records, mapping)
    monkeypatch.undo()
    con = sqlite3.connect(tmp_path / "f.db")
    assert con.execute("SELECT state, spiders FROM crawl_run").fetchall() == [("failed", '["import"]')]
    assert con.execute("SELECT count(*) FROM observation").fetchone() == (0,)
    assert list(archive.iterdir()) == []
    with pytest.raises(SgiError, match="no unfinished crawl run to resume"):
        resumable_run(url)


def test_import_table_checks_every_value_before_opening_a_run(tmp_path):
    from storage.store import import_table

    table, mapping = write(tmp_path, "城市,年份,常住人口（万人）,研发强度\n深圳,2023,1779.01,5.81\n")
    url = f"sqlite:///{tmp_path / 'c.db'}"
    bad = [{"city_code": "440300", "indicator": "population", "period": "2023", "value": -1.0, "row": 2, "column": "x"}]
    with pytest.raises(SgiError, match="1 value.s. cannot be imported .line 2: population .count. must be"):
        import_table(url, table, bad, mapping)
    assert not (tmp_path / "c.db").exists() or sqlite3.connect(tmp_path / "c.db").execute(
        "SELECT count(*) FROM crawl_run").fetchone() == (0,)
