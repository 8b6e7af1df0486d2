"""Auditor overrides: add, remove, list; and laying them over the machine's observations.

An override is a person's correction of one indicator of one city, stored beside the machine value in
the ``override`` table (storage/override_models.py), never written over an observation. Scoring, reports
and exports read the *effective* value: the active override where there is one, else the machine's.

Removing an override stamps removed_at/removed_by/removed_reason; the row stays as the audit trail.
At most one override per (city, indicator, period) is active: adding another retires the previous one.
Period '' means every period of that city's indicator.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from sqlalchemy import select, text, update

from collectors.base import ABSENT, NOT_APPLICABLE, OK
from sgi import indicators as indicator_registry
from sgi.errors import SgiError
from storage import db
from storage.override_models import Override

OVERRIDE_STATUSES = (OK, ABSENT, NOT_APPLICABLE)   # what an auditor can establish; blocked/error are fetch facts
TRUE_WORDS = ("yes", "true", "1", "y", "是", "有")
FALSE_WORDS = ("no", "false", "0", "n", "否", "无")
OVERRIDE_COLUMNS = ["id", "city_code", "city_name", "indicator", "period", "value", "status", "reason",
                    "created_by", "created_at", "evidence_url", "machine_observation_id", "removed_at",
                    "removed_by", "removed_reason"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- parsing what the auditor typed ----------------------------------------------------------------
def indicator_unit(indicator: str) -> str:
    """The registry unit; framework-declared external indicators (yearbook figures) are numbers."""
    reg = indicator_registry.registry()
    return reg[indicator].unit if indicator in reg else "number"


def parse_value(indicator: str, value: Any) -> tuple[float | None, str | None]:
    """The typed value as the (value_num, value_text) columns, read the way the machine stores values:
    booleans 1/0, numbers as floats, text as text. None / '' is no value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    unit = indicator_unit(indicator)
    if unit == "text":
        return None, str(value).strip()
    if isinstance(value, bool):
        return (1.0 if value else 0.0), None
    word = str(value).strip()
    if unit == "bool":
        if word.lower() in TRUE_WORDS:
            return 1.0, None
        if word.lower() in FALSE_WORDS:
            return 0.0, None
        raise SgiError(f"{indicator} is yes/no; {word!r} is not a yes/no value",
                       f"write one of {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}")
    try:
        number = float(word.replace(",", ""))
    except ValueError:
        raise SgiError(f"{indicator} is a number ({unit}); {word!r} is not a number",
                       "write a number such as 12 or 0.35") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SgiError(f"{indicator}: {word!r} is not a finite number", "write a number such as 12 or 0.35")
    problem = indicator_registry.value_problem(indicator, number)
    if problem:
        raise SgiError(problem, "a share is a fraction: write 0.35 for 35%" if unit == "share"
                       else "`sgi indicators` lists each indicator's unit")
    return number, None


def effective_status(indicator: str, num: float | None, text_value: str | None, status: str | None) -> str:
    """The status the auditor meant: given explicitly, else ok for a value (absent for a 'no' on a
    yes/no indicator, as the machine records it)."""
    if status is None:
        if num is None and text_value is None:
            raise SgiError(f"an override of {indicator} needs a value or --status absent / not_applicable",
                           "give the corrected value, e.g. `sgi override add 深圳 site_search yes ...`")
        return ABSENT if indicator_unit(indicator) == "bool" and num == 0.0 else OK
    if status not in OVERRIDE_STATUSES:
        raise SgiError(f"override status {status!r} is not one of {', '.join(OVERRIDE_STATUSES)}",
                       "blocked and error describe fetches; an auditor establishes ok, absent or not_applicable")
    if status == OK and num is None and text_value is None:
        raise SgiError(f"status ok for {indicator} needs a value", "give the value the auditor found")
    if status == NOT_APPLICABLE and (num is not None or text_value is not None):
        raise SgiError(f"status not_applicable for {indicator} must not carry a value",
                       "leave the value empty ('') with --status not_applicable")
    return status


def _required(what: str, given: str | None, hint: str) -> str:
    if given is None or not str(given).strip():
        raise SgiError(f"an override needs {what}", hint)
    return str(given).strip()


def _check_period(period: str | None) -> str:
    period = (period or "").strip()
    problem = period and indicator_registry.period_problem(period)
    if problem:
        raise SgiError(problem, "leave --period out to correct every period of the indicator")
    return period


def _check_evidence_url(url: str | None) -> str | None:
    """Where the auditor saw it: an http(s) address with a host (reports link it), or nothing."""
    url = (url or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        web = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:      # e.g. an unclosed [IPv6 bracket
        web = False
    if not web:
        raise SgiError(f"evidence URL {url!r} is not an http(s) address",
                       "give the page where the value can be seen, e.g. --evidence-url https://www.sz.gov.cn/...")
    return url


def _city_code(city: str) -> str:
    from sgi.cities import lookup

    return lookup(city).code


# --- writing ---------------------------------------------------------------------------------------
def add_override(url: str | None, city_code: str, indicator: str, value: Any, reason: str, by: str,
                 period: str = "", status: str | None = None, evidence_url: str | None = None) -> int:
    """Record an auditor's correction; returns its id. The previous active override of the same
    (city, indicator, period), if any, is retired (removed_at stamped), never deleted."""
    code = _city_code(city_code)
    indicator = (indicator or "").strip()
    indicator_registry.require_known(indicator)
    reason = _required("a reason", reason, "say why the machine value is wrong: --reason \"...\"")
    by = _required("the auditor's name", by, "name who made the correction: --by NAME")
    period = _check_period(period)
    evidence_url = _check_evidence_url(evidence_url)
    num, text_value = parse_value(indicator, value)
    status = effective_status(indicator, num, text_value, status)
    if status == ABSENT and num is None and text_value is None and indicator_unit(indicator) == "bool":
        num = 0.0                                  # an absent yes/no feature is a real 0, as the machine stores it
    now = utcnow()
    engine = db.ensure_schema(url)
    _ensure_city(url, code)
    with engine.begin() as conn:
        machine_id = _latest_observation_id(conn, code, indicator, period)
        new_id = conn.execute(Override.__table__.insert().values(
            city_code=code, indicator=indicator, period=period, value_num=num, value_text=text_value,
            status=status, reason=reason, created_by=by, created_at=now, evidence_url=evidence_url or None,
            machine_observation_id=machine_id)).inserted_primary_key[0]
        table = Override.__table__
        conn.execute(update(table).where(
            table.c.city_code == code, table.c.indicator == indicator, table.c.period == period,
            table.c.removed_at.is_(None), table.c.id != new_id,
        ).values(removed_at=now, removed_by=by, removed_reason=f"replaced by override #{new_id}"))
    return int(new_id)


def remove_override(url: str | None, target: int | tuple, by: str, reason: str) -> int:
    """Retire an active override, named by id or by (city, indicator[, period]); returns its id.
    The row stays (removed_at/by/reason stamped), so the machine value is effective again."""
    by = _required("the name of who removes it", by, "--by NAME")
    reason = _required("a reason for removing it", reason, "--reason \"...\"")
    engine = db.ensure_schema(url)
    table = Override.__table__
    with engine.begin() as conn:
        if isinstance(target, tuple):
            city, indicator, *rest = target
            code, period = _city_code(city), _check_period(rest[0] if rest else "")
            ids = [r[0] for r in conn.execute(select(table.c.id).where(
                table.c.city_code == code, table.c.indicator == indicator, table.c.period == period,
                table.c.removed_at.is_(None)))]
            if not ids:
                where = f" period {period!r}" if period else ""
                raise SgiError(f"no active override of {indicator} for {code}{where}",
                               "run `sgi override list` to see the active overrides and their ids")
            override_id = ids[0]
        else:
            override_id = int(target)
            row = conn.execute(select(table.c.id, table.c.removed_at).where(table.c.id == override_id)).first()
            if row is None:
                raise SgiError(f"no override #{override_id}", "run `sgi override list --all` to see the ids")
            if row.removed_at is not None:
                raise SgiError(f"override #{override_id} was already removed at {row.removed_at}",
                               "run `sgi override list` to see the active overrides")
        conn.execute(update(table).where(table.c.id == override_id).values(
            removed_at=utcnow(), removed_by=by, removed_reason=reason))
    return int(override_id)


def _ensure_city(url: str | None, code: str) -> None:
    """Overrides may name a city the machine never crawled; reports need its name and region."""
    from sgi.cities import lookup
    from storage.store import sync_cities

    with db.get_engine(url).connect() as conn:
        if conn.execute(text("SELECT 1 FROM city WHERE code = :c"), {"c": code}).first():
            return
    sync_cities(url, [lookup(code)])


def _latest_observation_id(conn, code: str, indicator: str, period: str) -> int | None:
    sql = ("SELECT o.id FROM observation o WHERE o.city_code = :c AND o.indicator = :i"
           + (" AND o.period = :p" if period else "") + " ORDER BY o.run_id DESC, o.period DESC LIMIT 1")
    row = conn.execute(text(sql), {"c": code, "i": indicator, "p": period}).first()
    return row[0] if row else None


# --- reading ---------------------------------------------------------------------------------------
def overrides_frame(url: str | None = None, city_code: str | None = None, include_removed: bool = False) -> pd.DataFrame:
    """Overrides as a table (OVERRIDE_COLUMNS plus value_num / value_text), oldest first."""
    engine = db.ensure_schema(url)
    sql = ("SELECT v.*, c.name AS city_name FROM override v LEFT JOIN city c ON c.code = v.city_code"
           " WHERE 1=1")
    params: dict[str, Any] = {}
    if city_code:
        sql += " AND v.city_code = :c"
        params["c"] = _city_code(city_code)
    if not include_removed:
        sql += " AND v.removed_at IS NULL"
    with engine.connect() as conn:
        df = pd.read_sql(text(sql + " ORDER BY v.id"), conn, params=params)
    df["value"] = [typed_value(n, t) for n, t in zip(df["value_num"], df["value_text"])]
    for col in ("created_at", "removed_at"):
        stamps = pd.to_datetime(df[col], utc=True, errors="coerce")
        df[col] = _objects([None if pd.isna(t) else t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in stamps], df.index)
    df["period"] = df["period"].fillna("")
    for col in ("removed_by", "removed_reason", "evidence_url", "city_name"):
        df[col] = _objects([None if pd.isna(v) else v for v in df[col]], df.index)
    return df[OVERRIDE_COLUMNS + ["value_num", "value_text"]]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _objects(values: list, index) -> pd.Series:
    """A column that keeps None as None (pandas' string dtype would turn it into NaN)."""
    return pd.Series(values, index=index, dtype=object)


def active_overrides(url: str | None = None, city_code: str | None = None) -> pd.DataFrame:
    return overrides_frame(url, city_code)


def typed_value(num, text_value):
    """(value_num, value_text) -> the value as people read it: text, an int when whole, else a float."""
    if text_value is not None and not (isinstance(text_value, float) and pd.isna(text_value)):
        return text_value
    if num is None or pd.isna(num):
        return None
    return int(num) if float(num).is_integer() else float(num)


# --- laying overrides over observations -------------------------------------------------------------
OVERLAY_COLUMNS = ["machine_value", "machine_status", "override_id", "override_reason", "override_by", "override_at"]


def apply_overrides(obs: pd.DataFrame, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """Effective observations: each active override replaces value/status of the observations it names
    (a period-specific override beats a period '' one); one naming a city and indicator the machine has
    no observation for adds a row. The machine's value and status stay in machine_value / machine_status."""
    df = obs.copy()
    # object columns: None stays None (a float column would turn a missing value into NaN)
    df["value"] = _objects([None if _missing(v) else v for v in df["value"]], df.index)
    df["machine_value"] = df["value"].copy()
    df["machine_status"] = df["status"]
    for col in OVERLAY_COLUMNS[2:]:
        df[col] = None
    df["override_id"] = df["override_id"].astype(object)
    if overrides is None or overrides.empty:       # None: the machine's picture, columns alike
        return df
    # '' overrides first so that a period-specific one, applied later, wins on its period.
    ordered = overrides.assign(_specific=overrides["period"] != "").sort_values(["_specific", "id"])
    added = []
    for ov in ordered.to_dict("records"):
        match = (df["city_code"] == ov["city_code"]) & (df["indicator"] == ov["indicator"])
        if ov["period"]:
            match &= df["period"] == ov["period"]
        if not match.any():
            added.append(_override_only_row(df, ov))
            continue
        for col, val in _overlay(ov).items():
            df.loc[match, col] = val
        if ov.get("evidence_url"):
            df.loc[match, "evidence_url"] = ov["evidence_url"]
    if added:
        df = pd.concat([df, pd.DataFrame(added)], ignore_index=True)
    return df


def _overlay(ov: dict) -> dict:
    return {"value": ov["value"], "status": ov["status"], "override_id": int(ov["id"]),
            "override_reason": ov["reason"], "override_by": ov["created_by"], "override_at": ov["created_at"],
            "value_num": ov["value_num"], "value_text": ov["value_text"]}


def _override_only_row(df: pd.DataFrame, ov: dict) -> dict:
    """A row for an override the machine has no observation for: the auditor is the evidence."""
    period = ov["period"] or default_period(ov["indicator"], df.loc[df["city_code"] == ov["city_code"], "period"],
                                           ov["created_at"])
    row = {col: None for col in df.columns}
    row.update(city_code=ov["city_code"], city_name=ov["city_name"], indicator=ov["indicator"], period=period,
               evidence_url=ov["evidence_url"], rule="override",
               evidence_detail=f"override #{ov['id']} by {ov['created_by']}: {ov['reason']}",
               machine_value=None, machine_status=None, **_overlay(ov))
    return row


def default_period(indicator: str, city_periods: pd.Series, created_at: str | None) -> str:
    """The period an all-periods override takes when the machine has nothing for it: the city's latest
    period of the indicator's kind, else the override's date written in that kind."""
    reg = indicator_registry.registry()
    kind = reg[indicator].period if indicator in reg else "year"
    shapes = {"crawl_date": r"^\d{4}-\d{2}-\d{2}$", "year": r"^\d{4}$", "rolling365": r"^R365:\d{4}-\d{2}-\d{2}$"}
    same_kind = sorted(p for p in city_periods.dropna().astype(str) if re.match(shapes[kind], p))
    if same_kind:
        return same_kind[-1]
    day = (created_at or utcnow().strftime("%Y-%m-%d"))[:10]
    return {"crawl_date": day, "year": day[:4], "rolling365": f"R365:{day}"}[kind]
