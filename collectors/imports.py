"""Non-crawl collector: statistical tables (yearbook figures, population …) mapped onto indicators.

A map file (YAML, maintained by the index team) says which column holds the city, which the year, and
which columns are which indicators, with a scale for units:

    city_column: 城市            # names ('深圳', '深圳市') or GB/T 2260 codes
    period_column: 年份          # or `period: "2023"` for a single-year table
    sheet: 0                     # for .xlsx (index or name)
    indicators:
      - {column: 常住人口（万人）, indicator: population, scale: 10000}

Reading is pure: :func:`read_table` returns the records and every problem found (unknown city names,
empty or merged city cells, duplicate rows, non-numeric cells, xlsx formulas without a cached value,
values outside the indicator's unit, a unit in a header without a scale); nothing is stored unless the
table is clean. A CSV's encoding is detected (a BOM, else strict UTF-8, else GB18030, the superset of the
GBK that Excel on Chinese Windows writes) and reported.
"""

from __future__ import annotations

import codecs
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sgi.errors import ConfigError
from sgi.yamlconf import line_of, load_yaml, require_keys

_UNIT_IN_HEADER = re.compile(r"[（(]\s*(万人|万元|亿元|千人|百万|万户|万辆|%|‰|‱)\s*[)）]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
_EXCEL = (".xlsx", ".xlsm", ".xls")


@dataclass(frozen=True)
class ColumnMap:
    column: str
    indicator: str
    scale: float
    line: int


@dataclass(frozen=True)
class IndicatorMap:
    path: str
    city_column: str
    period_column: str | None
    period: str | None
    sheet: int | str
    columns: tuple[ColumnMap, ...]


@dataclass
class ImportResult:
    records: list[dict] = field(default_factory=list)     # city_code, indicator, period, value, row
    problems: list[str] = field(default_factory=list)
    encoding: str | None = None                           # a CSV's detected encoding (None for xlsx)


def load_map(path: str | Path) -> IndicatorMap:
    from sgi.indicators import external_codes, registry

    path = str(path)
    data = load_yaml(path)
    require_keys(path, data, ["city_column", "indicators"],
                 ["period_column", "period", "sheet"], what="indicator map")
    if not data.get("period_column") and not data.get("period"):
        raise ConfigError(path, line_of(data), "give period_column (a year column) or period (one year)")
    known = set(registry()) | set(external_codes())
    columns = []
    for entry in data["indicators"]:
        require_keys(path, entry, ["column", "indicator"], ["scale", "unit"], what="indicator mapping")
        if entry["indicator"] not in known:
            raise ConfigError(path, line_of(entry, "indicator"), f"unknown indicator {entry['indicator']!r}",
                              "use a code from `sgi indicators` or a framework's external_indicators")
        scale = entry.get("scale", 1)
        if not isinstance(scale, (int, float)) or scale == 0:
            raise ConfigError(path, line_of(entry, "scale"), f"scale must be a non-zero number, got {scale!r}")
        unit = _UNIT_IN_HEADER.search(str(entry["column"]))
        if unit and "scale" not in entry:
            raise ConfigError(path, line_of(entry), f"column {entry['column']!r} is in {unit.group(1)}: "
                              "say how to convert it with scale (e.g. 10000 for 万人 → persons)")
        columns.append(ColumnMap(str(entry["column"]), entry["indicator"], float(scale), line_of(entry) or 0))
    return IndicatorMap(path, str(data["city_column"]), data.get("period_column"),
                        str(data["period"]) if data.get("period") else None, data.get("sheet", 0), tuple(columns))


def _cell_number(value) -> float | None | str:
    """A number, None for an empty cell, or the offending text."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    if text in ("", "-", "—", "…", "NA", "N/A", "/"):
        return None
    return float(text) if _NUMBER.match(text) else str(value)


# (BOM, codec, the name reported); UTF-32 before UTF-16, whose little-endian BOM starts UTF-32's
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"), (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the name of the encoding it was read in: the one its BOM names, else
    UTF-8 if it decodes strictly, else GB18030 (which reads GBK and GB2312). ValueError if none fits."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return data.decode(codec), name
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError:
        raise ValueError(f"neither UTF-8 nor GB18030/GBK (byte 0x{data[utf8_error.start]:02x} at offset "
                         f"{utf8_error.start})") from None


@dataclass
class _Table:
    """A table as rows of {header: cell} with their line in the file, and the cells that are formulas
    without a cached value (line, header) -> formula."""
    columns: list[str]
    rows: list[tuple[int, dict]]
    uncached: dict[tuple[int, str], str] = field(default_factory=dict)
    encoding: str | None = None


def _headers(cells) -> list[str]:
    """Header cells as strings, as pandas names them: blanks 'Unnamed: i', repeats 'x.1'."""
    out: list[str] = []
    for i, cell in enumerate(cells):
        name = f"Unnamed: {i}" if cell is None or str(cell).strip() == "" else str(cell)
        base, n = name, 0
        while name in out:
            n += 1
            name = f"{base}.{n}"
        out.append(name)
    return out


def _read_xlsx(path: Path, sheet: int | str) -> _Table:
    """Cells as Excel last computed them (the cached values). A formula cell whose cached value is missing
    (a workbook written by a script, never opened in Excel) is recorded, not read as empty."""
    import openpyxl

    books = [openpyxl.load_workbook(path, read_only=True, data_only=data_only) for data_only in (True, False)]
    try:
        sheets = []
        for book in books:
            if isinstance(sheet, int):
                if not 0 <= sheet < len(book.worksheets):
                    raise ValueError(f"no sheet {sheet} (it has {len(book.worksheets)}: {', '.join(book.sheetnames)})")
                sheets.append(book.worksheets[sheet])
            else:
                if sheet not in book.sheetnames:
                    raise ValueError(f"no sheet {sheet!r} (it has {', '.join(book.sheetnames)})")
                sheets.append(book[sheet])
        for ws in sheets:
            ws.reset_dimensions()   # files written without a <dimension> would read as one cell
        values = sheets[0].iter_rows(values_only=True)
        formulas = sheets[1].iter_rows(values_only=True)
        header = next(values, None) or ()
        next(formulas, None)
        columns = _headers(header)
        table = _Table(columns, [])
        for line, (cells, written) in enumerate(zip(values, formulas), start=2):
            if all(c is None for c in cells) and all(c is None for c in written):
                continue            # a blank row
            row = {}
            for i, name in enumerate(columns):
                cell = cells[i] if i < len(cells) else None
                source = written[i] if i < len(written) else None
                if cell is None and source is not None:   # a formula Excel never computed
                    table.uncached[(line, name)] = str(getattr(source, "text", source))
                row[name] = cell
            table.rows.append((line, row))
        return table
    finally:
        for book in books:
            book.close()


def _read(path: Path, mapping: IndicatorMap) -> _Table:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, mapping.sheet)
    if suffix == ".xls":
        frame = pd.read_excel(path, sheet_name=mapping.sheet, dtype=object)
        return _Table(list(map(str, frame.columns)),
                      [(i + 2, {str(k): v for k, v in r.items()}) for i, r in enumerate(frame.to_dict("records"))])
    text, encoding = decode_text(path.read_bytes())
    frame = pd.read_csv(io.StringIO(text), dtype=object)
    return _Table(list(map(str, frame.columns)), [(i + 2, r) for i, r in enumerate(frame.to_dict("records"))],
                  encoding=encoding)


def _is_empty(cell) -> bool:
    return cell is None or (isinstance(cell, float) and math.isnan(cell)) or not str(cell).strip()


def read_table(path: str | Path, mapping: IndicatorMap) -> ImportResult:
    from sgi.cities import lookup
    from sgi.errors import SgiError
    from sgi.indicators import period_problem, value_problem

    path = Path(path)
    result = ImportResult()
    try:
        table = _read(path, mapping)
    except (ValueError, OSError, KeyError) as exc:    # undecodable text, a corrupt workbook, a missing sheet
        what = "an Excel workbook" if path.suffix.lower() in _EXCEL else "a CSV table"
        hint = "; save it as CSV UTF-8" if isinstance(exc, ValueError) and "GB18030" in str(exc) else ""
        result.problems.append(f"{path}: cannot be read as {what}: {exc}{hint}")
        return result
    except Exception as exc:   # openpyxl/zipfile errors on a file that is not really xlsx
        if path.suffix.lower() not in _EXCEL:
            raise
        result.problems.append(f"{path}: cannot be read as an Excel workbook: {type(exc).__name__}: {exc}")
        return result
    result.encoding = table.encoding
    needed = [mapping.city_column] + ([mapping.period_column] if mapping.period_column else []) + \
        [c.column for c in mapping.columns]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        result.problems.append(f"{path}: missing column(s) {', '.join(missing)} (has {', '.join(table.columns)})")
        return result
    merged_hint = " (merged cells?)" if path.suffix.lower() in _EXCEL else ""
    seen: dict[tuple, int] = {}
    for line, row in table.rows:
        uncached = [(c, table.uncached[(line, c)]) for c in needed if (line, c) in table.uncached]
        for column, formula in uncached:
            result.problems.append(f"{path}:{line}: {column} is a formula without a cached value ({formula}); "
                                   "open and save the file in Excel or LibreOffice so its values are computed")
        if uncached:
            continue
        if _is_empty(row[mapping.city_column]):
            result.problems.append(f"{path}:{line}: city cell is empty{merged_hint}")
            continue
        raw_city = str(row[mapping.city_column]).strip()
        try:
            city = lookup(raw_city).code
        except SgiError as exc:
            result.problems.append(f"{path}:{line}: unknown city {raw_city!r} ({exc.message})")
            continue
        if not mapping.period and _is_empty(row[mapping.period_column]):
            result.problems.append(f"{path}:{line}: {mapping.period_column} cell is empty{merged_hint}")
            continue
        period = mapping.period or str(row[mapping.period_column]).strip().removesuffix(".0").removesuffix("年")
        if not re.fullmatch(r"\d{4}", period) or period_problem(period):
            result.problems.append(f"{path}:{line}: period {period!r} is not a year")
            continue
        for col in mapping.columns:
            value = _cell_number(row[col.column])
            if isinstance(value, str):
                result.problems.append(f"{path}:{line}: {col.column} is not a number: {value!r}")
                continue
            if value is not None:
                scaled = value * col.scale
                problem = (f"{row[col.column]} × scale {col.scale:g} is not a finite number"
                           if not math.isfinite(scaled) else value_problem(col.indicator, scaled))
                if problem:
                    result.problems.append(f"{path}:{line}: {col.column}: {problem}")
                    continue
            key = (city, col.indicator, period)
            if key in seen:
                result.problems.append(f"{path}:{line}: duplicate row for {raw_city} {period} {col.indicator} "
                                       f"(first at line {seen[key]})")
                continue
            seen[key] = line
            if value is None:
                continue   # an empty cell is missing, never zero
            result.records.append({"city_code": city, "indicator": col.indicator, "period": period,
                                   "value": scaled, "row": line, "column": col.column})
    return result
