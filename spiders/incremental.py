"""Archive replay: answering a request with the body of an archived WARC record, for incremental crawls
and for resuming a killed crawl. Spiders run their unchanged code paths on replayed responses, so the
per-city state they carry in request.meta is rebuilt exactly as a live crawl builds it.

For every request (downloader middleware, between HttpCompression (590) and Evidence (580)):

1. Resume (SGI_RESUME): the request's hop is looked up in the run's fetch journal. A hop journalled
   'done' is answered from the record its snapshot points at: no network, no new WARC record, no new
   snapshot row (Evidence reuses the journalled snapshot id). A hop journalled 'failed' (an exception,
   no response) is fetched again under the same snapshot id: a failure is not an answer worth keeping,
   and the row is replaced, not added, whatever the retry gives.
2. Incremental (SGI_INCREMENTAL, on by default; `sgi audit` and `sgi crawl --full` turn it off), for
   requests whose page (URL; for a request with a body also method and body digest: a POST list API
   answers one page per body) an earlier run fetched well (url_state):
   - not due yet on this crawl date: answered from the archive, snapshot fetch_status 'reused';
   - due: a GET is sent with If-None-Match / If-Modified-Since; a 304 is answered from the archive,
     snapshot fetch_status 'not_modified' (http_status 304). A 304 is never blocked, error or absent.
     Any other answer (200, a 412 challenge ...) is an ordinary response. A POST is sent as it is.
   Good answers update url_state: validators, digest, and the revisit interval of the request's role
   (meta['sgi_role'], spiders/revisit.yaml), shrunk when the body changed, grown when it did not.
   Archived answers are not classified again (they were read as ok when fetched). A request with
   meta['sgi_fresh'] skips the archive (a spider's retry after an error object inside a 200 answer).
3. Paged lists: spiders ask for the pages after a list's first with role MORE_PAGES and the meta of
   :func:`next_page`. When the page
   before is unchanged (answered from the archive, or fresh with the digest it had last time), nothing
   new was added in front, so the next page keeps its own revisit interval (role 'more_pages': reused
   from the archive while not due); when it changed, the next page is due now (new items push older
   ones down the list). A list's first page is due daily, so new items are never missed.

Replayed responses carry the flag 'sgi-replayed' (resume) or 'sgi-reused' (incremental) and
meta['sgi_reused_from'] (the snapshot whose record holds the body). A request with meta['sgi_live'] is
never answered from the journal or the archive: its spider needs what only a live fetch leaves behind
(the cookies a browser earns at a JavaScript challenge), not just the body. A timing is never read off
an archived answer: :func:`fetch_timing` gives the fetch that brought the body over the network.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from sqlalchemy import select

from spiders.store import store_for
from storage import frontier
from storage.crawlstate_models import FetchJournal, UrlState
from storage.store import ArchivedBody, SnapshotRef, page_identity

logger = logging.getLogger(__name__)

REPLAYED, REUSED = "sgi-replayed", "sgi-reused"
_CONDITIONAL = (b"If-None-Match", b"If-Modified-Since")
# Per-hop meta: cleared on every pass, so a retry or redirect copy never inherits a decision.
_HOP_META = ("sgi_replayed", "sgi_reuse", "sgi_snapshot_id")


def _callback_name(request) -> str:
    callback = request.callback
    return getattr(callback, "__name__", None) or type(callback).__name__ if callback else "parse"


def is_rendered(request) -> bool:
    return bool(request.meta.get("playwright"))


class ArchiveReplayMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.incremental = settings.getbool("SGI_INCREMENTAL", True)
        self.resume = settings.getbool("SGI_RESUME", False)
        self.policy = frontier.load_policy(settings.get("SGI_REVISIT_FILE"))
        self.clock = frontier.crawl_clock(settings.get("SGI_AS_OF"))
        self.occurrences: Counter = Counter()
        self.decisions: dict[str, tuple] = {}  # url key -> decision, for pages requested again
        self.roles: dict[str, str] = {}        # url key -> the most frequently revisited role asking for it
        self.known: dict[str, dict] = {}       # origin -> url key -> KnownUrl not yet asked for
        self.unlisted_roles: set[str] = set()  # roles asked for that the revisit policy does not list
        self._taken_loaded = False
        crawler.sgi_replay = self

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def spider_name(self) -> str:
        return getattr(self.crawler.spider, "name", "") or ""

    # --- requests ------------------------------------------------------------------------------------
    def process_request(self, request, spider=None):
        store = store_for(self.crawler)
        meta = request.meta
        self._enter_hop(request)
        if self.resume:
            if not self._taken_loaded:
                store.load_taken_ids()
                self._taken_loaded = True
            answer = None if meta.get("sgi_live") else self._from_journal(store, request)
            if answer is not None:
                return answer
        if self.incremental and meta["sgi_hop"] == 1 and "sgi_snapshot_id" not in meta:
            return self._incremental(store, request)
        return None

    def _enter_hop(self, request) -> None:
        """Number the request's hop: its logical key (a new request; retries and redirects keep theirs),
        hop count and fetch-journal key."""
        meta = request.meta
        for key in _HOP_META:
            meta.pop(key, None)
        if "sgi_logical" not in meta:
            base = (request.method, page_identity(request.url), request.body, _callback_name(request),
                    is_rendered(request))
            self.occurrences[base] += 1
            meta["sgi_logical"] = frontier.logical_key(self.spider_name, request.method, request.url, request.body,
                                                       base[3], base[4], self.occurrences[base])
        meta["sgi_hop"] = meta.get("sgi_hop", 0) + 1
        meta["sgi_journal_key"] = frontier.journal_key(meta["sgi_logical"], meta["sgi_hop"])

    def _mark_reused(self, request, body) -> None:
        """The hop is answered with an earlier record's body (page not due): EvidenceMiddleware records
        a snapshot 'reused' pointing at it."""
        request.meta["sgi_reuse"] = {"kind": "reused", "body": body, "http_status": None}
        self.crawler.stats.inc_value("sgi/reused")

    def _from_journal(self, store, request):
        with store.engine.connect() as conn:
            entry = frontier.journal_entry(conn, store.run_id, request.meta["sgi_journal_key"])
        if entry is None:
            return None
        snap = entry.snapshot
        if entry.state == "done" and snap.get("warc_file"):
            body = ArchivedBody(snap.get("reused_from") or snap["id"], snap["warc_file"], snap["warc_offset"],
                                snap["warc_length"], snap["digest"])
            response = self._archived_response(store, request, body, snap["final_url"], REPLAYED,
                                               rendered=bool(snap.get("rendered")))
            if response is not None:
                request.meta["sgi_replayed"] = snap
                self.crawler.stats.inc_value("sgi/replayed")
                return response
        if snap.get("id"):
            request.meta["sgi_snapshot_id"] = snap["id"]   # fetched again, recorded under the same id
        self.crawler.stats.inc_value("sgi/refetched_after_resume")
        return None

    def _incremental(self, store, request):
        meta = request.meta
        if meta.get("sgi_fresh") or meta.get("sgi_live"):
            return None   # the spider wants the site's answer now (a retry after an error in a 200)
        kind, body, etag, last_modified = self._decision(store, request)
        if kind == "reuse":
            response = self._archived_response(store, request, body, None, REUSED, rendered=is_rendered(request))
            if response is not None:
                self._mark_reused(request, body)
                return response
        elif kind == "conditional":
            if etag and b"If-None-Match" not in request.headers:
                request.headers[b"If-None-Match"] = etag
            if last_modified and b"If-Modified-Since" not in request.headers:
                request.headers[b"If-Modified-Since"] = last_modified
            meta["sgi_conditional"] = body
            self.crawler.stats.inc_value("sgi/conditional_requests")
        return None

    def _decision(self, store, request) -> tuple:
        key = frontier.url_key(request.url, is_rendered(request), request.method, request.body)
        self.note_role(key, request.meta.get("sgi_role"))
        decision = self.decisions.get(key)
        if decision is None:
            # The first request for a page in this process decides from the state earlier runs left;
            # the same page requested again (another role, a link sample) gets the same decision, so
            # the outcome does not depend on when the first one's state reached the database.
            decision = self._decide(store, request, key)
            self.decisions[key] = decision
        return decision

    def note_role(self, key: str, role: str | None) -> str:
        """A page asked for in several roles (a column that is also in the link sample) is revisited
        as often as its liveliest role says."""
        if role and role not in self.policy.roles and role not in self.unlisted_roles:
            # A role the policy does not list is revisited on the default (daily) interval: say so once,
            # since a leaf page asked daily costs every night's crawl a request.
            self.unlisted_roles.add(role)
            self.crawler.stats.inc_value("sgi/revisit_role_unlisted")
            logger.warning("role %r is not in the revisit policy: its pages use the default interval", role)
        known = self.roles.get(key)
        if known is None or (role is not None and self.policy.for_role(role).start_s
                             < self.policy.for_role(known).start_s):
            self.roles[key] = role or ""
        return self.roles[key]

    def _decide(self, store, request, key: str) -> tuple:
        """('fresh' | 'reuse' | 'conditional', archived body, etag, last_modified) for a page; the first
        request for it carries the url_state row to update (meta sgi_url_key / sgi_url_prev)."""
        meta = request.meta
        meta["sgi_url_key"] = key
        meta["sgi_url_prev"] = None
        known = self._known_url(store, key)
        if known is None or known.row.get("last_run_id") == store.run_id:
            # First sight, or a rerun of this run key: state written by this run does not count.
            return ("fresh", None, None, None)
        meta["sgi_url_prev"] = known.row
        row = known.row
        if known.body is None:
            return ("fresh", None, None, None)
        # meta['sgi_revisit'] = 'due': the spider's own rule asks for the page now (an unreplied
        # message re-checked); it is still asked conditionally, so an unchanged page costs a 304.
        if not known.due(self.clock) and meta.get("sgi_revisit") != "due":
            return ("reuse", known.body, None, None)
        if is_rendered(request) or request.method != "GET" or not (row.get("etag") or row.get("last_modified")):
            # A browser navigation cannot be made conditional; a POST (a list API) is not asked so.
            return ("fresh", None, None, None)
        return ("conditional", known.body, row.get("etag"), row.get("last_modified"))

    def _known_url(self, store, key: str, peek: bool = False):
        """The url_state earlier runs left for a page; a host's rows are read in one query when its
        first page is asked for, and each is handed out once (the decision is kept in self.decisions)."""
        origin = frontier.key_origin(key)
        rows = self.known.get(origin)
        if rows is None:
            with store.engine.connect() as conn:
                rows = self.known[origin] = frontier.known_urls_of_origin(conn, self.spider_name, origin)
        return rows.get(key) if peek else rows.pop(key, None)

    def revisit_due(self, url: str) -> bool:
        """Whether a page a spider need not read again (its facts are stored: a replied message) is due
        for its revisit all the same, so leaf pages are re-read rarely, not never. True when the crawl
        is not incremental or the page has no state an earlier run left (as a request would be fresh)."""
        if not self.incremental:
            return True
        store = store_for(self.crawler)
        key = frontier.url_key(url)
        decided = self.decisions.get(key)
        if decided is not None:
            return decided[0] != "reuse"
        known = self._known_url(store, key, peek=True)
        if known is None or known.row.get("last_run_id") == store.run_id or known.body is None:
            return True
        return known.due(self.clock)

    # --- responses -----------------------------------------------------------------------------------
    def process_response(self, request, response, spider=None):
        body = request.meta.get("sgi_conditional")
        if response.status != 304 or body is None or REPLAYED in response.flags or REUSED in response.flags:
            return response
        store = store_for(self.crawler)
        answer = self._archived_response(store, request, body, None, REUSED, rendered=False,
                                         extra_headers=response.headers)
        if answer is None:
            # The earlier body cannot be read back (archive moved?): ask again without validators.
            logger.warning("304 for %s but its archived body is unreadable; fetching it again", request.url)
            fresh = request.replace(dont_filter=True)
            for name in _CONDITIONAL:
                fresh.headers.pop(name, None)
            fresh.meta.pop("sgi_conditional", None)
            fresh.meta["sgi_url_prev"] = None
            return fresh
        request.meta["sgi_reuse"] = {"kind": "not_modified", "body": body, "http_status": 304,
                                     "headers": response.headers}
        self.crawler.stats.inc_value("sgi/not_modified")
        return answer

    def _archived_response(self, store, request, body: ArchivedBody, final_url: str | None, flag: str,
                           rendered: bool, extra_headers=None):
        try:
            record = store.reader.read(body.warc_file, body.warc_offset, body.warc_length)
        except Exception as exc:   # missing or damaged archive: fetch instead
            logger.warning("cannot replay %s from %s@%s: %s", request.url, body.warc_file, body.warc_offset, exc)
            return None
        url = record.url if final_url is None else final_url
        # Same page at this run's address (the sample web's ports change between processes).
        if page_identity(url) == page_identity(request.url):
            url = request.url
        headers = Headers(record.headers)
        for name in (extra_headers or {}):
            if name.lower() in (b"etag", b"last-modified", b"date", b"expires", b"cache-control"):
                headers[name] = extra_headers[name]
        cls = responsetypes.from_args(headers=headers, url=url, body=record.body)
        flags = [flag] + (["playwright"] if rendered or record.rendered else [])
        request.meta["sgi_reused_from"] = body.snapshot_id
        return cls(url=url, status=record.status, headers=headers, body=record.body, flags=flags,
                   request=request)


# --- called by EvidenceMiddleware once a hop is recorded ------------------------------------------------
def replayed_ref(request, response) -> SnapshotRef | None:
    """The journalled snapshot of a replayed hop (resume), or None for anything else."""
    snap = request.meta.get("sgi_replayed")
    if snap is None or REPLAYED not in response.flags:
        return None
    fetched_at = snap["fetched_at"]
    if fetched_at is not None and fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=timezone.utc)
    return SnapshotRef(snap["id"], snap["final_url"], fetched_at, snap["digest"], snap["fetch_status"],
                       snap["http_status"])


@dataclass(frozen=True)
class Timing:
    elapsed_ms: float | None
    ref: SnapshotRef | None        # the snapshot recording the fetch that was timed
    source: str                    # 'fetched' (this request), 'journal' (this run, before a resume) or
                                   # 'archive' (an earlier fetch of the body: a page not due, a 304)


def fetch_timing(crawler, response) -> Timing:
    """How long the fetch that brought this response's body over the network took, and its snapshot.
    A download: this request's own time. An answer read back from the run's journal (resume): the time
    recorded with the journalled snapshot. An answer from the archive (a page not due, or a 304 that
    confirmed the archived body): the time of the full fetch of that body, recorded with its snapshot.
    Reading a record back is never a load time."""
    meta = response.meta
    if REPLAYED not in response.flags and REUSED not in response.flags:
        return Timing(meta.get("sgi_elapsed_ms"), meta.get("sgi_snapshot"), "fetched")
    journalled = meta.get("sgi_replayed") if REPLAYED in response.flags else None
    if journalled and journalled.get("fetch_status") not in ("reused", "not_modified"):
        return Timing(journalled.get("elapsed_ms"), meta.get("sgi_snapshot"), "journal")
    origin = meta.get("sgi_reused_from")
    if not origin:
        return Timing(None, None, "archive")
    from storage.models import Snapshot

    with store_for(crawler).engine.connect() as conn:
        row = conn.execute(select(Snapshot).where(Snapshot.id == origin)).mappings().first()
    if row is None:
        return Timing(None, None, "archive")
    fetched_at = row["fetched_at"]
    if fetched_at is not None and fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=timezone.utc)
    ref = SnapshotRef(row["id"], row["final_url"], fetched_at, row["digest"], row["fetch_status"], row["http_status"])
    return Timing(row["elapsed_ms"], ref, "archive")


def unchanged(response) -> bool:
    """True when this answer is the one its page gave last time: served from the archive (not due, or
    a 304), or fetched fresh with the digest of the last good answer."""
    if REUSED in response.flags:
        return True
    meta = response.meta
    previous, ref = meta.get("sgi_url_prev"), meta.get("sgi_snapshot")
    return bool(previous and ref is not None and previous.get("digest") and previous.get("digest") == ref.digest)


MORE_PAGES = "more_pages"


def next_page(response) -> dict:
    """Request meta for the page after this one in a paged list (ask for it with role MORE_PAGES): due
    now unless this page is unchanged (see the module's point 3)."""
    return {} if unchanged(response) else {"sgi_revisit": "due"}


def answered_by_site(response) -> bool:
    """True when the site answered this request in this run: a download, a 304 confirming the archived
    body, or (on resume) this run's own journalled answer; False for a page not due, served from the
    archive without asking."""
    request = response.request
    if request is None:
        return True
    if REPLAYED in response.flags:      # resume: as the journalled hop was answered
        return (request.meta.get("sgi_replayed") or {}).get("fetch_status") != "reused"
    reuse = reuse_of(request, response)
    return reuse is None or reuse.get("kind") == "not_modified"


def reuse_of(request, response) -> dict | None:
    """How an incremental crawl answered this request from the archive (kind, body, http_status)."""
    return request.meta.get("sgi_reuse") if REUSED in response.flags else None


def record_hop(crawler, store, request, ref: SnapshotRef, *, failed: bool = False,
               etag: str | None = None, last_modified: str | None = None) -> None:
    """Journal the hop and, for a good answer in an incremental crawl, update the URL's state. Called
    inside store.together() right after the snapshot row is queued, so they commit together."""
    meta = request.meta
    now = datetime.now(timezone.utc)
    spider = getattr(crawler.spider, "name", "") or ""
    if meta.get("sgi_journal_key"):
        store.queue_row(FetchJournal, frontier.journal_row(
            run_id=store.run_id, key=meta["sgi_journal_key"], spider=spider, url=request.url,
            state="failed" if failed else "done", snapshot_id=ref.id, recorded_at=now), ["run_id", "key"])
    replay = getattr(crawler, "sgi_replay", None)
    key = meta.get("sgi_url_key")
    if failed or replay is None or not replay.incremental or key is None:
        return
    if ref.fetch_status == "not_modified":
        not_modified = True
    elif ref.fetch_status == "ok" and (ref.http_status or 200) < 300:
        not_modified = False
    else:
        return   # reused (nothing learned), or not a good answer: the last good state stays
    role = replay.note_role(key, (meta.get("sgi_url_prev") or {}).get("role") or meta.get("sgi_role"))
    row = frontier.url_state_row(spider=spider, key=key, role=role, run_id=store.run_id,
                                 clock=replay.clock, policy=replay.policy, previous=meta.get("sgi_url_prev"),
                                 digest=ref.digest, snapshot_id=ref.id, etag=etag, last_modified=last_modified,
                                 not_modified=not_modified)
    store.queue_row(UrlState, row, ["spider", "url_key"])
