"""Evidence packs of runs: which records go in (the evidence a report cites) and where the key and the
timestamp authority come from. The WACZ format itself is storage/wacz.py.

Personal data: the mailbox spider's pages (letter lists and letters, with citizens' names and words)
stay out of a pack unless the operator asks for them (``include_letters``); the pack's datapackage
says how many were left out, and values they support point at no record.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from sgi import __version__
from storage import db
from storage.evidence import LETTER_SPIDERS, page_title, snapshots_by_id
from storage.wacz import PackError, PackInfo, PackRecord, load_private_key, write_pack

KEY_ENV, TSA_ENV, TSA_CERT_ENV = "SGI_PACK_KEY", "SGI_TSA_URL", "SGI_TSA_CERT"
_HTML = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class PackOptions:
    key_file: Path | None = None       # the operator's ECDSA key (PEM); None: SGI_PACK_KEY, else unsigned
    tsa_url: str | None = None         # RFC 3161 authority; None: SGI_TSA_URL, else no timestamp
    tsa_cert: Path | None = None       # its certificate (PEM), to check its answers; None: SGI_TSA_CERT
    include_letters: bool = False

    def resolved(self) -> "PackOptions":
        env = os.environ
        key = self.key_file or (Path(env[KEY_ENV]) if env.get(KEY_ENV) else None)
        cert = self.tsa_cert or (Path(env[TSA_CERT_ENV]) if env.get(TSA_CERT_ENV) else None)
        return PackOptions(key, self.tsa_url or env.get(TSA_ENV) or None, cert, self.include_letters)

    def checked(self) -> "PackOptions":
        """The resolved options after reading the key and the authority's certificate, so a wrong path
        or a bad key stops a command before it crawls (SgiError), not after."""
        from sgi.errors import SgiError

        opts = self.resolved()
        try:
            if opts.key_file:
                load_private_key(opts.key_file)
            if opts.tsa_cert:
                opts.tsa_cert.read_bytes()
        except (PackError, OSError) as exc:
            raise SgiError(f"evidence pack: {exc}", f"check --key / {KEY_ENV} and --tsa-cert / {TSA_CERT_ENV}; "
                           "`sgi evidence keygen FILE` makes a key") from exc
        if opts.tsa_url and not opts.key_file:
            raise SgiError("evidence pack: a timestamp authority is configured but no signing key",
                           f"the authority timestamps the signature: give --key / {KEY_ENV} too")
        if opts.tsa_url and not opts.tsa_url.startswith(("http://", "https://")):
            raise SgiError(f"evidence pack: timestamp authority {opts.tsa_url!r} is not an http(s) URL",
                           f"check --tsa / {TSA_ENV}")
        return opts


def pack_path_for(report: Path) -> Path:
    return report.with_suffix(".wacz")


def _raw_member(archive_dir: Path, file: str, offset: int, length: int | None) -> bytes:
    """The record's gzip member as it lies in the archive (the length is found when not recorded)."""
    from storage.warc import member_length

    with open(archive_dir / file, "rb") as fh:
        fh.seek(offset)
        if not length:
            length = member_length(fh)
            if length is None:
                raise PackError(f"{file}@{offset}: truncated record")
            fh.seek(offset)
        return fh.read(length)


def pack_records(db_url: str, snapshot_ids: list[str], include_letters: bool = False) -> tuple[list[PackRecord], dict]:
    """The archived records of the cited snapshots, in citation order, and what was left out
    (``{"letters": n, "not_archived": n}``): failed fetches have no record."""
    from storage.warc import read_record

    archive_dir = db.archive_dir(db.database_url(db_url))
    rows = snapshots_by_id(db_url, list(dict.fromkeys(snapshot_ids)))
    records, left_out = [], {"letters": 0, "not_archived": 0}
    for sid in dict.fromkeys(snapshot_ids):
        row = rows.get(sid)
        if row is None or not row.get("warc_file"):
            left_out["not_archived"] += 1
            continue
        if row["spider"] in LETTER_SPIDERS and not include_letters:
            left_out["letters"] += 1
            continue
        raw = _raw_member(archive_dir, row["warc_file"], int(row["warc_offset"]), row.get("warc_length"))
        rec = read_record(archive_dir, row["warc_file"], int(row["warc_offset"]), row.get("warc_length"))
        media = (row.get("content_type") or rec.header("Content-Type") or "").split(";")[0].strip().lower()
        is_page = media in _HTML and rec.url.startswith(("http://", "https://"))
        records.append(PackRecord(snapshot_id=sid, raw=raw, url=rec.url, date=rec.date, digest=row.get("digest"),
                                  spider=row["spider"], is_page=is_page,
                                  page_title=page_title(rec.body, media, row.get("encoding")) if is_page else None))
    return records, left_out


def write_run_pack(db_url: str, out: Path, snapshot_ids: list[str], *, run_key: str, city_code: str,
                   options: PackOptions, main_snapshot: str | None = None, title: str | None = None) -> PackInfo:
    """One WACZ of the cited evidence of a run for a city, signed when a key is configured."""
    opts = options.resolved()
    records, left_out = pack_records(db_url, snapshot_ids, opts.include_letters)
    if not records:
        raise PackError(f"no archived record to pack for {city_code} in {run_key}")
    key = load_private_key(opts.key_file) if opts.key_file else None
    tsa_cert = opts.tsa_cert.read_bytes() if opts.tsa_cert else None
    main = next((r for r in records if r.snapshot_id == main_snapshot), None) or next(
        (r for r in records if r.is_page), None)
    meta = {"run_key": run_key, "city_code": city_code, "letters_included": opts.include_letters,
            "left_out": left_out}
    return write_pack(out, records, title=title or f"sgi evidence: {city_code}, run {run_key}",
                      description="WARC records of every response the sgi report of this run cites. "
                                  + ("Letters' raw pages are included." if opts.include_letters else
                                     f"Letters' raw pages (mailbox) are left out: {left_out['letters']}."),
                      software=f"sgi {__version__}", key=key, tsa_url=opts.tsa_url, tsa_cert=tsa_cert,
                      main_page=main, meta=meta)


def run_city_evidence(db_url: str, run_key: str, city_code: str) -> list[str]:
    """Snapshot ids a run's observations of a city cite (snapshot_id, then evidence_snapshots)."""
    import json

    with db.get_engine(db_url).connect() as conn:
        rows = conn.execute(text("SELECT o.snapshot_id, o.evidence_snapshots FROM observation o JOIN crawl_run r "
                                 "ON r.id = o.run_id WHERE r.run_key = :k AND o.city_code = :c "
                                 "ORDER BY o.indicator, o.period"), {"k": run_key, "c": city_code}).all()
    ids = []
    for snap, extra in rows:
        if snap:
            ids.append(snap)
        if isinstance(extra, str):
            extra = json.loads(extra or "[]")
        ids += [s for s in (extra or []) if s]
    return list(dict.fromkeys(ids))


def safe_name(text_: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text_)
