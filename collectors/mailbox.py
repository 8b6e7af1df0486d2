"""Message boards and mailboxes (市长信箱 / 书记信箱 / 12345 公示 / 人民网领导留言板): pure rules.

Three kinds of input, all testable on saved pages / answers:

* list pages (HTML): rows of messages; a header row, when there is one, says which column is what
  (编号 / 标题 / 类型 / 受理时间 / 状态 / 承办单位 / 办结时间 ...), see :func:`parse_html_list`;
* detail pages (HTML): label-value pairs (来信时间: ..., 回复单位: ..., 回复内容 ...), see
  :func:`parse_detail`; the letter's own text (来信内容) is never read into anything kept;
* JSON answers of API boards, with a field mapping from the source file, see :func:`parse_json_list`.

Personal data: everything kept from a message (title, category, department) goes through
:func:`scrub_pii`, which replaces mobile and landline phone numbers, 18-digit ID-card numbers (with a
final X) and e-mail addresses by placeholders. Reply texts are measured (:func:`text_length`), not kept.

Statistics (:func:`board_stats`) follow ``sgi/data/indicators.yaml``:

* a message belongs to a period by its submission date; messages whose submission date could not be
  read (detail page missing) are counted as ``undated`` and left out of every period;
* ``reply_rate`` = replied / messages; a message is replied when its status says so or a reply date
  or reply text was read;
* reply delay = reply date - submission date in whole calendar days; a reply dated before its message
  is *flagged* (``date_flag``) and left out of the delay statistics and of the within-15-days numerator
  (it still counts as replied);
* median: the usual median (mean of the two middle values for an even count);
* p90: **nearest-rank** percentile: the smallest delay d such that at least 90 % of the delays are <= d,
  i.e. ``sorted(delays)[ceil(0.9 * n) - 1]``; it is always an observed delay;
* ``replied_within_15d_share`` = messages replied with a valid delay <= 15 days / all messages of the period;
* ``reply_length_median``: median of reply lengths in characters, whitespace not counted, over replies
  whose text was read.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

from collectors.base import NOT_APPLICABLE, OK, Finding
from collectors.dates import fold_text, parse_cn_date
from collectors.page import Page

RULE_VERSION = "1"
CODES = ("messages_total", "messages_per_10k", "reply_rate", "reply_delay_median_days", "reply_delay_p90_days",
         "replied_within_15d_share", "reply_length_median")

REPLIED, IN_PROGRESS, NOT_REPLIED = "replied", "in_progress", "not_replied"
REPLY_BEFORE_SUBMIT = "reply_before_submit"
WITHIN_DAYS = 15
CHINA_TZ = timezone(timedelta(hours=8))

# ---------------------------------------------------------------------------------------------------
# Personal data
# ---------------------------------------------------------------------------------------------------

_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_ID_CARD = r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]|\d{17}[\dXx]"
# Mobiles: 11 digits 1[3-9]..., optionally +86 / 86 and separators (138 1234 5678, 138-1234-5678).
_MOBILE = r"(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d{4}){2}"
# Landlines: area code 0xx / 0xxx (optionally in brackets) + 7-8 digits, with '-' or a space or brackets
# between; an extension (-123 / 转123) is part of it.
_LANDLINE = r"(?:[(（]0\d{2,3}[)）]\s*|0\d{2,3}[\s\-－—])\d{7,8}(?:(?:-|转)\d{1,5})?"
# A landline without separator ('07712812345') is only read after a phone word.
_PHONE_WORD_NUMBER = r"(?P<word>(?:电话|手机|联系|热线|座机|号码|tel|Tel|TEL)[:：\s]*)0\d{9,11}"

_DIGIT_EDGE = (r"(?<![0-9])", r"(?![0-9])")
_TOKEN_EDGE = (r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])")


def _pii_patterns(edge: tuple[str, str]) -> list[tuple[str, re.Pattern]]:
    before, after = edge
    return [("email", re.compile(_EMAIL)),
            ("id_card", re.compile(before + "(?:" + _ID_CARD + ")" + after)),
            ("phone", re.compile(before + "(?:" + _LANDLINE + ")" + after)),
            ("phone", re.compile(before + _MOBILE + after)),
            ("phone", re.compile(_PHONE_WORD_NUMBER + after))]


_SCRUB = _pii_patterns(_DIGIT_EDGE)
_SCAN = _pii_patterns(_TOKEN_EDGE)
PLACEHOLDER = {"email": "[邮箱]", "id_card": "[身份证号]", "phone": "[电话]"}


def scrub_pii(text: Optional[str]) -> Optional[str]:
    """Replace phone numbers (mobile and landline), ID-card numbers and e-mail addresses by placeholders.

    Full-width digits are folded first, so '１３８…' is caught as well. ID-card numbers are replaced
    before phones (an ID number contains mobile-like runs)."""
    if text is None:
        return None
    out = fold_text(text)
    for kind, pattern in _SCRUB:
        out = pattern.sub(lambda m: (m.groupdict().get("word") or "") + PLACEHOLDER[kind], out)
    return out


def find_pii(text: Optional[str], token_boundary: bool = True) -> list[tuple[str, str]]:
    """(kind, match) for every phone / ID-card / e-mail in ``text``.

    With ``token_boundary`` a number must stand apart from letters as well as digits, so hex digests
    and identifiers ('a13812345678f…') are not reported; :func:`scrub_pii` is stricter (digits only)."""
    if not text:
        return []
    folded = fold_text(text)
    found = []
    for kind, pattern in (_SCAN if token_boundary else _SCRUB):
        found.extend((kind, m.group(0)) for m in pattern.finditer(folded))
    return found


def text_length(text: Optional[str]) -> int:
    """Characters of a text without whitespace (how reply length is measured)."""
    return len("".join(fold_text(text or "").split()))


# ---------------------------------------------------------------------------------------------------
# Lexicons
# ---------------------------------------------------------------------------------------------------

_STATUS_WORDS = [
    (NOT_REPLIED, re.compile(r"未回复|未答复|待回复|待答复|未办结|未处理|待处理|未受理|暂无回复|尚未回复")),
    (IN_PROGRESS, re.compile(r"办理中|处理中|已受理|正在办理|已转办|转办中|受理中|已交办|在办")),
    (REPLIED, re.compile(r"已回复|已答复|已办结|已处理|已反馈|办结|已完成|已回应|回复完成")),
]
_CATEGORY = re.compile(r"咨询|投诉|建议|求助|举报|表扬|感谢|意见|求决|反映")

# Column headers / detail labels -> field
_LABELS = [
    ("message_id", re.compile(r"^(?:工单|信件|留言|诉求|来信)?(?:编号|编码|单号|流水号|受理号)$")),
    ("submitted", re.compile(r"(?:来信|留言|写信|提交|受理|发布|登记|诉求|来电|投诉)(?:时间|日期)")),
    ("reply_date", re.compile(r"(?:回复|答复|办结|处理|反馈|回应)(?:时间|日期)")),
    ("department", re.compile(r"(?:回复|答复|承办|办理|处理|受理|责任)(?:单位|部门|机构)")),
    ("status", re.compile(r"(?:办理|处理|回复|答复)?(?:状态|情况)$")),
    ("category", re.compile(r"(?:信件|留言|诉求|来信)?(?:类型|类别|分类|性质)$")),
    ("title", re.compile(r"(?:信件|留言|诉求|来信)?(?:标题|主题|事项)$")),
]
_REPLY_TEXT_LABEL = re.compile(r"^(?:回复|答复|办理|处理|回应)(?:内容|意见|结果|情况)|^办理结果|^处理结果")
_LETTER_TEXT_LABEL = re.compile(r"^(?:来信|留言|诉求|信件|投诉)(?:内容|正文|详情)")
_NO_REPLY_TEXT = re.compile(r"^(?:暂无(?:回复|答复|办理结果|结果)?(?:内容|信息)?|无|--|-|—)?$")


def classify_status(text: str) -> Optional[str]:
    text = re.sub(r"\s+", "", text or "")
    for status, pattern in _STATUS_WORDS:
        if pattern.search(text):
            return status
    return None


def classify_category(text: str) -> Optional[str]:
    m = _CATEGORY.search(text or "")
    return m.group(0) if m else None


def _label_field(text: str) -> Optional[str]:
    text = re.sub(r"[\s:：]+", "", fold_text(text or ""))
    if not text or len(text) > 12:
        return None
    for name, pattern in _LABELS:
        if pattern.search(text):
            return name
    return None


# ---------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------

@dataclass
class Message:
    """One message as read from a list page / detail page / API answer. No letter body, ever."""

    message_id: str
    title: Optional[str] = None
    category: Optional[str] = None
    status: Optional[str] = None            # replied / in_progress / not_replied
    submitted: Optional[date] = None
    reply_date: Optional[date] = None
    department: Optional[str] = None
    reply_length: Optional[int] = None
    detail_url: Optional[str] = None
    date_flag: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @property
    def replied(self) -> bool:
        return self.status == REPLIED or self.reply_date is not None or bool(self.reply_length)

    def scrubbed(self) -> "Message":
        return replace(self, title=scrub_pii(self.title), category=scrub_pii(self.category),
                       department=scrub_pii(self.department))

    def check_dates(self) -> "Message":
        if self.submitted and self.reply_date and self.reply_date < self.submitted:
            self.date_flag = REPLY_BEFORE_SUBMIT
        elif self.date_flag == REPLY_BEFORE_SUBMIT:
            self.date_flag = None
        return self


def _clean(text: Optional[str]) -> str:
    return " ".join((text or "").split())


def message_id_from_url(url: str, id_param: Optional[str] = None) -> str:
    """The message id in a detail URL: the given query parameter, else a parameter named like an id,
    else the last path segment without extension."""
    parts = urlsplit(url)
    qs = parse_qs(parts.query)
    for name in ([id_param] if id_param else []) + ["id", "tid", "msgId", "messageId", "letterId", "xjid",
                                                    "guid", "wid", "sid", "code"]:
        if name and qs.get(name):
            return qs[name][0]
    segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"\.\w+$", "", segment) or url


def _cell_texts(row) -> list[str]:
    return [_clean(c.get_text(" ")) for c in row.find_all(["td", "th"], recursive=False)]


def _detail_link(row, page: Page, link_pattern: Optional[str]):
    best = None
    for a in row.find_all("a", href=True):
        href = a["href"].strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        if link_pattern and not re.search(link_pattern, href):
            continue
        text = _clean(a.get("title") or a.get_text(" "))
        if best is None or len(text) > len(best[1]):
            best = (page.absolute(href), text)
    return best


def parse_html_list(page: Page, context_date: date, options: dict | None = None) -> list[Message]:
    """Messages on a list page. Rows are table rows (``tr``) or list items (``li``) holding a link to a
    detail page; a header row, when present, names the columns; without one, cells are read by
    content (a status word, a category word, dates: first = submitted, second = reply)."""
    options = options or {}
    soup = page.soup
    link_pattern = options.get("detail_link")
    rows = soup.select(options["row_selector"]) if options.get("row_selector") else soup.find_all(["tr", "li"])
    header: Optional[list[Optional[str]]] = None
    out: list[Message] = []
    for row in rows:
        if row.name == "tr":
            cells = _cell_texts(row)
            fields = [_label_field(c) for c in cells]
            if sum(f is not None for f in fields) >= 2 and not row.find("a", href=True):
                header = fields
                continue
        link = _detail_link(row, page, link_pattern)
        if link is None:
            continue
        url, link_text = link
        msg = Message(message_id="", title=link_text or None, detail_url=url)
        cells = _cell_texts(row) if row.name == "tr" else [_clean(x.get_text(" ")) for x in row.find_all(
            ["span", "em", "i", "div", "font"], recursive=False)]
        if header and row.name == "tr" and len(cells) == len(header):
            for name, text in zip(header, cells):
                _assign(msg, name, text, context_date)
        else:
            dates = []
            for text in cells:
                if text == link_text:
                    continue
                st = classify_status(text)
                if st and len(text) <= 8 and msg.status is None:
                    msg.status = st
                    continue
                cat = classify_category(text)
                if cat and len(text) <= 6 and msg.category is None:
                    msg.category = cat
                    continue
                d = parse_cn_date(text, context_date=context_date) if len(text) <= 24 else None
                if d:
                    dates.append(d)
            if dates:
                msg.submitted = dates[0]
            if len(dates) > 1:
                msg.reply_date = dates[1]
        if not msg.message_id:
            msg.message_id = message_id_from_url(url, options.get("id_param"))
        if msg.status is None and msg.reply_date is not None:
            msg.status = REPLIED
        out.append(msg.check_dates())
    return out


def _assign(msg: Message, name: Optional[str], text: str, context_date: date) -> None:
    if not name or not text:
        return
    if name == "message_id":
        msg.message_id = text
    elif name == "title":
        msg.title = msg.title or text
    elif name == "category":
        msg.category = text
    elif name == "status":
        msg.status = classify_status(text)
    elif name == "department":
        msg.department = text if not _NO_REPLY_TEXT.match(text) else None
    elif name == "submitted":
        msg.submitted = parse_cn_date(text, context_date=context_date)
    elif name == "reply_date":
        msg.reply_date = parse_cn_date(text, context_date=context_date)


_PAGES = re.compile(r"共\s*(\d+)\s*页|页次\s*[:：]?\s*\d+\s*/\s*(\d+)|\d+\s*/\s*(\d+)\s*页")
_NEXT = re.compile(r"^\s*(?:下一页|下页|后页|>|›|»|＞)\s*$")


def page_count(page: Page) -> Optional[int]:
    m = _PAGES.search(fold_text(page.soup.get_text(" ")))
    if not m:
        return None
    return int(next(g for g in m.groups() if g))


def next_page_url(page: Page) -> Optional[str]:
    """The '下一页' link of a list page (None on the last page or when paging is by script)."""
    for a in page.soup.find_all("a", href=True):
        if _NEXT.match(a.get_text(" ")) or _NEXT.match(a.get("title") or ""):
            href = a["href"].strip()
            if href and not href.startswith(("#", "javascript:")):
                url = page.absolute(href)
                return None if url == page.url else url
    return None


def page_urls(template: str, pages: int) -> list[str]:
    """List pages 2..pages from a template: ``{n}`` is the 1-based page number, ``{i}`` the 0-based
    index (TRS: index.html, index_1.html ...)."""
    return [template.format(n=n, i=n - 1) for n in range(2, pages + 1)]


# --- detail pages ---------------------------------------------------------------------------------

@dataclass
class Detail:
    submitted: Optional[date] = None
    reply_date: Optional[date] = None
    department: Optional[str] = None
    reply_length: Optional[int] = None
    status: Optional[str] = None
    title: Optional[str] = None
    category: Optional[str] = None


def _block_after_label(node) -> str:
    """Text that belongs to a label element: the rest of its own element, else its next sibling element."""
    el = node.parent
    own = _clean(el.get_text(" "))
    label = _clean(str(node))
    rest = own[len(label):].lstrip(" :：") if own.startswith(label) else ""
    if len(rest) >= 2:
        return rest
    sib = el.find_next_sibling()
    while sib is not None and not _clean(sib.get_text(" ")):
        sib = sib.find_next_sibling()
    return _clean(sib.get_text(" ")) if sib is not None else ""


def parse_detail(page: Page, context_date: date) -> Detail:
    """Dates, department, status and reply length from a message's detail page (label: value pairs).

    The letter text (来信内容) is skipped on purpose. A reply text that is only '暂无回复' counts as none."""
    d = Detail()
    soup = page.soup
    for tag in soup(["script", "style"]):
        tag.decompose()
    for node in soup.find_all(string=True):
        raw = _clean(str(node))
        if not raw or len(raw) > 40:
            continue
        label, inline = re.split(r"[:：]", raw, maxsplit=1) if re.search(r"[:：]", raw) else (raw, "")
        label = label.strip()
        if _LETTER_TEXT_LABEL.match(label):
            continue
        if _REPLY_TEXT_LABEL.match(label) and d.reply_length is None:
            text = inline.strip() if len(inline.strip()) >= 2 else _block_after_label(node)
            if text and not _NO_REPLY_TEXT.match(text):
                d.reply_length = text_length(text)
            continue
        name = _label_field(label)
        if not name:
            continue
        value = inline.strip() or _block_after_label(node)
        if name == "submitted" and d.submitted is None:
            d.submitted = parse_cn_date(value, context_date=context_date)
        elif name == "reply_date" and d.reply_date is None:
            d.reply_date = parse_cn_date(value, context_date=context_date)
        elif name == "department" and d.department is None and value and not _NO_REPLY_TEXT.match(value):
            d.department = value[:60]
        elif name == "status" and d.status is None:
            d.status = classify_status(value)
        elif name == "category" and d.category is None:
            d.category = classify_category(value) or value[:20]
        elif name == "title" and d.title is None:
            d.title = value[:200]
    if d.status is None and (d.reply_date or d.reply_length):
        d.status = REPLIED
    return d


def merge_detail(msg: Message, detail: Detail) -> Message:
    """The detail page's readings complete (and, for dates and status, override) the list's."""
    return replace(msg, submitted=detail.submitted or msg.submitted, reply_date=detail.reply_date or msg.reply_date,
                   department=detail.department or msg.department, reply_length=detail.reply_length
                   if detail.reply_length is not None else msg.reply_length,
                   status=detail.status or msg.status, title=msg.title or detail.title,
                   category=msg.category or detail.category).check_dates()


# --- JSON answers ---------------------------------------------------------------------------------

def json_get(data: Any, path: Optional[str]) -> Any:
    """'a.b.0.c' into nested dicts / lists; None when any step is missing."""
    if not path:
        return None
    cur = data
    for part in path.split("."):
        if isinstance(cur, list) and part.isdigit():
            cur = cur[int(part)] if int(part) < len(cur) else None
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
        if cur is None:
            return None
    return cur


def json_date(value: Any, context_date: date) -> Optional[date]:
    """Unix seconds / milliseconds (read in China time) or a date text."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{10}|\d{13}", value)):
        secs = float(value)
        if secs > 1e11:
            secs /= 1000
        return datetime.fromtimestamp(secs, CHINA_TZ).date()
    return parse_cn_date(str(value), context_date=context_date)


DEFAULT_JSON_FIELDS = {
    "list": "responseData.list", "total": "responseData.total", "ok_field": "result", "ok_value": "success",
    "id": "tid", "title": "threadTitle", "category": "typeName", "submitted": "dateline", "status": "stateInfo",
    "reply_date": "answerInfo.answerTime", "department": "answerInfo.answerOrg",
    "reply_text": "answerInfo.answerContent",
}


class ApiError(ValueError):
    """The API answered, but not with data (bad signature, expired timestamp, rate limit)."""


def parse_json_list(body: bytes | str | dict, context_date: date, fields: dict | None = None) -> tuple[list[Message], Optional[int]]:
    """Messages and the total count from one page of a JSON board API (mapping: DEFAULT_JSON_FIELDS
    overridden by the source file's ``fields``). Raises ApiError on an error answer."""
    f = {**DEFAULT_JSON_FIELDS, **(fields or {})}
    data = body if isinstance(body, dict) else json.loads(body)
    if f.get("ok_field") and str(json_get(data, f["ok_field"])) != str(f["ok_value"]):
        raise ApiError(str(data.get("message") or data.get("msg") or data)[:200])
    items = json_get(data, f["list"]) or []
    total = json_get(data, f.get("total"))
    out = []
    for item in items:
        reply_text = json_get(item, f.get("reply_text"))
        status_raw = json_get(item, f.get("status"))
        msg = Message(message_id=str(json_get(item, f["id"])),
                      title=_clean(str(json_get(item, f["title"]) or "")) or None,
                      category=(str(json_get(item, f.get("category")) or "") or None),
                      status=classify_status(str(status_raw)) if status_raw is not None else None,
                      submitted=json_date(json_get(item, f["submitted"]), context_date),
                      reply_date=json_date(json_get(item, f.get("reply_date")), context_date),
                      department=(_clean(str(json_get(item, f.get("department")) or "")) or None),
                      reply_length=text_length(str(reply_text)) if reply_text else None)
        if msg.status is None and msg.reply_date is not None:
            msg.status = REPLIED
        out.append(msg.check_dates())
    return out, int(total) if total is not None else None


def dedupe(messages: Iterable[Message]) -> list[Message]:
    """One message per id (duplicates across pages): the reading with more information wins."""
    seen: dict[str, Message] = {}
    for m in messages:
        old = seen.get(m.message_id)
        if old is None or _info(m) > _info(old):
            seen[m.message_id] = m
    return list(seen.values())


def _info(m: Message) -> int:
    return sum(x is not None for x in (m.submitted, m.reply_date, m.reply_length, m.department, m.status))


# ---------------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    key: str          # 'YYYY' or 'R365:YYYY-MM-DD'
    start: date       # inclusive
    end: date         # inclusive


def periods(crawl_date: date, years_back: int = 1) -> list[Period]:
    """Calendar years from ``years_back`` years before the crawl year to the crawl year (the crawl year
    is year-to-date), and the rolling 365 days ending on the crawl date (crawl_date-364 .. crawl_date)."""
    out = [Period(str(y), date(y, 1, 1), min(date(y, 12, 31), crawl_date))
           for y in range(crawl_date.year - years_back, crawl_date.year + 1)]
    out.append(Period(f"R365:{crawl_date.isoformat()}", crawl_date - timedelta(days=364), crawl_date))
    return out


def nearest_rank(values: list[float], q: float) -> Optional[float]:
    """Nearest-rank percentile: the smallest value with at least q of the values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Stats:
    messages: int
    replied: int
    flagged: int                         # replies dated before their message
    delays: list[int]
    within: int
    lengths: list[int]
    population: Optional[int] = None

    def values(self) -> dict[str, Optional[float]]:
        n = self.messages
        return {
            "messages_total": n,
            "messages_per_10k": round(n / self.population * 10000, 4) if self.population else None,
            "reply_rate": round(self.replied / n, 4) if n else None,
            "reply_delay_median_days": round(float(statistics.median(self.delays)), 2) if self.delays else None,
            "reply_delay_p90_days": float(nearest_rank(self.delays, 0.9)) if self.delays else None,
            "replied_within_15d_share": round(self.within / n, 4) if n else None,
            "reply_length_median": round(float(statistics.median(self.lengths)), 2) if self.lengths else None,
        }


def board_stats(messages: Iterable[Message], period: Period, population: Optional[int] = None) -> Stats:
    chosen = [m for m in messages if m.submitted and period.start <= m.submitted <= period.end]
    replied = [m for m in chosen if m.replied]
    delays = [(m.reply_date - m.submitted).days for m in replied
              if m.reply_date and m.date_flag != REPLY_BEFORE_SUBMIT and m.reply_date >= m.submitted]
    return Stats(messages=len(chosen), replied=len(replied),
                 flagged=sum(m.date_flag == REPLY_BEFORE_SUBMIT for m in chosen), delays=delays,
                 within=sum(d <= WITHIN_DAYS for d in delays),
                 lengths=[m.reply_length for m in replied if m.reply_length],
                 population=population)


def findings(stats: Stats, boards: list[str], population_known: bool, undated: int = 0) -> list[Finding]:
    """One Finding per indicator code for one city and period."""
    vals = stats.values()
    why = {
        "messages_per_10k": "population unknown in the city registry",
        "reply_rate": "no messages in the period", "replied_within_15d_share": "no messages in the period",
        "reply_delay_median_days": "no replied message with valid dates",
        "reply_delay_p90_days": "no replied message with valid dates",
        "reply_length_median": "no reply text read",
    }
    base = (f"{stats.messages} messages on {', '.join(boards)}; {stats.replied} replied; "
            f"{len(stats.delays)} with valid delay; {stats.flagged} replies dated before the message (flagged, "
            f"not used); {undated} undated")
    out = []
    for code in CODES:
        v = vals[code]
        if code == "messages_per_10k" and not population_known:
            out.append(Finding(code, None, NOT_APPLICABLE, why[code], f"mailbox.{code}", RULE_VERSION))
        elif v is None:
            out.append(Finding(code, None, NOT_APPLICABLE, f"{why.get(code, '')}; {base}", f"mailbox.{code}",
                               RULE_VERSION))
        else:
            out.append(Finding(code, v, OK, base, f"mailbox.{code}", RULE_VERSION))
    return out
