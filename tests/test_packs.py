"""`sgi audit CITY --sample-web` writes a signed WACZ evidence pack beside its report: the reference
validator (py-wacz) accepts it, pywb replays it on loopback (each cited page comes back with the digest
recorded at fetch time), `sgi evidence verify` accepts it and names the record a flipped byte is in,
and letters' pages stay out unless asked for. Expectations come from the database and the archive,
never from the pack under test."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from storage.wacz import DATAPACKAGE, PAGES_PATH, WARC_PATH, verify_pack
from storage.warc import read_record
from tests.tsa_server import serve_tsa

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CITY = "440300"
PYWB_BIN = Path(os.environ.get("SGI_PYWB_BIN", Path(sys.prefix) / "pywb" / "bin"))
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never through a proxy


def _sgi(args: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "sgi", *args], capture_output=True, text=True, timeout=600, env=env)
    if check:
        assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pack")
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc"), "NO_PROXY": "127.0.0.1"}
    env.pop("SGI_PACK_KEY", None)
    env.pop("SGI_TSA_URL", None)
    url = f"sqlite:///{tmp / 'audit.db'}"
    _sgi(["evidence", "keygen", str(tmp / "operator.pem")], env)
    with serve_tsa(tmp / "tsa") as tsa:      # an RFC 3161 authority on loopback
        proc = _sgi(["audit", CITY, "--sample-web", "-o", str(tmp / "report.html"), "--key", str(tmp / "operator.pem"),
                     "--tsa", tsa["url"], "--tsa-cert", str(tsa["cert_file"]), "--db", url], env)
        assert tsa["served"] == ["application/timestamp-query"]
    con = sqlite3.connect(tmp / "audit.db")
    con.row_factory = sqlite3.Row
    snapshots = {r["id"]: dict(r) for r in con.execute("SELECT * FROM snapshot")}
    con.close()
    pack = tmp / "report.wacz"
    with zipfile.ZipFile(pack) as zf:
        package = json.loads(zf.read(DATAPACKAGE))
        warc = zf.read(WARC_PATH)
        pages = [json.loads(line) for line in zf.read(PAGES_PATH).decode("utf-8").splitlines()[1:]]
    return {"tmp": tmp, "env": env, "url": url, "pack": pack, "package": package, "warc": warc, "pages": pages,
            "snapshots": snapshots, "stdout": proc.stdout, "tsa_cert": tsa["cert_file"]}


def test_the_audit_pack_is_a_valid_signed_wacz_of_the_cited_records(audited):
    from wacz.main import main as wacz_main

    assert f"wrote {audited['pack']}" in audited["stdout"] and "signed by sha256:" in audited["stdout"]
    assert "timestamped" in audited["stdout"]
    assert wacz_main(["validate", "-f", str(audited["pack"])]) == 0
    proc = _sgi(["evidence", "verify", str(audited["pack"]), "--public-key", str(audited["tmp"] / "operator.pem.pub"),
                 "--tsa-cert", str(audited["tsa_cert"])], audited["env"])
    assert ": OK:" in proc.stdout and "RFC 3161 timestamp 20" in proc.stdout
    records = audited["package"]["sgi"]["records"]
    assert records
    # Every packed record is the archived record byte for byte (the crawler's gzip member).
    for sid, rec in records.items():
        snap = audited["snapshots"][sid]
        with open(audited["tmp"] / "warc" / snap["warc_file"], "rb") as fh:
            fh.seek(snap["warc_offset"])
            assert audited["warc"][rec["offset"]:rec["offset"] + rec["length"]] == fh.read(snap["warc_length"])
    spiders = {audited["snapshots"][sid]["spider"] for sid in records}
    assert "audit" in spiders                  # the portal screenshot
    assert "mailbox" not in spiders            # letters' pages left out by default
    assert audited["package"]["sgi"]["left_out"]["letters"] > 0


@contextmanager
def wayback(root: Path):
    """pywb's `wayback` serving the collections of ``root`` on 127.0.0.1 (a free port); yields its base URL."""
    if not (PYWB_BIN / "wayback").exists():
        pytest.skip(f"pywb is not installed in {PYWB_BIN} (./dev setup installs it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(PYWB_BIN / "wayback"), "--bind", "127.0.0.1", "--port", str(port)], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                LOOPBACK.open(base + "/", timeout=5).read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()[-3000:]
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _replayed(base: str, coll: str, ts: str, url: str):
    """(status, body) of a capture replayed unchanged (pywb's id_ mode)."""
    try:
        answer = LOOPBACK.open(f"{base}/{coll}/{ts}id_/{url}", timeout=30)
    except urllib.error.HTTPError as exc:    # an archived 404 page is replayed as a 404
        answer = exc
    return answer.status, answer.read()


def test_pywb_replays_each_cited_page_with_its_recorded_digest(audited, tmp_path):
    if not (PYWB_BIN / "wb-manager").exists():
        pytest.skip(f"pywb is not installed in {PYWB_BIN} (./dev setup installs it)")
    subprocess.run([str(PYWB_BIN / "wb-manager"), "init", "sgi"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([str(PYWB_BIN / "wb-manager"), "add", "--unpack-wacz", "sgi", str(audited["pack"])], cwd=tmp_path,
                   check=True, capture_output=True)
    assert audited["pages"]
    with wayback(tmp_path) as base:
        for page in audited["pages"]:
            snap = audited["snapshots"][page["id"]]
            ts = "".join(ch for ch in page["ts"] if ch.isdigit())[:14]
            status, body = _replayed(base, "sgi", ts, page["url"])
            assert status == snap["http_status"], page
            assert hashlib.sha256(body).hexdigest() == snap["digest"], page


def test_pywb_browses_the_whole_archive_through_its_cdxj_index(audited, tmp_path):
    """`sgi archive index` writes a CDXJ index of the archive directory that pywb replays from."""
    warc = audited["tmp"] / "warc"
    proc = _sgi(["archive", "index", "--archive-dir", str(warc), "-o", str(tmp_path / "index.cdxj")], audited["env"])
    assert "wrote" in proc.stdout
    archived = {s["id"]: s for s in audited["snapshots"].values() if s["warc_file"] and s["fetch_status"] == "ok"
                and (s["final_url"] or "").startswith("http")}
    lines = (tmp_path / "index.cdxj").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines) and len(lines) >= len({(s["warc_file"], s["warc_offset"]) for s in archived.values()})
    (tmp_path / "config.yaml").write_text(f"collections:\n  archive:\n    index_paths: {tmp_path / 'index.cdxj'}\n"
                                          f"    archive_paths: {warc}/\n", encoding="utf-8")
    with wayback(tmp_path) as base:
        for snap in list(archived.values())[:12]:
            record = read_record(warc, snap["warc_file"], snap["warc_offset"], snap["warc_length"])
            ts = "".join(ch for ch in record.date if ch.isdigit())[:14]
            status, body = _replayed(base, "archive", ts, record.url)
            assert (status, hashlib.sha256(body).hexdigest()) == (snap["http_status"], snap["digest"]), snap["id"]


def test_one_flipped_byte_in_a_cited_page_fails_verify_naming_the_record(audited, tmp_path):
    page = audited["pages"][0]
    rec = audited["package"]["sgi"]["records"][page["id"]]
    data = bytearray(audited["pack"].read_bytes())
    start = bytes(data).find(audited["warc"][:64])            # the stored WARC inside the ZIP
    assert start > 0
    data[start + rec["offset"] + rec["length"] // 2] ^= 0x01
    bad = tmp_path / "changed.wacz"
    bad.write_bytes(bytes(data))
    proc = _sgi(["evidence", "verify", str(bad)], audited["env"], check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "INVALID" in proc.stdout
    assert f"{WARC_PATH}: sha256 is" in proc.stderr
    assert "record" in proc.stderr and f"at offset {rec['offset']}" in proc.stderr
    assert f"snapshot {page['id']}" in proc.stderr and page["url"] in proc.stderr


def test_report_links_each_value_to_its_record_in_the_pack(audited):
    soup = BeautifulSoup((audited["tmp"] / "report.html").read_text(encoding="utf-8"), "lxml")
    records = audited["package"]["sgi"]["records"]
    linked = withheld = 0
    for row in soup.select("tr.indicator"):
        link = row.select_one("a.evidence-link")
        if link is None:
            continue
        sid = link["data-snapshot"]
        ref = row.select_one("a.pack-record")
        if audited["snapshots"][sid]["spider"] == "mailbox":
            assert ref is None and "letters" in row.select_one(".pack-withheld").get_text()
            withheld += 1
            continue
        assert ref is not None, sid
        offset, length = int(ref["data-offset"]), int(ref["data-length"])
        assert ref["href"] == f"report.wacz#{sid}"
        snap = audited["snapshots"][sid]
        with open(audited["tmp"] / "warc" / snap["warc_file"], "rb") as fh:
            fh.seek(snap["warc_offset"])
            assert audited["warc"][offset:offset + length] == fh.read(snap["warc_length"])
        assert records[sid]["offset"] == offset
        linked += 1
    assert linked > 5 and withheld > 0
    assert soup.select_one("#evidence-pack a")["href"] == "report.wacz"


def test_letters_go_in_only_when_asked(audited, tmp_path, monkeypatch):
    from sgi.audit import spider_indicators
    from sgi.packs import PackOptions, write_run_pack
    from sgi.report.audit import collect_audit

    monkeypatch.setenv("SGI_ARCHIVE_DIR", str(audited["tmp"] / "warc"))
    con = sqlite3.connect(audited["tmp"] / "audit.db")
    (key,) = con.execute("SELECT run_key FROM crawl_run").fetchone()
    con.close()
    cited = list(collect_audit(audited["url"], key, CITY, spider_indicators())["snapshots"])
    info = write_run_pack(audited["url"], tmp_path / "with-letters.wacz", cited, run_key=key, city_code=CITY,
                          options=PackOptions(key_file=audited["tmp"] / "operator.pem", include_letters=True))
    archived = {sid for sid in cited if audited["snapshots"][sid]["warc_file"]}
    assert set(info.records) == archived                   # every cited record, letters included
    assert set(audited["package"]["sgi"]["records"]) == {   # the audit's own pack: the same but letters
        sid for sid in archived if audited["snapshots"][sid]["spider"] != "mailbox"}
    spiders = {audited["snapshots"][sid]["spider"] for sid in info.records}
    assert "mailbox" in spiders
    assert verify_pack(info.path).ok
    assert json.loads(zipfile.ZipFile(info.path).read(DATAPACKAGE))["sgi"]["letters_included"] is True


def test_nightly_packs_writes_one_verified_pack_per_city_of_the_run(tmp_path):
    """`sgi nightly --packs`: one pack per city and run, signed with SGI_PACK_KEY, holding the records
    the run's observations cite (letters' pages left out)."""
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp_path / "warc"), "SGI_PACK_KEY": str(tmp_path / "operator.pem"),
           "COLUMNS": "200"}
    env.pop("SGI_TSA_URL", None)
    url = f"sqlite:///{tmp_path / 'sgi.db'}"
    _sgi(["evidence", "keygen", str(tmp_path / "operator.pem")], env)
    proc = _sgi(["nightly", "--db", url, "--sample-web", "-c", CITY, "-c", "620100", "-s", "portal", "-s", "mailbox",
                 "--report-dir", str(tmp_path / "reports"), "--packs"], env, check=False)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr      # 3: a health check failed, packs still written
    con = sqlite3.connect(tmp_path / "sgi.db")
    (run_key,) = con.execute("SELECT run_key FROM crawl_run").fetchone()
    cited: dict[str, set] = {}
    for code, snap, extra in con.execute("SELECT city_code, snapshot_id, evidence_snapshots FROM observation"):
        cited.setdefault(code, set()).update([snap] if snap else [], json.loads(extra or "[]"))
    archived = {sid: spider for sid, spider in con.execute("SELECT id, spider FROM snapshot WHERE warc_file IS NOT NULL")}
    con.close()
    packs = sorted((tmp_path / "reports" / "packs").glob("*.wacz"))
    assert [p.name for p in packs] == sorted(f"{run_key}-{code}.wacz" for code in cited) and len(packs) == 2
    for code in cited:
        pack = tmp_path / "reports" / "packs" / f"{run_key}-{code}.wacz"
        assert f"evidence pack {pack}" in proc.stdout
        check = verify_pack(pack)
        assert check.ok, check.problems
        package = json.loads(zipfile.ZipFile(pack).read(DATAPACKAGE))
        expected = {sid for sid in cited[code] if sid in archived and archived[sid] != "mailbox"}
        assert set(package["sgi"]["records"]) == expected
        assert package["sgi"]["left_out"]["letters"] == sum(archived.get(s) == "mailbox" for s in cited[code]) > 0
    # The packs of a run already in the database (e.g. after the timestamp authority was down).
    for pack in packs:
        pack.unlink()
    again = _sgi(["nightly", "report", "--run-key", run_key, "--db", url, "--report-dir", str(tmp_path / "reports"),
                  "--packs"], env, check=False)
    assert again.returncode in (0, 3), again.stdout + again.stderr
    assert sorted((tmp_path / "reports" / "packs").glob("*.wacz")) == packs
    assert all(verify_pack(p).ok for p in packs)


def test_an_unreadable_key_stops_the_audit_before_it_crawls(tmp_path):
    env = {**os.environ, "SGI_ARCHIVE_DIR": str(tmp_path / "warc")}
    proc = _sgi(["audit", CITY, "--sample-web", "-o", str(tmp_path / "r.html"), "--key", str(tmp_path / "no-key.pem"),
                 "--db", f"sqlite:///{tmp_path / 'a.db'}"], env, check=False)
    assert proc.returncode == 2 and "cannot read the signing key" in proc.stderr, proc.stderr
    assert not (tmp_path / "warc").exists() and not (tmp_path / "r.html").exists()
