"""The one place that touches private names of Scrapy and scrapy-playwright.

Each item below exists because no public interface does the job; each says why. The module checks at
import that the installed versions are the ones it was written for, so an upgrade fails loudly here
instead of silently changing crawl behaviour (politeness delays, the browser's event loop).
"""

from __future__ import annotations

from importlib.metadata import version

import scrapy

WRITTEN_FOR = {"scrapy": "2.19.", "scrapy-playwright": "0.0.48"}


def _check_versions() -> None:
    found = {"scrapy": scrapy.__version__, "scrapy-playwright": version("scrapy-playwright")}
    wrong = {name: have for name, have in found.items() if not have.startswith(WRITTEN_FOR[name])}
    if wrong:
        raise RuntimeError(
            f"spiders/compat.py was written for Scrapy {WRITTEN_FOR['scrapy']}x and scrapy-playwright "
            f"{WRITTEN_FOR['scrapy-playwright']}, found {found}: re-check every private name in "
            "spiders/compat.py against the new versions, then update WRITTEN_FOR.")


_check_versions()


def downloader_default_delay(downloader) -> float:
    """DOWNLOAD_DELAY as the downloader resolved it (with the spider's download_delay attribute).

    Scrapy keeps it only as ``Downloader._delay``; reading the setting would miss the spider attribute.
    Needed to restore a slot's delay after a politeness floor is lifted."""
    return downloader._delay


def downloader_default_jitter(downloader) -> bool:
    """RANDOMIZE_DOWNLOAD_DELAY as the downloader resolved it (``Downloader._jitter``, no public reader)."""
    return downloader._jitter


def playwright_thread_loop():
    """The event loop Playwright runs on (its own thread's, PLAYWRIGHT_THREADED_LOOP), or None.

    scrapy-playwright exposes no accessor for the loop it started; code on Scrapy's loop needs it to
    run coroutines that touch Playwright objects (spiders.browser.in_browser_loop)."""
    from scrapy_playwright._loop import _ThreadedLoopAdapter

    loop = getattr(_ThreadedLoopAdapter, "_loop", None)
    thread = getattr(_ThreadedLoopAdapter, "_thread", None)
    return loop if loop is not None and thread is not None and thread.is_alive() else None


def path_safe(text: str) -> str:
    """scrapy.pqueues._path_safe: the slot-name-to-directory mapping Scrapy's own priority queues use,
    so our queue keeps the same on-disk layout for JOBDIR resumes."""
    from scrapy.pqueues import _path_safe

    return _path_safe(text)


def schedule_coro(coro) -> None:
    """scrapy.utils.defer._schedule_coro: start a coroutine on the reactor's loop the way Scrapy's
    downloader does (asyncio or plain Twisted reactor alike); no public equivalent in 2.19."""
    from scrapy.utils.defer import _schedule_coro

    _schedule_coro(coro)


def queue_downloader(queue):
    """The downloader a DownloaderAwarePriorityQueue consults (``_downloader_interface.downloader``):
    HostFairPriorityQueue needs each slot's concurrency and the queue is not given the crawler's engine."""
    return queue._downloader_interface.downloader


def queue_slot_activity(queue) -> list:
    """(active downloads, slot) for each slot with queued requests, as DownloaderAwarePriorityQueue counts
    them (``_downloader_interface.stats``); no public reader."""
    return queue._downloader_interface.stats(queue.pqueues)


def queue_next_slot(queue, candidates: list, update_state: bool):
    """The slot DownloaderAwarePriorityQueue would serve next among candidates (``_next_slot``, which also
    keeps its round-robin state), so HostFairPriorityQueue keeps Scrapy's fairness order."""
    return queue._next_slot(candidates, update_state=update_state)
