from datetime import datetime, timezone

import pytest

from sgi.errors import SgiError
from warcio.archiveiterator import ArchiveIterator

from storage.warc import WarcArchive, read_record, sha256_hex

GBK_PAGE = "<html><head><meta charset='utf-8'></head><body>政府信息公开 网站地图</body></html>".encode("gbk")


def test_round_trip_keeps_bytes_status_headers_and_digest(tmp_path):
    archive = WarcArchive(tmp_path)
    when = datetime(2026, 6, 30, 8, 0, tzinfo=timezone.utc)
    loc = archive.write_response("http://www.sz.gov.cn.test/", 200, "OK",
                                 [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                                  ("Content-Length", "12")], GBK_PAGE, when)
    loc2 = archive.write_response("http://www.sz.gov.cn.test/x", 412, "", [("Content-Type", "text/html")],
                                  b"<script>document.cookie='a=1'</script>", when, rendered=True)
    archive.close()
    rec = read_record(tmp_path, loc.file, loc.offset)
    assert rec.body == GBK_PAGE                      # bytes untouched (no re-encoding of GBK)
    assert rec.status == 200
    assert rec.url == "http://www.sz.gov.cn.test/"
    assert rec.digest == sha256_hex(GBK_PAGE)
    assert rec.header("Content-Encoding") is None     # body is stored decoded; the header would lie
    assert rec.header("Content-Length") == str(len(GBK_PAGE))
    assert rec.date == "2026-06-30T08:00:00Z"
    second = read_record(tmp_path, loc2.file, loc2.offset)
    assert second.status == 412 and second.rendered and not rec.rendered
    assert loc2.offset == loc.offset + loc.length


def test_rotation_by_size_and_every_record_readable(tmp_path):
    archive = WarcArchive(tmp_path, max_bytes=2_000)
    body = bytes(range(256)) * 20   # incompressible enough to fill files
    locations = [archive.write_response(f"http://a.test/{i}", 200, "OK", [], body + bytes([i]),
                                        datetime.now(timezone.utc)) for i in range(12)]
    archive.close()
    assert len({loc.file for loc in locations}) > 1
    for i, loc in enumerate(locations):
        assert read_record(tmp_path, loc.file, loc.offset).body == body + bytes([i])


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SgiError, match="not found"):
        read_record(tmp_path, "nope.warc.gz", 0)


def _both(directory, loc):
    """The direct reading and warcio's, of one record."""
    from storage.warc import _read_own_record, _read_with_warcio

    path = directory / loc.file
    with open(path, "rb") as fh:
        fh.seek(loc.offset)
        own = _read_own_record(fh, loc.length, path, loc.offset)
        fh.seek(loc.offset)
        general = _read_with_warcio(fh, path, loc.offset)
    return own, general


def test_the_direct_reading_gives_what_warcio_gives(tmp_path):
    archive = WarcArchive(tmp_path)
    when = datetime(2026, 6, 30, 8, 0, tzinfo=timezone.utc)
    cases = [
        ("http://www.sz.gov.cn.test/", 200, "OK", [("Content-Type", "text/html; charset=gbk"),
                                                  ("Content-Encoding", "gzip")], GBK_PAGE, False),
        ("http://a.test/x?q=政务", 412, "", [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2")],
         b"<script>x</script>", True),
        ("http://a.test/file.pdf", 200, "OK", [("Content-Disposition", 'attachment; filename="政策解读.pdf"'),
                                              ("X-Odd", "value: with colon  ")], b"%PDF\r\n\r\n\x00\xff" * 50, False),
        ("http://a.test/empty", 204, "No Content", [], b"", False),
        ("http://a.test/gone", 404, "Not Found", [("Server", "TRS WCM 7.0")], b"not here", False),
    ]
    locations = [archive.write_response(url, status, reason, headers, body, when, rendered=rendered)
                 for url, status, reason, headers, body, rendered in cases]
    resource = archive.write_resource("file:///imports/city.xlsx", "application/vnd.ms-excel", b"PK\x03\x04", when)
    archive.close()
    for loc, case in zip(locations + [resource], cases + [None]):
        own, general = _both(tmp_path, loc)
        assert own is not None, case
        assert own == general, case
    # read_record without the length reads the member to its end all the same
    assert read_record(tmp_path, locations[2].file, locations[2].offset) == _both(tmp_path, locations[2])[1]


def test_records_of_other_writers_are_read_through_warcio(tmp_path):
    """Kept transfer / content encodings and uncompressed WARC files: the direct reading declines."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from storage.warc import WarcLocation

    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    for gzip, name in ((True, "other.warc.gz"), (False, "plain.warc")):
        with open(tmp_path / name, "wb") as fh:
            writer = WARCWriter(fh, gzip=gzip)
            headers = StatusAndHeaders("200 OK", [("Transfer-Encoding", "chunked")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record("http://a.test/", "response", payload=io.BytesIO(chunked),
                                                          http_headers=headers))
            length = fh.tell()
        own, general = _both(tmp_path, WarcLocation(name, 0, length))
        assert own is None
        assert general.body == b"hello"
        assert read_record(tmp_path, name, 0).body == b"hello"


def test_a_reader_keeps_a_few_files_open_and_reads_each_record(tmp_path):
    from storage.warc import WarcReader

    archive = WarcArchive(tmp_path, max_bytes=1_500)
    body = bytes(range(256)) * 20
    locations = [archive.write_response(f"http://a.test/{i}", 200, "OK", [], body + bytes([i]),
                                        datetime.now(timezone.utc)) for i in range(10)]
    archive.close()
    files = {loc.file for loc in locations}
    assert len(files) > 3
    with WarcReader(tmp_path, max_open=2) as reader:
        for _round in range(2):
            for i, loc in enumerate(locations):
                assert reader.read(loc.file, loc.offset, loc.length).body == body + bytes([i])
                assert len(reader._files) <= 2
    assert reader._files == {}
    with pytest.raises(SgiError, match="not found"):
        WarcReader(tmp_path).read("gone.warc.gz", 0)


# A writer that runs out of space (RLIMIT_FSIZE: writes past the limit fail with EFBIG, as on a full disk)
# and stops there, as a crawl does.
FILL_UP = """
import json, os, resource, signal, sys
from datetime import datetime, timezone
from storage.warc import WarcArchive

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # fail the write instead of killing the process
archive = WarcArchive(sys.argv[1], prefix="full")
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
written, error = [], None
def write(i):
    loc = archive.write_response(f"http://a.test/{i}", 200, "OK", [("Content-Type", "application/octet-stream")],
                                 os.urandom(3000), datetime.now(timezone.utc))
    return [loc.file, loc.offset, loc.length]
try:
    for i in range(100):
        written.append(write(i))
except OSError as exc:
    error = str(exc)
try:
    archive.close()     # the crawl stops, the disk still full
except OSError:
    pass
print(json.dumps({"error": error, "written": written}))
"""


def test_a_write_that_runs_out_of_space_leaves_no_half_record(tmp_path):
    """Issue 23 D22: disk full left a truncated gzip member at the end of WARC files (gzip -t failed;
    warcio skipped it silently)."""
    import gzip
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", FILL_UP, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["error"] and 5 <= len(result["written"]) < 100
    (name,) = {f for f, _, _ in result["written"]}
    data = (tmp_path / name).read_bytes()
    gzip.decompress(data)    # every member whole: raises EOFError on a truncated one
    urls = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(open(tmp_path / name, "rb"))]
    assert urls == [f"http://a.test/{i}" for i in range(len(result["written"]))]
    for file, offset, length in result["written"]:
        assert read_record(tmp_path, file, offset, length).status == 200
