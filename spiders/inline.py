"""Answering pages that are not due inline, in the spider middleware, instead of through Scrapy's
scheduler and downloader (incremental crawls; spiders/incremental.py decides what is reused).

A nightly crawl answers most pages from the archive: they are not due yet. Sent through Scrapy's request
machinery (scheduler, engine, the downloader middleware manager, the scraper's per-response tasks and
the spider middleware chain) such a page costs several times the work of reading it, and nothing is
downloaded. This middleware sits innermost in the spider middleware chain and looks at every request a
callback yields. When the request's page is not due and everything a downloaded request would pass
allows it, it answers the request on the spot and runs its callback, and gives the callback's output
the same treatment (a list's unchanged pages and their items are read in one go):

- the same gates as a downloaded request: the downloader middlewares before the archive replay
  (offsite, loopback guard, robots.txt through the parser already loaded for the host; anything not
  settled synchronously, such as a robots.txt not fetched yet, sends the request the ordinary way),
  the scheduler's duplicate filter and the request_scheduled signal;
- the same answer and evidence: the archived response of ArchiveReplayMiddleware, passed through every
  downloader middleware's process_response (EvidenceMiddleware records the snapshot, journal and
  statistics exactly as for a replayed request; a meta refresh becomes a new request), then the
  response_received signal (should a process_response fail, the page is fetched instead);
- the same callback, with the request's cb_kwargs; an exception in it is reported like any spider
  error (log, spider_error signal, statistics) and ends that callback's output only.

What differs, and why it does not matter here: the requests a reused page's callback yields pass the
outer spider middlewares with the page that asked for the reused one as their response (Referer is set
from the reused page here, first; depth is counted from the asking page, DEPTH_LIMIT is not used); no
process_spider_input or process_spider_exception of other spider middlewares runs for the reused page
(HttpErrorMiddleware has nothing to say about a 2xx answer, the only kind reused). Requests whose
callback is a coroutine, a resumed run (journalled hops) and anything not reusable go the ordinary way.
Off with SGI_INLINE_REUSE = False.
"""

from __future__ import annotations

import inspect
import logging

from scrapy import Request, signals
from scrapy.http import Response
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.log import logformatter_adapter
from scrapy.utils.misc import arg_to_iter
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

_NOT_LOADED = object()
_DROPPED = object()     # dropped on the way (a spider middleware, a request_scheduled handler, a duplicate)


class InlineReuseMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("SGI_INLINE_REUSE", True) and \
            crawler.settings.getbool("SGI_INCREMENTAL", True) and not crawler.settings.getbool("SGI_RESUME", False)
        self._gates = None      # resolved on first use: the engine does not exist yet at construction

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_spider_output(self, response, result, spider=None):
        if not self.enabled or not self._resolve():
            async for out in result:
                yield out
            return
        async for out in result:
            for final in self._expand(out, response):
                yield final

    def _expand(self, first, response):
        """`first`, or, when it is a request answered here, what its callback gives (depth first)."""
        stack = [(iter((first,)), response, False)]   # (output, the response that gave it, answered here?)
        while stack:
            output, parent, inline = stack[-1]
            try:
                out = next(output)
            except StopIteration:
                stack.pop()
                continue
            except Exception:
                if not inline:
                    raise
                stack.pop()
                self.crawler.engine.scraper.handle_spider_error(Failure(), parent.request, parent)
                continue
            if isinstance(out, Request):
                answer = self._answer(out, parent)
                if answer is _DROPPED:
                    continue
                if isinstance(answer, Response):
                    stack.append((self._call(out, answer), answer, True))
                    continue
                if answer is not None:      # a meta refresh in the reused page: its new request
                    out = answer
            yield out

    # --- one request ---------------------------------------------------------------------------------
    def _answer(self, request, parent):
        """The archived response (or, for a meta refresh in it, the new request) answering `request`,
        which the callback of `parent` gave, here; None when it goes the ordinary way; _DROPPED when it
        is dropped on the way (as the ordinary way would drop it)."""
        callback = request.callback or self.crawler.spider._parse
        if (not callable(callback) or inspect.iscoroutinefunction(callback)
                or inspect.isasyncgenfunction(callback)):
            return None
        replay = self.crawler.sgi_replay
        response = replay.reusable_answer(request)
        if response is None or not 200 <= response.status < 300 or not self._gates_pass(request):
            return None
        # The spider middlewares between here and the engine (Referer, UrlLength, Depth ...), in their
        # order; a request they process here is answered or dropped here, never passed on to them.
        for middleware in self._outer:
            processed = middleware.get_processed_request(request, parent)
            if processed is None:
                return _DROPPED
            if processed is not request:    # a copy: let the ordinary way handle it from here
                return processed
        spider = self.crawler.spider
        results = self.crawler.signals.send_catch_log(signals.request_scheduled, request=request, spider=spider,
                                                      dont_log=IgnoreRequest)
        if any(isinstance(r, Failure) and isinstance(r.value, IgnoreRequest) for _, r in results):
            return _DROPPED     # a handler refused it, as the engine does
        scheduler = self.crawler.engine.scheduler
        if not request.dont_filter and scheduler.df.request_seen(request):
            scheduler.df.log(request, spider)      # a duplicate, dropped as the scheduler does
            self.crawler.signals.send_catch_log(signals.request_dropped, request=request, spider=spider)
            return _DROPPED
        replay.take_reused(request)
        try:
            for method in self._response_chain:
                response = self._manager._handle_mw_method(method, request=request, response=response)
                if isinstance(response, Request):
                    return response
        except Exception:
            # Where a download would go to process_exception and the errback, the page is asked of the
            # site instead (the ordinary way, afresh): nothing waits for an answer that never comes.
            logger.warning("answering %s from the archive failed; fetching it", request, exc_info=True)
            self.crawler.stats.inc_value("sgi/inline_failed")
            fresh = request.replace(dont_filter=True)
            fresh.meta["sgi_fresh"] = True
            return fresh
        if response.request is None:
            response.request = request
        if logger.isEnabledFor(logging.DEBUG):
            logkws = self.crawler.logformatter.crawled(request, response, self.crawler.spider)
            if logkws is not None:
                logger.log(*logformatter_adapter(logkws), extra={"spider": self.crawler.spider})
        self.crawler.signals.send_catch_log(signals.response_received, response=response, request=request,
                                            spider=self.crawler.spider)
        self.crawler.stats.inc_value("sgi/answered_inline")
        return response

    def _call(self, request, response):
        callback = request.callback or self.crawler.spider._parse
        try:
            return iter(arg_to_iter(callback(response, **request.cb_kwargs)))
        except Exception:
            self.crawler.engine.scraper.handle_spider_error(Failure(), request, response)
            return iter(())

    def _gates_pass(self, request) -> bool:
        """The downloader middlewares a request passes before the archive replay, run as they would be;
        False when one of them refuses it or cannot say at once (the ordinary way then decides)."""
        for method in self._request_chain:
            owner = getattr(method, "__self__", None)
            try:
                if isinstance(owner, RobotsTxtMiddleware):
                    if not self._robots_allow(owner, request):
                        return False
                elif self._manager._handle_mw_method(method, request=request) is not None:
                    return False
            except Exception:       # IgnoreRequest or a middleware's own error: the ordinary way handles it
                return False
        return True

    @staticmethod
    def _robots_allow(robots: RobotsTxtMiddleware, request) -> bool:
        if request.meta.get("dont_obey_robotstxt"):
            return True
        parser = robots._parsers.get(urlparse_cached(request).netloc, _NOT_LOADED)
        if parser is _NOT_LOADED or isinstance(parser, Deferred):
            return False
        robots.process_request_2(parser, request)   # IgnoreRequest when forbidden
        return True

    def _resolve(self) -> bool:
        """Find the downloader middlewares around the archive replay; any surprise turns inlining off."""
        if self._gates is not None:
            return self._gates
        self._gates = False
        try:
            engine = self.crawler.engine
            manager = engine.downloader.middleware
            replay = self.crawler.sgi_replay
            requests = list(manager.methods["process_request"])
            position = next(i for i, m in enumerate(requests) if getattr(m, "__self__", None) is replay)
            self._request_chain = requests[:position]
            self._response_chain = list(manager.methods["process_response"])
            self._manager = manager
            self._outer = [m for m in reversed(engine.scraper.spidermw.middlewares)
                           if m is not self and hasattr(m, "get_processed_request")]
            if any(m is self for m in engine.scraper.spidermw.middlewares[:-1]):
                raise LookupError("not the innermost spider middleware")
            blocking = [m for m in self._request_chain + self._response_chain
                        if inspect.iscoroutinefunction(m) and not isinstance(getattr(m, "__self__", None), RobotsTxtMiddleware)]
            if blocking or engine.scheduler is None or not hasattr(engine.scheduler, "df"):
                logger.info("answering reused pages inline is off: %s", blocking or "no duplicate filter")
                return False
            self._gates = True
        except (AttributeError, StopIteration, KeyError, LookupError) as exc:
            logger.info("answering reused pages inline is off: %r", exc)
        return self._gates
