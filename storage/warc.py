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
        self._fh = open(self.directory / name, "ab")

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
        with self._lock:
            if self._fh is None or self._fh.tell() >= self.max_bytes:
                self._open_next()
            writer = WARCWriter(self._fh, gzip=True)
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                               http_headers=http_headers, warc_headers_dict=warc_headers)
            offset = self._fh.tell()
            writer.write_record(record)
            self._fh.flush()
            length = self._fh.tell() - offset
            return WarcLocation(self._name, offset, length)

    def write_resource(self, url: str, content_type: str, body: bytes, fetched_at: datetime) -> WarcLocation:
        """A non-HTTP document (an imported file): a WARC 'resource' record."""
        warc_headers = {
            "WARC-Date": fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "WARC-Payload-Digest-SHA256": sha256_hex(body),
        }
        with self._lock:
            if self._fh is None or self._fh.tell() >= self.max_bytes:
                self._open_next()
            writer = WARCWriter(self._fh, gzip=True)
            record = writer.create_warc_record(url, "resource", payload=io.BytesIO(body),
                                               warc_content_type=content_type, warc_headers_dict=warc_headers)
            offset = self._fh.tell()
            writer.write_record(record)
            self._fh.flush()
            return WarcLocation(self._name, offset, self._fh.tell() - offset)

    def close(self) -> None:
        with self._lock:
            if self._fh:
                self._fh.close()
                self._fh = None


def read_record(directory: str | Path, file: str, offset: int) -> ArchivedResponse:
    """Read back one response record written by :class:`WarcArchive`."""
    path = Path(directory) / file
    if not path.exists():
        raise SgiError(f"WARC file {path} not found", "is SGI_ARCHIVE_DIR pointing at the crawl's archive?")
    with open(path, "rb") as fh:
        fh.seek(offset)
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
