"""The IPv6 check of a portal addressed by an IP literal asks no resolver (a query for '127.0.0.1' went to
the system's resolver, off the machine, in tests that serve portals on loopback)."""

import socket

from collectors.base import NOT_APPLICABLE, OK
from collectors.dns import check_ipv6


def _udp_listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.3)
    return sock


def test_an_ipv4_literal_is_not_looked_up():
    with _udp_listener() as resolver:
        finding = check_ipv6("http://127.0.0.1:8080/", f"127.0.0.1:{resolver.getsockname()[1]}")
        try:
            resolver.recvfrom(512)
            asked = True
        except socket.timeout:
            asked = False
    assert not asked
    assert finding.status == NOT_APPLICABLE and finding.value is None
    assert "IPv4 address 127.0.0.1" in finding.evidence


def test_an_ipv6_literal_is_connected_to_without_a_lookup():
    if not socket.has_ipv6:
        import pytest
        pytest.skip("no IPv6 here")
    listener = socket.socket(socket.AF_INET6)
    try:
        listener.bind(("::1", 0))
    except OSError:
        import pytest
        pytest.skip("no ::1 here")
    listener.listen(1)
    with listener, _udp_listener() as resolver:
        finding = check_ipv6(f"http://[::1]:{listener.getsockname()[1]}/", f"127.0.0.1:{resolver.getsockname()[1]}")
        try:
            resolver.recvfrom(512)
            asked = True
        except socket.timeout:
            asked = False
    assert not asked
    assert finding.status == OK and finding.value is True
