"""Non-crawl collector: statistical tables (yearbook figures, population …) mapped onto indicators.

A map file (YAML, maintained by the index team) says which column holds the city, which the year, and
which columns are which indicators, with a scale for units:

    city_column: 城市            # names ('深圳', '深圳市') or GB/T 2260 codes
    period_column: 年份          # or `period: "2023"` for a single-year table
    sheet: 0                     # for .xlsx (index or name)
    indicators:
      - {column: 常住人口（万人）, indicator: population, scale: 10000}

Reading is pure: :func:`read_table` returns the records and every problem found (unknown city names,
duplicate rows, non-numeric cells, a unit in a header without a scale); nothing is stored unless the
table is clean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sgi.errors import ConfigError
from sgi.yamlconf import line_of, load_yaml, require_keys

_UNIT_IN_HEADER = re.compile(r"[（(]\s*(万人|万元|亿元|千人|百万|万户|万辆|%|‰|‱)\s*[)）]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


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


def read_table(path: str | Path, mapping: IndicatorMap) -> ImportResult:
    from sgi.cities import lookup
    from sgi.errors import SgiError

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xls"):
        frame = pd.read_excel(path, sheet_name=mapping.sheet, dtype=object)
        first_row = 2
    else:
        frame = pd.read_csv(path, dtype=object, encoding="utf-8-sig")
        first_row = 2
    result = ImportResult()
    needed = [mapping.city_column] + ([mapping.period_column] if mapping.period_column else []) + \
        [c.column for c in mapping.columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        result.problems.append(f"{path}: missing column(s) {', '.join(missing)} (has {', '.join(map(str, frame.columns))})")
        return result
    seen: dict[tuple, int] = {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + first_row
        raw_city = str(row[mapping.city_column]).strip()
        try:
            city = lookup(raw_city).code
        except SgiError as exc:
            result.problems.append(f"{path}:{line}: unknown city {raw_city!r} ({exc.message})")
            continue
        period = mapping.period or str(row[mapping.period_column]).strip().removesuffix(".0").removesuffix("年")
        if not re.fullmatch(r"\d{4}", period):
            result.problems.append(f"{path}:{line}: period {period!r} is not a year")
            continue
        for col in mapping.columns:
            value = _cell_number(row[col.column])
            if isinstance(value, str):
                result.problems.append(f"{path}:{line}: {col.column} is not a number: {value!r}")
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
                                   "value": value * col.scale, "row": line, "column": col.column})
    return result
