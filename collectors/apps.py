"""Government apps in app stores: pure parsers (no I/O) for store answers and the app indicators.

* Apple: the public iTunes Search / Lookup API answers (JSON: ``resultCount`` + ``results`` with
  ``trackId``, ``trackName``, ``sellerName``, ``averageUserRating``, ``userRatingCount``, ``version``,
  ``currentVersionReleaseDate``, ``fileSizeBytes``, ``trackViewUrl`` ...). ``resultCount: 0`` on a lookup by
  id means the app is not (or no longer) in the store: the listing is *absent*.
* Android: Chinese store app pages, server-rendered or rendered by a browser. They are read by labels
  that all the big stores print (评分 / 人评分 / 次安装 / 下载 / 版本 / 更新时间 / 开发者 / 大小), from
  schema.org ``AggregateRating`` / ``SoftwareApplication`` data when a page embeds it, else from the
  page text, so no rule depends on one store's markup.
* Count parsing of Chinese store formats ('1.2亿次安装', '3,456万', '5000+', '10万+', '超过1亿',
  full-width digits ...) into a number and a note on its precision (:func:`parse_count`).
* The city indicators over a crawl's listings (:func:`city_findings`) and the 90-day rating trend over
  stored snapshots (:func:`rating_trend`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Iterable, Optional

from collectors.base import ABSENT, BLOCKED, ERROR, NOT_APPLICABLE, OK, Finding
from collectors.dates import find_dates
from collectors.page import Page

RULE_VERSION = "1"
CHINA_TZ = timezone(timedelta(hours=8))     # store dates are shown to Chinese users in Beijing time
TREND_WINDOW_DAYS = 90

# --------------------------------------------------------------------------------------------------
# counts
# --------------------------------------------------------------------------------------------------

EXACT, LOWER_BOUND, APPROXIMATE = "exact", "lower bound", "approximate"

_UNITS = {"万": 10 ** 4, "亿": 10 ** 8, "千": 10 ** 3, "百": 10 ** 2, "十": 10, "百万": 10 ** 6, "千万": 10 ** 7,
          "万亿": 10 ** 12, "k": 10 ** 3, "K": 10 ** 3, "w": 10 ** 4, "W": 10 ** 4, "m": 10 ** 6, "M": 10 ** 6,
          "b": 10 ** 9, "B": 10 ** 9}
_COUNT = re.compile(
    r"(?P<pre>超过|超|逾|大于|多于|高于|不少于|至少|约|近|将近|大约|over|more\s+than|about)?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
    r"(?P<unit>万亿|百万|千万|万|亿|千|百|[kKmMbBwW](?![a-zA-Z]))?\s*"
    r"(?P<post>\+|＋|以上|余|多|plus)?", re.I)
_LOWER_WORDS = {"超过", "超", "逾", "大于", "多于", "高于", "不少于", "至少", "over", "more than"}
_APPROX_WORDS = {"约", "近", "将近", "大约", "about"}


def fold(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (NFKC), ideographic spaces to spaces."""
    return unicodedata.normalize("NFKC", text or "").replace("\u3000", " ")


def _rounding(num: str, unit: int) -> str:
    decimals = len(num.split(".")[1]) if "." in num else 0
    exponent = len(str(unit)) - 1 - decimals
    if exponent <= 0:
        return EXACT
    return f"rounded to 10^{exponent}"


def parse_count(text: str) -> tuple[Optional[int], str]:
    """A store's count text -> (number, note). The note is 'exact', 'lower bound' ('5000+', '超过1亿'),
    'approximate' ('约3万') or 'rounded to 10^n' ('1.2亿' is known to 0.1亿 = 10^7).

    (None, 'no number') when the text holds no count (暂无, '-', '')."""
    t = fold(text).strip()
    t = re.sub(r"(?<=\d)\s*,\s*(?=\d{3})", ",", t)
    m = _COUNT.search(t)
    if not m:
        return None, "no number"
    num = m.group("num").replace(",", "")
    try:
        value = Decimal(num)
    except InvalidOperation:
        return None, "no number"
    unit_text = m.group("unit") or ""
    unit = _UNITS.get(unit_text, 1)
    number = int(value * unit)
    pre = (m.group("pre") or "").lower()
    pre = re.sub(r"\s+", " ", pre)
    post = (m.group("post") or "").lower()
    if pre in _LOWER_WORDS or post in ("+", "＋", "以上", "余", "多", "plus"):
        return number, LOWER_BOUND
    if pre in _APPROX_WORDS:
        return number, APPROXIMATE
    return number, _rounding(num, unit)


def parse_size(text: str) -> Optional[int]:
    """'86.3MB' / '120.5 M' / '1.2 GB' / '523 KB' / a plain byte count -> bytes (binary multiples)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*(GB|G|MB|M|KB|K|B)?\b", fold(text), re.I)
    if not m:
        return None
    mult = {"G": 1024 ** 3, "M": 1024 ** 2, "K": 1024, "B": 1, "": 1}[(m.group(2) or "").upper()[:1]]
    return int(Decimal(m.group(1)) * mult)


# --------------------------------------------------------------------------------------------------
# listings
# --------------------------------------------------------------------------------------------------

@dataclass
class Listing:
    """One app in one store, as read on the crawl date.

    status  ok (the store shows the app) / absent (the store answered and has no such app) /
            blocked / error (the store could not be read: nothing is known)
    rating  on a 0-5 scale; None when the app has no ratings yet
    """

    store: str
    app_id: str
    status: str = OK
    name: Optional[str] = None
    developer: Optional[str] = None
    rating: Optional[float] = None
    rating_count: Optional[int] = None
    version: Optional[str] = None
    release_date: Optional[date] = None
    downloads: Optional[int] = None
    downloads_note: Optional[str] = None
    size_bytes: Optional[int] = None
    url: Optional[str] = None
    evidence: str = ""
    extra: dict = field(default_factory=dict)

    def as_row(self) -> dict:
        return dict(store=self.store, app_id=self.app_id, status=self.status, name=self.name,
                    developer=self.developer, rating=self.rating, rating_count=self.rating_count,
                    version=self.version, release_date=self.release_date, downloads=self.downloads,
                    downloads_note=self.downloads_note, size_bytes=self.size_bytes, url=self.url)


def _apple_date(value) -> Optional[date]:
    """currentVersionReleaseDate ('2026-05-11T23:30:00Z', UTC) -> the date in Beijing time."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        found = list(find_dates(str(value)))
        return found[0] if found else None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(CHINA_TZ).date()


def _int(value) -> Optional[int]:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def apple_listing(result: dict) -> Listing:
    """One entry of an iTunes Lookup/Search ``results`` array."""
    count = _int(result.get("userRatingCount"))
    rating = result.get("averageUserRating")
    if count is None:
        count = 0 if rating in (None, 0, 0.0) else None
    if not count:
        rating = None          # Apple sends 0 (or nothing) for apps nobody rated yet: no rating, not 0 stars
    return Listing(
        store="apple", app_id=str(result.get("trackId") or ""), name=result.get("trackName"),
        developer=result.get("sellerName") or result.get("artistName"),
        rating=float(rating) if rating is not None else None, rating_count=count,
        version=result.get("version"), release_date=_apple_date(result.get("currentVersionReleaseDate")),
        size_bytes=_int(result.get("fileSizeBytes")), url=result.get("trackViewUrl"),
        evidence=(f"trackId {result.get('trackId')}: averageUserRating {result.get('averageUserRating')}, "
                  f"userRatingCount {result.get('userRatingCount')}, version {result.get('version')}, "
                  f"currentVersionReleaseDate {result.get('currentVersionReleaseDate')}"),
        extra={"bundleId": result.get("bundleId"), "kind": result.get("kind")})


def parse_itunes(body: bytes | str) -> list[dict]:
    """The ``results`` of an iTunes Search/Lookup answer; ValueError when it is not such an answer."""
    text = body.decode("utf-8-sig", "replace") if isinstance(body, (bytes, bytearray)) else body
    text = text.strip()
    if text.startswith(("callback(", "jsonp(")) or re.match(r"^[\w.]+\(", text):   # JSONP wrapper
        text = text[text.index("(") + 1: text.rindex(")")]
    data = json.loads(text)
    if not isinstance(data, dict) or "results" not in data:
        raise ValueError("not an iTunes Search/Lookup answer")
    return [r for r in data.get("results") or [] if isinstance(r, dict)]


def apple_lookup(body: bytes | str, app_id: str) -> Listing:
    """A lookup-by-id answer -> the app's listing; status absent when ``resultCount`` is 0 (or the id is
    not among the results: removed from the store, or never in the country's store)."""
    results = parse_itunes(body)
    for r in results:
        if str(r.get("trackId")) == str(app_id) and r.get("wrapperType", "software") == "software":
            return apple_listing(r)
    return Listing(store="apple", app_id=str(app_id), status=ABSENT,
                   evidence=f"lookup id={app_id}: resultCount {len(results)}, app not in the store")


def apple_search(body: bytes | str) -> list[Listing]:
    return [apple_listing(r) for r in parse_itunes(body)
            if r.get("wrapperType", "software") == "software" and r.get("trackId")]


# --- Android store pages ---------------------------------------------------------------------------

_NOT_LISTED = re.compile(r"(应用不存在|该应用已下架|应用已下架|已下架|找不到该应用|未找到该应用|页面不存在|没有找到相关应用|app not found)",
                         re.I)
# A rating is a small number with at most two decimals, not the head of a count ('评分 1,234人').
_RATING_LABELLED = re.compile(r"(?:评分|评级|得分|星级|rating)\s*[:：]?\s*(\d{1,2}(?:\.\d{1,2})?)(?![\d,.])\s*(/\s*10|分)?"
                              r"(?!\s*(?:万|亿|千|人|个|条|次))", re.I)
_RATING_BEFORE_LABEL = re.compile(r"(?<![\d.,])(\d{1,2}(?:\.\d{1,2})?)\s*(/\s*10|/\s*5|分)?\s*(?:综合)?评分(?!人|数|次)")
_RATING_COUNT = re.compile(
    r"(?P<n>[\d,.]+\s*(?:万|亿|千)?\s*\+?)\s*(?:人|个|条|次)\s*(?:评分|评价|评论|打分)"
    r"|(?:评分人数|评价人数|评论数|评分数|评价数|ratings?)\s*[:：]?\s*(?P<m>[\d,.]+\s*(?:万|亿|千)?\s*\+?)", re.I)
_NO_RATING = re.compile(r"(暂无评分|暂无评价|尚无评分|还没有评分|无评分|no ratings)", re.I)
_DOWNLOADS = re.compile(
    r"(?P<a>(?:超过|超|逾|约|近)?\s*[\d,.]+\s*(?:万亿|百万|千万|万|亿|千)?\s*(?:\+|以上|余)?)[ \t]*(?:次|人)?[ \t]*(?:安装|下载)(?!量|次数|地址|链接|按钮)"
    r"|(?:下载量|下载次数|安装量|安装次数|下载|安装)\s*[:：]\s*(?P<b>(?:超过|超|逾|约|近)?\s*[\d,.]+\s*(?:万亿|百万|千万|万|亿|千)?\s*(?:\+|以上|余)?)")
_VERSION = re.compile(r"(?:版本号?|当前版本|最新版本|version)\s*[:：]?\s*[vV]?\s*(\d+(?:\.\d+){0,3})", re.I)
_UPDATED = re.compile(r"(?:更新时间|更新日期|最近更新|上架时间|发布时间|updated)\s*[:：]?\s*([^\n]{6,24})", re.I)
_DEVELOPER = re.compile(r"(?:开发者|开发商|开发方|供应商|developer)\s*[:：]\s*([^\n]{2,60})", re.I)
_SIZE = re.compile(r"(?:大小|文件大小|安装包大小|size)\s*[:：]?\s*(\d+(?:\.\d+)?\s*(?:GB|G|MB|M|KB|K))", re.I)


def _page_lines(page: Page) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.text, "lxml")     # a copy: page.soup is shared and must keep its scripts
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    text = soup.get_text("\n")
    lines = [" ".join(fold(line).split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _json_ld(page: Page) -> dict:
    """schema.org SoftwareApplication / MobileApplication data embedded as JSON-LD or microdata."""
    out: dict = {}
    for script in page.soup.find_all("script", type=re.compile("ld\\+json", re.I)):
        try:
            data = json.loads(script.string or "")
        except (ValueError, TypeError):
            continue
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item, dict):
                continue
            agg = item.get("aggregateRating") or {}
            if isinstance(agg, dict):
                if agg.get("ratingValue") is not None:
                    out.setdefault("rating", (agg.get("ratingValue"), agg.get("bestRating")))
                if agg.get("ratingCount") is not None or agg.get("reviewCount") is not None:
                    out.setdefault("rating_count", agg.get("ratingCount") or agg.get("reviewCount"))
            for key, name in (("name", "name"), ("softwareVersion", "version"), ("fileSize", "size")):
                if item.get(key):
                    out.setdefault(name, item[key])
            author = item.get("author") or item.get("publisher")
            if isinstance(author, dict) and author.get("name"):
                out.setdefault("developer", author["name"])
            if item.get("interactionStatistic"):
                stats = item["interactionStatistic"]
                for s in stats if isinstance(stats, list) else [stats]:
                    if isinstance(s, dict) and "Download" in str(s.get("interactionType", "")) or \
                            isinstance(s, dict) and "Install" in str(s.get("interactionType", "")):
                        out.setdefault("downloads", str(s.get("userInteractionCount")))
    for prop in ("ratingValue", "ratingCount", "reviewCount", "bestRating"):
        el = page.soup.find(attrs={"itemprop": prop})
        if el is not None:
            out.setdefault("micro_" + prop, el.get("content") or el.get_text(strip=True))
    return out


def _scale(value: float, marker: str | None, best=None) -> Optional[float]:
    try:
        best = float(best) if best not in (None, "") else None
    except (TypeError, ValueError):
        best = None
    if best is None:
        best = 10.0 if (marker and "10" in marker) or value > 5 else 5.0
    if value < 0 or value > best:
        return None
    return round(value * 5.0 / best, 4)


def android_listing(page: Page, store: str, app_id: str, crawl_date: date | None = None) -> Listing:
    """An Android store's app page (as served, or as a browser rendered it) -> the app's listing.

    Absent when the store answers 404/410 or says the app does not exist / was taken down; a page on
    which no field is recognised is an error (never proof of absence)."""
    if page.status in (404, 410):
        return Listing(store=store, app_id=app_id, status=ABSENT, url=page.url,
                       evidence=f"HTTP {page.status}: the store has no page for {app_id}")
    text = _page_lines(page)
    ld = _json_ld(page)
    listing = Listing(store=store, app_id=app_id, url=page.url)
    notes = []
    # name: og:title / h1 / title
    og = page.soup.find("meta", attrs={"property": "og:title"})
    h1 = page.soup.find("h1")
    name = ld.get("name") or (og.get("content") if og else None) or (h1.get_text(" ", strip=True) if h1 else None)
    if not name and page.soup.title and page.soup.title.string:
        # '<name>app下载-<name>安卓版下载-应用宝官网': the first part, without the download wording
        first = re.split(r"\s*[-_|–—]\s*", page.soup.title.string.strip())[0]
        first = re.sub(r"(官方)?(手机)?(安卓版|app|APP|客户端)?(免费)?(下载|安装)?$", "", first).strip()
        name = first or None
    listing.name = fold(name).strip() if name else None
    # rating
    rating = None
    if "rating" in ld:
        try:
            rating = _scale(float(fold(str(ld["rating"][0]))), None, ld["rating"][1])
            notes.append(f"JSON-LD ratingValue {ld['rating'][0]}")
        except (TypeError, ValueError):
            rating = None
    if rating is None and "micro_ratingValue" in ld:
        try:
            rating = _scale(float(fold(ld["micro_ratingValue"])), None, ld.get("micro_bestRating"))
            notes.append(f"itemprop ratingValue {ld['micro_ratingValue']}")
        except ValueError:
            rating = None
    no_rating = bool(_NO_RATING.search(text))
    if rating is None and not no_rating:
        for rx in (_RATING_LABELLED, _RATING_BEFORE_LABEL):
            m = rx.search(text)
            if m:
                rating = _scale(float(m.group(1)), m.group(2))
                notes.append(f"'{m.group(0)}'")
                break
    # rating count
    count = None
    raw_count = ld.get("rating_count") or ld.get("micro_ratingCount") or ld.get("micro_reviewCount")
    if raw_count is not None:
        count = parse_count(str(raw_count))[0]
    if count is None:
        m = _RATING_COUNT.search(text)
        if m:
            count = parse_count(m.group("n") or m.group("m"))[0]
            notes.append(f"'{m.group(0)}'")
    if no_rating:
        rating, count = None, 0
        notes.append("'暂无评分'")
    elif count == 0:
        rating = None
    listing.rating, listing.rating_count = rating, count
    # downloads
    raw = ld.get("downloads")
    m = None if raw else _DOWNLOADS.search(text)
    if raw or m:
        raw = raw or (m.group("a") or m.group("b"))
        listing.downloads, listing.downloads_note = parse_count(raw)
        notes.append(f"downloads '{raw.strip()}' = {listing.downloads} ({listing.downloads_note})")
    # version, update date, developer, size
    m = _VERSION.search(text)
    listing.version = ld.get("version") or (m.group(1) if m else None)
    m = _UPDATED.search(text)
    if m:
        found = list(find_dates(m.group(1), context_date=crawl_date))
        listing.release_date = found[0] if found else None
    m = _DEVELOPER.search(text)
    listing.developer = ld.get("developer") or (m.group(1).strip() if m else None)
    m = _SIZE.search(text)
    size_text = ld.get("size") or (m.group(1) if m else None)
    if not size_text:   # a bare '86.3M' line next to the download count
        m = re.search(r"^(\d+(?:\.\d+)?\s*(?:GB|G|MB|M))$", text, re.M | re.I)
        size_text = m.group(1) if m else None
    listing.size_bytes = parse_size(str(size_text)) if size_text else None
    if _NOT_LISTED.search(text) and listing.rating is None and listing.version is None:
        return Listing(store=store, app_id=app_id, status=ABSENT, url=page.url,
                       evidence=f"the store says: '{_NOT_LISTED.search(text).group(0)}'")
    if not listing.name and listing.version is None and listing.rating_count is None and listing.downloads is None:
        # Not proof of absence (a new layout, a half-rendered page): the reading failed.
        return Listing(store=store, app_id=app_id, status=ERROR, url=page.url,
                       evidence="no app fields recognised on the page (no name, version, rating or downloads)")
    listing.evidence = "; ".join([f"{listing.name}", *notes, f"version {listing.version}",
                                  f"updated {listing.release_date}"])[:600]
    return listing


def android_search(page: Page) -> list[tuple[str, str]]:
    """(app name, detail URL) pairs of a store's search result page: links to app detail pages."""
    out, seen = [], set()
    for a in page.soup.find_all("a", href=True):
        href = a["href"]
        label = " ".join(a.get_text(" ", strip=True).split()) or a.get("title", "")
        if not label or not re.search(r"(appdetail|/app/|detail|apk|package|pkg)", href, re.I):
            continue
        url = page.absolute(href)
        if url not in seen:
            seen.add(url)
            out.append((fold(label), url))
    return out


# --------------------------------------------------------------------------------------------------
# city indicators
# --------------------------------------------------------------------------------------------------

APP_CODES = ("app_count", "app_rating_mean", "app_rating_count_total", "app_downloads_total",
             "app_downloads_per_10k", "app_days_since_update", "app_rating_trend_90d")


@dataclass
class CityApp:
    """One registry app of a city with its listings across stores (one per store source)."""

    name: str
    listings: list = field(default_factory=list)

    @property
    def found(self) -> Optional[bool]:
        """True when a store shows it, False when every store answered without it, None when unknown."""
        if any(l.status == OK for l in self.listings):
            return True
        if self.listings and all(l.status == ABSENT for l in self.listings):
            return False
        return None


def _unreadable_status(listings: Iterable[Listing]) -> Optional[str]:
    statuses = {l.status for l in listings}
    if BLOCKED in statuses:
        return BLOCKED
    if ERROR in statuses:
        return ERROR
    return None


def _fmt(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def city_findings(apps: list[CityApp], crawl_date: date, population: Optional[int]) -> dict[str, Finding]:
    """The crawl-date indicators of a city from its apps' listings (rules: sgi/data/indicators.yaml).

    A listing that could not be read makes every aggregate it could change blocked/error (never a
    smaller sum); app_count is still known when the unread app was found in another store."""
    listings = [l for a in apps for l in a.listings]
    out: dict[str, Finding] = {}

    def put(code, value, status, evidence, rule):
        out[code] = Finding(code, value if status in (OK, ABSENT) else None, status, evidence, f"apps.{rule}",
                            RULE_VERSION)

    unknown = [a for a in apps if a.found is None]
    found = [a for a in apps if a.found]
    if unknown:
        bad = _unreadable_status([l for a in unknown for l in a.listings]) or ERROR
        put("app_count", None, bad, "store answers missing for " + ", ".join(a.name for a in unknown), "count")
    else:
        put("app_count", len(found), OK,
            f"{len(found)} of {len(apps)} registry apps in a store: " + ", ".join(a.name for a in found)
            + ("; not in any store: " + ", ".join(a.name for a in apps if a.found is False)
               if any(a.found is False for a in apps) else ""), "count")
    bad = _unreadable_status(listings)
    live = [l for l in listings if l.status == OK]
    if bad:
        why = "store answers missing: " + ", ".join(f"{l.store} {l.app_id}" for l in listings if l.status in (BLOCKED, ERROR))
        for code, rule in (("app_rating_mean", "rating_mean"), ("app_rating_count_total", "rating_count"),
                           ("app_downloads_total", "downloads"), ("app_downloads_per_10k", "downloads_per_10k"),
                           ("app_days_since_update", "days_since_update")):
            put(code, None, bad, why, rule)
        return out
    rated = [l for l in live if l.rating is not None and (l.rating_count or 0) > 0]
    weight = sum(l.rating_count for l in rated)
    if weight:
        mean = round(sum(l.rating * l.rating_count for l in rated) / weight, 4)
        put("app_rating_mean", mean, OK, "; ".join(f"{l.store} {l.name}: {l.rating} x {l.rating_count}" for l in rated),
            "rating_mean")
    else:
        put("app_rating_mean", None, ABSENT, f"no ratings on {len(live)} store listings", "rating_mean")
    counted = [l for l in live if l.rating_count is not None]
    put("app_rating_count_total", sum(l.rating_count for l in counted), OK if live else ABSENT,
        " + ".join(f"{l.store} {l.rating_count}" for l in counted) or "no store listing", "rating_count")
    with_dl = [l for l in live if l.downloads is not None]
    if with_dl:
        total = sum(l.downloads for l in with_dl)
        notes = sorted({l.downloads_note for l in with_dl if l.downloads_note and l.downloads_note != EXACT})
        put("app_downloads_total", total, OK,
            " + ".join(f"{l.store} {l.downloads} ({l.downloads_note})" for l in with_dl)
            + (f"; sum is {'a lower bound' if LOWER_BOUND in notes else 'rounded'}" if notes else ""), "downloads")
        if population:
            put("app_downloads_per_10k", round(total / population * 10000, 4), OK,
                f"{total} downloads / {population} residents x 10,000", "downloads_per_10k")
        else:
            put("app_downloads_per_10k", None, NOT_APPLICABLE, "population unknown", "downloads_per_10k")
    else:
        put("app_downloads_total", None, ABSENT, f"no store shows a download count ({len(live)} listings)",
            "downloads")
        put("app_downloads_per_10k", None, ABSENT if population else NOT_APPLICABLE,
            "no download counts" if population else "population unknown", "downloads_per_10k")
    dated = [l for l in live if l.release_date]
    if dated:
        newest = max(dated, key=lambda l: l.release_date)
        put("app_days_since_update", (crawl_date - newest.release_date).days, OK,
            f"newest version {newest.version} of {newest.name} ({newest.store}) released {newest.release_date}",
            "days_since_update")
    else:
        put("app_days_since_update", None, ABSENT, "no release date on any listing", "days_since_update")
    return out


def weighted_rating(rows: Iterable[dict]) -> tuple[Optional[float], int]:
    rows = [r for r in rows if r.get("rating") is not None and (r.get("rating_count") or 0) > 0]
    weight = sum(r["rating_count"] for r in rows)
    if not weight:
        return None, 0
    return sum(r["rating"] * r["rating_count"] for r in rows) / weight, weight


def rating_trend(history: list[dict], current: list[dict], crawl_date: date,
                 window: int = TREND_WINDOW_DAYS) -> Finding:
    """Change of the rating-count-weighted mean rating over the last ``window`` days.

    ``history``: stored snapshot rows (store, app_id, crawl_date, status, rating, rating_count) of the
    city's listings before the crawl date; ``current``: this crawl's ok listings (same keys). The base is
    the earliest snapshot day within the window; both means are taken over the (store, app) pairs rated
    on both days, so an app added or removed in between does not move the trend."""
    start = crawl_date - timedelta(days=window)
    past = [r for r in history if r.get("status") == OK and start <= _as_date(r["crawl_date"]) < crawl_date]
    if not past:
        return Finding("app_rating_trend_90d", None, NOT_APPLICABLE,
                       f"no snapshot between {start} and {crawl_date - timedelta(days=1)}", "apps.rating_trend",
                       RULE_VERSION)
    base_day = min(_as_date(r["crawl_date"]) for r in past)
    base = {(r["store"], r["app_id"]): r for r in past if _as_date(r["crawl_date"]) == base_day}
    now = {(r["store"], r["app_id"]): r for r in current if r.get("status", OK) == OK}
    pairs = [k for k in base if k in now and base[k].get("rating") is not None and now[k].get("rating") is not None
             and (base[k].get("rating_count") or 0) > 0 and (now[k].get("rating_count") or 0) > 0]
    if not pairs:
        return Finding("app_rating_trend_90d", None, ABSENT,
                       f"no listing rated both on {base_day} and {crawl_date}", "apps.rating_trend", RULE_VERSION)
    before, _ = weighted_rating(base[k] for k in pairs)
    after, _ = weighted_rating(now[k] for k in pairs)
    delta = round(after - before, 4)
    return Finding("app_rating_trend_90d", delta, OK,
                   f"weighted rating {_fmt(before)} on {base_day} -> {_fmt(after)} on {crawl_date} over "
                   f"{len(pairs)} listings", "apps.rating_trend", RULE_VERSION)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
