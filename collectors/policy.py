"""Policy documents (政策文件 / 规范性文件 / 政府信息公开): pure rules, testable on saved pages.

* :func:`parse_detail` reads a detail page of any of the common layouts: the central government's
  metadata table (索引号 / 主题分类 / 发文机关 / 成文日期 / 标题 / 发文字号 / 发布日期 above the body),
  信息公开 label lists (``<li><label>索引号：</label><span>…</span></li>``), ``label：value`` lines in
  paragraphs, GBK pages and fragments without ``<html>``/``<head>``.
* :func:`normalize_doc_number` folds the bracket variants 〔〕[]［］（）()【】 to 〔〕.
* :func:`parse_list` / :func:`pagination` read list pages in the three pagination styles real
  portals use (TRS ``index_N.html`` written by ``createPageHTML``, ``?page=N`` links, and JSON APIs
  through :func:`parse_api_list`).
* :func:`classify` applies the lexicon (collectors/lexicons/policy.yaml) and says which rule fired.
* :func:`attachment_text` extracts text from PDF (pypdf), DOCX (python-docx) and XLSX (openpyxl).
* :func:`dedupe` groups reposts: by normalised document number, else by near-duplicate text.
* :func:`env_term_frequency` reads a government work report.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from collectors.dates import parse_cn_date
from collectors.page import Page
from sgi.errors import ConfigError
from sgi.yamlconf import line_of, load_yaml

RULE_VERSION = "2"   # 2: lexicon v2, titles read for their subject, metadata from real layouts (issue 20)
LEXICON_PATH = Path(__file__).parent / "lexicons" / "policy.yaml"

GROUPS = ("digital_gov", "digital_ecosystem")
CATEGORY_CODES = ("dg_overall", "data_management", "data_standard", "data_security", "ip_supervision",
                  "ip_gov_service", "digital_economy", "smart_city", "ai", "big_data", "ip_industry",
                  "ip_livelihood")
INDICATORS = ("policy_docs_total", "policy_digital_gov", "policy_digital_ecosystem",
              *(f"policy_cat_{c}" for c in CATEGORY_CODES), "policy_normative_smart_governance")
WORK_REPORT_CODE = "work_report_env_term_freq"
CODES = (*INDICATORS, WORK_REPORT_CODE)

ATTACHMENT_EXTENSIONS = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ofd")
NEAR_DUPLICATE_JACCARD = 0.85
SHINGLE = 5


# ------------------------------------------------------------------------------------------------
# Lexicon
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    group: str
    terms: dict


@dataclass(frozen=True)
class PolicyLexicon:
    version: str
    title_weight: float
    body_max_hits: int
    threshold: float
    body_only_threshold: float
    categories: dict
    neutral: tuple
    not_policy: tuple
    env_terms: tuple
    term_index: dict            # folded term -> [(category, weight)]
    matcher: Any                # compiled alternation of every term, longest first
    explains: tuple = ()        # interpretation titles: not policies, but keep the explained document's topic
    title_only: frozenset = frozenset()   # generic terms counted in the title's subject, never in the body
    issuers: tuple = ()         # (folded name, group, weight), longest first: who issued it is evidence


def fold(text: str) -> str:
    """NFKC (full-width to ASCII), without whitespace and quotation marks: the form terms are matched in."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\"'“”‘’「」『』]+", "", text)


def _alternation(terms: Iterable[str]):
    terms = sorted(set(terms), key=lambda t: (-len(t), t))
    return re.compile("|".join(re.escape(t) for t in terms)) if terms else None


def parse_lexicon(data: Any, path: str) -> PolicyLexicon:
    if not isinstance(data, dict):
        raise ConfigError(path, 1, "the policy lexicon must be a mapping")
    groups = data.get("groups") or {}
    if set(groups) != set(GROUPS):
        raise ConfigError(path, line_of(data, "groups"), f"groups must be exactly {', '.join(GROUPS)}")
    group_of = {}
    for g, codes in groups.items():
        for c in codes or []:
            if c not in CATEGORY_CODES:
                raise ConfigError(path, line_of(groups, g), f"unknown category {c!r} in group {g}")
            group_of[c] = g
    cats_raw = data.get("categories") or {}
    cats = {}
    index: dict[str, list] = {}
    for code, entry in cats_raw.items():
        if code not in CATEGORY_CODES:
            raise ConfigError(path, line_of(cats_raw, code), f"unknown category {code!r}",
                              f"known: {', '.join(CATEGORY_CODES)}")
        terms = entry.get("terms") if isinstance(entry, dict) else None
        if not isinstance(terms, dict) or not terms:
            raise ConfigError(path, line_of(cats_raw, code), f"category {code!r} needs terms: {{term: weight}}")
        folded = {}
        for term, weight in terms.items():
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
                raise ConfigError(path, line_of(entry, "terms"), f"term {term!r} of {code}: weight must be > 0")
            folded[fold(str(term))] = float(weight)
            index.setdefault(fold(str(term)), []).append((code, float(weight)))
        cats[code] = Category(code, str(entry.get("name_zh") or code), group_of.get(code, ""), folded)
    missing = [c for c in CATEGORY_CODES if c not in cats or c not in group_of]
    if missing:
        raise ConfigError(path, line_of(data, "categories"), f"categories missing or ungrouped: {', '.join(missing)}")
    not_policy = []
    for pattern in data.get("not_policy") or []:
        try:
            not_policy.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(path, line_of(data, "not_policy"), f"bad regex {pattern!r}: {exc}") from None
    explains = []
    for pattern in data.get("explains") or []:
        try:
            explains.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(path, line_of(data, "explains"), f"bad regex {pattern!r}: {exc}") from None
    title_only = frozenset(fold(str(t)) for t in data.get("title_only") or [])
    unknown = sorted(t for t in title_only if not index.get(t))
    if unknown:
        raise ConfigError(path, line_of(data, "title_only"), f"title_only names terms of no category: {', '.join(unknown)}")
    issuers = []
    for name, spec in (data.get("issuers") or {}).items():
        if (not isinstance(spec, list) or len(spec) != 2 or spec[0] not in GROUPS
                or not isinstance(spec[1], (int, float)) or isinstance(spec[1], bool) or spec[1] <= 0):
            raise ConfigError(path, line_of(data, "issuers"), f"issuer {name!r}: needs [group, weight > 0]")
        issuers.append((fold(str(name)), spec[0], float(spec[1])))
    issuers.sort(key=lambda x: (-len(x[0]), x[0]))
    neutral = tuple(fold(t) for t in data.get("neutral") or [])
    for t in neutral:
        index.setdefault(t, [])
    env = tuple(fold(t) for t in data.get("env_terms") or [])
    if not env:
        raise ConfigError(path, 1, "env_terms must be a non-empty list")
    return PolicyLexicon(
        version=str(data.get("version") or "1"), title_weight=float(data.get("title_weight", 3)),
        body_max_hits=int(data.get("body_max_hits", 3)), threshold=float(data.get("threshold", 6)),
        body_only_threshold=float(data.get("body_only_threshold", 10)), categories=cats, neutral=neutral,
        not_policy=tuple(not_policy), env_terms=env, term_index=index, matcher=_alternation(index),
        explains=tuple(explains), title_only=title_only, issuers=tuple(issuers))


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> PolicyLexicon:
    path = str(path or LEXICON_PATH)
    return parse_lexicon(load_yaml(path), path)


# ------------------------------------------------------------------------------------------------
# Classification
# ------------------------------------------------------------------------------------------------

@dataclass
class Classification:
    is_policy: bool
    categories: list
    groups: list
    rules: list                 # one line per category that fired (or why nothing did)
    scores: dict = field(default_factory=dict)


# The government's own use of a technology is digital government: a digital_ecosystem term right after
# 政务 / 政府 (政务大数据, 政务区块链, 政府人工智能) counts for dg_overall, as the pseudo-term '政务·大数据'.
GOV_PREFIXES = ("政务", "政府")


def _hits(text: str, lex: PolicyLexicon) -> dict[str, int]:
    out: dict[str, int] = {}
    if lex.matcher is None:
        return out
    t = fold(text)
    for m in lex.matcher.finditer(t):
        term = m.group(0)
        before = t[max(0, m.start() - 2):m.start()]
        cats = lex.term_index.get(term, [])
        if before in GOV_PREFIXES and cats and all(lex.categories[c].group == "digital_ecosystem" for c, _w in cats):
            term = f"{before}·{term}"
        out[term] = out.get(term, 0) + 1
    return out


def _weights(term: str, lex: PolicyLexicon) -> list:
    """[(category, weight)] of a matched term (a '政务·X' pseudo-term counts X's weight for dg_overall)."""
    if "·" in term and term not in lex.term_index:
        _prefix, base = term.split("·", 1)
        return [("dg_overall", max(w for _c, w in lex.term_index[base]))]
    return lex.term_index.get(term, [])


def is_not_policy(title: str, lex: PolicyLexicon | None = None) -> str | None:
    lex = lex or load_lexicon()
    t = unicodedata.normalize("NFKC", title or "").strip()
    for pattern in lex.not_policy:
        if pattern.search(t):
            return pattern.pattern
    return None


_QUOTED = re.compile(r"《([^《》]{2,})》")
_ABOUT = re.compile(r"关于")


def title_focus(title: str) -> str:
    """The part of a title that names the document's subject.

    Real titles wrap the subject: 江西省人民政府办公厅关于印发《江西省政务服务“好差评”管理办法》的通知,
    解读《…》, 国家知识产权局《关于…》的公告. The quoted document's title is what counts (all quoted
    titles when several are, and what follows the last one); without quotes, what follows the first
    关于 (the issuer before it, such as 工业和信息化部, says who wrote it, not what it is about); else the
    whole title."""
    t = unicodedata.normalize("NFKC", title or "").strip()
    quoted = _QUOTED.findall(t)
    if quoted:
        # What follows the last quote says what the quoted documents are ('…》等2项信息化标准的公告').
        tail = t[t.rfind("》") + 1:]
        return " ".join([*(title_focus(q) if _ABOUT.search(q) else q for q in quoted), *([tail] if tail else [])])
    m = _ABOUT.search(t)
    if m and m.end() < len(t):
        return t[m.end():]
    return t


def explains_pattern(title: str, lex: PolicyLexicon | None = None) -> str | None:
    """The `explains` pattern an interpretation title (解读 / 图解 ...) matches, else None."""
    lex = lex or load_lexicon()
    t = unicodedata.normalize("NFKC", title or "").strip()
    for pattern in lex.explains:
        if pattern.search(t):
            return pattern.pattern
    return None


def issuer_evidence(issuer: str | None, title: str, lex: PolicyLexicon) -> tuple[str, str, float] | None:
    """(name, group, weight) of the lexicon's `issuers` entry that the issuer names (the 发文机关 field, else
    the part of the title before its first 关于, where titles put the issuer), longest name first; else None."""
    t = unicodedata.normalize("NFKC", title or "")
    head = t[:t.find("关于")] if "关于" in t else ""
    text = fold(" ".join(x for x in (issuer, head) if x))
    for name, code, weight in lex.issuers:
        if name in text:
            return name, code, weight
    return None


def classify(title: str, body: str, lex: PolicyLexicon | None = None, issuer: str | None = None) -> Classification:
    """Categories of a document from its title and body text and its issuer (see the lexicon's header).

    Evidence: ``rules`` has one line per category that fired, naming every term with where it was found
    (the title's subject or the body), its weight and multiplier, the sum and the threshold it reached;
    ``scores`` keeps every category's sum, fired or not."""
    lex = lex or load_lexicon()
    excluded = is_not_policy(title, lex)
    if excluded:
        return Classification(False, [], [], [f"not_policy: title matches /{excluded}/"])
    explained = explains_pattern(title, lex)
    focus = title_focus(title)
    title_hits, body_hits = _hits(focus, lex), _hits("" if explained else body, lex)
    scores: dict[str, float] = {}
    parts: dict[str, list] = {}
    titled: set[str] = set()
    for term, n in title_hits.items():
        for code, w in _weights(term, lex):
            scores[code] = scores.get(code, 0) + w * lex.title_weight
            parts.setdefault(code, []).append(f"title '{term}' {w:g}x{lex.title_weight:g}")
            titled.add(code)
    # The issuer is evidence, weighted like a title term, for its group's strongest category that the
    # title's subject already names; never alone: a 大数据管理局's holiday notice is not a digital policy.
    by_issuer = issuer_evidence(issuer, title, lex)
    named = [c for c in titled if lex.categories[c].group == (by_issuer or ("", ""))[1]]
    if by_issuer and named:
        name, _group, w = by_issuer
        code = max(named, key=lambda c: (scores[c], -CATEGORY_CODES.index(c)))
        scores[code] += w * lex.title_weight
        parts[code].append(f"issuer '{name}' {w:g}x{lex.title_weight:g}")
    for term, n in body_hits.items():
        if term.split("·")[-1] in lex.title_only:
            continue
        for code, w in _weights(term, lex):
            k = min(n, lex.body_max_hits)
            scores[code] = scores.get(code, 0) + w * k
            parts.setdefault(code, []).append(f"body '{term}'x{n} {w:g}x{k}")
    cats, rules = [], []
    if explained:
        rules.append(f"not_policy: title matches /{explained}/ (an interpretation; categories are those of the "
                     f"document it explains: {focus})")
    elif focus != unicodedata.normalize("NFKC", title or "").strip():
        rules.append(f"title subject: {focus}")
    for code in CATEGORY_CODES:
        s = scores.get(code, 0)
        need = lex.threshold if code in titled else lex.body_only_threshold
        if s >= need:
            cats.append(code)
            rules.append(f"{code}: {' + '.join(parts[code])} = {s:g} >= {need:g}")
    groups = [g for g in GROUPS if any(lex.categories[c].group == g for c in cats)]
    if not cats:
        rules.append("no category reached its threshold")
    return Classification(not explained, cats, groups, rules, scores)


def main_group(cls: Classification, lex: PolicyLexicon | None = None) -> str | None:
    """The group a document is mainly about: its only group, or of two the one with the higher summed
    score of fired categories (ties: digital_gov); None when it has none."""
    if len(cls.groups) < 2:
        return cls.groups[0] if cls.groups else None
    lex = lex or load_lexicon()
    total = {g: sum(cls.scores.get(c, 0) for c in cls.categories if lex.categories[c].group == g) for g in GROUPS}
    return max(GROUPS, key=lambda g: (total[g], g == "digital_gov"))


# ------------------------------------------------------------------------------------------------
# Document numbers
# ------------------------------------------------------------------------------------------------

_OPEN, _CLOSE = "〔[［(（【〖", "〕]］)）】〗"
_DOCNO = re.compile(
    r"(?P<prefix>[\u4e00-\u9fa5A-Za-z]{1,16}?)\s*[" + re.escape(_OPEN) + r"]\s*(?P<year>(?:19|20)\d{2})\s*["
    + re.escape(_CLOSE) + r"]\s*(?:第\s*)?(?P<num>\d{1,5})\s*号")


def normalize_doc_number(text: str | None) -> str | None:
    """'深府办规[2021] 3号', '深府办规（2021）03号' → '深府办规〔2021〕3号'; None when there is none."""
    if not text:
        return None
    t = unicodedata.normalize("NFKC", text)
    m = _DOCNO.search(t.replace("\u3000", " "))
    if not m:
        return None
    return f"{m['prefix']}〔{m['year']}〕{int(m['num'])}号"


def find_doc_number(text: str) -> str | None:
    """A document number at the head of a body ('深府办规〔2021〕3号' on its own line)."""
    return normalize_doc_number((text or "")[:400])


# ------------------------------------------------------------------------------------------------
# Detail pages
# ------------------------------------------------------------------------------------------------

LABELS = {
    "index_number": ("索引号", "索取号", "信息索引号", "索引編號"),
    "subject": ("主题分类", "主题", "信息分类", "分类", "所属主题", "主题类别"),
    "issuer": ("发文机关", "发布机构", "发文单位", "发布单位", "发文机构", "成文单位", "制发机关", "公开主体",
               "信息来源单位", "发布机关", "发文部门"),
    # 成文日期 and its synonyms only: 生成日期 (TRS) is when the page was generated, not the document written.
    "written_date": ("成文日期", "发文日期", "印发日期", "签发日期"),
    "title": ("标题", "名称", "文件名称", "信息名称", "公文标题"),
    "doc_number": ("发文字号", "文号", "发文号", "文件编号", "文件字号"),
    "published_date": ("发布日期", "公开日期", "发布时间", "公开时间", "发文时间"),
    "validity": ("有效性", "时效性", "效力状态", "是否有效", "有效状态", "时效状态", "效力"),
    "doc_type": ("文件类型", "信息类别", "公文种类", "文种", "体裁分类", "信息类型"),
}
_LABEL_OF = {fold(lbl): key for key, labels in LABELS.items() for lbl in labels}
_LABEL_RE = re.compile(
    r"(?P<label>" + "|".join(sorted({re.escape(l) for ls in LABELS.values() for l in ls}, key=len, reverse=True))
    + r")\s*[:：]\s*(?P<value>[^\n]*?)\s*(?=(?:" + "|".join(sorted({re.escape(l) for ls in LABELS.values() for l in ls},
                                                                   key=len, reverse=True)) + r")\s*[:：]|\n|$)")
BODY_SELECTORS = ("#UCAP-CONTENT", ".pages_content", ".TRS_Editor", ".TRS_UEDITOR", "#zoom", ".zoom",
                  ".article-content", ".article_con", ".xxgk_content", ".detail-content", ".content-text",
                  ".conTxt", ".main-txt", "#content", ".content", ".view", ".wzcon", ".zw", ".article")
_SKIP_TAGS = ("script", "style", "noscript", "iframe", "select", "option", "button", "form")


@dataclass
class PolicyDoc:
    url: str
    title: str | None = None
    doc_number: str | None = None
    doc_number_raw: str | None = None
    issuer: str | None = None
    index_number: str | None = None
    subject: str | None = None
    written_date: date | None = None
    published_date: date | None = None
    validity: str | None = None
    is_normative: bool = False
    body: str = ""
    attachments: list = field(default_factory=list)    # (absolute url, link text)
    fields_found: dict = field(default_factory=dict)   # raw label -> value

    @property
    def date(self) -> date | None:
        return self.published_date or self.written_date


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("\u3000", " ").replace("\xa0", " ")).strip()


def _label_key(text: str) -> str | None:
    t = fold(text).rstrip(":：").strip()
    t = re.sub(r"[:：]$", "", t)
    return _LABEL_OF.get(t)


_ALL_LABELS = sorted({fold(l) for ls in LABELS.values() for l in ls} | {"生成日期", "组配分类", "浏览次数", "来源"},
                     key=len, reverse=True)
_LEADING_LABEL = re.compile(r"^(?:" + "|".join(re.escape(l) for l in _ALL_LABELS) + r")(?:[:：]|$)")


def _is_label_text(text: str) -> bool:
    """True when a text is, or starts with, a metadata label ('主题分类: 科技' is the next field, not a value)."""
    return bool(_LEADING_LABEL.match(fold(text)))


def _grid_pairs(soup) -> list[tuple[str, str, str]]:
    """Hanweb/大汉-style grids: a row of label cells above a row of value cells, read column by column."""
    pairs = []
    for tr in soup.find_all("tr"):
        cells = tr.find_all(["td", "th"], recursive=False)
        if not 2 <= len(cells) <= 12:
            continue
        texts = [_clean(c.get_text(" ")) for c in cells]
        if any(len(t) > 14 for t in texts):          # label cells are short
            continue
        keys = [_label_key(t) for t in texts]
        if not all(keys):
            continue
        nxt = tr.find_next_sibling("tr")
        values = nxt.find_all(["td", "th"], recursive=False) if nxt is not None else []
        if len(values) != len(cells):
            continue
        for cell, key, value in zip(cells, keys, values):
            text = _clean(value.get_text(" "))
            if not _is_label_text(text):
                pairs.append((key, _clean(cell.get_text(" ")), text))
    return pairs


def _short_texts(soup, limit: int) -> dict[int, str]:
    """{id(element): _clean(element.get_text(" "))} for every element whose text has at most ``limit``
    non-space characters, gathered bottom-up in one walk (a get_text() per element is quadratic on deep
    pages). Elements with their own string types (<rt>, <rp>) are read with get_text()."""
    from bs4 import NavigableString, Tag

    main = Tag.MAIN_CONTENT_STRING_TYPES
    out: dict[int, str] = {}
    stack = [(soup, iter(soup.contents), [], [0])]        # element, children, tokens, [non-space count]
    while stack:
        el, children, tokens, count = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            text = " ".join(tokens) if count[0] <= limit else None
            if el.interesting_string_types != main:
                text = _clean(el.get_text(" "))
                text = text if len("".join(text.split())) <= limit else None
            if text is not None:
                out[id(el)] = text
            if stack:
                parent_tokens, parent_count = stack[-1][2], stack[-1][3]
                parent_count[0] += count[0]
                if parent_count[0] <= limit:
                    parent_tokens.extend(tokens)
            continue
        if isinstance(node, Tag):
            stack.append((node, iter(node.contents), [], [0]))
        elif isinstance(node, NavigableString) and type(node) in main:
            words = node.split()
            count[0] += sum(map(len, words))
            if count[0] <= limit:
                tokens.extend(words)
    return out


def _meta_pairs(soup) -> list[tuple[str, str, str]]:
    """(key, raw label, value) from label cells/elements followed by a value. A value that is itself a
    label (an empty cell followed by the next field) is read as empty."""
    pairs = _grid_pairs(soup)
    short = _short_texts(soup, 14)
    for el in soup.find_all(["td", "th", "dt", "label", "b", "strong", "span", "em", "div", "li", "p"]):
        own = short.get(id(el), "")
        if not own or len(own) > 14:
            continue
        key = _label_key(own)
        if not key:
            continue
        value = None
        if el.name in ("td", "th"):
            sib = el.find_next_sibling(["td", "th"])
            value = _clean(sib.get_text(" ")) if sib else None
        elif el.name == "dt":
            sib = el.find_next_sibling("dd")
            value = _clean(sib.get_text(" ")) if sib else None
        else:
            sib = el.find_next_sibling()
            parent_text = _clean(el.parent.get_text(" ")) if el.parent else ""
            rest = parent_text[parent_text.find(own) + len(own):].strip() if own in parent_text else ""
            if sib is not None and _clean(sib.get_text(" ")) and _label_key(_clean(sib.get_text(" "))) is None \
                    and len(_clean(sib.get_text(" "))) < 200:
                value = _clean(sib.get_text(" "))
            elif rest and len(rest) < 200:
                value = re.split(r"\s{2,}", rest)[0]
        if value is not None and _is_label_text(value):
            value = ""
        if value is not None:
            pairs.append((key, own, value.lstrip(":： ").strip()))
    return pairs


def _text_pairs(text: str) -> list[tuple[str, str, str]]:
    out = []
    for line in text.splitlines():
        line = line.replace("\u3000", " ").strip()
        if len(line) > 300:
            continue
        for m in _LABEL_RE.finditer(line):
            key = _label_key(m["label"])
            if key and m["value"].strip():
                out.append((key, m["label"], m["value"].strip()))
    return out


def _strip(soup):
    for t in soup.find_all(_SKIP_TAGS):
        t.decompose()
    return soup


def _block_text(el) -> str:
    lines = []
    for chunk in el.get_text("\n").split("\n"):
        c = chunk.replace("\xa0", " ").strip()
        if c:
            lines.append(c)
    return "\n".join(lines)


def _simple_selector(sel: str):
    """A test for one simple selector (``tag``, ``.class`` or ``#id``), matching as soupsieve does."""
    if sel.startswith("."):
        name = sel[1:]
        return lambda el: name in (el.get("class") or ())
    if sel.startswith("#"):
        name = sel[1:]
        return lambda el: el.get("id") == name
    return lambda el: el.name == sel


def select_each(soup, selectors: tuple[str, ...]) -> list[list]:
    """``[soup.select(s) for s in selectors]`` for simple selectors, in one walk over the document
    instead of one per selector (policy pages are read against 19 body and 8 title selectors)."""
    tests = [_simple_selector(sel) for sel in selectors]
    found: list[list] = [[] for _ in selectors]
    for el in soup.find_all(True):
        for i, test in enumerate(tests):
            if test(el):
                found[i].append(el)
    return found


def _body_element(soup):
    best, best_len = None, 0
    for sel, elements in zip(BODY_SELECTORS, select_each(soup, BODY_SELECTORS)):
        for el in elements:
            n = len(fold(el.get_text()))
            if n > best_len:
                best, best_len = el, n
        if best is not None and best_len >= 50:
            return best
    # Fallback: the parent holding the most paragraph text.
    holds_block: set[int] = set()      # ids of elements with a div/p/table inside; one climb per block
    for block in soup.find_all(["div", "p", "table"]):
        for up in block.parents:
            if id(up) in holds_block:
                break
            holds_block.add(id(up))
    totals: dict[int, tuple[Any, int]] = {}
    for p in soup.find_all(["p", "div"]):
        if p.name == "div" and id(p) in holds_block:
            continue
        parent = p.parent
        if parent is None:
            continue
        n = len(fold(p.get_text()))
        old = totals.get(id(parent), (parent, 0))
        totals[id(parent)] = (parent, old[1] + n)
    if totals:
        el, n = max(totals.values(), key=lambda t: t[1])
        if n > best_len:
            return el
    return best or soup


def _validity(value: str | None, page_text: str) -> str | None:
    for text in (value or "", ):
        t = fold(text)
        if "废止" in t:
            return "废止"
        if "失效" in t or "已修改" in t and "失效" in t:
            return "失效"
        if "有效" in t:
            return "有效"
    m = re.search(r"[【\[（(](已?失效|已?废止|现行有效|有效)[】\]）)]", page_text[:600])
    if m:
        return "废止" if "废止" in m.group(1) else ("失效" if "失效" in m.group(1) else "有效")
    return None


_DOC_WORDS = re.compile(r"关于|通知|办法|意见|方案|规定|决定|细则|规划|计划|措施|报告|条例|指南|公告|通告|批复|规范|政策|纲要")


_TITLE_SELECTORS = ("h1", ".article-title", ".article-tit", ".title", "h2", ".bt", "#title", "h3")


def _title_from_head(soup) -> str | None:
    """The document title when no metadata field gives it: a heading that the <title> repeats or that
    reads like a document name (关于 / 通知 / 办法 ...), never the site banner."""
    head = _clean(soup.title.get_text()) if soup.title else ""
    article_title = soup.find("meta", attrs={"name": re.compile(r"^ArticleTitle$", re.I)})
    if article_title is not None and _clean(article_title.get("content")):
        return _clean(article_title["content"])     # the CMS's own title field (TRS, Hanweb)
    candidates = []
    for name in ("ArticleTitle", "title", "dc.title"):
        m = soup.find("meta", attrs={"name": re.compile(f"^{re.escape(name)}$", re.I)})
        if m and _clean(m.get("content")):
            candidates.append(_clean(m["content"]))
    for elements in select_each(soup, _TITLE_SELECTORS):
        for el in elements:
            text = _clean(el.get_text(" "))
            if 6 <= len(text) <= 200:
                candidates.append(text)
    for text in candidates:
        if head and fold(text) in fold(head) and _DOC_WORDS.search(text):
            return text
    for text in candidates:
        if _DOC_WORDS.search(text):
            return text
    if head:
        return re.split(r"\s*[_|｜]\s*|\s+-\s+", head)[0]
    return candidates[0] if candidates else None


_NO_VALUE = ("", "无", "暂无", "-", "—", "/", "／", "null", "none")
_SIGNATURE_DATE = re.compile(r"^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")


def signature_date(body: str) -> date | None:
    """The date under the signature: a line that is only a date (2020年2月5日) among the last lines of
    the body, before notes such as （此件主动公开） and related links."""
    lines = [_clean(l) for l in (body or "").splitlines() if _clean(l)]
    for line in reversed(lines[-8:]):
        if _SIGNATURE_DATE.match(line.replace(" ", "")):
            return parse_cn_date(line)
    return None


def qualify_issuer(issuer: str | None, province: str | None = None, city: str | None = None) -> str | None:
    """An issuer written without its place ('省政府办公厅', '省市场监管局', '市大数据局') gets the place of the
    site it was read on: '江西省政府办公厅'. Already-qualified names are unchanged."""
    if not issuer:
        return issuer
    if issuer.startswith("省") and province and province.endswith("省"):
        return province + issuer[1:]
    if issuer.startswith("市") and city and city.endswith("市"):
        return city + issuer[1:]
    return issuer


def parse_detail(page: Page, province: str | None = None, city: str | None = None) -> PolicyDoc:
    """Fields, body text and attachment links of a policy detail page. ``province`` / ``city`` (e.g.
    '江西省', '深圳市') are where the site is: an issuer written '省…厅' / '市…局' keeps its place."""
    soup = _strip(page.soup)
    doc = PolicyDoc(url=page.url)
    values: dict[str, str] = {}
    for key, label, value in _meta_pairs(soup) + _text_pairs(_block_text(soup)):
        if key not in values and value:
            values[key] = value
            doc.fields_found[label] = value
    body_el = _body_element(soup)
    body = _block_text(body_el)
    doc.title = values.get("title") or _title_from_head(soup)
    raw_no = values.get("doc_number")
    if raw_no is not None and fold(raw_no).lower() in _NO_VALUE:
        raw_no = None           # '文号：无' is a document without a number
    doc.doc_number_raw = raw_no
    doc.doc_number = normalize_doc_number(raw_no) or (None if raw_no else find_doc_number(body))
    if raw_no and not doc.doc_number and raw_no.strip() not in ("", "无", "-", "/"):
        doc.doc_number = _clean(raw_no)
    issuer = values.get("issuer")
    if not issuer:
        m = soup.find("meta", attrs={"name": re.compile(r"^ContentSource$", re.I)})
        issuer = _clean(m.get("content")) if m else None
    doc.issuer = qualify_issuer(issuer or None, province, city)
    doc.index_number = values.get("index_number")
    doc.subject = values.get("subject")
    doc.written_date = parse_cn_date(values.get("written_date")) or signature_date(body)
    doc.published_date = parse_cn_date(values.get("published_date"))
    if doc.published_date is None:
        for name in ("PubDate", "pubdate", "publishdate", "firstpublishedtime"):
            m = soup.find("meta", attrs={"name": name})
            if m and parse_cn_date(m.get("content")):
                doc.published_date = parse_cn_date(m.get("content"))
                break
    doc.validity = _validity(values.get("validity"), _block_text(soup))
    doc_type = fold(values.get("doc_type") or "")
    doc.is_normative = "规范性文件" in doc_type or bool(doc.doc_number and re.search(r"规〔", doc.doc_number))
    # The body without the metadata block when the body container is the whole page.
    doc.body = body
    doc.attachments = attachment_links(page, soup)
    return doc


def attachment_links(page: Page, soup=None) -> list[tuple[str, str]]:
    soup = soup or page.soup
    out, seen = [], set()
    for a in soup.find_all("a", href=True):
        href = a["href"].strip()
        if href.startswith(("javascript:", "mailto:", "#")):
            continue
        text = _clean(a.get_text(" ")) or _clean(a.get("title"))
        ext = attachment_ext(href) or attachment_ext(text)
        if not ext:
            continue
        url = page.absolute(href)
        if url not in seen:
            seen.add(url)
            out.append((url, text))
    return out


def attachment_ext(name: str | None) -> str | None:
    m = re.search(r"\.(" + "|".join(ATTACHMENT_EXTENSIONS) + r")(?:$|[?#])", (name or "").strip().lower())
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------------------
# List pages and pagination
# ------------------------------------------------------------------------------------------------

@dataclass
class ListItem:
    url: str
    title: str
    date: date | None = None


_ARTICLE_HREF = re.compile(r"(\.s?html?|\.jhtml|\.jsp|\.aspx?|\.php)(\?|$)|/(art|content|detail|info)/|[?&](id|docid|articleid)=",
                           re.I)
_PAGER_TEXT = re.compile(r"^(首页|上一页|下一页|尾页|末页|上页|下页|\d+|>|<|»|«|跳转|GO)$", re.I)


def parse_list(page: Page, context: date | None = None) -> list[ListItem]:
    """Document links of a list page: anchors with a title-length text in a row (li/tr/dd/div) that
    carries a date, or with a TRS-style dated URL; navigation and pager links are not items."""
    items, seen = [], set()
    soup = page.soup
    for a in soup.find_all("a", href=True):
        href = a["href"].strip()
        if href.startswith(("javascript:", "mailto:", "#")) or attachment_ext(href):
            continue
        text = _clean(a.get("title")) if len(_clean(a.get("title"))) > len(_clean(a.get_text(" "))) else _clean(a.get_text(" "))
        if len(text) < 6 or _PAGER_TEXT.match(text) or not re.search(r"[\u4e00-\u9fa5]", text):
            continue
        row = a.find_parent(["li", "tr", "dd", "dl"]) or a.parent
        row_text = _clean(row.get_text(" ")) if row is not None else text
        rest = row_text.replace(_clean(a.get_text(" ")), " ")
        when = parse_cn_date(rest, context_date=context) if rest.strip() else None
        url = page.absolute(href)
        if when is None and not re.search(r"/t(19|20)\d{6}_", url):
            continue
        if not _ARTICLE_HREF.search(urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")):
            continue
        if url in seen or url == page.url:
            continue
        seen.add(url)
        items.append(ListItem(url, text, when))
    return items


_TRS_COUNT = re.compile(r"createPage(?:HTML)?\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"']([\w\-]+)[\"']\s*,\s*[\"'](\w+)[\"']")
_TRS_VAR = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页")


def pagination(page: Page) -> tuple[str, list[str]]:
    """('trs', every other page URL) for script-written TRS pagers, ('next', [next page URL]) for
    '下一页' / ?page=N links, ('none', [])."""
    text = page.text
    m = _TRS_COUNT.search(text)
    count = int(m.group(1)) if m else None
    if m is None:
        v = _TRS_VAR.search(text)
        if v and re.search(r"createPage", text):
            count = int(v.group(1))
    if count:
        name, ext = (m.group(3), m.group(4)) if m else ("index", "html")
        base = page.url.split("?")[0]
        folder = base.rsplit("/", 1)[0] + "/"
        return "trs", [urljoin(folder, f"{name}.{ext}" if i == 0 else f"{name}_{i}.{ext}") for i in range(count)]
    for a in page.soup.find_all("a", href=True):
        label = _clean(a.get_text(" ")) or _clean(a.get("title"))
        if label in ("下一页", "下页", "后一页", ">", "»", "下一页>", "下一页 >") and not a["href"].startswith("javascript"):
            nxt = page.absolute(a["href"])
            if nxt != page.url:
                return "next", [nxt]
    return "none", []


def page_url(template_url: str, param: str, n: int) -> str:
    parts = urlsplit(template_url)
    q = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param] + [(param, str(n))]
    return urlunsplit(parts._replace(query=urlencode(q)))


def _jpath(obj, path: str | None):
    if not path:
        return obj
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        else:
            return None
    return obj


def parse_api_list(body: bytes, base_url: str, api: dict, context: date | None = None) -> tuple[list[ListItem], int | None]:
    """Items and total count of a JSON list API answer (field names from the source's options)."""
    data = json.loads(body.decode("utf-8-sig"))
    fields = {"items": "data.list", "total": "data.total", "title": "title", "url": "url", "date": "publishDate",
              **(api.get("fields") or {})}
    rows = _jpath(data, fields["items"]) or []
    total = _jpath(data, fields["total"])
    out = []
    for r in rows:
        if not isinstance(r, dict):
            continue
        url = r.get(fields["url"])
        title = _clean(str(r.get(fields["title"]) or ""))
        if not url or not title:
            continue
        when = r.get(fields["date"])
        if isinstance(when, (int, float)):
            from datetime import datetime, timedelta, timezone
            when = datetime.fromtimestamp(when / (1000 if when > 1e11 else 1), timezone(timedelta(hours=8))).date()
        else:
            when = parse_cn_date(str(when or ""), context_date=context)
        out.append(ListItem(urljoin(base_url, url), title, when))
    return out, (int(total) if isinstance(total, (int, float, str)) and str(total).isdigit() else None)


# ------------------------------------------------------------------------------------------------
# Attachments
# ------------------------------------------------------------------------------------------------

class AttachmentError(Exception):
    pass


def sniff_ext(body: bytes, ext: str | None) -> str | None:
    if body.startswith(b"%PDF"):
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        except zipfile.BadZipFile:
            return ext
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
    return ext


def attachment_text(body: bytes, ext: str | None) -> tuple[str | None, str | None]:
    """(text, skip reason): text extracted from a PDF / DOCX / XLSX, or why none was."""
    kind = sniff_ext(body, ext)
    try:
        if kind == "pdf":
            if not body.startswith(b"%PDF"):
                return None, "corrupt: not a PDF (no %PDF header)"
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(body), strict=False)
            text = "\n".join((p.extract_text() or "") for p in reader.pages)
            return text.strip(), None
        if kind == "docx":
            import docx

            d = docx.Document(io.BytesIO(body))
            parts = [p.text for p in d.paragraphs]
            for t in d.tables:
                for row in t.rows:
                    parts.append("\t".join(c.text for c in row.cells))
            return "\n".join(x for x in parts if x).strip(), None
        if kind == "xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
            lines = []
            for ws in wb.worksheets:
                for row in ws.iter_rows(values_only=True):
                    cells = [str(c) for c in row if c is not None]
                    if cells:
                        lines.append("\t".join(cells))
            return "\n".join(lines), None
    except Exception as exc:   # a broken file is recorded, never raised
        return None, f"corrupt: {type(exc).__name__}: {str(exc)[:200]}"
    return None, f"unsupported format: {kind or 'unknown'} (digest kept, no text extraction)"


# ------------------------------------------------------------------------------------------------
# Deduplication
# ------------------------------------------------------------------------------------------------

def shingles(text: str, k: int = SHINGLE) -> set[str]:
    t = re.sub(r"[^\u4e00-\u9fa5A-Za-z0-9]", "", unicodedata.normalize("NFKC", text or ""))
    return {t[i:i + k] for i in range(max(0, len(t) - k + 1))}


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def doc_key(doc_number: str | None, canonical_url: str) -> str:
    """'no:<normalised 文号>', else 'url:' + a digest of the canonical URL without scheme and port (the
    same document keeps its key when a site moves to https or another port)."""
    if doc_number:
        return "no:" + doc_number
    parts = urlsplit(canonical_url)
    where = f"{(parts.hostname or '').lower()}{parts.path}{'?' + parts.query if parts.query else ''}"
    return "url:" + hashlib.sha1(where.encode()).hexdigest()[:16]


def _canonical_order(d):
    return (getattr(d, "date", None) or date.max, d.url)


def dedupe(docs: list) -> list[list]:
    """Groups of the same document: same normalised number, else near-duplicate text (Jaccard of
    character 5-grams >= NEAR_DUPLICATE_JACCARD, for documents without a number).
    ``docs`` are PolicyDoc-like objects; each group is ordered by date then URL: the first (the earliest
    publication) is canonical."""
    groups: list[list] = []
    by_no: dict[str, list] = {}
    rest = []
    for d in sorted(docs, key=lambda d: d.url):
        if d.doc_number:
            by_no.setdefault(d.doc_number, []).append(d)
        else:
            rest.append(d)
    groups.extend(by_no.values())
    sigs = {id(d): shingles((d.title or "") + (d.body or "")) for d in docs}
    for d in rest:
        for g in groups:
            if jaccard(sigs[id(d)], sigs[id(g[0])]) >= NEAR_DUPLICATE_JACCARD:
                g.append(d)
                break
        else:
            groups.append([d])
    for g in groups:
        g.sort(key=_canonical_order)
    groups.sort(key=lambda g: g[0].url)
    return groups


# ------------------------------------------------------------------------------------------------
# Work reports
# ------------------------------------------------------------------------------------------------

def char_count(text: str) -> int:
    return len(re.sub(r"\s+", "", text or ""))


def env_term_frequency(text: str, lex: PolicyLexicon | None = None) -> tuple[float | None, int, int]:
    """(terms per 10,000 characters, term count, characters) of a report text."""
    lex = lex or load_lexicon()
    chars = char_count(text)
    if not chars:
        return None, 0, 0
    pattern = _alternation(lex.env_terms)
    n = len(pattern.findall(fold(text)))
    return round(n * 10000 / chars, 4), n, chars


def is_work_report_title(title: str | None) -> int | None:
    """The year of a 政府工作报告 title ('2026年杭州市政府工作报告' / '政府工作报告（2026年）'), else None."""
    t = unicodedata.normalize("NFKC", title or "")
    if "政府工作报告" not in t or re.search(r"解读|图解|答记者问|一图", t):
        return None
    m = re.search(r"((?:19|20)\d{2})\s*年", t)
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------------------------------------
# JSON for `sgi extract policy`
# ------------------------------------------------------------------------------------------------

def to_json(doc: PolicyDoc, cls: Classification) -> dict:
    iso = lambda d: d.isoformat() if d else None
    return {"url": doc.url, "title": doc.title, "doc_number": doc.doc_number, "issuer": doc.issuer,
            "index_number": doc.index_number, "written_date": iso(doc.written_date),
            "published_date": iso(doc.published_date), "categories": cls.categories, "groups": cls.groups,
            "rules": cls.rules}
