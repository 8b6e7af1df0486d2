"""One Playwright driver and one Chromium per process (spiders/browser.py SharedBrowserProvider): the
spiders of one crawl share them; the browser outlives a crawler that closes while another still uses it,
and closes with the last. Real Chromium, no network (nothing is navigated)."""

from __future__ import annotations

import asyncio

from scrapy_playwright.handler import Config

from sgi.crawl import scrapy_settings
from spiders import browser


def config() -> Config:
    return Config.from_settings(scrapy_settings({"PLAYWRIGHT_LAUNCH_OPTIONS": browser.launch_options(True)}))


def test_crawlers_of_one_process_share_one_browser_until_the_last_closes():
    async def scenario():
        portal, apps, policy = (browser.SharedBrowserProvider(config()) for _ in range(3))
        for provider in (portal, apps, policy):
            await provider.start()        # nothing starts before a render
        assert not browser.SharedBrowserProvider._pool
        first, second = await asyncio.gather(portal.launch_browser(), apps.launch_browser())
        assert first is second and first.is_connected()
        page = await (await first.new_context()).new_page()
        await page.set_content("<p>rendered</p>")
        await portal.close()              # portal's crawler is done; apps still renders
        assert second.is_connected()
        assert await page.inner_text("p") == "rendered"
        await policy.close()              # never rendered: holds no share
        assert second.is_connected()
        await apps.close()
        assert not second.is_connected()
        assert not browser.SharedBrowserProvider._pool
        # a crawler rendering after everyone closed gets a browser of its own again
        late = browser.SharedBrowserProvider(config())
        third = await late.launch_browser()
        assert third is not first and third.is_connected()
        await late.close()
        assert not third.is_connected()

    asyncio.run(scenario())


def test_playwright_objects_are_used_on_their_own_loop():
    """Code on Scrapy's loop reaches Playwright objects made on the browser thread's loop."""
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    from scrapy_playwright._loop import _ThreadedLoopAdapter

    saved = {k: getattr(_ThreadedLoopAdapter, k, None) for k in ("_loop", "_thread")}
    _ThreadedLoopAdapter._loop, _ThreadedLoopAdapter._thread = loop, thread
    try:
        async def where():
            return asyncio.get_running_loop()

        async def on_scrapys_loop():
            assert browser._browser_loop() is loop
            assert await browser.in_browser_loop(where()) is loop
            done = asyncio.Event()
            seen = []

            async def note():
                seen.append(asyncio.get_running_loop())
                main.call_soon_threadsafe(done.set)

            main = asyncio.get_running_loop()
            browser.schedule_in_browser_loop(note())
            await asyncio.wait_for(done.wait(), 10)
            assert seen == [loop]

        asyncio.run(on_scrapys_loop())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        for k, v in saved.items():
            if v is None:
                if k in _ThreadedLoopAdapter.__dict__:
                    delattr(_ThreadedLoopAdapter, k)
            else:
                setattr(_ThreadedLoopAdapter, k, v)
