"""Real Chromium for pages that need JavaScript (via scrapy-playwright), configured once here.

Playwright's own Chromium build is used when installed; otherwise SGI_CHROMIUM or Debian's
/usr/bin/chromium. Images, media and fonts are never fetched by the browser. On the sample web the
browser can resolve only *.test hosts (to loopback): every other name fails to resolve.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from scrapy_playwright.page import PageMethod

ABORTED_RESOURCE_TYPES = {"image", "media", "font"}
SAMPLE_WEB_ONLY = False   # set by the spiders when SGI_SAMPLE_WEB is on

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_executable(explicit: str | None = None) -> str | None:
    """Path of the Chromium to launch, or None to let Playwright use its own download."""
    if explicit or os.environ.get("SGI_CHROMIUM"):
        return explicit or os.environ["SGI_CHROMIUM"]
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    if any(cache.glob("chromium-*/chrome-linux*/chrome")):
        return None   # Playwright's own build is installed
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def launch_options(sample_web: bool, explicit: str | None = None) -> dict:
    args = list(CHROMIUM_ARGS)
    if sample_web:
        args.append("--host-resolver-rules=MAP *.test 127.0.0.1, EXCLUDE localhost, MAP * ~NOTFOUND")
        args.append("--ignore-certificate-errors")
    options = {"headless": True, "args": args}
    exe = chromium_executable(explicit)
    if exe:
        options["executable_path"] = exe
    return options


def should_abort_request(request) -> bool:
    if request.resource_type in ABORTED_RESOURCE_TYPES:
        return True
    if SAMPLE_WEB_ONLY:
        host = urlsplit(request.url).hostname or ""
        return not (host.endswith(".test") or host in ("localhost", "127.0.0.1"))
    return False


CONTENT_READY_JS = ("() => document.body && document.body.innerText.replace(/\\s+/g, '').length > 200"
                    " && document.querySelectorAll('a[href]').length > 3")


async def wait_for_content(page, timeout_ms: int = 10000) -> bool:
    """Wait until the document has real text and links; never fails the request (a page that stays a
    shell or a challenge is judged by the spider from its content)."""
    try:
        await page.wait_for_function(CONTENT_READY_JS, timeout=timeout_ms)
        return True
    except Exception:
        return False


def render_meta(wait: bool = True, include_page: bool = False) -> dict:
    """Request meta that makes scrapy-playwright render a page in Chromium.

    The page is read once the document has real text (challenge pages reload themselves after
    setting a cookie; single-page apps fill their shell by XHR), or after the timeout.
    """
    methods = [PageMethod("wait_for_load_state", "load")]
    if wait:
        methods.append(PageMethod(wait_for_content))
    meta = {"playwright": True, "playwright_page_methods": methods, "playwright_context": "sgi"}
    if include_page:
        meta["playwright_include_page"] = True   # the callback must close it (see take_cookies)
    return meta


async def take_cookies(meta: dict) -> dict[str, str]:
    """Cookies the browser holds after a rendered page (e.g. a passed JS challenge), and close the page.

    Plain requests to the same site then carry them, as a person's browser would, instead of
    rendering every page.
    """
    page = meta.pop("playwright_page", None)
    if page is None:
        return {}
    try:
        return {c["name"]: c["value"] for c in await page.context.cookies()}
    except Exception:
        return {}
    finally:
        try:
            await page.close()
        except Exception:
            pass
