"""Classifying a fetch before any rule reads it: only an 'ok' page can prove a feature absent.

A blocked page (HTTP 412 / 403 / 429 from anti-bot gateways, captcha or cookie-challenge
interstitials served with 200) or a failed one (5xx, truncated, timeout) yields status blocked / error
for every indicator the page would have informed, never 'absent'.
"""

from __future__ import annotations

import re

from collectors.page import Page

OK, BLOCKED, ERROR, NOT_FOUND, NOT_MODIFIED = "ok", "blocked", "error", "not_found", "not_modified"

BLOCKING_STATUSES = {401, 403, 412, 418, 429, 451, 521}
# Signatures of challenge / captcha interstitials seen on Chinese government sites' gateways.
_CHALLENGE_PATTERNS = [
    re.compile(p, re.I) for p in (
        r"document\.cookie\s*=.{0,200}(location\.(reload|href|replace)|window\.location)",
        r"\$_ts\s*=|\$_ts\.",                      # Ruishu (瑞数) dynamic-token pages
        r"__jsl_clearance|_waf_|waf_cookie|yunsuo_session|safedog|anquanbao",
        r"(安全验证|人机验证|滑动验证|请输入验证码|访问验证|验证码.{0,20}(刷新|输入))",
        r"(captcha|geetest|slider-verify|verify\s*you\s*are\s*human|访问过于频繁|请求过于频繁)",
    )
]


def looks_like_challenge(page: Page) -> bool:
    """True for anti-bot challenge or captcha pages, whatever status they came with."""
    if page.status in (412, 521):
        return True
    text = page.text[:20000]
    if not any(p.search(text) for p in _CHALLENGE_PATTERNS):
        return False
    # A real page that merely mentions a captcha (a login form) has plenty of visible text.
    visible = visible_text_length(page)
    return visible < 400 or page.status in BLOCKING_STATUSES


def visible_text_length(page: Page) -> int:
    soup = page.soup
    body = soup.body or soup
    texts = [t for t in body.find_all(string=True) if t.parent.name not in ("script", "style", "noscript", "template")]
    return len("".join("".join(texts).split()))


def is_empty_shell(page: Page, min_chars: int = 200) -> bool:
    """A page whose content only exists after scripts run (single-page apps): little text, scripts present."""
    if page.status != 200:
        return False
    return visible_text_length(page) < min_chars and bool(page.soup.find("script"))


def classify_fetch(page: Page) -> str:
    """ok / blocked / error / not_found / not_modified for a response."""
    status = page.status
    if status == 304:
        return NOT_MODIFIED
    if looks_like_challenge(page) or status in BLOCKING_STATUSES:
        return BLOCKED
    if status in (404, 410):
        return NOT_FOUND
    if status >= 400 or status < 200:
        return ERROR
    return OK
