"""Store answers saved from the sample web (and one hand-written store page in another style)."""

from datetime import date
from pathlib import Path

import pytest

from collectors.apps import (ABSENT, OK, android_listing, android_search, apple_lookup, apple_search,
                             parse_itunes)
from collectors.page import Page

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
CRAWL = date(2026, 6, 30)


def page(name, url, status=200, ctype=None):
    headers = {"Content-Type": ctype} if ctype else {}
    return Page(url=url, body=(FIX / name).read_bytes(), headers=headers, status=status)


def test_apple_lookup_reads_the_documented_fields():
    l = apple_lookup((FIX / "itunes_lookup_1463587382.json").read_bytes(), "1463587382")
    assert l.status == OK and l.store == "apple" and l.app_id == "1463587382"
    assert l.name == "i深圳" and l.developer == "深圳市政务服务和数据管理局"
    assert l.rating == pytest.approx(4.71234) and l.rating_count == 85231
    assert l.version == "5.2.1" and l.release_date == date(2026, 6, 18)
    assert l.size_bytes and l.url.startswith("https://apps.apple.com.test/cn/app/")


def test_apple_release_date_is_the_beijing_date():
    # i厦门: 18:30 UTC on 27 June is 02:30 on 28 June in Beijing
    body = (FIX / "itunes_search_shenzhen.json").read_text("utf-8")
    assert "T" in body
    from collectors.apps import _apple_date
    assert _apple_date("2026-06-27T18:30:00Z") == date(2026, 6, 28)
    assert _apple_date("2026-06-27T15:59:59Z") == date(2026, 6, 27)


def test_apple_removed_app_is_absent():
    body = (FIX / "itunes_lookup_removed.json").read_bytes()
    assert parse_itunes(body) == []
    l = apple_lookup(body, "1045678123")
    assert l.status == ABSENT and l.rating is None and "resultCount 0" in l.evidence


def test_apple_app_without_ratings_has_no_rating_not_zero():
    l = apple_lookup((FIX / "itunes_lookup_no_ratings.json").read_bytes(), "6443210987")
    assert l.status == OK and l.rating is None and l.rating_count == 0
    l2 = apple_lookup('{"resultCount":1,"results":[{"trackId":5,"trackName":"x","averageUserRating":0,'
                      '"userRatingCount":0,"wrapperType":"software"}]}', "5")
    assert l2.rating is None and l2.rating_count == 0


def test_apple_jsonp_and_search():
    body = (FIX / "itunes_search_shenzhen.json").read_text("utf-8")
    assert len(parse_itunes("cb(" + body + ");")) == len(parse_itunes(body))
    names = {l.name for l in apple_search(body)}
    assert "i深圳" in names and "深圳地铁" in names
    with pytest.raises(ValueError):
        parse_itunes('{"error": "bad"}')


def test_server_rendered_store_page_gbk():
    l = android_listing(page("yyb_com.pingan.smt.html", "http://sj.qq.com.test/appdetail/com.pingan.smt"), "yyb",
                        "com.pingan.smt", CRAWL)
    assert l.status == OK and l.name == "i深圳"
    assert (l.rating, l.rating_count) == (4.1, 23000)
    assert (l.downloads, l.downloads_note) == (120_000_000, "rounded to 10^7")
    assert l.version == "5.2.0" and l.release_date == date(2026, 6, 11)
    assert l.developer == "深圳市政务服务和数据管理局" and l.size_bytes == int(86.3 * 1024 ** 2)


def test_taken_down_app_answered_200_is_absent():
    l = android_listing(page("yyb_removed.html", "http://sj.qq.com.test/appdetail/com.wuhan.wzw"), "yyb",
                        "com.wuhan.wzw", CRAWL)
    assert l.status == ABSENT and "下架" in l.evidence


def test_store_404_is_absent():
    p = Page(url="http://sj.qq.com.test/appdetail/x", body=b"<html><body>404</body></html>", status=404)
    assert android_listing(p, "yyb", "x").status == ABSENT


def test_android_no_ratings_yet():
    l = android_listing(page("yyb_no_ratings.html", "http://sj.qq.com.test/appdetail/com.qingdao.zwt"), "yyb",
                        "com.qingdao.zwt", CRAWL)
    assert l.status == OK and l.rating is None and l.rating_count == 0
    assert (l.downloads, l.downloads_note) == (5000, "lower bound")


def test_full_width_digits_on_a_store_page():
    l = android_listing(page("yyb_fullwidth.html", "http://sj.qq.com.test/appdetail/com.nanning.ainanning"), "yyb",
                        "com.nanning.ainanning", CRAWL)
    assert (l.rating, l.rating_count, l.downloads) == (3.7, 2345, 125_000)


@pytest.mark.parametrize("name,rating,count,downloads,note,version,updated", [
    ("huawei_rendered_C100862471.html", 4.6, 12345, 34_560_000, "rounded to 10^4", "5.2.1", date(2026, 6, 19)),
    ("huawei_rendered_C100234567.html", 4.4, 86000, 100_000_000, "lower bound", "4.0.3", date(2026, 6, 26)),
    ("huawei_rendered_C100998877.html", 4.7, 1234, 5000, "lower bound", "6.1.0", date(2026, 6, 28)),
])
def test_browser_rendered_store_page(name, rating, count, downloads, note, version, updated):
    p = Page(url="https://appgallery.huawei.com.test/app/x", body=(FIX / name).read_bytes(), rendered=True)
    l = android_listing(p, "huawei", "pkg", CRAWL)
    assert l.status == OK
    assert (l.rating, l.rating_count, l.downloads, l.downloads_note) == (rating, count, downloads, note)
    assert (l.version, l.release_date) == (version, updated)


def test_unrendered_shell_is_an_empty_shell_not_a_listing():
    from collectors.fetch import classify_fetch, is_empty_shell
    p = page("huawei_shell.html", "https://appgallery.huawei.com.test/app/C100862471")
    assert is_empty_shell(p) or classify_fetch(p) == "blocked"


def test_other_store_style_jsonld_ten_point_scale():
    l = android_listing(page("other_store_jsonld.html", "https://app.mi.com.test/details?id=com.cq.ykb"), "mi",
                        "com.cq.ykb", CRAWL)
    assert l.status == OK and l.name == "渝快办"
    assert l.rating == pytest.approx(4.2) and l.rating_count == 3120      # 8.4 of 10 = 4.2 of 5
    assert (l.downloads, l.downloads_note) == (210_000_000, "rounded to 10^7")
    assert l.version == "3.2.7" and l.release_date == date(2026, 6, 3)
    assert l.developer == "重庆市大数据应用发展管理局"


def test_rating_label_never_reads_a_count():
    html = "<html><body><h1>某app</h1><div>评分</div><div>1,234人评分</div><p>版本：1.0</p></body></html>"
    l = android_listing(Page(url="http://s.test/a", body=html.encode()), "s", "a")
    assert l.rating is None and l.rating_count == 1234


def test_android_search_results():
    p = page("yyb_search.html", "http://sj.qq.com.test/search?q=%E6%B7%B1%E5%9C%B3")
    hits = android_search(p)
    assert ("i深圳", "http://sj.qq.com.test/appdetail/com.pingan.smt") in hits


def test_a_page_without_recognisable_fields_is_an_error_not_absent():
    p = Page(url="http://s.test/a", body="<html><body><div id=app></div><p>加载中</p></body></html>".encode())
    assert android_listing(p, "s", "a").status == "error"
