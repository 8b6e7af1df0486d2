"""The input of every page rule: what was fetched, independent of how (Scrapy, Playwright, a file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping
from urllib.parse import urljoin, urlsplit

import re
import warnings

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from lxml import etree

# Sitemaps and XML list fragments are read with the same lenient HTML parser on purpose.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

from collectors.encoding import decode_html

# The parse budget of one page. Rules read the parsed tree; past these limits a page is not read at
# all (its indicators are 'error' with the reason), so no page can hold the crawl for long. Browsers
# nest at most 512 levels (Blink's parser), and a large real home page has some 10,000 elements.
MAX_PARSE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 5_000
MAX_ELEMENTS = 400_000

# Bodies that are files, not HTML documents, by their first bytes (leading whitespace skipped).
_FILE_SIGNATURES = ((b"%PDF-", "PDF"), (b"PK\x03\x04", "ZIP archive (docx/xlsx/...)"), (b"\x89PNG", "PNG image"),
                    (b"GIF8", "GIF image"), (b"\xff\xd8\xff", "JPEG image"), (b"\x1f\x8b", "gzip data"),
                    (b"\xd0\xcf\x11\xe0", "MS Office file (doc/xls)"), (b"Rar!", "RAR archive"),
                    (b"7z\xbc\xaf", "7z archive"))
_BINARY_SAMPLE_CHARS = 65_536
_BINARY_SHARE = 0.05   # control or undecodable characters in the sample; text and markup have ~none
_BINARY_CHAR = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


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
    def not_a_document(self) -> str | None:
        """Why the body is not an HTML document (empty, a PDF or other file, binary bytes), or None.

        Such a body proves nothing absent, whatever its Content-Type says. A real empty page
        (``<html><body></body></html>``) is a document."""
        return not_a_document_reason(self.body, self.text)

    @cached_property
    def _parsed(self) -> tuple[BeautifulSoup, str | None]:
        if self.not_a_document:
            return BeautifulSoup("", "lxml"), None
        if len(self.body) > MAX_PARSE_BYTES:
            return BeautifulSoup("", "lxml"), f"page too large: {len(self.body):,} bytes > budget {MAX_PARSE_BYTES:,}"
        problem = over_budget(self.text)
        if problem:
            return BeautifulSoup("", "lxml"), problem
        # lxml is lenient with broken legacy markup and lower-cases upper-case tags.
        return BeautifulSoup(self.text, "lxml"), None

    @property
    def soup(self) -> BeautifulSoup:
        """The parsed document; an empty tree when the body is not an HTML document or is over the
        parse budget (see :attr:`unreadable`), so no rule spends long on it."""
        return self._parsed[0]

    @property
    def unreadable(self) -> str | None:
        """Why no rule can read this page ('not an HTML document: PDF', 'page too deep: ...'), or None.
        Where a page must be a document (a portal's home page) such a page is an error, never a page
        without features."""
        if self.not_a_document:
            return f"not an HTML document: {self.not_a_document}"
        return self._parsed[1]

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


def not_a_document_reason(body: bytes, text: str) -> str | None:
    """'0 bytes' / 'PDF' / 'binary, ...' for a body that is not an HTML document; None for one."""
    head = body[:1024].lstrip()
    if not head and not body.strip():
        return f"{len(body)} bytes" if not body else f"{len(body)} bytes of whitespace"
    for magic, what in _FILE_SIGNATURES:
        if head.startswith(magic):
            return what
    sample = text[:_BINARY_SAMPLE_CHARS]
    odd = len(_BINARY_CHAR.findall(sample))
    if odd > _BINARY_SHARE * len(sample):
        return f"binary: {odd / len(sample):.0%} control or undecodable characters in the first {len(sample):,}"
    return None


class _Shape:
    """An lxml parser target that only counts: elements and the deepest nesting."""

    def __init__(self):
        self.depth = self.deepest = self.count = 0

    def start(self, tag, attrib):
        self.count += 1
        self.depth += 1
        if self.depth > self.deepest:
            self.deepest = self.depth
        if self.count > MAX_ELEMENTS:
            raise _TooLarge

    def end(self, tag):
        self.depth -= 1

    def close(self):
        return self


class _TooLarge(Exception):
    pass


def over_budget(text: str) -> str | None:
    """'page too deep: ...' / 'page too large: ...' when the parsed page would be past the parse
    budget, else None. Measured with the parser BeautifulSoup's lxml builder drives, reporting to a
    target that builds nothing (milliseconds for an ordinary page): the tree is built only within the
    budget (building it is quadratic on some deep shapes, e.g. nested lists with text after links)."""
    shape = _Shape()
    parser = etree.HTMLParser(target=shape, recover=True)     # as bs4's LXMLTreeBuilder, without a tree
    try:
        parser.feed(text)
        parser.close()
    except _TooLarge:
        return f"page too large: more than {MAX_ELEMENTS:,} elements (budget {MAX_ELEMENTS:,})"
    except (etree.ParserError, ValueError):
        return None            # as bs4 would find it: let the tree builder have its say
    if shape.deepest > MAX_DEPTH:
        return f"page too deep: {shape.deepest:,} levels of elements > budget {MAX_DEPTH:,}"
    return None


def base_href(page: Page) -> str | None:
    """The href of the page's <base> element, if any (links resolve against it)."""
    base = page.soup.find("base", href=True)
    return base["href"] if base else None
