"""Portal page rules: what a single fetched page of a city portal says about the portal.

Extraction only (web-poet spirit): every public function takes a :class:`Page` and returns facts;
deciding which pages to fetch is the spider's job (it uses :func:`extract_portal_links` and
:func:`column_links` as hints). The words and URL shapes come from collectors/lexicons/portal.yaml.

How a page is read
  * Candidates: every label a reader can see or a screen reader announces: link and button
    text, <option> text, <img alt>, title / aria-label / placeholder, and (for features whose
    lexicon says ``text_blocks: true``) short text blocks and text lines.
  * HTML that the page writes with inline scripts (``document.write('<a ...>无障碍</a>')``, jQuery
    ``.append(...)``) and Hanweb ``<script type="text/xml">`` data stores is parsed as well:
    visitors see it, a static fetch only sees it as strings.
  * Labels are compared with all whitespace removed (``<em>网站</em>地图``, ``网 站 地 图``), but
    numbers are compared on the spaced text, so a slide counter ``1 2 3 4 5`` is not "12345".
  * Share-to-Weibo/WeChat bars are excluded for the new-media features (lexicon share_exclusions).
  * Dates in footers and header clocks are not item dates; future dates are ignored.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from itertools import islice
from datetime import date, timedelta
from typing import Iterable, Iterator, NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, CData, NavigableString, Tag

from collectors.base import ABSENT, ERROR, OK, Finding, snippet
from collectors.dates import fold_text, iter_date_matches, not_after, parse_split_date
from collectors.lexicons import FeatureLexicon, PortalLexicon, default_portal_lexicon
from collectors.page import Page

# Bump the number for a code when its logic changes; the lexicon version is appended automatically.
# "2": url_patterns read the link through pattern_url (no port, reserved test suffix dropped).
RULE_VERSIONS = {
    "site_search": "2", "site_map": "2", "privacy_statement": "2", "language_versions": "2",
    "accessibility_mode": "2", "personal_login": "2", "mobile_friendly": "2", "policy_interpretation": "2",
    "online_interview": "2", "mayor_mailbox": "2", "hotline_12345": "2", "opinion_solicitation": "2",
    "info_disclosure": "2", "online_service_hall": "2", "gov_app_link": "2", "mini_program": "2",
    "new_media_weibo": "2", "new_media_wechat": "2", "new_media_douyin": "2", "open_data_link": "2",
    "site_identifier": "1", "icp_record": "1", "portal_https": "1", "portal_hsts": "1", "homepage_bytes": "1",
    "homepage_freshness_days": "1", "inspection_homepage_stale": "1", "page_meta_tags_share": "1",
}
# Codes read from the home page only; merge_findings keeps the home page's reading for these.
HOME_ONLY_CODES = ("portal_https", "portal_hsts", "homepage_bytes", "homepage_freshness_days",
                   "inspection_homepage_stale", "page_meta_tags_share")
# Codes a followed sub-page (政民互动, 网站地图, an iframe footer...) can prove for the whole portal.
SUBPAGE_FEATURES = tuple(code for code in RULE_VERSIONS if code not in HOME_ONLY_CODES)
STALE_AFTER_DAYS = 14          # 国办秘函〔2019〕19号: home page not updated in 2 weeks
URL_MATCH_MAX_LABEL = 10     # longer link labels are content titles; their URLs do not prove a feature
FUTURE_TOLERANCE = timedelta(days=1)  # time zones and pages dated "tomorrow" at midnight

_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "meta", "link"}
_WS = re.compile(r"\s+")
_JS_STRING = re.compile(r"'((?:\\.|[^'\\\n])*)'|\"((?:\\.|[^\"\\\n])*)\"")
_WRITES_HTML = re.compile(r"document\.write|innerHTML|\.html\(|\.append\(|\.prepend\(|insertAdjacentHTML", re.I)
_VIEWPORT_DEVICE_WIDTH = re.compile(r"width\s*=\s*device-width", re.I)
_HSTS_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.I)
_SITE_ID_CODE = r"[:：]?([A-Za-z0-9]{10})(?![A-Za-z0-9])"  # after a label from the lexicon
_ICP = re.compile(r"([京津沪渝冀豫云滇辽黑湘皖鲁新苏浙赣鄂桂甘陇晋蒙陕吉闽贵黔粤青藏川蜀宁琼港澳])ICP(备|证)(?:案号)?[:：]?(\d{5,10})号?(?:[-—–](\d{1,3}))?",
                  re.I)
_META_REFRESH = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.I)
_JS_REDIRECT = re.compile(r"(?:window\.|top\.|self\.)?location(?:\.href)?\s*=\s*['\"]([^'\"]+)['\"]|location\.replace\(\s*['\"]([^'\"]+)", re.I)
# Article (detail) URLs of the common CMSs: TRS t20260612_1.html, Hanweb art/2026/6/12/art_.., Guangdong
# post_123, content_123, 32-hex ids, ASP/JSP show?id=.
_ARTICLE_URL = re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/|/t\d{8}_\d+|content_\d+|/post_\d+|/\d{6}/[0-9a-f]{32}|/\d{4}-\d{2}/\d{2}/"
                          r"|/c\d{5,}/content|[?&](id|articleid|newsid|infoid|aid|docid)=\d+|/(show|detail|article|view)\w*\.(asp|aspx|php|jsp|do)", re.I)
_HOME_PATH = re.compile(r"^/?(index|default|home|main)?(\.s?html?|\.jsp|\.aspx?|\.php)?/?$", re.I)


# --- candidates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One label a visitor can see, with the element it belongs to."""

    element: Tag
    label: str             # whitespace collapsed
    href: str | None       # absolute URL of the link it belongs to, if any
    kind: str              # link | control | option | image | attr | text
    scripted: bool = False  # written by an inline script

    @cached_property
    def compact(self) -> str:
        return _compact(self.label)


def _compact(text: str) -> str:
    return _WS.sub("", fold_text(text)).lower()


def _spaced(text: str) -> str:
    return _WS.sub(" ", fold_text(text)).strip()


def _element_text(el: Tag, sep: str = " ") -> str:
    return el.get_text(sep, strip=True)


# Per-page memo (base URL, parsed script fragments): the rules ask for them many times per page and
# Page is immutable, so they are computed once. Keyed by id() and dropped when the page is collected.
_PAGE_MEMO: dict[int, dict] = {}


def _memo(page: Page) -> dict:
    key = id(page)
    entry = _PAGE_MEMO.get(key)
    if entry is None or entry["ref"]() is not page:
        entry = {"ref": weakref.ref(page)}
        _PAGE_MEMO[key] = entry
        weakref.finalize(page, _PAGE_MEMO.pop, key, None)
    return entry


def _base_url(page: Page) -> str:
    memo = _memo(page)
    if "base" not in memo:
        base = page.soup.find("base", href=True)
        memo["base"] = urljoin(page.url, base["href"].strip()) if base else page.url
    return memo["base"]


def _usable_href(page: Page, href: str | None) -> str | None:
    """Absolute URL of a followable href (None for #, javascript:, mailto: and the like)."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(("javascript:", "mailto:", "tel:", "data:", "vbscript:")):
        return None
    try:
        return urljoin(_base_url(page), href)
    except ValueError:
        return None


# RFC 6761 reserved top-level names: a host under one of them (a test mirror such as
# weibo.com.test) stands for the real host without the suffix, as in sgi.sources.registrable_domain.
_RESERVED_TLD = re.compile(r"\.(test|localhost|invalid|example)\.?$", re.I)


def pattern_url(url: str) -> str:
    """``url`` as the lexicon's url_patterns read it: no port, no userinfo, and a reserved test suffix
    dropped from the host (``https://weibo.com.test:8443/szfb`` reads ``https://weibo.com/szfb``), so a
    host-anchored pattern such as ``^https?://weibo[.]com/`` means the same on a mirror as on the web."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return url
    if not host:
        return url
    return urlunsplit((parts.scheme, _RESERVED_TLD.sub("", host), parts.path, parts.query, parts.fragment))


def _link_of(el: Tag) -> Tag | None:
    for node in [el, *el.parents][:5]:
        if isinstance(node, Tag) and node.name in ("a", "area") and node.get("href"):
            return node
    return None


def embedded_html_fragments(page: Page) -> list[BeautifulSoup]:
    """Cached :func:`parse_embedded_html` (treat the result as read-only)."""
    memo = _memo(page)
    if "fragments" not in memo:
        memo["fragments"] = parse_embedded_html(page)
    return memo["fragments"]


def parse_embedded_html(page: Page) -> list[BeautifulSoup]:
    """HTML the page writes with inline scripts, and Hanweb text/xml data stores, parsed.

    String literals of one script are joined in order, so ``s += '<a href=x>'; s += 'EN</a>'`` rebuilds.
    """
    fragments = []
    for script in page.soup.find_all("script"):
        if script.get("src"):
            continue
        code = script.string or script.get_text() or ""
        script_type = (script.get("type") or "").lower()
        if "xml" in script_type:  # Hanweb <datastore><record><![CDATA[<li>..</li>]]></record>
            html = re.sub(r"<!\[CDATA\[|\]\]>", "", code)
            html = re.sub(r"</?(datastore|nextgroup|recordset|record)[^>]*>", " ", html, flags=re.I)
        elif not script_type or "javascript" in script_type:
            if not _WRITES_HTML.search(code):
                continue
            parts = [a or b for a, b in _JS_STRING.findall(code)]
            html = "".join(parts).replace("\\'", "'").replace('\\"', '"').replace("\\/", "/")
        else:
            continue
        if "<" in html and ">" in html:
            fragments.append(BeautifulSoup(html, "lxml"))
    return fragments


def _roots(page: Page) -> list[tuple[Tag, bool]]:
    roots = [(page.soup.body or page.soup, False)]
    roots.extend((frag, True) for frag in embedded_html_fragments(page))
    return roots


def collect_candidates(page: Page) -> list[Candidate]:
    """Every visible or announced label on the page (see module docstring); cached per page."""
    memo = _memo(page)
    if "candidates" not in memo:
        memo["candidates"] = _collect_candidates(page)
    return memo["candidates"]


# A text block is a candidate only when its compacted text has at most 40 characters. NFKC folds at
# most 4 code points into one (U+1F82 = 4 canonical parts), so a text with more than 4 x 40
# non-space characters cannot be one and its text is never assembled.
_TEXT_BLOCK_MAX = 40
_TEXT_BLOCK_RAW_MAX = 4 * _TEXT_BLOCK_MAX


class _Texts:
    """Texts of one element's subtree, gathered bottom-up in the candidate walk: the stripped strings
    get_text() reads (``main``) and those outside links and skipped tags (``out``), each kept only while
    short enough to make a text block (None past that), plus their non-space character counts."""

    __slots__ = ("main", "main_n", "out", "out_n", "has_href_link")

    def __init__(self):
        self.main: list[str] | None = []
        self.main_n = 0
        self.out: list[str] | None = []
        self.out_n = 0
        self.has_href_link = False

    def add_string(self, s: NavigableString, outside: bool) -> None:
        kind = type(s)
        if kind is not NavigableString and kind is not CData:
            return
        stripped = s.strip()
        if not stripped:
            return
        n = len("".join(stripped.split()))
        self.main_n += n
        self.main = self.main + [stripped] if self.main is not None and self.main_n <= _TEXT_BLOCK_RAW_MAX else None
        if outside and kind is NavigableString:
            self.out_n += n
            self.out = self.out + [stripped] if self.out is not None and self.out_n <= _TEXT_BLOCK_RAW_MAX else None

    def add_child(self, child: "_Texts", outside: bool, is_href_link: bool) -> None:
        self.has_href_link = self.has_href_link or child.has_href_link or is_href_link
        self.main_n += child.main_n
        self.main = (self.main + child.main if self.main is not None and child.main is not None
                     and self.main_n <= _TEXT_BLOCK_RAW_MAX else None)
        if outside:
            self.out_n += child.out_n
            self.out = (self.out + child.out if self.out is not None and child.out is not None
                        and self.out_n <= _TEXT_BLOCK_RAW_MAX else None)


def _collect_candidates(page: Page) -> list[Candidate]:
    """One walk per root in document order: skipped tags, the nearest link and "inside a link" are
    carried down, texts are gathered up (_Texts), so no element looks at all its ancestors or
    descendants (deep pages stay linear)."""
    out: list[Candidate] = []
    for root, scripted in _roots(page):
        elements, strings = _walk_candidates(page, root, scripted)
        out.extend(c for c in elements if c is not None)
        out.extend(strings)
    return out


def _walk_candidates(page: Page, root: Tag, scripted: bool) -> tuple[list, list[Candidate]]:
    elements: list = []                 # element candidates in document order (None: an unused slot)
    strings: list[Candidate] = []       # text-node candidates in document order
    above = [*reversed(list(root.parents)), root]     # the root's ancestors and the root itself
    root_skip = any(p.name in _SKIP_TAGS for p in above)
    root_anchor = any(p.name in ("a", "area") for p in above)
    root_link = _link_of(root) if isinstance(root, Tag) else None
    # frame: [element, its children, skip, nearest link, inside an a/area, _Texts, slots (None: skipped)]
    stack = [[root, iter(root.contents), root_skip, root_link, root_anchor, _Texts(), None]]
    path = above
    while stack:
        frame = stack[-1]
        el, children, skip, link, in_anchor, texts, slot = frame
        node = next(children, None)
        if node is None:
            stack.pop()
            path.pop()
            if len(stack) > 0:
                _close_element(page, frame, stack[-1], elements, scripted)
            continue
        if isinstance(node, NavigableString):
            outside = not skip and el.name not in ("a", "area")
            texts.add_string(node, outside)
            if type(node) is NavigableString and not skip and node.strip():
                href = _usable_href(page, link.get("href")) if link is not None else None
                strings.append(Candidate(el, _spaced(str(node)), href, "text", scripted))
            continue
        if not isinstance(node, Tag):
            continue
        child_skip = skip or node.name in _SKIP_TAGS
        child_link = None
        if node.name in ("a", "area") and node.get("href"):
            child_link = node
        else:
            for up in path[-4:][::-1]:
                if up.name in ("a", "area") and up.get("href"):
                    child_link = up
                    break
        child_slot = None
        if not child_skip:
            child_slot = _open_element(page, node, child_link, elements, scripted)
        stack.append([node, iter(node.contents), child_skip, child_link,
                      in_anchor or el.name in ("a", "area"), _Texts(), child_slot])
        path.append(node)
    return elements, strings


def _open_element(page: Page, el: Tag, link: Tag | None, elements: list, scripted: bool) -> tuple[int, int]:
    """Adds an element's candidates in document order; returns the two slots its candidates that need
    its whole text (link / option / control, then the short text block) fill when it closes."""
    slot = len(elements)
    elements.append(None)
    href = _usable_href(page, link.get("href")) if link is not None else None
    attr_labels = [el.get(a) for a in ("title", "aria-label", "alt", "placeholder") if el.get(a)]
    if el.name == "input" and (el.get("type") or "text").lower() in ("button", "submit", "image", "reset"):
        attr_labels.append(el.get("value") or "")
    for label in attr_labels:
        if label and label.strip():
            kind = "image" if el.name == "img" else "attr"
            elements.append(Candidate(el, _spaced(label), href, kind, scripted))
    elements.append(None)
    return slot, len(elements) - 1


def _close_element(page: Page, frame: list, parent: list, elements: list, scripted: bool) -> None:
    el, _, skip, link, in_anchor, texts, slots = frame
    parent_texts: _Texts = parent[5]
    outside = not skip and el.name not in ("a", "area")
    parent_texts.add_child(texts, outside, el.name in ("a", "area") and el.get("href") is not None)
    if slots is None:
        return
    slot, text_slot = slots

    def element_text() -> str:
        if texts.main is not None and el.interesting_string_types == Tag.MAIN_CONTENT_STRING_TYPES:
            return " ".join(texts.main)
        return _element_text(el)

    href = _usable_href(page, link.get("href")) if link is not None else None
    if el.name in ("a", "area"):
        elements[slot] = Candidate(el, _spaced(element_text()), _usable_href(page, el.get("href")), "link",
                                   scripted)  # even empty: its URL counts
    elif el.name == "option":
        value = el.get("value") or ""
        option_href = _usable_href(page, value) if re.match(r"(https?:)?//|/", value) else None
        elements[slot] = Candidate(el, _spaced(element_text()), option_href, "option", scripted)
    elif el.name == "button":
        text = element_text()
        if text:
            elements[slot] = Candidate(el, _spaced(text), href, "control", scripted)
    elif el.name != "input" and el.get("onclick"):
        text = element_text()
        if text:
            elements[slot] = Candidate(el, _spaced(text), href, "control", scripted)
    # short text blocks: headings and boxes whose own text (outside links, which are
    # candidates themselves) is a label, e.g. <div><span>政策</span><span>解读</span><a>更多</a></div>
    if el.name not in ("a", "area", "option", "button"):
        if el.interesting_string_types != Tag.MAIN_CONTENT_STRING_TYPES:   # <rt>, <rp>: their own strings
            text = _text_outside_links(el) if link is None and texts.has_href_link else _element_text(el)
        else:
            if link is None and texts.has_href_link:
                pieces, n = ([], 0) if in_anchor else (texts.out, texts.out_n)
            else:
                pieces, n = texts.main, texts.main_n
            text = " ".join(pieces) if n and n <= _TEXT_BLOCK_RAW_MAX else ""
        if text and len(_compact(text)) <= _TEXT_BLOCK_MAX:
            elements[text_slot] = Candidate(el, _spaced(text), href, "text", scripted)


# --- matching ----------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _en_pattern(keyword: str) -> re.Pattern:
    body = r"\s*".join(re.escape(part) for part in keyword.split())
    if keyword.isdigit():  # a number only as a whole number, not inside 0523-82812345
        return re.compile(rf"(?<![0-9A-Za-z\-－]){body}(?![0-9A-Za-z])", re.I)
    return re.compile(rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])", re.I)


def label_keyword(feature: FeatureLexicon, label: str, compact: str | None = None) -> str | None:
    """The lexicon keyword ``label`` carries for ``feature``, or None (respects max_label_chars).
    ``compact``: ``_compact(label)`` when the caller has it (folding a long label is costly)."""
    compact = _compact(label) if compact is None else compact
    if not compact or len(compact) > feature.max_label_chars:
        return None
    for kw in feature.keywords_zh:
        if kw.lower() in compact:
            if kw.isdigit() and not _en_pattern(kw).search(_spaced(label)):
                continue
            return kw
    spaced = _spaced(label)
    for kw in feature.keywords_en:
        if _en_pattern(kw).search(spaced):
            return kw
    return None


def _context_strings(cand: Candidate, depth: int = 4) -> Iterator[str]:
    yield cand.label
    if cand.href:
        yield cand.href
        yield pattern_url(cand.href)
    el = cand.element
    for node in [el, *list(el.parents)[:depth]]:
        if not isinstance(node, Tag):
            continue
        for attr in ("class", "id", "onclick", "data-cmd"):
            value = node.get(attr)
            if value:
                yield " ".join(value) if isinstance(value, list) else str(value)
        if node is el and el.get("title"):
            yield el.get("title")


def is_excluded(cand: Candidate, feature: FeatureLexicon, lexicon: PortalLexicon) -> bool:
    patterns = list(feature.exclude)
    if feature.share_buttons:
        patterns.extend(lexicon.share_exclusions)
    if not patterns:
        return False
    return any(p.search(s) for s in _context_strings(cand) for p in patterns)


def match_feature(cands: Iterable[Candidate], feature: FeatureLexicon, lexicon: PortalLexicon) -> tuple[Candidate, str] | None:
    """The candidate proving ``feature``, with the reason, or None.

    Labels are tried before URLs (a label says what a link is; a URL only hints). Links, controls
    and images are tried in document order before text blocks, and text blocks shortest first, so the
    evidence is the tightest element (the <span>官方微信</span>, not the box around it).
    """
    cands = list(cands)
    elements = [c for c in cands if c.kind != "text"]
    texts = sorted((c for c in cands if c.kind == "text" and (feature.text_blocks or c.href is not None)),
                   key=lambda c: len(c.compact))
    for cand in elements + texts:
        keyword = label_keyword(feature, cand.label, cand.compact)
        if keyword and not is_excluded(cand, feature, lexicon):
            return cand, f"label contains {keyword!r}"
    for cand in elements:
        # URLs only for icons and short labels: a headline's URL says where it sits, not what it is
        if not cand.href or cand.kind not in ("link", "option", "image") or len(cand.compact) > URL_MATCH_MAX_LABEL:
            continue
        url = pattern_url(cand.href)
        for pattern in feature.url_patterns:
            if pattern.search(url) and not is_excluded(cand, feature, lexicon):
                return cand, f"href matches {pattern.pattern!r}"
    return None


def _evidence(cand: Candidate, reason: str) -> str:
    where = " (written by an inline script)" if cand.scripted else ""
    target = cand.element
    if cand.kind == "text" and cand.href is None and target.parent is not None and len(_element_text(target)) < 8:
        target = target.parent  # show the heading box, not a lone <span>
    return f"{snippet(target, 240)}{where}; {reason}"


def _absent_reason(feature: FeatureLexicon) -> str:
    words = list(feature.keywords_zh[:4]) + list(feature.keywords_en[:2])
    return f"no link or {'text ' if feature.text_blocks else 'label '}matching {'/'.join(words)}"


# --- findings ----------------------------------------------------------------------------------

def _rule_version(code: str, lexicon: PortalLexicon) -> str:
    return f"{RULE_VERSIONS[code]}+lex{lexicon.version}"


def _finding(code: str, value, status: str, evidence: str | None, lexicon: PortalLexicon, url: str) -> Finding:
    if value is False and status == OK:
        status = ABSENT   # every boolean the rules look for and do not find is 'absent' (value 0)
    return Finding(code=code, value=value, status=status, evidence=evidence, rule=f"portal.{code}",
                   rule_version=_rule_version(code, lexicon), url=url)


def _bool_finding(code, proof, absent_reason, lexicon, page) -> Finding:
    if proof:
        return _finding(code, True, OK, proof, lexicon, page.url)
    return _finding(code, False, ABSENT, absent_reason, lexicon, page.url)


def find_search_form(page: Page, lexicon: PortalLexicon) -> str | None:
    """Evidence of a site-search form or input, or None."""
    feature = lexicon.features["site_search"]
    for root, scripted in _roots(page):
        for inp in root.find_all("input", attrs={"type": re.compile("^search$", re.I)}):
            return f"{snippet(inp, 200)}; input type=search"
        for form in root.find_all("form"):
            action = _usable_href(page, form.get("action")) or ""
            texts = [i for i in form.find_all("input") if (i.get("type") or "text").lower() in ("text", "search", "")]
            if not texts:
                continue
            for inp in texts:
                names = " ".join(str(inp.get(a) or "") for a in ("name", "id", "placeholder", "title", "aria-label"))
                for pattern in feature.input_names:
                    for value in names.split():
                        if pattern.search(value):
                            return f"{snippet(form, 240)}; text input {value!r} matches {pattern.pattern!r}"
            for pattern in feature.url_patterns:
                if action and pattern.search(action):
                    return f"{snippet(form, 240)}; form action matches {pattern.pattern!r}"
            for el in form.find_all(["input", "button", "a", "img"]):
                label = " ".join(str(el.get(a) or "") for a in ("value", "alt", "title")) + " " + _element_text(el)
                kw = label_keyword(feature, label)
                if kw:
                    return f"{snippet(form, 240)}; form button labelled {kw!r}"
    return None


def find_scripts(page: Page, feature: FeatureLexicon) -> str | None:
    """Evidence that a known widget script (e.g. an accessibility toolbar) is loaded, or None."""
    if not feature.scripts:
        return None
    for script in page.soup.find_all("script"):
        source = script.get("src") or script.get_text() or ""
        for pattern in feature.scripts:
            if pattern.search(source):
                return f"{snippet(script, 200)}; script matches {pattern.pattern!r}"
    return None


def viewport_evidence(page: Page) -> str | None:
    for meta in page.soup.find_all("meta", attrs={"name": re.compile("^viewport$", re.I)}):
        if _VIEWPORT_DEVICE_WIDTH.search(meta.get("content") or ""):
            return f"{snippet(meta)}; viewport width=device-width"
    return None


def language_versions(cands: list[Candidate], lexicon: PortalLexicon) -> dict[str, str]:
    """Other-language versions linked from the page: {language code: evidence}."""
    found: dict[str, str] = {}
    for cand in cands:
        if cand.kind not in ("link", "option", "image", "attr") and cand.href is None:
            continue
        if cand.kind == "text":
            continue
        compact = cand.compact
        spaced = _spaced(cand.label).lower().strip("[]【】()（）|· ")
        for lang in lexicon.languages:
            if lang.code in found:
                continue
            hit = None
            for label in lang.labels:
                if label.isascii():
                    if spaced in (label.lower(), f"{label.lower()} version") or (
                            len(spaced) <= 20 and _en_pattern(label).search(spaced) and len(label) > 2):
                        hit = f"label {label!r}"
                        break
                elif label.lower() in compact and len(compact) <= 8:
                    hit = f"label {label!r}"
                    break
            if not hit and cand.href and len(compact) <= 12:
                for pattern in lang.url_patterns:
                    if pattern.search(pattern_url(cand.href)):
                        hit = f"href matches {pattern.pattern!r}"
                        break
            if hit:
                found[lang.code] = f"{lang.code}: {snippet(cand.element, 160)} ({hit})"
    return found


def _reading_text(root: Tag) -> str:
    """Visible text in order with <img alt> inserted, scripts and styles skipped.

    One walk in document order that carries "inside a skipped element" down the tree, instead of
    looking up every text node's ancestors (this runs on every fetched page). <img alt> counts even
    inside a skipped element (e.g. <noscript>), as it always has.
    """
    parts: list[str] = []
    skipped = any(isinstance(p, Tag) and p.name in _SKIP_TAGS for p in [root, *root.parents])
    stack = [(iter(root.contents), skipped)]
    while stack:
        children, skip = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            continue
        if isinstance(node, Tag):
            if node.name == "img" and node.get("alt"):
                parts.append(node["alt"])
            if node.contents:
                stack.append((iter(node.contents), skip or node.name in _SKIP_TAGS))
        elif not skip and type(node) is NavigableString:
            parts.append(str(node))
    return " ".join(parts)


def page_reading_text(page: Page) -> str:
    memo = _memo(page)
    if "reading_text" not in memo:
        memo["reading_text"] = " ".join(_reading_text(root) for root, _ in _roots(page))
    return memo["reading_text"]


def find_site_identifier(page: Page, lexicon: PortalLexicon | None = None) -> tuple[str, str] | None:
    """(10-character 政府网站标识码, evidence) from the printed footer, else from meta SiteIDCode."""
    lexicon = lexicon or default_portal_lexicon()
    labels = "|".join(re.escape(_WS.sub("", w)) for w in sorted(lexicon.site_identifier_labels, key=len, reverse=True))
    compact = _WS.sub("", fold_text(page_reading_text(page)))
    for m in re.finditer(f"(?:{labels}){_SITE_ID_CODE}", compact):
        code = m.group(1)
        if sum(c.isdigit() for c in code) >= 8:
            return code, f"text {compact[max(0, m.start() - 10):m.end() + 4]!r}"
    meta = page.soup.find("meta", attrs={"name": re.compile("^siteidcode$", re.I)})
    if meta:
        code = _WS.sub("", fold_text(meta.get("content") or ""))
        if re.fullmatch(r"[A-Za-z0-9]{10}", code) and sum(c.isdigit() for c in code) >= 8:
            return code, f"{snippet(meta)} (meta tag, not printed on the page)"
    return None


def find_icp_record(page: Page) -> tuple[str, str] | None:
    """(normalised ICP record number, evidence), e.g. 粤ICP备05112303号 or 浙ICP备05015627号-1."""
    compact = _WS.sub("", fold_text(page_reading_text(page)))
    m = _ICP.search(compact)
    if not m:
        return None
    value = f"{m.group(1)}ICP{m.group(2)}{m.group(3)}号" + (f"-{m.group(4)}" if m.group(4) else "")
    return value, f"text {compact[max(0, m.start() - 6):m.end() + 2]!r}"


# --- dates, freshness, columns -----------------------------------------------------------------

def _marks(node: Tag) -> str:
    out = [node.name or ""]
    for attr in ("class", "id"):
        value = node.get(attr)
        if value:
            out.append(" ".join(value) if isinstance(value, list) else str(value))
    return " ".join(out)


def _inside(el: Tag, patterns, tags: tuple[str, ...] = (), seen: dict | None = None) -> bool:
    """True when ``el`` or an ancestor (below <body>) is one of ``tags`` or has a class/id matching a
    pattern. ``seen`` ({id(node): answer}, for one set of patterns and tags, kept by a caller asking for
    many elements of one page) lets the climb stop at an ancestor already answered."""
    climbed = []
    answer = False
    for node in [el, *el.parents] if seen is None else _parents_and_self(el):
        if seen is not None and id(node) in seen:
            answer = seen[id(node)]
            break
        climbed.append(node)
        if not isinstance(node, Tag) or node.name in ("body", "html", "[document]"):
            continue
        if node.name in tags:
            answer = True
            break
        marks = _marks(node)
        if any(p.search(marks) for p in patterns):
            answer = True
            break
    if seen is not None:
        # every node climbed has the answer: a match at the top of the climb is an ancestor of all of them
        for node in climbed:
            seen[id(node)] = answer
    return answer


def _parents_and_self(el: Tag) -> Iterator[Tag]:
    yield el
    yield from el.parents


def in_footer(el: Tag, lexicon: PortalLexicon, seen: dict | None = None) -> bool:
    return _inside(el, lexicon.footer_markers, ("footer",), seen)


def _subtree_stats(root: Tag) -> dict[int, tuple[int, int]]:
    """{id(element): (links with an href inside it, capped at 2; len(_element_text(element)))} for
    every element under ``root``, from one bottom-up walk (a find_all() and get_text() per ancestor of
    every link is quadratic on deep pages)."""
    main = Tag.MAIN_CONTENT_STRING_TYPES
    stats: dict[int, tuple[int, int]] = {}
    stack = [(root, iter(root.contents), [0, 0, 0])]      # element, children, [links, chars, pieces]
    while stack:
        el, children, acc = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            links, chars, pieces = acc
            length = chars + max(pieces - 1, 0)
            if el.interesting_string_types != main:
                length = len(_element_text(el))
            stats[id(el)] = (links, length)
            if stack:
                up = stack[-1][2]
                up[0] = min(2, up[0] + links + (1 if el.name == "a" and el.get("href") is not None else 0))
                up[1] += chars
                up[2] += pieces
            continue
        if isinstance(node, Tag):
            stack.append((node, iter(node.contents), [0, 0, 0]))
        elif type(node) in main:
            stripped = node.strip()
            if stripped:
                acc[1] += len(stripped)
                acc[2] += 1
    return stats


def _item_container(link: Tag, max_chars: int = 200, stats: dict | None = None) -> Tag:
    """The list item a link belongs to: climb while the ancestor holds only this link.
    ``stats``: :func:`_subtree_stats` of a root holding the link (else each ancestor is read anew)."""
    container = link
    for node in islice(link.parents, 4):
        if not isinstance(node, Tag) or node.name in ("body", "html", "[document]"):
            break
        known = stats.get(id(node)) if stats is not None else None
        links, length = known if known is not None else (len(node.find_all("a", href=True)),
                                                         len(_element_text(node)))
        if links > 1 or length > max_chars:
            break
        container = node
    return container


def _text_outside_links(el: Tag) -> str:
    """Text of ``el`` that is not inside any link."""
    parts = []
    for s in el.find_all(string=True):
        if type(s) is not NavigableString or any(p.name in ("a", "area") or p.name in _SKIP_TAGS
                                                   for p in s.parents if isinstance(p, Tag)):
            continue
        parts.append(str(s))
    return " ".join(parts).strip()


def _text_outside(container: Tag, link: Tag) -> str:
    """Text of ``container`` outside ``link``."""
    if container is link:
        return ""
    parts = []
    for s in container.find_all(string=True):
        if type(s) is not NavigableString or link in s.parents:
            continue
        if s.parent is not None and s.parent.name in _SKIP_TAGS:
            continue
        parts.append(str(s))
    return " ".join(parts)


def _dates_in(text: str, crawl_date: date, lexicon: PortalLexicon) -> list[date]:
    """Item dates in a text (markers such as 今天是/截止 and future dates excluded)."""
    out = []
    folded = fold_text(text)
    badge = parse_split_date(folded)
    if badge and not_after(badge, crawl_date, FUTURE_TOLERANCE):
        return [badge]
    for m in iter_date_matches(folded, context_date=crawl_date, loose_partial=len(folded.strip()) <= 14):
        window = folded[max(0, m.start - 10):m.end + 6]
        if any(p.search(window) for p in lexicon.not_item_date_markers):
            continue
        if not not_after(m.date, crawl_date, FUTURE_TOLERANCE):
            continue
        out.append(m.date)
    return out


class DatedItem(NamedTuple):
    date: date
    container: Tag
    how: str  # 'visible' (text beside the link), 'title' (link text), 'url'


def dated_items(page: Page, crawl_date: date, lexicon: PortalLexicon | None = None) -> list[DatedItem]:
    """Links on the page with the date shown next to them (footers skipped), one per item.

    Preference: a date printed beside the link (the list's date column), then a date in the link
    text, then a date in the URL (TRS t20260612_..., Hanweb art/2026/6/12/...). Meta PubDate is not
    used: on home pages it is the template build time, and visible item dates decide.
    """
    lexicon = lexicon or default_portal_lexicon()
    items: list[DatedItem] = []
    seen: set[int] = set()
    footer, header = {}, {}
    for root, _ in _roots(page):
        stats = _subtree_stats(root)
        for link in root.find_all("a", href=True):
            href = _usable_href(page, link.get("href"))
            if not href or in_footer(link, lexicon, footer) or _inside(link, lexicon.header_markers, ("header",), header):
                continue
            container = _item_container(link, stats=stats)
            if id(container) in seen:
                continue
            dates = _dates_in(_text_outside(container, link), crawl_date, lexicon)
            how = "visible"
            if not dates:
                dates = _dates_in(_element_text(link) + " " + (link.get("title") or ""), crawl_date, lexicon)
                how = "title"
            if not dates:
                dates = _dates_in(href, crawl_date, lexicon)
                how = "url"
            if dates:
                seen.add(id(container))
                items.append(DatedItem(max(dates), container, how))
    return items


def newest_item(page: Page, crawl_date: date, lexicon: PortalLexicon | None = None) -> tuple[date, str, str] | None:
    """(date, how it was read, the item's text) of the newest dated item linked from the page, or None."""
    items = dated_items(page, crawl_date, lexicon or default_portal_lexicon())
    if not items:
        return None
    newest = max(items, key=lambda it: it.date)
    return newest.date, newest.how, snippet(newest.container, 200)


def homepage_freshness(page: Page, crawl_date: date, lexicon: PortalLexicon | None = None) -> tuple[int | None, str]:
    newest = newest_item(page, crawl_date, lexicon)
    if newest is None:
        return None, "no dated item linked from the page (dates in footers and header clocks are ignored)"
    when, how, text = newest
    days = max(0, (crawl_date - when).days)
    return days, f"newest item {when.isoformat()} ({how} date): {text}"


class ColumnLink(tuple):
    """A column linked from the home page: unpacks as ``kind, url``; ``.name`` is its label.

    kind is 'news' | 'notice' | 'policy' (freshness limits 14 / 183 / 183 days are the caller's).
    """

    def __new__(cls, kind: str, url: str, name: str = ""):
        self = super().__new__(cls, (kind, url))
        self.name = name
        return self

    @property
    def kind(self) -> str:
        return self[0]

    @property
    def url(self) -> str:
        return self[1]

    def __repr__(self) -> str:
        return f"ColumnLink(kind={self.kind!r}, url={self.url!r}, name={self.name!r})"


def _column_kind(name: str, lexicon: PortalLexicon) -> str | None:
    compact = _compact(name)
    if not compact or len(compact) > lexicon.column_max_label_chars:
        return None
    for kind in ("notice", "policy", "news"):
        if any(_compact(word) in compact for word in lexicon.columns[kind]):
            return kind
    return None


def _is_more_link(link: Tag, label: str, lexicon: PortalLexicon) -> bool:
    compact = _compact(label)
    if compact and any(compact == _compact(m) or compact.startswith(_compact(m)) for m in lexicon.more_labels):
        return True
    if compact.lstrip("+>»").startswith(("更多", "more")):
        return True
    if not compact:
        marks = _marks(link) + " " + " ".join(img.get("src", "") for img in link.find_all("img"))
        return "more" in marks.lower() or "gd" in marks.lower().split()
    return False


def _heading_for(link: Tag, lexicon: PortalLexicon) -> str | None:
    for node in list(link.parents)[:3]:
        if not isinstance(node, Tag):
            break
        text = _compact(_text_outside(node, link))
        if text and len(text) <= lexicon.column_max_label_chars * 2:
            if _column_kind(text[: lexicon.column_max_label_chars], lexicon):
                return text[: lexicon.column_max_label_chars]
        if text:
            break
    return None


def column_links(page: Page, lexicon: PortalLexicon | None = None) -> list[ColumnLink]:
    """News / notice / policy columns linked from the page (for the stale and empty column checks)."""
    lexicon = lexicon or default_portal_lexicon()
    out: dict[str, ColumnLink] = {}
    footer: dict = {}
    for root, _ in _roots(page):
        for link in root.find_all(["a", "area"], href=True):
            url = _usable_href(page, link.get("href"))
            if not url or url in out or in_footer(link, lexicon, footer):
                continue
            label = _element_text(link, "") or (link.get("title") or "")
            name = label if _column_kind(label, lexicon) else None
            if name is None and _is_more_link(link, label, lexicon):
                name = _heading_for(link, lexicon)
            if name is None:
                continue
            kind = _column_kind(name, lexicon)
            if kind and not _ARTICLE_URL.search(url):
                out[url] = ColumnLink(kind, url, _spaced(name))
    return list(out.values())


def column_status(page: Page, kind: str, crawl_date: date, lexicon: PortalLexicon | None = None) -> tuple[date | None, int]:
    """(newest item date or None, number of items) of a column's list page.

    Items are links with a date beside them (navigation, breadcrumbs and footers excluded). When no
    item is dated, a page saying 暂无信息 has 0 items; otherwise the largest list of links outside
    navigation is counted and the newest date is None (undated items count as not updated).
    ``kind`` ('news' | 'notice' | 'policy') does not change the reading; it is the caller's threshold.
    """
    lexicon = lexicon or default_portal_lexicon()
    nav, footer = {}, {}
    items = [it for it in dated_items(page, crawl_date, lexicon)
             if not _inside(it.container, lexicon.navigation_markers, (), nav) and it.how != "url"]
    if not items:  # URL dates only when nothing is dated visibly (lists that print no dates)
        items = [it for it in dated_items(page, crawl_date, lexicon)
                 if not _inside(it.container, lexicon.navigation_markers, (), nav)]
    if items:
        return max(it.date for it in items), len(items)
    text = _compact(page_reading_text(page))
    if any(_compact(m) in text for m in lexicon.empty_list_markers):
        return None, 0
    best = 0
    for root, _ in _roots(page):
        for lst in root.find_all(["ul", "ol", "tbody", "table", "dl"]):
            if _inside(lst, lexicon.navigation_markers, (), nav) or in_footer(lst, lexicon, footer):
                continue
            rows = [r for r in lst.find_all(["li", "tr", "dd"], recursive=False) if r.find("a", href=True)]
            best = max(best, len(rows))
    return None, best


def first_article_link(page: Page, lexicon: PortalLexicon | None = None) -> str | None:
    """The newest item (article) linked from a column list page, for sampling article meta tags.

    Dated list items first (newest wins, navigation excluded); otherwise the first link whose URL has
    a CMS article shape (t20260612_1.html, art/2026/6/12/art_..., post_123, content_123, show?id=).
    """
    lexicon = lexicon or default_portal_lexicon()
    # No crawl date here: read against the far future so every full date counts (partial dates
    # like 06-12 cannot be placed and fall through to the URL-shape search below).
    nav, footer = {}, {}
    items = [it for it in dated_items(page, date.max - timedelta(days=2), lexicon)
             if not _inside(it.container, lexicon.navigation_markers, (), nav)]
    for item in sorted(items, key=lambda it: it.date, reverse=True):
        for link in ([item.container] if item.container.name == "a" else item.container.find_all("a", href=True)):
            url = _usable_href(page, link.get("href"))
            if url and url.startswith("http"):
                return url
    for root, _ in _roots(page):
        for link in root.find_all("a", href=True):
            url = _usable_href(page, link.get("href"))
            if url and url.startswith("http") and _ARTICLE_URL.search(url) and not in_footer(link, lexicon, footer):
                return url
    return None


# --- page meta tags ----------------------------------------------------------------------------

def page_type(page: Page) -> str:
    """'home', 'column' or 'article', from meta tags and the URL shape."""
    path = urlsplit(page.url).path
    if page.soup.find("meta", attrs={"name": re.compile("^articletitle$", re.I)}) or _ARTICLE_URL.search(path):
        return "article"
    if _HOME_PATH.match(path):
        return "home"
    return "column"


def meta_tag_counts(page: Page, kind: str, lexicon: PortalLexicon | None = None) -> tuple[list[str], list[str]]:
    """(required tags present with non-empty content, required tags) for one page of the given type."""
    lexicon = lexicon or default_portal_lexicon()
    required = list(lexicon.meta_tags[kind])
    present = set()
    for meta in page.soup.find_all("meta"):
        name = (meta.get("name") or "").strip().lower()
        if name and (meta.get("content") or "").strip():
            present.add(name)
    return [t for t in required if t.lower() in present], required


def meta_tags_share(page: Page, lexicon: PortalLexicon, kind: str | None = None) -> tuple[float, str]:
    """(share of required meta tags present with non-empty content, evidence) for one page.

    Required tags per page type follow the 网页标签 rules of 政府网站发展指引 (国办发〔2017〕47号) as
    listed in the lexicon's meta_tags: home = SiteName, SiteDomain, SiteIDCode; column = those +
    ColumnName, ColumnDescription, ColumnKeywords, ColumnType; article = site tags + ColumnName,
    ColumnType, ArticleTitle, PubDate, ContentSource. Optional tags (Keywords, Author, Description,
    Image, Url) are not scored. Tag names are matched case-insensitively; an empty content is missing.
    """
    kind = kind or page_type(page)
    have, required = meta_tag_counts(page, kind, lexicon)
    missing = [t for t in required if t not in have]
    share = round(len(have) / len(required), 4)
    return share, f"{kind} page: {len(have)}/{len(required)} required tags; missing: {', '.join(missing) or 'none'}"


# --- challenge pages ---------------------------------------------------------------------------

def _visible_text(page: Page) -> str:
    memo = _memo(page)
    if "visible_text" not in memo:
        body = page.soup.body or page.soup
        memo["visible_text"] = _WS.sub(" ", _reading_text(body)).strip()
    return memo["visible_text"]


def redirect_target(page: Page) -> str | None:
    """Where a tiny redirect page sends the browser (meta refresh or a bare location assignment)."""
    meta = page.soup.find("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)})
    if meta:
        m = _META_REFRESH.search(meta.get("content") or "")
        if m:
            return urljoin(_base_url(page), m.group(1).strip())
    if len(_visible_text(page)) < 200:
        for script in page.soup.find_all("script"):
            code = script.get_text() or ""
            if "cookie" in code.lower():
                continue  # cookie then reload is a challenge, not a redirect
            m = _JS_REDIRECT.search(code)
            if m:
                return urljoin(_base_url(page), m.group(1) or m.group(2))
    return None


def is_empty_shell(page: Page, lexicon: PortalLexicon | None = None) -> bool:
    """A page whose body is scripts and almost no text (an unrendered SPA or a JS challenge)."""
    lexicon = lexicon or default_portal_lexicon()
    if page.soup.find(["frameset", "frame", "iframe"]) or redirect_target(page):
        return False
    if len(_visible_text(page)) >= lexicon.empty_shell_text_chars:
        return False
    links = [a for a in page.soup.find_all("a", href=True) if _usable_href(page, a["href"])]
    return bool(page.soup.find("script")) and len(links) < 3


def challenge_reason(page: Page, lexicon: PortalLexicon | None = None, include_shell: bool = True) -> str | None:
    """Why the page looks like an anti-bot challenge instead of the real page, or None.

    include_shell=False leaves out unrendered single-page shells: they are not a refusal, only a page
    that needs a browser (fetch classification treats them as ok; spiders render them)."""
    lexicon = lexicon or default_portal_lexicon()
    text = _visible_text(page)
    short = len(text) < lexicon.challenge_max_text_chars
    scripts = " ".join(s.get_text() or "" for s in page.soup.find_all("script"))
    script_hit = next((p.pattern for p in lexicon.challenge_script_patterns if p.search(scripts)), None)
    if page.status in lexicon.challenge_statuses and (script_hit or short):
        return f"HTTP {page.status} with {'script ' + repr(script_hit) if script_hit else 'almost no text'}"
    if script_hit and short:
        return f"challenge script {script_hit!r} on a page with {len(text)} characters of text"
    if short:
        compact_text = text.lower()
        word = next((w for w in lexicon.challenge_text_keywords if w.lower() in compact_text), None)
        if word:
            return f"interstitial text {word!r} on a page with {len(text)} characters of text"
    if include_shell and not page.rendered and is_empty_shell(page, lexicon):
        return f"empty shell: {len(text)} characters of text, scripts only"
    return None


def detect_challenge(page: Page, lexicon: PortalLexicon | None = None) -> bool:
    """True for JS cookie challenges (HTTP 412/521 + document.cookie), Ruishu $_ts pages, captcha
    interstitials, and (unrendered) empty shells: pages that are not the site as a visitor sees it."""
    return challenge_reason(page, lexicon) is not None


# --- the page object ---------------------------------------------------------------------------

def extract_portal(page: Page, crawl_date: date, lexicon: PortalLexicon | None = None) -> dict[str, Finding]:
    """Every portal indicator readable from one page, as {code: Finding}.

    Booleans: value True/status 'ok' with the proving element, or value False/status 'absent' with
    the reason. Text codes (site_identifier, icp_record): value None/status 'absent' when missing.
    language_versions: the count (status 'absent' when 0). homepage_freshness_days: 'absent' (None)
    when no item is dated; inspection_homepage_stale is then True. A page that is not an HTML
    document or is past the parse budget (Page.unreadable) gives every code status 'error'.
    """
    if page.unreadable:   # not an HTML document, or past the parse budget: nothing is known
        lexicon = lexicon or default_portal_lexicon()
        return {code: _finding(code, None, ERROR, f"page not read: {page.unreadable}", lexicon, page.url)
                for code in RULE_VERSIONS}
    findings = _findings_of_page(page, lexicon)
    share = findings.pop("page_meta_tags_share")
    days, why = homepage_freshness(page, crawl_date, lexicon)
    lexicon = lexicon or default_portal_lexicon()
    findings["homepage_freshness_days"] = _finding("homepage_freshness_days", days, OK if days is not None else ABSENT,
                                                   why, lexicon, page.url)
    stale = days is None or days > STALE_AFTER_DAYS
    findings["inspection_homepage_stale"] = _finding(
        "inspection_homepage_stale", stale, OK,
        (f"{days} days since the newest item (limit {STALE_AFTER_DAYS})" if days is not None
         else "no dated item: undated pages count as not updated"), lexicon, page.url)
    findings["page_meta_tags_share"] = share
    return findings


def _findings_of_page(page: Page, lexicon: PortalLexicon | None = None) -> dict[str, Finding]:
    """extract_portal's findings that do not depend on the crawl date."""
    lexicon = lexicon or default_portal_lexicon()
    cands = collect_candidates(page)
    findings: dict[str, Finding] = {}

    def put(code, proof, absent_reason):
        findings[code] = _bool_finding(code, proof, absent_reason, lexicon, page)

    for code, feature in lexicon.features.items():
        proof = None
        if code == "site_search":
            proof = find_search_form(page, lexicon)
        elif code == "mobile_friendly":
            proof = viewport_evidence(page)
        elif code == "accessibility_mode":
            proof = find_scripts(page, feature)
        if proof is None:
            hit = match_feature(cands, feature, lexicon)
            if hit:
                proof = _evidence(*hit)
        if proof is None and code != "accessibility_mode":
            proof = find_scripts(page, feature)
        reason = _absent_reason(feature)
        if code == "mobile_friendly":
            reason = "no meta viewport with width=device-width and " + reason
        put(code, proof, reason)

    langs = language_versions(cands, lexicon)
    findings["language_versions"] = _finding(
        "language_versions", len(langs), OK if langs else ABSENT,
        "; ".join(langs.values()) if langs else "no link labelled English/EN/繁體/日本語/한국어/Русский/蒙古文/藏文/...",
        lexicon, page.url)

    site_id = find_site_identifier(page, lexicon)
    findings["site_identifier"] = (_finding("site_identifier", site_id[0], OK, site_id[1], lexicon, page.url) if site_id
                                   else _finding("site_identifier", None, ABSENT, "no 10-character code after 网站标识码", lexicon, page.url))
    icp = find_icp_record(page)
    findings["icp_record"] = (_finding("icp_record", icp[0], OK, icp[1], lexicon, page.url) if icp
                              else _finding("icp_record", None, ABSENT, "no text like 粤ICP备12345678号", lexicon, page.url))

    https = page.scheme == "https"
    findings["portal_https"] = _finding("portal_https", https, OK, f"final URL {page.url}", lexicon, page.url)
    hsts = page.header("strict-transport-security")
    m = _HSTS_MAX_AGE.search(hsts or "")
    if https and m and int(m.group(1)) > 0:
        findings["portal_hsts"] = _finding("portal_hsts", True, OK, f"Strict-Transport-Security: {hsts}", lexicon, page.url)
    else:
        why = ("not an HTTPS response" if not https else
               f"Strict-Transport-Security: {hsts} (max-age not > 0)" if hsts else "no Strict-Transport-Security header")
        findings["portal_hsts"] = _finding("portal_hsts", False, ABSENT, why, lexicon, page.url)
    findings["homepage_bytes"] = _finding("homepage_bytes", len(page.body), OK,
                                          f"{len(page.body)} bytes of body ({page.encoding})", lexicon, page.url)

    share, why = meta_tags_share(page, lexicon)
    findings["page_meta_tags_share"] = _finding("page_meta_tags_share", share, OK, why, lexicon, page.url)
    return findings


def same_site_links(page: Page, limit: int) -> list[str]:
    """The first ``limit`` distinct same-host http(s) links of the page, in document order (fragments
    dropped): the sample checked for broken links."""
    from urllib.parse import urldefrag

    seen, out = set(), []
    for a in page.soup.find_all("a", href=True):
        href = a["href"].strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urldefrag(page.absolute(href))[0]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (parts.hostname or "") != page.host:
            continue
        if url not in seen:
            seen.add(url)
            out.append(url)
        if len(out) >= limit:
            break
    return out


def extract_portal_links(page: Page, lexicon: PortalLexicon | None = None) -> list[tuple[str, str]]:
    """Sub-pages worth following one level: links labelled 政民互动/网站地图/新媒体/联系我们..., and
    same-site iframes (headers and footers are often iframes). [(absolute url, label)]."""
    lexicon = lexicon or default_portal_lexicon()
    out: dict[str, str] = {}
    words = [_compact(w) for w in lexicon.follow_links]
    for cand in collect_candidates(page):
        if cand.kind != "link" or not cand.href or cand.href in out or not cand.href.startswith("http"):
            continue
        compact = cand.compact
        if len(compact) <= 12 and any(w in compact for w in words):
            out[cand.href] = cand.label
    for frame in page.soup.find_all(["iframe", "frame"], src=True):
        url = _usable_href(page, frame["src"])
        if url and url.startswith("http") and url not in out:
            out[url] = f"[{frame.name}] {frame.get('title') or ''}".strip()
    return list(out.items())


def merge_findings(pages: list[dict[str, Finding]]) -> dict[str, Finding]:
    """Combine the home page (first) with followed sub-pages.

    A feature present on any page wins, and its Finding keeps the url of the page that proved it
    (evidence is prefixed with that url when it is not the home page). language_versions takes the
    page with the most versions; site_identifier / icp_record the first page that has one. Home-page
    measurements (https, hsts, bytes, freshness, meta tags) come from the home page only.
    """
    if not pages:
        return {}
    home = pages[0]
    home_url = next((f.url for f in home.values() if f.url), None)
    merged: dict[str, Finding] = dict(home)
    for other in pages[1:]:
        for code, finding in other.items():
            if code in HOME_ONLY_CODES:
                continue
            current = merged.get(code)
            better = current is None or (current.status != OK and finding.status == OK) or (
                code == "language_versions" and finding.status == OK and (finding.value or 0) > (current.value or 0))
            if better:
                evidence = finding.evidence
                if finding.url and finding.url != home_url and evidence:
                    evidence = f"on {finding.url}: {evidence}"
                merged[code] = replace(finding, evidence=evidence)
    return merged


def to_json(page: Page, findings: dict[str, Finding]) -> dict:
    """The shape printed by `sgi extract portal FILE --url URL --json`."""
    return {"url": page.url,
            "features": {code: {"value": f.value, "evidence": f.evidence} for code, f in findings.items()}}
