"""Real Chromium for pages that need JavaScript (via scrapy-playwright), configured once here.

Playwright's own Chromium build is used when installed; otherwise SGI_CHROMIUM or Debian's
/usr/bin/chromium. Images, media and fonts are never fetched by the browser. On the sample web the
browser can resolve only *.test hosts (to loopback): every other name fails to resolve. In real mode it
reaches the web only through the guard proxy (spiders/guardproxy.py: public addresses only).

Memory stays bounded by four things here: few Chromium processes (CHROMIUM_ARGS: two renderers for all
sites, the GPU and network service inside the browser process, no omnibox WebUI renderer); one browser
per process (scrapy-playwright would start one handler, hence one Playwright driver and one Chromium, per
URL scheme and crawler: :class:`SharedPlaywrightHandler` shares the handler between http and https and
:class:`SharedBrowserProvider` the driver and browser between the crawlers of one crawl); at most
PLAYWRIGHT_MAX_CONTEXTS contexts of PLAYWRIGHT_MAX_PAGES_PER_CONTEXT pages; and each context retired
after SGI_BROWSER_RECYCLE_PAGES renders and closed once its last page is done
(:class:`BrowserContextRecycler`), which frees what a long-lived context accumulates (cache, cookies,
service workers, leaked documents). Renders go through Scrapy's download slots like any request, so
CONCURRENT_REQUESTS_PER_DOMAIN and the per-host delays apply to them (the subresources a page loads
itself are not Scrapy requests; images, media and fonts are aborted).

Playwright runs on its own thread's event loop (settings: _PLAYWRIGHT_THREADED_LOOP), so code on Scrapy's
loop that touches a Playwright object goes through :func:`in_browser_loop` / :func:`schedule_in_browser_loop`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.http import Headers
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod

from spiders import compat
from spiders.addressguard import AddressGuard

logger = logging.getLogger(__name__)

ABORTED_RESOURCE_TYPES = {"image", "media", "font"}
SAMPLE_WEB_ONLY = False   # set by the spiders when SGI_SAMPLE_WEB is on
REAL_MODE_GUARD = AddressGuard()   # public addresses only (spiders/addressguard.py)

# Chromium keeps only the last --disable-features and the last --enable-features switch, and Playwright
# passes its own lists before our arguments: ours repeat Playwright's (1.65, chromiumSwitches.ts) so that
# adding a feature does not silently drop them. tests/test_browser_args.py compares them with the
# installed driver's lists.
PLAYWRIGHT_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
    "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin",
    "OptimizationHints", "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
    "msForceBrowserSignIn", "msEdgeUpdateLaunchServicesPreferredVersion"]
PLAYWRIGHT_ENABLED_FEATURES = ["CDPScreenshotNewSurface", "SkipListAccountsWithoutGaiaCookies"]

# Memory (issue 10, bench/bench_browser.py: peak RSS summed over the crawl process, the driver and every
# Chromium process). Each Chromium process holds ~45-110 MB of RSS before it renders anything (Chromium's
# code and start-up state, counted again in every process), so the flags below cut the number of processes.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage",
                 # WebRTC sends UDP (STUN) wherever a page's script says, past the request routing that
                 # keeps a real crawl off non-public addresses (addressguard.py): no UDP without a proxy.
                 "--webrtc-ip-handling-policy=disable_non_proxied_udp",
                 # Chromium starts a renderer process per site; a crawler rendering many sites at once
                 # would hold dozens. Two renderers serve all sites (one per core); the limit is soft:
                 # renderers are never shared between browser contexts, so while a recycled context
                 # drains, the new one gets a third. Site isolation would still give every site its own
                 # process past the limit (5-6 renderers at the peak with a limit of 2 or 4); turning it
                 # off costs nothing here: the crawler logs in nowhere and its contexts are thrown away,
                 # so one site's renderer has nothing of another's to read.
                 "--renderer-process-limit=2", "--disable-site-isolation-trials",
                 # The GPU process (software compositing only, with --disable-gpu) and the network
                 # service run as threads of the browser process instead of processes of their own.
                 "--in-process-gpu",
                 "--enable-features=" + ",".join([*PLAYWRIGHT_ENABLED_FEATURES, "NetworkServiceInProcess2"]),
                 # Headless Chromium (156) still gives each context's window an omnibox popup built as a
                 # WebUI page, in a renderer of its own (~150 MB per context) that never shows anything.
                 "--disable-features=" + ",".join([*PLAYWRIGHT_DISABLED_FEATURES,
                                                   "WebUIOmniboxPopup", "WebUIOmniboxAimPopup"])]


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
    else:   # real mode: every connection through the guard proxy, which connects to public addresses only
        from spiders.guardproxy import chromium_proxy_args, shared_proxy

        args += chromium_proxy_args(shared_proxy())
    options = {"headless": True, "args": args}
    exe = chromium_executable(explicit)
    if exe:
        options["executable_path"] = exe
    return options


async def should_abort_request(request) -> bool:
    if request.resource_type in ABORTED_RESOURCE_TYPES:
        return True
    if SAMPLE_WEB_ONLY:
        host = urlsplit(request.url).hostname or ""
        return not (host.endswith(".test") or host in ("localhost", "127.0.0.1"))
    reason = await address_refusal(request.url)
    if reason:
        logger.warning("browser: %s (%s)", reason, request.url[:200])
    return reason is not None


async def address_refusal(url: str) -> str | None:
    """Real mode: why Chromium must not load ``url`` (its host resolves to a non-public address), or None.
    Chromium resolves names itself, so the name is resolved here just before (addressguard.py); the same
    check judges every subresource, redirect and script navigation of a rendered page."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        port = None
    return await asyncio.get_running_loop().run_in_executor(None, REAL_MODE_GUARD.resolve_refusal,
                                                            parts.hostname, port)


async def guard_web_sockets(page) -> None:
    """Real mode: a rendered page's WebSockets (which Playwright's request routing does not see) connect
    only when their host resolves to a public address; others are closed before connecting."""
    if SAMPLE_WEB_ONLY or getattr(page, "_sgi_ws_guarded", False):
        return
    page._sgi_ws_guarded = True

    async def route(ws) -> None:
        reason = await address_refusal(ws.url)
        if reason:
            logger.warning("browser: %s (%s)", reason, ws.url[:200])
            await ws.close(code=1008, reason="refused: not a public address")
        else:
            ws.connect_to_server()

    await page.route_web_socket("**", route)


# Ready when the document has real text and links, or has no script at all (nothing will change it: a
# plain error page or a small static page is read at once instead of after the timeout).
CONTENT_READY_JS = ("() => !!document.body && ((document.body.innerText.replace(/\\s+/g, '').length > 200"
                    " && document.querySelectorAll('a[href]').length > 3) || document.scripts.length === 0)")


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


def _browser_loop():
    """The event loop Playwright runs on: its own thread's (PLAYWRIGHT_THREADED_LOOP), or None."""
    return compat.playwright_thread_loop()


async def in_browser_loop(coro):
    """Await a coroutine that uses Playwright objects from whichever loop the caller runs on: Playwright's
    objects belong to the loop of the thread they were made on."""
    loop = _browser_loop()
    if loop is None or asyncio.get_running_loop() is loop:
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def schedule_in_browser_loop(coro) -> None:
    """Fire-and-forget version of in_browser_loop, callable from either thread."""
    loop = _browser_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or running is loop:
        asyncio.ensure_future(coro)
    else:
        asyncio.run_coroutine_threadsafe(coro, loop)


async def take_cookies(meta: dict) -> dict[str, str]:
    """Cookies the browser holds after a rendered page (e.g. a passed JS challenge), and close the page.

    Plain requests to the same site then carry them, as a person's browser would, instead of
    rendering every page.
    """
    page = meta.pop("playwright_page", None)
    if page is None:
        return {}
    return await in_browser_loop(_cookies_and_close(page))


async def _cookies_and_close(page) -> dict[str, str]:
    try:
        return {c["name"]: c["value"] for c in await page.context.cookies()}
    except Exception:
        return {}
    finally:
        try:
            await page.close()
        except Exception:
            pass


# --- one browser per process, contexts recycled -----------------------------------------------------
BASE_CONTEXT = "sgi"


class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, one instance per crawler for both http and https (Scrapy builds a
    handler per scheme, and each would start its own Playwright driver and Chromium)."""

    @classmethod
    def from_crawler(cls, crawler):
        shared = getattr(crawler, "sgi_playwright_handler", None)
        if shared is None:
            shared = cls(crawler)
            shared._sgi_closed = False
            crawler.sgi_playwright_handler = shared
        return shared

    async def _launch(self) -> None:
        await super()._launch()
        if getattr(getattr(self.crawler, "spider", None), "renders_pages", False):
            asyncio.ensure_future(self._start_browser_early())

    async def _start_browser_early(self) -> None:
        try:
            await self._maybe_launch_browser()
        except Exception as exc:   # the first render tries again (and reports its own failure)
            logger.warning("browser did not start at engine start: %r", exc)

    async def _download_request(self, request, spider=None):
        # The context is chosen when the render starts, not when the request entered the downloader:
        # requests queued behind a host's delay must not hold a later context's place.
        recycler = getattr(self.crawler, "sgi_browser_recycler", None)
        if recycler is not None:
            recycler.assign(request)
        return await super()._download_request(request, spider)

    async def _download_request_with_page(self, request, page, spider):
        # scrapy-playwright gives the rendered document the status and headers of the answer page.goto()
        # got. A page that loads another document itself (a JavaScript challenge setting its cookie and
        # reloading: 412, then 200) would be recorded with the first answer's: the rendered body is the
        # last main-frame document's, so its status and headers are those of that document's answer.
        await guard_web_sockets(page)
        documents = []

        def on_response(answer) -> None:
            try:
                if answer.request.is_navigation_request() and answer.frame == page.main_frame:
                    documents.append(answer)
            except Exception:   # a service worker's answer has no frame: not a document of the page
                pass

        page.on("response", on_response)
        response = await super()._download_request_with_page(request, page, spider)
        if len(documents) > 1 and "playwright" in response.flags:
            last = documents[-1]
            try:
                raw = await last.all_headers()
            except Exception:   # the page is closed by now: the headers Playwright already holds
                raw = last.headers
            headers = Headers(raw)
            headers.pop("Content-Encoding", None)
            response = response.replace(status=last.status, headers=headers)
        return response

    async def close(self) -> None:
        if self._sgi_closed:   # registered for two schemes: closed twice
            return
        self._sgi_closed = True
        await super().close()

    async def _close(self) -> None:
        if not isinstance(getattr(self, "browser_provider", None), SharedBrowserProvider):
            return await super()._close()
        # The browser is shared with the process's other crawlers: close only this crawler's contexts
        # and hand the browser back (the provider closes it when its last user is done).
        contexts = [wrapper.context for wrapper in self.context_wrappers.values()]
        self.context_wrappers.clear()
        await asyncio.gather(*(_close_quietly(c) for c in contexts))
        await self.browser_provider.close()


class _Shared:
    def __init__(self):
        self.lock = asyncio.Lock()
        self.provider = None      # the Playwright driver (PlaywrightBrowserProvider), started at first use
        self.browser = None
        self.users = 0


class SharedBrowserProvider:
    """scrapy-playwright browser provider (PLAYWRIGHT_BROWSER_PROVIDER): one Playwright driver and one
    Chromium per process, shared by its crawlers (`sgi crawl` runs five spiders on one reactor; each
    would start its own driver at engine start and its own Chromium at its first render). Nothing
    starts until a crawler renders; the browser closes when the last crawler that used it closes."""

    _pool: dict[str, _Shared] = {}

    def __init__(self, config) -> None:
        self.config = config
        self._shared: _Shared | None = None

    def _key(self) -> str:
        import json

        c = self.config
        return json.dumps([c.browser_type_name, c.launch_options, c.cdp_url, c.connect_url], sort_keys=True,
                          default=str)

    async def start(self) -> None:
        """Nothing to do before the first render."""

    async def _entry(self) -> _Shared:
        from scrapy_playwright.provider import PlaywrightBrowserProvider

        if self._shared is None:
            self._shared = self._pool.setdefault(self._key(), _Shared())
            self._shared.users += 1
        shared = self._shared
        if shared.provider is None:
            provider = PlaywrightBrowserProvider(self.config)
            await provider.start()
            shared.provider = provider
        return shared

    async def launch_browser(self):
        async with self._pool.setdefault(self._key(), _Shared()).lock:
            shared = await self._entry()
            if shared.browser is None or not shared.browser.is_connected():
                shared.browser = await shared.provider.launch_browser()
            return shared.browser

    async def launch_persistent_context(self, context_kwargs: dict):
        shared = await self._entry()
        return await shared.provider.launch_persistent_context(context_kwargs)

    async def close(self) -> None:
        shared, self._shared = self._shared, None
        if shared is None:
            return
        shared.users -= 1
        if shared.users > 0:
            return
        self._pool.pop(self._key(), None)
        browser, provider = shared.browser, shared.provider
        shared.browser = shared.provider = None
        if browser is not None:
            await _close_quietly(browser)
        if provider is not None:
            await provider.close()


def context_name(generation: int) -> str:
    """Generation 0 is the context render_meta() names (and PLAYWRIGHT_CONTEXTS may start)."""
    return BASE_CONTEXT if generation == 0 else f"{BASE_CONTEXT}-{generation}"


def is_recycled_context(name: str) -> bool:
    prefix, _, number = name.partition("-")
    return prefix == BASE_CONTEXT and (not number or number.isdigit())


class BrowserContextRecycler:
    """Downloader middleware (with SharedPlaywrightHandler, which calls assign() as each render starts):
    renders asked for in context 'sgi' go to the current generation's context;
    after SGI_BROWSER_RECYCLE_PAGES renders the generation takes no new pages, and its context is
    closed as soon as its last page is done (a page the spider holds, with playwright_include_page, is
    done when the spider closes it; a page never closed is given up after a grace period)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.every = crawler.settings.getint("SGI_BROWSER_RECYCLE_PAGES", 50)
        # Context options travel with each render (meta playwright_context_kwargs), not as a start-up
        # context: PLAYWRIGHT_CONTEXTS makes every crawler launch Chromium at engine start, five browsers
        # per crawl for spiders that mostly never render. Without it Chromium starts at the first render.
        self.context_kwargs = dict(crawler.settings.getdict("SGI_BROWSER_CONTEXT_KWARGS")
                                   or crawler.settings.getdict("PLAYWRIGHT_CONTEXTS").get(BASE_CONTEXT) or {})
        self.grace_s = max(60.0, 2 * crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 30))
        self.generation = 0
        self.renders_in_generation = 0
        self.open_pages: dict[str, int] = {}     # context name -> renders assigned and not yet done
        self.retired: set[str] = set()
        # assign() runs on Playwright's thread (PLAYWRIGHT_THREADED_LOOP), responses on Scrapy's.
        self.lock = threading.RLock()

    @classmethod
    def from_crawler(cls, crawler):
        recycler = cls(crawler)
        crawler.sgi_browser_recycler = recycler
        return recycler

    def assign(self, request) -> None:
        """Called by SharedPlaywrightHandler as a render starts."""
        meta = request.meta
        if meta.get("playwright") and self.context_kwargs:
            meta.setdefault("playwright_context_kwargs", self.context_kwargs)
        # A retry carries the context of its first attempt, which may be closed by now: reassign it.
        if (self.every <= 0 or not meta.get("playwright") or meta.get("playwright_page") is not None
                or not is_recycled_context(meta.get("playwright_context", BASE_CONTEXT))
                or "sgi_browser_context" in meta):
            return
        with self.lock:
            name = context_name(self.generation)
            meta["playwright_context"] = name
            meta.setdefault("playwright_context_kwargs", self.context_kwargs)
            meta["sgi_browser_context"] = name
            self.open_pages[name] = self.open_pages.get(name, 0) + 1
            self.renders_in_generation += 1
            if self.renders_in_generation >= self.every:
                self._retire(name)

    def process_response(self, request, response, spider=None):
        name = request.meta.pop("sgi_browser_context", None)
        if name is not None:
            page = response.meta.get("playwright_page") if request.meta.get("playwright_include_page") else None
            if page is not None and not page.is_closed():
                page.once("close", lambda *_: self._page_done(name))
            else:
                self._page_done(name)
        return response

    def process_exception(self, request, exception, spider=None):
        name = request.meta.pop("sgi_browser_context", None)
        if name is not None:
            page = request.meta.get("playwright_page")
            if page is not None and not page.is_closed():
                page.once("close", lambda *_: self._page_done(name))
            else:
                self._page_done(name)
        return None

    # --- generations ---------------------------------------------------------------------------------
    def _retire(self, name: str) -> None:
        self.retired.add(name)
        self.generation += 1
        self.renders_in_generation = 0
        self.crawler.stats.inc_value("sgi/browser/contexts_retired")
        if self.open_pages.get(name, 0) == 0:
            self._close(name)
        else:
            asyncio.get_event_loop().call_later(self.grace_s, self._close, name)

    def _page_done(self, name: str) -> None:
        with self.lock:
            left = self.open_pages.get(name, 0) - 1
            self.open_pages[name] = max(0, left)
            if left <= 0 and name in self.retired:
                self._close(name)

    def _close(self, name: str) -> None:
        with self.lock:
            if name not in self.retired:
                return
            self.retired.discard(name)
            self.open_pages.pop(name, None)
        handler = getattr(self.crawler, "sgi_playwright_handler", None)
        wrapper = handler.context_wrappers.get(name) if handler is not None else None
        if wrapper is None:
            return
        self.crawler.stats.inc_value("sgi/browser/contexts_closed")
        logger.debug("closing browser context %s after %d renders", name, self.every)
        schedule_in_browser_loop(_close_quietly(wrapper.context))


async def _close_quietly(closable) -> None:
    try:
        await closable.close()
    except Exception:   # already closed (with the browser)
        pass
