"""The sample web's city portals (市人民政府门户网站) and their ground truth.

:func:`add_portals` builds nine portals modelled on the common government CMS template families
(TRS WCM, Hanweb 大汉, Kaipu 开普 gkmlpt, Foundersoft 方正翔宇, a hand-written table-layout legacy
site and a single-page app), registers them on a :class:`SampleWeb` with their cities, source
entries and truth rows.

Truth is not hand-typed: every page is rendered through a recorder (:class:`Rec`) that notes the
links, features, language versions and dated items it emits, and the truth rows are computed from
those records with the rules of ``sgi/data/indicators.yaml`` and the inspection rules written below as data.
The tests recompute the link- and meta-based values independently by parsing the bytes.

The portals (``Site.notes`` has the details of each):

=======  ==========================  ===========  ==================================================
code     host                        template     hard cases
=======  ==========================  ===========  ==================================================
440300   www.sz.gov.cn.test          trs          HTTPS+HSTS, IPv6, wza.js widget, 4 languages (English
                                                  twice), split-tag 政策解读, 12345 only in a
                                                  document.write float box, iframe, share buttons on
                                                  articles, MM-DD dates, 403 + disallowed intranet link,
                                                  7 columns (6 sampled), empty column, stale column
330100   www.hangzhou.gov.cn.test    hanweb       HTTPS no HSTS, IPv6, column lists in text/xml
                                                  recordsets, 政民互动 + 新媒体 sub-pages hold features
                                                  found nowhere else, text 无障碍, iframe
510100   www.chengdu.gov.cn.test     spa          home is an empty shell (needs_browser), everything
                                                  from /api/menu.json, features on 互动交流/联系我们
450100   www.nanning.gov.cn.test     legacy       GBK declared utf-8, UPPER-CASE tables, 12 broken
                                                  links incl. two 500s, 壮文, 12345 inside a phone number
420100   www.wuhan.gov.cn.test       kaipu        JS cookie challenge, #fragments, 年月日 dates, 手机版
                                                  link, site map only via /sitemap.xml
370200   www.qingdao.gov.cn.test     foundersoft  icon-only features (alt/title), robots Disallow:
                                                  /hdjl/ over the 政民互动 page, identifier in <img>
620100   www.lanzhou.gov.cn.test     trs          stale (96 days), misleading home PubDate / footer
                                                  date, share buttons on the home page, no viewport
230100   www.harbin.gov.cn.test      trs          Fault(403) on everything: truth 'blocked'
350200   www.xm.gov.cn.test          hanweb       HTTPS+HSTS, IPv6, identifier split across spans,
                                                  future article PubDate, >50 links with broken ones
                                                  only beyond MAX_BROKEN_LINK_SAMPLE
=======  ==========================  ===========  ==================================================

Conventions the truth follows (the spider/extractors must follow them too):

* Multi-level features: a feature counts when present on the home page or on a same-site page
  linked from the home page whose link text (what the link shows) is at most 12 characters and
  contains a word of :data:`SUBPAGE_LABELS` (the lexicon's ``follow_links``), that answers 200 and is not
  disallowed by robots.txt. Features only on robots-disallowed pages are absent.
* 政务公开 links count as info_disclosure (the section that holds the 政府信息公开 专栏).
* Pages rendered in a browser (the SPA home, the JS-challenge site) are judged as a browser sees
  them. Anchors written by ``document.write`` float widgets are never same-site http links (they
  are ``tel:`` or other-host links), so the static and the rendered broken-link samples agree.
* Content inside iframes only repeats features the embedding page already has.
* Freshness uses the dates visible next to home-page items (not ``<meta name="PubDate">`` of the
  home page or of the articles, which disagree on purpose on some sites); footer dates are ignored;
  ``MM-DD`` dates without a year mean the most recent such day not after the reference date.
* Columns: distinct same-site URLs of home-page anchors outside the footer whose shown text classifies
  as news / notice / policy by the lexicon's column words (:func:`classify_column`; 政策解读 is policy),
  answering 200, first :data:`MAX_COLUMNS_SAMPLED` in document order. An empty column counts in
  empty_columns only (it has no newest item, so it is not also stale). A column link to a hub page
  (a 政策解读 page listing sub-links only) is a column whose items are undated: stale, or empty when
  it lists nothing.
* homepage_bytes is the length of the body as the sample server sends it (before gzip): every absolute
  ``http(s)://<host>.test`` URL gains ``:<port>`` on the way out, and the ports are ephemeral (five digits),
  see :func:`served_length`. No row for the SPA home and the challenge site (a browser's DOM, not bytes).
* Blocked site: every portal indicator is ``blocked`` / None; portal_ipv6 (a DNS reading) keeps its value.
* Broken links: first :data:`MAX_BROKEN_LINK_SAMPLE` eligible same-site links (see the registry
  sentence; sites with robots-disallowed or 403 links keep fewer than that many same-site links so
  the order of sampling and excluding does not matter).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Optional
from urllib.parse import quote, urljoin, urlsplit

from sgi.sampleweb.model import Fault, Resource, SampleCity, SampleWeb, Site, TruthRow

# The inspection rules the truth follows, written here as data (国办秘函〔2019〕19号 and the 政府网站发展指引
# page-tag spec), never imported from the crawler: the truth must be able to catch a crawler error.
# tests/sampleweb/test_truth_boundary.py checks that the crawler's constants say the same.
STALE_AFTER_DAYS = {"news": 14, "notice": 183, "policy": 183}
HOMEPAGE_STALE_AFTER_DAYS = 14
MAX_COLUMNS_SAMPLED = 6
MAX_BROKEN_LINK_SAMPLE = 50
META_TAGS_BY_PAGE_TYPE = {
    "home": ("SiteName", "SiteDomain", "SiteIDCode"),
    "column": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnDescription", "ColumnKeywords", "ColumnType"),
    "article": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnType", "ArticleTitle", "PubDate",
                "ContentSource"),
}

# IPv6-capable portal hosts (AAAA ::1 in the sample DNS, and the server answers on [::1]). The runner reads
# the keys of this dict (sgi.sampleweb.runner.ipv6_hosts), so only capable hosts are listed; portal_ipv6
# truth is True exactly for these (it assumes the machine has an IPv6 loopback).
IPV6_HOSTS: dict[str, bool] = {
    "www.sz.gov.cn.test": True,
    "www.hangzhou.gov.cn.test": True,
    "www.wuhan.gov.cn.test": True,
    "www.harbin.gov.cn.test": True,
    "www.xm.gov.cn.test": True,
}

FEATURES = (
    "site_search", "site_map", "privacy_statement", "accessibility_mode", "personal_login",
    "mobile_friendly", "policy_interpretation", "online_interview", "mayor_mailbox", "hotline_12345",
    "opinion_solicitation", "info_disclosure", "online_service_hall", "gov_app_link", "mini_program",
    "new_media_weibo", "new_media_wechat", "new_media_douyin", "open_data_link",
)
# Features read from the home page itself (not inherited from followed sub-pages).
HOME_ONLY_FEATURES = {"site_search", "mobile_friendly"}
# Sub-page labels followed one level down and the column words, as data (the crawler's lexicon,
# collectors/lexicons/portal.yaml follow_links / columns, is checked against them by a test).
SUBPAGE_LABELS = ("政民互动", "互动交流", "公众参与", "网站地图", "新媒体", "政务新媒体", "关于我们", "联系我们", "网站声明",
                  "隐私声明", "走进")
SUBPAGE_MAX_LABEL_CHARS = 12          # longer link texts are items, not section links
COLUMN_WORDS = {
    "notice": ("通知公告", "公示公告", "公告公示", "通知", "公告", "公示", "通告"),
    "policy": ("政策文件", "政府文件", "规范性文件", "政策法规", "文件", "政策", "法规"),
    "news": ("要闻", "新闻", "动态", "工作动态", "政务动态", "部门动态", "区县动态", "今日", "资讯", "图片新闻", "新闻发布"),
}
COLUMN_MAX_LABEL_CHARS = 10
# Every portal indicator with truth here (homepage_load_ms is timing and has none).
PORTAL_INDICATORS = (
    "portal_reachable", "portal_https", "portal_hsts", "portal_ipv6", *FEATURES, "language_versions",
    "site_identifier", "icp_record", "homepage_freshness_days", "inspection_homepage_stale",
    "broken_link_ratio", "homepage_bytes", "stale_columns", "empty_columns", "page_meta_tags_share",
)

def classify_column(label: str) -> Optional[str]:
    """news / notice / policy for a column link text (whitespace ignored; longer texts are items):
    the first kind, in the order notice, policy, news, one of whose lexicon words the text contains.
    So 政策解读 is a policy column (a 解读 list is checked like the documents it explains)."""
    label = re.sub(r"\s+", "", label)
    if not label or len(label) > COLUMN_MAX_LABEL_CHARS:
        return None
    for kind, words in COLUMN_WORDS.items():
        if any(w in label for w in words):
            return kind
    return None


def is_subpage_label(label: str) -> bool:
    """A link text the crawler follows one level down (a follow_links word in a short text)."""
    label = re.sub(r"\s+", "", label)
    return bool(label) and len(label) <= SUBPAGE_MAX_LABEL_CHARS and any(w in label for w in SUBPAGE_LABELS)


# ----------------------------------------------------------------------------------------------
# Recording what a page emits
# ----------------------------------------------------------------------------------------------

@dataclass
class Rec:
    links: list = field(default_factory=list)       # (href, label text) in document order
    shown: list = field(default_factory=list)       # (href, visible link text, title attribute), same order
    feats: set = field(default_factory=set)
    langs: set = field(default_factory=set)
    dates: list = field(default_factory=list)       # visible dates of home-page items (not footer)

    def a(self, href: str, inner: str, label: Optional[str] = None, feat=None, lang=None,
          attrs: str = "", upper: bool = False) -> str:
        label = label if label is not None else re.sub(r"<[^>]+>", "", inner)
        self.links.append((href, label))
        text = re.sub(r"<[^>]+>", "", inner).strip()
        title = re.search(r'\btitle="([^"]*)"', attrs, re.I)
        self.shown.append((href, text, title.group(1) if title else ""))
        self.note(feat, lang)
        if upper:
            return f'<A HREF="{href}"{attrs}>{inner}</A>'
        return f'<a href="{href}"{attrs}>{inner}</a>'

    def note(self, feat=None, lang=None) -> None:
        if feat:
            self.feats.update((feat,) if isinstance(feat, str) else feat)
        if lang:
            self.langs.add(lang)


@dataclass
class L:
    """One feature/navigation entry. style: text | split | img | imgtitle | qr | plain."""
    label: str
    href: Optional[str] = None
    feat: object = None
    style: str = "text"
    lang: Optional[str] = None
    icon: Optional[str] = None
    parts: tuple = ()
    blank: bool = False

    def render(self, rec: Rec, upper: bool = False) -> str:
        tgt = ' target="_blank"' if self.blank else ""
        icon = self.icon or "/images/icon_default.png"
        if self.style == "qr":
            rec.note(self.feat, self.lang)
            return (f'<div class="qr-item"><img src="{icon}" alt="{self.label}" width="90" height="90">'
                    f'<p>{self.label}</p></div>')
        if self.style == "plain":
            rec.note(self.feat, self.lang)
            return f'<span class="txt">{self.label}</span>'
        if self.style == "split":
            inner = "".join(f"<span>{p}</span>" for p in self.parts)
            return rec.a(self.href, inner, self.label, self.feat, self.lang, tgt, upper)
        if self.style == "img":
            inner = f'<img src="{icon}" alt="{self.label}" border="0">'
            return rec.a(self.href, inner, self.label, self.feat, self.lang, tgt, upper)
        if self.style == "imgtitle":
            inner = f'<img src="{icon}" alt="" border="0">'
            return rec.a(self.href, inner, self.label, self.feat, self.lang,
                         f' title="{self.label}"{tgt}', upper)
        return rec.a(self.href, self.label, self.label, self.feat, self.lang, tgt, upper)


# ----------------------------------------------------------------------------------------------
# Content pools
# ----------------------------------------------------------------------------------------------

TOPICS = ["优化营商环境", "城市更新", "安全生产", "冬季供暖保障", "数字政府建设", "乡村振兴", "生态环境保护",
          "交通综合治理", "稳就业促创业", "养老服务体系建设", "医疗保障", "基础教育扩优提质", "科技创新",
          "招商引资", "全国文明城市创建", "消费提振", "防汛抗旱", "森林防灭火", "食品安全", "老旧小区改造",
          "低空经济发展", "政务服务“一网通办”", "住房保障", "河湖长制", "人工智能产业", "外贸稳规模优结构"]
DEPTS = ["市发展和改革委员会", "市教育局", "市科学技术局", "市工业和信息化局", "市公安局", "市民政局", "市司法局",
         "市财政局", "市人力资源和社会保障局", "市自然资源和规划局", "市生态环境局", "市住房和城乡建设局",
         "市交通运输局", "市水务局", "市农业农村局", "市商务局", "市文化广电旅游局", "市卫生健康委员会",
         "市应急管理局", "市市场监督管理局", "市统计局", "市医疗保障局", "市政务服务和数据管理局"]
NEWS_T = ["{c}召开{t}工作推进会", "市政府常务会议研究部署{t}等工作", "{c}{t}取得阶段性成效", "市领导调研{t}工作",
          "{d}扎实推进{t}", "{c}举行{t}专题发布会", "{c}与省直部门座谈交流{t}工作", "全市{t}现场会召开",
          "{d}部署今冬明春{t}工作", "{c}{t}经验做法获全省推广"]
NOTICE_T = ["关于{t}有关事项的通知", "{d}关于开展{t}专项检查的通告", "关于{t}项目拟立项情况的公示",
            "{d}关于{t}资金分配结果的公示", "关于征集{t}典型案例的通知", "{d}关于调整{t}服务时间的公告",
            "关于本年度{t}评审结果的公示"]
POLICY_T = ["{c}人民政府关于印发《{c}{t}实施方案》的通知", "{c}人民政府办公厅关于进一步做好{t}工作的通知",
            "{c}人民政府关于{t}的若干措施", "{c}人民政府办公厅印发《关于加快{t}的行动计划》的通知",
            "{c}{t}管理办法"]
PARAS = ["会议强调，要坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实党的二十大和二十届历次全会精神，"
         "统筹发展和安全，扎实推进各项工作落地见效。",
         "会议指出，各区（市）县、各部门要进一步压实责任，细化工作举措，加强协调联动，确保年度目标任务圆满完成。",
         "据介绍，今年以来，全市上下聚焦重点领域和关键环节，持续优化服务流程，群众和企业满意度稳步提升。",
         "下一步，相关部门将围绕群众急难愁盼问题，健全长效机制，推动工作常态化、规范化、制度化。",
         "请各单位高度重视，认真组织实施，并于规定时间内将工作开展情况报送市政府办公厅。",
         "本公示期为5个工作日。公示期间如有异议，请以书面形式向受理单位反映，并提供必要的证明材料。"]


# ----------------------------------------------------------------------------------------------
# Site specification
# ----------------------------------------------------------------------------------------------

@dataclass
class Item:
    title: str
    date: Optional[date]
    path: str
    dept: str
    pubdate_meta: Optional[str] = None     # <meta name="PubDate"> of the article (may disagree)


@dataclass
class Column:
    key: str
    label: str
    path: str                                # path of the first list page
    n: int = 6                               # items on the first page
    newest_age: int = 1
    step: tuple = (1, 4)
    empty: bool = False
    pages: int = 1                           # list pages (TRS: index.html, index_1.html ...)
    items: list = field(default_factory=list)
    on_home: int = 0                         # items shown on the home page
    home_label: Optional[str] = None         # label of the home-page heading link (default label)

    @property
    def kind(self) -> Optional[str]:
        return classify_column(self.label)


@dataclass
class Spec:
    code: str
    city: str
    short: str
    abbr: str
    host: str
    family: str
    population: int
    https: bool = False
    hsts: bool = False
    site_id: Optional[str] = None
    id_html: str = ""                         # footer snippet printing the identifier
    icp: Optional[str] = None
    icp_html: str = ""
    police: str = ""
    sponsor: str = ""
    viewport: bool = True
    meta: dict = field(default_factory=dict)  # page type -> tags present
    columns: list = field(default_factory=list)
    top: list = field(default_factory=list)   # top bar entries
    nav: list = field(default_factory=list)
    blocks: list = field(default_factory=list)  # (heading, [L...]) feature blocks in the body
    footer: list = field(default_factory=list)
    extra_home: list = field(default_factory=list)  # additional plain same-site links (L)
    subpages: dict = field(default_factory=dict)    # path -> (title, [(heading, [L...])])
    bad: dict = field(default_factory=dict)         # path -> status (404 = not created)
    robots: Optional[str] = None
    date_fmt: str = "iso"
    article_share: bool = False
    home_share: bool = False
    float_box: list = field(default_factory=list)   # entries written by document.write
    iframe: Optional[str] = None
    undated: list = field(default_factory=list)     # (title, path) undated home items
    footer_date: bool = False
    home_pubdate: bool = False
    pubdate_skew: int = 0                           # article meta PubDate = list date - skew days
    encoding: str = "utf-8"
    declared: str = "utf-8"
    js_challenge: bool = False
    blocked: Optional[int] = None
    sitemap_xml: bool = False
    notes: str = ""


def fmt_date(d: date, style: str) -> str:
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "md":
        return f"{d.month:02d}-{d.day:02d}"
    if style == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    if style == "bracket":
        return f"[{d.isoformat()}]"
    return d.isoformat()


# ----------------------------------------------------------------------------------------------
# Builder
# ----------------------------------------------------------------------------------------------

GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
       b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


class Builder:
    def __init__(self, web: SampleWeb, rng: random.Random, spec: Spec):
        self.web, self.rng, self.s = web, rng, spec
        self.today = web.reference_date
        self.res: dict[str, Resource] = {}
        self.recs: dict[str, Rec] = {}
        self.page_meta: dict[str, tuple] = {}        # path -> (page type, tags present)
        self.first_article: dict[str, str] = {}       # column path -> first article path
        self.hub_links: dict[str, int] = {}           # sub-page / landing page path -> links in its body (undated)
        self.scheme = "https" if spec.https else "http"
        self.base = f"{self.scheme}://{spec.host}"
        self._ids = rng.randint(10**6, 9 * 10**6)
        self.imgs: set = set()

    # -- helpers --------------------------------------------------------------------------------
    def nid(self) -> int:
        self._ids += self.rng.randint(3, 97)
        return self._ids

    def put(self, path: str, html: str, rec: Optional[Rec] = None, status: int = 200,
            ctype: Optional[str] = None, needs_browser: bool = False) -> None:
        s = self.s
        body = html.encode(s.encoding) if isinstance(html, str) else html
        ctype = ctype or f"text/html; charset={s.declared}"
        self.res[path] = Resource(body=body, content_type=ctype, status=status, needs_browser=needs_browser)
        if rec is not None:
            self.recs[path] = rec

    def title(self, kind: str) -> str:
        pool = {"news": NEWS_T, "notice": NOTICE_T, "policy": POLICY_T}[kind]
        t = self.rng.choice(pool)
        return t.format(c=self.s.city, t=self.rng.choice(TOPICS), d=self.rng.choice(DEPTS))

    def meta(self, ptype: str, col: Optional[Column] = None, item: Optional[Item] = None,
             path: str = "") -> str:
        s = self.s
        present = tuple(t for t in META_TAGS_BY_PAGE_TYPE[ptype] if t in s.meta.get(ptype, ()))
        self.page_meta[path] = (ptype, present)
        vals = {"SiteName": f"{s.city}人民政府门户网站", "SiteDomain": s.host, "SiteIDCode": s.site_id or "",
                "ColumnName": col.label if col else "", "ColumnType": col.label if col else "",
                "ArticleTitle": item.title if item else "",
                "PubDate": (item.pubdate_meta or "") if item else "",
                "ContentSource": item.dept if item else "",
                "ColumnDescription": f"{col.label}栏目" if col else "",
                "ColumnKeywords": col.label if col else ""}
        extra = ""
        up = s.family == "legacy"
        out = []
        for t in present:
            out.append(f'<META NAME="{t}" CONTENT="{vals[t]}">' if up else f'<meta name="{t}" content="{vals[t]}">')
        return "\n".join(out) + ("\n" + extra if extra and not up else "")

    def icon(self, name: str) -> str:
        path = f"/images/{name}"
        self.imgs.add(path)
        return path

    # -- columns and articles -------------------------------------------------------------------
    def article_path(self, col: Column, d: date, nid: int) -> str:
        f = self.s.family
        if f == "hanweb":
            cid = re.search(r"col(\d+)", col.path).group(1)
            return f"/art/{d.year}/{d.month}/{d.day}/art_{cid}_{nid}.html"
        if f == "foundersoft":
            return f"/content/{d.year}-{d.month:02d}/{d.day:02d}/content_{nid}.htm"
        if f == "legacy":
            return f"/news/show.asp?id={nid % 100000}"
        if f == "spa":
            cdir = col.path.rsplit("/", 1)[0]
            return f"{cdir}/{d.year}-{d.month:02d}/{d.day:02d}/content_{nid:x}.shtml"
        cdir = col.path.rsplit("/", 1)[0] + "/"
        ext = "shtml" if f == "kaipu" else "html"
        return f"{cdir}{d.year}{d.month:02d}/t{d:%Y%m%d}_{nid}.{ext}"

    def fill_columns(self) -> None:
        s = self.s
        for col in s.columns:
            if col.empty:
                continue
            d = self.today - timedelta(days=col.newest_age)
            total = col.n + (col.pages - 1) * 4
            for i in range(total):
                kind = col.kind or "news"
                title = self.title(kind)
                it = Item(title, d, self.article_path(col, d, self.nid()), self.rng.choice(DEPTS))
                hh, mm = self.rng.randint(8, 18), self.rng.choice((0, 10, 15, 30, 45))
                pd = d - timedelta(days=s.pubdate_skew) if (s.pubdate_skew and i == 0) else d
                it.pubdate_meta = f"{pd.isoformat()} {hh:02d}:{mm:02d}"
                col.items.append(it)
                d = d - timedelta(days=self.rng.randint(*col.step))

    # -- rendering ------------------------------------------------------------------------------
    def render_entries(self, rec: Rec, entries, sep: str = "") -> str:
        return sep.join(e.render(rec, upper=self.s.family == "legacy") for e in entries)

    def home_items(self, rec: Rec, col: Column) -> str:
        s = self.s
        out = []
        for it in col.items[:col.on_home]:
            rec.dates.append(it.date)
            ds = fmt_date(it.date, s.date_fmt)
            href = it.path
            if s.family == "kaipu":
                href = it.path + "#" + str(self.rng.randint(100, 999))
            if s.family == "legacy":
                out.append(f'<TR><TD height=24><IMG SRC="{self.icon("dot.gif")}"> '
                           + rec.a(href, it.title, upper=True, attrs=' TARGET="_blank"')
                           + f'<TD ALIGN=right><FONT COLOR="#999999">({ds})</FONT>')
            elif s.family == "hanweb":
                out.append(f'<tr><td class="bt-title">{rec.a(href, it.title, attrs=" target=_blank")}</td>'
                           f'<td class="bt-data-time" width="90">{ds}</td></tr>')
            elif s.family == "kaipu":
                out.append(f'<li><span class="time">{ds}</span>{rec.a(href, it.title)}</li>')
            elif s.family == "foundersoft":
                attrs = ' title="%s" target="_blank"' % it.title
                out.append(f'<dd>{rec.a(href, it.title, attrs=attrs)}<em>{ds}</em></dd>')
            else:
                attrs = ' title="%s" target="_blank"' % it.title
                out.append(f'<li>{rec.a(href, it.title, attrs=attrs)}'
                           f'<span class="date">{ds}</span></li>')
        return "".join(out)

    def column_list_html(self, rec: Rec, col: Column, items: list, page_path: str) -> str:
        """Items of one list page, in the family's markup (Hanweb keeps them inside a recordset)."""
        f = self.s.family
        if not items:
            return '<div class="no-data">暂无信息</div>' if f != "legacy" else "<TR><TD>暂无信息"
        if f == "hanweb":
            recs = []
            for it in items:
                recs.append(f'<record><![CDATA[\n<li><a href="{it.path}" title="{it.title}" target="_blank">'
                            f'{it.title}</a><span class="bt-data-time">{it.date.isoformat()}</span></li>\n]]></record>')
                rec.links.append((it.path, it.title))
            cid = re.search(r"col(\d+)", col.path).group(1)
            return ('<div id="45678"><script type="text/xml"><datastore>\n<nextgroup><![CDATA[<a href="/module/web/'
                    f'jpage/dataproxy.jsp?page=1&webid=3&path=/&columnid={cid}&unitid=45678&webname='
                    f'{quote(self.s.city)}&permissiontype=0"></a>]]></nextgroup>\n<recordset>\n' + "\n".join(recs)
                    + f'\n</recordset></datastore></script></div>\n<script language="javascript" '
                    f'src="/module/jslib/jquery/jpage/dataproxy.js"></script>')
        out = []
        for it in items:
            href = it.path
            if f in ("trs", "kaipu"):
                cdir = page_path.rsplit("/", 1)[0] + "/"
                href = "./" + it.path[len(cdir):] if it.path.startswith(cdir) else it.path
            ds = fmt_date(it.date, "iso" if f != "legacy" else "slash")
            if f == "legacy":
                out.append(f'<TR><TD>·{rec.a(href, it.title, upper=True)}<TD>{ds}')
            else:
                out.append(f'<li><a href="{href}" target="_blank" title="{it.title}">{it.title}</a>'
                           f'<span>{ds}</span></li>')
                rec.links.append((href, it.title))
        if f == "legacy":
            return "\n".join(out)
        return '<ul class="list">\n' + "\n".join(out) + "\n</ul>"

    def build_columns(self, chrome) -> None:
        s = self.s
        for col in s.columns:
            per = [col.items[:col.n]] + [col.items[col.n + 4 * i: col.n + 4 * (i + 1)] for i in range(col.pages - 1)]
            for pno, items in enumerate(per):
                path = col.path
                if pno:
                    if s.family == "foundersoft":
                        path = col.path.replace(".htm", f"_{pno + 1}.htm")
                    elif s.family == "legacy":
                        path = col.path + f"&page={pno + 1}"
                    else:
                        path = col.path.replace("index.", f"index_{pno}.")
                rec = Rec()
                head, top, foot = chrome(rec, "column", col=col, path=path)
                lst = self.column_list_html(rec, col, items, path)
                if pno == 0 and items:
                    self.first_article[col.path] = items[0].path
                pager = ""
                if col.pages > 1:
                    if s.family in ("trs",):
                        pager = (f'<div class="page"><script type="text/javascript">createPageHTML({col.pages}, {pno}, '
                                 f'"index", "html");</script></div>')
                    elif s.family == "foundersoft":
                        nxt = col.path.replace(".htm", f"_{min(pno + 2, col.pages)}.htm")
                        pager = f'<div class="page">共{col.pages}页 <a href="{nxt}">下一页</a></div>'
                    elif s.family == "legacy":
                        pager = f'<TR><TD ALIGN=center><A HREF="{col.path}&page={min(pno + 2, col.pages)}">下一页</A>'
                self.put(path, self.page(head, top, self.column_body(rec, col, lst, pager), foot), rec)
                for it in items:
                    self.put(it.path, self.article_page(chrome, col, it), Rec())

    def column_body(self, rec: Rec, col: Column, lst: str, pager: str) -> str:
        s = self.s
        side = "".join(f"<li>{rec.a(c.path, c.label)}</li>" for c in s.columns[:4])
        if s.family == "legacy":
            return (f'<TABLE WIDTH=980 BORDER=0 ALIGN=center CELLPADDING=0 CELLSPACING=0><TR><TD WIDTH=200 VALIGN=top>'
                    f'<TABLE><TR><TD BGCOLOR="#0055A5"><FONT COLOR="#FFFFFF"><B>{col.label}</B></FONT>'
                    f'</TABLE><TD VALIGN=top><TABLE WIDTH="100%">{lst}{pager}</TABLE></TABLE>')
        return (f'<div class="container clearfix"><div class="left-nav"><h3>栏目导航</h3><ul>{side}</ul></div>'
                f'<div class="right-list"><div class="position">当前位置：<a href="/">首页</a> &gt; {col.label}</div>'
                f'<h2 class="col-title">{col.label}</h2>{lst}{pager}</div></div>')

    def article_page(self, chrome, col: Column, it: Item) -> str:
        s = self.s
        rec = Rec()
        head, top, foot = chrome(rec, "article", col=col, item=it, path=it.path)
        paras = self.rng.sample(PARAS, 3)
        share = ""
        if s.article_share:
            u = quote(self.base + it.path, safe="")
            share = ('<div class="bdsharebuttonbox share">分享到：'
                     f'<a href="https://service.weibo.com.test/share/share.php?url={u}&title={quote(it.title)}" '
                     'class="bds_tsina" title="分享到新浪微博">微博</a>'
                     '<a href="javascript:void(0)" class="bds_weixin" title="分享到微信">微信</a>'
                     f'<a href="https://connect.qq.com.test/widget/shareqq/index.html?url={u}" class="bds_sqq">QQ</a></div>')
        when = f"{it.date.isoformat()} {it.pubdate_meta[-5:]}" if it.pubdate_meta else it.date.isoformat()
        if s.family == "legacy":
            body = (f'<TABLE WIDTH=980 ALIGN=center><TR><TD ALIGN=center><FONT SIZE=4 COLOR="#CC0000"><B>{it.title}'
                    f'</B></FONT><TR><TD ALIGN=center><FONT SIZE=2>发布时间：{it.date.isoformat()}　来源：{it.dept}'
                    f'</FONT><TR><TD>' + "<BR><BR>".join("　　" + p for p in paras) + "</TABLE>")
        else:
            body = (f'<div class="container article"><div class="position">当前位置：<a href="/">首页</a> &gt; '
                    f'{col.label} &gt; 正文</div><h1>{it.title}</h1><div class="info"><span>发布时间：{when}</span>'
                    f'<span>来源：{it.dept}</span><span>字号：<a href="javascript:doZoom(18)">大</a> '
                    f'<a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a></span></div>'
                    f'<div class="content TRS_Editor">' + "".join(f"<p>{p}</p>" for p in paras) + f"</div>{share}</div>")
        return self.page(head, top, body, foot)

    def page(self, head: str, top: str, body: str, foot: str) -> str:
        if self.s.family == "legacy":
            return f"{head}\n<BODY TOPMARGIN=0 LEFTMARGIN=0>\n{top}\n{body}\n{foot}\n</BODY>\n</HTML>\n"
        return f"{head}\n<body>\n{top}\n{body}\n{foot}\n</body>\n</html>\n"

    def finish(self, site: Site) -> None:
        for r in list(self.res.values()):
            if isinstance(r.body, bytes) and r.content_type.startswith(("text/html", "application/json")):
                text = r.body.decode(self.s.encoding if r.content_type.startswith("text/html") else "utf-8")
                self.imgs.update(re.findall(r'(?i)src="(/[^"]+\.(?:png|gif|jpg))"', text))
                self.imgs.update(re.findall(r'"icon": "(/[^"]+)"', text))
        for p in sorted(self.imgs):
            if p not in self.res:
                self.res[p] = Resource(body=GIF, content_type="image/gif")
        site.resources.update(self.res)


# ----------------------------------------------------------------------------------------------
# Template families: each returns chrome(rec, ptype, col, item, path) -> (head, top, foot)
# and a home renderer.
# ----------------------------------------------------------------------------------------------

def head_html(b: Builder, title: str, ptype: str, col=None, item=None, path="", extra="") -> str:
    s = b.s
    vp = '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n' if s.viewport else ""
    meta = b.meta(ptype, col, item, path)
    if s.family == "legacy":
        return ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<HTML>\n<HEAD>\n'
                f'<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset={s.declared}">\n'
                f'<TITLE>{title}</TITLE>\n{meta}\n<META NAME="Keywords" CONTENT="{s.city},政府,门户">\n'
                f'<LINK HREF="/css/style.css" REL="stylesheet" TYPE="text/css">\n{extra}</HEAD>')
    hp = ""
    if s.family == "trs":
        extra += '<script type="text/javascript" src="/js/createPageHTML.js"></script>\n'
    if ptype == "home" and s.home_pubdate:
        hp = f'<meta name="PubDate" content="{b.today.isoformat()} 00:05">\n'
    charset = '<meta charset="utf-8">' if s.family in ("spa", "kaipu") else \
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    return (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n{charset}\n<meta http-equiv="X-UA-Compatible" '
            f'content="IE=edge">\n{vp}<title>{title}</title>\n{meta}\n{hp}'
            f'<link rel="stylesheet" href="/css/common.css">\n{extra}</head>')


def std_chrome(b: Builder):
    """Header/footer shared by all pages of the non-legacy families, with family-specific markup."""
    s = b.s

    def chrome(rec: Rec, ptype: str, col=None, item=None, path=""):
        title = f"{s.city}人民政府门户网站"
        if item is not None:
            title = f"{item.title}_{col.label}_{title}"
        elif col is not None:
            title = f"{col.label}_{title}"
        extra = ""
        head = head_html(b, title, ptype, col, item, path, extra)
        top_entries = [e for e in s.top if e.style != "script"]
        scripts = "".join(f'<script src="{e.href}" type="text/javascript"></script>' for e in s.top if e.style == "script")
        for e in s.top:
            if e.style == "script":
                rec.note(e.feat)
        search = ""
        if s.family == "trs":
            search = ('<form id="searchform" name="searchform" action="/search/search.html" method="get" '
                      'target="_blank"><input type="text" name="searchword" id="searchword" placeholder="请输入关键字">'
                      '<input type="submit" value="搜索" class="btn"></form>')
        elif s.family == "hanweb":
            search = ('<form action="/jsearchfront/search.do" method="get" name="searchform" target="_blank">'
                      '<input type="hidden" name="websiteid" value="' + b.s.code + '000000000"><input type="text" name="q" '
                      'class="search-input" placeholder="搜索"><button type="submit">搜 索</button></form>')
        elif s.family == "kaipu":
            search = ('<div class="search"><input type="search" id="kw" aria-label="站内搜索" placeholder="请输入搜索内容">'
                      '<a href="javascript:void(0)" onclick="doSearch()" class="s-btn">搜索</a></div>')
        elif s.family == "foundersoft":
            search = ('<form name="sf" action="/was5/web/search" method="post"><input name="searchword" '
                      'type="text" value=""><input type="image" src="' + b.icon("search_btn.png") + '" alt="检索"></form>')
        rec.note("site_search") if search else None
        tb = b.render_entries(rec, top_entries, " | ")
        navh = "".join(f"<li>{e.render(rec)}</li>" for e in s.nav)
        logo = f'<img src="{b.icon("logo.png")}" alt="{s.city}人民政府">'
        if s.family == "hanweb":
            top = (f'{scripts}<div class="topbar"><div class="w1200"><span class="welcome">您好，欢迎访问{s.city}人民政府门户网站'
                   f'</span><span class="fr">{tb}</span></div></div>\n<div class="header w1200">'
                   f'<div class="logo">{logo}</div>{search}</div>\n<div class="nav"><ul class="w1200">{navh}</ul></div>')
        elif s.family == "kaipu":
            top = (f'{scripts}<header class="gov-header"><div class="top-links">{tb}</div><div class="logo-row">'
                   f'<h1 class="logo">{logo}</h1>{search}</div><nav class="main-nav"><ul>{navh}</ul></nav></header>')
        elif s.family == "foundersoft":
            top = (f'{scripts}<div id="top"><div class="wrap"><div class="toplinks">{tb}</div></div></div>'
                   f'<div id="banner" class="wrap">{logo}{search}</div><div id="menu" class="wrap"><ul>{navh}</ul></div>')
        else:
            top = (f'{scripts}<div class="top"><div class="w1200 clearfix"><div class="top-l">{b.today.year}年'
                   f'{b.today.month}月{b.today.day}日</div><div class="top-r">{tb}</div></div></div>\n'
                   f'<div class="head w1200">{logo}{search}</div>\n<div class="mainNav"><ul class="w1200">{navh}</ul></div>')
        fl = b.render_entries(rec, s.footer, '<span class="line">|</span>')
        fdate = ""
        if s.footer_date:
            fdate = f'<p>网站最后更新：{b.today.isoformat()}</p>'
        conac = f'<img src="{b.icon("conac.png")}" alt="党政机关">'
        if s.family == "kaipu":
            foot = (f'<footer class="gov-footer"><nav>{fl}</nav><div class="conac">{conac}</div><address>'
                    f'主办：{s.sponsor}<br>{s.id_html}<br>{s.icp_html} {s.police}</address>{fdate}</footer>')
        elif s.family == "foundersoft":
            foot = (f'<div id="footer"><div class="wrap"><p class="flinks">{fl}</p><table><tr><td>{conac}</td><td>'
                    f'<p>主办单位：{s.sponsor}</p><p>{s.id_html}　{s.icp_html}</p><p>{s.police}</p></td></tr></table>'
                    f'{fdate}</div></div>')
        elif s.family == "hanweb":
            foot = (f'<div class="bottom"><div class="w1200"><div class="flinks">{fl}</div><div class="bq">'
                    f'<span>主办单位：{s.sponsor}</span> <span>{s.id_html}</span> <span>{s.icp_html}</span> '
                    f'<span>{s.police}</span></div><div class="conac">{conac}</div>{fdate}</div></div>')
        else:
            foot = (f'<div class="footer"><div class="w1200"><div class="flinks">{fl}</div>'
                    f'<p>主办单位：{s.sponsor}　承办单位：{s.city}政务服务和数据管理局</p>'
                    f'<p>{s.id_html}　{s.icp_html}　{s.police}</p>{fdate}'
                    f'<p>建议使用1366*768分辨率浏览本网站</p><div class="conac">{conac}</div></div></div>')
        return head, top, foot

    return chrome


def legacy_chrome(b: Builder):
    s = b.s

    def chrome(rec: Rec, ptype: str, col=None, item=None, path=""):
        title = f"{s.city}人民政府门户网站" if col is None else f"{col.label}-{s.city}人民政府门户网站"
        head = head_html(b, title, ptype, col, item, path)
        tb = b.render_entries(rec, s.top, " | ")
        navh = "".join(f'<TD ALIGN=center><FONT COLOR="#FFFFFF">{e.render(rec, upper=True)}</FONT>' for e in s.nav)
        top = (f'<TABLE WIDTH=980 BORDER=0 ALIGN=center CELLPADDING=0 CELLSPACING=0>\n<TR><TD ALIGN=right '
               f'BGCOLOR="#F0F0F0"><FONT SIZE=2>{tb}</FONT>\n<TR><TD><IMG SRC="{b.icon("banner.jpg")}" '
               f'WIDTH=980 HEIGHT=150>\n<TR><TD BGCOLOR="#0055A5"><TABLE WIDTH="100%"><TR>{navh}</TABLE>\n</TABLE>')
        fl = b.render_entries(rec, s.footer, " | ")
        foot = (f'<TABLE WIDTH=980 BORDER=0 ALIGN=center BGCOLOR="#EEEEEE">\n<TR><TD ALIGN=center><FONT SIZE=2>{fl}'
                f'<BR>\n主办：{s.sponsor}　　地址：{s.city}青秀区民族大道 联系电话：0771-2812345<BR>\n'
                f'{s.icp_html}　{s.police}<BR>\n版权所有 {s.city}人民政府 2003-{b.today.year}</FONT>\n</TABLE>')
        return head, top, foot

    return chrome


def render_home(b: Builder, chrome) -> str:
    s = b.s
    rec = Rec()
    head, top, foot = chrome(rec, "home", path="/")
    legacy = s.family == "legacy"
    parts = []
    # banner / picture news (undated)
    pics = []
    for t, p in s.undated:
        pics.append(rec.a(p, t, upper=legacy) if legacy else f'<li>{rec.a(p, t)}</li>')
    if legacy:
        parts.append('<TABLE WIDTH=980 ALIGN=center BORDER=0><TR><TD WIDTH=320 VALIGN=top>'
                     f'<IMG SRC="{b.icon("pic1.jpg")}" WIDTH=320 HEIGHT=220><BR>' + "<BR>".join(pics))
    else:
        parts.append(f'<div class="w1200 focus clearfix"><div class="slide"><img src="{b.icon("focus1.jpg")}" '
                     f'alt="图片新闻"><ul class="slide-list">{"".join(pics)}</ul></div>')
    # column blocks
    for col in s.columns:
        if not col.on_home and not col.home_label:
            continue
        lab = col.home_label or col.label
        more = rec.a(col.path, "更多&gt;&gt;", "更多", upper=legacy) if col.on_home else ""
        if legacy:
            parts.append(f'<TD VALIGN=top><TABLE WIDTH="100%" BORDER=0><TR><TD BGCOLOR="#DDE8F5"><B>'
                         f'{rec.a(col.path, lab, upper=True)}</B><TD ALIGN=right>{more}'
                         f'{b.home_items(rec, col)}</TABLE>')
        elif s.family == "hanweb":
            parts.append(f'<div class="tab-box"><div class="tab-hd"><span class="on">{rec.a(col.path, lab)}</span>'
                         f'<span class="more">{more}</span></div><div class="tab-bd"><table class="bt-list" '
                         f'cellspacing="0" cellpadding="0">{b.home_items(rec, col)}</table></div></div>')
        elif s.family == "kaipu":
            parts.append(f'<section class="mod"><div class="mod-title">{rec.a(col.path, lab)}{more}</div>'
                         f'<ul class="mod-list">{b.home_items(rec, col)}</ul></section>')
        elif s.family == "foundersoft":
            parts.append(f'<dl class="lmlist"><dt>{rec.a(col.path, lab)}<span class="more">{more}</span></dt>'
                         f'{b.home_items(rec, col)}</dl>')
        else:
            parts.append(f'<div class="news-box"><div class="hd"><h3>{rec.a(col.path, lab)}</h3>'
                         f'<span class="more">{more}</span></div><ul class="bd">{b.home_items(rec, col)}</ul></div>')
    if legacy:
        parts.append("</TABLE>")
    else:
        parts.append("</div>")
    if s.iframe:
        parts.append(f'<div class="w1200 zwfw-frame"><iframe src="{s.iframe}" width="100%" height="160" '
                     'frameborder="0" scrolling="no" title="政务服务"></iframe></div>')
    for heading, entries in s.blocks:
        if legacy:
            inner = "<BR>".join(e.render(rec, upper=True) for e in entries)
            parts.append(f'<TABLE WIDTH=980 ALIGN=center><TR><TD BGCOLOR="#DDE8F5"><B>{heading}</B><TR><TD>{inner}</TABLE>')
        else:
            inner = "".join(f"<li>{e.render(rec)}</li>" for e in entries)
            parts.append(f'<div class="w1200 block"><div class="hd"><h3>{heading}</h3></div><ul>{inner}</ul></div>')
    if s.extra_home:
        inner = " ".join(e.render(rec, upper=legacy) for e in s.extra_home)
        parts.append(f'<div class="w1200 ztzl"><h3>专题专栏</h3>{inner}</div>' if not legacy
                     else f'<TABLE WIDTH=980 ALIGN=center><TR><TD>{inner}</TABLE>')
    if s.home_share:
        u = quote(b.base + "/", safe="")
        parts.append('<div class="w1200 share-home">分享到：'
                     f'<a href="https://service.weibo.com.test/share/share.php?url={u}" title="分享到新浪微博">'
                     f'<img src="{b.icon("share_wb.png")}" alt="新浪微博"></a>'
                     '<a href="javascript:void(0)" class="share-wx" title="分享到微信">'
                     f'<img src="{b.icon("share_wx.png")}" alt="微信"></a></div>')
    if s.float_box:
        fr = Rec()
        inner = "".join(e.render(fr) for e in s.float_box)
        rec.feats |= fr.feats
        # written by script: anchors here are tel: or other-host links only
        for href, _ in fr.links:
            assert not href.startswith("/") and s.host not in href, href
        js = inner.replace("'", "\\'")
        parts.append(f"<script type=\"text/javascript\">\ndocument.write('<div id=\"floatBox\" class=\"float-box\">"
                     f"{js}<a href=\"javascript:;\" onclick=\"this.parentNode.style.display=\\'none\\'\">关闭</a>"
                     "</div>');\n</script>")
    html = b.page(head, top, "\n".join(parts), foot)
    b.recs["/"] = rec
    return html


def render_subpages(b: Builder, chrome) -> None:
    s = b.s
    legacy = s.family == "legacy"
    for path, (title, sections) in s.subpages.items():
        rec = Rec()
        head, top, foot = chrome(rec, "column", col=Column("sub", title, path), path=path)
        body = []
        b.hub_links[path] = sum(1 for _, entries in sections for e in entries if e.href and e.style != "qr")
        for heading, entries in sections:
            if legacy:
                body.append(f'<TR><TD BGCOLOR="#DDE8F5"><B>{heading}</B><TR><TD>'
                            + "<BR>".join(e.render(rec, upper=True) for e in entries))
            else:
                body.append(f'<div class="sub-block"><h3>{heading}</h3><ul>'
                            + "".join(f"<li>{e.render(rec)}</li>" for e in entries) + "</ul></div>")
        if legacy:
            content = f'<TABLE WIDTH=980 ALIGN=center>{"".join(body)}</TABLE>'
        else:
            content = (f'<div class="container"><div class="position">当前位置：<a href="/">首页</a> &gt; {title}'
                       f'</div><h2>{title}</h2>{"".join(body)}</div>')
        b.put(path, b.page(head, top, content, foot), rec)


# ----------------------------------------------------------------------------------------------
# SPA family (menus, lists and footer arrive by XHR)
# ----------------------------------------------------------------------------------------------

SPA_JS = r"""
(function () {
  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;'); }
  function link(l) {
    var inner = l.icon ? '<img src="' + l.icon + '" alt="' + esc(l.name) + '"><em>' + esc(l.name) + '</em>' : esc(l.name);
    return '<a href="' + l.url + '"' + (l.blank ? ' target="_blank"' : '') + '>' + inner + '</a>';
  }
  function render(d) {
    var h = [];
    h.push('<div class="topbar">' + d.top.map(link).join(' | ') + '</div>');
    h.push('<div class="header"><img src="/static/img/logo.png" alt="' + esc(d.site) + '">' +
           '<form class="search" action="/search/index.html" method="get"><input type="search" name="keyword" placeholder="搜索">' +
           '<button type="submit">搜索</button></form></div>');
    h.push('<nav class="menu"><ul>' + d.nav.map(function (n) { return '<li>' + link(n) + '</li>'; }).join('') + '</ul></nav>');
    d.columns.forEach(function (c) {
      var items = c.items.map(function (i) {
        return '<li>' + link({name: i.title, url: i.url, blank: true}) + '<span class="time">' + i.date + '</span></li>';
      }).join('');
      h.push('<section class="col"><h3>' + link(c) + '</h3><ul>' + items + '</ul></section>');
    });
    d.blocks.forEach(function (b) {
      h.push('<section class="blk"><h3>' + esc(b.title) + '</h3><div class="icons">' + b.links.map(link).join('') + '</div></section>');
    });
    h.push('<footer><div class="flinks">' + d.footer.links.map(link).join(' | ') + '</div>' +
           d.footer.lines.map(function (t) { return '<p>' + esc(t) + '</p>'; }).join('') + '</footer>');
    document.getElementById('app').innerHTML = h.join('\n');
  }
  var xhr = new XMLHttpRequest();
  xhr.open('GET', '/api/menu.json', true);
  xhr.onreadystatechange = function () {
    if (xhr.readyState === 4 && xhr.status === 200) { render(JSON.parse(xhr.responseText)); }
  };
  xhr.send();
})();
"""


# Stand-in for Hanweb's jpage: renders the CDATA records of each text/xml datastore as a list.
HANWEB_JPAGE_JS = r"""
(function () {
  var stores = document.querySelectorAll('script[type="text/xml"]');
  for (var i = 0; i < stores.length; i++) {
    var recs = stores[i].textContent.match(/<record><!\[CDATA\[([\s\S]*?)\]\]><\/record>/g) || [];
    var html = recs.map(function (r) {
      return r.replace(/^<record><!\[CDATA\[/, '').replace(/\]\]><\/record>$/, '');
    }).join('');
    var ul = document.createElement('ul');
    ul.className = 'list';
    ul.innerHTML = html;
    stores[i].parentNode.appendChild(ul);
  }
})();
"""


def build_spa_home(b: Builder) -> None:
    """Home shell + /api/menu.json. The recorder follows the order in which SPA_JS builds anchors:
    top bar, nav, each column (heading link, then items), blocks, footer links."""
    s = b.s
    rec = Rec()
    rec.note("site_search")

    def ent(e: L) -> dict:
        rec.a(e.href, e.label, e.label, e.feat, e.lang)
        d = {"name": e.label, "url": e.href}
        if e.style in ("img", "imgtitle"):
            d["icon"] = e.icon or "/static/img/icon.png"
        if e.blank:
            d["blank"] = True
        return d

    data = {"site": f"{s.city}人民政府门户网站", "top": [ent(e) for e in s.top], "nav": [ent(e) for e in s.nav],
            "columns": [], "blocks": [], "footer": {}}
    for col in s.columns:
        if not col.on_home:
            continue
        c = {"name": col.home_label or col.label, "url": col.path}
        rec.a(col.path, c["name"])
        c["items"] = []
        for it in col.items[:col.on_home]:
            rec.a(it.path, it.title)
            rec.dates.append(it.date)
            c["items"].append({"title": it.title, "url": it.path, "date": fmt_date(it.date, s.date_fmt)})
        data["columns"].append(c)
    for heading, entries in s.blocks:
        data["blocks"].append({"title": heading, "links": [ent(e) for e in entries if e.style != "qr"]})
        for e in entries:
            if e.style == "qr":
                raise ValueError("SPA blocks take links only")
    data["footer"] = {"links": [ent(e) for e in s.footer],
                      "lines": [f"主办单位：{s.sponsor}", s.id_html, s.icp_html, s.police]}
    vp = '<meta name="viewport" content="width=device-width,initial-scale=1">\n' if s.viewport else ""
    meta = b.meta("home", path="/")
    shell = (f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n{vp}<title>{s.city}人民政府门户网站'
             f'</title>\n{meta}\n<link rel="stylesheet" href="/static/css/app.8f3a1c.css">\n</head>\n<body>\n'
             '<div id="app"><div class="loading">页面加载中……</div></div>\n'
             '<noscript>您的浏览器未启用JavaScript，请启用后访问本网站。</noscript>\n'
             f'<script type="text/javascript">{SPA_JS}</script>\n</body>\n</html>\n')
    b.put("/", shell, needs_browser=True)
    b.res["/"].needs_browser = True
    b.recs["/"] = rec
    b.res["/api/menu.json"] = Resource(body=json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"),
                                       content_type="application/json; charset=utf-8")


# ----------------------------------------------------------------------------------------------
# The nine portals
# ----------------------------------------------------------------------------------------------

def _wb(acct: str) -> str:
    return f"https://weibo.com.test/{acct}"


def specs() -> list[Spec]:
    out = []
    all_meta = {k: v for k, v in META_TAGS_BY_PAGE_TYPE.items()}

    # 1. 深圳 — TRS WCM, HTTPS + HSTS, accessibility widget script, 5 language links (English twice),
    #    split-tag 政策解读, 12345 only in a document.write float box, iframe, share buttons on articles,
    #    a 403 intranet link, one broken footer link, article PubDate disagreeing with list dates.
    out.append(Spec(
        code="440300", city="深圳市", short="深圳", abbr="sz", host="www.sz.gov.cn.test", family="trs",
        population=17798900, https=True, hsts=True, site_id="4403000001",
        id_html="网站标识码：4403000001", icp="粤ICP备41139235号", icp_html='<a href="https://beian.miit.gov.cn.test/" '
        'target="_blank">粤ICP备41139235号</a>', police="粤公网安备 44030402003301号", sponsor="深圳市人民政府办公厅",
        meta=all_meta, date_fmt="md", article_share=True, iframe="/zwfw/bszn_iframe.html", pubdate_skew=2,
        robots="User-agent: *\nDisallow: /oa/\nDisallow: /search/\n",
        columns=[
            Column("yw", "深圳要闻", "/cn/xxgk/zwdt/szyw/index.html", n=6, newest_age=1, step=(0, 2), pages=2, on_home=6),
            Column("bmdt", "部门动态", "/cn/xxgk/zwdt/bmdt/index.html", n=5, newest_age=2, step=(1, 3), on_home=4),
            Column("tzgg", "通知公告", "/cn/xxgk/tzgg/index.html", n=5, newest_age=3, step=(3, 9), on_home=5),
            Column("zcwj", "政策文件", "/cn/xxgk/zcfg/zcwj/index.html", n=5, newest_age=40, step=(6, 20), on_home=3),
            Column("qxdt", "区县动态", "/cn/xxgk/zwdt/qxdt/index.html", n=4, newest_age=20, step=(2, 5), on_home=3),
            Column("gsgg", "公示公告", "/cn/xxgk/gsgg/index.html", empty=True, home_label="公示公告"),
            Column("gfxwj", "规范性文件", "/cn/xxgk/zcfg/gfxwj/index.html", n=3, newest_age=400, step=(30, 60),
                   home_label="规范性文件"),
        ],
        top=[L("登录", "https://auth.sz.gov.cn.test/login", "personal_login"), L("注册", "https://auth.sz.gov.cn.test/reg"),
             L("wza", "https://wza.sz.gov.cn.test/wza.js", "accessibility_mode", style="script"),
             L("English", "https://english.sz.gov.cn.test/", lang="en"), L("繁體", "https://big5.sz.gov.cn.test/", lang="zh-Hant"),
             L("日本語", "https://jp.sz.gov.cn.test/", lang="ja"), L("한국어", "https://kr.sz.gov.cn.test/", lang="ko"),
             L("内部办公", "/oa/")],
        nav=[L("首页", "/"), L("信息公开", "/cn/xxgk/", "info_disclosure"), L("政务服务", "https://sz.gdzwfw.gov.cn.test/",
             "online_service_hall", blank=True), L("政民互动", "https://hd.sz.gov.cn.test/"), L("数据开放",
             "https://opendata.sz.gov.cn.test/", "open_data_link"), L("走进深圳", "/cn/zjsz/")],
        blocks=[("政策解读", [L("政策解读", "/cn/xxgk/zcjd/", "policy_interpretation", style="split", parts=("政策", "解读")),
                              L("图解政策", "/cn/xxgk/zcjd/tjzc/"), L("发布会回顾", "/cn/xxgk/xwfyr/wqhg/index.html")]),
                ("互动交流", [L("市长信箱", "https://hd.sz.gov.cn.test/szxx/", "mayor_mailbox"),
                              L("在线访谈", "https://hd.sz.gov.cn.test/zxft/", "online_interview"),
                              L("征集调查", "https://hd.sz.gov.cn.test/zjdc/", style="split", parts=("征集", "调查")),
                              L("意见征集", "https://hd.sz.gov.cn.test/yjzj/", "opinion_solicitation")]),
                ("新媒体矩阵", [L("深圳发布", _wb("szfb"), "new_media_weibo", style="img", icon="/images/wb.png", blank=True),
                               L("深圳发布微信公众号", None, "new_media_wechat", style="qr", icon="/images/wx_qr.png"),
                               L("深圳发布抖音号", "https://www.douyin.com.test/user/szfb", "new_media_douyin", blank=True),
                               L("i深圳APP下载", "https://apps.apple.com.test/cn/app/id1498765432", "gov_app_link"),
                               L("i深圳小程序", None, "mini_program", style="qr", icon="/images/mp_qr.png")])],
        footer=[L("网站地图", "/cn/wzdt/", "site_map"), L("联系我们", "/cn/lxwm/"), L("隐私声明", "/cn/yssm/", "privacy_statement"),
                L("English", "https://english.sz.gov.cn.test/index.html", lang="en"), L("友情链接", "/cn/yqlj_old.html")],
        float_box=[L("12345热线", "tel:12345", "hotline_12345"), L("在线咨询", "https://hd.sz.gov.cn.test/zxzx/")],
        undated=[("深圳全力推进“20+8”产业集群建设", "/cn/ztzl/cyjq/"), ("秋日深圳湾公园美景如画", "/cn/zjsz/tp/")],
        extra_home=[L("学习贯彻党的二十届四中全会精神", "/cn/ztzl/xxgc/"), L("优化营商环境", "/cn/ztzl/yhyshj/"),
                    L("民生实事", "/cn/ztzl/mssx/")],
        subpages={
            "/cn/wzdt/": ("网站地图", [("信息公开", [L("深圳要闻", "/cn/xxgk/zwdt/szyw/index.html"),
                                                    L("通知公告", "/cn/xxgk/tzgg/index.html"),
                                                    L("政策解读", "/cn/xxgk/zcjd/", "policy_interpretation")]),
                                       ("互动", [L("市长信箱", "https://hd.sz.gov.cn.test/szxx/", "mayor_mailbox")])]),
            "/cn/lxwm/": ("联系我们", [("联系方式", [L("地址：深圳市福田区福中三路市民中心C区", style="plain"),
                                                    L("邮编：518035", style="plain")])]),
        },
        bad={"/oa/": 403, "/cn/yqlj_old.html": 404},
        notes="TRS WCM; HTTPS+HSTS; IPv6; wza.js widget; float box by document.write (12345 only there); "
              "iframe; split-tag 政策解读; share-to-Weibo on articles; MM-DD dates; article PubDate skewed; "
              "403 intranet link; 7 columns (6 sampled)."))

    # 2. 杭州 — Hanweb 大汉, HTTPS without HSTS, lists in <script type=text/xml> recordsets, 政民互动 sub-page
    #    holding mailbox / interview / solicitation (only there), 新媒体 sub-page with the accounts, text 无障碍.
    out.append(Spec(
        code="330100", city="杭州市", short="杭州", abbr="hangzhou", host="www.hangzhou.gov.cn.test", family="hanweb",
        population=12622000, https=True, hsts=False, site_id="3301000010", id_html="标识码:3301000010",
        icp="浙ICP备05023417号-1", icp_html="ICP备案号：浙ICP备05023417号-1", police="浙公网安备 33010502000123号",
        sponsor="杭州市人民政府办公厅", date_fmt="iso", iframe="/col/col1229000/zwfw_frame.html",
        meta={"home": ("SiteName", "SiteDomain", "SiteIDCode"), "column": ("SiteName", "SiteDomain", "SiteIDCode",
              "ColumnName"), "article": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ArticleTitle", "PubDate")},
        columns=[
            Column("jryw", "今日要闻", "/col/col805865/index.html", n=6, newest_age=0, step=(0, 2), on_home=6),
            Column("bmdt", "部门动态", "/col/col805866/index.html", n=6, newest_age=1, step=(1, 3), on_home=4),
            Column("tzgg", "通知公告", "/col/col805867/index.html", n=5, newest_age=5, step=(5, 15), on_home=5),
            Column("zcwj", "政策文件", "/col/col1229063/index.html", n=5, newest_age=9, step=(4, 20), on_home=4),
            Column("qxdt", "区县（市）动态", "/col/col805870/index.html", n=4, newest_age=3, step=(1, 3), on_home=0,
                   home_label="区县（市）动态"),
        ],
        top=[L("无障碍", "javascript:void(0);", "accessibility_mode"), L("长者模式", "/col/col1229999/index.html",
             "accessibility_mode"), L("English", "https://eng.hangzhou.gov.cn.test/", lang="en"),
             L("个人登录", "https://puser.zjzwfw.gov.cn.test/sso/login", "personal_login")],
        nav=[L("首页", "/index.html"), L("政务公开", "/col/col1229000/index.html", "info_disclosure"), L("政府信息公开",
             "/col/col1229001/index.html", "info_disclosure"), L("一网通办", "https://www.zjzwfw.gov.cn.test/hz/",
             "online_service_hall"), L("政民互动", "/col/col1229500/index.html"), L("走进杭州", "/col/col805740/index.html")],
        blocks=[("解读回应", [L("政策解读", "/col/col1229064/index.html", "policy_interpretation")]),
                ("便民服务", [L("12345市长热线", "https://www.hangzhou12345.gov.cn.test/", "hotline_12345"),
                             L("杭州市公共数据开放", "https://data.hangzhou.gov.cn.test/", "open_data_link"),
                             L("新媒体", "/col/col1229700/index.html")])],
        footer=[L("网站地图", "/col/col1229800/index.html", "site_map"), L("联系我们", "/col/col1229801/index.html"),
                L("隐私政策", "/col/col1229802/index.html", "privacy_statement")],
        undated=[("杭州亚运场馆赛后利用成效显著", "/col/col805741/index.html")],
        subpages={
            "/col/col1229500/index.html": ("政民互动", [
                ("我要写信", [L("市长信箱", "https://hd.hangzhou.gov.cn.test/szxx/", "mayor_mailbox"),
                              L("部门信箱", "https://hd.hangzhou.gov.cn.test/bmxx/")]),
                ("参与互动", [L("在线访谈", "https://hd.hangzhou.gov.cn.test/zxft/", "online_interview"),
                              L("意见征集", "https://hd.hangzhou.gov.cn.test/yjzj/", "opinion_solicitation")])]),
            "/col/col1229700/index.html": ("新媒体", [
                ("政务新媒体", [L("杭州发布官方微博", _wb("hangzhoufabu"), "new_media_weibo"),
                               L("杭州发布微信公众号", None, "new_media_wechat", style="qr", icon="/images/hzfb_qr.png"),
                               L("杭州发布抖音", "https://www.douyin.com.test/user/hzfb", "new_media_douyin"),
                               L("浙里办APP下载", "https://www.zjzwfw.gov.cn.test/app/", "gov_app_link")])]),
            "/col/col1229800/index.html": ("网站地图", [("栏目", [L("今日要闻", "/col/col805865/index.html"),
                                                                L("通知公告", "/col/col805867/index.html")])]),
            "/col/col1229801/index.html": ("联系我们", [("联系方式", [L("地址：杭州市解放东路18号", style="plain")])]),
            "/col/col1229802/index.html": ("隐私政策", [("说明", [L("本网站尊重并保护用户隐私。", style="plain")])]),
            "/col/col1229000/index.html": ("政务公开", [("目录", [L("政府信息公开指南", "/col/col1229001/index.html")])]),
            "/col/col1229001/index.html": ("政府信息公开", [("目录", [L("政府信息公开年报", "/col/col1229002/index.html")])]),
            "/col/col1229064/index.html": ("政策解读", [("解读", [L("图解", "/col/col1229065/index.html")])]),
            "/col/col805740/index.html": ("走进杭州", [("概况", [L("杭州概况", "/col/col805741/index.html")])]),
            "/col/col805741/index.html": ("杭州概况", [("概况", [L("历史沿革", "/col/col805742/index.html")])]),
            "/col/col1229999/index.html": ("长者模式", [("说明", [L("大字版、语音播报", style="plain")])]),
        },
        notes="Hanweb; HTTPS without HSTS; IPv6; column items inside <script type=text/xml> recordsets; "
              "政民互动 sub-page holds 市长信箱/在线访谈/意见征集 (only there); Weibo/WeChat/Douyin/APP only on the "
              "新媒体 sub-page; text 无障碍 link + 长者模式; iframe; 区县（市）动态 column linked without items."))

    # 3. 成都 — single-page app: menus, lists and footer arrive by XHR from /api/menu.json.
    out.append(Spec(
        code="510100", city="成都市", short="成都", abbr="chengdu", host="www.chengdu.gov.cn.test", family="spa",
        population=21403000, site_id="5101000031", id_html="网站标识码 5101000031", icp="蜀ICP备05005307号-2",
        icp_html="备案号：蜀ICP备05005307号-2", police="川公网安备 51010402000567号", sponsor="成都市人民政府办公厅",
        date_fmt="iso",
        meta={"home": ("SiteName", "SiteDomain"), "column": ("SiteName", "SiteDomain", "ColumnName", "ColumnType"),
              "article": ("SiteName", "SiteDomain", "ColumnName", "ArticleTitle", "PubDate", "ContentSource")},
        columns=[
            Column("cdyw", "成都要闻", "/cdsrmzf/c169604/list.shtml", n=6, newest_age=2, step=(0, 2), on_home=5),
            Column("qxdt", "区（市）县动态", "/cdsrmzf/c169605/list.shtml", n=5, newest_age=16, step=(1, 4), on_home=3),
            Column("tzgg", "通知公告", "/cdsrmzf/c169606/list.shtml", n=5, newest_age=30, step=(5, 25), on_home=4),
            Column("zcwj", "政策文件", "/cdsrmzf/c169607/list.shtml", n=5, newest_age=190, step=(10, 30), on_home=3),
        ],
        top=[L("English", "/en/index.html", lang="en"), L("繁體版", "/big5/index.html", lang="zh-Hant"),
             L("关怀版", "/ghb/index.html", "accessibility_mode"), L("统一身份认证登录",
             "https://tyrz.sczwfw.gov.cn.test/login", "personal_login")],
        nav=[L("首页", "/"), L("信息公开", "/cdsrmzf/xxgk/index.shtml", "info_disclosure"),
             L("政务服务", "https://cdzw.sczwfw.gov.cn.test/", "online_service_hall"),
             L("互动交流", "/cdsrmzf/hdjl/index.shtml"), L("走进成都", "/cdsrmzf/zjcd/index.shtml")],
        blocks=[("热点服务", [L("政策解读", "/cdsrmzf/c169610/list.shtml", "policy_interpretation", style="img",
                                icon="/static/img/zcjd.png"),
                              L("12345热线", "https://12345.chengdu.gov.cn.test/", "hotline_12345", style="img",
                                icon="/static/img/12345.png"),
                              L("天府蓉易办APP", "https://www.chengdu.gov.cn.test/app/download.html", "gov_app_link",
                                style="img", icon="/static/img/app.png"),
                              L("成都市公共数据开放平台", "https://data.chengdu.gov.cn.test/", "open_data_link")])],
        footer=[L("网站地图", "/cdsrmzf/wzdt/index.shtml", "site_map"), L("联系我们", "/cdsrmzf/lxwm/index.shtml"),
                L("网站声明", "/cdsrmzf/wzsm/index.shtml")],
        subpages={
            "/cdsrmzf/hdjl/index.shtml": ("互动交流", [
                ("互动", [L("市长信箱", "https://12345.chengdu.gov.cn.test/szxx", "mayor_mailbox"),
                          L("网上调查", "/cdsrmzf/hdjl/wsdc/index.shtml", "opinion_solicitation")])]),
            "/cdsrmzf/wzdt/index.shtml": ("网站地图", [("栏目", [L("成都要闻", "/cdsrmzf/c169604/list.shtml"),
                                                               L("互动交流", "/cdsrmzf/hdjl/index.shtml")])]),
            "/cdsrmzf/lxwm/index.shtml": ("联系我们", [("联系我们", [L("成都发布微博", _wb("chengdufabu"), "new_media_weibo"),
                                                                  L("地址：成都市高新区锦城大道366号", style="plain")])]),
            "/cdsrmzf/wzsm/index.shtml": ("网站声明", [("声明", [L("个人信息保护", style="plain", feat="privacy_statement")])]),
            "/cdsrmzf/xxgk/index.shtml": ("信息公开", [("目录", [L("政府信息公开指南", "/cdsrmzf/xxgk/zn.shtml")])]),
            "/cdsrmzf/zjcd/index.shtml": ("走进成都", [("概况", [L("城市概况", "/cdsrmzf/zjcd/gk.shtml")])]),
            "/cdsrmzf/c169610/list.shtml": ("政策解读", [("解读", [L("图解政策", "/cdsrmzf/c169611/list.shtml")])]),
            "/en/index.html": ("English", [("Chengdu", [L("About Chengdu", style="plain")])]),
            "/big5/index.html": ("繁體版", [("成都", [L("繁體中文版", style="plain")])]),
            "/ghb/index.html": ("关怀版", [("关怀版", [L("大字号 高对比度", style="plain")])]),
        },
        notes="SPA: home is an empty shell (needs_browser); nav, lists, feature icons and footer come from "
              "/api/menu.json; features on the 互动交流 / 联系我们 sub-pages (mailbox, 网上调查, Weibo); "
              "privacy text (个人信息保护) only on the 网站声明 page, a followed label -> present."))

    # 4. 武汉 — Kaipu gkmlpt behind a JavaScript cookie challenge; 手机版 link instead of a viewport.
    out.append(Spec(
        code="420100", city="武汉市", short="武汉", abbr="wuhan", host="www.wuhan.gov.cn.test", family="kaipu",
        population=13774000, js_challenge=True, viewport=False, sitemap_xml=True, site_id="4201000004",
        id_html="政府网站标识码：4201000004", icp="鄂ICP备05007364号", icp_html="鄂ICP备05007364号",
        police="鄂公网安备 42010202000345号", sponsor="武汉市人民政府办公厅", date_fmt="cn",
        meta={"home": ("SiteName", "SiteDomain", "SiteIDCode"), "column": ("SiteName", "SiteDomain", "SiteIDCode",
              "ColumnName", "ColumnType"), "article": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName",
              "ColumnType", "ArticleTitle", "PubDate", "ContentSource")},
        columns=[
            Column("whyw", "武汉要闻", "/xwdt/whyw/index.shtml", n=6, newest_age=0, step=(0, 1), on_home=6),
            Column("qydt", "区域动态", "/xwdt/qydt/index.shtml", n=5, newest_age=4, step=(1, 3), on_home=4),
            Column("tzgg", "通知公告", "/zwgk/tzgg/index.shtml", n=5, newest_age=12, step=(5, 30), on_home=4),
            Column("zcfg", "政策法规", "/zwgk/zcfg/index.shtml", n=4, newest_age=200, step=(20, 40), on_home=2),
        ],
        top=[L("手机版", "http://m.wuhan.gov.cn.test/", "mobile_friendly"), L("English", "http://english.wuhan.gov.cn.test/",
             lang="en"), L("无障碍浏览", "javascript:;", "accessibility_mode"), L("登录", "https://tyrz.hubei.gov.cn.test/",
             "personal_login")],
        nav=[L("首页", "/"), L("政务公开", "/zwgk/index.shtml", "info_disclosure"), L("政府信息公开", "/gkmlpt/index", "info_disclosure"),
             L("网上办事", "https://whzwfw.wuhan.gov.cn.test/", "online_service_hall"), L("互动交流", "/hdjl/index.shtml"),
             L("新媒体", "/xmt/index.shtml")],
        blocks=[("专题服务", [L("政策解读", "/zwgk/zcjd/index.shtml", "policy_interpretation"),
                              L("市长专线12345", "https://12345.wuhan.gov.cn.test/", "hotline_12345"),
                              L("武汉市公共数据开放平台", "https://data.wuhan.gov.cn.test/", "open_data_link")])],
        footer=[L("隐私保护", "/ysbh/index.shtml", "privacy_statement"),
                L("English", "http://english.wuhan.gov.cn.test/index.html", lang="en")],
        extra_home=[L("意见征集", "/hdjl/rmjyzj/index.shtml", "opinion_solicitation")],
        subpages={
            "/hdjl/index.shtml": ("互动交流", [("互动", [L("市长信箱", "/hdjl/szxx/index.shtml", "mayor_mailbox"),
                                                       L("访谈直播", "/hdjl/ftzb/index.shtml", "online_interview")])]),
            "/xmt/index.shtml": ("新媒体", [("政务新媒体", [L("武汉发布", _wb("wuhanfabu"), "new_media_weibo"),
                                                        L("武汉发布微信公众号", None, "new_media_wechat", style="qr",
                                                          icon="/images/whfb_qr.png"),
                                                        L("武汉政务服务小程序", None, "mini_program", style="qr",
                                                          icon="/images/xcx_qr.png")])]),
            "/ysbh/index.shtml": ("隐私保护", [("说明", [L("个人信息保护说明", style="plain")])]),
            "/zwgk/index.shtml": ("政务公开", [("目录", [L("政府信息公开", "/gkmlpt/index")])]),
            "/gkmlpt/index": ("政府信息公开", [("目录", [L("政府信息公开指南", "/gkmlpt/guide")])]),
            "/zwgk/zcjd/index.shtml": ("政策解读", [("解读", [L("图解", "/zwgk/zcjd/tj/index.shtml")])]),
            "/hdjl/rmjyzj/index.shtml": ("人民建议征集", [("征集", [L("我要建议", "/hdjl/rmjyzj/form.shtml")])]),
        },
        notes="Kaipu gkmlpt style; JS cookie challenge (browser needed for every page); home links carry "
              "#fragments; 年月日 dates; no viewport but 手机版 link; English twice (1 language); no 网站地图 "
              "link but /sitemap.xml answers 200 (site_map True)."))

    # 5. 青岛 — Foundersoft; features only as <img alt>/<a title>; robots Disallow: /hdjl/ with the
    #    政民互动 sub-page (mailbox, interview, solicitation) under it -> absent; identifier in an image title.
    q_icon = lambda n: f"/images/2024/ico_{n}.png"  # noqa: E731
    out.append(Spec(
        code="370200", city="青岛市", short="青岛", abbr="qingdao", host="www.qingdao.gov.cn.test", family="foundersoft",
        population=10370000, site_id="3702000002",
        id_html=f'<img src="/images/2024/bsm.png" title="政府网站标识码：3702000002" alt="政府网站标识码：3702000002">',
        icp="鲁ICP备05037261号", icp_html="备案序号:鲁ICP备05037261号", police="鲁公网安备 37020202000789号",
        sponsor="青岛市人民政府办公厅", date_fmt="bracket", robots="User-agent: *\nDisallow: /hdjl/\nDisallow: /was5/\n",
        meta={"home": ("SiteName",), "column": ("SiteName", "ColumnName"), "article": ("SiteName", "ArticleTitle", "PubDate")},
        columns=[
            Column("qdyw", "青岛要闻", "/node_28001.htm", n=6, newest_age=1, step=(0, 2), pages=2, on_home=5),
            Column("tzgg", "通知公告", "/node_28003.htm", n=5, newest_age=8, step=(2, 10), on_home=4),
            Column("zcwj", "政策文件", "/node_28004.htm", n=5, newest_age=60, step=(10, 40), on_home=3),
            Column("bmdt", "部门动态", "/node_28002.htm", empty=True, home_label="部门动态"),
        ],
        top=[L("English", "/english/index.htm", lang="en", style="img", icon=q_icon("en")),
             L("适老化", "/slh/index.htm", "accessibility_mode", style="imgtitle", icon=q_icon("slh")),
             L("个人中心", "https://tyrz.shandong.gov.cn.test/", "personal_login", style="imgtitle", icon=q_icon("user"))],
        nav=[L("首页", "/"), L("信息公开", "/zwgk/index.htm", "info_disclosure"), L("政民互动", "/hdjl/index.htm"),
             L("政务服务", "https://qingdao.sdzwfw.gov.cn.test/", "online_service_hall")],
        blocks=[("快速通道", [L("政策解读", "/node_28010.htm", "policy_interpretation", style="img", icon=q_icon("zcjd")),
                              L("12345政务服务便民热线", "/rx12345/index.htm", "hotline_12345", style="imgtitle",
                                icon=q_icon("12345")),
                              L("市长信箱", "/hdjl/szxx/index.htm", "mayor_mailbox", style="img", icon=q_icon("szxx")),
                              L("数据开放", "https://data.qingdao.gov.cn.test/", "open_data_link", style="img",
                                icon=q_icon("sjkf")),
                              L("爱山东APP", "https://www.sdzwfw.gov.cn.test/app/", "gov_app_link", style="imgtitle",
                                icon=q_icon("app")),
                              L("青岛发布官方微博", _wb("qingdaofabu"), "new_media_weibo", style="img", icon=q_icon("wb")),
                              L("青岛发布微信公众号", None, "new_media_wechat", style="qr", icon=q_icon("wxqr"))])],
        footer=[L("网站地图", "/wzdt/index.htm", "site_map", style="img", icon=q_icon("map")),
                L("联系我们", "/lxwm/index.htm")],
        undated=[("青岛上合示范区建设观察", "/zt/shsfq/index.htm")],
        subpages={
            "/hdjl/index.htm": ("政民互动", [("互动", [L("在线访谈", "/hdjl/zxft/index.htm", "online_interview"),
                                                     L("意见征集", "/hdjl/yjzj/index.htm", "opinion_solicitation"),
                                                     L("书记信箱", "/hdjl/sjxx/index.htm", "mayor_mailbox")])]),
            "/hdjl/szxx/index.htm": ("市长信箱", [("写信", [L("我要写信", "/hdjl/szxx/form.htm")])]),
            "/wzdt/index.htm": ("网站地图", [("栏目", [L("青岛要闻", "/node_28001.htm"), L("政民互动", "/hdjl/index.htm")])]),
            "/lxwm/index.htm": ("联系我们", [("联系方式", [L("地址：青岛市市南区香港中路11号", style="plain")])]),
            "/zwgk/index.htm": ("信息公开", [("目录", [L("政府信息公开指南", "/zwgk/zn.htm")])]),
            "/english/index.htm": ("English", [("Qingdao", [L("Welcome to Qingdao", style="plain")])]),
            "/slh/index.htm": ("适老化", [("说明", [L("适老化版本说明", style="plain")])]),
            "/node_28010.htm": ("政策解读", [("解读", [L("图解", "/node_28011.htm")])]),
            "/rx12345/index.htm": ("12345热线", [("热线", [L("拨打12345", style="plain")])]),
        },
        notes="Foundersoft node_/content_ URLs; feature links are icons (alt or title only); robots "
              "Disallow: /hdjl/ -> 市长信箱 link present on home (mayor_mailbox True) but 在线访谈/意见征集 only "
              "on the disallowed 政民互动 page -> absent; identifier only in an <img> title/alt; [YYYY-MM-DD] dates; "
              "empty 部门动态 column."))

    # 6. 南宁 — legacy table layout, GBK bytes declared as utf-8, many broken links and two 500s,
    #    12345 only inside a longer phone number, no identifier, no viewport.
    out.append(Spec(
        code="450100", city="南宁市", short="南宁", abbr="nanning", host="www.nanning.gov.cn.test", family="legacy",
        population=8941000, viewport=False, site_id=None, icp="桂ICP备05001802号",
        icp_html="ICP备案:桂ICP备05001802号", police="桂公网安备45010302000111号", sponsor="南宁市人民政府办公室",
        encoding="gbk", declared="utf-8", date_fmt="md",
        meta={"home": ("SiteName",), "column": ("SiteName",), "article": ("SiteName",)},
        columns=[
            Column("nnyw", "南宁要闻", "/news/list.asp?classid=1", n=6, newest_age=3, step=(1, 3), pages=2, on_home=6),
            Column("tzgg", "通知公告", "/news/list.asp?classid=2", n=5, newest_age=25, step=(5, 20), on_home=5),
            Column("bmdt", "部门动态", "/news/list.asp?classid=3", n=4, newest_age=30, step=(3, 8), on_home=3),
            Column("zcfg", "政策法规", "/news/list.asp?classid=4", n=4, newest_age=100, step=(20, 50), on_home=3),
        ],
        top=[L("English", "/english/", lang="en"), L("Sawcuengh", "/zhuang/", lang="za"),
             L("会员登录", "/member/login.asp", "personal_login")],
        nav=[L("首 页", "/"), L("政务公开", "/zwgk/", "info_disclosure"), L("办事指南", "/bszn/"), L("互动交流", "/hdjl/index.asp"),
             L("走进南宁", "/zjnn/")],
        blocks=[("便民服务", [L("市长信箱", "/hdjl/szxx.asp", "mayor_mailbox"), L("在线访谈", "/zxft/", "online_interview"),
                              L("网上办事", "/bsfw/wsbs.asp", "online_service_hall"), L("表格下载", "/bsfw/bgxz.asp"),
                              L("投诉电话：0771-2812345", style="plain"), L("办事查询", "/bsfw/bscx.asp"),
                              L("招考信息", "/rsxx/zk.asp"), L("统计数据", "/tjsj/"), L("公积金查询", "/gjj/cx.asp"),
                              L("专题：绿城南宁", "/zt/2019/lcnn/index.htm"), L("视频点播", "/video/list.asp")])],
        footer=[L("设为首页", "javascript:void(0)"), L("联系我们", "/about/lxwm.htm"), L("网站地图", "/about/sitemap.htm",
                "site_map"), L("站长信箱", "mailto:webmaster@nanning.gov.cn.test"), L("返回顶部", "#top")],
        undated=[("南宁市重大项目集中开工活动举行", "/news/show.asp?id=8001"), ("绿城南宁迎来最美季节", "/zt/tp/1.htm")],
        subpages={
            "/hdjl/index.asp": ("互动交流", [("互动", [L("意见征集", "/hdjl/yjzj.asp", "opinion_solicitation")])]),
            "/about/lxwm.htm": ("联系我们", [("联系方式", [L("地址：南宁市青秀区民族大道", style="plain")])]),
            "/about/sitemap.htm": ("网站地图", [("栏目", [L("南宁要闻", "/news/list.asp?classid=1")])]),
            "/zwgk/": ("政务公开", [("目录", [L("公开指南", "/zwgk/zn.htm")])]),
            "/zjnn/": ("走进南宁", [("概况", [L("南宁概况", "/zjnn/gk.htm")])]),
            "/english/": ("English", [("Nanning", [L("Welcome", style="plain")])]),
            "/zhuang/": ("Sawcuengh", [("Namzningz", [L("Sawcuengh banj", style="plain")])]),
            "/hdjl/szxx.asp": ("市长信箱", [("写信", [L("我要写信", "/hdjl/write.asp")])]),
            "/news/show.asp?id=8001": ("重大项目集中开工", [("正文", [L("全市集中开工重大项目。", style="plain")])]),
        },
        bad={"/bszn/": 404, "/member/login.asp": 500, "/zxft/": 404, "/bsfw/wsbs.asp": 500, "/bsfw/bgxz.asp": 404,
             "/bsfw/bscx.asp": 404, "/rsxx/zk.asp": 404, "/tjsj/": 404, "/gjj/cx.asp": 404,
             "/zt/2019/lcnn/index.htm": 404, "/video/list.asp": 404, "/zt/tp/1.htm": 404},
        notes="Legacy table layout (UPPER-CASE tags, FONT, unclosed TD/TR); GBK bytes with charset=utf-8 in "
              "header and meta; ASP query-string URLs; 10 broken links (two answer 500); English + 壮文 "
              "(Sawcuengh); 12345 only inside 0771-2812345; 办事指南 not an online-hall label."))

    # 7. 兰州 — stale TRS-style site: newest item months old; home meta PubDate = today and footer
    #    '网站最后更新' = today (both to be ignored); share-to-Weibo/WeChat buttons on the home page.
    out.append(Spec(
        code="620100", city="兰州市", short="兰州", abbr="lanzhou", host="www.lanzhou.gov.cn.test", family="trs",
        population=4420000, viewport=False, site_id="6201000001", id_html="网站标识码6201000001",
        icp="陇ICP备06000418号", icp_html="陇ICP备06000418号", police="甘公网安备 62010202000222号",
        sponsor="兰州市人民政府办公室", date_fmt="slash", home_share=True, home_pubdate=True, footer_date=True,
        meta={"home": ("SiteName", "SiteDomain", "SiteIDCode"), "column": ("SiteName", "SiteDomain", "SiteIDCode"),
              "article": ("SiteName", "SiteDomain", "SiteIDCode")},
        columns=[
            Column("lzyw", "兰州要闻", "/art/lzyw/index.html", n=5, newest_age=96, step=(3, 10), pages=2, on_home=5),
            Column("zwdt", "政务动态", "/art/zwdt/index.html", n=5, newest_age=120, step=(5, 12), on_home=4),
            Column("tzgg", "通知公告", "/art/tzgg/index.html", n=4, newest_age=200, step=(20, 40), on_home=4),
            Column("zcwj", "政策文件", "/art/zcwj/index.html", n=4, newest_age=150, step=(30, 60), on_home=3),
            Column("gsgg", "公示公告", "/art/gsgg/index.html", empty=True, home_label="公示公告"),
        ],
        nav=[L("首页", "/"), L("政务公开", "/zwgk/index.html", "info_disclosure"), L("政务服务", "https://lz.gszwfw.gov.cn.test/",
             "online_service_hall"), L("公众参与", "/gzcy/index.html"), L("走进兰州", "/zjlz/index.html")],
        blocks=[("服务", [L("12345便民服务热线", "/rx12345/index.html", "hotline_12345"),
                          L("政策解读", "/art/zcjd/index.html", "policy_interpretation")])],
        footer=[L("网站地图", "/wzdt/index.html", "site_map"), L("联系我们", "/lxwm/index.html")],
        undated=[("黄河风情线", "/zjlz/hhfqx/index.html")],
        subpages={
            "/gzcy/index.html": ("公众参与", [("参与", [L("市长信箱", "/gzcy/szxx/index.html", "mayor_mailbox"),
                                                      L("征求意见", "/gzcy/zqyj/index.html", "opinion_solicitation")])]),
            "/wzdt/index.html": ("网站地图", [("栏目", [L("兰州要闻", "/art/lzyw/index.html")])]),
            "/lxwm/index.html": ("联系我们", [("联系方式", [L("地址：兰州市城关区南昌路1668号", style="plain")])]),
            "/zwgk/index.html": ("政务公开", [("目录", [L("公开年报", "/zwgk/nb/index.html")])]),
            "/zjlz/index.html": ("走进兰州", [("概况", [L("兰州概况", "/zjlz/gk/index.html")])]),
            "/zjlz/hhfqx/index.html": ("黄河风情线", [("介绍", [L("百里黄河风情线", style="plain")])]),
            "/rx12345/index.html": ("12345", [("热线", [L("热线介绍", style="plain")])]),
            "/art/zcjd/index.html": ("政策解读", [("解读", [L("解读列表", style="plain")])]),
            "/yhdl/index.html": ("用户登录", [("登录", [L("用户名密码登录", style="plain")])]),
        },
        notes="Stale TRS-style: newest home item 96 days old; news columns 96/120 d and notice column 200 d "
              "stale, policy 150 d not (3 stale); empty 公示公告; home meta PubDate, top-bar date and footer "
              "'网站最后更新' = today (to be ignored); share-to-Weibo/WeChat buttons on the home page (not accounts); "
              "no viewport, accessibility, login or languages; only a 政务公开 label (counts as info_disclosure); 公众参与 "
              "sub-page holds 市长信箱 + 征求意见."))

    # 8. 哈尔滨 — permanently blocked (403 on everything).
    out.append(Spec(
        code="230100", city="哈尔滨市", short="哈尔滨", abbr="harbin", host="www.harbin.gov.cn.test", family="trs",
        population=9391000, blocked=403, site_id="2301000011", id_html="网站标识码：2301000011",
        icp="黑ICP备05002136号", icp_html="黑ICP备05002136号", police="", sponsor="哈尔滨市人民政府办公厅",
        meta=all_meta,
        columns=[Column("yw", "哈尔滨要闻", "/haerbin/c104547/index.html", n=6, newest_age=1, on_home=5),
                 Column("tzgg", "通知公告", "/haerbin/c104549/index.html", n=5, newest_age=4, step=(2, 8), on_home=4),
                 Column("zcwj", "政策文件", "/haerbin/c104550/index.html", n=4, newest_age=10, step=(5, 20), on_home=3)],
        nav=[L("首页", "/"), L("信息公开", "/haerbin/xxgk/index.html", "info_disclosure"),
             L("政务服务", "https://hrb.hljzwfw.gov.cn.test/", "online_service_hall")],
        footer=[L("网站地图", "/haerbin/wzdt/index.html", "site_map")],
        notes="Every request answers 403 (WAF block); truth status blocked."))

    # 9. 厦门 — Hanweb variant over HTTPS + HSTS with a plain-text 12345, 适老化 link, three languages,
    #    identifier split across spans, article PubDate one day after the list date, 新媒体 sub-page.
    out.append(Spec(
        code="350200", city="厦门市", short="厦门", abbr="xm", host="www.xm.gov.cn.test", family="hanweb",
        population=5329000, https=True, hsts=True, site_id="3502000003",
        id_html='<span>网站标识码：</span><span>3502000003</span>', icp="闽ICP备05028546号",
        icp_html='<a href="https://beian.miit.gov.cn.test/">闽ICP备05028546号</a>', police="闽公网安备 35020302000456号",
        sponsor="厦门市人民政府办公厅", date_fmt="iso", pubdate_skew=-1,
        meta={"home": ("SiteName", "SiteDomain", "SiteIDCode"), "column": ("SiteName", "SiteDomain", "SiteIDCode",
              "ColumnName", "ColumnType"), "article": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName",
              "ColumnType", "ArticleTitle", "PubDate")},
        columns=[
            Column("xmyw", "厦门要闻", "/col/col1001/index.html", n=6, newest_age=0, step=(0, 2), on_home=6),
            Column("bmdt", "部门动态", "/col/col1002/index.html", n=5, newest_age=1, step=(1, 2), on_home=4),
            Column("tzgg", "公示公告", "/col/col1003/index.html", n=5, newest_age=6, step=(3, 9), on_home=4),
            Column("zcwj", "规范性文件", "/col/col1004/index.html", n=5, newest_age=20, step=(10, 25), on_home=3),
        ],
        top=[L("English", "https://english.xm.gov.cn.test/", lang="en"), L("繁體", "https://big5.xm.gov.cn.test/",
             lang="zh-Hant"), L("日本語", "https://jp.xm.gov.cn.test/", lang="ja"),
             L("适老化", "/col/col1099/index.html", "accessibility_mode"), L("登录", "https://sso.xm.gov.cn.test/",
             "personal_login"), L("注册", "https://sso.xm.gov.cn.test/reg")],
        nav=[L("首页", "/"), L("信息公开", "/col/col1010/index.html", "info_disclosure"),
             L("政务服务", "https://www.xmzwfw.gov.cn.test/", "online_service_hall"), L("互动交流", "/col/col1020/index.html"),
             L("新媒体", "/col/col1030/index.html")],
        blocks=[("便民服务", [L("12345", style="plain", feat="hotline_12345"), L("政策解读", "/col/col1005/index.html",
                                "policy_interpretation"), L("公共数据开放", "https://data.xm.gov.cn.test/", "open_data_link")]),
                ("部门网站", [L(d, f"/col/col{2001 + i}/index.html")
                              for i, d in enumerate(DEPTS + ["市信访局", "市机关事务管理局", "市人民政府国有资产监督管理委员会"])])],
        bad={f"/col/col{2001 + i}/index.html": 404 for i in range(23, 26)},
        footer=[L("网站地图", "/col/col1040/index.html", "site_map"), L("联系我们", "/col/col1041/index.html"),
                L("个人信息保护", "/col/col1042/index.html", "privacy_statement")],
        subpages={
            "/col/col1020/index.html": ("互动交流", [("互动", [L("市长信箱", "/col/col1021/index.html", "mayor_mailbox"),
                                                             L("在线访谈", "/col/col1022/index.html", "online_interview")])]),
            "/col/col1030/index.html": ("新媒体", [("新媒体", [L("厦门发布抖音号", "https://www.douyin.com.test/user/xmfb",
                                                                "new_media_douyin"),
                                                              L("厦门发布微信公众号", None, "new_media_wechat", style="qr",
                                                                icon="/images/xmfb.png")])]),
            "/col/col1040/index.html": ("网站地图", [("栏目", [L("厦门要闻", "/col/col1001/index.html")])]),
            "/col/col1041/index.html": ("联系我们", [("联系方式", [L("地址：厦门市思明区湖滨北路61号", style="plain")])]),
            "/col/col1042/index.html": ("个人信息保护", [("说明", [L("个人信息保护政策", style="plain")])]),
            "/col/col1010/index.html": ("信息公开", [("目录", [L("指南", "/col/col1011/index.html")])]),
            "/col/col1005/index.html": ("政策解读", [("解读", [L("图解", "/col/col1006/index.html")])]),
            "/col/col1099/index.html": ("适老化", [("说明", [L("长辈版", style="plain")])]),
        },
        notes="Hanweb variant; HTTPS+HSTS; IPv6; identifier split across spans; 12345 as plain text; "
              "three languages; 互动交流 and 新媒体 sub-pages hold mailbox/interview and Douyin/WeChat; "
              "article PubDate one day after list dates; 56 distinct same-site home links: the last three "
              "department links (51st-53rd) are broken but beyond MAX_BROKEN_LINK_SAMPLE, so the ratio is 0."))
    return out


# ----------------------------------------------------------------------------------------------
# Building one portal and its truth
# ----------------------------------------------------------------------------------------------

def build_portal(web: SampleWeb, rng: random.Random, spec: Spec) -> tuple[Site, Builder]:
    b = Builder(web, rng, spec)
    b.fill_columns()
    if spec.family == "legacy":
        chrome = legacy_chrome(b)
    else:
        chrome = std_chrome(b)
    if spec.family == "spa":
        build_spa_home(b)
    else:
        home = render_home(b, chrome)
        b.put("/", home, b.recs["/"])
        if any(h == "/index.html" for h, _ in b.recs["/"].links):
            b.put("/index.html", home)
    b.build_columns(chrome)
    render_subpages(b, chrome)
    if spec.iframe:
        frame = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务服务</title></head><body>'
                 f'<div class="bs-box"><a href="https://zwfw.{spec.abbr}.gov.cn.test/" target="_top">个人办事</a> '
                 f'<a href="https://zwfw.{spec.abbr}.gov.cn.test/fr" target="_top">法人办事</a> '
                 f'<span>今日天气：晴 18~26℃</span></div></body></html>')
        b.put(spec.iframe, frame, ctype="text/html; charset=utf-8")
        b.res[spec.iframe].body = frame.encode("utf-8")
    # every other same-site page the home page links to exists (a landing page), unless listed as bad
    home_rec = b.recs["/"]
    for href, label in home_rec.links:
        p = same_site_path(spec.host, b.base + "/", href)
        if p is None or p in b.res or p in spec.bad:
            continue
        rec = Rec()
        head, top, foot = chrome(rec, "column", col=Column("page", label or spec.city, p), path=p)
        b.hub_links[p] = 0
        para = "、".join(rng.sample(TOPICS, 3))
        body = (f'<div class="container"><div class="position">当前位置：<a href="/">首页</a> &gt; {label}</div>'
                f'<h2>{label}</h2><div class="content"><p>本栏目集中展示{spec.city}{para}等方面的工作信息。</p></div></div>'
                if spec.family != "legacy" else f'<TABLE WIDTH=980 ALIGN=center><TR><TD><B>{label}</B><BR>{para}</TABLE>')
        b.put(p, b.page(head, top, body, foot), rec)
    for path, status in spec.bad.items():
        if status == 404:
            b.res.pop(path, None)
        else:
            msg = {500: "500 - 内部服务器错误。", 403: "403 Forbidden - 您无权访问此页面"}[status]
            b.put(path, f"<html><head><title>{status}</title></head><body><h1>{msg}</h1></body></html>", status=status)
    if spec.sitemap_xml:
        urls = "".join(f"<url><loc>{b.base}{c.path}</loc></url>" for c in spec.columns)
        b.res["/sitemap.xml"] = Resource(
            body=('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org.test/schemas/'
                  f'sitemap/0.9"><url><loc>{b.base}/</loc></url>{urls}</urlset>\n').encode(),
            content_type="application/xml")
    if spec.family == "hanweb":
        b.res["/module/jslib/jquery/jpage/dataproxy.js"] = Resource(body=HANWEB_JPAGE_JS.encode(),
                                                                     content_type="application/javascript")
    if spec.family == "trs":
        b.res["/js/createPageHTML.js"] = Resource(
            body=b"function createPageHTML(n,c,p,s){if(n<=1)return;var h='';for(var i=0;i<n;i++){var u=i==0?p+'.'+s:"
                 b"p+'_'+i+'.'+s;h+=(i==c?'<span>'+(i+1)+'</span>':'<a href=\"'+u+'\">'+(i+1)+'</a>')+' ';}"
                 b"document.write(h);}", content_type="application/javascript")
    site = Site(host=spec.host, city_code=spec.code, kind="portal", https=spec.https, hsts=spec.hsts,
                robots_txt=spec.robots, js_challenge=spec.js_challenge, template=spec.family, notes=spec.notes)
    if spec.blocked:
        site.fault = Fault(status=spec.blocked)
    if spec.robots is None and spec.family in ("hanweb", "kaipu"):
        site.robots_txt = "User-agent: *\nAllow: /\n"
    b.finish(site)
    return site, b


# Absolute sample URLs the server rewrites on the way out (same pattern as sgi.sampleweb.server).
_SERVED_URL = re.compile(rb"(https?)://([A-Za-z0-9.-]+\.test)(?![A-Za-z0-9.:-])")
PORT_DIGITS = 5     # the server binds ephemeral ports (32768-60999 on Linux): always five digits


def served_length(body: bytes) -> int:
    """Length of a textual body as the sample server sends it: each absolute ``http(s)://<host>.test``
    gains ``:<port>`` (the home-page bytes a crawler measures)."""
    return len(body) + (1 + PORT_DIGITS) * len(_SERVED_URL.findall(body))


def _disallowed(robots: Optional[str], path: str) -> bool:
    if not robots:
        return False
    for line in robots.splitlines():
        k, _, v = line.partition(":")
        if k.strip().lower() == "disallow" and v.strip() and path.startswith(v.strip()):
            return True
    return False


def _status(site: Site, path: str, hops: int = 0) -> int:
    r = site.resources.get(path)
    if r is None:
        return 404
    if r.redirect_to and hops < 5:
        return _status(site, urlsplit(urljoin(f"http://{site.host}{path}", r.redirect_to)).path, hops + 1)
    return r.status


def same_site_path(host: str, base: str, href: str) -> Optional[str]:
    """Path+query of an anchor if it is an eligible same-site http(s) link, else None."""
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:", "tel:")):
        return None
    u = urlsplit(urljoin(base, href))
    if u.scheme not in ("http", "https") or (u.hostname or "").lower() != host:
        return None
    return (u.path or "/") + (f"?{u.query}" if u.query else "")


def compute_truth(web: SampleWeb, site: Site, b: Builder) -> list[TruthRow]:
    s, today = b.s, web.reference_date
    period = today.isoformat()
    rows: list[TruthRow] = []

    def row(ind, value, status="ok"):
        if value is False and status == "ok":
            status = "absent"   # a boolean looked for and not there is 'absent' (value 0), as the rules report
        rows.append(TruthRow(s.code, ind, period, value, status))

    if s.blocked:
        for ind in PORTAL_INDICATORS:
            if ind == "portal_ipv6":
                row(ind, s.host in IPV6_HOSTS)
            else:
                row(ind, None, "blocked")
        return rows

    base = f"{b.scheme}://{s.host}/"
    home = b.recs["/"]
    row("portal_reachable", True)
    row("portal_https", s.https)
    row("portal_hsts", bool(s.https and s.hsts))
    row("portal_ipv6", s.host in IPV6_HOSTS)

    feats = set(home.feats)
    if "/sitemap.xml" in site.resources:
        feats.add("site_map")
    if s.viewport:
        feats.add("mobile_friendly")
    for href, text, _title in home.shown:       # followed by the text a link shows
        p = same_site_path(s.host, base, href)
        if p is None or not is_subpage_label(text):
            continue
        if _disallowed(site.robots_txt, p) or _status(site, p) != 200 or p not in b.recs:
            continue
        feats |= b.recs[p].feats - HOME_ONLY_FEATURES
    for f in FEATURES:
        row(f, True) if f in feats else row(f, False, "absent")
    row("language_versions", len(home.langs), "ok" if home.langs else "absent")
    row("site_identifier", s.site_id, "ok" if s.site_id else "absent")
    row("icp_record", s.icp, "ok" if s.icp else "absent")

    dated = [d for d in home.dates if d is not None]
    if dated:
        fresh = (today - max(dated)).days
        row("homepage_freshness_days", fresh)
        row("inspection_homepage_stale", fresh > HOMEPAGE_STALE_AFTER_DAYS)
    else:
        row("homepage_freshness_days", None, "absent")
        row("inspection_homepage_stale", True)

    # broken links
    seen, sample = set(), []
    for href, _ in home.links:
        p = same_site_path(s.host, base, href)
        if p is None or p in seen:
            continue
        seen.add(p)
        sample.append(p)
    sample = sample[:MAX_BROKEN_LINK_SAMPLE]
    checked = [p for p in sample if not _disallowed(site.robots_txt, p) and _status(site, p) not in (403, 412)]
    broken = [p for p in checked if _status(site, p) >= 400]
    row("broken_link_ratio", round(len(broken) / len(checked), 4) if checked else 0.0)
    b.broken_sample = (checked, broken)

    if not (site.js_challenge or site.resources["/"].needs_browser):
        row("homepage_bytes", served_length(site.resources["/"].body))

    # columns
    # A link whose text names a column is a column, whether or not the site built it as a list: a
    # 政策解读 hub page listing only sub-links has no dated item (stale), one listing nothing is empty.
    cols_by_path = {c.path: c for c in s.columns}
    sampled: list = []          # (path, kind, Column or None)
    footer_hrefs = {e.href for e in s.footer if e.href}     # footer links (隐私政策) are not content columns
    for href, text, title in home.shown:        # a column is named by its text, else its title
        kind = classify_column(text or title) if href not in footer_hrefs else None
        p = same_site_path(s.host, base, href)
        if kind is None or p is None or p in [x[0] for x in sampled]:
            continue
        if p not in cols_by_path and (_disallowed(site.robots_txt, p) or _status(site, p) != 200):
            continue        # not fetched: neither stale nor empty
        assert p in cols_by_path or p in b.hub_links, (s.host, text or title, href)
        sampled.append((p, kind, cols_by_path.get(p)))
    sampled = sampled[:MAX_COLUMNS_SAMPLED]
    b.sampled_columns = [c for _, _, c in sampled if c is not None]
    stale = empty = 0
    for p, kind, c in sampled:
        if c is None:
            if b.hub_links[p]:
                stale += 1      # items without dates count as not updated
            else:
                empty += 1
            continue
        if not c.items:
            empty += 1
            continue
        age = (today - max(it.date for it in c.items)).days
        if age > STALE_AFTER_DAYS[kind]:
            stale += 1
    row("stale_columns", stale)
    row("empty_columns", empty)

    pages = ["/"] + [p for p, _, _ in sampled] + [b.first_article[p] for p, _, _ in sampled if p in b.first_article]
    present = applicable = 0
    for p in pages:
        ptype, tags = b.page_meta[p]
        present += len(tags)
        applicable += len(META_TAGS_BY_PAGE_TYPE[ptype])
    row("page_meta_tags_share", round(present / applicable, 4))
    return rows


PORTAL_SPECS = specs


def add_portals(web: SampleWeb, rng: random.Random) -> None:
    """Add the city portals, their cities, source entries and truth rows to ``web``."""
    known = {c.code for c in web.cities}
    for spec in specs():
        site, b = build_portal(web, rng, spec)
        web.add_site(site)
        if spec.code not in known:
            web.cities.append(SampleCity(spec.code, spec.city, spec.population))
            known.add(spec.code)
        scheme = "https" if spec.https else "http"
        web.sources.append({"city": spec.code, "kind": "portal", "name": f"{spec.city}人民政府门户网站",
                            "start_url": f"{scheme}://{spec.host}/",
                            "allowed_domains": [spec.host.removeprefix("www.")]})
        web.truth.extend(compute_truth(web, site, b))
