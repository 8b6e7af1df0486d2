"""Evidence packs (storage/wacz.py): written from real archive records, checked by the reference WACZ
validator (py-wacz) and by `verify_pack`, which must name the file and record a changed byte is in."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zipfile
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

from storage.wacz import (DATAPACKAGE, DIGEST, INDEX_PATH, PAGES_PATH, WARC_PATH, PackRecord, generate_key,
                          load_private_key, load_public_key, verify_pack, write_pack)
from storage.warc import WarcArchive

WHEN = datetime(2026, 3, 1, 8, 30, tzinfo=timezone.utc)
HOME = "<html><head><title>市政府门户</title></head><body>办事服务</body></html>".encode("utf-8")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


@pytest.fixture
def archive(tmp_path):
    """Three real records: two pages and a screenshot resource, as the crawler writes them."""
    warc = WarcArchive(tmp_path / "warc")
    locs = {
        "home": warc.write_response("http://www.gov.test/", 200, "OK", [("Content-Type", "text/html; charset=utf-8")],
                                    HOME, WHEN),
        "json": warc.write_response("http://data.gov.test/api?p=1", 200, "OK", [("Content-Type", "application/json")],
                                    b'{"total": 42}', WHEN),
        "shot": warc.write_resource("urn:screenshot:http://www.gov.test/", "image/png", PNG, WHEN),
    }
    warc.close()
    raw = {}
    for sid, loc in locs.items():
        with open(tmp_path / "warc" / loc.file, "rb") as fh:
            fh.seek(loc.offset)
            raw[sid] = fh.read(loc.length)
    urls = {"home": "http://www.gov.test/", "json": "http://data.gov.test/api?p=1",
            "shot": "urn:screenshot:http://www.gov.test/"}
    bodies = {"home": HOME, "json": b'{"total": 42}', "shot": PNG}
    records = [PackRecord(sid, raw[sid], urls[sid], "2026-03-01T08:30:00Z", hashlib.sha256(bodies[sid]).hexdigest(),
                          "portal", "市政府门户" if sid == "home" else None, sid == "home") for sid in locs]
    return {"records": records, "raw": raw, "bodies": bodies}


@pytest.fixture
def key(tmp_path):
    generate_key(tmp_path / "operator.pem")
    return load_private_key(tmp_path / "operator.pem")


def _pack(tmp_path, archive, key, name="pack.wacz"):
    return write_pack(tmp_path / name, archive["records"], title="audit of 440300", key=key,
                      meta={"run_key": "audit-440300-x", "city_code": "440300"})


def _entry_span(path, name):
    """(start, length) of a stored ZIP entry's bytes inside the pack file."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    data = path.read_bytes()
    n, e = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + n + e, info.compress_size


def _flip(path, position, out):
    data = bytearray(path.read_bytes())
    data[position] ^= 0x20
    out.write_bytes(bytes(data))
    return out


def test_pack_holds_the_records_byte_for_byte_and_the_reference_validator_accepts_it(tmp_path, archive, key):
    from wacz.main import main as wacz_main

    info = _pack(tmp_path, archive, key)
    with zipfile.ZipFile(info.path) as zf:
        names = set(zf.namelist())
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        warc = zf.read(WARC_PATH)
        package = json.loads(zf.read(DATAPACKAGE))
        pages = [json.loads(line) for line in zf.read(PAGES_PATH).decode().splitlines()]
        index = zf.read(INDEX_PATH).decode().splitlines()
        digest = json.loads(zf.read(DIGEST))
    assert names == {WARC_PATH, INDEX_PATH, PAGES_PATH, DATAPACKAGE, DIGEST}
    for sid, rec in info.records.items():       # each cited record, unchanged, where the pack says
        assert warc[rec["offset"]:rec["offset"] + rec["length"]] == archive["raw"][sid]
    assert package["wacz_version"] == "1.1.1"
    for res in package["resources"]:
        with zipfile.ZipFile(info.path) as zf:
            assert res["hash"] == "sha256:" + hashlib.sha256(zf.read(res["path"])).hexdigest()
    assert digest["hash"] == "sha256:" + hashlib.sha256(zipfile.ZipFile(info.path).read(DATAPACKAGE)).hexdigest()
    assert pages[0]["format"] == "json-pages-1.0"
    assert [(p["url"], p["title"]) for p in pages[1:]] == [("http://www.gov.test/", "市政府门户")]
    urls = {json.loads(line.split(" ", 2)[2])["url"] for line in index}
    assert urls == {"http://www.gov.test/", "http://data.gov.test/api?p=1", "urn:screenshot:http://www.gov.test/"}
    assert wacz_main(["validate", "-f", str(info.path)]) == 0
    check = verify_pack(info.path)
    assert check.ok, check.problems
    assert check.n_records == 4                 # warcinfo + the three records


def test_signature_follows_the_wacz_signing_spec(tmp_path, archive, key):
    """Anonymous signature: ECDSA/SHA-256 over the hash text, raw r||s, base64 DER public key (what
    ReplayWeb.page checks with WebCrypto). Checked here with cryptography directly, not our verifier."""
    info = _pack(tmp_path, archive, key)
    signed = json.loads(zipfile.ZipFile(info.path).read(DIGEST))["signedData"]
    public = load_der_public_key(base64.b64decode(signed["publicKey"]))
    raw = base64.b64decode(signed["signature"])
    assert len(raw) == 96                       # P-384: r and s, 48 bytes each
    der = encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
    public.verify(der, signed["hash"].encode("ascii"), ec.ECDSA(hashes.SHA256()))
    assert signed["created"] == json.loads(zipfile.ZipFile(info.path).read(DATAPACKAGE))["created"]
    assert verify_pack(info.path, public_key=load_public_key(tmp_path / "operator.pem")).ok


@pytest.mark.parametrize("entry, where", [
    (WARC_PATH, "home"), (WARC_PATH, "json"), (WARC_PATH, "shot"), (INDEX_PATH, None), (PAGES_PATH, None),
    (DATAPACKAGE, None),
])
def test_one_flipped_byte_fails_verification_and_says_where(tmp_path, archive, key, entry, where):
    from wacz.main import main as wacz_main

    info = _pack(tmp_path, archive, key)
    start, size = _entry_span(info.path, entry)
    if where:   # a byte in the middle of that record's gzip member
        rec = info.records[where]
        position = start + rec["offset"] + rec["length"] // 2
    else:
        position = start + size // 2
    bad = _flip(info.path, position, tmp_path / "changed.wacz")
    check = verify_pack(bad)
    assert not check.ok
    assert any(p.startswith(entry + ":") for p in check.problems), check.problems
    if where:
        named = [p for p in check.problems if f"snapshot {where})" in p]
        assert named and f"offset {info.records[where]['offset']}" in named[0], check.problems
    if entry == DATAPACKAGE:
        assert any("changed after the pack was signed" in p for p in check.problems), check.problems
    try:
        rejected = wacz_main(["validate", "-f", str(bad)]) != 0
    except Exception:            # the reference validator cannot even unpack it
        rejected = True
    assert rejected


def test_a_pack_resigned_with_another_key_is_caught_with_the_operators_public_key(tmp_path, archive, key):
    generate_key(tmp_path / "other.pem")
    info = write_pack(tmp_path / "p.wacz", archive["records"], title="t", key=load_private_key(tmp_path / "other.pem"))
    assert verify_pack(info.path).ok           # intact, and signed by whoever holds other.pem
    check = verify_pack(info.path, public_key=load_public_key(tmp_path / "operator.pem"))
    assert not check.ok and "not by the expected key" in check.problems[0]


def test_a_forged_signature_and_an_unsigned_pack_fail(tmp_path, archive, key):
    info = _pack(tmp_path, archive, key)
    with zipfile.ZipFile(info.path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    digest = json.loads(entries[DIGEST])
    sig = bytearray(base64.b64decode(digest["signedData"]["signature"]))
    sig[5] ^= 1
    digest["signedData"]["signature"] = base64.b64encode(bytes(sig)).decode()
    forged = tmp_path / "forged.wacz"
    with zipfile.ZipFile(forged, "w") as zf:
        for n, data in entries.items():
            zf.writestr(n, json.dumps(digest) if n == DIGEST else data)
    assert any("signature does not verify" in p for p in verify_pack(forged).problems)
    unsigned = write_pack(tmp_path / "u.wacz", archive["records"], title="t")
    assert verify_pack(unsigned.path).problems == [f"{DIGEST}: the pack is not signed"]
    assert verify_pack(unsigned.path, require_signature=False).ok


def test_an_unlisted_file_and_a_non_zip_are_reported(tmp_path, archive, key):
    info = _pack(tmp_path, archive, key)
    with zipfile.ZipFile(info.path, "a") as zf:
        zf.writestr("archive/extra.warc.gz", b"")
    assert any(p.startswith("archive/extra.warc.gz: in the pack but not listed") for p in verify_pack(info.path).problems)
    junk = tmp_path / "junk.wacz"
    junk.write_bytes(b"not a zip")
    assert "not a readable ZIP" in verify_pack(junk).problems[0]


def test_a_key_is_never_overwritten(tmp_path):
    generate_key(tmp_path / "k.pem")
    before = (tmp_path / "k.pem").read_bytes()
    with pytest.raises(Exception, match="refusing to overwrite"):
        generate_key(tmp_path / "k.pem")
    assert (tmp_path / "k.pem").read_bytes() == before
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0


# --- RFC 3161: a real timestamp authority (OpenSSL's `ts -reply`) on loopback, tests/tsa_server.py ------
@pytest.fixture
def tsa(tmp_path, monkeypatch):
    from tests.tsa_server import serve_tsa

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")      # requests (rfc3161ng) must talk to loopback directly
    with serve_tsa(tmp_path / "tsa") as running:
        yield running


def test_a_pack_timestamped_by_an_rfc3161_authority_verifies_and_a_foreign_stamp_does_not(tmp_path, archive, key, tsa):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    info = write_pack(tmp_path / "stamped.wacz", archive["records"], title="t", key=key, tsa_url=tsa["url"],
                      tsa_cert=tsa["cert"])
    assert info.timestamped and tsa["served"] == ["application/timestamp-query"]
    check = verify_pack(info.path, tsa_cert=tsa["cert"])
    assert check.ok, check.problems
    stamped = datetime.strptime(check.timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= stamped <= datetime.now(timezone.utc)
    # A timestamp of another pack's signature, pasted into this one, does not verify.
    other = write_pack(tmp_path / "other.wacz", archive["records"][:1], title="o", key=key, tsa_url=tsa["url"])
    with zipfile.ZipFile(info.path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    digest = json.loads(entries[DIGEST])
    digest["signedData"]["timeSignature"] = json.loads(zipfile.ZipFile(other.path).read(DIGEST))["signedData"]["timeSignature"]
    pasted = tmp_path / "pasted.wacz"
    with zipfile.ZipFile(pasted, "w") as zf:
        for n, data in entries.items():
            zf.writestr(n, json.dumps(digest) if n == DIGEST else data)
    assert any("RFC 3161 timestamp does not verify" in p for p in verify_pack(pasted).problems)


def test_an_unreachable_timestamp_authority_is_a_clear_error_and_leaves_no_pack(tmp_path, archive, key):
    import socket

    from storage.wacz import PackError

    with socket.socket() as s:               # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PackError, match=f"timestamp authority http://127.0.0.1:{port}/ failed"):
        write_pack(tmp_path / "p.wacz", archive["records"], title="t", key=key, tsa_url=f"http://127.0.0.1:{port}/")
    assert not list(tmp_path.glob("p.wacz*"))


def test_only_p384_keys_sign_packs(tmp_path):
    """ReplayWeb.page imports a pack's public key as ECDSA P-384; a P-256 or RSA key is refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from storage.wacz import PackError

    for name, key in (("p256.pem", ec.generate_private_key(ec.SECP256R1())),
                      ("rsa.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048))):
        (tmp_path / name).write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
        with pytest.raises(PackError, match="not an ECDSA P-384 key"):
            load_private_key(tmp_path / name)


def test_a_domain_certificate_signature_is_named_not_called_invalid(tmp_path, archive, key):
    info = _pack(tmp_path, archive, key)
    with zipfile.ZipFile(info.path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    digest = json.loads(entries[DIGEST])
    signed = digest["signedData"]
    del signed["publicKey"]
    signed.update(domain="sign.example.test", domainCert="-----BEGIN CERTIFICATE-----\n...")
    other = tmp_path / "domain.wacz"
    with zipfile.ZipFile(other, "w") as zf:
        for n, data in entries.items():
            zf.writestr(n, json.dumps(digest) if n == DIGEST else data)
    assert verify_pack(other).problems == [f"{DIGEST}: signed with a domain certificate (sign.example.test), which "
                                           "this command does not check; use `wacz validate --verify-auth`"]
