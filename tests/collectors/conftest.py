"""Shared helpers for the collector tests: the saved portal pages and their expected values."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.page import Page
from sgi.yamlconf import load_yaml

PORTAL_PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "portal"
PORTAL_META = load_yaml(PORTAL_PAGES / "pages.yaml")
CRAWL_DATE = PORTAL_META["crawl_date"]


def load_portal_page(name: str) -> Page:
    """A saved page as the spider would hand it over (URL, headers and status from pages.yaml)."""
    meta = PORTAL_META["pages"][name]
    body = (PORTAL_PAGES / name).read_bytes()
    return Page(url=meta["url"], body=body, headers=dict(meta.get("headers") or {}), status=meta.get("status", 200))


def html_page(html: str, url: str = "https://www.test.gov.cn/", status: int = 200, headers=None) -> Page:
    """A page from an inline HTML snippet (for single-rule edge cases)."""
    return Page(url=url, body=html.encode("utf-8"), headers=headers or {}, status=status)


@pytest.fixture
def crawl_date():
    return CRAWL_DATE
