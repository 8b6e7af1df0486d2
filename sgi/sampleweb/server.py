"""A real HTTP(S) server for the sample web, on loopback only.

One threaded server per scheme on 127.0.0.1 (ephemeral ports) routes requests by Host header to the
generated sites. It supports what crawlers meet on real government sites: conditional requests
(ETag / Last-Modified -> 304), gzip, any charset (bodies are bytes), robots.txt, redirects,
http->https upgrades, HSTS, JavaScript cookie challenges (412), and injected faults (slow answers,
412 / 403 / 429 / 500 / 503 with Retry-After, truncated bodies), settable per resource, per site,
or at run time with :meth:`SampleWebServer.inject`. With ``latency_ms`` every answer takes about as
long as a government site's does (:class:`ResponseLatency`); without it the web answers at once, which
leaves a crawl bound by its own CPU.

Bodies name other sample hosts as absolute URLs without ports (``http://data.sz.gov.cn.test/``);
the server adds its ports on the way out, so generated content does not depend on the ports.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import random
import re
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sgi.sampleweb.model import Fault, RequestInfo, Resource, SampleWeb, Site

LOOPBACK = "127.0.0.1"
CHALLENGE_COOKIE = "__jsl_clearance_s"
_TEXTUAL = ("text/", "application/json", "application/javascript", "application/xml", "application/xhtml")
_TEST_URL = re.compile(rb"(https?)://([A-Za-z0-9.-]+\.test)(?![A-Za-z0-9.:-])")


@dataclass
class LoggedRequest:
    host: str
    method: str
    path: str
    status: int
    bytes_sent: int
    user_agent: str
    at: float                  # when the answer was sent (time.time())
    started: float = 0.0       # when the request line arrived: [started, at] is the request in flight
    conditional: bool = False  # sent If-None-Match or If-Modified-Since (an incremental crawl's revisit)


def _self_signed_cert(hosts: list[str], folder: Path) -> tuple[str, str]:
    """A throwaway certificate naming every sample host (the crawler does not verify it, but a
    certificate that matches keeps TLS clients from warning on every request), written into folder."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sgi sample web")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in sorted(set(hosts))]
                                                       + [x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def challenge_page(token: str) -> bytes:
    """The kind of interstitial Chinese gov sites serve behind anti-bot gateways: only a JS engine passes."""
    # The cookie value is computed by script so a plain HTTP client cannot present it.
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title></title></head><body>
<script>
(function(){{var p=[{",".join(str(ord(c)) for c in token)}];var s="";
for(var i=0;i<p.length;i++){{s+=String.fromCharCode(p[i]);}}
document.cookie="{CHALLENGE_COOKIE}="+s+";path=/";setTimeout(function(){{location.reload();}},50);}})();
</script><noscript>请开启JavaScript并刷新该页.</noscript></body></html>""".encode()


class _Server(ThreadingHTTPServer):
    """Threaded server whose TLS handshake happens in the connection's own thread: a client that
    connects and stalls must not block the accept loop for everyone else."""

    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            request.settimeout(10)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
            request.settimeout(None)
        super().finish_request(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class ResponseLatency:
    """How long each answer takes: a site's typical time, drawn once per host from a log-normal
    distribution around ``median_ms`` (servers differ: static CMS pages, slow dynamic portals), times
    a per-answer jitter of +-30%. Seeded by the web's seed, so a host is as fast in every run."""

    def __init__(self, seed: int, median_ms: float):
        self.seed, self.median_s = seed, median_ms / 1000
        self._hosts: dict[str, float] = {}
        self._jitter = random.Random(f"{seed}:jitter")
        self._lock = threading.Lock()

    def host_s(self, host: str) -> float:
        with self._lock:
            if host not in self._hosts:
                draw = random.Random(f"{self.seed}:{host}").lognormvariate(0, 0.5)
                self._hosts[host] = self.median_s * min(5.0, max(0.2, draw))
            return self._hosts[host]

    def answer_s(self, host: str) -> float:
        base = self.host_s(host)
        with self._lock:
            return base * self._jitter.uniform(0.7, 1.3)


class SampleWebServer:
    """Serve a :class:`SampleWeb` on 127.0.0.1. Use as a context manager or call start()/stop()."""

    def __init__(self, web: SampleWeb, host: str = LOOPBACK, tls: bool = True,
                 ports: tuple[int, int] | None = None, latency_ms: float = 0.0):
        if not host.startswith("127.") and host not in ("localhost", "::1"):
            raise ValueError("the sample web only listens on loopback")
        self.web = web
        self.latency = ResponseLatency(web.seed, latency_ms) if latency_ms > 0 else None
        self.bind_host = host
        self.tls = tls
        self.wanted_ports = ports   # (http, https): stable URLs across runs when free, else ephemeral
        self.log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._faults: dict[tuple[str, str | None], Fault] = {}
        self._fault_hits: dict[tuple[str, str | None], int] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self.http_port: int | None = None
        self.https_port: int | None = None
        self._challenge_tokens = {h: hashlib.sha1(f"{web.seed}:{h}".encode()).hexdigest()[:16] for h in web.sites}

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "SampleWebServer":
        handler = self._make_handler()
        ctx = None
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            # The files are read here and needed no longer: no key left behind in the temp folder.
            with tempfile.TemporaryDirectory(prefix="sgi-sampleweb-tls-") as folder:
                ctx.load_cert_chain(*_self_signed_cert(list(self.web.sites), Path(folder)))
        want_http, want_https = self.wanted_ports or (0, 0)
        plain = self._listen_preferring(want_http, handler, "http", None)
        self.http_port = plain.server_address[1]
        if ctx:
            secure = self._listen_preferring(want_https, handler, "https", ctx)
            self.https_port = secure.server_address[1]
        # The same ports on [::1], so IPv6-capable sample hosts really answer over IPv6.
        self.ipv6 = True
        try:
            self._listen(_Server6, ("::1", self.http_port), handler, "http", None)
            if ctx:
                self._listen(_Server6, ("::1", self.https_port), handler, "https", ctx)
        except OSError:
            self.ipv6 = False
        for srv in self._servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _listen_preferring(self, port: int, handler, scheme, ctx):
        if port:
            try:
                return self._listen(_Server, (self.bind_host, port), handler, scheme, ctx)
            except OSError:
                pass   # taken: any free port will do
        return self._listen(_Server, (self.bind_host, 0), handler, scheme, ctx)

    def _listen(self, cls, address, handler, scheme, ctx):
        srv = cls(address, handler)
        srv.scheme = scheme
        srv.ssl_context = ctx
        self._servers.append(srv)
        return srv

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers.clear()

    def __enter__(self) -> "SampleWebServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- addressing --------------------------------------------------------------------------------
    def port_for(self, scheme: str) -> int:
        port = self.https_port if scheme == "https" else self.http_port
        if port is None:
            raise RuntimeError(f"no {scheme} listener")
        return port

    def public_url(self, url: str) -> str:
        """Add this server's port to a sample URL written without one."""
        parts = urlsplit(url)
        if not parts.hostname or not parts.hostname.endswith(".test") or parts.port:
            return url
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{self.port_for(parts.scheme)}"))

    def url(self, host: str, path: str = "/") -> str:
        site = self.web.sites[host]
        scheme = "https" if site.https else "http"
        return f"{scheme}://{host}:{self.port_for(scheme)}{path}"

    def host_map(self) -> dict[str, str]:
        """Host name -> IP address for the crawler's resolver."""
        return {host: self.bind_host for host in self.web.sites}

    def sources(self) -> list[dict]:
        """The sample web's source entries with this server's ports filled in."""
        out = []
        for entry in self.web.sources:
            entry = dict(entry)
            entry["start_url"] = self.public_url(entry["start_url"])
            out.append(entry)
        return out

    def _rewrite(self, body: bytes) -> bytes:
        def sub(m: re.Match) -> bytes:
            scheme = m.group(1).decode()
            try:
                return m.group(0) + f":{self.port_for(scheme)}".encode()
            except RuntimeError:
                return m.group(0)
        return _TEST_URL.sub(sub, body)

    # --- faults ------------------------------------------------------------------------------------
    def inject(self, host: str, path: str | None, fault: Fault | None) -> None:
        """Set (or clear with None) a fault for one path of a host, or the whole host (path None)."""
        key = (host, path)
        if fault is None:
            self._faults.pop(key, None)
        else:
            self._faults[key] = fault
            self._fault_hits[key] = 0

    def _active_fault(self, site: Site, path: str, resource: Resource | None) -> Fault | None:
        """Runtime faults first (path, then host), then the resource's and the site's own."""
        candidates = [((site.host, path), self._faults.get((site.host, path))),
                      ((site.host, None), self._faults.get((site.host, None))),
                      ((site.host, path, "resource"), resource.fault if resource else None),
                      ((site.host, None, "site"), site.fault)]
        for key, fault in candidates:
            if fault is None:
                continue
            if fault.times is None:
                return fault
            with self._log_lock:
                hits = self._fault_hits.get(key, 0)
                self._fault_hits[key] = hits + 1
            if hits < fault.times:
                return fault
        return None

    def requests_to(self, host: str | None = None) -> list[LoggedRequest]:
        with self._log_lock:
            return [r for r in self.log if host is None or r.host == host]

    def bytes_sent(self) -> int:
        with self._log_lock:
            return sum(r.bytes_sent for r in self.log)

    # --- request handling --------------------------------------------------------------------------
    def _make_handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60                   # an idle keep-alive connection frees its thread
            server_version = "nginx"       # what most Chinese government sites announce
            sys_version = ""

            def log_message(self, *args):  # quiet: the server keeps its own structured log
                pass

            def do_GET(self):
                server._handle(self, "GET")

            def do_HEAD(self):
                server._handle(self, "HEAD")

            def do_POST(self):
                server._handle(self, "POST")

        return Handler

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        h.sgi_started = time.time()
        scheme = h.server.scheme
        host = (h.headers.get("Host") or "").split(":")[0].lower()
        length = int(h.headers.get("Content-Length") or 0)
        req_body = h.rfile.read(length) if length else b""
        site = self.web.sites.get(host)
        path = h.path
        if site is None:
            return self._send(h, host, method, path, 404, b"no such sample host\n", "text/plain")
        if self.latency is not None:
            time.sleep(self.latency.answer_s(host))
        cookies = {}
        if h.headers.get("Cookie"):
            jar = SimpleCookie()
            try:
                jar.load(h.headers["Cookie"])
            except Exception:
                pass
            cookies = {k: m.value for k, m in jar.items()}

        if site.https and scheme == "http":
            return self._send(h, host, method, path, 301, b"", "text/html",
                              {"Location": f"https://{host}:{self.port_for('https')}{path}"})
        if path.split("?")[0] == "/robots.txt" and site.robots_txt is not None:
            return self._send(h, host, method, path, 200, self._rewrite(site.robots_txt.encode()), "text/plain")

        resource = site.resources.get(path)
        if resource is None and "?" not in path and not path.endswith("/") and site.resources.get(path + "/"):
            return self._send(h, host, method, path, 301, b"", "text/html", {"Location": path + "/"})
        fault = self._active_fault(site, path, resource)
        extra = {}
        if scheme == "https" and site.hsts:
            extra["Strict-Transport-Security"] = "max-age=31536000"
        if fault and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault and fault.status:
            if fault.retry_after is not None:
                extra["Retry-After"] = str(fault.retry_after)
            body = f"<html><head><title>{fault.status}</title></head><body><h1>{fault.status}</h1></body></html>"
            return self._send(h, host, method, path, fault.status, body.encode(), "text/html; charset=utf-8", extra)
        if site.js_challenge and cookies.get(CHALLENGE_COOKIE) != self._challenge_tokens[host]:
            return self._send(h, host, method, path, 412, challenge_page(self._challenge_tokens[host]),
                              "text/html; charset=utf-8", extra)
        if resource is None:
            body = b"<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center></body></html>"
            return self._send(h, host, method, path, 404, body, "text/html", extra)
        if resource.redirect_to:
            target = resource.redirect_to
            if target.startswith("/"):
                target = f"{scheme}://{host}:{self.port_for(scheme)}{target}"
            else:
                target = self.public_url(target)
            return self._send(h, host, method, path, resource.status if 300 <= resource.status < 400 else 302,
                              b"", "text/html", {**extra, "Location": target})

        info = RequestInfo(method=method, path=path, headers={k.lower(): v for k, v in h.headers.items()},
                           body=req_body, cookies=cookies)
        body = resource.body(info) if callable(resource.body) else resource.body
        if any(resource.content_type.startswith(t) for t in _TEXTUAL):
            body = self._rewrite(body)
        headers = {**extra, **resource.headers}
        if resource.etag and not callable(resource.body):
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            headers["ETag"] = etag
            if h.headers.get("If-None-Match") == etag:
                return self._send(h, host, method, path, 304, b"", None, headers)
        if resource.last_modified is not None:
            lm = resource.last_modified.replace(tzinfo=resource.last_modified.tzinfo or timezone.utc)
            headers["Last-Modified"] = email.utils.format_datetime(lm.astimezone(timezone.utc), usegmt=True)
            ims = h.headers.get("If-Modified-Since")
            if ims and "If-None-Match" not in h.headers:
                try:
                    if lm.replace(microsecond=0) <= email.utils.parsedate_to_datetime(ims):
                        return self._send(h, host, method, path, 304, b"", None, headers)
                except (TypeError, ValueError):
                    pass
        truncate = fault.truncate_to if fault else None
        self._send(h, host, method, path, resource.status, body, resource.content_type, headers,
                   gzip_ok=site.gzip, truncate_to=truncate)

    def _send(self, h, host, method, path, status, body, content_type, headers=None, gzip_ok=False,
              truncate_to=None):
        headers = dict(headers or {})
        if gzip_ok and body and len(body) > 256 and "gzip" in (h.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        payload = b"" if method == "HEAD" or status in (204, 304) else (
            body[:truncate_to] if truncate_to is not None else body)
        # Logged before sending, so a client that has read the answer always finds it in the log.
        with self._log_lock:
            now = time.time()
            self.log.append(LoggedRequest(host, method, path, status, len(payload), h.headers.get("User-Agent", ""),
                                          now, getattr(h, "sgi_started", now),
                                          bool(h.headers.get("If-None-Match") or h.headers.get("If-Modified-Since"))))
        try:
            h.send_response(status)
            if content_type:
                h.send_header("Content-Type", content_type)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            if truncate_to is not None:
                h.send_header("Connection", "close")
            h.end_headers()
            if payload:
                h.wfile.write(payload)
            if truncate_to is not None:
                h.wfile.flush()
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
