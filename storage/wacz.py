"""Evidence packs: one WACZ file (format 1.1.1) an auditor can hand over, that replay tools open and
that shows whether anything in it changed after it was signed.

A pack holds::

    archive/data.warc.gz        a warcinfo record, then every cited WARC record copied byte for byte
                                from the archive (each one gzip member, as storage/warc.py wrote it)
    indexes/index.cdx           CDXJ index of that WARC (cdxj-indexer), for pywb / ReplayWeb.page
    pages/pages.jsonl           the cited HTML pages (url, ts, title, id = snapshot id)
    datapackage.json            every file above with its sha256 and size; ``sgi`` maps each cited
                                snapshot id to its record (offset, length) in the pack's WARC
    datapackage-digest.json     sha256 of datapackage.json, signed (WACZ signing spec 0.1.0,
                                "anonymous" signature: ECDSA P-384 / SHA-256 with the operator's key,
                                the public key in the pack); with an RFC 3161 authority configured,
                                also a trusted timestamp of that signature (timeSignature, timestampCert)

Every entry is stored uncompressed (ZIP 'stored'), as the WACZ spec asks for WARC files, so a reader can
seek into the WARC. :func:`verify_pack` re-checks every digest and the signature and names what is wrong:
the file, and for a WARC the record (offset, URL, snapshot).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

WACZ_VERSION = "1.1.1"
SIGNING_VERSION = "0.1.0"          # WACZ Signing and Verification spec
WARC_PATH = "archive/data.warc.gz"
INDEX_PATH = "indexes/index.cdx"
PAGES_PATH = "pages/pages.jsonl"
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
_LOCAL_HEADER = struct.Struct("<4s5H3I2H")


class PackError(Exception):
    """A pack cannot be written (bad key, unreachable timestamp authority, unreadable record)."""


@dataclass(frozen=True)
class PackRecord:
    """One cited WARC record, as raw bytes of its gzip member, and what the pack says about it."""
    snapshot_id: str
    raw: bytes                  # the record's gzip member, exactly as in the archive
    url: str                    # WARC-Target-URI
    date: str                   # WARC-Date (ISO 8601)
    digest: str | None          # sha256 of the payload recorded at fetch time
    spider: str = ""
    page_title: str | None = None
    is_page: bool = False       # list it in pages.jsonl (an HTML page a reader opens)


@dataclass
class PackInfo:
    path: Path
    records: dict[str, dict]    # snapshot id -> {"offset", "length", "url", "ts"} in the pack's WARC
    signed_by: str | None       # sha256 fingerprint of the public key
    timestamped: bool
    created: str


@dataclass
class PackCheck:
    """What :func:`verify_pack` found. ``problems`` name the file (and record) that is wrong."""
    path: Path
    problems: list[str] = field(default_factory=list)
    signed_by: str | None = None
    created: str | None = None
    timestamp: str | None = None
    n_files: int = 0
    n_records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# --- keys and signatures -------------------------------------------------------------------------------
def generate_key(path: str | Path) -> str:
    """Write a new ECDSA P-384 private key (PEM, PKCS#8, mode 0600); returns its public fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = Path(path)
    if path.exists():
        raise PackError(f"{path} exists; refusing to overwrite a key")
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key_fingerprint(key.public_key())


def load_private_key(path: str | Path):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise PackError(f"cannot read the signing key {path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
        # ReplayWeb.page imports the pack's public key as ECDSA P-384: any other key would not verify there
        raise PackError(f"{path} is not an ECDSA P-384 key (the WACZ signing spec's anonymous signature; "
                        "`sgi evidence keygen` makes one)")
    return key


def load_public_key(path: str | Path):
    """A public key (PEM) or the public half of a private key file, to check who signed a pack."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = Path(path).read_bytes()
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        return load_pem_public_key(data)
    except ValueError as exc:
        raise PackError(f"cannot read the public key {path}: {exc}") from exc


def _spki(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(public_key) -> str:
    return "sha256:" + hashlib.sha256(_spki(public_key)).hexdigest()


def public_key_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_hash(hash_text: str, private_key, created: str, software: str) -> dict:
    """The spec's anonymous signedData: ECDSA/SHA-256 over the hash text, the signature as raw r||s
    (what WebCrypto produces and ReplayWeb.page checks), the public key as base64 DER SPKI."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    der = private_key.sign(hash_text.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    size = (private_key.curve.key_size + 7) // 8
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return {"hash": hash_text, "created": created, "software": software, "version": SIGNING_VERSION,
            "signature": base64.b64encode(raw).decode("ascii"),
            "publicKey": base64.b64encode(_spki(private_key.public_key())).decode("ascii")}


def signature_valid(signed: dict) -> tuple[bool, object | None]:
    """Does ``signature`` sign ``hash`` with ``publicKey``? Returns (valid, public key)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    try:
        public_key = load_der_public_key(base64.b64decode(signed["publicKey"]))
        raw = base64.b64decode(signed["signature"])
    except (KeyError, ValueError, TypeError):
        return False, None
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(raw) % 2:
        return False, None
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    try:
        public_key.verify(der, str(signed.get("hash", "")).encode("ascii"), ec.ECDSA(hashes.SHA256()))
        return True, public_key
    except (InvalidSignature, UnicodeEncodeError):
        return False, public_key


# --- RFC 3161 timestamps --------------------------------------------------------------------------------
def request_timestamp(signature: str, tsa_url: str, tsa_cert: bytes | None = None, timeout: float = 30) -> dict:
    """Ask an RFC 3161 authority to timestamp the signature (as the signing spec's domain signatures do).
    Returns {"timeSignature", "timestampCert"} (the certificate the operator configured, else the one
    the authority put in its answer)."""
    import secrets

    import rfc3161ng
    from pyasn1.codec.der import encoder

    try:
        stamper = rfc3161ng.RemoteTimestamper(tsa_url, certificate=tsa_cert, hashname="sha256",
                                              include_tsa_certificate=True, timeout=timeout)
        tsr = stamper(data=signature.encode("ascii"), nonce=secrets.randbits(63), return_tsr=True)
    except Exception as exc:   # network errors, a refusal, a reply that does not verify
        raise PackError(f"timestamp authority {tsa_url} failed: {type(exc).__name__}: {exc}") from exc
    cert_pem = tsa_cert or _embedded_cert_pem(tsr.time_stamp_token)
    stamped = {"timeSignature": base64.b64encode(encoder.encode(tsr)).decode("ascii"),
               "timestampCert": cert_pem.decode("ascii") if cert_pem else ""}
    _, problem = check_timestamp({"signature": signature, **stamped}, tsa_cert)
    if problem:   # never write a pack whose timestamp an auditor could not check
        raise PackError(f"timestamp authority {tsa_url}: its answer does not verify ({problem})")
    return stamped


def _embedded_cert_pem(tst) -> bytes | None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from pyasn1.codec.der import encoder

    try:
        der = encoder.encode(tst.content["certificates"][0][0])   # certReq was set: the signer's certificate
        return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
    except Exception:
        return None


def check_timestamp(signed: dict, tsa_cert: bytes | None = None) -> tuple[str | None, str | None]:
    """(UTC time the authority signed, problem). ``tsa_cert``: the authority's certificate the auditor
    trusts; without it the certificate in the pack is used (which proves integrity, not whom)."""
    import rfc3161ng

    cert = tsa_cert or (signed.get("timestampCert") or "").encode("ascii")
    try:
        resp = rfc3161ng.decode_timestamp_response(base64.b64decode(signed["timeSignature"]))
        tst = resp.time_stamp_token
        rfc3161ng.check_timestamp(tst, certificate=cert or b"", data=signed["signature"].encode("ascii"),
                                  hashname="sha256")
        when = rfc3161ng.get_timestamp(tst, naive=False)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), None


# --- writing ---------------------------------------------------------------------------------------------
def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _warcinfo(info: dict) -> bytes:
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    writer.write_record(writer.create_warcinfo_record(WARC_PATH.rsplit("/", 1)[-1], info))
    return buf.getvalue()


def _indexer():
    import warnings

    with warnings.catch_warnings():     # its AMF dependency imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        from cdxj_indexer.main import CDXJIndexer
    return CDXJIndexer


# Record types named: importing the `wacz` package adds warcinfo to the indexer's defaults.
_INDEXED = "response,revisit,resource"


def _cdxj(warc: bytes) -> bytes:
    """CDXJ lines for the WARC (sorted), written by cdxj-indexer as pywb and ReplayWeb.page expect."""
    out = io.StringIO()
    _indexer()(out, [io.BytesIO(warc)], sort=True, filename=WARC_PATH.rsplit("/", 1)[-1],
               records=_INDEXED).process_all()
    return out.getvalue().encode("utf-8")


def index_archive(directory: str | Path, out: str | Path | None = None) -> tuple[Path, int, int]:
    """A sorted CDXJ index of every WARC file of the archive directory (default ``<dir>/index.cdxj``),
    filenames relative to the directory, so pywb can browse the whole archive. Written beside and then
    renamed over the old index. Returns (index path, files, lines)."""
    directory = Path(directory)
    files = sorted(p for p in directory.iterdir() if p.name.endswith((".warc.gz", ".warc")))
    out = Path(out) if out else directory / "index.cdxj"
    partial = out.with_name(out.name + ".partial")
    with open(partial, "w", encoding="utf-8") as fh:
        _indexer()(fh, [str(p) for p in files], sort=True, records=_INDEXED).process_all()
    lines = sum(1 for _ in open(partial, encoding="utf-8"))
    partial.replace(out)
    return out, len(files), lines


def _pages(records: list[PackRecord], offsets: dict[str, dict]) -> bytes:
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Cited pages"}]
    seen = set()
    for r in records:
        if r.is_page and (r.url, r.date) not in seen:
            seen.add((r.url, r.date))
            page = {"id": r.snapshot_id, "url": r.url, "ts": r.date}
            if r.page_title:
                page["title"] = r.page_title
            lines.append(page)
    return "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode("utf-8")


def write_pack(out: str | Path, records: list[PackRecord], *, title: str, description: str = "",
               software: str = "sgi", key=None, tsa_url: str | None = None, tsa_cert: bytes | None = None,
               main_page: PackRecord | None = None, meta: dict | None = None,
               created: datetime | None = None) -> PackInfo:
    """Write the WACZ: records in the given order (one copy of each record however often it is cited)."""
    out = Path(out)
    created_at = (created or datetime.now(timezone.utc)).astimezone(timezone.utc)
    created_s = created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    warc = bytearray(_warcinfo({"software": software, "format": "WARC File Format 1.1", "description": title,
                                **{k: str(v) for k, v in (meta or {}).items()}}))
    placed: dict[bytes, tuple[int, int]] = {}
    located: dict[str, dict] = {}
    for r in records:
        ident = hashlib.sha256(r.raw).digest()
        if ident not in placed:
            placed[ident] = (len(warc), len(r.raw))
            warc += r.raw
        offset, length = placed[ident]
        located[r.snapshot_id] = {"offset": offset, "length": length, "url": r.url, "ts": r.date,
                                  "digest": r.digest, "spider": r.spider}
    files = {WARC_PATH: bytes(warc), INDEX_PATH: _cdxj(bytes(warc)), PAGES_PATH: _pages(records, located)}
    package = {
        "profile": "data-package", "wacz_version": WACZ_VERSION, "title": title, "description": description,
        "created": created_s, "software": software,
        "resources": [{"name": Path(p).name.replace(".", "-"), "path": p, "hash": _sha256(data), "bytes": len(data)}
                      for p, data in files.items()],
        "sgi": {**(meta or {}), "records": located},
    }
    if main_page is not None:
        package["mainPageURL"], package["mainPageDate"] = main_page.url, main_page.date
    package_bytes = json.dumps(package, ensure_ascii=False, indent=1).encode("utf-8")
    digest = {"path": DATAPACKAGE, "hash": _sha256(package_bytes)}
    fingerprint = None
    if key is not None:
        signed = sign_hash(digest["hash"], key, created_s, software)
        if tsa_url:
            signed.update(request_timestamp(signed["signature"], tsa_url, tsa_cert))
        digest["signedData"] = signed
        fingerprint = key_fingerprint(key.public_key())
    files[DATAPACKAGE] = package_bytes
    files[DIGEST] = json.dumps(digest, indent=1).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, created_at.timetuple()[:6]), data)
    partial.replace(out)      # a crash never leaves a half-written pack under the final name
    return PackInfo(out, located, fingerprint, bool(key is not None and tsa_url), created_s)


# --- verifying -------------------------------------------------------------------------------------------
def _entry_bytes(fh, info: zipfile.ZipInfo) -> bytes:
    """A stored entry's bytes read at its offset, without the CRC check zipfile would raise on, so a
    changed byte is reported by the digest that names the record rather than as 'bad CRC'."""
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL_HEADER.size)
    fields = _LOCAL_HEADER.unpack(head)
    if fields[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename}")
    name_len, extra_len = fields[9], fields[10]
    fh.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
    return fh.read(info.compress_size)


def read_entries(path: Path) -> tuple[dict[str, bytes], list[str]]:
    """Every entry of the ZIP (name -> bytes) and the problems met reading them."""
    entries, problems = {}, []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            if info.is_dir():
                continue
            try:
                if info.compress_type == zipfile.ZIP_STORED:
                    entries[info.filename] = _entry_bytes(fh, info)
                else:
                    entries[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, struct.error) as exc:
                problems.append(f"{info.filename}: cannot be read from the ZIP ({exc})")
    return entries, problems


def verify_pack(path: str | Path, public_key=None, tsa_cert: bytes | None = None,
                require_signature: bool = True) -> PackCheck:
    """Check the pack: every file's sha256 and size against datapackage.json, no unlisted file, each WARC
    record intact (gzip member, WARC block and payload digests, the sha256 recorded at fetch time),
    datapackage.json against datapackage-digest.json, the signature, and the timestamp when present.
    ``public_key``: the operator's key the auditor expects the pack to be signed with."""
    path = Path(path)
    check = PackCheck(path)
    try:
        entries, problems = read_entries(path)
    except (zipfile.BadZipFile, OSError) as exc:
        check.problems.append(f"{path.name}: not a readable ZIP/WACZ file ({exc})")
        return check
    check.problems += problems
    check.n_files = len(entries)
    if DATAPACKAGE not in entries:
        check.problems.append(f"{DATAPACKAGE} is missing")
        return check
    try:
        package = json.loads(entries[DATAPACKAGE])
    except ValueError as exc:
        check.problems.append(f"{DATAPACKAGE} is not valid JSON ({exc})")
        package = {}
    listed = set()
    for res in package.get("resources", []):
        p = res.get("path")
        listed.add(p)
        if p not in entries:
            check.problems.append(f"{p}: listed in {DATAPACKAGE} but missing from the pack")
            continue
        data = entries[p]
        if res.get("hash") != _sha256(data):
            check.problems.append(f"{p}: sha256 is {_sha256(data)[7:]}, {DATAPACKAGE} says "
                                  f"{str(res.get('hash'))[7:]} (the file was changed)")
        elif res.get("bytes") is not None and res["bytes"] != len(data):
            check.problems.append(f"{p}: {len(data)} bytes, {DATAPACKAGE} says {res['bytes']}")
    for name in sorted(set(entries) - listed - {DATAPACKAGE, DIGEST}):
        check.problems.append(f"{name}: in the pack but not listed in {DATAPACKAGE}")
    records = (package.get("sgi") or {}).get("records") or {}
    by_offset = {v["offset"]: k for k, v in records.items()}
    for p in sorted(x for x in entries if x.endswith((".warc.gz", ".warc"))):
        index = entries.get(INDEX_PATH, b"")
        found, problems = check_warc_records(p, entries[p], index, by_offset)
        check.n_records += found
        check.problems += problems
    _check_digest_and_signature(check, entries, public_key, tsa_cert, require_signature)
    return check


def _check_digest_and_signature(check: PackCheck, entries: dict, public_key, tsa_cert, require_signature) -> None:
    if DIGEST not in entries:
        check.problems.append(f"{DIGEST} is missing: the pack is neither digested nor signed")
        return
    try:
        digest = json.loads(entries[DIGEST])
    except ValueError as exc:
        check.problems.append(f"{DIGEST} is not valid JSON ({exc})")
        return
    actual = _sha256(entries[DATAPACKAGE])
    if digest.get("hash") != actual:
        check.problems.append(f"{DATAPACKAGE}: sha256 is {actual[7:]}, {DIGEST} says {str(digest.get('hash'))[7:]} "
                              "(the manifest was changed after the pack was signed)")
    signed = digest.get("signedData")
    if not signed:
        if require_signature:
            check.problems.append(f"{DIGEST}: the pack is not signed")
        return
    check.created = signed.get("created")
    if signed.get("hash") != digest.get("hash"):
        check.problems.append(f"{DIGEST}: the signed hash is not the hash of {DATAPACKAGE}")
    if not signed.get("publicKey") and signed.get("domainCert"):
        check.problems.append(f"{DIGEST}: signed with a domain certificate ({signed.get('domain')}), which this "
                              "command does not check; use `wacz validate --verify-auth`")
        return
    valid, key = signature_valid(signed)
    if key is not None:
        check.signed_by = key_fingerprint(key)
    if not valid:
        check.problems.append(f"{DIGEST}: the signature does not verify with the public key in the pack")
    elif public_key is not None and key_fingerprint(public_key) != check.signed_by:
        check.problems.append(f"{DIGEST}: signed by key {check.signed_by}, not by the expected key "
                              f"{key_fingerprint(public_key)}")
    try:
        package = json.loads(entries[DATAPACKAGE])
        if package.get("created") != signed.get("created"):
            check.problems.append(f"{DIGEST}: signed 'created' {signed.get('created')} differs from "
                                  f"{DATAPACKAGE}'s {package.get('created')}")
    except ValueError:
        pass
    if signed.get("timeSignature"):
        when, problem = check_timestamp(signed, tsa_cert)
        check.timestamp = when
        if problem:
            check.problems.append(f"{DIGEST}: the RFC 3161 timestamp does not verify ({problem})")


def _index_entries(index: bytes, filename: str) -> list[tuple[int, int, str, str]]:
    out = []
    for line in index.decode("utf-8", "replace").splitlines():
        try:
            key, ts, blob = line.split(" ", 2)
            data = json.loads(blob)
            if data.get("filename", filename) == filename:
                out.append((int(data["offset"]), int(data["length"]), data.get("url", ""), ts))
        except (ValueError, KeyError):
            continue
    return sorted(out)


def check_warc_records(name: str, warc: bytes, index: bytes, snapshots: dict[int, str]) -> tuple[int, list[str]]:
    """Walk the WARC member by member (each record is one gzip member). Every member must inflate
    cleanly and its record must match its own digests; a damaged one is named by offset, URL and the
    snapshot that cites it."""
    base = name.rsplit("/", 1)[-1]
    indexed = {off: (length, url) for off, length, url, _ in _index_entries(index, base)}
    problems, offset, n = [], 0, 0
    view = memoryview(warc)           # members are inflated in place, never copied out
    while offset < len(warc):
        n += 1
        where = f"{name}: record {n} at offset {offset}"
        if offset in indexed:
            where += f" ({indexed[offset][1]}"
            where += f", snapshot {snapshots[offset]})" if offset in snapshots else ")"
        inflate = zlib.decompressobj(31)
        try:
            data = inflate.decompress(view[offset:])
            if not inflate.eof:
                problems.append(f"{where}: truncated gzip member")
                break
        except zlib.error as exc:
            problems.append(f"{where}: damaged (gzip: {exc})")
            end = _next_member(warc, offset, indexed)
            if end is None:
                break
            offset = end
            continue
        length = len(warc) - offset - len(inflate.unused_data)
        if offset in indexed and indexed[offset][0] != length:
            problems.append(f"{where}: {length} bytes, the index says {indexed[offset][0]}")
        problem = _record_problem(data)
        if problem:
            problems.append(f"{where}: {problem}")
        offset += length
    return n, problems


def _next_member(warc: bytes, offset: int, indexed: dict) -> int | None:
    later = sorted(o for o in indexed if o > offset)
    if later:
        return later[0]
    nxt = warc.find(b"\x1f\x8b\x08", offset + 1)
    return nxt if nxt > 0 else None


def _b32_sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _record_problem(data: bytes) -> str | None:
    """What is wrong with one decompressed WARC record, judged by its own digest headers."""
    head_end = data.find(b"\r\n\r\n")
    if not data.startswith(b"WARC/") or head_end < 0:
        return "not a WARC record"
    headers = {}
    for line in data[:head_end].split(b"\r\n")[1:]:
        k, _, v = line.decode("utf-8", "replace").partition(":")
        headers[k.strip().lower()] = v.strip()
    try:
        size = int(headers.get("content-length", ""))
    except ValueError:
        return "no Content-Length"
    block = data[head_end + 4:head_end + 4 + size]
    if len(block) != size:
        return f"block is {len(block)} bytes, Content-Length says {size}"
    if headers.get("warc-block-digest", "").startswith("sha1:") and _b32_sha1(block) != headers["warc-block-digest"]:
        return "WARC-Block-Digest does not match the record's content"
    payload = block
    if headers.get("warc-type") == "response" and headers.get("content-type", "").startswith("application/http"):
        http_end = block.find(b"\r\n\r\n")
        payload = block[http_end + 4:] if http_end >= 0 else b""
    if headers.get("warc-payload-digest", "").startswith("sha1:") and _b32_sha1(payload) != headers["warc-payload-digest"]:
        return "WARC-Payload-Digest does not match the archived body"
    own = headers.get("warc-payload-digest-sha256")
    if own and hashlib.sha256(payload).hexdigest() != own:
        return "the body's sha256 differs from the digest recorded at fetch time"
    return None
