"""Reading evidence back: a snapshot row and its archived WARC record, for auditors, offline.

A snapshot names (WARC file, offset, length); :func:`storage.warc.read_record` reads that one record.
This module finds the snapshot (by id or a unique id prefix), reads its record, checks the body
against the digest recorded at fetch time, and can serve the body on loopback with a sandbox policy
so an archived page never runs its scripts in the auditor's browser.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import text

from sgi.errors import SgiError
from storage import db
from storage.warc import ArchivedResponse, read_record, sha256_hex

MIN_PREFIX = 6
# Served archived bodies are sandboxed: no script, no plugins, no same-origin access, no forms.
SANDBOX_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_SUFFIXES = {"text/html": ".html", "application/xhtml+xml": ".html", "application/json": ".json",
             "application/xml": ".xml", "text/xml": ".xml", "text/plain": ".txt", "text/csv": ".csv",
             "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf",
             "application/javascript": ".js.txt", "text/javascript": ".js.txt", "text/css": ".css.txt"}


@dataclass(frozen=True)
class Evidence:
    snapshot: dict                       # the snapshot row
    record: ArchivedResponse | None      # None when the fetch failed (nothing was archived)
    warc_path: Path | None

    @property
    def body(self) -> bytes | None:
        return self.record.body if self.record else None

    @property
    def digest_ok(self) -> bool | None:
        """Does the archived body still hash to the digest recorded at fetch time? None: nothing to check."""
        if self.record is None or not self.snapshot.get("digest"):
            return None
        return sha256_hex(self.record.body) == self.snapshot["digest"]

    @property
    def content_type(self) -> str:
        return (self.snapshot.get("content_type") or (self.record.header("Content-Type") if self.record else None)
                or "application/octet-stream")


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with ``prefix`` taken literally (ESCAPE '\\')."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def find_snapshot(url: str | None, snapshot_id: str) -> dict:
    """The snapshot row for an id or a unique prefix of one (at least MIN_PREFIX characters)."""
    wanted = (snapshot_id or "").strip().lower()
    if len(wanted) < MIN_PREFIX:
        raise SgiError(f"snapshot id {snapshot_id!r} is too short", f"give at least {MIN_PREFIX} characters of the id")
    engine = db.ensure_schema(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT s.*, r.run_key FROM snapshot s JOIN crawl_run r ON r.id = s.run_id "
                                 "WHERE s.id LIKE :p ESCAPE '\\' LIMIT 2"),
                            {"p": like_prefix(wanted)}).mappings().all()
    if not rows:
        raise SgiError(f"no snapshot {snapshot_id}", "snapshot ids are in the audit report and the snapshot table")
    if len(rows) > 1:
        raise SgiError(f"snapshot id prefix {snapshot_id} is ambiguous", "give more characters of the id")
    return dict(rows[0])


def load_evidence(url: str | None, snapshot_id: str, archive_dir: str | Path | None = None) -> Evidence:
    """The snapshot and its archived record (read from the WARC file at the recorded offset)."""
    row = find_snapshot(url, snapshot_id)
    return evidence_from_row(row, Path(archive_dir) if archive_dir else db.archive_dir(db.database_url(url)))


def evidence_from_row(row: dict, archive_dir: str | Path) -> Evidence:
    """The record a snapshot row points at (reused / not-modified rows point at the earlier record)."""
    if not row.get("warc_file"):
        return Evidence(row, None, None)
    record = read_record(archive_dir, row["warc_file"], int(row["warc_offset"]))
    return Evidence(row, record, Path(archive_dir) / row["warc_file"])


def body_suffix(content_type: str | None) -> str:
    """A file suffix for an archived body by its media type (script and style kept as plain text)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return _SUFFIXES.get(media, ".bin")


def page_title(body: bytes | None, content_type: str | None, encoding: str | None = None) -> str | None:
    """The <title> of an archived HTML page, as text (untrusted: escape it wherever it is shown)."""
    if not body or body_suffix(content_type) != ".html":
        return None
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(body, "lxml", from_encoding=encoding or None)
    except Exception:
        return None
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    return " ".join(title.split()) or None


def _require_loopback(host: str) -> None:
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        raise SgiError(f"refusing to serve evidence on {host}", "evidence is served on loopback only (127.0.0.1)")


def evidence_server(evidence: Evidence, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A loopback HTTP server that answers every GET with the archived body (under its archived media
    type) and a sandbox Content-Security-Policy. Call serve_forever() (or use serve_in_thread)."""
    _require_loopback(host)
    if evidence.record is None:
        raise SgiError(f"snapshot {evidence.snapshot['id']} has no archived response",
                       f"the fetch failed: {evidence.snapshot.get('error') or evidence.snapshot.get('fetch_status')}")
    body, ctype = evidence.record.body, evidence.content_type

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):   # quiet: the command says where it serves
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", SANDBOX_POLICY)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Sgi-Snapshot", evidence.snapshot["id"])
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="sgi-evidence", daemon=True)
    thread.start()
    return thread


# Snapshots whose raw pages carry letters (personal data): kept in the WARC archive only, shown scrubbed
# in audit evidence folders, put into evidence packs only on request.
LETTER_SPIDERS = frozenset({"mailbox"})

SNAPSHOT_COLUMNS = ("id, run_id, city_code, spider, requested_url, final_url, http_status, fetch_status, fetched_at, "
                    "elapsed_ms, digest, content_type, encoding, size, rendered, warc_file, warc_offset, warc_length, "
                    "error")


def snapshots_by_id(db_url: str, ids: list[str]) -> dict[str, dict]:
    """{snapshot id: its row (SNAPSHOT_COLUMNS)} for the given ids, asked in chunks of 500."""
    out: dict[str, dict] = {}
    with db.get_engine(db_url).connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join(f":i{n}" for n in range(len(chunk)))
            rows = conn.execute(text(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshot WHERE id IN ({marks})"),
                                {f"i{n}": v for n, v in enumerate(chunk)}).mappings()
            out.update((r["id"], dict(r)) for r in rows)
    return out
