import codecs

from collectors.encoding import decode_html, detect_encoding
from collectors.page import Page

TEXT = "<html><head><title>深圳市人民政府门户网站</title></head><body>政策解读 在线访谈</body></html>"


def test_gbk_page_declaring_utf8_is_decoded_as_gb18030():
    body = TEXT.replace("<head>", '<head><meta charset="utf-8">').encode("gbk")
    text, enc = decode_html(body, "text/html; charset=utf-8")
    assert enc == "gb18030"
    assert "政策解读" in text


def test_declared_gb2312_with_a_character_outside_gb2312():
    # 镕 is not in GB2312; real 'gb2312' pages contain such characters, GB18030 decodes them.
    body = ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">朱镕基 ' + TEXT).encode("gb18030")
    text, enc = decode_html(body, None)
    assert "朱镕基" in text and enc == "gb18030"


def test_utf8_page_declaring_gbk_is_read_as_utf8():
    body = ('<meta charset="gbk">' + TEXT).encode("utf-8")
    assert detect_encoding(body, "text/html; charset=GBK") == "utf-8"


def test_bom_and_big5():
    assert detect_encoding(codecs.BOM_UTF8 + TEXT.encode("utf-8")) == "utf-8-sig"
    big5 = "<html><body>臺北市政府 網站導覽 English</body></html>".encode("big5")
    text, enc = decode_html(big5, "text/html; charset=big5")
    assert "網站導覽" in text and enc == "big5"


def test_undecodable_bytes_do_not_raise():
    page = Page(url="http://x.test/", body=b"\xff\xfe\xfa\x80<html>\x81", headers={})
    assert isinstance(page.text, str)
