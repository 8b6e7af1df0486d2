"""A very large message board for scale benchmarks (issue 10: a 100,000-page crawl in bounded memory).

Not part of the default sample web (:func:`sgi.sampleweb.generate.build_sample_web` never calls it): it
is a separate :class:`SampleWeb` of one city with one 市长信箱 board in the hz-mayor layout (list pages
without dates, 20 messages a page, '下一页' paging; dates on the detail pages), so the mailbox spider
reads every list page and every detail page. Pages are generated when requested, from the message
number alone, and never held: the server's memory does not grow with the board.

    web = build_big_board_web(pages=100_000)       # ~95,238 messages + ~4,762 list pages
    with serve_sample_web(tmp, web=web) as running: ...

:func:`big_board_messages` gives the generated messages (for checks); :func:`expected_pages` the number of
pages a complete crawl fetches.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator, Optional

from sgi.sampleweb.generate import DEFAULT_SEED, REFERENCE_DATE
from sgi.sampleweb.mailbox import CATEGORIES, DEPTS, REPLY_SENTENCES, STATUS_TEXT, SUBJECTS
from sgi.sampleweb.model import Resource, SampleCity, SampleWeb, Site

HOST = "liuyan.bigboard.suzhou.gov.cn.test"
CITY = "320500"               # 苏州
BOARD_KEY = "big-mayor"
PER_PAGE = 20
LIST_PATH = "/mail/list.jsp"
DETAIL_PATH = "/mail/detail.jsp"
POPULATION = 12_950_000


@dataclass(frozen=True)
class BigMessage:
    number: int
    mid: str
    title: str
    category: str
    submitted: date
    status: str
    reply_date: Optional[date]
    dept: Optional[str]
    reply_text: Optional[str]


def message_count(pages: int) -> int:
    """Messages such that list pages + detail pages come to about ``pages``."""
    return max(1, pages * PER_PAGE // (PER_PAGE + 1))


def list_page_count(messages: int) -> int:
    return max(1, math.ceil(messages / PER_PAGE))


def expected_pages(messages: int) -> int:
    """Pages a complete crawl fetches: every list page and every detail page."""
    return list_page_count(messages) + messages


def big_message(seed: int, number: int, ref: date) -> BigMessage:
    """Message ``number`` (0 = newest), from its own random stream: the same on every request."""
    rng = random.Random(f"{seed}:bigboard:{number}")
    # Newest first, about 60 a day, so list order and dates agree.
    submitted = ref - timedelta(days=1 + number // 60)
    title = f"关于{rng.choice(SUBJECTS)}的{rng.choice(['问题', '咨询', '建议', '反映'])}"
    status, reply_date, dept, reply = "not_replied", None, None, None
    r = rng.random()
    if r < 0.8:
        delay = rng.randrange(0, 40)
        if submitted + timedelta(days=delay) <= ref:
            status, reply_date = "replied", submitted + timedelta(days=delay)
            dept = rng.choice(DEPTS)
            reply = "".join(rng.sample(REPLY_SENTENCES, rng.randrange(2, 7)))
        else:
            status = "in_progress"
    elif r < 0.9:
        status = "in_progress"
    return BigMessage(number, f"SZ{100000 + number}", title, rng.choice(CATEGORIES), submitted, status, reply_date,
                      dept, reply)


def big_board_messages(messages: int, seed: int = DEFAULT_SEED, ref: date = REFERENCE_DATE) -> Iterator[BigMessage]:
    for number in range(messages):
        yield big_message(seed, number, ref)


def _page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<div class="top"><a href="http://www.suzhou.gov.cn.test/">苏州市人民政府</a> &gt; 市长信箱</div>'
            f'{body}<div class="foot">主办：苏州市人民政府办公室</div></body></html>').encode("utf-8")


def list_page(seed: int, ref: date, messages: int, page_no: int) -> bytes:
    pages = list_page_count(messages)
    first = (page_no - 1) * PER_PAGE
    rows = []
    for number in range(first, min(first + PER_PAGE, messages)):
        m = big_message(seed, number, ref)
        rows.append(f'<li class="mail-item"><span class="lx">[{m.category}]</span>'
                    f'<a href="detail.jsp?id={m.mid}" target="_blank" title="{m.title}">{m.title}</a>'
                    f'<span class="zt">{STATUS_TEXT[m.status]}</span></li>\n')
    nav = f'<div class="page">共{pages}页 第{page_no}页 <a href="list.jsp">首页</a> '
    nav += f'<a href="list.jsp?pageNo={page_no - 1}">上一页</a> ' if page_no > 1 else ""
    nav += f'<a href="list.jsp?pageNo={page_no + 1}">下一页</a> ' if page_no < pages else ""
    nav += f'<a href="list.jsp?pageNo={pages}">尾页</a></div>'
    return _page("市长信箱", f'<ul class="mail-list">\n{"".join(rows)}</ul>{nav}')


def detail_page(seed: int, ref: date, number: int) -> bytes:
    m = big_message(seed, number, ref)
    if m.status == "replied":
        reply = (f'<tr><th>回复单位：</th><td>{m.dept}</td></tr>'
                 f'<tr><th>回复时间：</th><td>{m.reply_date.isoformat()}</td></tr>'
                 f'<tr><th>回复内容：</th><td><div class="hfnr"><p>{m.reply_text}</p></div></td></tr>')
    else:
        reply = '<tr><th>回复内容：</th><td>暂无回复</td></tr>'
    return _page(m.title, f'<table class="xx"><tr><th>信件标题：</th><td>{m.title}</td></tr>'
                          f'<tr><th>信件类型：</th><td>{m.category}</td></tr>'
                          f'<tr><th>来信时间：</th><td>{m.submitted.isoformat()}</td></tr>'
                          f'<tr><th>来信内容：</th><td>（来信内容不公开）</td></tr>'
                          f'<tr><th>办理状态：</th><td>{STATUS_TEXT[m.status]}</td></tr>{reply}</table>')


class LazyBoardResources(dict):
    """The board's resources, made on lookup (the server only calls ``get``); holds nothing."""

    def __init__(self, seed: int, ref: date, messages: int):
        super().__init__()
        self.seed, self.ref, self.messages = seed, ref, messages

    def get(self, path, default=None):
        body = self._body(path)
        return default if body is None else Resource(body)

    def __getitem__(self, path):
        resource = self.get(path)
        if resource is None:
            raise KeyError(path)
        return resource

    def __contains__(self, path) -> bool:
        return self._body(path) is not None

    def _body(self, path: str) -> bytes | None:
        base, _, query = path.partition("?")
        if base == LIST_PATH:
            if not query:
                return list_page(self.seed, self.ref, self.messages, 1)
            if query.startswith("pageNo=") and query[7:].isdigit():
                page_no = int(query[7:])
                if 1 <= page_no <= list_page_count(self.messages):
                    return list_page(self.seed, self.ref, self.messages, page_no)
        elif base == DETAIL_PATH and query.startswith("id=SZ") and query[5:].isdigit():
            number = int(query[5:]) - 100000
            if 0 <= number < self.messages:
                return detail_page(self.seed, self.ref, number)
        return None


def build_big_board_web(pages: int = 100_000, seed: int = DEFAULT_SEED,
                        reference_date: date = REFERENCE_DATE) -> SampleWeb:
    """A sample web holding only the big board (about ``pages`` pages) and its source entry."""
    messages = message_count(pages)
    web = SampleWeb(reference_date=reference_date, seed=seed)
    web.cities.append(SampleCity(CITY, "苏州市", POPULATION))
    site = Site(host=HOST, city_code=CITY, kind="mailbox", template="hanweb-mail",
                notes=f"scale benchmark: {messages} messages, generated on request")
    site.resources = LazyBoardResources(seed, reference_date, messages)
    web.add_site(site)
    web.sources.append({"city": CITY, "kind": "mailbox", "name": "苏州市市长信箱（规模测试）",
                        "start_url": f"http://{HOST}{LIST_PATH}", "allowed_domains": [HOST],
                        "options": {"board": BOARD_KEY, "type": "html", "population": POPULATION,
                                    "detail_link": r"detail\.jsp\?id=", "years_back": 1,
                                    "max_pages": list_page_count(messages) + 1}})
    return web
