"""Classifying a fetch before any rule reads it: only an 'ok' page can prove a feature absent.

A blocked page (HTTP 412 / 403 / 429 from anti-bot gateways, captcha or cookie-challenge
interstitials served with 200) or a failed one (5xx, truncated, timeout) yields status blocked / error
for every indicator the page would have informed, never 'absent'.
"""

from __future__ import annotations

import json

from collectors.page import Page

OK, BLOCKED, ERROR, NOT_FOUND, NOT_MODIFIED = "ok", "blocked", "error", "not_found", "not_modified"

BLOCKING_STATUSES = {401, 403, 412, 418, 429, 451, 521}


def looks_like_challenge(page: Page) -> bool:
    """True for anti-bot challenge or captcha pages, whatever status they came with.

    The signatures (statuses, script patterns, interstitial wording) are data in the portal lexicon.
    """
    from collectors.portal import challenge_reason

    if is_json(page):
        return False   # a challenge is a document a browser runs; a JSON answer is the data itself
    return challenge_reason(page, include_shell=False) is not None


def is_json(page: Page) -> bool:
    """The body is a JSON document (an API answer), judged by its content, not its Content-Type."""
    head = page.body[:64].lstrip()
    if not head[:1] in (b"{", b"["):
        return False
    try:
        json.loads(page.body)
    except (ValueError, RecursionError):   # not UTF-8 (read the slow way), or nested past Python's limit
        return False
    return True


def is_empty_shell(page: Page) -> bool:
    """A page whose content only exists after scripts run (single-page apps): little text, scripts present."""
    from collectors.portal import is_empty_shell as shell

    return page.status == 200 and shell(page)


def classify_fetch(page: Page) -> str:
    """ok / blocked / error / not_found / not_modified for a response."""
    status = page.status
    if status == 304:
        return NOT_MODIFIED
    if page.from_archive:
        return OK
    json_answer = is_json(page)
    if not json_answer and page.unreadable and not page.not_a_document:
        # Past the parse budget (collectors/page.py): nothing can be read from it, not even a challenge.
        return BLOCKED if status in BLOCKING_STATUSES else NOT_FOUND if status in (404, 410) else ERROR
    if (not json_answer and looks_like_challenge(page)) or status in BLOCKING_STATUSES:
        return BLOCKED
    if status in (404, 410):
        return NOT_FOUND
    if status >= 400 or status < 200:
        return ERROR
    return OK
