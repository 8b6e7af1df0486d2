"""The evidence archive: every response used to derive a value is written to WARC files (warcio).

Files are gzip-compressed per record and rotated by size; a snapshot row stores (file, offset, length)
so one record can be read back without scanning. The body stored is the payload as the parser saw it
(after transfer decoding and decompression); the record keeps the original Content-Encoding in a
WARC header so an auditor knows the wire form differed.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from sgi.errors import SgiError

DEFAULT_MAX_BYTES = 1_000_000_000  # rotate WARC files at ~1 GB, the common archiving practice
_DROP_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


@dataclass(frozen=True)
class WarcLocation:
    file: str      # relative to the archive directory
    offset: int
    length: int


@dataclass(frozen=True)
class ArchivedResponse:
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    date: str
    digest: str | None
    rendered: bool

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class WarcArchive:
    """Append-only WARC writer with size-based rotation. Thread-safe; one instance per process."""

    def __init__(self, directory: str | Path, prefix: str = "sgi", max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._fh = None
        self._name = None

    def _open_next(self) -> None:
        if self._fh:
            self._fh.close()
        # A new file per process start and per rotation: never append to a file another process may hold.
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        seq = 0
        while True:
            name = f"{self.prefix}-{stamp}-{os.getpid()}-{seq:05d}.warc.gz"
            if not (self.directory / name).exists():
                break
            seq += 1
        self._name = name
        # Unbuffered: a record goes to the file in write() calls of our own, none left in a buffer that a
        # later flush would append after a failed record was cut off.
        self._fh = open(self.directory / name, "ab", buffering=0)

    def write_response(self, url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                       fetched_at: datetime, *, rendered: bool = False,
                       request_headers: list[tuple[str, str]] | None = None) -> WarcLocation:
        kept = [(k, v) for k, v in headers if k.lower() not in _DROP_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {reason or ''}".strip(), kept, protocol="HTTP/1.1")
        warc_headers = {
            "WARC-Date": fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "WARC-Payload-Digest-SHA256": sha256_hex(body),
        }
        original_encoding = [v for k, v in headers if k.lower() == "content-encoding"]
        if original_encoding:
            warc_headers["WARC-Original-Content-Encoding"] = original_encoding[0]
        if rendered:
            warc_headers["WARC-Rendered-By"] = "chromium (playwright)"
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=http_headers, warc_headers_dict=warc_headers))
        return self._append(buffer.getvalue())

    def write_resource(self, url: str, content_type: str, body: bytes, fetched_at: datetime) -> WarcLocation:
        """A non-HTTP document (an imported file): a WARC 'resource' record."""
        warc_headers = {
            "WARC-Date": fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "WARC-Payload-Digest-SHA256": sha256_hex(body),
        }
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        writer.write_record(writer.create_warc_record(url, "resource", payload=io.BytesIO(body),
                                                      warc_content_type=content_type, warc_headers_dict=warc_headers))
        return self._append(buffer.getvalue())

    def _append(self, record: bytes) -> WarcLocation:
        """Append one whole record (a gzip member built in memory), or nothing: a write that fails part
        way (disk full) is cut off again, so a file never ends in half a member that readers skip."""
        with self._lock:
            if self._fh is None or self._fh.tell() >= self.max_bytes:
                self._open_next()
            offset = self._fh.tell()
            try:
                view = memoryview(record)
                while view:
                    view = view[self._fh.write(view):]
            except OSError:
                try:
                    os.ftruncate(self._fh.fileno(), offset)
                    self._fh.seek(offset)
                except OSError:
                    pass
                raise
            return WarcLocation(self._name, offset, len(record))

    def close(self) -> None:
        with self._lock:
            if self._fh:
                self._fh.close()
                self._fh = None


def member_length(fh) -> int | None:
    """The length of the gzip member (one record) that starts at ``fh``'s position, or None when it is cut
    short or damaged. Reads on from there."""
    inflate = zlib.decompressobj(wbits=31)      # one gzip member
    used = 0
    while not inflate.eof:
        chunk = fh.read(1 << 20)
        if not chunk:
            return None
        try:
            inflate.decompress(chunk)
        except zlib.error:
            return None
        used += len(chunk) - len(inflate.unused_data)
    return used


def cut_partial_tail(path: str | Path, start: int = 0) -> int:
    """Cut a half-written record (gzip member) off the end of a WARC file, as a process killed mid-write
    leaves it; whole members stay. ``start``: an offset known to begin a member (the end of the last
    record the database cites), so only the tail is read. Returns the bytes removed."""
    path = Path(path)
    with open(path, "r+b") as fh:
        size = fh.seek(0, os.SEEK_END)
        good = start
        fh.seek(good)
        while good < size:
            used = member_length(fh)
            if used is None:
                break
            good += used
            fh.seek(good)
        if good < size:
            fh.truncate(good)
        return size - good


def read_record(directory: str | Path, file: str, offset: int, length: int | None = None) -> ArchivedResponse:
    """Read back one response record written by :class:`WarcArchive` (``length``: the record's length
    in the file, when known). Records this module wrote are read directly (one gzip member, two header
    blocks); anything else (other writers, transfer or content encodings kept) goes through warcio."""
    with WarcReader(directory) as reader:
        return reader.read(file, offset, length)


class WarcReader:
    """Reads records of one archive directory, keeping the files it read open (an incremental crawl
    reads a thousand records from a few files; opening each file per record cost as much as reading
    it). Thread-safe; close() when done."""

    def __init__(self, directory: str | Path, max_open: int = 16):
        self.directory = Path(directory)
        self.max_open = max_open
        self._files: dict[str, object] = {}     # file name -> open handle, least recently used first
        self._lock = threading.Lock()

    def read(self, file: str, offset: int, length: int | None = None) -> ArchivedResponse:
        path = self.directory / file
        with self._lock:
            fh = self._files.pop(file, None)
            if fh is None:
                try:
                    fh = open(path, "rb")
                except FileNotFoundError:
                    raise SgiError(f"WARC file {path} not found",
                                   "is SGI_ARCHIVE_DIR pointing at the crawl's archive?") from None
                while len(self._files) >= self.max_open:
                    self._files.pop(next(iter(self._files))).close()
            self._files[file] = fh
            fh.seek(offset)
            record = _read_own_record(fh, length, path, offset)
            if record is not None:
                return record
            fh.seek(offset)
            return _read_with_warcio(fh, path, offset)

    def close(self) -> None:
        with self._lock:
            for fh in self._files.values():
                fh.close()
            self._files.clear()

    def __enter__(self) -> "WarcReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read_with_warcio(fh, path: Path, offset: int) -> ArchivedResponse:
    for record in ArchiveIterator(fh):
        if record.rec_type not in ("response", "resource"):
            raise SgiError(f"{path}@{offset} is a {record.rec_type} record, not a response")
        body = record.content_stream().read()
        if record.rec_type == "resource":   # an archived file: no HTTP exchange
            return ArchivedResponse(
                url=record.rec_headers.get_header("WARC-Target-URI"), status=200,
                headers=[("Content-Type", record.rec_headers.get_header("Content-Type") or "")], body=body,
                date=record.rec_headers.get_header("WARC-Date"),
                digest=record.rec_headers.get_header("WARC-Payload-Digest-SHA256"), rendered=False)
        status = int(record.http_headers.get_statuscode())
        return ArchivedResponse(
            url=record.rec_headers.get_header("WARC-Target-URI"),
            status=status,
            headers=list(record.http_headers.headers),
            body=body,
            date=record.rec_headers.get_header("WARC-Date"),
            digest=record.rec_headers.get_header("WARC-Payload-Digest-SHA256"),
            rendered=bool(record.rec_headers.get_header("WARC-Rendered-By")),
        )
    raise SgiError(f"no WARC record at {path}@{offset}")


# An incremental crawl reads back about a thousand records a night (pages not due, 304s); through
# warcio's general reader that was a tenth of the crawl's time. The direct reading below gives the same
# ArchivedResponse (headers decoded and folded as warcio does: tests/storage/test_warc.py compares them)
# and returns None for anything it was not written to read.
_ENCODED = ("content-encoding", "transfer-encoding")


def _read_own_record(fh, length: int | None, path: Path, offset: int) -> ArchivedResponse | None:
    inflate = zlib.decompressobj(31)
    parts = []
    try:
        while not inflate.eof:
            chunk = fh.read(length or 65536)
            if not chunk:
                return None
            parts.append(inflate.decompress(chunk))
    except zlib.error:
        return None                 # not a gzip member: an uncompressed WARC, or not ours
    data = b"".join(parts)
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0 or not data.startswith(b"WARC/"):
        return None
    warc = _header_lines(data[:head_end].split(b"\r\n")[1:])
    try:
        size = int(_first(warc, "content-length"))
    except (TypeError, ValueError):
        return None
    content = data[head_end + 4:head_end + 4 + size]
    if len(content) != size:
        return None
    kind = _first(warc, "warc-type")
    if kind == "resource":
        return ArchivedResponse(url=_first(warc, "warc-target-uri"), status=200,
                                headers=[("Content-Type", _first(warc, "content-type") or "")], body=content,
                                date=_first(warc, "warc-date"), digest=_first(warc, "warc-payload-digest-sha256"),
                                rendered=False)
    if kind != "response":
        if kind:
            raise SgiError(f"{path}@{offset} is a {kind} record, not a response")
        return None
    http_end = content.find(b"\r\n\r\n")
    if http_end < 0:
        return None
    lines = content[:http_end].split(b"\r\n")
    status_line = _decoded(lines[0]).rstrip().split(" ", 1)
    headers = _header_lines(lines[1:])
    if len(status_line) < 2 or any(name.lower() in _ENCODED for name, _ in headers):
        return None
    try:
        status = int(status_line[1].strip().split(" ", 1)[0])
    except ValueError:
        return None
    return ArchivedResponse(url=_first(warc, "warc-target-uri"), status=status, headers=headers,
                            body=content[http_end + 4:], date=_first(warc, "warc-date"),
                            digest=_first(warc, "warc-payload-digest-sha256"),
                            rendered=bool(_first(warc, "warc-rendered-by")))


def _decoded(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("iso-8859-1")


def _header_lines(lines: list[bytes]) -> list[tuple[str, str]]:
    """Header lines as warcio reads them: 'Name: value', continuation lines folded into the value."""
    headers: list[list] = []
    for raw in lines:
        line = _decoded(raw).rstrip()
        if line.startswith((" ", "\t")):
            if headers and headers[-1][1] is not None:
                headers[-1][1] += line
            continue
        name, sep, value = line.partition(":")
        headers.append([name.rstrip(" \t"), value.lstrip() if sep else None])
    return [(name, value) for name, value in headers if value is not None]


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
