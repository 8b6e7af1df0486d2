"""Durable crawl state: per-URL validators and revisit schedule (url_state), the per-run fetch journal
(fetch_journal), and the revisit policy (spiders/revisit.yaml). Pure functions plus small queries;
spiders/incremental.py decides per request with them.

Why a journal and not Scrapy's JOBDIR: sgi requests carry per-city aggregation state in request.meta
(live objects shared by a city's requests), which JOBDIR cannot pickle; and the state is rebuilt for
free when the spiders run again and every fetch the killed run already made is answered from its own
WARC record. So the journal is the seen set (what is done, and which snapshot holds the answer) and the
pending part of the frontier is regenerated deterministically by that replay.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from sgi.errors import ConfigError, SgiError
from storage.crawlstate_models import FetchJournal, UrlState
from storage.models import CrawlRun, Snapshot
from storage.store import ArchivedBody, page_identity

REVISIT_FILE = Path(__file__).resolve().parent.parent / "spiders" / "revisit.yaml"
DAY = 86400
RESUMABLE_STATES = ("running", "failed")


# --- revisit policy ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    start_s: int
    min_s: int
    max_s: int


@dataclass(frozen=True)
class RevisitPolicy:
    grow: float
    default: Interval
    roles: dict

    def for_role(self, role: str | None) -> Interval:
        return self.roles.get(role or "", self.default)


def _interval(path: str, entry, where: str) -> Interval:
    from sgi.yamlconf import line_of, require_keys

    require_keys(path, entry, ["start", "min", "max"], what=where)
    try:
        start, lo, hi = (float(entry[k]) for k in ("start", "min", "max"))
    except (TypeError, ValueError):
        raise ConfigError(path, line_of(entry), f"{where}: start, min and max are numbers of days") from None
    if not 0 < lo <= start <= hi:
        raise ConfigError(path, line_of(entry), f"{where}: need 0 < min <= start <= max (got {lo}, {start}, {hi})")
    return Interval(int(start * DAY), int(lo * DAY), int(hi * DAY))


@lru_cache(maxsize=4)
def load_policy(path: str | None = None) -> RevisitPolicy:
    """Read and validate the revisit policy (errors name file:line)."""
    from sgi.yamlconf import line_of, load_yaml, require_keys

    path = str(path or REVISIT_FILE)
    data = load_yaml(path)
    require_keys(path, data, ["default", "roles"], allowed=["grow"], what="revisit policy")
    grow = data.get("grow", 1.5)
    if not isinstance(grow, (int, float)) or grow < 1:
        raise ConfigError(path, line_of(data, "grow"), "grow must be a number >= 1")
    if not isinstance(data["roles"], dict):
        raise ConfigError(path, line_of(data, "roles"), "roles must map role names to intervals")
    roles = {str(k): _interval(path, v, f"role {k}") for k, v in data["roles"].items()}
    return RevisitPolicy(float(grow), _interval(path, data["default"], "default"), roles)


def next_interval(policy: RevisitPolicy, role: str | None, previous_s: int | None, changed: bool | None) -> int:
    """The revisit interval after a fetch: first sight starts the role's interval; a change halves it
    (the page is livelier than we thought), no change grows it, both within the role's bounds."""
    bounds = policy.for_role(role)
    if previous_s is None or changed is None:
        return bounds.start_s
    value = previous_s / 2 if changed else previous_s * policy.grow
    return int(min(bounds.max_s, max(bounds.min_s, value)))


def crawl_clock(as_of: date | str | None) -> datetime:
    """The time a run's fetches count as made for scheduling: midnight UTC of its crawl date."""
    if as_of is None:
        as_of = date.today()
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    return datetime.combine(as_of, time.min, tzinfo=timezone.utc)


def url_key(url: str, rendered: bool = False, method: str = "GET", body: bytes | None = None) -> str:
    """A page's key in url_state: its identity, plus method and body digest for a request that has a
    body (one POST list API answers a different page per body), plus whether it was rendered."""
    key = page_identity(url)
    if method != "GET" or body:
        key += f" [{method} {hashlib.sha1(body or b'').hexdigest()[:16]}]"
    return key + (" [rendered]" if rendered else "")


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- url_state -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownUrl:
    """What an earlier run left for a URL: validators, schedule and where the last good body lies."""

    row: dict
    body: ArchivedBody | None

    def due(self, clock: datetime) -> bool:
        """Due when the revisit falls on or before the crawl date (the clock is its midnight): a page
        revisited every 1.5 days is read on the second crawl date after, not skipped to the third."""
        next_due = as_utc(self.row.get("next_due_at"))
        return next_due is None or next_due < clock + timedelta(days=1)


def key_origin(key: str) -> str:
    """'scheme://host[:port]' of a url_state key (the page identity it starts with)."""
    parts = urlsplit(key.split(" [", 1)[0])
    return f"{parts.scheme}://{parts.netloc}"


def known_urls_of_origin(conn, spider: str, origin: str) -> dict[str, KnownUrl]:
    """Every url_state row of one spider on one origin, with its archived body, in one query (an
    incremental crawl asks for a host's pages one after the other; one query each cost more than the
    crawl's own work on them)."""
    cols = UrlState.__table__.columns.keys()
    query = (select(UrlState, Snapshot.warc_file, Snapshot.warc_offset, Snapshot.warc_length,
                    Snapshot.digest.label("snapshot_digest"), Snapshot.encoding.label("snapshot_encoding"))
             .outerjoin(Snapshot, Snapshot.id == UrlState.last_snapshot_id)
             .where(UrlState.spider == spider))
    if conn.dialect.name == "sqlite":
        # A range on the primary key's index (SQLite compares text bytewise); re-checked below.
        query = query.where(UrlState.url_key >= origin, UrlState.url_key < origin + "\U0010ffff")
    else:
        query = query.where(UrlState.url_key.startswith(origin, autoescape=True))
    out: dict[str, KnownUrl] = {}
    size = len(origin)
    for row in conn.execute(query).mappings():
        key = row["url_key"]
        # the origin, then the path or the key's tail: not a longer host name or a port
        if not key.startswith(origin) or (len(key) > size and key[size] not in "/ ?#"):
            continue
        state = {c: row[c] for c in cols}
        body = (ArchivedBody(state["last_snapshot_id"], row["warc_file"], row["warc_offset"], row["warc_length"],
                             row["snapshot_digest"], row["snapshot_encoding"])
                if state.get("last_snapshot_id") and row["warc_file"] else None)
        out[key] = KnownUrl(state, body)
    return out


def url_state_row(*, spider: str, key: str, role: str | None, run_id: int, clock: datetime, policy: RevisitPolicy,
                  previous: dict | None, digest: str | None, snapshot_id: str | None, etag: str | None,
                  last_modified: str | None, not_modified: bool) -> dict:
    """The url_state row after a good fetch (a 200 read as ok, or a 304 answered from the archive)."""
    prev = previous or {}
    if not_modified:
        changed = False
    elif previous is None or not prev.get("digest"):
        changed = None                      # first sight: nothing to compare with
    else:
        changed = prev.get("digest") != digest
    interval = next_interval(policy, role, prev.get("revisit_interval_s") if previous else None, changed)
    return dict(
        spider=spider, url_key=key, role=role or "",
        etag=etag or (prev.get("etag") if not_modified else None),
        last_modified=last_modified or (prev.get("last_modified") if not_modified else None),
        digest=prev.get("digest") if not_modified else digest,
        last_snapshot_id=prev.get("last_snapshot_id") if not_modified else snapshot_id,
        last_run_id=run_id, last_fetched_at=clock,
        last_changed_at=clock if (changed or previous is None) else as_utc(prev.get("last_changed_at")),
        revisit_interval_s=interval, next_due_at=clock + timedelta(seconds=interval),
        change_count=int(prev.get("change_count") or 0) + (1 if changed else 0),
        unchanged_count=int(prev.get("unchanged_count") or 0) + (1 if changed is False else 0))


# --- fetch journal ---------------------------------------------------------------------------------------
def journal_key(logical: str, hop: int) -> str:
    return f"{logical}:{hop}"


def logical_key(spider: str, method: str, url: str, body: bytes, callback: str, rendered: bool,
                occurrence: int) -> str:
    """Names one request a spider makes, the same in the killed and in the resumed process: its page
    identity (ports of the sample web differ between processes), method, body, callback, whether it
    is rendered, and how many identical requests came before it in this process."""
    text = "|".join([spider, method, page_identity(url), hashlib.sha1(body or b"").hexdigest(), callback,
                     "render" if rendered else "plain", str(occurrence)])
    return hashlib.sha1(text.encode()).hexdigest()


def journal_row(*, run_id: int, key: str, spider: str, url: str, state: str, snapshot_id: str | None,
                recorded_at: datetime) -> dict:
    return dict(run_id=run_id, key=key, spider=spider, url=url, state=state, snapshot_id=snapshot_id,
                recorded_at=recorded_at)


@dataclass(frozen=True)
class JournalEntry:
    state: str
    snapshot: dict            # the snapshot row (id, final_url, http_status, fetch_status, digest, warc ...)


def journal_entry(conn, run_id: int, key: str) -> JournalEntry | None:
    row = conn.execute(select(FetchJournal.state, FetchJournal.snapshot_id)
                       .where(FetchJournal.run_id == run_id, FetchJournal.key == key)).first()
    if row is None:
        return None
    snap = conn.execute(select(Snapshot).where(Snapshot.id == row[1])).mappings().first() if row[1] else None
    return JournalEntry(row[0], {c: snap[c] for c in Snapshot.__table__.columns.keys()} if snap else {})


def resumable_run(url: str | None, run_key: str | None = None) -> dict:
    """The run `sgi crawl --resume` continues: the named one, or the latest that did not finish."""
    from storage import db

    with db.ensure_schema(url).connect() as conn:
        query = select(CrawlRun)
        if run_key:
            query = query.where(CrawlRun.run_key == run_key)
        else:
            query = query.where(CrawlRun.state.in_(RESUMABLE_STATES)).order_by(CrawlRun.started_at.desc(),
                                                                              CrawlRun.id.desc())
        # an import's run (`sgi import`, spiders ['import']) is no crawl to resume; rerun the import instead
        row = next((r for r in conn.execute(query).mappings()
                    if run_key or list(r["spiders"] or []) != ["import"]), None)
    if row is None:
        raise SgiError(f"no crawl run {run_key!r}" if run_key else "no unfinished crawl run to resume",
                       "`sgi crawl --resume --run-key KEY` names one (see the crawl_run table)")
    return {c: row[c] for c in CrawlRun.__table__.columns.keys()}
