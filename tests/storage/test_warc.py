from datetime import datetime, timezone

import pytest

from sgi.errors import SgiError
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
