"""Changing the sample web between two crawls, for incremental-crawl tests and benchmarks.

Nothing here runs unless a test or benchmark calls it on a running sample web, so the generated web and
its ground truth stay as they are. A changed page gets a new body (so a new ETag) and a Last-Modified of
the moment it changed, as a real site's would.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Callable, Iterable

from sgi.sampleweb.model import Resource, SampleWeb

CHANGE_MARK = "sgi-sample-change"


def change_page(web: SampleWeb, host: str, path: str, transform: Callable[[bytes], bytes],
                when: datetime | None = None) -> Resource:
    """Replace one static page's body with transform(body); returns the resource."""
    resource = web.sites[host].resources[path]
    if callable(resource.body):
        raise ValueError(f"{host}{path} is generated per request; change its generator instead")
    resource.body = transform(resource.body)
    resource.last_modified = when or datetime.now(timezone.utc)
    return resource


def append_paragraph(text: str) -> Callable[[bytes], bytes]:
    """A visible change that reads differently but informs no indicator: a notice paragraph."""
    marker = f'<p class="{CHANGE_MARK}">{text}</p>'.encode()

    def transform(body: bytes) -> bytes:
        lower = body.lower()
        at = lower.rfind(b"</body>")
        return body[:at] + marker + body[at:] if at >= 0 else body + marker
    return transform


def changeable_pages(web: SampleWeb, among: Iterable[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Static HTML pages that answer 200 (no redirects, no generated bodies), sorted."""
    wanted = set(among) if among is not None else None
    pages = []
    for host, site in web.sites.items():
        for path, res in site.resources.items():
            if (res.status == 200 and not res.redirect_to and not callable(res.body) and res.fault is None
                    and res.content_type.startswith("text/html") and (wanted is None or (host, path) in wanted)):
                pages.append((host, path))
    return sorted(pages)


def mutate_fraction(web: SampleWeb, fraction: float, seed: int,
                    among: Iterable[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Change a seeded random `fraction` of the changeable pages (at least one); returns them."""
    pages = changeable_pages(web, among)
    if not pages:
        return []
    rng = random.Random(seed)
    chosen = sorted(rng.sample(pages, max(1, round(len(pages) * fraction))))
    for n, (host, path) in enumerate(chosen):
        change_page(web, host, path, append_paragraph(f"更新通知 {seed}-{n}"))
    return chosen
