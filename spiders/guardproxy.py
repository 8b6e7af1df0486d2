"""A forward proxy on loopback that Chromium uses in real mode: every connection the browser makes goes
through it, and it connects only to public addresses (spiders/addressguard.py).

Chromium resolves names itself, so judging a URL before Chromium loads it (spiders/browser.py's request
routing) leaves a window in which a name can change its answer (DNS rebinding). Through this proxy
Chromium resolves nothing: the proxy resolves the name, judges every address and connects to the very
address it judged. HTTPS and WebSockets arrive as CONNECT tunnels; plain HTTP as absolute-URI requests,
one per connection (``Connection: close`` upstream), so one client connection cannot reach a second host.
A refusal closes the connection unanswered (Chromium records a network error) and is logged with the
guard's reason.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from urllib.parse import urlsplit

from spiders.addressguard import AddressGuard

logger = logging.getLogger(__name__)

_HOP_HEADERS = {b"proxy-connection", b"connection", b"keep-alive", b"proxy-authorization"}


class GuardProxy:
    """Started once per process (:func:`shared_proxy`), on its own thread and event loop."""

    def __init__(self, guard: AddressGuard | None = None, host: str = "127.0.0.1"):
        self.guard = guard or AddressGuard()
        self.refused: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._host = host
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="sgi-guard-proxy", daemon=True)

    def start(self) -> "GuardProxy":
        self._thread.start()
        self._ready.wait(10)
        return self

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, self._host, 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ConnectionError):
            writer.close()
            return
        request_line, *header_lines = head[:-4].split(b"\r\n")
        try:
            method, target, version = request_line.decode("latin-1").split(" ", 2)
            if method == "CONNECT":
                host, _, port_text = target.rpartition(":")
                host, port, path = host.strip("[]"), int(port_text), None
            else:
                parts = urlsplit(target)
                if parts.scheme != "http" or not parts.hostname:
                    raise ValueError(target)
                host, port = parts.hostname, parts.port or 80
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        except ValueError:
            writer.close()
            return
        upstream, reason, refused = await self._connect(host, port)
        if upstream is None:
            # No answer at all: Chromium reports a network error (a fetch status 'error'), where an HTTP
            # answer from us would be taken for the site's own.
            if refused:
                self.refused.append(reason)
                logger.warning("browser: %s", reason)
            else:
                logger.debug("browser via guard proxy: %s", reason)
            writer.close()
            return
        up_reader, up_writer = upstream
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            kept = [h for h in header_lines if h.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
            up_writer.write(b"\r\n".join([f"{method} {path} {version}".encode("latin-1"), *kept,
                                          b"Connection: close", b"", b""]))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def _connect(self, host: str, port: int):
        """(a connection to ``host`` at an address the guard allows, None, False), or (None, the reason,
        whether the guard refused)."""
        try:
            infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return None, f"cannot resolve {host}: {exc}", False
        for info in infos:   # every address the name has must be public: the client may be handed any
            reason = self.guard.refusal(info[4][0], host)
            if reason:
                return None, reason, True
        try:
            address = infos[0][4]     # the very address judged above
            return await asyncio.wait_for(asyncio.open_connection(address[0], address[1]), 30), None, False
        except (OSError, asyncio.TimeoutError) as exc:
            return None, f"cannot connect to {host}:{port}: {exc}", False


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


_SHARED: GuardProxy | None = None
_LOCK = threading.Lock()


def shared_proxy() -> GuardProxy:
    """The process's guard proxy, started at first use."""
    global _SHARED
    with _LOCK:
        if _SHARED is None:
            _SHARED = GuardProxy().start()
        return _SHARED


def chromium_proxy_args(proxy: GuardProxy) -> list[str]:
    """Chromium switches that send every connection through ``proxy``, loopback too (Chromium otherwise
    bypasses a proxy for it)."""
    return [f"--proxy-server={proxy.url}", "--proxy-bypass-list=<-loopback>"]
