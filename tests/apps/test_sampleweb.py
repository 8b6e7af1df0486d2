"""The sample web's stores: Apple-shaped JSON, query routing, sources and truth."""

import json
import re
from urllib.parse import unquote, urlsplit

from sgi.sampleweb.apps import HUAWEI_HOST, ITUNES_HOST, YYB_HOST
from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.model import RequestInfo


def call(site, path):
    r = site.resources.get(path)
    assert r is not None, path
    return r.body(RequestInfo("GET", path, {})) if callable(r.body) else r.body


def test_itunes_api_answers_like_apple():
    web = build_sample_web()
    it = web.sites[ITUNES_HOST]
    data = json.loads(call(it, "/lookup?id=1463587382&country=cn"))
    assert data["resultCount"] == 1
    r = data["results"][0]
    for key in ("trackId", "trackName", "sellerName", "averageUserRating", "userRatingCount", "version",
                "currentVersionReleaseDate", "trackViewUrl", "bundleId", "wrapperType"):
        assert key in r
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["currentVersionReleaseDate"])
    assert json.loads(call(it, "/lookup?id=1045678123&country=cn")) == {"resultCount": 0, "results": []}
    assert json.loads(call(it, "/lookup?id=999&country=cn"))["resultCount"] == 0
    hits = json.loads(call(it, "/search?term=%E6%B7%B1%E5%9C%B3&entity=software&country=cn"))
    assert hits["resultCount"] >= 3
    assert call(it, "/search?term=x&country=cn&callback=cb").startswith(b"cb(")


def test_hosts_sources_and_truth():
    web = build_sample_web()
    codes = {c.code for c in web.cities}
    apps = [s for s in web.sources if s["kind"] == "app"]
    assert len(apps) >= 15
    for s in apps:
        assert s["city"] in codes and urlsplit(s["start_url"]).hostname.endswith(".test")
        assert s["options"]["app"] and s["options"]["store"] in ("apple", "yyb", "huawei")
    assert web.sites[HUAWEI_HOST].resources["/app/C100862471"].needs_browser
    truth = [t for t in web.truth if t.indicator.startswith("app_")]
    cities = {t.city_code for t in truth}
    assert len(cities) >= 6 and {"620100", "230100"}.isdisjoint(cities)    # cities without apps
    assert any(t.indicator == "app_downloads_per_10k" and t.status == "not_applicable" for t in truth)
    # every format of the issue is on a page
    pages = b"".join(r.body for r in web.sites[YYB_HOST].resources.values() if isinstance(r.body, bytes)).decode("gbk")
    pages += b"".join(r.body for r in web.sites[HUAWEI_HOST].resources.values()).decode()
    for form in ("1.2亿次", "3,456万", "10万+", "5000+", "超过1亿", "12.3万次", "１２．５万", "暂无评分", "已下架"):
        assert form in pages, form


def test_every_url_is_a_test_host():
    web = build_sample_web()
    for host in (ITUNES_HOST, YYB_HOST, HUAWEI_HOST):
        site = web.sites[host]
        for path in list(site.resources):
            body = call(site, path)
            text = unquote(body.decode("gbk" if host == YYB_HOST else "utf-8"))
            for m in re.finditer(r"(?i)https?://([a-z0-9.\-]+)", text):
                assert m.group(1).lower().endswith(".test"), (host, path, m.group(0))


def test_deterministic():
    a, b = build_sample_web(), build_sample_web()
    assert [t for t in a.truth if t.indicator.startswith("app_")] == [t for t in b.truth if t.indicator.startswith("app_")]
    assert call(a.sites[YYB_HOST], "/appdetail/com.pingan.smt") == call(b.sites[YYB_HOST], "/appdetail/com.pingan.smt")
