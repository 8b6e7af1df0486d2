"""The sample web's message boards (市长信箱 / 12345 公示 / 人民网领导留言板) and their ground truth.

:func:`add_boards` adds four boards of three kinds (and, from a random stream of their own, five smaller
boards in the same layouts for 厦门, 青岛, 武汉, 成都 and 兰州: see ``EXTRA_BOARDS``):

=============  ======  ===========================  ==========================================================
board          city    host                         what makes it hard
=============  ======  ===========================  ==========================================================
hz-mayor       330100  hd.hangzhou.gov.cn.test      HTML list without dates (status and category only); dates
                                                    on the detail pages only, in mixed formats ('2026年5月1日',
                                                    '2026/5/1 10:22', '2026-05-01'); '下一页' paging; each page
                                                    repeats the previous page's last row; one detail page 404s
                                                    (that message is undated: in no period); titles with phone
                                                    numbers / ID-card numbers / e-mails; letter bodies full of them
rmw-539        440300  liuyan.people.com.cn.test    JSON API behind a single-page shell, in the style of the
rmw-1012       330100                               People's Daily leaders' board: POST /v1/threads/list/df,
                                                    paged by 'page', signed: X-Timestamp (ms) and
                                                    X-Sign = md5(path + timestamp + body + key), the key sits in
                                                    /static/js/app.js; unsigned or stale requests get
                                                    {"result": "fail"}; dates as unix seconds and text; pages
                                                    overlap by one item; one reply dated before its message
nn-12345       450100  www.nn12345.gov.cn.test      GBK table (declared gb2312) with header row, TRS paging by
                                                    script (index.html, index_1.html ...; '共N页' only);
                                                    dates in the table ('2025-05-01', '5月1日' for recent
                                                    ones); reply texts on detail pages; one reply dated before
                                                    its message; one detail page 404s (its reply length is
                                                    unknown); no population option (messages_per_10k is
                                                    not_applicable)
=============  ======  ===========================  ==========================================================

Truth follows the rules in ``collectors/mailbox.py`` (periods: 'YYYY' for the previous and the current
year, 'R365:<reference date>'; nearest-rank p90), computed here independently from the generated
messages. :func:`board_truth` gives the per-board values (stored by the spider in message_board_stat).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Optional

from sgi.sampleweb.model import RequestInfo, Resource, SampleWeb, Site, TruthRow

CHINA_TZ = timezone(timedelta(hours=8))
YEARS_BACK = 1
SIGN_KEY = "rmw-5f3c9a1e"
TIMESTAMP_TOLERANCE_S = 900
API_PATH = "/v1/threads/list/df"
CODES = ("messages_total", "messages_per_10k", "reply_rate", "reply_delay_median_days", "reply_delay_p90_days",
         "replied_within_15d_share", "reply_length_median")

CATEGORIES = ["咨询", "投诉", "建议", "求助"]
SUBJECTS = ["小区物业收费", "公交线路调整", "学校入学政策", "社保转移接续", "道路积水", "噪音扰民", "停车位不足",
            "公积金提取", "老旧小区加装电梯", "医保报销", "占道经营", "垃圾分类", "供水水压低", "路灯损坏",
            "拖欠农民工工资", "人才落户", "新能源车充电桩", "燃气管道改造", "违章建筑", "营业执照办理"]
DEPTS = ["市住房和城乡建设局", "市交通运输局", "市教育局", "市人力资源和社会保障局", "市城市管理局", "市生态环境局",
         "市公安局交警支队", "市医疗保障局", "市市场监督管理局", "区人民政府", "市水务集团", "市自然资源和规划局"]
REPLY_SENTENCES = ["您好！您反映的问题已收悉。", "经我单位调查核实，现将有关情况答复如下：", "相关部门已于近期进行现场查看。",
                   "该事项已列入本年度工作计划，预计年内完成。", "根据相关政策规定，符合条件的可以申请办理。",
                   "我们已责成属地街道加强日常巡查。", "如有疑问，可在工作日拨打热线咨询。", "感谢您对我市工作的关心和支持！",
                   "目前施工单位正在抓紧推进，请您耐心等待。", "具体办理流程可登录政务服务网查询。"]


@dataclass
class Msg:
    board: str
    mid: str
    title: str
    category: str
    submitted: date
    status: str                         # replied / in_progress / not_replied
    reply_date: Optional[date] = None
    dept: Optional[str] = None
    reply_text: Optional[str] = None
    detail_404: bool = False

    @property
    def reply_length(self) -> Optional[int]:
        return len("".join(self.reply_text.split())) if self.reply_text else None


@dataclass
class Board:
    key: str
    city: str
    host: str
    kind: str                           # html-mailbox | json | gbk-table
    messages: list
    population: Optional[int] = None
    fid: Optional[int] = None


# ---------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------

def _pii(rng: random.Random) -> str:
    return rng.choice([f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
                       f"0771-{rng.randrange(2000000, 9999999)}",
                       f"45010{rng.randrange(2, 9)}19{rng.randrange(60, 99)}0{rng.randrange(1, 9)}1{rng.randrange(0, 9)}"
                       f"{rng.randrange(100, 999)}X",
                       f"user{rng.randrange(100, 999)}@example.test"])


def make_messages(rng: random.Random, board: str, prefix: str, n: int, ref: date) -> list[Msg]:
    out = []
    for i in range(n):
        submitted = ref - timedelta(days=rng.randrange(1, 560))
        subject = rng.choice(SUBJECTS)
        title = f"关于{subject}的{rng.choice(['问题', '咨询', '建议', '反映'])}"
        if rng.random() < 0.08:
            title += f"（联系电话{_pii(rng)}）" if rng.random() < 0.5 else f" {_pii(rng)}"
        msg = Msg(board, f"{prefix}{1000 + i * 7 + rng.randrange(7)}", title, rng.choice(CATEGORIES), submitted,
                  "not_replied")
        r = rng.random()
        age = (ref - submitted).days
        if r < (0.82 if age > 20 else 0.4):
            delay = rng.choice([rng.randrange(0, 8), rng.randrange(3, 16), rng.randrange(10, 40),
                                rng.randrange(20, 90)])
            if submitted + timedelta(days=delay) <= ref:
                msg.status = "replied"
                msg.reply_date = submitted + timedelta(days=delay)
                msg.dept = rng.choice(DEPTS)
                msg.reply_text = "".join(rng.sample(REPLY_SENTENCES, rng.randrange(2, 7)))
            else:
                msg.status = "in_progress"
        elif r < 0.9:
            msg.status = "in_progress"
        out.append(msg)
    out.sort(key=lambda m: (m.submitted, m.mid), reverse=True)   # newest first, as boards list them
    return out


def _letter_body(rng: random.Random, m: Msg) -> str:
    return (f"尊敬的领导：您好！我是本市居民，{m.title}。相关情况如下：……希望尽快解决。"
            f"本人电话{_pii(rng)}，身份证号{_pii(rng)}，邮箱{_pii(rng)}，座机（0771）{rng.randrange(2000000, 9999999)}。")


def _fmt(d: date, style: int, with_time: bool = False) -> str:
    if style == 0:
        return d.isoformat()
    if style == 1:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.year}/{d.month}/{d.day}" + (" 10:22" if with_time else "")


def _overlapping_pages(items: list, per_page: int) -> list[list]:
    """Pages that repeat the previous page's last item first (the list moved while it was read)."""
    pages, start = [], 0
    while start < len(items):
        pages.append(items[start:start + per_page])
        start += per_page - 1
        if start + 1 >= len(items):
            break
    return pages


STATUS_TEXT = {"replied": "已回复", "in_progress": "办理中", "not_replied": "未回复"}


# ---------------------------------------------------------------------------------------------------
# hz-mayor: HTML list (no dates) + detail pages
# ---------------------------------------------------------------------------------------------------

HZ_BRAND = {"gov": "杭州市人民政府", "portal": "www.hangzhou.gov.cn.test", "phone": "0571-12345",
            "mail": "hz12345@hangzhou.gov.cn.test"}


def build_html_mailbox(web: SampleWeb, rng: random.Random, board: Board, brand: Optional[dict] = None) -> Site:
    brand = brand or HZ_BRAND
    site = Site(host=board.host, city_code=board.city, kind="mailbox", template="hanweb-mail",
                notes="市长信箱: list without dates, detail pages with dates; one 404 detail",
                robots_txt="User-agent: *\nDisallow: /admin/\n")
    pages = _overlapping_pages(board.messages, 20)
    n = len(pages)
    for p, items in enumerate(pages, start=1):
        rows = "".join(
            f'<li class="mail-item"><span class="lx">[{m.category}]</span>'
            f'<a href="detail.jsp?id={m.mid}" target="_blank" title="{m.title}">{m.title}</a>'
            f'<span class="zt {"hf" if m.status == "replied" else "wh"}">{STATUS_TEXT[m.status]}</span></li>\n'
            for m in items)
        nav = f'<div class="page">共{n}页 第{p}页 '
        nav += '<a href="list.jsp">首页</a> ' + (f'<a href="list.jsp?pageNo={p - 1}">上一页</a> ' if p > 1 else "")
        nav += (f'<a href="list.jsp?pageNo={p + 1}">下一页</a> ' if p < n else "") + f'<a href="list.jsp?pageNo={n}">尾页</a></div>'
        html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>市长信箱 - {brand["gov"]}</title></head><body>'
                f'<div class="top"><a href="http://{brand["portal"]}/">{brand["gov"]}</a> &gt; 市长信箱</div>'
                f'<div class="tip">写信须知：请勿在信件中留下个人隐私信息。咨询电话 {brand["phone"]}</div>'
                f'<ul class="mail-list">\n{rows}</ul>{nav}<div class="foot">主办：{brand["gov"]}办公厅</div></body></html>')
        path = "/mail/list.jsp" if p == 1 else f"/mail/list.jsp?pageNo={p}"
        site.resources[path] = Resource(html.encode("utf-8"))
    for m in board.messages:
        if m.detail_404:
            continue
        style = rng.randrange(3)
        reply = ""
        if m.status == "replied":
            reply = (f'<tr><th>回复单位：</th><td>{m.dept}</td></tr>'
                     f'<tr><th>回复时间：</th><td>{_fmt(m.reply_date, rng.randrange(3), True)}</td></tr>'
                     f'<tr><th>回复内容：</th><td><div class="hfnr"><p>{m.reply_text}</p></div></td></tr>')
        else:
            reply = '<tr><th>回复内容：</th><td>暂无回复</td></tr>'
        html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{m.title}</title></head><body>'
                f'<table class="xx"><tr><th>信件标题：</th><td>{m.title}</td></tr>'
                f'<tr><th>信件类型：</th><td>{m.category}</td></tr>'
                f'<tr><th>来信时间：</th><td>{_fmt(m.submitted, style)}</td></tr>'
                f'<tr><th>来信内容：</th><td>{_letter_body(rng, m)}</td></tr>'
                f'<tr><th>办理状态：</th><td>{STATUS_TEXT[m.status]}</td></tr>{reply}</table>'
                f'<div class="foot">联系我们：{brand["mail"]}</div></body></html>')
        site.resources[f"/mail/detail.jsp?id={m.mid}"] = Resource(html.encode("utf-8"))
    return site


# ---------------------------------------------------------------------------------------------------
# rmw-*: the leaders' board JSON API
# ---------------------------------------------------------------------------------------------------

APP_JS = ("/* app.js (minified in real life) */\n"
          f'var SIGN_KEY = "{SIGN_KEY}";\n'
          "function signRequest(path, body){var t=String(Date.now());var payload=JSON.stringify(body);"
          "return {t:t, sign: md5(path + t + payload + SIGN_KEY), payload: payload};}\n"
          "function loadPage(fid, page){var r=signRequest('" + API_PATH + "', {fid: fid, page: page, rows: 20, "
          "orderType: 1});return fetch('" + API_PATH + "', {method: 'POST', headers: {'Content-Type': "
          "'application/json;charset=UTF-8', 'X-Timestamp': r.t, 'X-Sign': r.sign}, body: r.payload});}\n")


def _api_item(m: Msg) -> dict:
    item = {"tid": int(m.mid), "threadTitle": m.title, "typeName": m.category, "domainName": "城建",
            "dateline": int(datetime(m.submitted.year, m.submitted.month, m.submitted.day, 9, 30,
                                     tzinfo=CHINA_TZ).timestamp()),
            "stateInfo": STATUS_TEXT[m.status], "answerInfo": None}
    if m.status == "replied":
        item["answerInfo"] = {"answerTime": f"{m.reply_date.isoformat()} 16:05:11", "answerOrg": m.dept,
                              "answerContent": m.reply_text}
    return item


def api_answer(boards: dict[int, Board]):
    def answer(req: RequestInfo) -> bytes:
        fail = lambda why: json.dumps({"result": "fail", "message": why}, ensure_ascii=False).encode()
        if req.method != "POST":
            return fail("请求方式错误")
        t = req.headers.get("x-timestamp", "")
        body = req.body.decode("utf-8", "replace")
        want = hashlib.md5((API_PATH + t + body + SIGN_KEY).encode()).hexdigest()
        if req.headers.get("x-sign") != want:
            return fail("非法请求")
        if not t.isdigit() or abs(int(t) / 1000 - time.time()) > TIMESTAMP_TOLERANCE_S:
            return fail("请求已过期")
        try:
            q = json.loads(body)
            board = boards[int(q["fid"])]
            page, rows = int(q.get("page", 1)), int(q.get("rows", 20))
        except (ValueError, KeyError, TypeError):
            return fail("参数错误")
        pages = _overlapping_pages(board.messages, rows)
        items = pages[page - 1] if 1 <= page <= len(pages) else []
        return json.dumps({"result": "success", "responseData": {
            "total": len(board.messages), "list": [_api_item(m) for m in items]}}, ensure_ascii=False).encode()
    return answer


def build_json_board(boards: list[Board], host: str = "liuyan.people.com.cn.test") -> Site:
    site = Site(host=host, city_code=boards[0].city, kind="mailbox", template="spa-api",
                notes="leaders' board JSON API, signed and time-stamped POST")
    by_fid = {b.fid: b for b in boards}
    for b in boards:
        shell = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>领导留言板</title>'
                 f'<script src="/static/js/md5.min.js"></script><script src="/static/js/app.js"></script></head>'
                 f'<body><div id="app"></div><script>window.__FID__={b.fid};</script></body></html>')
        site.resources[f"/threads/list?fid={b.fid}"] = Resource(shell.encode(), needs_browser=True)
    site.resources["/static/js/app.js"] = Resource(APP_JS.encode(), content_type="application/javascript")
    site.resources["/static/js/md5.min.js"] = Resource(b"/* md5 */", content_type="application/javascript")
    site.resources[API_PATH] = Resource(api_answer(by_fid), content_type="application/json;charset=UTF-8",
                                        etag=False)
    return site


# ---------------------------------------------------------------------------------------------------
# nn-12345: GBK table with TRS script paging
# ---------------------------------------------------------------------------------------------------

GBK_COLUMNS = ("mid", "title", "category", "submitted", "status", "dept", "reply_date")
GBK_HEADERS = {"mid": "工单编号", "title": "诉求标题", "category": "诉求类型", "submitted": "受理时间",
               "status": "办理状态", "dept": "承办单位", "reply_date": "办结时间"}


def build_gbk_table(web: SampleWeb, rng: random.Random, board: Board, name: str = "南宁12345热线",
                    phone: str = "0771-12345", columns: Optional[tuple] = None,
                    full_dates: bool = False) -> Site:
    """``columns`` (a permutation of GBK_COLUMNS) and ``full_dates`` ('2026/05/01 14:05' everywhere) vary
    the layout; the defaults give the 南宁 table."""
    site = Site(host=board.host, city_code=board.city, kind="mailbox", template="trs-12345",
                notes="GBK 12345 publicity table, script paging, dates in table, replies on detail pages")
    ref = web.reference_date
    pages = _overlapping_pages(board.messages, 20)
    n = len(pages)

    def cell_date(d: Optional[date]) -> str:
        if d is None:
            return "--"
        if full_dates:
            return f"{d.year}/{d.month:02d}/{d.day:02d} 14:05"
        if 0 <= (ref - d).days < 300:
            return f"{d.month}月{d.day}日"
        return d.isoformat()

    def status_text(m: Msg) -> str:
        return "已办结" if m.status == "replied" else "办理中" if m.status == "in_progress" else "待处理"

    def cell(m: Msg, col: str) -> str:
        return {"mid": m.mid, "title": f'<A href="./detail/{m.mid}.html" target=_blank>{m.title}</A>',
                "category": m.category, "submitted": cell_date(m.submitted), "status": status_text(m),
                "dept": m.dept or "--", "reply_date": cell_date(m.reply_date)}[col]

    for i, items in enumerate(pages):
        if columns is not None:
            rows = "".join("<TR>" + "".join(f"<TD>{cell(m, c)}</TD>" for c in columns) + "</TR>\n" for m in items)
            head = "<TR class=th>" + "".join(f"<TD>{GBK_HEADERS[c]}</TD>" for c in columns) + "</TR>\n"
        else:
            head = ('<TR class=th><TD>工单编号<TD>诉求标题<TD>诉求类型<TD>受理时间'
                    '<TD>办理状态<TD>承办单位<TD>办结时间</TR>\n')
            rows = "".join(
                f'<TR><TD>{m.mid}</TD><TD align=left><A href="./detail/{m.mid}.html" target=_blank>{m.title}</A>'
                f'<TD>{m.category}<TD>{cell_date(m.submitted)}<TD>{status_text(m)}'
                f'<TD>{m.dept or "--"}<TD>{cell_date(m.reply_date)}</TR>\n'
                for m in items)
        html = ('<HTML><HEAD><META http-equiv="Content-Type" content="text/html; charset=gb2312">'
                f'<TITLE>{name} - 诉求公示</TITLE><SCRIPT src="/js/createPageHTML.js"></SCRIPT></HEAD><BODY>'
                f'<TABLE class=gs width=980 border=1>{head}{rows}</TABLE>'
                f'<DIV class=page>共{n}页 <SCRIPT>createPageHTML({n}, {i}, "index", "html");</SCRIPT></DIV>'
                f'<P>热线电话：{phone}</P></BODY></HTML>')
        path = "/gsgk/" if i == 0 else f"/gsgk/index_{i}.html"
        site.resources[path] = Resource(html.encode("gbk"), content_type="text/html")
        if i == 0:
            site.resources["/gsgk/index.html"] = Resource(html.encode("gbk"), content_type="text/html")
    site.resources["/js/createPageHTML.js"] = Resource(
        b"function createPageHTML(n,c,p,s){var h='';for(var i=0;i<n;i++){var u=i==0?p+'.'+s:p+'_'+i+'.'+s;"
        b"h+=(i==c?'<span>'+(i+1)+'</span>':'<a href=\"'+u+'\">'+(i+1)+'</a>')+' ';}document.write(h);}",
        content_type="application/javascript")
    for m in board.messages:
        if m.detail_404:
            continue
        result = (f'<DIV class=bt>办理结果</DIV><DIV class=nr>{m.reply_text}</DIV>' if m.status == "replied"
                  else '<DIV class=bt>办理结果</DIV><DIV class=nr>暂无</DIV>')
        html = ('<HTML><HEAD><META http-equiv="Content-Type" content="text/html; charset=gb2312">'
                f'<TITLE>{m.title}</TITLE></HEAD><BODY><H2>{m.title}</H2>'
                f'<DIV class=bt>诉求内容</DIV><DIV class=nr>{_letter_body(rng, m)}</DIV>{result}'
                f'<P>热线电话：{phone}</P></BODY></HTML>')
        site.resources[f"/gsgk/detail/{m.mid}.html"] = Resource(html.encode("gbk"), content_type="text/html")
    return site


# ---------------------------------------------------------------------------------------------------
# Assembly and truth
# ---------------------------------------------------------------------------------------------------

def make_boards(web: SampleWeb, rng: random.Random) -> list[Board]:
    ref = web.reference_date
    pop = {c.code: c.population for c in web.cities}
    hz = Board("hz-mayor", "330100", "hd.hangzhou.gov.cn.test", "html-mailbox",
               make_messages(rng, "hz-mayor", "HZ", 300, ref), pop.get("330100"))
    sz = Board("rmw-539", "440300", "liuyan.people.com.cn.test", "json",
               make_messages(rng, "rmw-539", "", 400, ref), pop.get("440300"), fid=539)
    hzj = Board("rmw-1012", "330100", "liuyan.people.com.cn.test", "json",
                make_messages(rng, "rmw-1012", "", 250, ref), pop.get("330100"), fid=1012)
    for b, base in ((sz, 18800000), (hzj, 19900000)):
        for m in b.messages:
            m.mid = str(base + int(m.mid))
    nn = Board("nn-12345", "450100", "www.nn12345.gov.cn.test", "gbk-table",
               make_messages(rng, "nn-12345", "GD", 350, ref), None)
    # Hard cases: a detail page that 404s (hz: the message is undated; nn: reply length unknown), and
    # replies dated before their message (rmw-539, nn).
    replied = lambda b: [m for m in b.messages if m.status == "replied"]
    replied(hz)[7].detail_404 = True
    replied(nn)[11].detail_404 = True
    for b, k in ((sz, 5), (nn, 3)):
        m = replied(b)[k]
        m.reply_date = m.submitted - timedelta(days=3)
    return [hz, sz, hzj, nn]


# The boards of five more cities (厦门, 青岛, 武汉, 成都, 兰州): the same three layouts, modest sizes, drawn from
# their own random stream so the four boards above (and their truth) do not change. 青岛's table puts its
# columns in another order and writes every date as '2026/05/01 14:05'. 哈尔滨 has no board.
EXTRA_BOARDS = [
    # key, city, host, kind, prefix / fid, n, site name
    ("xm-mayor", "350200", "szxx.xm.gov.cn.test", "html-mailbox", "XM", 90, "厦门市人民政府"),
    ("qd-12345", "370200", "www.qd12345.gov.cn.test", "gbk-table", "QD", 120, "青岛12345政务服务便民热线"),
    ("wh-ldly", "420100", "liuyan.wuhan.gov.cn.test", "json", 4201, 150, "武汉市领导留言板"),
    ("cd-ldly", "510100", "ly.chengdu.gov.cn.test", "json", 5101, 110, "成都市领导留言板"),
    ("lz-12345", "620100", "www.lz12345.gov.cn.test", "gbk-table", "LZ", 70, "兰州12345热线"),
]
QD_COLUMNS = ("submitted", "mid", "title", "status", "category", "reply_date", "dept")


def make_extra_boards(web: SampleWeb, rng: random.Random) -> list[Board]:
    ref = web.reference_date
    pop = {c.code: c.population for c in web.cities}
    out = []
    for key, city, host, kind, tag, n, _ in EXTRA_BOARDS:
        if kind == "json":
            b = Board(key, city, host, kind, make_messages(rng, key, "", n, ref), pop.get(city), fid=tag)
            for m in b.messages:
                m.mid = str(tag * 10000 + int(m.mid))
        else:
            b = Board(key, city, host, kind, make_messages(rng, key, tag, n, ref), pop.get(city))
        out.append(b)
    return out


def add_extra_boards(web: SampleWeb) -> list[Board]:
    rng = random.Random(f"{web.seed}:extra-boards")
    boards = make_extra_boards(web, rng)
    names = {key: name for key, *_, name in EXTRA_BOARDS}
    for b in boards:
        name = names[b.key]
        if b.kind == "html-mailbox":
            web.add_site(build_html_mailbox(web, rng, b, {"gov": name, "portal": "www.xm.gov.cn.test",
                                                          "phone": "0592-12345", "mail": "xm12345@xm.gov.cn.test"}))
            web.sources.append({"city": b.city, "kind": "mailbox", "name": "厦门市市长信箱",
                                "start_url": f"http://{b.host}/mail/list.jsp", "allowed_domains": [b.host],
                                "options": {"board": b.key, "type": "html", "population": b.population,
                                            "detail_link": r"detail\.jsp\?id=", "years_back": YEARS_BACK}})
        elif b.kind == "json":
            web.add_site(build_json_board([b], host=b.host))
            web.sources.append({"city": b.city, "kind": "mailbox", "name": f"{name} fid={b.fid}",
                                "start_url": f"http://{b.host}/threads/list?fid={b.fid}",
                                "allowed_domains": [b.host],
                                "options": {"board": b.key, "type": "json", "population": b.population,
                                            "years_back": YEARS_BACK,
                                            "api": {"url": API_PATH, "script": "/static/js/app.js",
                                                    "key_pattern": r"SIGN_KEY\s*=\s*[\"']([^\"']+)",
                                                    "sign": "{path}{t}{body}{key}",
                                                    "body": {"fid": b.fid, "page": "{page}", "rows": 20,
                                                             "orderType": 1}}}})
        else:
            qd = b.key == "qd-12345"
            phone = "0532-12345" if qd else "0931-12345"
            web.add_site(build_gbk_table(web, rng, b, name=name, phone=phone,
                                         columns=QD_COLUMNS if qd else None, full_dates=qd))
            web.sources.append({"city": b.city, "kind": "mailbox", "name": f"{name}诉求公示",
                                "start_url": f"http://{b.host}/gsgk/", "allowed_domains": [b.host],
                                "options": {"board": b.key, "type": "html", "population": b.population,
                                            "page_template": "index_{i}.html", "detail_link": r"detail/",
                                            "years_back": YEARS_BACK}})
    web.truth.extend(city_truth(web, boards))
    return boards


def _known(m: Msg, board: Board) -> dict:
    """What a correct harvest can know of a message."""
    submitted = None if (m.detail_404 and board.kind == "html-mailbox") else m.submitted
    length = None if m.detail_404 else m.reply_length
    return {"submitted": submitted, "replied": m.status == "replied", "reply_date": m.reply_date,
            "length": length}


def _stats(known: list[dict], start: date, end: date, population: Optional[int]) -> dict:
    chosen = [k for k in known if k["submitted"] and start <= k["submitted"] <= end]
    n = len(chosen)
    replied = [k for k in chosen if k["replied"]]
    delays = sorted((k["reply_date"] - k["submitted"]).days for k in replied
                    if k["reply_date"] and k["reply_date"] >= k["submitted"])
    lengths = [k["length"] for k in replied if k["length"]]
    p90 = delays[math.ceil(0.9 * len(delays)) - 1] if delays else None
    return {
        "messages_total": n,
        "messages_per_10k": round(n * 10000 / population, 4) if population else None,
        "reply_rate": round(len(replied) / n, 4) if n else None,
        "reply_delay_median_days": round(float(statistics.median(delays)), 2) if delays else None,
        "reply_delay_p90_days": float(p90) if p90 is not None else None,
        "replied_within_15d_share": round(sum(d <= 15 for d in delays) / n, 4) if n else None,
        "reply_length_median": round(float(statistics.median(lengths)), 2) if lengths else None,
    }


def _periods(ref: date) -> list[tuple[str, date, date]]:
    out = [(str(y), date(y, 1, 1), min(date(y, 12, 31), ref)) for y in range(ref.year - YEARS_BACK, ref.year + 1)]
    out.append((f"R365:{ref.isoformat()}", ref - timedelta(days=364), ref))
    return out


def board_truth(web: SampleWeb, boards: Optional[list[Board]] = None) -> list[dict]:
    """Per-board truth: {board, city_code, period, <code>: value} rows (what message_board_stat must hold)."""
    boards = boards if boards is not None else getattr(web, "mailbox_boards", [])
    rows = []
    for b in boards:
        known = [_known(m, b) for m in b.messages]
        for key, start, end in _periods(web.reference_date):
            rows.append({"board": b.key, "city_code": b.city, "period": key, **_stats(known, start, end, b.population)})
    return rows


def city_truth(web: SampleWeb, boards: list[Board]) -> list[TruthRow]:
    rows = []
    for city in sorted({b.city for b in boards}):
        mine = [b for b in boards if b.city == city]
        known = [_known(m, b) for b in mine for m in b.messages]
        population = mine[0].population
        for key, start, end in _periods(web.reference_date):
            for code, value in _stats(known, start, end, population).items():
                if value is None:
                    rows.append(TruthRow(city, code, key, None, "not_applicable"))
                else:
                    rows.append(TruthRow(city, code, key, value, "ok"))
    return rows


def add_boards(web: SampleWeb, rng: random.Random) -> None:
    """Add the boards, their source entries and truth rows to ``web``."""
    boards = make_boards(web, rng)
    web.mailbox_boards = boards            # for board_truth() and the tests
    hz, sz, hzj, nn = boards
    web.add_site(build_html_mailbox(web, rng, hz))
    web.add_site(build_json_board([sz, hzj]))
    web.add_site(build_gbk_table(web, rng, nn))
    web.sources.append({"city": hz.city, "kind": "mailbox", "name": "杭州市市长信箱",
                        "start_url": f"http://{hz.host}/mail/list.jsp", "allowed_domains": [hz.host],
                        "options": {"board": hz.key, "type": "html", "population": hz.population,
                                    "detail_link": r"detail\.jsp\?id=", "years_back": YEARS_BACK}})
    for b in (sz, hzj):
        web.sources.append({"city": b.city, "kind": "mailbox", "name": f"人民网领导留言板 fid={b.fid}",
                            "start_url": f"http://{b.host}/threads/list?fid={b.fid}",
                            "allowed_domains": [b.host],
                            "options": {"board": b.key, "type": "json", "population": b.population,
                                        "years_back": YEARS_BACK,
                                        "api": {"url": API_PATH, "script": "/static/js/app.js",
                                                "key_pattern": r"SIGN_KEY\s*=\s*[\"']([^\"']+)",
                                                "sign": "{path}{t}{body}{key}",
                                                "body": {"fid": b.fid, "page": "{page}", "rows": 20,
                                                         "orderType": 1}}}})
    web.sources.append({"city": nn.city, "kind": "mailbox", "name": "南宁12345热线诉求公示",
                        "start_url": f"http://{nn.host}/gsgk/", "allowed_domains": [nn.host],
                        "options": {"board": nn.key, "type": "html", "page_template": "index_{i}.html",
                                    "detail_link": r"detail/", "years_back": YEARS_BACK}})
    web.truth.extend(city_truth(web, boards))
    web.mailbox_boards = boards + add_extra_boards(web)


def reply_to(web: SampleWeb, board_key: str, mid: str, reply_date: date, dept: str, reply_text: str) -> None:
    """A message of an HTML mailbox board (the 市长信箱 layout) gets its reply between two crawls, as the
    site shows it: every list row of it says 已回复 and its detail page carries the reply (new bodies, so
    new validators). The board's message follows, so board_truth() does too. For incremental tests."""
    from sgi.sampleweb.mutate import change_page

    board = next(b for b in web.mailbox_boards if b.key == board_key)
    if board.kind != "html-mailbox":
        raise ValueError(f"{board_key} is a {board.kind} board; reply_to changes html-mailbox boards")
    m = next(m for m in board.messages if m.mid == mid)
    if m.status == "replied" or m.detail_404:
        raise ValueError(f"{board_key} {mid} is already replied or has no detail page")
    site = web.sites[board.host]
    link = f'<a href="detail.jsp?id={mid}"'.encode()
    old_status = f'<span class="zt wh">{STATUS_TEXT[m.status]}</span>'.encode()
    new_status = f'<span class="zt hf">{STATUS_TEXT["replied"]}</span>'.encode()

    def row_replied(body: bytes) -> bytes:
        at = body.index(link)
        end = body.index(b"</li>", at)
        return body[:at] + body[at:end].replace(old_status, new_status) + body[end:]

    lists = [p for p, r in site.resources.items() if p.startswith("/mail/list.jsp") and link in r.body]
    for path in lists:
        change_page(web, board.host, path, row_replied)
    replies = (f'<tr><th>办理状态：</th><td>{STATUS_TEXT["replied"]}</td></tr>'
               f'<tr><th>回复单位：</th><td>{dept}</td></tr>'
               f'<tr><th>回复时间：</th><td>{_fmt(reply_date, 0, True)}</td></tr>'
               f'<tr><th>回复内容：</th><td><div class="hfnr"><p>{reply_text}</p></div></td></tr>').encode()
    pending = (f'<tr><th>办理状态：</th><td>{STATUS_TEXT[m.status]}</td></tr>'
               '<tr><th>回复内容：</th><td>暂无回复</td></tr>').encode()

    def detail_replied(body: bytes) -> bytes:
        if pending not in body:
            raise ValueError(f"{board_key} {mid}: detail page has no pending-reply rows")
        return body.replace(pending, replies)

    change_page(web, board.host, f"/mail/detail.jsp?id={mid}", detail_replied)
    m.status, m.reply_date, m.dept, m.reply_text = "replied", reply_date, dept, reply_text
