"""The memo of page-rule answers (collectors/memo.py), kept in a SQLite file beside the WARC archive.

It is a cache, not evidence: every entry can be computed again from the archived body it was read
from, and a missing, stale or unreadable memo only costs time. Keys hold the rules fingerprint, so
entries of older rules are never served; they are pruned when the memo is opened with new rules, and
entries older than ``max_age_days`` are pruned too (a changed page leaves its old entries behind; an
unchanged one is read again once per period), so the file does not grow without bound.
Plain sqlite3 (no ORM): a lookup is one indexed SELECT, which is the point of having it.

Several crawl processes on one machine may share the file (WAL, busy timeout); writes are batched.
Entries are JSON (collectors/memo.py dumps/loads), never pickles: a shared or tampered file can make the
memo serve wrong answers to this program, never run code. Answers read from letters are stored only
when they hold no personal data (scrubbed text is all it may hold).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

logger = logging.getLogger(__name__)

FILE_NAME = "extraction-memo.sqlite"
_OPEN_FROM, _OPEN_TO = "0001-01-01", "9999-12-31"

SCHEMA = """
CREATE TABLE IF NOT EXISTS page_rule_memo (
    key TEXT NOT NULL,            -- sha1 of rules fingerprint, rule, page identity, arguments
    valid_from TEXT NOT NULL,     -- crawl dates the answer holds for (ISO; open ends as 0001/9999)
    valid_to TEXT NOT NULL,
    fingerprint TEXT NOT NULL,    -- the rules fingerprint (for pruning)
    value BLOB NOT NULL,          -- the answer as JSON (collectors.memo.dumps)
    stored_at REAL NOT NULL,
    PRIMARY KEY (key, valid_from, valid_to)
);
CREATE INDEX IF NOT EXISTS page_rule_memo_fingerprint ON page_rule_memo (fingerprint);
"""


class PageRuleMemo:
    """get/put for collectors.memo, with writes buffered and flushed every ``batch`` entries."""

    def __init__(self, path: str | Path, fingerprint: str, batch: int = 200, max_age_days: float = 90,
                 clock=time.time):
        self.path = Path(path)
        self.clock = clock
        self.fingerprint = fingerprint
        self.batch = batch
        self.hits = self.misses = 0
        self._pending: list[tuple] = []
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        pruned = self.conn.execute("DELETE FROM page_rule_memo WHERE fingerprint != ? OR stored_at < ?",
                                   (fingerprint, clock() - max_age_days * 86400)).rowcount
        if pruned:
            logger.info("page-rule memo %s: %d entries of older rules or over %s days pruned", self.path, pruned,
                        max_age_days)

    def get(self, key: str, on: date | None) -> bytes | None:
        day = on.isoformat() if on is not None else None
        with self._lock:
            if day is None:
                row = self.conn.execute("SELECT value FROM page_rule_memo WHERE key = ? LIMIT 1", (key,)).fetchone()
            else:
                row = self.conn.execute("SELECT value FROM page_rule_memo WHERE key = ? AND valid_from <= ? "
                                        "AND valid_to >= ? LIMIT 1", (key, day, day)).fetchone()
            if row is None:
                row = next((p for p in self._pending if p[0] == key
                            and (day is None or p[1] <= day <= p[2])), None)
                row = (row[4],) if row else None
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return row[0]

    def put(self, key: str, valid_from: date | None, valid_to: date | None, value: bytes) -> None:
        lo = valid_from.isoformat() if valid_from not in (None, date.min) else _OPEN_FROM
        hi = valid_to.isoformat() if valid_to not in (None, date.max) else _OPEN_TO
        with self._lock:
            self._pending.append((key, lo, hi, self.fingerprint, value, self.clock()))
            if len(self._pending) >= self.batch:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            with self.conn:
                self.conn.execute("BEGIN")
                self.conn.executemany("INSERT OR REPLACE INTO page_rule_memo VALUES (?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:   # a cache that cannot be written is a slower crawl, not a failed one
            logger.warning("page-rule memo %s not written (%d entries): %s", self.path, len(rows), exc)

    def close(self) -> None:
        self.flush()
        self.conn.close()
