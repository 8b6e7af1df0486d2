"""`sgi nightly`: crawl every city with every spider, score, report, check health.

Everything in the run report is computed from the database after the crawl (crawl_run, snapshot,
observation, the harvest tables, score), never from the crawler's in-memory counters, so
`sgi nightly report --run-key K` reports a run crawled anywhere (another machine, scrapyd nodes) alike.

Numbers of a report:
* pages per city and spider: snapshot rows of the run, by fetch status (ok / blocked / error / not_found /
  robots_denied / not_modified / reused); unchanged = not_modified + reused (pages whose body came from the
  archive); pages/min over the pages actually fetched (reused ones were not requested).
* items per harvest table and city: how many rows the run read ("seen") and how many it saw first ("new").
  History of harvest rows is kept as first/last-seen run ids, so the count of an earlier run is the rows
  whose [first seen, last seen] interval contains it: exact for the latest run, and for an earlier run it
  can only over-count items that were missing in that run and came back (which never raises an alarm).
* indicators that changed against the previous run: same city, indicator and period (a crawl-date period
  is compared with the previous crawl date), different value or status.
* coverage per indicator: share of cities with status ok/absent, compared over the cities both runs observed.
* politeness and blocking per host: what the politeness middleware stored on the run
  (crawl_run.settings['politeness'][spider], spiders/politeness.py): Crawl-delay applied and capped,
  backoff events, blocked responses, browser retries.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Optional

import pandas as pd
from sqlalchemy import inspect, text

from sgi.errors import Interrupted, SgiError
from storage import db

log = logging.getLogger("sgi.nightly")

RUN_KEY_PREFIX = "nightly-"
STATUS_CLASSES = ("ok", "blocked", "error", "not_found", "robots_denied", "not_modified", "reused")
UNCHANGED = ("not_modified", "reused")
COVERED = ("ok", "absent")
# harvest table -> spider that fills it
HARVEST_SPIDERS = {"message": "mailbox", "dataset": "opendata", "policy_document": "policy", "app_snapshot": "apps"}
# indicator registry `source` -> spider that emits it (dns readings are taken by the portal spider)
SOURCE_SPIDERS = {"portal": "portal", "dns": "portal", "opendata": "opendata", "mailbox": "mailbox",
                  "policy": "policy", "app": "apps"}
EXIT_OK, EXIT_UNHEALTHY = 0, 3


# --- run keys and runs ------------------------------------------------------------------------------

def next_run_key(db_url: str, day: date, prefix: str = RUN_KEY_PREFIX) -> str:
    """nightly-YYYY-MM-DD, or -2, -3 … when that day already has a run (a second run never overwrites)."""
    base = f"{prefix}{day.isoformat()}"
    with db.ensure_schema(db_url).connect() as conn:
        taken = {r[0] for r in conn.execute(text("SELECT run_key FROM crawl_run WHERE run_key LIKE :p"),
                                            {"p": base + "%"})}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _run_row(conn, run_key: str) -> dict:
    row = conn.execute(text("SELECT * FROM crawl_run WHERE run_key = :k"), {"k": run_key}).mappings().first()
    if not row:
        raise SgiError(f"no crawl run with key {run_key!r}", "list runs with: sqlite3 sgi.db 'select run_key from crawl_run'")
    return _normalise_run(dict(row))


def _normalise_run(row: dict) -> dict:
    for key in ("spiders", "cities", "responses_by_status", "settings"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key] or "null")
    row["spiders"] = row.get("spiders") or []
    row["cities"] = row.get("cities") or []
    return row


def previous_run(conn, run: dict, explicit_key: str | None = None) -> dict | None:
    """The run to compare with: the latest earlier finished run of the same family (nightly-…), else the
    latest earlier finished run that stored observations."""
    if explicit_key:
        return _run_row(conn, explicit_key)
    rows = conn.execute(text(
        "SELECT r.* FROM crawl_run r WHERE r.id < :id AND r.state = 'finished' "
        "AND EXISTS (SELECT 1 FROM observation o WHERE o.run_id = r.id) ORDER BY r.id DESC"),
        {"id": run["id"]}).mappings().all()
    rows = [_normalise_run(dict(r)) for r in rows]
    prefix = RUN_KEY_PREFIX if run["run_key"].startswith(RUN_KEY_PREFIX) else None
    same_family = [r for r in rows if prefix and r["run_key"].startswith(prefix)]
    return (same_family or rows or [None])[0]


# --- frames from the database -----------------------------------------------------------------------

def _frame(conn, sql: str, params: dict) -> pd.DataFrame:
    return pd.read_sql(text(sql), conn, params=params)


def snapshot_frame(conn, run_id: int) -> pd.DataFrame:
    df = _frame(conn, "SELECT city_code, spider, fetch_status, http_status, fetched_at, requested_url FROM snapshot "
                      "WHERE run_id = :r", {"r": run_id})
    df["city_code"] = df["city_code"].fillna("")
    df["fetched_at"] = pd.to_datetime(df["fetched_at"], utc=True, errors="coerce", format="mixed")
    return df


def observation_frame(conn, run: dict) -> pd.DataFrame:
    """A run's observations with the spider that made each (the cited snapshot's, else by the indicator's
    registry source) and a period comparable across runs (the crawl date replaced by a marker)."""
    from sgi.indicators import registry

    df = _frame(conn, "SELECT o.city_code, o.indicator, o.period, o.value_num, o.value_text, o.status, "
                      "s.spider FROM observation o LEFT JOIN snapshot s ON s.id = o.snapshot_id "
                      "WHERE o.run_id = :r", {"r": run["id"]})
    reg = registry()
    by_source = {code: SOURCE_SPIDERS.get(ind.source, ind.source) for code, ind in reg.items()}
    df["spider"] = [s if isinstance(s, str) and s else by_source.get(i, "") for s, i in zip(df["spider"], df["indicator"])]
    df["period_key"] = [comparable_period(p, run.get("as_of") or "") for p in df["period"]]
    return df


def comparable_period(period: str, as_of: str) -> str:
    """Crawl-date periods change every night; compare them as 'the crawl date' (and R365 windows alike)."""
    if as_of and period == as_of:
        return "@crawl_date"
    if as_of and period == f"R365:{as_of}":
        return "R365:@crawl_date"
    return period


def _columns(conn, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def item_counts(conn, run: dict, tables=tuple(HARVEST_SPIDERS)) -> pd.DataFrame:
    """Rows per harvest table and city that the run read (seen) and saw first (new)."""
    existing = set(inspect(conn).get_table_names())
    frames = []
    for table in tables:
        if table not in existing:
            continue
        seen = _frame(conn, SEEN_SQL[table], {"r": run["id"], "d": run.get("as_of") or ""})
        seen = seen.rename(columns={"n": "seen"})
        new = new_items(conn, table, run)
        merged = seen.merge(new, on="city_code", how="outer").fillna(0)
        merged["table"] = table
        frames.append(merged)
    if not frames:
        return pd.DataFrame(columns=["table", "city_code", "seen", "new"])
    out = pd.concat(frames, ignore_index=True)
    out[["seen", "new"]] = out[["seen", "new"]].astype(int)
    return out[["table", "city_code", "seen", "new"]]


SEEN_SQL = {
    "message": "SELECT city_code, COUNT(*) AS n FROM message WHERE COALESCE(first_run_id, run_id) <= :r "
               "AND run_id >= :r GROUP BY city_code",
    "dataset": "SELECT city_code, COUNT(*) AS n FROM dataset WHERE COALESCE(first_seen_run_id, last_seen_run_id) <= :r "
               "AND last_seen_run_id >= :r AND (removed_run_id IS NULL OR removed_run_id > :r) GROUP BY city_code",
    # policy_document keeps only the last run that read a document: for the latest run run_id = :r is exact;
    # for an earlier run the documents read then or later (an upper bound, which never raises an alarm).
    "policy_document": "SELECT city_code, COUNT(*) AS n FROM policy_document WHERE run_id >= :r GROUP BY city_code",
    # one row per app and crawl date; a same-day rerun overwrites the row (run_id is the last writer)
    "app_snapshot": "SELECT city_code, COUNT(*) AS n FROM app_snapshot WHERE crawl_date = :d AND status = 'ok' "
                    "AND run_id >= :r GROUP BY city_code",
}


def new_items(conn, table: str, run: dict) -> pd.DataFrame:
    r = run["id"]
    if table == "message":
        sql = "SELECT city_code, COUNT(*) AS new FROM message WHERE first_run_id = :r GROUP BY city_code"
    elif table == "dataset":
        sql = "SELECT city_code, COUNT(*) AS new FROM dataset WHERE first_seen_run_id = :r GROUP BY city_code"
    elif table == "app_snapshot":
        # First reading of an app: no row of an earlier crawl date (a same-day rerun cannot tell).
        sql = ("SELECT a.city_code, COUNT(*) AS new FROM app_snapshot a WHERE a.run_id = :r AND a.status = 'ok' "
               "AND a.crawl_date = :d AND NOT EXISTS (SELECT 1 FROM app_snapshot b WHERE b.store = a.store "
               "AND b.app_id = a.app_id AND b.crawl_date < a.crawl_date) GROUP BY a.city_code")
    elif table == "policy_document":
        return _new_policy_documents(conn, run)
    else:
        raise ValueError(table)
    return _frame(conn, sql, {"r": r, "d": run.get("as_of") or ""})


def _new_policy_documents(conn, run: dict) -> pd.DataFrame:
    """policy_document keeps no first-seen run: a document is new in the run that first fetched one of its
    URLs with the policy spider (URLs compared as page identities: sample-web ports vary). Exact for any
    run, also when reported again after later runs read the document."""
    from storage.store import page_identity

    docs = _frame(conn, "SELECT city_code, urls, url FROM policy_document WHERE run_id >= :r", {"r": run["id"]})
    if docs.empty:
        return pd.DataFrame(columns=["city_code", "new"])
    fetched = _frame(conn, "SELECT run_id, requested_url, final_url FROM snapshot WHERE spider = 'policy' "
                           "AND run_id <= :r AND fetch_status IN ('ok', 'not_modified', 'reused')", {"r": run["id"]})
    first_run: dict[str, int] = {}
    for rid, requested, final in zip(fetched["run_id"], fetched["requested_url"], fetched["final_url"]):
        for u in (requested, final):
            if isinstance(u, str):
                key = page_identity(u)
                first_run[key] = min(first_run.get(key, rid), rid)
    counts: dict[str, int] = {}
    for city, urls, url in zip(docs["city_code"], docs["urls"], docs["url"]):
        urls = json.loads(urls) if isinstance(urls, str) else (urls or [])
        runs = [first_run[k] for k in {page_identity(u) for u in [*urls, url] if u} if k in first_run]
        if runs and min(runs) == run["id"]:
            counts[city] = counts.get(city, 0) + 1
    return pd.DataFrame({"city_code": list(counts), "new": list(counts.values())}, columns=["city_code", "new"])


# --- the report -------------------------------------------------------------------------------------

# kind in crawl_run.settings['politeness'][spider] (spiders/politeness.py politeness_summary) -> report column
POLITENESS_COLUMNS = {"crawl_delay": "crawl_delay_s", "crawl_delay_capped": "crawl_delay_asked_s",
                      "backoff": "backoffs", "backoff_max_s": "backoff_max_s",
                      "retry_after_capped": "retry_after_asked_s", "blocked": "blocked",
                      "browser_retry": "browser_retries", "browser_retry_refused": "browser_retries_refused"}
POLITENESS_COUNTS = ("backoffs", "blocked", "browser_retries", "browser_retries_refused")


def politeness_rows(run_settings: dict | None) -> list[dict]:
    """One row per (host, spider) from what the politeness middleware stored on the run: the Crawl-delay
    applied and, when it was capped, what the host asked for; backoff events and the longest pause;
    capped Retry-After; blocked responses and browser retries. Hosts that blocked come first."""
    by_spider = (run_settings or {}).get("politeness") or {}
    rows: dict[tuple[str, str], dict] = {}
    for spider, summary in by_spider.items() if isinstance(by_spider, dict) else ():
        for kind, per_host in (summary or {}).items() if isinstance(summary, dict) else ():
            column = POLITENESS_COLUMNS.get(kind)
            if column is None or not isinstance(per_host, dict):
                continue   # a kind added later: in crawl_run.settings, not in this table
            for host, value in per_host.items():
                row = rows.setdefault((str(host), str(spider)), {
                    "host": str(host), "spider": str(spider),
                    **{c: (0 if c in POLITENESS_COUNTS else None) for c in POLITENESS_COLUMNS.values()}})
                row[column] = value
    for row in rows.values():
        row["crawl_delay_capped"] = row["crawl_delay_asked_s"] is not None
    return sorted(rows.values(), key=lambda r: (-(r["blocked"] or 0), -(r["backoffs"] or 0), r["host"], r["spider"]))


def _rate(df: pd.DataFrame) -> Optional[float]:
    """Pages per minute over the span of the fetches (reused pages were not requested)."""
    fetched = df[(df["fetch_status"] != "reused") & df["fetched_at"].notna()]
    if len(fetched) < 2:
        return None
    span = (fetched["fetched_at"].max() - fetched["fetched_at"].min()).total_seconds()
    return round(len(fetched) / (span / 60), 1) if span > 0 else None


def _status_counts(df: pd.DataFrame) -> dict:
    counts = df["fetch_status"].value_counts().to_dict()
    out = {s: int(counts.pop(s, 0)) for s in STATUS_CLASSES}
    out.update({str(k): int(v) for k, v in counts.items()})   # statuses added later still show up
    return out


def _page_row(df: pd.DataFrame) -> dict:
    status = _status_counts(df)
    # Requests that got an HTTP answer: a reused page was not requested, robots.txt says nothing about the site.
    requested = (df["fetch_status"] != "reused") & ~df["requested_url"].fillna("").str.endswith("/robots.txt")
    responses = int((df["http_status"].notna() & requested).sum())
    return {"pages": int(len(df)), "status": status, "blocked": status["blocked"],
            "unchanged": sum(status[s] for s in UNCHANGED), "requested": int(requested.sum()), "responses": responses,
            "pages_per_min": _rate(df)}


def _value(num, txt):
    if isinstance(txt, str):
        return txt
    if num is None or (isinstance(num, float) and math.isnan(num)):
        return None
    return int(num) if float(num).is_integer() else float(num)


def changed_indicators(now: pd.DataFrame, before: pd.DataFrame) -> list[dict]:
    keys = ["city_code", "indicator", "period_key"]
    merged = now.merge(before, on=keys, suffixes=("", "_prev"))
    out = []
    for r in merged.itertuples(index=False):
        v_now, v_prev = _value(r.value_num, r.value_text), _value(r.value_num_prev, r.value_text_prev)
        same_value = (v_now == v_prev or (isinstance(v_now, float) and isinstance(v_prev, (int, float))
                                          and math.isclose(v_now, v_prev, rel_tol=1e-9, abs_tol=1e-12)))
        if r.status != r.status_prev or not same_value:
            out.append({"city_code": r.city_code, "indicator": r.indicator, "period": r.period,
                        "spider": r.spider, "previous": {"value": v_prev, "status": r.status_prev},
                        "now": {"value": v_now, "status": r.status}})
    return sorted(out, key=lambda c: (c["city_code"], c["indicator"], c["period"]))


def coverage_rows(now: pd.DataFrame, before: pd.DataFrame | None) -> list[dict]:
    def covered(df):  # (city, indicator) -> any reading ok/absent
        return df.assign(c=df["status"].isin(COVERED)).groupby(["indicator", "city_code"])["c"].any()

    cur = covered(now)
    prev = covered(before) if before is not None and not before.empty else None
    rows = []
    for indicator, cities in cur.groupby(level=0):
        cities = cities.droplevel(0)
        row = {"indicator": indicator, "cities": int(len(cities)), "covered": int(cities.sum()),
               "coverage": round(float(cities.mean()), 4), "common_cities": 0,
               "common_coverage": None, "previous_coverage": None}
        if prev is not None and indicator in prev.index.get_level_values(0):
            p = prev.loc[indicator]
            common = cities.index.intersection(p.index)
            if len(common):
                row.update(common_cities=int(len(common)),
                           common_coverage=round(float(cities[common].mean()), 4),
                           previous_coverage=round(float(p[common].mean()), 4))
        rows.append(row)
    return rows


def scoring_info(conn, run_key: str, framework: str, error: str | None = None, ran: bool | None = None) -> dict:
    n = conn.execute(text("SELECT COUNT(DISTINCT city_code) FROM score WHERE run_key = :k AND framework = :f "
                          "AND node = 'total' AND value IS NOT NULL"), {"k": run_key, "f": framework}).scalar()
    return {"ran": bool(n) or bool(ran) or bool(error), "framework": framework, "cities": int(n or 0), "error": error}


def build_report(db_url: str, run_key: str, *, previous_key: str | None = None, framework: str = "sgi-default",
                 scoring_error: str | None = None, scoring_ran: bool | None = None) -> dict:
    """The run report's numbers, from the database alone."""
    engine = db.ensure_schema(db_url)
    with engine.connect() as conn:
        run = _run_row(conn, run_key)
        prev = previous_run(conn, run, previous_key)
        names = dict(conn.execute(text("SELECT code, name FROM city")).all())
        snaps = snapshot_frame(conn, run["id"])
        obs = observation_frame(conn, run)
        prev_obs = observation_frame(conn, prev) if prev else None
        items = item_counts(conn, run)
        prev_items = item_counts(conn, prev) if prev else None
        scoring = scoring_info(conn, run_key, framework, scoring_error, scoring_ran)
        prev_spider_pages = dict(conn.execute(text("SELECT spider, COUNT(*) FROM snapshot WHERE run_id = :r "
                                                   "GROUP BY spider"), {"r": prev["id"]}).all()) if prev else {}

    changed = changed_indicators(obs, prev_obs) if prev_obs is not None else []
    scope = set(run["cities"]) or set(snaps["city_code"]) - {""}
    items = _items_with_previous(items, prev_items, scope, run["spiders"])
    new_by = {}
    for it in items:
        key = (it["city_code"], HARVEST_SPIDERS[it["table"]])
        new_by[key] = new_by.get(key, 0) + it["new"]
    changed_by = {}
    for c in changed:
        changed_by[(c["city_code"], c["spider"])] = changed_by.get((c["city_code"], c["spider"]), 0) + 1

    city_spider = []
    for (city, spider), group in snaps.groupby(["city_code", "spider"], sort=True):
        city_spider.append({"city_code": city, "city_name": names.get(city, ""), "spider": spider,
                            **_page_row(group), "new_items": new_by.get((city, spider), 0),
                            "changed_indicators": changed_by.get((city, spider), 0)})
    cities = [{"city_code": city, "city_name": names.get(city, ""), **_page_row(group),
               "observations": int((obs["city_code"] == city).sum())}
              for city, group in snaps.groupby("city_code", sort=True)]
    spiders = [{"spider": spider, **_page_row(group)} for spider, group in snaps.groupby("spider", sort=True)]

    started, finished = _ts(run.get("started_at")), _ts(run.get("finished_at"))
    minutes = (finished - started).total_seconds() / 60 if started and finished else None
    return {
        "report_version": 1,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run": {"run_key": run["run_key"], "run_id": run["id"], "state": run.get("state"),
                "started_at": _iso(started), "finished_at": _iso(finished), "as_of": run.get("as_of"),
                "spiders": run["spiders"], "cities": sorted(scope),
                "minutes": round(minutes, 2) if minutes is not None else None,
                "pages": int(len(snaps)), "status": _status_counts(snaps),
                "unchanged": int(snaps["fetch_status"].isin(UNCHANGED).sum()),
                "pages_per_min": round(len(snaps) / minutes, 1) if minutes else None,
                "observations": int(len(obs)), "observation_status": obs["status"].value_counts().to_dict(),
                "new_items": int(sum(i["new"] for i in items)),
                "changed_indicators": len(changed)},
        "previous": {"run_key": prev["run_key"], "run_id": prev["id"], "spider_pages": prev_spider_pages} if prev else None,
        "scoring": scoring,
        "cities": cities,
        "spiders": spiders,
        "city_spider": city_spider,
        "items": items,
        "changed_indicators": changed,
        "coverage": coverage_rows(obs, prev_obs),
        "politeness": politeness_rows(run.get("settings")),
    }


def _items_with_previous(items: pd.DataFrame, prev_items: pd.DataFrame | None, scope: set, spiders: list) -> list[dict]:
    """Item counts of the cities this run crawled, with the previous run's count where there is one. A city
    the previous run had items for and this run has none shows up with seen = 0."""
    rows = {}
    for r in items.itertuples(index=False):
        rows[(r.table, r.city_code)] = {"table": r.table, "spider": HARVEST_SPIDERS[r.table], "city_code": r.city_code,
                                        "seen": int(r.seen), "new": int(r.new), "previous_seen": None}
    if prev_items is not None:
        for r in prev_items.itertuples(index=False):
            if r.city_code not in scope or (spiders and HARVEST_SPIDERS[r.table] not in spiders):
                continue
            row = rows.setdefault((r.table, r.city_code), {"table": r.table, "spider": HARVEST_SPIDERS[r.table],
                                                            "city_code": r.city_code, "seen": 0, "new": 0})
            row["previous_seen"] = int(r.seen)
        for row in rows.values():
            if row.get("previous_seen") is None:
                row["previous_seen"] = 0
    return sorted((r for r in rows.values() if r["city_code"] in scope), key=lambda r: (r["table"], r["city_code"]))


def _ts(value) -> Optional[datetime]:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts).to_pydatetime()


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def apply_checks(report: dict, checks) -> int:
    from sgi.health import run_checks

    results = run_checks(report, checks)
    report["checks"] = [r.as_dict() for r in results]
    report["healthy"] = all(r.passed for r in results)
    report["exit_code"] = EXIT_OK if report["healthy"] else EXIT_UNHEALTHY
    return report["exit_code"]


# --- writing ----------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md(value) -> str:
    """Crawled text in a Markdown table cell: HTML-escaped (no raw markup), Markdown syntax neutralised, one line."""
    if value is None:
        return "—"
    s = " ".join(str(value).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return s[:200] + ("…" if len(s) > 200 else "")


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _share(v) -> str:
    return "—" if v is None else f"{v:.0%}"


def _minutes(m) -> str:
    return "—" if m is None else f"{m:.1f} min"


def _seconds(v) -> str:
    return "—" if v is None else f"{md(_fmt(v))} s"


def _failure_text(failure: dict) -> str:
    def show(v):
        return ", ".join(f"{k} {n}" for k, n in v.items()) if isinstance(v, dict) else _fmt(v)
    return "; ".join(f"{k}: {show(v)}" for k, v in failure.items())


def render_markdown(report: dict) -> str:
    run = report["run"]
    lines = [f"# Nightly run {md(run['run_key'])}", ""]
    verdict = ("INTERRUPTED" if report.get("interrupted") else
               "HEALTHY" if report.get("healthy", True) else "UNHEALTHY")
    lines += [f"**{verdict}** (exit code {report.get('exit_code', 0)}) · crawl date {md(run['as_of'])} · "
              f"{md(run['started_at'])} → {md(run['finished_at'])} ({_minutes(run['minutes'])}) · state {md(run['state'])}",
              "",
              f"Previous run: {md(report['previous']['run_key']) if report['previous'] else '— (first run)'}",
              "",
              f"Pages {run['pages']} · unchanged {run['unchanged']} · pages/min {_fmt(run['pages_per_min'])} · "
              f"observations {run['observations']} · new items {run['new_items']} · "
              f"changed indicators {run['changed_indicators']}", ""]
    if report.get("checks"):
        lines += ["## Health checks", "", "| check | result | numbers | configured at |", "|---|---|---|---|"]
        for c in report["checks"]:
            detail = md(c["summary"])
            if c["failures"]:
                detail += "<br>" + "<br>".join(md(_failure_text(f)) for f in c["failures"][:20])
                if len(c["failures"]) > 20:
                    detail += f"<br>… {len(c['failures']) - 20} more in the JSON report"
            lines.append(f"| {md(c['name'])} | {'pass' if c['passed'] else '**FAIL**'} | {detail} | {md(c['origin'])} |")
        lines.append("")
    lines += ["## Pages per city and spider", "",
              "| city | spider | pages | " + " | ".join(STATUS_CLASSES) + " | blocked | unchanged | new items | "
              "changed indicators | pages/min |",
              "|---|---|" + "---:|" * (len(STATUS_CLASSES) + 6)]
    for r in report["city_spider"]:
        lines.append(f"| {md(r['city_code'] or '(no city)')} {md(r['city_name'])} | {md(r['spider'])} | {r['pages']} | "
                     + " | ".join(str(r["status"].get(s, 0)) for s in STATUS_CLASSES)
                     + f" | {r['blocked']} | {r['unchanged']} | {r['new_items']} | {r['changed_indicators']} | "
                       f"{_fmt(r['pages_per_min'])} |")
    lines += ["", "## Items per harvest table and city", "", "| table | city | seen | new | previous run |",
              "|---|---|---:|---:|---:|"]
    for r in report["items"]:
        lines.append(f"| {md(r['table'])} | {md(r['city_code'])} | {r['seen']} | {r['new']} | {_fmt(r['previous_seen'])} |")
    lines += ["", "## Indicators that changed", ""]
    if not report["changed_indicators"]:
        lines.append("none" if report["previous"] else "first run: nothing to compare with")
    else:
        lines += ["| city | indicator | period | before | now |", "|---|---|---|---|---|"]
        for c in report["changed_indicators"]:
            lines.append(f"| {md(c['city_code'])} | {md(c['indicator'])} | {md(c['period'])} | "
                         f"{md(c['previous']['value'])} ({md(c['previous']['status'])}) | "
                         f"{md(c['now']['value'])} ({md(c['now']['status'])}) |")
    lines += ["", "## Coverage per indicator", "", "| indicator | cities | covered | coverage | previous (common cities) |",
              "|---|---:|---:|---:|---:|"]
    for r in report["coverage"]:
        prev = (f"{_share(r['previous_coverage'])} → {_share(r['common_coverage'])} ({r['common_cities']})"
                if r["previous_coverage"] is not None else "—")
        lines.append(f"| {md(r['indicator'])} | {r['cities']} | {r['covered']} | {_share(r['coverage'])} | {prev} |")
    lines += ["", "## Politeness and blocking per host", ""]
    if not report.get("politeness"):
        lines.append("no Crawl-delay, backoff, blocked response or browser retry recorded")
    else:
        lines += ["| host | spider | crawl delay | capped (host asked) | backoffs | longest pause | Retry-After capped "
                  "(asked) | blocked | browser retries | refused |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in report["politeness"]:
            lines.append(f"| {md(r['host'])} | {md(r['spider'])} | {_seconds(r['crawl_delay_s'])} | "
                         f"{_seconds(r['crawl_delay_asked_s'])} | {md(_fmt(r['backoffs']))} | {_seconds(r['backoff_max_s'])} | "
                         f"{_seconds(r['retry_after_asked_s'])} | {md(_fmt(r['blocked']))} | "
                         f"{md(_fmt(r['browser_retries']))} | {md(_fmt(r['browser_retries_refused']))} |")
    return "\n".join(lines) + "\n"


def safe_name(run_key: str) -> str:
    return re.sub(r"[^\w.-]", "_", run_key)


def write_report(report: dict, report_dir: str | Path) -> dict[str, Path]:
    """<run_key>.json and <run_key>.md, plus latest.json / latest.md for dashboards and mail."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    key = safe_name(report["run"]["run_key"])
    data = json.dumps(report, ensure_ascii=False, indent=1, default=str)
    text_md = render_markdown(report)
    paths = {"json": report_dir / f"{key}.json", "markdown": report_dir / f"{key}.md"}
    paths["json"].write_text(data, encoding="utf-8")
    paths["markdown"].write_text(text_md, encoding="utf-8")
    (report_dir / "latest.json").write_text(data, encoding="utf-8")
    (report_dir / "latest.md").write_text(text_md, encoding="utf-8")
    return paths


# --- the nightly job --------------------------------------------------------------------------------

@dataclass
class NightlyResult:
    run_key: str
    report: dict
    paths: dict
    exit_code: int


def attach_log_file(log_dir: str | Path, run_key: str) -> tuple[logging.Handler, Path]:
    """One log file per run (INFO and up, Scrapy's included): rotation is by run, retention by logrotate."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / f"{safe_name(run_key)}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler, path


def run_nightly(*, db_url: str, cities: list[str] | None = None, spiders: list[str] | None = None,
                framework: str = "sgi-default", report_dir: str | Path = "nightly-reports",
                health_file: str | Path | None = None, log_dir: str | Path | None = None,
                extra_settings: dict | None = None, run_key: str | None = None, as_of: date | None = None,
                command: str = "sgi nightly", console=None, quiet: bool = True, packs=None) -> NightlyResult:
    """Crawl, score, report, check. Health config is validated before anything is crawled. ``packs``
    (sgi.packs.PackOptions): also write one WACZ evidence pack per city of the run (write_city_packs)."""
    from sgi.crawl import run_crawl
    from sgi.health import load_checks

    checks = load_checks(health_file)
    key = run_key or next_run_key(db_url, date.today())
    handler = None
    if log_dir:
        handler, log_path = attach_log_file(log_dir, key)
    try:
        log.info("nightly %s: crawl starts (cities %s, spiders %s)", key, cities or "all", spiders or "all")
        try:
            run_crawl(db_url=db_url, spiders=spiders, cities=cities, run_key=key, as_of=as_of,
                      extra_settings=extra_settings, command=command, console=console, quiet=quiet)
        except Interrupted as exc:
            # The failure alert mails latest.md: it describes this night (state failed), not the last good one.
            _report_interrupted(db_url, key, framework, report_dir, checks, exc)
            raise
        log.info("nightly %s: crawl finished; scoring with %s", key, framework)
        scoring_error = None
        try:
            from scoring.run import score_database

            score_database(db_url, framework=framework, run_key=key)
        except Exception as exc:   # the report says scoring failed; the crawl's data stay usable
            log.exception("scoring failed")
            scoring_error = f"{type(exc).__name__}: {exc}"
        report = build_report(db_url, key, framework=framework, scoring_error=scoring_error, scoring_ran=True)
        if handler:
            report["log_file"] = str(log_path)
        exit_code = apply_checks(report, checks)
        paths = write_report(report, report_dir)
        if packs is not None:
            paths["packs"], paths["pack_errors"] = write_city_packs(db_url, key, report_dir, packs)
        for c in report["checks"]:
            (log.info if c["passed"] else log.error)("check %s: %s - %s", c["name"],
                                                     "pass" if c["passed"] else "FAIL", c["summary"])
        log.info("nightly %s: report %s, exit code %d", key, paths["markdown"], exit_code)
        return NightlyResult(key, report, paths, exit_code)
    finally:
        if handler:
            logging.getLogger().removeHandler(handler)
            handler.close()


def write_city_packs(db_url: str, run_key: str, report_dir: str | Path, options) -> tuple[list[Path], list[str]]:
    """One WACZ per city of the run (``<report dir>/packs/<run key>-<city>.wacz``) holding the records its
    observations cite. A city whose pack fails is logged and listed; the other cities still get theirs."""
    from sqlalchemy import text

    from sgi.packs import run_city_evidence, safe_name, write_run_pack
    from storage import db
    from storage.wacz import PackError

    with db.get_engine(db_url).connect() as conn:
        codes = [r[0] for r in conn.execute(text(
            "SELECT DISTINCT o.city_code FROM observation o JOIN crawl_run r ON r.id = o.run_id "
            "WHERE r.run_key = :k ORDER BY o.city_code"), {"k": run_key})]
    written, errors = [], []
    for code in codes:
        out = Path(report_dir) / "packs" / f"{safe_name(run_key)}-{code}.wacz"
        try:
            ids = run_city_evidence(db_url, run_key, code)
            written.append(write_run_pack(db_url, out, ids, run_key=run_key, city_code=code, options=options).path)
            log.info("nightly %s: evidence pack %s", run_key, out)
        except (PackError, OSError) as exc:
            log.error("nightly %s: no evidence pack for %s: %s", run_key, code, exc)
            errors.append(f"{code}: {exc}")
    return written, errors


def _report_interrupted(db_url: str, key: str, framework: str, report_dir, checks, interrupted) -> None:
    try:
        report = build_report(db_url, key, framework=framework,
                              scoring_error="not scored: the crawl was interrupted")
        apply_checks(report, checks)
        report["interrupted"], report["exit_code"] = True, interrupted.exit_code
        paths = write_report(report, report_dir)
        log.error("nightly %s: interrupted; the run is closed as failed; report %s", key, paths["markdown"])
    except Exception:   # the interruption is what the exit code reports
        log.exception("nightly %s: interrupted; no report written", key)


def report_run(*, db_url: str, run_key: str, previous_key: str | None = None, framework: str = "sgi-default",
               report_dir: str | Path = "nightly-reports", health_file: str | Path | None = None,
               packs=None) -> NightlyResult:
    """Report and check a run that is already in the database (crawled here or elsewhere); with
    ``packs`` also write its evidence packs (e.g. after the timestamp authority was down)."""
    from sgi.health import load_checks

    checks = load_checks(health_file)
    report = build_report(db_url, run_key, previous_key=previous_key, framework=framework)
    exit_code = apply_checks(report, checks)
    paths = write_report(report, report_dir)
    if packs is not None:
        paths["packs"], paths["pack_errors"] = write_city_packs(db_url, run_key, report_dir, packs)
    return NightlyResult(run_key, report, paths, exit_code)
