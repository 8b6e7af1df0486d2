"""Raw indicator tables for the index team: long and wide, as CSV, XLSX or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import text

from sgi import indicators as indicator_registry
from sgi.errors import SgiError
from storage import db, overrides

LONG_COLUMNS = ["city_code", "city_name", "indicator", "period", "value", "status", "evidence_url", "fetched_at",
                "machine_value", "machine_status", "override_id", "override_reason", "override_by", "override_at"]
DIMENSION_SHEETS = {"capability": "治理能力", "effect": "治理效果", "institution": "制度体系",
                    "organization": "组织机构", "descriptive": "描述信息"}


def observations_frame(url: str | None = None, run_key: str | None = None, latest_only: bool = True,
                       apply_overrides: bool = True) -> pd.DataFrame:
    """All observations with city names and evidence time.

    latest_only keeps, per (city, indicator, period), the value from the most recent run that has one:
    history stays in the database; exports give the current picture.
    apply_overrides makes value/status the effective ones (an auditor's active override where there is
    one, see storage/overrides.py); machine_value / machine_status keep what the crawler found, and
    override_id / _reason / _by / _at say who corrected it (None where nobody did).
    """
    engine = db.ensure_schema(url)
    sql = """
        SELECT o.city_code, c.name AS city_name, o.indicator, o.period, o.value_num, o.value_text, o.status,
               o.evidence_url, s.fetched_at, o.rule, o.rule_version, o.evidence_detail, r.run_key, o.run_id,
               o.snapshot_id, s.digest, s.warc_file, s.warc_offset
        FROM observation o
        JOIN crawl_run r ON r.id = o.run_id
        LEFT JOIN city c ON c.code = o.city_code
        LEFT JOIN snapshot s ON s.id = o.snapshot_id
    """
    params = {}
    if run_key:
        sql += " WHERE r.run_key = :run_key"
        params["run_key"] = run_key
    with engine.connect() as conn:
        df = pd.read_sql(text(sql), conn, params=params)
    if latest_only and not df.empty:
        df = df.sort_values("run_id").drop_duplicates(["city_code", "indicator", "period"], keep="last")
    df["value"] = [_value(n, t) for n, t in zip(df["value_num"], df["value_text"])]
    df["fetched_at"] = pd.to_datetime(df["fetched_at"], utc=True, errors="coerce").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df = overrides.apply_overrides(df, overrides.active_overrides(url) if apply_overrides else None)
    return df.sort_values(["city_code", "indicator", "period"]).reset_index(drop=True)


_value = overrides.typed_value


def long_table(df: pd.DataFrame) -> pd.DataFrame:
    return df[LONG_COLUMNS].copy()


def wide_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per city and period, one column per indicator (in registry order); missing stays empty."""
    if df.empty:
        return pd.DataFrame(columns=["city_code", "city_name", "period"])
    usable = df[df["status"].isin(["ok", "absent"])]
    wide = usable.pivot_table(index=["city_code", "city_name", "period"], columns="indicator", values="value",
                              aggfunc="first")
    order = [c for c in indicator_registry.registry() if c in wide.columns]
    return wide[order].reset_index()


def export_overrides(path: str | Path, fmt: str | None = None, url: str | None = None) -> int:
    """Every override ever made, removed ones included: the audit trail of who corrected what and why."""
    path = Path(path)
    fmt = _format(path, fmt)
    table = overrides.overrides_frame(url, include_removed=True)[overrides.OVERRIDE_COLUMNS]
    _write(table, path, fmt, sheet="overrides")
    return len(table)


def _format(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "xlsx", "parquet"):
        raise SgiError(f"unknown export format {fmt!r}", "use --format csv, xlsx or parquet")
    return fmt


def _write(table: pd.DataFrame, path: Path, fmt: str, sheet: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        table.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "parquet":
        _parquet_safe(table).to_parquet(path, index=False)
    else:
        table.to_excel(path, sheet_name=sheet, index=False)


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing numbers and text (values) are written as text; Parquet columns have one type."""
    out = table.copy()
    for col in ("value", "machine_value"):
        if col in out:
            out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    if "override_id" in out:
        out["override_id"] = pd.array(out["override_id"].map(lambda v: None if v is None or pd.isna(v) else int(v)),
                                      dtype="Int64")
    return out


def export_indicators(path: str | Path, fmt: str | None = None, wide: bool = False, url: str | None = None,
                      chinese_headers: bool = False, run_key: str | None = None) -> int:
    path = Path(path)
    fmt = _format(path, fmt)
    df = observations_frame(url, run_key=run_key)
    table = wide_table(df) if wide else long_table(df)
    registry = indicator_registry.registry()
    if fmt in ("csv", "parquet"):
        _write(table, path, fmt, sheet="")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for dim, sheet in DIMENSION_SHEETS.items():
                codes = [c for c, ind in registry.items() if ind.dimension == dim]
                if wide:
                    part = table[[c for c in ["city_code", "city_name", "period"] if c in table] +
                                 [c for c in codes if c in table]]
                else:
                    part = table[table["indicator"].isin(codes)]
                if chinese_headers:
                    part = part.rename(columns={**{c: registry[c].name_zh for c in codes}, **ZH_COLUMNS})
                part.to_excel(writer, sheet_name=sheet if chinese_headers else dim, index=False)
    return len(table)


ZH_COLUMNS = {"city_code": "城市代码", "city_name": "城市", "indicator": "指标", "period": "时期", "value": "数值",
              "status": "状态", "evidence_url": "证据网址", "fetched_at": "采集时间", "machine_value": "机器采集值",
              "machine_status": "机器采集状态", "override_id": "人工修正编号", "override_reason": "修正理由",
              "override_by": "修正人", "override_at": "修正时间"}
