"""Reading dates the way Chinese government pages print them.

Shared by the portal, message-board, policy and open-data collectors. Pure functions, no I/O.

Forms understood (full-width digits and punctuation are folded to ASCII first):

    2023-05-01   2023/5/1 10:22   2023.05.01   2023年5月1日   2023 年 05 月 01 日   2023-5-1
    20230501     only as a whole token (or a TRS-style URL part such as t20230501_123.html),
                 never inside a longer digit run such as a phone or document number
    5月1日  05-01  [06-12]  6/12
                 partial dates, only when a context year or date is given: the year is the
                 context year, and if that puts the date after ``context_date`` the previous
                 year is used (a list showing "12-28" read on 5 January is last December's).

Calendar badges ("12 2026-06": day and year-month in separate spans) are read by
:func:`parse_split_date` only, on a text that is nothing but the badge.

Partial dates in :func:`find_dates` need two-digit month and day for the dash/slash form
("06-12"), so ranges like "3-5" and fractions like "1/2" in running text are not read as dates.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Iterator, NamedTuple

MIN_YEAR, MAX_YEAR = 1980, 2100

# Year-month-day with any of the separators seen in the wild; the lookarounds keep the year from
# being the tail of a longer number and the day from being the head of one.
_FULL = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})(?:\s*日)?(?![0-9])"
)
# 8-digit compact date. Allowed only as a token on its own or after a URL-ish marker (TRS 't20230501').
_COMPACT = re.compile(
    r"(?:(?<=^)|(?<=[\s\[\(（【/_t]))(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?=$|[\s\]\)）】_./?#\-])"
)
_CN_PARTIAL = re.compile(r"(?<![0-9年./\-])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
# "06-12" / "06/12" in running text (two digits each); the lookarounds reject parts of longer
# dates, times (10:22) and numbers (0755-12345678).
_DASH_PARTIAL_STRICT = re.compile(r"(?<![0-9\-/.:])(?P<m>0[1-9]|1[0-2])[-/](?P<d>0[1-9]|[12]\d|3[01])(?![0-9\-/])")
_DASH_PARTIAL_LOOSE = re.compile(r"(?<![0-9\-/.:])(?P<m>\d{1,2})[-/](?P<d>\d{1,2})(?![0-9\-/])")
# A compact date preceded by these words is a phone/fax/document number, not a date.
_NUMBER_WORDS = re.compile(r"(电话|传真|手机|热线|tel|fax|编号|文号|号码|邮编)\s*[:：]?\s*$", re.I)


# Calendar-style date badges split into a big day and a small year-month: "12 2026-06", "2026.06 12".
_SPLIT_DAY_FIRST = re.compile(r"^\s*(?P<d>\d{1,2})\s*日?\s+(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*月?\s*$")
_SPLIT_YM_FIRST = re.compile(r"^\s*(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*月?\s+(?P<d>\d{1,2})\s*日?\s*$")


class DateMatch(NamedTuple):
    """A date found in a text, with where it was and whether the year was inferred."""

    date: date
    start: int
    end: int
    partial: bool  # True when the year came from context


def fold_text(text: str) -> str:
    """Full-width digits/letters/punctuation to ASCII (NFKC), keeping CJK characters."""
    return unicodedata.normalize("NFKC", text or "")


def _make(y: int, m: int, d: int) -> date | None:
    if not (MIN_YEAR <= y <= MAX_YEAR):
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _with_context_year(m: int, d: int, context_year: int | None, context_date: date | None) -> date | None:
    year = context_year or (context_date.year if context_date else None)
    if year is None:
        return None
    value = _make(year, m, d)
    if value is None and m == 2 and d == 29:  # 02-29 read in a non-leap context year
        value = _make(year - 1, m, d) if context_date else None
    if value is not None and context_date is not None and value > context_date:
        value = _make(value.year - 1, m, d)
    return value


def not_after(value: date, context_date: date, slack: timedelta = timedelta(0)) -> bool:
    """``value`` is not after the crawl date (give or take ``slack``)."""
    return value <= context_date + slack


def iter_date_matches(text: str, context_year: int | None = None, context_date: date | None = None,
                      loose_partial: bool = False) -> Iterator[DateMatch]:
    """All dates in ``text`` in reading order. Partial dates only with a context year/date."""
    text = fold_text(text)
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    found: list[DateMatch] = []
    for m in _FULL.finditer(text):
        value = _make(int(m["y"]), int(m["m"]), int(m["d"]))
        if value:
            taken.append(m.span())
            found.append(DateMatch(value, m.start(), m.end(), False))
    for m in _COMPACT.finditer(text):
        if not free(*m.span()) or _NUMBER_WORDS.search(text[max(0, m.start() - 8):m.start()]):
            continue
        value = _make(int(m["y"]), int(m["m"]), int(m["d"]))
        if value:
            taken.append(m.span())
            found.append(DateMatch(value, m.start(), m.end(), False))
    if context_year or context_date:
        partial_patterns = [_CN_PARTIAL, _DASH_PARTIAL_LOOSE if loose_partial else _DASH_PARTIAL_STRICT]
        for pattern in partial_patterns:
            for m in pattern.finditer(text):
                if not free(*m.span()):
                    continue
                value = _with_context_year(int(m["m"]), int(m["d"]), context_year, context_date)
                if value:
                    taken.append(m.span())
                    found.append(DateMatch(value, m.start(), m.end(), True))
    found.sort(key=lambda dm: dm.start)
    yield from found


def find_dates(text: str, context_year: int | None = None, context_date: date | None = None) -> Iterator[date]:
    """Yield every date in ``text`` in reading order (partial dates only with context)."""
    for match in iter_date_matches(text, context_year, context_date):
        yield match.date


def parse_cn_date(text: str, context_year: int | None = None, context_date: date | None = None) -> date | None:
    """The first date in ``text`` (a cell, a span, a line), or None.

    A short text that is only a partial date ("6-12", "[06-12]") is read loosely (one-digit
    month/day allowed), because a date cell holds nothing else.
    """
    if text is None:
        return None
    short = len(fold_text(text).strip()) <= 12
    for match in iter_date_matches(text, context_year, context_date, loose_partial=short):
        return match.date
    return None


def parse_split_date(text: str) -> date | None:
    """A date badge whose day and year-month are separate ("12 2026-06", "2026.06 12"); the whole
    text must be the badge, so running text is never read this way."""
    text = fold_text(text or "")
    for pattern in (_SPLIT_DAY_FIRST, _SPLIT_YM_FIRST):
        m = pattern.match(text)
        if m:
            return _make(int(m["y"]), int(m["m"]), int(m["d"]))
    return None
