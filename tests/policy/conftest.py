"""Shared fixtures: the policy part of the sample web, built without a server (pages read from the model)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from collectors.page import Page


@pytest.fixture(scope="session")
def policy_web():
    from sgi.sampleweb import policy as gen
    from sgi.sampleweb.generate import DEFAULT_SEED, REFERENCE_DATE, build_sample_web

    web = build_sample_web(DEFAULT_SEED, REFERENCE_DATE)
    return web, dict(gen.LABELS)


def served_page(web, url: str) -> Page:
    """The page the sample server would send for a URL (without port), read from the model."""
    from sgi.sampleweb.model import RequestInfo

    host = url.split("/")[2].split(":")[0]
    path = "/" + url.split("/", 3)[3]
    res = web.sites[host].resources[path]
    body = res.body(RequestInfo("GET", path, {})) if callable(res.body) else res.body
    return Page(url, body, {"Content-Type": res.content_type})
