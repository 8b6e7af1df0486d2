"""Open-data catalogue harvest: adapters that read one catalogue answer into dataset records plus a
next-page decision, and the rules that turn a harvested catalogue into the opendata_* indicators.

Everything here is a pure function of (options, answer): the spider only sends the requests these
functions describe. Three adapters, chosen per source entry by ``options.adapter``:

``ckan``     CKAN's documented action API (``package_search`` with ``rows``/``start``); it is the
             ``jsonapi`` adapter with CKAN's paging and field mapping preset (options may override any
             of it, e.g. a portal that renamed ``/api/3/action``).
``jsonapi``  declarative JSON API (the XHR behind single-page catalogues): list endpoint, method
             (GET / POST with a JSON or form body), paging parameter (page number or offset), page
             size, a JMESPath for the items, the total and an error test, and a JMESPath per field.
             A new platform is a source-file entry, not code.
``html``     server-rendered catalogue: list pages (page number in the query string or a 下一页 link)
             with links to detail pages whose attributes are read as label：value pairs (labels in
             ``lexicons/opendata.yaml``). ``options.render: true`` fetches pages through Chromium.

Paging never trusts the server's page size or total: the offset advances by the items actually
returned (servers cap the page size silently), and the harvest stops on an empty page, on a JSON page
shorter than the first one (unless the reported total says more remain), on a page that adds no new dataset, or at ``max_pages``. The
total a server reports is kept only as a cross-check in the evidence.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import jmespath

from collectors.base import ABSENT, OK, Finding
from collectors.dates import parse_cn_date

RULE_VERSION = "1"
CHINA_TZ = timezone(timedelta(hours=8))
MAX_PAGES_DEFAULT = 400
INDICATORS = ("opendata_platform", "opendata_datasets", "opendata_apis", "opendata_publishers",
              "opendata_machine_readable_share", "opendata_updated_1y_share", "opendata_median_age_days",
              "opendata_downloads_per_dataset", "opendata_topic_coverage", "opendata_licence")
FIELDS = ("dataset_id", "title", "publisher", "topic", "formats", "api", "record_count", "file_size",
          "created", "updated", "frequency", "views", "downloads", "licence", "url")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """collectors/lexicons/opendata_rules.yaml (formats, sectors, detail-page labels), checked on load."""
    from pathlib import Path

    import yaml

    from sgi.errors import ConfigError

    path = Path(__file__).parent / "lexicons" / "opendata_rules.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key in ("machine_readable_formats", "api_formats", "sectors", "detail_labels", "yes_words", "next_page_texts"):
        if key not in data:
            raise ConfigError(f"{path}: missing key {key!r}")
    if not isinstance(data["sectors"], dict) or not all(isinstance(v, list) and v for v in data["sectors"].values()):
        raise ConfigError(f"{path}: sectors must map each sector to a non-empty list of keywords")
    return data


# --- records ---------------------------------------------------------------------------------------------
@dataclass
class Dataset:
    dataset_id: str
    title: Optional[str] = None
    publisher: Optional[str] = None
    topic: Optional[str] = None
    formats: list = field(default_factory=list)      # upper-case format names, e.g. ['CSV', 'PDF']
    api: bool = False
    record_count: Optional[int] = None
    file_size: Optional[str] = None
    created: Optional[date] = None
    updated: Optional[date] = None
    frequency: Optional[str] = None
    views: Optional[int] = None
    downloads: Optional[int] = None
    licence: Optional[str] = None
    url: Optional[str] = None

    @property
    def sector(self) -> Optional[str]:
        return sector_of(self.topic)

    @property
    def last_date(self) -> Optional[date]:
        """The last-updated date, or the creation date when the platform gives only that."""
        return self.updated or self.created

    @property
    def machine_readable(self) -> bool:
        mr = {str(f).lower() for f in lexicon()["machine_readable_formats"]}
        return any(f.lower() in mr for f in self.formats)


@dataclass(frozen=True)
class RequestSpec:
    url: str
    method: str = "GET"
    body: Optional[bytes] = None
    headers: tuple = ()                  # ((name, value), ...)
    role: str = "list"                   # list | detail | terms
    page: int = 1                        # list page number (1-based) or offset, per paging kind
    dataset_id: Optional[str] = None     # detail requests


@dataclass
class PageResult:
    records: list = field(default_factory=list)       # Dataset
    next: Optional[RequestSpec] = None                 # the next list page, or None: stop
    details: list = field(default_factory=list)        # RequestSpec of detail pages to fetch (html)
    error: Optional[str] = None                        # an error object / unreadable answer
    total: Optional[int] = None                        # what the server claims, for the evidence
    stop_reason: Optional[str] = None


@dataclass
class PagingState:
    """What the paging decision remembers between pages of one catalogue."""
    seen: set = field(default_factory=set)
    first_page_size: int = 0
    pages: int = 0
    total: Optional[int] = None


# --- value normalisation -----------------------------------------------------------------------------------
def to_date(value: Any) -> Optional[date]:
    """Dates as platforms write them: ISO, '2021/3/5', '2021年3月5日', '20210305', epoch milliseconds."""
    if value in (None, "", 0):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{10,13}", value.strip())):
        n = int(value)
        if n > 10 ** 11:
            n //= 1000
        if n > 10 ** 8:   # epoch seconds / milliseconds, read in China time
            return datetime.fromtimestamp(n, tz=CHINA_TZ).date()
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})[T ]", text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    return parse_cn_date(text)


def to_int(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).replace(",", "").replace("，", "").strip()
    m = re.search(r"(\d+(?:\.\d+)?)\s*(万)?", text)
    if not m:
        return None
    n = float(m[1]) * (10000 if m[2] else 1)
    return int(round(n))


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (list, tuple)):
        return len(value) > 0
    text = str(value).strip().lower()
    return text in {str(w).lower() for w in lexicon()["yes_words"]}


def to_formats(value: Any) -> list[str]:
    """'csv,xlsx' / ['CSV', 'json'] / 'CSV/JSON' / [{'format': 'csv'}] -> ['CSV', 'XLSX'] (unique, in order)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,，;；/|、\s]+", str(value))
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("format") or item.get("type") or ""
        if isinstance(item, (list, tuple)):
            out.extend(to_formats(item))
            continue
        name = str(item).strip().strip(".").upper()
        if name and name not in out:
            out.append(name)
    return out


def text_or_none(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = "、".join(str(v) for v in value if v not in (None, ""))
    text = " ".join(str(value).split())
    return text or None


def sector_of(topic: Optional[str]) -> Optional[str]:
    if not topic:
        return None
    return _sector_of(topic)


@lru_cache(maxsize=4096)     # a platform's datasets share a few dozen topics
def _sector_of(topic: str) -> Optional[str]:
    low = topic.lower()
    for sector, words in _sector_words():
        if any(w in low for w in words):
            return sector
    return None


@lru_cache(maxsize=1)
def _sector_words() -> tuple:
    return tuple((sector, tuple(str(w).lower() for w in words)) for sector, words in lexicon()["sectors"].items())


def api_offered(formats: list[str], flag: Any = None) -> bool:
    api = {str(a).lower() for a in lexicon()["api_formats"]}
    return to_bool(flag) or any(f.lower() in api for f in formats)


def make_dataset(raw: dict, base_url: str = "") -> Optional[Dataset]:
    """A Dataset from mapped raw values; None without an id (a record we cannot tell apart)."""
    did = raw.get("dataset_id")
    if did in (None, ""):
        return None
    formats = to_formats(raw.get("formats"))
    url = raw.get("url")
    return Dataset(dataset_id=str(did).strip(), title=text_or_none(raw.get("title")),
                   publisher=text_or_none(raw.get("publisher")), topic=text_or_none(raw.get("topic")),
                   formats=formats, api=api_offered(formats, raw.get("api")),
                   record_count=to_int(raw.get("record_count")), file_size=text_or_none(raw.get("file_size")),
                   created=to_date(raw.get("created")), updated=to_date(raw.get("updated")),
                   frequency=text_or_none(raw.get("frequency")), views=to_int(raw.get("views")),
                   downloads=to_int(raw.get("downloads")), licence=text_or_none(raw.get("licence")),
                   url=urljoin(base_url, str(url)) if url else None)


# --- options ----------------------------------------------------------------------------------------------
CKAN_PRESET = {
    "list_url": "api/3/action/package_search",
    "method": "GET",
    "paging": "offset",
    "page_param": "start",
    "size_param": "rows",
    "page_size": 1000,
    "first_page": 0,
    "items": "result.results",
    "total": "result.count",
    "error": "success != `true`",
    "error_message": "error.message || error.__type",
    "fields": {
        "dataset_id": "id || name",
        "title": "title",
        "publisher": "organization.title || organization.name || author",
        "topic": "groups[0].display_name || groups[0].title || groups[0].name",
        "formats": "resources[].format",
        "api": "resources[?format=='API' || format=='api'] | length(@) > `0`",
        "record_count": "num_records || extras[?key=='record_count'].value | [0]",
        "file_size": "resources[0].size",
        "created": "metadata_created",
        "updated": "metadata_modified",
        "frequency": "extras[?key=='update_frequency' || key=='frequency'].value | [0]",
        "views": "tracking_summary.total",
        "downloads": "extras[?key=='downloads'].value | [0]",
        "licence": "license_title || license_id",
    },
    "dataset_url": "dataset/{name}",
}

JSONAPI_DEFAULTS = {
    "method": "GET",
    "paging": "page",          # page | offset
    "page_param": "page",
    "size_param": "size",
    "page_size": 100,
    "first_page": 1,
    "body": "json",            # json | form (POST bodies)
    "params": {},
    "items": "data",
    "total": None,
    "error": None,
    "error_message": None,
    "fields": {},
    "dataset_url": None,
    "max_pages": MAX_PAGES_DEFAULT,
    "error_retries": 2,
}


def adapter_options(options: dict) -> dict:
    """The effective options of a source entry: the adapter's preset overlaid with the entry's own."""
    kind = (options or {}).get("adapter", "jsonapi")
    merged = dict(JSONAPI_DEFAULTS)
    if kind == "ckan":
        merged.update({k: v for k, v in CKAN_PRESET.items() if k != "fields"})
        merged["fields"] = dict(CKAN_PRESET["fields"])
    for key, value in (options or {}).items():
        if key == "fields" and isinstance(value, dict):
            merged["fields"] = {**merged.get("fields", {}), **value}
        else:
            merged[key] = value
    merged["adapter"] = kind
    return merged


def validate_options(options: dict) -> list[str]:
    """Problems with an opendata source entry's options (empty when usable)."""
    problems = []
    opts = adapter_options(options)
    kind = opts["adapter"]
    if kind not in ("ckan", "jsonapi", "html"):
        return [f"unknown adapter {kind!r} (ckan, jsonapi, html)"]
    if kind == "jsonapi":
        if not opts.get("list_url"):
            problems.append("jsonapi needs options.list_url")
        if "dataset_id" not in opts.get("fields", {}):
            problems.append("jsonapi needs options.fields.dataset_id (a JMESPath)")
    if kind in ("ckan", "jsonapi"):
        for name, expr in list(opts.get("fields", {}).items()) + [("items", opts.get("items")),
                                                                  ("total", opts.get("total")),
                                                                  ("error", opts.get("error"))]:
            if expr:
                try:
                    jmespath.compile(expr)
                except jmespath.exceptions.JMESPathError as exc:
                    problems.append(f"{name}: bad JMESPath {expr!r}: {exc}")
    if str(opts.get("method", "GET")).upper() not in ("GET", "POST"):
        problems.append("method must be GET or POST")
    return problems


@lru_cache(maxsize=512)
def _compiled(expr: str):
    return jmespath.compile(expr)


def jp(expr: Optional[str], data: Any) -> Any:
    if not expr:
        return None
    return _compiled(expr).search(data)


# --- JSON adapters (ckan, jsonapi) ---------------------------------------------------------------------------
def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def json_request(start_url: str, options: dict, page: int) -> RequestSpec:
    """The list request for one page (``page`` is a page number or an offset, per ``options.paging``)."""
    opts = adapter_options(options)
    url = urljoin(start_url, opts["list_url"])
    params = dict(opts.get("params") or {})
    params[opts["page_param"]] = page
    if opts.get("size_param"):
        params[opts["size_param"]] = opts["page_size"]
    if str(opts["method"]).upper() == "POST":
        if opts.get("body") == "form":
            body = urlencode({k: str(v) for k, v in params.items()}).encode()
            ctype = "application/x-www-form-urlencoded; charset=UTF-8"
        else:
            body = json.dumps(params, ensure_ascii=False, sort_keys=True).encode("utf-8")
            ctype = "application/json;charset=UTF-8"
        return RequestSpec(url, "POST", body, (("Content-Type", ctype), ("Accept", "application/json"),
                                               ("X-Requested-With", "XMLHttpRequest")), page=page)
    return RequestSpec(_with_query(url, params), "GET", None, (("Accept", "application/json"),), page=page)


def first_request(start_url: str, options: dict) -> RequestSpec:
    opts = adapter_options(options)
    if opts["adapter"] == "html":
        return RequestSpec(html_list_url(start_url, opts, int(opts.get("first_page", 1))),
                           headers=(("Accept", "text/html"),), page=int(opts.get("first_page", 1)))
    return json_request(start_url, options, int(opts["first_page"]))


def parse_json_answer(body: bytes, start_url: str, options: dict, request: RequestSpec,
                      state: PagingState) -> PageResult:
    """One list answer of a ckan / jsonapi platform -> records + the next request (or a stop)."""
    opts = adapter_options(options)
    error, records, total, n_items = read_json_answer(body, start_url, options)
    if error:
        return PageResult(error=error)
    result = PageResult(records=records, total=total)
    result.next, result.stop_reason = _next_page(opts, request, n_items, records, state, total,
                                                 lambda page: json_request(start_url, options, page))
    return result


def read_json_answer(body: bytes, start_url: str, options: dict) -> tuple[Optional[str], list, Optional[int], int]:
    """(error, records, total, number of items) of one list answer; paging is the caller's."""
    opts = adapter_options(options)
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"not JSON: {exc}"[:200], [], None, 0
    if opts.get("error") and jp(opts["error"], data):
        message = jp(opts.get("error_message"), data) if opts.get("error_message") else None
        return f"error object in a 200 answer: {text_or_none(message) or json.dumps(data)[:160]}", [], None, 0
    items = jp(opts["items"], data)
    if items is None:
        return f"no items at {opts['items']!r}", [], None, 0
    if not isinstance(items, list):
        return f"items at {opts['items']!r} is not a list", [], None, 0
    total = to_int(jp(opts.get("total"), data)) if opts.get("total") else None
    records = []
    for item in items:
        raw = {name: jp(expr, item) for name, expr in opts["fields"].items()}
        if not raw.get("url") and opts.get("dataset_url") and isinstance(item, dict):
            values = {k: v for k, v in item.items() if isinstance(k, str) and isinstance(v, (str, int))}
            values["dataset_id"] = raw.get("dataset_id")
            try:
                raw["url"] = opts["dataset_url"].format(**values)
            except (KeyError, IndexError, ValueError, AttributeError):
                raw["url"] = None
        ds = make_dataset(raw, start_url)
        if ds is not None:
            records.append(ds)
    return None, records, total, len(items)


def _next_page(opts: dict, request: RequestSpec, n_items: int, records: list, state: PagingState,
               total: Optional[int], make) -> tuple[Optional[RequestSpec], Optional[str]]:
    """The paging decision shared by every adapter (see the module docstring)."""
    state.pages += 1
    if total is not None:
        state.total = total
    new = [r for r in records if r.dataset_id not in state.seen]
    state.seen.update(r.dataset_id for r in records)
    if n_items == 0:
        return None, "empty page"
    if state.pages == 1:
        state.first_page_size = n_items      # the size the server really serves (it may cap what we ask)
    elif n_items < state.first_page_size and opts.get("adapter") != "html" and (
            state.total is None or len(state.seen) >= state.total):
        # A short page ends a JSON catalogue unless the server's total says more remain (then an empty
        # page ends it). HTML catalogues follow their next-page links instead.
        return None, f"short page ({n_items} < {state.first_page_size})"
    if not new:
        return None, "page added no new dataset"
    if state.pages >= int(opts.get("max_pages") or MAX_PAGES_DEFAULT):
        return None, f"max_pages {opts.get('max_pages')} reached"
    if opts.get("paging") == "offset":
        return make(request.page + n_items), None
    return make(request.page + 1), None


# --- HTML adapter --------------------------------------------------------------------------------------------
def html_list_url(start_url: str, opts: dict, page: int) -> str:
    template = opts.get("list_url")
    if template and "{page}" in template:
        return urljoin(start_url, template.format(page=page))
    return _with_query(urljoin(start_url, template or start_url), {opts.get("page_param", "page"): page})


def parse_html_list(page, start_url: str, options: dict, request: RequestSpec, state: PagingState) -> PageResult:
    """A server-rendered list page -> detail requests + the next list page.

    Detail links: anchors matching ``options.detail_link`` (a regex on the href). Next page: the same
    list URL with the next page number when the page links to it or has a 下一页 link; the shared
    paging decision (no new dataset, short page, max_pages) applies as for JSON."""
    opts = adapter_options(options)
    stubs, total, links_next = read_html_list(page, start_url, options, request.page)
    new_stubs = [s for s in stubs if s.dataset_id not in state.seen]
    details = [RequestSpec(s.url, role="detail", dataset_id=s.dataset_id, headers=(("Accept", "text/html"),))
               for s in new_stubs]
    nxt, reason = _next_page(opts, request, len(stubs), stubs, state, total,
                             lambda p: RequestSpec(html_list_url(start_url, opts, p), page=p,
                                                   headers=(("Accept", "text/html"),)))
    if nxt is not None and not links_next:
        nxt, reason = None, "no link to a next page"
    return PageResult(records=[], next=nxt, details=details, total=total, stop_reason=reason)


def read_html_list(page, start_url: str, options: dict, page_no: int) -> tuple[list, Optional[int], bool]:
    """(dataset stubs, the total the page states, whether it links to list page ``page_no`` + 1) of a
    server-rendered list page; paging is the caller's."""
    opts = adapter_options(options)
    pattern = re.compile(opts.get("detail_link") or r"(detail|view|dataset|catalog).*?(\d+)")
    id_pattern = re.compile(opts.get("id_pattern") or r"(\d+)(?:\.s?html?)?(?:$|\?)")
    stubs, seen_here = [], set()
    for a in page.soup.find_all("a", href=True):
        href = a["href"].strip()
        if not pattern.search(href):
            continue
        url = page.absolute(href)
        m = id_pattern.search(urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else ""))
        did = m.group(1) if m else url
        if did in seen_here:
            continue
        seen_here.add(did)
        stubs.append(Dataset(dataset_id=did, title=text_or_none(a.get_text()), url=url))
    total = None
    m = re.search(r"共\s*(\d+)\s*(?:条|个|项)", page.text)
    if m:
        total = int(m.group(1))
    next_url = html_list_url(start_url, opts, page_no + 1)
    links_next = any(_same_list_page(page.absolute(a["href"]), next_url) for a in page.soup.find_all("a", href=True))
    next_words = {w.lower() for w in lexicon()["next_page_texts"]}
    has_next_word = any(" ".join(a.get_text().split()).lower() in next_words for a in page.soup.find_all("a", href=True)
                        if not a["href"].startswith(("javascript:", "#")))
    return stubs, total, links_next or has_next_word


def _same_list_page(url: str, wanted: str) -> bool:
    a, b = urlsplit(url), urlsplit(wanted)
    return a.path == b.path and sorted(parse_qsl(a.query)) == sorted(parse_qsl(b.query))


def _label_key(text: str) -> str:
    return re.sub(r"[\s:：]+", "", text or "")


def detail_pairs(page) -> dict[str, str]:
    """label -> value pairs of a detail page: th/td rows, dt/dd lists and 'label：value' spans or lines."""
    pairs: dict[str, str] = {}
    soup = page.soup
    for row in soup.find_all("tr"):
        cells = row.find_all(["th", "td"])
        for i in range(0, len(cells) - 1, 2):
            key, value = _label_key(cells[i].get_text()), " ".join(cells[i + 1].get_text().split())
            if key and key not in pairs:
                pairs[key] = value
    for dt in soup.find_all("dt"):
        dd = dt.find_next_sibling("dd")
        if dd is not None:
            pairs.setdefault(_label_key(dt.get_text()), " ".join(dd.get_text().split()))
    for line in soup.get_text("\n").splitlines():
        for m in re.finditer(r"([\u4e00-\u9fffA-Za-z]{1,10})\s*[:：]\s*([^\s：:|｜]+(?:\s\d{1,2}:\d{2}(?::\d{2})?)?)",
                             line):
            pairs.setdefault(_label_key(m.group(1)), m.group(2).strip())
    return pairs


def parse_html_detail(page, stub_id: str) -> Optional[Dataset]:
    """A detail page -> one Dataset (attributes read by the label lexicon)."""
    pairs = detail_pairs(page)
    raw: dict[str, Any] = {}
    for name, labels in lexicon()["detail_labels"].items():
        for label in labels:
            key = _label_key(label)
            if key in pairs and pairs[key] not in ("", "-", "—", "无", "暂无"):
                raw[name] = pairs[key]
                break
    if not raw.get("title"):
        h = page.soup.find(["h1", "h2"])
        raw["title"] = h.get_text() if h else None
    raw["dataset_id"] = stub_id           # the id the list linked with: stable across list and detail
    raw["url"] = page.url
    if raw.get("frequency") is None:
        pass
    return make_dataset(raw, page.url)


# --- catalogue -> indicators ---------------------------------------------------------------------------------
def dedupe(records: list) -> list:
    """Distinct datasets by id; a later reading of the same id fills fields an earlier one lacked."""
    out: dict[str, Dataset] = {}
    for r in records:
        if r.dataset_id in out:
            old = out[r.dataset_id]
            old.api = old.api or r.api
            for name in FIELDS:
                if getattr(old, name) in (None, [], "") and getattr(r, name) not in (None, [], ""):
                    setattr(old, name, getattr(r, name))
        else:
            out[r.dataset_id] = r
    return list(out.values())


def _f(code, value, status, evidence, rule):
    return Finding(code, value, status, evidence, f"opendata.{rule}", RULE_VERSION)


def catalogue_findings(datasets: list, crawl_date: date, terms_found: Optional[bool] = None,
                       terms_evidence: str = "", reported_total: Optional[int] = None) -> dict[str, Finding]:
    """Every opendata indicator from one city's harvested, deduplicated catalogue."""
    ds = dedupe(datasets)
    n = len(ds)
    out: dict[str, Finding] = {}
    total_note = f"; server reported total {reported_total}" if reported_total is not None else ""
    out["opendata_platform"] = _f("opendata_platform", True, OK, f"catalogue answered, {n} datasets{total_note}",
                                  "platform")
    out["opendata_datasets"] = _f("opendata_datasets", n, OK, f"{n} distinct dataset ids{total_note}", "datasets")
    apis = sum(1 for d in ds if d.api)
    out["opendata_apis"] = _f("opendata_apis", apis, OK, f"{apis}/{n} datasets offer an API", "apis")
    pubs = sorted({d.publisher for d in ds if d.publisher})
    out["opendata_publishers"] = _f("opendata_publishers", len(pubs), OK,
                                    f"{len(pubs)} departments: " + "、".join(pubs[:8]), "publishers")
    if n:
        mr = sum(1 for d in ds if d.machine_readable)
        out["opendata_machine_readable_share"] = _f("opendata_machine_readable_share", round(mr / n, 4), OK,
                                                    f"{mr}/{n} datasets offer CSV/JSON/XML/XLS(X)", "machine_readable")
    else:
        out["opendata_machine_readable_share"] = _f("opendata_machine_readable_share", None, ABSENT,
                                                    "empty catalogue", "machine_readable")
    dated = [d.last_date for d in ds if d.last_date]
    ages = [(crawl_date - d).days for d in dated]
    if ages:
        recent = sum(1 for a in ages if a <= 365)
        out["opendata_updated_1y_share"] = _f("opendata_updated_1y_share", round(recent / len(ages), 4), OK,
                                              f"{recent}/{len(ages)} dated datasets updated within 365 days "
                                              f"({n - len(ages)} without a date)", "updated_1y")
        med = statistics.median(ages)
        out["opendata_median_age_days"] = _f("opendata_median_age_days", float(med), OK,
                                             f"median over {len(ages)} dated datasets", "median_age")
    else:
        for code, rule in (("opendata_updated_1y_share", "updated_1y"), ("opendata_median_age_days", "median_age")):
            out[code] = _f(code, None, ABSENT, "no dataset carries a date", rule)
    reporting = [d.downloads for d in ds if d.downloads is not None]
    if reporting:
        per = round(sum(reporting) / len(reporting), 2)
        out["opendata_downloads_per_dataset"] = _f("opendata_downloads_per_dataset", per, OK,
                                                   f"{sum(reporting)} downloads over {len(reporting)} datasets "
                                                   "reporting downloads", "downloads")
    else:
        out["opendata_downloads_per_dataset"] = _f("opendata_downloads_per_dataset", None, ABSENT,
                                                   "no dataset reports downloads", "downloads")
    sectors = list(lexicon()["sectors"])
    covered = sorted({d.sector for d in ds if d.sector})
    out["opendata_topic_coverage"] = _f("opendata_topic_coverage", round(len(covered) / len(sectors), 4), OK,
                                        f"{len(covered)}/{len(sectors)} sectors: {', '.join(covered)}", "topic_coverage")
    licensed = [d for d in ds if d.licence]
    if licensed or terms_found:
        ev = f"{len(licensed)} datasets name a licence" + (f"; {terms_evidence}" if terms_found else "")
        out["opendata_licence"] = _f("opendata_licence", True, OK, ev, "licence")
    else:
        out["opendata_licence"] = _f("opendata_licence", False, ABSENT,
                                     "no dataset names a licence and no terms page" + (
                                         f" ({terms_evidence})" if terms_evidence else ""), "licence")
    return out


TERMS_WORDS = ("开放协议", "使用协议", "许可协议", "授权协议", "使用条款", "服务条款", "开放许可", "licen", "terms of use")


def terms_page_published(page) -> bool:
    """A terms / licence page that answered and names its terms."""
    text = page.text.lower()
    return any(w.lower() in text for w in TERMS_WORDS) and len("".join(text.split())) > 40
