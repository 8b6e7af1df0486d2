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

Answers are stored as JSON (:func:`dumps` / :func:`loads`: plain values, dates, tuples, dicts and the
dataclasses of this package, nothing else), never pickled: reading a shared memo file runs no code from it.
An answer of a type the codec does not know is not stored. A rule marked ``personal`` (it reads a
letter: message titles, departments) has its answer stored only when the personal-data scrubber
(collectors.mailbox.scrub_pii) would change none of its text, so the memo never holds a phone number,
e-mail address or ID-card number from a letter (ARCHITECTURE "Personal data").

Reading a header a rule is not known to read (``Page.RULE_HEADERS``) makes the result unstorable.
Without an active memo (tests, audits, `sgi crawl --full`) the decorator calls the rule directly.
Only the outermost rule call is memoised: rules calling rules run inside it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import inspect
import json
from contextvars import ContextVar
from datetime import date, datetime, timedelta
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


# --- the stored form of an answer ----------------------------------------------------------------------
class Unstorable(TypeError):
    pass


def _encode(value):
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [_encode(v) for v in value]
    if kind is tuple:
        return {"$": "tuple", "v": [_encode(v) for v in value]}
    if kind is dict:
        return {"$": "dict", "v": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if kind is datetime:
        return {"$": "datetime", "v": value.isoformat()}
    if kind is date:
        return {"$": "date", "v": value.isoformat()}
    if issubclass(kind, tuple) and kind.__module__.startswith("collectors."):   # NamedTuple, ColumnLink
        encoded = {"$": "tuple-type", "c": f"{kind.__module__}:{kind.__qualname__}", "v": [_encode(v) for v in value]}
        if getattr(value, "__dict__", None):
            encoded["d"] = _encode(dict(vars(value)))
        return encoded
    if dataclasses.is_dataclass(value) and kind.__module__.startswith("collectors."):
        return {"$": "dataclass", "c": f"{kind.__module__}:{kind.__qualname__}",
                "v": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise Unstorable(f"{kind.__module__}.{kind.__qualname__}")


def _decode(data):
    if isinstance(data, list):
        return [_decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    tag, v = data["$"], data["v"]
    if tag == "tuple":
        return tuple(_decode(x) for x in v)
    if tag == "dict":
        return {_decode(k): _decode(x) for k, x in v}
    if tag == "datetime":
        return datetime.fromisoformat(v)
    if tag == "date":
        return date.fromisoformat(v)
    if tag == "tuple-type":
        cls = _answer_type(data["c"], lambda c: issubclass(c, tuple))
        obj = tuple.__new__(cls, [_decode(x) for x in v])
        if "d" in data:
            obj.__dict__.update(_decode(data["d"]))
        return obj
    if tag == "dataclass":
        cls = _answer_type(data["c"], dataclasses.is_dataclass)
        obj = object.__new__(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        if set(v) != names:
            raise ValueError(f"fields of {data['c']} changed")
        for name, x in v.items():
            object.__setattr__(obj, name, _decode(x))
        return obj
    raise ValueError(f"unknown tag {tag!r}")


def _answer_type(path: str, kind_ok: Callable) -> type:
    """A class of this package named in a stored answer (nothing else is ever looked up)."""
    module, _, qualname = path.partition(":")
    if not module.startswith("collectors."):
        raise ValueError(f"not a rule answer type: {path}")
    cls = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and kind_ok(cls)):
        raise ValueError(f"not a rule answer type: {path}")
    return cls


def dumps(value) -> bytes:
    """The stored form of a rule's answer; Unstorable for a type the codec does not know."""
    return json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(blob: bytes):
    return _decode(json.loads(blob.decode("utf-8")))


def _texts(data):
    """Every string in an encoded answer."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, list):
        for v in data:
            yield from _texts(v)
    elif isinstance(data, dict):
        for v in data.values():
            yield from _texts(v)


def holds_personal_data(blob: bytes) -> bool:
    from collectors.mailbox import scrub_pii

    return any(scrub_pii(text) != text for text in _texts(json.loads(blob.decode("utf-8"))))


# --- the decorator --------------------------------------------------------------------------------------
def page_rule(fn: Callable | None = None, *, date_arg: str | None = None, page_arg: str = "page",
              personal: bool = False):
    """Memoise a page rule (see the module). ``date_arg`` names the crawl-date parameter, if any; the
    page parameter (``page_arg``) may also be raw bytes (a body rule). Arguments left at their
    defaults are part of the key as defaults; an argument whose repr is not stable (an object
    without a value repr) must not be passed to a memoised rule -- lexicons are passed as None.
    ``personal``: the rule reads letters; an answer holding personal data is not stored."""

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
                    return loads(hit)
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
                    blob = dumps(value)
                    if personal and holds_personal_data(blob):
                        blob = None
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
