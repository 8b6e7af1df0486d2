"""Writing a crawl's evidence and observations: the one place crawl results enter the database.

A :class:`CrawlStore` belongs to one crawl run. It archives responses to WARC, records a snapshot row
per fetch (or failed fetch), and upserts observations by their natural key, batching writes in
transactions so a crawl does not pay a commit per page.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import re
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import func, select, update

from collectors.base import ABSENT, OK, STATUSES
from sgi import indicators as indicator_registry
from storage import db
from storage.models import City, CrawlRun, Observation, Snapshot
from storage.warc import WarcArchive, WarcReader, cut_partial_tail, sha256_hex

FLUSH_EVERY = 200


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


_TEST_HOST_PORT = re.compile(r"^(https?://[^/:]+\.test):\d+")


@functools.lru_cache(maxsize=1 << 16)    # asked several times per request of the same URLs
def page_identity(url: str) -> str:
    """The URL as a page's identity: the sample web's *.test hosts listen on whatever ports are free,
    so their port is not part of which page it is (real hosts keep theirs)."""
    return _TEST_HOST_PORT.sub(r"\1", url)


@dataclass(frozen=True)
class ArchivedBody:
    """An earlier snapshot whose WARC record holds a body this fetch reuses (a 304, or a page not due)."""

    snapshot_id: str
    warc_file: str
    warc_offset: int
    warc_length: int | None
    digest: str | None
    encoding: str | None = None      # as detected when the body was first read (same bytes, same answer)


@dataclass(frozen=True)
class SnapshotRef:
    """What a parser needs to cite a response as evidence."""

    id: str
    url: str
    fetched_at: datetime
    digest: str | None
    fetch_status: str
    http_status: int | None


def start_run(url: str | None, run_key: str, *, command: str = "", spiders: Iterable[str] = (),
              cities: Iterable[str] = (), as_of: str = "", sample_web: bool = False,
              settings: dict | None = None) -> int:
    """Create the crawl_run row for run_key, or reopen it (a rerun with the same key resumes/upserts)."""
    engine = db.ensure_schema(url)
    with engine.begin() as conn:
        row = conn.execute(select(CrawlRun.id).where(CrawlRun.run_key == run_key)).first()
        values = dict(started_at=utcnow(), finished_at=None, who=who(), command=command,
                      spiders=sorted(set(spiders)), cities=sorted(set(cities)), as_of=as_of,
                      sample_web=sample_web, state="running", settings=settings or {})
        if row:
            conn.execute(update(CrawlRun).where(CrawlRun.id == row[0]).values(**values))
            return row[0]
        result = conn.execute(CrawlRun.__table__.insert().values(run_key=run_key, **values))
        return result.inserted_primary_key[0]


def finish_run(url: str | None, run_id: int, *, state: str, requests: int, responses_by_status: dict,
               items: int, errors: int) -> None:
    with db.get_engine(url).begin() as conn:
        conn.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
            finished_at=utcnow(), state=state, requests=requests, responses_by_status=responses_by_status,
            items=items, errors=errors))


def cut_partial_records(url: str | None, run_id: int, archive_dir: str | Path | None = None,
                        warc_prefix: str = "sgi") -> int:
    """Before a run resumes: each of its WARC files ends in a whole record again (a process killed while
    writing leaves half of one, which readers skip). Only what follows the last record the database
    cites is read. Returns the bytes cut."""
    url = db.database_url(url)
    directory = Path(archive_dir) if archive_dir else db.archive_dir(url)
    with db.ensure_schema(url).connect() as conn:
        ends = dict(conn.execute(
            select(Snapshot.warc_file, func.max(Snapshot.warc_offset + Snapshot.warc_length))
            .where(Snapshot.run_id == run_id, Snapshot.warc_file.is_not(None))
            .group_by(Snapshot.warc_file)).all())
    return sum(cut_partial_tail(path, ends.get(path.name) or 0)
               for path in sorted(directory.glob(f"{warc_prefix}-run{run_id}-*.warc.gz")))


def sync_cities(url: str | None, cities: Iterable[Any]) -> int:
    """Upsert registry cities (objects with the City fields) into the city table."""
    rows = []
    for c in cities:
        rows.append(dict(code=c.code, name=c.name, short_name=c.short_name, province=c.province,
                         province_code=c.province_code, region=c.region, level=c.level,
                         admin_type=c.admin_type, population=getattr(c, "population", None),
                         population_year=getattr(c, "population_year", None)))
    engine = db.ensure_schema(url)
    with engine.begin() as conn:
        # Population comes from imports; a registry sync must not erase it.
        db.upsert(conn, City, rows, ["code"],
                  update=[k for k in rows[0] if k not in ("population", "population_year")] if rows else [])
    return len(rows)


def to_value_columns(value: Any) -> tuple[float | None, str | None]:
    """Split a rule's value into the numeric and text columns (booleans are 1/0)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return (1.0 if value else 0.0), None
    if isinstance(value, (int, float)):
        return float(value), None
    return None, str(value)


EVIDENCE_SCHEMES = ("http://", "https://", "file:", "urn:")   # pages, imported files, screenshots


def evidence_url_problem(url: str | None) -> str | None:
    """Why ``url`` cannot be cited as evidence (javascript:, data: … are not places), or None."""
    if url and not url.strip().lower().startswith(EVIDENCE_SCHEMES):
        return f"evidence URL {url!r} is not an http(s), file: or urn: address"
    return None


class OutOfUnitRange(ValueError):
    """A value its indicator's unit does not admit (a share of 1.5, a negative count): the rule misread
    the page, so the observation is an error, not a value."""


class CrawlStore:
    def __init__(self, url: str | None, run_id: int, archive_dir: str | Path | None = None,
                 warc_prefix: str = "sgi"):
        self.url = db.database_url(url)
        self.engine = db.ensure_schema(self.url)
        self.run_id = run_id
        self.archive_dir = Path(archive_dir) if archive_dir else db.archive_dir(self.url)
        self.archive = WarcArchive(self.archive_dir, prefix=f"{warc_prefix}-run{run_id}")
        self.reader = WarcReader(self.archive_dir)      # earlier records answering pages (incremental, resume)
        self._lock = threading.RLock()
        self._snapshots: list[dict] = []
        self._observations: dict[tuple, dict] = {}
        self._attempts: dict[bytes, int] = {}
        self._taken_ids: set[str] = set()      # snapshot ids this run already holds (a resumed run)
        self._side_rows: dict[tuple, tuple] = {}  # (table, key) -> (model, row, keys): crawl-state rows
        self._held = 0                          # > 0 inside together(): no flush between related rows
        self.counts = {"snapshots": 0, "observations": 0, "rejected": 0}

    def load_taken_ids(self) -> int:
        """A resumed run: the snapshot ids the killed process committed are taken, so fetches made
        now number their attempts around them instead of overwriting them."""
        with self.engine.connect() as conn:
            ids = conn.execute(select(Snapshot.id).where(Snapshot.run_id == self.run_id)).scalars().all()
        with self._lock:
            self._taken_ids.update(ids)
        return len(ids)

    def claim_snapshot_id(self, snap_id: str) -> None:
        """A replayed fetch keeps its journalled snapshot id; later fetches must not take it."""
        with self._lock:
            self._taken_ids.add(snap_id)

    # --- snapshots -----------------------------------------------------------------------------------
    def record_response(self, *, city_code: str | None, spider: str, requested_url: str, final_url: str,
                        http_status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                        fetched_at: datetime, elapsed_ms: float | None, fetch_status: str,
                        content_type: str | None, encoding: str | None, rendered: bool,
                        reused: ArchivedBody | None = None, snapshot_id: str | None = None) -> SnapshotRef:
        """``reused``: the body came from an earlier snapshot's WARC record (fetch_status not_modified or
        reused): nothing is archived again and the row points at that record. ``snapshot_id``: the id a
        resumed run gives a refetch of a journalled failed fetch (the row is replaced, not added)."""
        if reused is not None:
            return self._record_reused(city_code=city_code, spider=spider, requested_url=requested_url,
                                       final_url=final_url, http_status=http_status, headers=headers, body=body,
                                       fetched_at=fetched_at, elapsed_ms=elapsed_ms, fetch_status=fetch_status,
                                       content_type=content_type, encoding=encoding, rendered=rendered,
                                       reused=reused, snapshot_id=snapshot_id)
        digest = sha256_hex(body) if body is not None else None
        location = None
        if fetch_status != "not_modified" and not final_url.startswith(("http://", "https://")):
            location = self.archive.write_resource(final_url, content_type or "application/octet-stream",
                                                   body or b"", fetched_at)
        elif fetch_status != "not_modified":
            location = self.archive.write_response(final_url, http_status, reason, headers, body or b"",
                                                   fetched_at, rendered=rendered)
        lower = {k.lower(): v for k, v in headers}
        snap_id = snapshot_id or self._snapshot_id(spider, requested_url, final_url)
        row = dict(id=snap_id, run_id=self.run_id, city_code=city_code, spider=spider,
                   requested_url=requested_url, final_url=final_url, http_status=http_status,
                   fetch_status=fetch_status, fetched_at=fetched_at, elapsed_ms=elapsed_ms, digest=digest,
                   content_type=content_type, encoding=encoding, size=len(body) if body is not None else None,
                   rendered=rendered, warc_file=location.file if location else None,
                   warc_offset=location.offset if location else None,
                   warc_length=location.length if location else None, error=None,
                   etag=lower.get("etag"), last_modified=lower.get("last-modified"), reused_from=None)
        self._add_snapshot(row)
        return SnapshotRef(snap_id, final_url, fetched_at, digest, fetch_status, http_status)

    def _record_reused(self, *, city_code, spider, requested_url, final_url, http_status, headers, body,
                       fetched_at, elapsed_ms, fetch_status, content_type, encoding, rendered,
                       reused: ArchivedBody, snapshot_id) -> SnapshotRef:
        lower = {k.lower(): v for k, v in headers}
        snap_id = snapshot_id or self._snapshot_id(spider, requested_url, final_url)
        row = dict(id=snap_id, run_id=self.run_id, city_code=city_code, spider=spider,
                   requested_url=requested_url, final_url=final_url, http_status=http_status,
                   fetch_status=fetch_status, fetched_at=fetched_at, elapsed_ms=elapsed_ms, digest=reused.digest,
                   content_type=content_type, encoding=encoding, size=len(body) if body is not None else None,
                   rendered=rendered, warc_file=reused.warc_file, warc_offset=reused.warc_offset,
                   warc_length=reused.warc_length, error=None, etag=lower.get("etag"),
                   last_modified=lower.get("last-modified"), reused_from=reused.snapshot_id)
        self._add_snapshot(row)
        return SnapshotRef(snap_id, final_url, fetched_at, reused.digest, fetch_status, http_status)

    def record_failure(self, *, city_code: str | None, spider: str, url: str, fetched_at: datetime,
                       fetch_status: str, error: str, elapsed_ms: float | None = None,
                       snapshot_id: str | None = None) -> SnapshotRef:
        snap_id = snapshot_id or self._snapshot_id(spider, url, url + "#failed")
        row = dict(id=snap_id, run_id=self.run_id, city_code=city_code, spider=spider, requested_url=url,
                   final_url=url, http_status=None, fetch_status=fetch_status, fetched_at=fetched_at,
                   elapsed_ms=elapsed_ms, digest=None, content_type=None, encoding=None, size=None,
                   rendered=False, warc_file=None, warc_offset=None, warc_length=None, error=error[:2000],
                   etag=None, last_modified=None, reused_from=None)
        self._add_snapshot(row)
        return SnapshotRef(snap_id, url, fetched_at, None, fetch_status, None)

    def _snapshot_id(self, spider: str, requested_url: str, final_url: str) -> str:
        """Natural key: the n-th fetch of a URL by a spider in this run. Rerunning the same run key
        therefore replaces its snapshots instead of adding rows (the WARC keeps every record)."""
        key = (spider, page_identity(requested_url), page_identity(final_url))
        # The counter is kept per URL for the whole crawl: a 12-byte digest, not the URLs, keeps it small.
        counter = hashlib.blake2b("\x1f".join(key).encode(), digest_size=12).digest()
        with self._lock:
            attempt = self._attempts.get(counter, 0)
            while True:   # skip ids a resumed run already holds (replayed fetches claim theirs)
                attempt += 1
                snap_id = hashlib.sha1(f"{self.run_id}|{key[0]}|{key[1]}|{key[2]}|{attempt}".encode()).hexdigest()
                if snap_id not in self._taken_ids:
                    break
            self._attempts[counter] = attempt
            if self._taken_ids:
                self._taken_ids.add(snap_id)
        return snap_id

    def _add_snapshot(self, row: dict) -> None:
        with self._lock:
            self._snapshots.append(row)
            self.counts["snapshots"] += 1
            self._maybe_flush()

    def _maybe_flush(self) -> None:
        if not self._held and len(self._snapshots) + len(self._observations) >= FLUSH_EVERY:
            self.flush()

    @contextmanager
    def together(self):
        """Rows queued inside reach the database in one transaction (a snapshot and its journal row)."""
        with self._lock:
            self._held += 1
            try:
                yield self
            finally:
                self._held -= 1
                self._maybe_flush()

    # --- observations --------------------------------------------------------------------------------
    def record_observation(self, *, city_code: str, indicator: str, period: str, status: str, value: Any = None,
                           rule: str = "", rule_version: str = "", snapshot_id: str | None = None,
                           evidence_url: str | None = None, evidence_detail: str | None = None,
                           evidence_snapshots: Iterable[str] = ()) -> None:
        """Queue one observation; raises ValueError when it breaks the evidence or status rules."""
        indicator_registry.require_known(indicator)  # unknown codes are an error, not a new column
        if status not in STATUSES:
            raise ValueError(f"{indicator}: unknown status {status!r}")
        if status in (OK, ABSENT) and not snapshot_id:
            raise ValueError(f"{indicator} for {city_code}: a value with status {status} needs evidence")
        if status == OK and value is None:
            raise ValueError(f"{indicator} for {city_code}: status ok needs a value")
        if status not in (OK, ABSENT) and value not in (None,):
            raise ValueError(f"{indicator} for {city_code}: status {status} must not carry a value")
        num, text = to_value_columns(value)
        problem = indicator_registry.period_problem(period) or evidence_url_problem(evidence_url)
        if problem:   # a real date, a citable URL: refused here as at import and override
            raise ValueError(f"{indicator} for {city_code}: {problem}")
        if num is not None and (problem := indicator_registry.value_problem(indicator, num)):
            raise OutOfUnitRange(f"{indicator} for {city_code}: {problem}")
        snaps = list(dict.fromkeys([s for s in [snapshot_id, *evidence_snapshots] if s]))
        row = dict(run_id=self.run_id, city_code=city_code, indicator=indicator, period=period,
                   value_num=num, value_text=text, status=status, rule=rule, rule_version=rule_version,
                   snapshot_id=snapshot_id, evidence_url=evidence_url, evidence_snapshots=snaps,
                   evidence_detail=(evidence_detail or None) and evidence_detail[:2000], observed_at=utcnow())
        with self._lock:
            self._observations[(city_code, indicator, period)] = row
            self.counts["observations"] += 1
            self._maybe_flush()

    # --- crawl state ---------------------------------------------------------------------------------
    def queue_row(self, model, row: dict, keys: list[str]) -> None:
        """A crawl-state row (fetch journal, url_state) written in the same transaction as the snapshots
        queued before it: a journalled fetch never lacks its snapshot row. The last row per key wins."""
        with self._lock:
            self._side_rows[(model.__tablename__, *[row[k] for k in keys])] = (model, row, keys)

    # --- writing -------------------------------------------------------------------------------------
    def flush(self) -> None:
        with self._lock:
            snaps, self._snapshots = self._snapshots, []
            obs, self._observations = list(self._observations.values()), {}
            side, self._side_rows = list(self._side_rows.values()), {}
            if not snaps and not obs and not side:
                return
            with self.engine.begin() as conn:
                db.upsert(conn, Snapshot, snaps, ["id"])
                db.upsert(conn, Observation, obs, ["city_code", "indicator", "period", "run_id"])
                by_table: dict[str, tuple] = {}
                for model, row, keys in side:
                    by_table.setdefault(model.__tablename__, (model, keys, []))[2].append(row)
                for model, keys, rows in by_table.values():
                    db.upsert(conn, model, rows, keys)

    def close(self) -> None:
        self.flush()
        self.archive.close()
        self.reader.close()


def import_table(url: str | None, table_path: str | Path, records: list[dict], map_path: str | Path,
                 encoding: str | None = None) -> dict:
    """Store imported figures as observations of an 'import' run, with the file archived as evidence.

    Every record is checked (indicator, period, the unit's range) before the run is opened, so bad values
    leave nothing behind; any later failure closes the run as failed and removes an archive no snapshot
    row cites. ``encoding``: the text encoding the table was read in (the snapshot's encoding)."""
    from sgi.errors import SgiError

    problems = [f"{r.get('row', '?')}: {p}" for r in records if (p := _import_problem(r))]
    if problems:
        raise SgiError(f"{len(problems)} value(s) cannot be imported (line {problems[0]}); nothing was imported",
                       "check the table's values against `sgi indicators` (units) and its map's scale")
    table_path, map_path = Path(table_path).resolve(), Path(map_path).resolve()
    body = table_path.read_bytes()
    digest = sha256_hex(body)
    run_id = start_run(url, f"import-{table_path.name}-{digest[:12]}", command=f"sgi import {table_path}",
                       spiders=["import"], as_of=utcnow().date().isoformat())
    try:
        store = CrawlStore(url, run_id)
    except BaseException:   # e.g. an archive directory that cannot be created
        finish_run(url, run_id, state="failed", requests=0, responses_by_status={}, items=0, errors=1)
        raise
    archives_before = set(store.archive_dir.glob(f"sgi-run{run_id}-*"))
    try:
        population = _store_import(store, table_path, map_path, digest, body, records, encoding)
    except BaseException:
        _fail_import(store, archives_before)
        raise
    finish_run(url, run_id, state="finished", requests=0, responses_by_status={}, items=len(records), errors=0)
    return {"run_id": run_id, "observations": len(records), "digest": digest, "cities_with_population": len(population)}


def _import_problem(record: dict) -> str | None:
    try:
        indicator_registry.require_known(record["indicator"])
    except Exception as exc:   # ConfigError: an unknown code
        return str(getattr(exc, "message", exc))
    value = record["value"]
    return (indicator_registry.period_problem(str(record["period"]))
            or (indicator_registry.value_problem(record["indicator"], value) if value is not None else None))


def _store_import(store: CrawlStore, table_path: Path, map_path: Path, digest: str, body: bytes,
                  records: list[dict], encoding: str | None) -> dict[str, tuple[int, int]]:
    import mimetypes

    ctype = mimetypes.guess_type(table_path.name)[0] or "application/octet-stream"
    ref = store.record_response(city_code=None, spider="import", requested_url=table_path.as_uri(),
                                final_url=table_path.as_uri(), http_status=200, reason="OK",
                                headers=[("Content-Type", ctype)], body=body, fetched_at=utcnow(), elapsed_ms=None,
                                fetch_status="ok", content_type=ctype, encoding=encoding, rendered=False)
    population: dict[str, tuple[int, int]] = {}
    for r in records:
        store.record_observation(city_code=r["city_code"], indicator=r["indicator"], period=r["period"],
                                 status=OK, value=r["value"], rule=f"import:{map_path.name}", rule_version=digest[:12],
                                 snapshot_id=ref.id, evidence_url=table_path.as_uri(),
                                 evidence_detail=f"{table_path.name} line {r['row']}, column {r['column']}")
        if r["indicator"] == "population":
            year = int(r["period"])
            if r["city_code"] not in population or population[r["city_code"]][1] <= year:
                population[r["city_code"]] = (int(round(r["value"])), year)
    store.close()
    if population:
        with store.engine.begin() as conn:
            for code, (people, year) in population.items():
                conn.execute(update(City).where(City.code == code).values(population=people, population_year=year))
    return population


def _fail_import(store: CrawlStore, archives_before: set[Path]) -> None:
    """Close a failed import's run as failed (never left running); its new WARC files go when no
    snapshot row reached the database to cite them. Best effort: the caller re-raises the failure."""
    try:
        store.archive.close()
        store.reader.close()
        with store.engine.connect() as conn:
            cited = conn.execute(select(Snapshot.id).where(Snapshot.run_id == store.run_id)).first() is not None
        if not cited:
            for path in set(store.archive_dir.glob(f"sgi-run{store.run_id}-*")) - archives_before:
                path.unlink(missing_ok=True)
        finish_run(store.url, store.run_id, state="failed", requests=0, responses_by_status={},
                   items=store.counts["observations"], errors=1)
    except Exception:   # the database itself failing: the original error says more
        pass
