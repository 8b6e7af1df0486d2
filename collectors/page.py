"""The input of every page rule: what was fetched, independent of how (Scrapy, Playwright, a file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping
from urllib.parse import urljoin, urlsplit

import warnings

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

# Sitemaps and XML list fragments are read with the same lenient HTML parser on purpose.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

from collectors.encoding import decode_html


@dataclass(frozen=True)
class Page:
    """A fetched page: URL (final, after redirects), raw body bytes and response headers.

    ``headers`` keys are matched case-insensitively. Decoding and parsing are lazy and cached.
    """

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 200
    rendered: bool = False  # True when a real browser produced the body
    # True when the body is an archived copy of an earlier answer that was read as ok (an incremental
    # crawl's 304 or not-yet-due page): it was classified then, so it is not classified again.
    from_archive: bool = False

    def header(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers.items():
            if key.lower() == name:
                return value
        return default

    @cached_property
    def _decoded(self) -> tuple[str, str]:
        return decode_html(self.body, self.header("content-type"))

    @property
    def text(self) -> str:
        return self._decoded[0]

    @property
    def encoding(self) -> str:
        return self._decoded[1]

    @cached_property
    def soup(self) -> BeautifulSoup:
        # lxml is lenient with broken legacy markup and lower-cases upper-case tags.
        return BeautifulSoup(self.text, "lxml")

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()

    @cached_property
    def _base_href(self) -> str | None:
        return base_href(self)

    def absolute(self, href: str) -> str:
        base = self._base_href
        return urljoin(urljoin(self.url, base) if base else self.url, href.strip())

    @classmethod
    def from_file(cls, path: str, url: str, content_type: str | None = None) -> "Page":
        with open(path, "rb") as fh:
            body = fh.read()
        headers = {"Content-Type": content_type} if content_type else {}
        return cls(url=url, body=body, headers=headers)


def base_href(page: Page) -> str | None:
    """The href of the page's <base> element, if any (links resolve against it)."""
    base = page.soup.find("base", href=True)
    return base["href"] if base else None
