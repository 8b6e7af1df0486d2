"""The page-rule memo (collectors/memo.py, storage/memo.py): a memoised answer is the answer the rule
gives now -- for the crawl dates the memo serves it on, for pages of the sample web and for pages made
to sit on the edges (partial dates around the new year, dates just after the crawl date)."""

from __future__ import annotations

import pickle
import random
from datetime import date, timedelta

import pytest

from collectors import mailbox, memo, policy, portal
from collectors.dates import parse_cn_date
from collectors.page import Page
from storage.memo import PageRuleMemo


class DictMemo:
    """The MemoStore protocol over a list (what storage.memo does, without the file)."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.hits = 0

    def get(self, key, on):
        for k, lo, hi, value in self.rows:
            if k == key and (on is None or ((lo or date.min) <= on <= (hi or date.max))):
                self.hits += 1
                return value
        return None

    def put(self, key, lo, hi, value):
        self.rows.append((key, lo, hi, value))


@pytest.fixture
def store():
    s = DictMemo()
    memo.use(s)
    yield s
    memo.use(None)


def reading(fn, *args):
    """Run ``fn`` as a memoised rule would and return (value, [lo, hi]) for args[1] as the crawl date."""
    r = memo._Reading(args[1])
    token = memo._READING.set(r)
    try:
        return fn(*args), (r.lo, r.hi)
    finally:
        memo._READING.reset(token)


# --- the validity of a date reading ----------------------------------------------------------------------
@pytest.mark.parametrize("text", ["12-28", "01-03", "6月12日", "[06-12]", "02-29", "2026-03-04", "无日期"])
def test_a_partial_dates_validity_is_exactly_the_dates_that_read_it_the_same(text):
    read = lambda t, d: parse_cn_date(t, context_date=d)   # noqa: E731
    rng = random.Random(text)
    for _ in range(30):
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1100))
        value, (lo, hi) = reading(read, text, day)
        assert lo <= day <= hi
        probes = [lo, hi] + [lo + timedelta(days=rng.randrange(0, max(1, min((hi - lo).days, 5000)) + 1))
                             for _ in range(5)]
        for other in probes:
            if date(1990, 1, 1) <= other <= date(2090, 1, 1):
                assert read(text, other) == value, (text, day, other, lo, hi)
        # tight: the day after the interval reads differently (else the memo misses for nothing);
        # 02-29 is kept to its own crawl date on purpose (leap years make its interval irregular)
        if hi < date(2090, 1, 1) and value is not None and text != "02-29":
            assert read(text, hi + timedelta(days=1)) != value, (text, day, hi)


def test_not_after_notes_the_dates_the_comparison_holds_for():
    crawl = date(2026, 6, 30)
    r = memo._Reading(crawl)
    token = memo._READING.set(r)
    try:
        assert memo.not_after(date(2026, 6, 20), crawl, timedelta(days=2))
        assert not memo.not_after(date(2026, 7, 10), crawl, timedelta(days=2))
        # a note about another date (a rule's own constant) says nothing about the crawl date
        memo.note_exact(date(2000, 1, 1))
    finally:
        memo._READING.reset(token)
    assert (r.lo, r.hi) == (date(2026, 6, 18), date(2026, 7, 7))


# --- memoised answers equal fresh ones ---------------------------------------------------------------------
EDGE_LIST = """<html><body><ul class="list">
<li><a href="/a/1.html">关于年末工作安排的通知</a><span>12-28</span></li>
<li><a href="/a/2.html">关于元旦放假的通知</a><span>01-03</span></li>
<li><a href="/a/3.html">关于会议的通知</a><span>2026-07-02</span></li>
<li><a href="/a/4.html">关于招聘的公告</a><span>6月29日</span></li>
<li><a href="/a/5.html">市政府常务会议</a><span>[07-01]</span></li>
</ul><table><tr><td><a href="/m/detail?id=9">关于路灯的咨询</a></td><td>已回复</td><td>12-30</td><td>01-02</td></tr></table>
</body></html>"""

DATE_RULES = [
    ("portal.newest_item", lambda page, d: portal.newest_item(page, d)),
    ("portal.column_status", lambda page, d: portal.column_status(page, "news", d)),
    ("portal.extract_portal", lambda page, d: portal.extract_portal(page, d)),
    ("mailbox.parse_html_list", lambda page, d: mailbox.parse_html_list(page, d, {})),
    ("mailbox.parse_detail", lambda page, d: mailbox.parse_detail(page, d)),
    ("policy.parse_list", lambda page, d: policy.parse_list(page, d)),
]


def _fresh(name, page, day):
    memo_was = memo.active()
    memo.use(None)
    try:
        return dict(DATE_RULES)[name](Page(page.url, page.body, dict(page.headers), page.status), day)
    finally:
        memo.use(memo_was)


def _same(a, b) -> bool:
    return pickle.dumps(a) == pickle.dumps(b) or repr(a) == repr(b)


def check_dates(store, pages, first_days, other_days):
    hits_before = store.hits
    for page in pages:
        for name, rule in DATE_RULES:
            for first in first_days:
                store.rows.clear()
                rule(Page(page.url, page.body, dict(page.headers), page.status), first)  # fills the memo
                for other in other_days:
                    served = rule(Page(page.url, page.body, dict(page.headers), page.status), other)
                    fresh = _fresh(name, page, other)
                    assert _same(served, fresh), (name, page.url, first, other, served, fresh)
    return store.hits - hits_before


def test_answers_served_across_crawl_dates_equal_fresh_readings_on_edge_pages(store):
    page = Page("http://www.example.gov.cn.test/list.html", EDGE_LIST.encode(), {"Content-Type": "text/html"})
    firsts = [date(2026, 12, 27), date(2026, 12, 31), date(2026, 6, 30)]
    others = [date(2026, 12, 27) + timedelta(days=n) for n in range(0, 12)] + \
             [date(2026, 6, 28), date(2026, 7, 1), date(2026, 7, 5), date(2027, 6, 30), date(2025, 12, 31)]
    hits = check_dates(store, [page], firsts, others)
    assert hits > 0   # the memo did serve some of them (else this test proves nothing)


def sample_web_pages(limit: int = 60) -> list[Page]:
    from sgi.sampleweb.generate import build_sample_web

    web = build_sample_web()
    pages = []
    for site in web.sites.values():
        for path, res in site.resources.items():
            if callable(res.body) or "html" not in res.content_type or res.status != 200:
                continue
            pages.append(Page(f"http://{site.host}{path}", res.body, {"Content-Type": res.content_type}))
    rng = random.Random(20261122)
    # list-like pages hold the dates; keep them all, and a sample of the rest
    listy = [p for p in pages if any(w in p.url for w in ("list", "index", "col", "/", "mail"))]
    return rng.sample(listy, min(limit, len(listy)))


@pytest.mark.slow
def test_answers_served_across_crawl_dates_equal_fresh_readings_on_the_sample_web(store):
    from sgi.sampleweb.generate import REFERENCE_DATE

    pages = sample_web_pages(40)
    day = REFERENCE_DATE
    others = [day + timedelta(days=1), day + timedelta(days=2), day + timedelta(days=190), day - timedelta(days=3)]
    hits = check_dates(store, pages, [day], others)
    assert hits > len(pages)


# --- what may not be memoised -------------------------------------------------------------------------------
def test_a_rule_reading_an_unknown_header_is_not_stored(store):
    @memo.page_rule
    def server_of(page):
        return page.header("server")

    page = Page("http://a.test/", b"<html></html>", {"Server": "nginx"})
    assert server_of(page) == "nginx"
    assert store.rows == []


def test_rules_given_objects_without_a_value_repr_call_through(store):
    from collectors.lexicons import default_portal_lexicon

    page = Page("http://a.test/", EDGE_LIST.encode(), {"Content-Type": "text/html"})
    portal.column_links(page, default_portal_lexicon())
    assert store.rows == []
    portal.column_links(page)
    assert len(store.rows) == 1


def test_a_changed_body_or_header_is_a_different_page(store):
    page = Page("http://a.test/", EDGE_LIST.encode(), {"Content-Type": "text/html"})
    first = portal.column_status(page, "news", date(2026, 7, 1))
    changed = EDGE_LIST.replace("2026-07-02", "2026-07-01").replace("[07-01]", "[06-30]").encode()
    second = portal.column_status(Page(page.url, changed, dict(page.headers)), "news", date(2026, 7, 1))
    assert first != second
    gbk = Page(page.url, EDGE_LIST.encode(), {"Content-Type": "text/html; charset=gbk"})
    assert gbk.memo_identity != page.memo_identity


# --- the file -----------------------------------------------------------------------------------------------
def test_the_memo_file_keeps_entries_per_validity_and_prunes_older_rules(tmp_path):
    path = tmp_path / "m.sqlite"
    m = PageRuleMemo(path, "rulesA", batch=2)
    m.put("k", date(2026, 1, 1), date(2026, 12, 31), b"v2026")
    m.put("k", date(2027, 1, 1), None, b"v2027")
    m.put("free", None, None, b"any")
    assert m.get("k", date(2026, 6, 1)) == b"v2026"   # served from the unflushed batch too
    m.close()
    m = PageRuleMemo(path, "rulesA")
    assert m.get("k", date(2026, 6, 1)) == b"v2026"
    assert m.get("k", date(2030, 6, 1)) == b"v2027"
    assert m.get("k", date(2025, 6, 1)) is None
    assert m.get("free", None) == b"any" and m.get("free", date(2026, 1, 1)) == b"any"
    m.close()
    m = PageRuleMemo(path, "rulesB")                    # the rules changed: nothing old is served
    assert m.get("k", date(2026, 6, 1)) is None and m.get("free", None) is None
    m.close()


def test_entries_older_than_the_age_limit_are_pruned_on_open(tmp_path):
    path, now = tmp_path / "m.sqlite", [1_000_000_000.0]
    m = PageRuleMemo(path, "rules", clock=lambda: now[0])
    m.put("old", None, None, b"1")
    now[0] += 50 * 86400
    m.put("young", None, None, b"2")
    m.close()
    now[0] += 45 * 86400            # 'old' is 95 days old, 'young' 45
    m = PageRuleMemo(path, "rules", max_age_days=90, clock=lambda: now[0])
    assert m.get("old", None) is None and m.get("young", None) == b"2"
    m.close()


def test_an_unreadable_entry_is_computed_again(store):
    page = Page("http://a.test/", EDGE_LIST.encode(), {"Content-Type": "text/html"})
    right = portal.column_links(page)
    key, lo, hi, _ = store.rows[0]
    store.rows[:] = [(key, lo, hi, b"not a pickle")]
    assert portal.column_links(Page(page.url, page.body, dict(page.headers))) == right


def test_the_fingerprint_covers_the_rules_and_their_lexicons():
    from pathlib import Path

    import collectors

    here = Path(collectors.__file__).parent
    assert (here / "lexicons" / "portal.yaml").exists()
    memo._FINGERPRINT = None
    before = memo.rules_fingerprint()
    original = memo.Path.read_bytes

    def edited(self):
        data = original(self)
        return data + b"\n# edited" if self.name == "portal.yaml" else data

    memo.Path.read_bytes = edited
    try:
        memo._FINGERPRINT = None
        assert memo.rules_fingerprint() != before
    finally:
        memo.Path.read_bytes = original
        memo._FINGERPRINT = None
    assert memo.rules_fingerprint() == before


# --- what the memo file may hold (issue 23 D20) ----------------------------------------------------------------
PICKLE_RAN = []


def _mark_pickle_ran():
    PICKLE_RAN.append(True)
    return "from a pickle"


class _Tampered:
    def __reduce__(self):
        return (_mark_pickle_ran, ())


def test_a_stored_entry_is_never_unpickled(store):
    page = Page("http://a.test/", EDGE_LIST.encode(), {"Content-Type": "text/html"})
    right = portal.column_links(page)
    key, lo, hi, _ = store.rows[0]
    store.rows[:] = [(key, lo, hi, pickle.dumps(_Tampered()))]     # a shared file someone wrote into
    assert portal.column_links(Page(page.url, page.body, dict(page.headers))) == right
    assert PICKLE_RAN == []


def test_answers_are_stored_as_json_and_read_back_equal(store):
    import json

    page = Page("http://www.example.gov.cn.test/list.html", EDGE_LIST.encode(), {"Content-Type": "text/html"})
    day = date(2026, 12, 31)
    for name, rule in DATE_RULES:
        rule(page, day)
    assert len(store.rows) == len(DATE_RULES)
    for _, _, _, blob in store.rows:
        json.loads(blob)
    hits = store.hits
    for name, rule in DATE_RULES:     # served from the JSON entries: what a fresh reading gives
        assert _same(rule(Page(page.url, page.body, dict(page.headers)), day), _fresh(name, page, day)), name
    assert store.hits >= hits + len(DATE_RULES)


LETTERS = """<html><body><table>
<tr><td><a href="/m/detail?id=1">关于占道经营的问题（联系电话19738445813）</a></td><td>已回复</td><td>06-01</td></tr>
<tr><td><a href="/m/detail?id=2">关于噪音扰民 请回复 someone@example.com</a></td><td>已回复</td><td>06-02</td></tr>
</table></body></html>"""
DETAIL = """<html><body><div>标题：我的身份证号110101199003071234办不了证</div><div>提交时间：2026-06-01</div>
<div>回复单位：市城管局 电话 0571-87654321</div><div>回复时间：2026-06-03</div><div>回复内容：已处理。</div></body></html>"""


def test_answers_read_from_letters_with_personal_data_are_not_stored(store):
    from collectors.mailbox import find_pii

    day = date(2026, 6, 30)
    letters = Page("http://www.example.gov.cn.test/m/list", LETTERS.encode(), {"Content-Type": "text/html"})
    detail = Page("http://www.example.gov.cn.test/m/detail?id=1", DETAIL.encode(), {"Content-Type": "text/html"})
    messages = mailbox.parse_html_list(letters, day, {})
    assert any(find_pii(m.title) for m in messages)          # the rule itself reads the titles as they are
    assert any(find_pii(v) for v in vars(mailbox.parse_detail(detail, day)).values() if isinstance(v, str))
    assert store.rows == []
    # and the same rules' answers without personal data are memoised as before
    clean = Page(letters.url, LETTERS.replace("（联系电话19738445813）", "").replace(" someone@example.com", "")
                 .encode(), {"Content-Type": "text/html"})
    mailbox.parse_html_list(clean, day, {})
    assert len(store.rows) == 1 and not find_pii(store.rows[0][3].decode("utf-8"))
