"""The per-city audit report: one self-contained HTML file plus the archived evidence beside it.

``collect_audit`` reads what one audit run found for one city (observations with their evidence,
auditors' overrides, crawl counts, the previous audit to compare with); ``write_audit_report`` renders
it with Jinja2 (autoescape on: every crawled string is untrusted and shown as text) and writes, for
every snapshot the report cites, the archived body read back from the WARC and a viewer page that
shows the record's headers, its WARC location and digest, and the body in a sandboxed iframe.
Nothing in the report or the viewers loads anything from the network or runs script: an archived HTML
or XML body is written under a name ending in ``.txt`` (opened from disk it shows as text, never runs),
and the viewer shows the page from a copy inside its sandboxed frame (srcdoc).

Letters are personal data: a message board's page (the mailbox spider's snapshots) is not copied into
the evidence folder. Its viewer shows the record (URL, status, WARC location, digest) and the messages the
database holds from it, scrubbed; the raw page stays in the WARC archive (``sgi evidence ID``).
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import text

from sgi import __version__
from sgi import indicators as indicator_registry
from storage import db
from storage.evidence import (LETTER_SPIDERS, SNAPSHOT_COLUMNS, body_suffix, evidence_from_row, page_title,
                              snapshots_by_id)

TEMPLATES = Path(__file__).parent / "templates"
MISSING = "missing"          # the spider reports this indicator, but the run has no observation of it
SCREENSHOT_SPIDER = "audit"  # snapshot rows of the audit's own captures (the portal screenshot)
INERT_SUFFIX = {".html": ".txt", ".xml": ".txt"}   # a browser would run these; as .txt it shows their text


# --- reading the database ---------------------------------------------------------------------------
def collect_audit(db_url: str, run_key: str, city_code: str, expected: dict[str, str],
                  score: dict | None = None) -> dict:
    """Everything the report shows. ``expected`` maps each indicator the run's spiders report to the
    spider, so an indicator without an observation is listed as missing rather than left out."""
    engine = db.ensure_schema(db_url)
    with engine.connect() as conn:
        run = _one(conn, "SELECT * FROM crawl_run WHERE run_key = :k", k=run_key)
        if run is None:
            raise ValueError(f"no crawl run {run_key}")
        city = _one(conn, "SELECT * FROM city WHERE code = :c", c=city_code) or {"code": city_code, "name": city_code}
        extra = {(r["indicator"], r["period"]): r for r in _all(
            conn, "SELECT indicator, period, evidence_snapshots FROM observation WHERE run_id = :r AND city_code = :c",
            r=run["id"], c=city_code)}
        counts = _all(conn, "SELECT spider, fetch_status, count(*) AS n FROM snapshot WHERE run_id = :r "
                            "AND city_code = :c GROUP BY spider, fetch_status ORDER BY spider, fetch_status",
                      r=run["id"], c=city_code)
        shot = _one(conn, f"SELECT {SNAPSHOT_COLUMNS} FROM snapshot WHERE run_id = :r AND city_code = :c "
                          "AND spider = :s ORDER BY fetched_at DESC LIMIT 1", r=run["id"], c=city_code,
                    s=SCREENSHOT_SPIDER)
        previous = previous_audit_run(conn, city_code, run["id"])
        before = _all(conn, "SELECT indicator, period, value_num, value_text, status FROM observation "
                            "WHERE run_id = :r AND city_code = :c", r=previous["id"], c=city_code) if previous else []
    obs = effective_observations(db_url, run_key, city_code)
    rows = indicator_rows(obs, extra, expected)
    cited = list(dict.fromkeys(s for r in rows for s in r["snapshot_ids"]))
    if shot:
        cited.append(shot["id"])
    snapshots = load_snapshots(db_url, cited)
    letters = letter_messages(db_url, [i for i, r in snapshots.items() if r["spider"] in LETTER_SPIDERS])
    for snap_id, messages in letters.items():
        snapshots[snap_id]["letter_messages"] = messages
    for r in rows:
        main = snapshots.get(r["snapshot_id"]) if r["snapshot_id"] else None
        r["fetch_status"] = main["fetch_status"] if main else None
        r["http_status"] = main["http_status"] if main else None
    now_obs = [{"indicator": r["code"], "period": r["period"], "value": r["machine_value"], "status": r["machine_status"]}
               for r in rows if r["machine_status"] != MISSING]
    return {
        "run": run, "city": city, "rows": rows, "snapshots": snapshots, "screenshot": shot,
        "counts": counts, "score": score, "previous": previous,
        "changes": changes_since(before, now_obs) if previous else [],
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), "version": __version__,
    }


def _one(conn, sql: str, **params) -> dict | None:
    row = conn.execute(text(sql), params).mappings().first()
    return dict(row) if row else None


def _all(conn, sql: str, **params) -> list[dict]:
    return [dict(r) for r in conn.execute(text(sql), params).mappings().all()]


def previous_audit_run(conn, city_code: str, run_id: int) -> dict | None:
    """The latest earlier audit of the city; without one, the latest earlier run that observed it."""
    row = _one(conn, "SELECT id, run_key, started_at, who FROM crawl_run WHERE run_key LIKE :p AND id < :r "
                     "ORDER BY id DESC LIMIT 1", p=f"audit-{city_code}%", r=run_id)
    return row or _one(conn, "SELECT r.id, r.run_key, r.started_at, r.who FROM crawl_run r WHERE r.id < :r AND EXISTS "
                             "(SELECT 1 FROM observation o WHERE o.run_id = r.id AND o.city_code = :c) "
                             "ORDER BY r.id DESC LIMIT 1", r=run_id, c=city_code)


def effective_observations(db_url: str, run_key: str, city_code: str) -> pd.DataFrame:
    """The run's observations of the city with auditors' overrides laid over them (machine_value /
    machine_status keep the crawler's reading). Without the overrides module: the machine values."""
    from storage.exports import observations_frame

    try:
        df = observations_frame(db_url, run_key=run_key, apply_overrides=True)
    except TypeError:   # an exports module without overrides
        df = observations_frame(db_url, run_key=run_key)
    df = df[df["city_code"] == city_code].copy()
    if "machine_value" not in df.columns:
        df["machine_value"], df["machine_status"] = df["value"], df["status"]
        for col in ("override_id", "override_reason", "override_by", "override_at"):
            df[col] = None
    return df


load_snapshots = snapshots_by_id     # the rows the report cites


def letter_messages(db_url: str, ids: list[str], limit: int = 50) -> dict[str, list[dict]]:
    """What the database keeps from each letter page: its messages, scrubbed (collectors.mailbox)."""
    out: dict[str, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    with db.get_engine(db_url).connect() as conn:
        for snap_id in ids:
            out[snap_id] = _all(conn, "SELECT message_id, title, category, status, submitted_date, reply_date, "
                                      "reply_department, reply_length FROM message WHERE snapshot_id = :s "
                                      "ORDER BY submitted_date DESC, message_id LIMIT :n", s=snap_id, n=limit)
    return out


# --- shaping rows ------------------------------------------------------------------------------------
def _clean(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def display_value(indicator: str, value, status: str | None) -> str:
    """A value as an auditor reads it; blocked / error / missing show no value (never 0)."""
    value = _clean(value)
    if status in ("blocked", "error", MISSING, "not_applicable", None) or value is None:
        return "—"
    unit = indicator_registry.registry()[indicator].unit if indicator in indicator_registry.registry() else ""
    if unit == "bool" and isinstance(value, (int, float)):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def indicator_rows(obs: pd.DataFrame, extra: dict, expected: dict[str, str]) -> list[dict]:
    """One row per (indicator, period) observed, one 'missing' row per expected indicator without any;
    in registry order."""
    registry = indicator_registry.registry()
    records = [{k: _clean(v) for k, v in r.items()} for r in obs.to_dict("records")]
    by_code: dict[str, list[dict]] = {}
    for r in records:
        by_code.setdefault(r["indicator"], []).append(r)
    codes = [c for c in registry if c in expected or c in by_code] + sorted(set(by_code) - set(registry))
    rows = []
    for code in codes:
        ind = registry.get(code)
        meta = {"code": code, "name_zh": ind.name_zh if ind else code, "name_en": ind.name_en if ind else "",
                "unit": ind.unit if ind else "", "dimension": ind.dimension if ind else "",
                "spider": expected.get(code, ind.source if ind else ""), "definition": ind.rule if ind else ""}
        found = sorted(by_code.get(code, []), key=lambda r: str(r.get("period") or ""), reverse=True)
        if not found:
            rows.append({**meta, "period": "", "status": MISSING, "value": "—", "machine_status": MISSING,
                         "machine_value": None, "machine_display": "—", "override": None, "rule": "",
                         "rule_version": "", "evidence_url": None, "evidence_detail": None, "fetched_at": None,
                         "digest": None, "snapshot_id": None, "snapshot_ids": [], "run_key": None})
            continue
        for r in found:
            ev = extra.get((code, r.get("period")), {})
            snaps = ev.get("evidence_snapshots") or []
            if isinstance(snaps, str):
                snaps = json.loads(snaps or "[]")
            ids = list(dict.fromkeys([s for s in [r.get("snapshot_id"), *snaps] if s]))
            override = None
            if r.get("override_id") is not None:
                override = {"id": int(r["override_id"]), "reason": r.get("override_reason"),
                            "by": r.get("override_by"), "at": r.get("override_at")}
            machine_status = r.get("machine_status") or MISSING
            rows.append({**meta, "period": r.get("period") or "", "status": r["status"],
                         "value": display_value(code, r.get("value"), r["status"]),
                         "machine_status": machine_status, "machine_value": r.get("machine_value"),
                         "machine_display": display_value(code, r.get("machine_value"), machine_status),
                         "override": override, "rule": r.get("rule") or "", "rule_version": r.get("rule_version") or "",
                         "evidence_url": r.get("evidence_url"), "evidence_detail": r.get("evidence_detail"),
                         "fetched_at": r.get("fetched_at"), "digest": r.get("digest"),
                         "snapshot_id": r.get("snapshot_id"), "snapshot_ids": ids, "run_key": r.get("run_key")})
    return rows


def comparable_period(indicator: str, period: str) -> str:
    """Point-in-time readings are dated by the crawl date, so two audits compare them by kind, not date."""
    ind = indicator_registry.registry().get(indicator)
    if ind is not None and ind.period in ("crawl_date", "rolling365"):
        return f"<{ind.period}>"
    return period or ""


def _typed(num, text_value):
    num, text_value = _clean(num), _clean(text_value)
    if text_value is not None:
        return text_value
    if num is None:
        return None
    return int(num) if float(num).is_integer() else float(num)


def _same_value(a, b) -> bool:
    a, b = _clean(a), _clean(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def changes_since(before: list[dict], now: list[dict]) -> list[dict]:
    """Indicators whose value or status differs between the previous run's rows (value_num/value_text)
    and this run's (value), including ones observed in only one of them."""
    old = {(r["indicator"], comparable_period(r["indicator"], r["period"])):
           (r["period"], _typed(r.get("value_num"), r.get("value_text")), r["status"]) for r in before}
    new = {(r["indicator"], comparable_period(r["indicator"], r["period"])): (r["period"], _clean(r["value"]), r["status"])
           for r in now}
    registry = list(indicator_registry.registry())
    order = {c: n for n, c in enumerate(registry)}
    out = []
    for key in sorted(set(old) | set(new), key=lambda k: (order.get(k[0], len(order)), k[1])):
        o, n = old.get(key), new.get(key)
        if o and n and o[2] == n[2] and _same_value(o[1], n[1]):
            continue
        code = key[0]
        out.append({"indicator": code, "period": (n or o)[0],
                    "old_status": o[2] if o else MISSING, "old_value": display_value(code, o[1], o[2]) if o else "—",
                    "new_status": n[2] if n else MISSING, "new_value": display_value(code, n[1], n[2]) if n else "—"})
    return out


# --- writing -----------------------------------------------------------------------------------------
def environment() -> Environment:
    # Autoescape everywhere: crawled titles, snippets and URLs are untrusted text.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["short"] = lambda s, n=12: (s or "")[:n]
    return env


def evidence_dir_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}_evidence")


def write_audit_report(data: dict, out: str | Path, archive_dir: str | Path) -> Path:
    """Render the report to ``out`` and the cited evidence to ``<out stem>_evidence/``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ev_dir = evidence_dir_for(out)
    ev_dir.mkdir(exist_ok=True)
    env = environment()
    rel = quote(ev_dir.name)
    pages = {}
    for snap_id, row in data["snapshots"].items():
        pages[snap_id] = write_evidence_page(env, row, ev_dir, archive_dir, back=f"../{quote(out.name)}")
    for r in data["rows"]:
        r["evidence_href"] = f"{rel}/{r['snapshot_id']}.html" if r["snapshot_id"] in pages else None
        r["evidence_title"] = pages.get(r["snapshot_id"], {}).get("title")
        r["more_evidence"] = [{"id": s, "href": f"{rel}/{s}.html"} for s in r["snapshot_ids"][1:] if s in pages]
    if data.get("pack"):
        for r in data["rows"]:
            r["pack_ref"] = pack_reference(data["pack"], r["snapshot_id"], data["snapshots"].get(r["snapshot_id"]))
    shot = data.get("screenshot")
    screenshot = None
    if shot:
        page = pages.get(shot["id"], {})
        screenshot = {"row": shot, "href": f"{rel}/{shot['id']}.html", "png_b64": page.get("png_b64"),
                      "url": (shot["final_url"] or "").removeprefix("urn:screenshot:")}
    html = env.get_template("audit.html.j2").render(**data, screenshot_view=screenshot,
                                                    status_counts=status_counts(data["rows"]))
    out.write_text(html, encoding="utf-8")
    return out


def pack_reference(pack: dict, snapshot_id: str | None, row: dict | None) -> dict | None:
    """Where a value's record lies in the evidence pack (href, offset, length, replay key), or why it
    is not there (letters' pages are left out unless the operator included them)."""

    if not snapshot_id:
        return None
    rec = pack["records"].get(snapshot_id)
    if rec is None:
        if row and row.get("spider") in LETTER_SPIDERS and not pack.get("letters_included"):
            return {"withheld": "letters' pages are left out of the pack (personal data; --include-letters)"}
        return {"withheld": "not in the pack (nothing was archived)"} if row else None
    ts = "".join(ch for ch in rec["ts"] if ch.isdigit())[:14]
    return {"href": f"{quote(pack['name'])}#{quote(snapshot_id)}", "offset": rec["offset"], "length": rec["length"],
            "url": rec["url"], "ts": ts, "replay": f"{ts}/{rec['url']}"}


def status_counts(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def write_evidence_page(env: Environment, row: dict, ev_dir: Path, archive_dir: str | Path, back: str) -> dict:
    """The archived body as ``<id>.body.<ext>`` (byte for byte, so its sha256 is the recorded digest;
    ``.html.txt`` / ``.xml.txt`` for markup) and a viewer page ``<id>.html``; a letter page gets the viewer
    only. Returns what the report needs (title, inline PNG for screenshots)."""
    try:
        evidence = evidence_from_row(row, archive_dir)
        problem = None
    except Exception as exc:   # a missing WARC file is reported on the page, not a crash of the report
        evidence, problem = None, f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
    record = evidence.record if evidence else None
    body_name, title, png_b64, kind, shown = None, None, None, None, None
    if record is not None and row.get("spider") in LETTER_SPIDERS:
        # A letter page: no copy of its bytes here; the viewer shows what the database keeps, scrubbed.
        from collectors.mailbox import scrub_pii

        title = scrub_pii(page_title(record.body, evidence.content_type, row.get("encoding")))
        kind = "letter"
    elif record is not None:
        suffix = body_suffix(evidence.content_type)
        body_name = f"{row['id']}.body{suffix}{INERT_SUFFIX.get(suffix, '')}"
        (ev_dir / body_name).write_bytes(record.body)
        title = page_title(record.body, evidence.content_type, row.get("encoding"))
        kind = "image" if suffix in (".png", ".jpg", ".gif") else "frame" if suffix in (
            ".html", ".json", ".xml", ".txt", ".csv", ".js.txt", ".css.txt") else "download"
        if suffix == ".html":   # shown from a copy inside the sandboxed frame, never from a file of its own
            from collectors.page import Page

            shown = Page(row.get("final_url") or "", record.body,
                         {"Content-Type": evidence.content_type or "text/html"}).text
        if suffix == ".png":
            png_b64 = base64.b64encode(record.body).decode("ascii")
    html = env.get_template("evidence.html.j2").render(
        row=row, record=record, body_name=body_name, title=title, kind=kind, problem=problem, back=back,
        shown=shown, messages=row.get("letter_messages") or [],
        digest_ok=evidence.digest_ok if evidence else None,
        computed_digest=_sha(record.body) if record else None)
    (ev_dir / f"{row['id']}.html").write_text(html, encoding="utf-8")
    return {"title": title, "png_b64": png_b64}


def _sha(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()
