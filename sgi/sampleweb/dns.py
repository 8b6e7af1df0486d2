"""A small authoritative DNS server for the sample web's *.test names, on loopback (UDP).

A records point at the sample server's IPv4 loopback address; AAAA records (::1) exist only for the
hosts the sample web declares IPv6-capable. Everything else is NXDOMAIN. Lets the IPv6 collector run
against a real resolver path without touching the network.
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class SampleDNSServer:
    def __init__(self, a_hosts: dict[str, str], aaaa_hosts: dict[str, str], bind: str = "127.0.0.1"):
        self.a_hosts = {h.lower().rstrip("."): ip for h, ip in a_hosts.items()}
        self.aaaa_hosts = {h.lower().rstrip("."): ip for h, ip in aaaa_hosts.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.sock.settimeout(0.2)
        self.address = f"{bind}:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> "SampleDNSServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        known = name in self.a_hosts or name in self.aaaa_hosts
        if not known:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.A and name in self.a_hosts:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", self.a_hosts[name]))
        elif question.rdtype == dns.rdatatype.AAAA and name in self.aaaa_hosts:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "AAAA", self.aaaa_hosts[name]))
        return response.to_wire()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            try:
                self.sock.sendto(self.answer(wire), peer)
            except Exception:
                continue
