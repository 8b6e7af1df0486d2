"""The mailbox spider: a city's message boards (市长信箱, 12345 公示, 人民网领导留言板), navigation only.

One source entry is one board. ``options`` (all optional except where said):

    board: hz-mayor              # board key (default: the source name)
    type: html | json            # default html
    detail_link: 'detail\\.jsp'   # regex a detail link's href must match (html)
    row_selector: 'ul.list li'   # CSS selector of message rows (html; default every tr / li with a detail link)
    id_param: id                 # query parameter holding the message id in detail URLs
    page_template: index_{i}.html  # list pages 2..N ({n} 1-based, {i} 0-based), N from '共N页';
                                 # without it the '下一页' link is followed
    max_pages: 200
    recheck_days: 365            # unreplied messages older than this are re-checked only when their
                                 # detail page is due for its revisit (rarely), not every run
    years_back: 1                # calendar years reported: crawl year and this many before
    population: 8941000          # residents, used only when the city registry has none (sample web)
    api:                         # type json: the leaders'-board style POST API
      url: /v1/threads/list/df   # relative to start_url
      script: /static/js/app.js  # the page script holding the signing key
      key_pattern: 'SIGN_KEY\\s*=\\s*"([^"]+)'
      sign: '{path}{t}{body}{key}'   # md5 of this text is sent as X-Sign, t (ms) as X-Timestamp
      body: {fid: 539, page: '{page}', rows: 20}
      fields: {...}              # JSON field mapping, see collectors.mailbox.DEFAULT_JSON_FIELDS

Signing (how the page's script does it, and so do we): the script builds the JSON body with
``JSON.stringify``, takes ``t = Date.now()`` and sends ``X-Timestamp: t`` and ``X-Sign: md5(path + t +
body + key)``. The spider reads the key from the script with ``key_pattern``, serialises the body
compactly (``json.dumps(separators=(',', ':'))``, as JSON.stringify does) and signs exactly the bytes it
sends. Pages are requested one after the other until a page comes back empty.

Incremental: a message's detail page is a leaf, read again only when its revisit date has come (the
detail role's interval in spiders/revisit.yaml: weeks) once the message is stored as replied with its
detail read (a reply rarely changes), or unreplied but older than ``recheck_days``. Younger unreplied
messages are re-checked every run. Where the list shows each message's status (办理状态), the list
row is that re-check: a row read from the site this run (a 200, or a 304 confirming the stored page)
that still says unreplied needs no detail page, and a later list page that held such messages last time
is asked again (conditionally) instead of their detail pages. A row turning replied sends for its
detail page (reply date, reply length). Rows of a list page answered from the archive (not due) say
nothing new, so their unreplied messages' detail pages are re-checked. Indicators are computed from
every stored message of the city's boards, so a run that skips detail pages reports the same values
as a full one.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

import scrapy

from collectors import mailbox as rules
from collectors.base import BLOCKED, ERROR, OK
from collectors.fetch import BLOCKED as FETCH_BLOCKED
from collectors.fetch import NOT_FOUND, classify_fetch
from spiders.base import SgiSpider, page_from_response
from spiders.incremental import MORE_PAGES, answered_by_site, next_page
from spiders.robots import refused_by_robots
from storage.store import page_identity

DEFAULT_MAX_PAGES = 200
DEFAULT_RECHECK_DAYS = 365


@dataclass
class BoardCrawl:
    city_code: str
    source: object
    key: str
    options: dict
    stored: dict                                   # message_id -> stored row (dict)
    pending: int = 0
    failed: str | None = None                      # blocked / error
    reason: str = ""
    fail_ref: object = None                        # the blocked / failed response (evidence of the failure)
    list_refs: list = field(default_factory=list)  # SnapshotRefs of list pages / API answers
    messages: dict = field(default_factory=dict)   # message_id -> (rules.Message, list_url, snapshot id)
    details: dict = field(default_factory=dict)    # message_id -> (detail_status, snapshot id)
    requested_details: set = field(default_factory=set)
    recheck_pages: set = field(default_factory=set)  # page identities of list pages holding messages re-checked
    sign_key: str | None = None
    done: bool = False


@dataclass
class CityState:
    city_code: str
    boards: list
    finished: bool = False


class MailboxSpider(SgiSpider):
    name = "mailbox"
    source_kind = "mailbox"
    indicators = rules.CODES

    def start_requests(self):
        from storage.mailbox_models import load_messages

        by_city = self.sources_by_city()
        db_url = self.settings.get("SGI_DATABASE_URL")
        for city, sources in by_city.items():
            boards = []
            for s in sources:
                opts = dict(s.options or {})
                key = str(opts.get("board") or s.name)
                board = BoardCrawl(city, s, key, opts, load_messages(db_url, city, key))
                board.recheck_pages = {page_identity(row["list_url"]) for row in board.stored.values()
                                       if row.get("list_url") and self._rechecked(board, row)}
                boards.append(board)
            state = CityState(city, boards)
            for board in boards:
                board.city = state
                if (board.options.get("type") or "html") == "json":
                    api = board.options.get("api") or {}
                    script = urljoin(board.source.start_url, api.get("script") or "")
                    yield self._request(board, script, self.parse_script, role="script")
                else:
                    # due (conditionally) even on a rerun of the day when its rows re-check messages
                    due = {"sgi_revisit": "due"} if page_identity(board.source.start_url) in board.recheck_pages else {}
                    yield self._request(board, board.source.start_url, self.parse_list, role="list", page_no=1, **due)

    # --- requests ----------------------------------------------------------------------------------
    def _request(self, board: BoardCrawl, url: str, callback, role: str, method: str = "GET",
                 body: bytes | None = None, headers: dict | None = None, **meta):
        board.pending += 1
        meta = {"city_code": board.city_code, "sgi_board": board, "sgi_role": role,
                "handle_httpstatus_all": True, **meta}
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, dont_filter=True,
                              method=method, body=body, headers=headers)

    def _fail(self, board: BoardCrawl, status: str, reason: str, ref=None) -> None:
        if board.failed != BLOCKED:          # blocked wins over error: the site refuses us
            board.failed, board.reason = status, reason
            board.fail_ref = ref or board.fail_ref

    def _answered(self, board: BoardCrawl):
        board.pending -= 1
        if board.pending <= 0 and not board.done:
            board.done = True
            yield from self._maybe_finish_city(board.city)

    # --- HTML lists ------------------------------------------------------------------------------------
    def parse_list(self, response):
        board: BoardCrawl = response.meta["sgi_board"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        fetch = classify_fetch(page)
        if fetch != OK:
            self._fail(board, BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                       f"list page {page.url} {fetch} (HTTP {page.status})", ref)
        else:
            if ref:
                board.list_refs.append(ref)
            found = rules.parse_html_list(page, self.crawl_date, board.options)
            for msg in found:
                self._take(board, msg, page.url, ref)
            for request in self._detail_requests(board, found, list_is_current=answered_by_site(response)):
                yield request
            shows_status = any(m.status for m in found)
            for request in self._more_list_pages(board, page, response.meta.get("page_no", 1), next_page(response),
                                                 shows_status):
                yield request
        yield from self._answered(board)

    def _more_list_pages(self, board: BoardCrawl, page, page_no: int, revisit: dict, shows_status: bool):
        max_pages = int(board.options.get("max_pages") or DEFAULT_MAX_PAGES)
        template = board.options.get("page_template")

        def meta(url: str) -> dict:
            # A page whose rows re-check unreplied messages is asked (conditionally) rather than their
            # detail pages, when the list shows statuses.
            if not revisit and shows_status and page_identity(url) in board.recheck_pages:
                return {"sgi_revisit": "due"}
            return revisit

        if template:
            if page_no != 1:
                return
            total = min(rules.page_count(page) or 1, max_pages)
            for n, url in enumerate(rules.page_urls(template, total), start=2):
                url = urljoin(board.source.start_url, url)
                yield self._request(board, url, self.parse_list, role=MORE_PAGES, page_no=n, **meta(url))
            return
        nxt = rules.next_page_url(page)
        if nxt and page_no < max_pages and self._allowed(board, nxt):
            yield self._request(board, nxt, self.parse_list, role=MORE_PAGES, page_no=page_no + 1, **meta(nxt))

    def _allowed(self, board: BoardCrawl, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        domains = board.source.allowed_domains or (urlsplit(board.source.start_url).hostname,)
        return any(host == d or host.endswith("." + d) for d in domains)

    def _take(self, board: BoardCrawl, msg: rules.Message, url: str, ref) -> None:
        old = board.messages.get(msg.message_id)
        if old is None or rules._info(msg) > rules._info(old[0]):
            board.messages[msg.message_id] = (msg, url, ref.id if ref else None)

    # --- details ---------------------------------------------------------------------------------------
    def needs_detail(self, board: BoardCrawl, msg: rules.Message, list_is_current: bool = False) -> bool:
        """Fetch a detail page when the list lacks what we need; for a message stored as replied with its
        detail read, or unreplied and older than ``recheck_days``, only on its page's revisit date; for
        a younger unreplied one every run, unless a list row read from the site this run
        (``list_is_current``) shows it still unreplied (then on its revisit date too)."""
        if not msg.detail_url:
            return False
        stored = board.stored.get(msg.message_id)
        if stored and stored.get("status") == rules.REPLIED and stored.get("detail_status") in (OK, "skipped"):
            # A reply rarely changes: read again only when its page's revisit date has come (leaf pages
            # are revisited rarely, spiders/revisit.yaml), else the stored reading stands.
            return stored.get("detail_status") == OK and self._revisit_due(msg.detail_url)
        submitted = msg.submitted or (date.fromisoformat(stored["submitted_date"])
                                      if stored and stored.get("submitted_date") else None)
        if stored and not msg.replied and submitted and self._past_recheck(board, submitted):
            # no longer re-checked every run; read again on its page's revisit date, as a leaf is
            return stored.get("detail_status") == OK and self._revisit_due(msg.detail_url)
        if (list_is_current and stored and stored.get("detail_status") == OK and msg.status is not None
                and not msg.replied):
            # the site's own list says: still no reply; the stored detail reading stands until the
            # page's revisit date (a leaf page, read again rarely)
            return self._revisit_due(msg.detail_url)
        if msg.submitted is None:
            return True
        return msg.replied and (msg.reply_length is None or msg.reply_date is None)

    def _revisit_due(self, url: str) -> bool:
        """Whether a page whose facts are stored is read again now: on its revisit date in an
        incremental crawl, always in a full one (`--full`, `sgi audit`: every reading fetched now)."""
        replay = getattr(getattr(self, "crawler", None), "sgi_replay", None)
        return replay is not None and replay.revisit_due(url)

    def _rechecked(self, board: BoardCrawl, row: dict) -> bool:
        """Whether a stored message is still re-checked for a reply (unreplied, detail read, not too old)."""
        if row.get("status") == rules.REPLIED or row.get("detail_status") != OK or not row.get("submitted_date"):
            return False
        return not self._past_recheck(board, date.fromisoformat(row["submitted_date"]))

    def _past_recheck(self, board: BoardCrawl, submitted: date) -> bool:
        """An unreplied message older than the board's ``recheck_days`` is no longer re-checked each run."""
        return (self.crawl_date - submitted).days > int(board.options.get("recheck_days") or DEFAULT_RECHECK_DAYS)

    def _detail_requests(self, board: BoardCrawl, found, list_is_current: bool = False):
        for msg in found:
            if msg.message_id in board.requested_details or not self.needs_detail(board, msg, list_is_current):
                continue
            if not self._allowed(board, msg.detail_url):
                continue
            board.requested_details.add(msg.message_id)
            # The spider's own rule (needs_detail) already decided this page must be read now: an
            # unreplied message can be answered any day, whatever the page's revisit interval says.
            yield self._request(board, msg.detail_url, self.parse_detail, role="detail", message_id=msg.message_id,
                                sgi_revisit="due")

    def parse_detail(self, response):
        board: BoardCrawl = response.meta["sgi_board"]
        mid = response.meta["message_id"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        fetch = classify_fetch(page)
        if fetch == OK:
            detail = rules.parse_detail(page, self.crawl_date)
            msg, url, _ = board.messages[mid]
            board.messages[mid] = (rules.merge_detail(msg, detail), url, ref.id if ref else None)
            board.details[mid] = (OK, ref.id if ref else None)
        elif fetch == NOT_FOUND:
            # The message is listed but its page is gone: kept with what the list says (documented).
            board.details[mid] = ("not_found", ref.id if ref else None)
        else:
            board.details[mid] = (fetch, ref.id if ref else None)
            self._fail(board, BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                       f"detail page {page.url} {fetch} (HTTP {page.status})", ref)
        yield from self._answered(board)

    # --- JSON API ---------------------------------------------------------------------------------------
    def parse_script(self, response):
        board: BoardCrawl = response.meta["sgi_board"]
        page = page_from_response(response)
        fetch = classify_fetch(page)
        api = board.options.get("api") or {}
        if fetch != OK:
            self._fail(board, BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                       f"board script {page.url} {fetch} (HTTP {page.status})",
                       response.meta.get("sgi_snapshot"))
        else:
            m = re.search(api.get("key_pattern") or r"SIGN_KEY\s*=\s*[\"']([^\"']+)", page.text)
            if not m:
                self._fail(board, ERROR, f"no signing key in {page.url}")
            else:
                board.sign_key = m.group(1)
                yield self._api_request(board, 1)
        yield from self._answered(board)

    def _api_request(self, board: BoardCrawl, page_no: int, **meta):
        api = board.options.get("api") or {}
        url = urljoin(board.source.start_url, api.get("url") or "")
        path = urlsplit(url).path
        body_obj = {k: (page_no if v == "{page}" else v) for k, v in (api.get("body") or {"page": "{page}"}).items()}
        body = json.dumps(body_obj, ensure_ascii=False, separators=(",", ":"))
        t = str(int(time.time() * 1000))
        text = (api.get("sign") or "{path}{t}{body}{key}").format(path=path, t=t, body=body, key=board.sign_key)
        headers = {"Content-Type": "application/json;charset=UTF-8", "X-Timestamp": t,
                   "X-Sign": hashlib.md5(text.encode("utf-8")).hexdigest(),
                   "Referer": board.source.start_url}
        # The fragment (never sent) keeps each page's evidence record apart: every page is a POST to one URL.
        return self._request(board, f"{url}#{board.key}-page-{page_no}", self.parse_api,
                             role="api" if page_no == 1 else MORE_PAGES, method="POST", body=body.encode("utf-8"),
                             headers=headers, page_no=page_no, **meta)

    def parse_api(self, response):
        board: BoardCrawl = response.meta["sgi_board"]
        page = page_from_response(response)
        ref = response.meta.get("sgi_snapshot")
        fetch = classify_fetch(page)
        page_no = response.meta["page_no"]
        if fetch != OK:
            self._fail(board, BLOCKED if fetch == FETCH_BLOCKED else ERROR,
                       f"API page {page_no} {fetch} (HTTP {page.status})", ref)
        else:
            try:
                found, _total = rules.parse_json_list(page.body, self.crawl_date,
                                                      (board.options.get("api") or {}).get("fields"))
            except (rules.ApiError, ValueError) as exc:
                self._fail(board, ERROR, f"API page {page_no} refused: {exc}"[:300], ref)
                found = None
            if found is not None:
                if ref:
                    board.list_refs.append(ref)
                for msg in found:
                    self._take(board, msg, page.url, ref)
                max_pages = int(board.options.get("max_pages") or DEFAULT_MAX_PAGES)
                if found and page_no < max_pages:
                    yield self._api_request(board, page_no + 1, **next_page(response))
        yield from self._answered(board)

    # --- failures ---------------------------------------------------------------------------------------
    async def on_error(self, failure):
        request = failure.request
        board: BoardCrawl = request.meta["sgi_board"]
        robots = refused_by_robots(failure)
        role = request.meta.get("sgi_role")
        status = BLOCKED if robots else ERROR
        if role == "detail":
            board.details[request.meta["message_id"]] = (status, None)
        self._fail(board, status, f"{role} {request.url}: {failure.value!r}"[:300], request.meta.get("sgi_snapshot"))
        for item in self._answered(board):
            yield item

    # --- results ------------------------------------------------------------------------------------------
    def _maybe_finish_city(self, state: CityState):
        if state.finished or not all(b.done for b in state.boards):
            return
        state.finished = True
        yield from self._finish_city(state)

    def _finish_city(self, state: CityState):
        from storage.mailbox_models import city_population, save_board_stats, save_messages

        db_url = self.settings.get("SGI_DATABASE_URL")
        run_id = self.settings.getint("SGI_RUN_ID") or None
        store = getattr(self.crawler, "sgi_store", None)
        if store is not None:
            store.flush()            # snapshot rows first: message rows cite them
            run_id = store.run_id
        option_population = next((b.options.get("population") for b in state.boards if b.options.get("population")), None)
        population = city_population(db_url, state.city_code, option_population)
        years_back = int(state.boards[0].options.get("years_back", 1))
        all_refs = [r for b in state.boards for r in b.list_refs]
        main_ref = all_refs[0] if all_refs else None
        per_board: dict[str, list] = {}
        undated: dict[str, int] = {}
        for b in state.boards:
            merged = self._merge_stored(b)
            if not b.failed:
                save_messages(db_url, run_id, self.crawl_date, b.city_code, b.key, merged)
            per_board[b.key] = [m for m, _row in merged]
            undated[b.key] = sum(m.submitted is None for m, _row in merged)
        failed = [b for b in state.boards if b.failed]
        stat_rows = []
        for period in rules.periods(self.crawl_date, years_back):
            for b in state.boards:
                if b.failed:
                    stat_rows.append({"run_id": run_id, "city_code": b.city_code, "board": b.key,
                                      "period": period.key, "status": b.failed,
                                      "evidence_snapshots": [r.id for r in b.list_refs]})
                    continue
                st = rules.board_stats(per_board[b.key], period, population)
                v = st.values()
                stat_rows.append({"run_id": run_id, "city_code": b.city_code, "board": b.key, "period": period.key,
                                  "status": OK, "messages_replied": st.replied, "replies_flagged": st.flagged,
                                  "messages_undated": undated[b.key], **v,
                                  "evidence_snapshots": [r.id for r in b.list_refs]})
            if failed:
                continue
            combined = rules.board_stats([m for k in per_board for m in per_board[k]], period, population)
            for finding in rules.findings(combined, [b.key for b in state.boards], population is not None,
                                          sum(undated.values())):
                item = self.observe(state.city_code, finding, main_ref, [r.id for r in all_refs])
                item.period = period.key
                yield item
        save_board_stats(db_url, stat_rows)
        if failed:
            worst = BLOCKED if any(b.failed == BLOCKED for b in failed) else ERROR
            reason = "; ".join(f"{b.key}: {b.reason}" for b in failed)[:1000]
            ref = next((b.fail_ref for b in failed if b.fail_ref), None) or main_ref
            for period in rules.periods(self.crawl_date, years_back):
                for item in self.unreadable(state.city_code, worst, ref, reason):
                    item.period = period.key
                    item.evidence_snapshots = [r.id for r in all_refs]
                    yield item

    def _merge_stored(self, b: BoardCrawl) -> list[tuple[rules.Message, dict]]:
        """This run's readings over the stored rows: (message, row extras) for every known message."""
        out = {}
        for mid, row in b.stored.items():
            out[mid] = (_from_row(row), {"list_url": row.get("list_url"), "snapshot_id": row.get("snapshot_id"),
                                          "detail_status": row.get("detail_status"), "stored": True})
        for mid, (msg, list_url, snap) in b.messages.items():
            detail_status, detail_snap = b.details.get(mid, (None, None))
            stored = b.stored.get(mid)
            if detail_status is None and stored is not None and mid not in b.requested_details:
                # Not fetched again: the stored reading of the detail page stands.
                old = _from_row(stored)
                status = msg.status if msg.status and not old.replied else old.status
                msg = rules.Message(mid, title=msg.title or old.title, category=msg.category or old.category,
                                    status=status,
                                    submitted=msg.submitted or old.submitted,
                                    reply_date=msg.reply_date or old.reply_date,
                                    department=msg.department or old.department,
                                    reply_length=msg.reply_length if msg.reply_length is not None else old.reply_length,
                                    detail_url=msg.detail_url).check_dates()
                detail_status = stored.get("detail_status")
                if detail_status == OK and stored.get("snapshot_id") and status == old.status:
                    detail_snap = stored["snapshot_id"]      # the detail page read in an earlier run
                # else the status comes from this run's list row: the row cites that list page
            elif detail_status is None:
                detail_status = "none"
            out[mid] = (msg, {"list_url": list_url, "snapshot_id": detail_snap or snap,
                              "detail_status": detail_status, "stored": False})
        return list(out.values())


def _from_row(row: dict) -> rules.Message:
    d = lambda v: date.fromisoformat(v) if v else None
    return rules.Message(row["message_id"], title=row.get("title"), category=row.get("category"),
                         status=row.get("status"), submitted=d(row.get("submitted_date")),
                         reply_date=d(row.get("reply_date")), department=row.get("reply_department"),
                         reply_length=row.get("reply_length"), detail_url=row.get("detail_url"),
                         date_flag=row.get("date_flag"))
