"""WARC retention (`sgi archive prune`): delete archive files no kept evidence needs.

A WARC file is kept when any snapshot row that is still evidence names it:
* every snapshot of the last K runs (and every file of a run that is still running);
* the snapshots cited by the observations exports show (latest run per city, indicator and period: main
  snapshot and every snapshot in evidence_snapshots) and by the observations of the last K runs;
* the snapshots the harvest tables cite for their current rows (messages, datasets, policy documents and
  attachments, the latest reading of each app, the latest board statistics);
* the snapshots url_state names (the bodies the next incremental crawl replays for pages not due);
* the earlier snapshots a kept snapshot was reused from (`reused_from`, followed to the end of the chain;
  a reused row also names the earlier file itself).
Files no snapshot row of this database names are left alone (another database may share the directory, or
a crawl may still be writing them) unless --include-orphans; files younger than --min-age-hours always stay.
Deleted files keep their snapshot rows (history stays; the body is gone).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, text

from storage import db

WARC_SUFFIXES = (".warc.gz", ".warc")


@dataclass
class PrunePlan:
    archive_dir: Path
    keep: dict = field(default_factory=dict)        # file name -> why it is kept
    delete: list = field(default_factory=list)      # file names to delete
    orphans: list = field(default_factory=list)     # files no snapshot names (left unless include_orphans)
    young: list = field(default_factory=list)       # unreferenced but too recent to delete
    missing: list = field(default_factory=list)     # cited by kept evidence but not on disk

    def bytes_to_free(self) -> int:
        return sum((self.archive_dir / f).stat().st_size for f in self.delete if (self.archive_dir / f).exists())


def _ids(value) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [v for v in (value or []) if isinstance(v, str)]


def kept_snapshot_ids(conn, keep_runs: int) -> dict[str, str]:
    """snapshot id -> reason, for every snapshot that is still evidence."""
    tables = set(inspect(conn).get_table_names())
    keep: dict[str, str] = {}

    def add(ids, reason):
        for i in ids:
            if i and i not in keep:
                keep[i] = reason

    recent = [r[0] for r in conn.execute(text("SELECT id FROM crawl_run ORDER BY id DESC LIMIT :k"), {"k": keep_runs})]
    running = [r[0] for r in conn.execute(text("SELECT id FROM crawl_run WHERE state = 'running'"))]
    recent_set = set(recent)
    for run_id in dict.fromkeys(recent + running):
        add((r[0] for r in conn.execute(text("SELECT id FROM snapshot WHERE run_id = :r"), {"r": run_id})),
            f"snapshot of a kept run (run id {run_id})")
    # Observations: the latest run per (city, indicator, period) is what exports and scores show.
    rows = conn.execute(text("SELECT city_code, indicator, period, run_id, snapshot_id, evidence_snapshots "
                             "FROM observation")).all()
    latest: dict[tuple, tuple] = {}
    for city, ind, period, run_id, snap, evidence in rows:
        key = (city, ind, period)
        if key not in latest or run_id > latest[key][0]:
            latest[key] = (run_id, snap, evidence)
        if run_id in recent_set:
            add([snap, *_ids(evidence)], "evidence of an observation of a kept run")
    for run_id, snap, evidence in latest.values():
        add([snap, *_ids(evidence)], "evidence of an exported observation")
    # Harvest rows cite the answer their current values were read from.
    for table, sql in HARVEST_EVIDENCE_SQL.items():
        if table in tables:
            add((r[0] for r in conn.execute(text(sql))), f"evidence of a {table} row")
    # The incremental crawl answers pages that are not due from the record url_state points at.
    if "url_state" in tables:
        add((r[0] for r in conn.execute(text("SELECT last_snapshot_id FROM url_state "
                                             "WHERE last_snapshot_id IS NOT NULL"))),
            "body the incremental crawl reuses for an unchanged page (url_state)")
    if "message_board_stat" in tables:
        stats = conn.execute(text("SELECT city_code, board, period, run_id, evidence_snapshots "
                                  "FROM message_board_stat")).all()
        newest: dict[tuple, tuple] = {}
        for city, board, period, run_id, evidence in stats:
            if (city, board, period) not in newest or run_id > newest[(city, board, period)][0]:
                newest[(city, board, period)] = (run_id, evidence)
        for _, evidence in newest.values():
            add(_ids(evidence), "evidence of a message-board statistic")
    _follow_reuse(conn, keep)
    return keep


HARVEST_EVIDENCE_SQL = {
    "message": "SELECT snapshot_id FROM message WHERE snapshot_id IS NOT NULL",
    "dataset": "SELECT snapshot_id FROM dataset WHERE snapshot_id IS NOT NULL",
    "policy_document": "SELECT snapshot_id FROM policy_document WHERE snapshot_id IS NOT NULL",
    "policy_attachment": "SELECT snapshot_id FROM policy_attachment WHERE snapshot_id IS NOT NULL",
    # the latest reading of each app (earlier crawl dates are history, like earlier runs' observations)
    "app_snapshot": "SELECT a.snapshot_id FROM app_snapshot a WHERE a.snapshot_id IS NOT NULL AND a.crawl_date = "
                    "(SELECT MAX(b.crawl_date) FROM app_snapshot b WHERE b.store = a.store AND b.app_id = a.app_id)",
}


def _follow_reuse(conn, keep: dict[str, str]) -> None:
    """Add the snapshots kept ones were reused from (column added by the incremental crawl; may be absent)."""
    if "reused_from" not in {c["name"] for c in inspect(conn).get_columns("snapshot")}:
        return
    links = dict(conn.execute(text("SELECT id, reused_from FROM snapshot WHERE reused_from IS NOT NULL")).all())
    todo = [i for i in keep if i in links]
    while todo:
        origin = links.get(todo.pop())
        if origin and origin not in keep:
            keep[origin] = "an unchanged page of a kept snapshot was reused from it"
            todo.append(origin)


def plan_prune(db_url: str, *, keep_runs: int = 7, archive_dir: str | Path | None = None,
               min_age_hours: float = 24.0, include_orphans: bool = False, now: float | None = None) -> PrunePlan:
    url = db.database_url(db_url)
    directory = Path(archive_dir) if archive_dir else db.archive_dir(url)
    plan = PrunePlan(directory)
    engine = db.ensure_schema(url)
    with engine.connect() as conn:
        keep_ids = kept_snapshot_ids(conn, keep_runs)
        files_of: dict[str, str] = {}
        for snap_id, warc_file in conn.execute(text("SELECT id, warc_file FROM snapshot WHERE warc_file IS NOT NULL")):
            files_of[snap_id] = warc_file
    named = set(files_of.values())
    for snap_id, reason in keep_ids.items():
        f = files_of.get(snap_id)
        if f and f not in plan.keep:
            plan.keep[f] = reason
    on_disk = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                     if p.is_file() and p.name.endswith(WARC_SUFFIXES)) if directory.exists() else []
    now = now if now is not None else time.time()
    for name in on_disk:
        if name in plan.keep:
            continue
        if name not in named and not include_orphans:
            plan.orphans.append(name)
            continue
        if now - (directory / name).stat().st_mtime < min_age_hours * 3600:
            plan.young.append(name)
            continue
        plan.delete.append(name)
    disk = set(on_disk)
    plan.missing = sorted(f for f in plan.keep if f not in disk)
    return plan


def execute(plan: PrunePlan) -> int:
    """Delete the planned files; returns how many went."""
    n = 0
    for name in plan.delete:
        path = plan.archive_dir / name
        if path.exists():
            os.remove(path)
            n += 1
    return n
