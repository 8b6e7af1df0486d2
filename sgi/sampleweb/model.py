"""The sample web's data model: sites made of resources, plus the ground truth a correct crawl must find.

Generators (one module per kind of site: portals, open-data platforms, boards, ...) build
:class:`Site` objects; :mod:`sgi.sampleweb.server` serves them on loopback by Host header.
Host names end in ``.test`` (RFC 6761), so nothing here can ever name a real host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Optional

# A body is bytes, or a function of the request (method, path with query, headers, request body) -> bytes,
# for pages that depend on the request (search results, POST JSON APIs, pages that change between crawls).
BodyFn = Callable[["RequestInfo"], bytes]


@dataclass(frozen=True)
class RequestInfo:
    method: str
    path: str            # path with query string, as sent
    headers: dict        # lower-cased names
    body: bytes = b""
    cookies: dict = field(default_factory=dict)


@dataclass
class Fault:
    """Injected misbehaviour for one resource (or a whole site)."""

    status: Optional[int] = None          # answer with this status instead (412, 403, 500, 503, 429 ...)
    delay_s: float = 0.0                  # sleep before answering (slow site, timeouts)
    truncate_to: Optional[int] = None     # send only this many body bytes, then close (Content-Length stays full)
    retry_after: Optional[int] = None     # Retry-After header with 429/503
    times: Optional[int] = None           # apply only to the first N requests, then behave (None = always)


@dataclass
class Resource:
    body: bytes | BodyFn
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    last_modified: Optional[datetime] = None   # enables Last-Modified / If-Modified-Since
    etag: bool = True                           # ETag from the body digest; If-None-Match answered with 304
    fault: Optional[Fault] = None
    redirect_to: Optional[str] = None           # answer 302 to this path or absolute URL
    needs_browser: bool = False                 # body is an empty shell a browser fills by running its scripts


@dataclass
class Site:
    host: str                                   # e.g. 'www.sz.gov.cn.test'
    city_code: str                              # GB/T 2260 code of the city it belongs to
    kind: str                                   # portal | opendata | mailbox | policy | app
    resources: dict[str, Resource] = field(default_factory=dict)   # key: path with query, e.g. '/index.html'
    https: bool = False                         # served on the TLS port
    hsts: bool = False                          # send Strict-Transport-Security on HTTPS answers
    robots_txt: Optional[str] = None            # None: /robots.txt answers 404
    js_challenge: bool = False                  # 412 + cookie-setting script to any client without the cookie
    gzip: bool = True                           # gzip bodies when the client accepts it
    fault: Optional[Fault] = None               # site-wide fault (down for a run, 403 everything ...)
    template: str = ""                          # template family, for documentation and debugging
    notes: str = ""


@dataclass(frozen=True)
class TruthRow:
    city_code: str
    indicator: str
    period: str
    value: object                               # bool / number / text; None with status other than ok/absent
    status: str = "ok"                          # ok / absent / blocked / error / not_applicable


@dataclass(frozen=True)
class SampleCity:
    code: str
    name: str
    population: Optional[int] = None


@dataclass
class SampleWeb:
    reference_date: date                        # the 'today' of the sample web: crawls use it as the crawl date
    seed: int
    cities: list[SampleCity] = field(default_factory=list)
    sites: dict[str, Site] = field(default_factory=dict)
    truth: list[TruthRow] = field(default_factory=list)
    # Source entries (same shape as the source file) for crawling the sample web: start URLs are
    # written with the placeholders {http} / {https} for the server's base 'http://host:port' parts.
    sources: list[dict] = field(default_factory=list)

    def add_site(self, site: Site) -> Site:
        if site.host in self.sites:
            raise ValueError(f"duplicate sample host {site.host}")
        self.sites[site.host] = site
        return site
