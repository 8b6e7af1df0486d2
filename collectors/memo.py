"""Reading an unchanged page once: page rules memoised on what they read.

A page rule is a pure function of the page (URL, status, body, the headers rules read) and its other
arguments, so while a page's body is unchanged its facts are the ones read last time. An incremental
crawl answers most pages from the archive (not due, or a 304); reading them again is most of its work.
:func:`page_rule` marks a rule whose result may be taken from the memo instead.

What the key holds, so a hit is the value the rule would compute now:

* the rules fingerprint: every file of this package (code and lexicons), the indicator registry and
  the versions of the parsers (bs4, lxml) -- any change to them is a different key;
* the rule's name, the page identity (:meth:`Page.memo_identity`) and the other arguments' repr;
* the crawl date, as an interval: a rule given the crawl date reads dates against it (a list's
  "06-12" is this year's or last year's; a date after it is not an item date). While the rule runs,
  :mod:`collectors.dates` notes for which crawl dates its answer holds (:func:`note_valid`); the memo
  serves the entry only on those dates. A rule that reads the date in a way nothing notes would be
  wrong on a hit, so rules given the date are checked against a fresh reading on other dates over the
  whole sample web (tests/test_memo.py).

Reading a header a rule is not known to read (``Page.RULE_HEADERS``) makes the result unstorable.
Without an active memo (tests, audits, `sgi crawl --full`) the decorator calls the rule directly.
Only the outermost rule call is memoised: rules calling rules run inside it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import pickle
from contextvars import ContextVar
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Protocol


class MemoStore(Protocol):
    def get(self, key: str, on: date | None) -> bytes | None: ...

    def put(self, key: str, valid_from: date | None, valid_to: date | None, value: bytes) -> None: ...


_ACTIVE: MemoStore | None = None


def use(store: MemoStore | None) -> None:
    """Make ``store`` the memo of this process's page rules (None: rules always compute)."""
    global _ACTIVE
    _ACTIVE = store


def active() -> MemoStore | None:
    return _ACTIVE


class _Reading:
    """What one memoised rule call learnt while running: the crawl dates its answer holds for."""

    __slots__ = ("crawl_date", "lo", "hi", "storable")

    def __init__(self, crawl_date: date | None):
        self.crawl_date = crawl_date
        self.lo = date.min
        self.hi = date.max
        self.storable = True


_READING: ContextVar[_Reading | None] = ContextVar("sgi_rule_reading", default=None)


def note_valid(context_date: date | None, lo: date | None = None, hi: date | None = None) -> None:
    """The answer being read holds only for crawl dates in [lo, hi] (either open). Notes about a date
    that is not the memoised rule's crawl date (a rule's own constant) say nothing about it."""
    reading = _READING.get()
    if reading is None or context_date is None or context_date != reading.crawl_date:
        return
    if lo is not None and lo > reading.lo:
        reading.lo = lo
    if hi is not None and hi < reading.hi:
        reading.hi = hi


def note_exact(context_date: date | None) -> None:
    """The answer holds for this crawl date only."""
    note_valid(context_date, context_date, context_date)


def note_unstorable(why: str = "") -> None:
    reading = _READING.get()
    if reading is not None:
        reading.storable = False


def not_after(value: date, context_date: date, slack: timedelta = timedelta(0)) -> bool:
    """``value <= context_date + slack``, noting for which crawl dates the comparison comes out so."""
    if value <= context_date + slack:
        note_valid(context_date, lo=value - slack)
        return True
    note_valid(context_date, hi=value - slack - timedelta(days=1))
    return False


# --- the fingerprint of the rules ----------------------------------------------------------------------
_FINGERPRINT: str | None = None


def rules_fingerprint() -> str:
    """Digest of everything a page rule's answer depends on besides its arguments."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import bs4
        import lxml.etree
        import sys

        h = hashlib.sha256()
        here = Path(__file__).parent
        root = here.parent
        files = sorted(p for p in here.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".csv"))
        files += [root / "sgi" / "data" / "indicators.yaml", root / "sgi" / "yamlconf.py"]
        for path in files:
            if path.exists():
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
        h.update(f"bs4 {bs4.__version__} lxml {lxml.etree.LXML_VERSION} py {sys.version_info[:2]}".encode())
        _FINGERPRINT = h.hexdigest()[:16]
    return _FINGERPRINT


# --- the decorator --------------------------------------------------------------------------------------
def page_rule(fn: Callable | None = None, *, date_arg: str | None = None, page_arg: str = "page"):
    """Memoise a page rule (see the module). ``date_arg`` names the crawl-date parameter, if any; the
    page parameter (``page_arg``) may also be raw bytes (a body rule). Arguments left at their
    defaults are part of the key as defaults; an argument whose repr is not stable (an object
    without a value repr) must not be passed to a memoised rule -- lexicons are passed as None."""

    def wrap(rule: Callable) -> Callable:
        sig = inspect.signature(rule)
        name = f"{rule.__module__}.{rule.__qualname__}"

        @functools.wraps(rule)
        def memoised(*args, **kwargs):
            store = _ACTIVE
            if store is None or _READING.get() is not None:
                return rule(*args, **kwargs)
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            params = dict(bound.arguments)
            page = params.pop(page_arg)
            crawl_date = params.pop(date_arg) if date_arg else None
            if any(v is not None and not isinstance(v, (str, int, float, bool, date, tuple, dict, list))
                   for v in params.values()):
                return rule(*args, **kwargs)   # a lexicon or state object: no stable key
            identity = hashlib.sha1(page).hexdigest() if isinstance(page, (bytes, bytearray)) else page.memo_identity
            key = hashlib.sha1(f"{rules_fingerprint()}\0{name}\0{identity}\0{params!r}".encode()).hexdigest()
            try:
                hit = store.get(key, crawl_date)
            except Exception:   # a broken memo is a miss, never a wrong answer
                hit = None
            if hit is not None:
                try:
                    return pickle.loads(hit)
                except Exception:
                    pass
            reading = _Reading(crawl_date)
            token = _READING.set(reading)
            try:
                value = rule(*args, **kwargs)
            finally:
                _READING.reset(token)
            if reading.storable and reading.lo <= reading.hi:
                try:
                    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:
                    blob = None
                if blob is not None:
                    lo = reading.lo if crawl_date is not None else None
                    hi = reading.hi if crawl_date is not None else None
                    try:
                        store.put(key, lo, hi, blob)
                    except Exception:
                        pass
            return value

        memoised.memo_rule = rule   # the rule itself, for tests comparing memoised and fresh answers
        return memoised

    return wrap(fn) if fn is not None else wrap
