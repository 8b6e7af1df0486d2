"""The sample web's app stores: an iTunes-compatible Search/Lookup API and two Android store styles.

:func:`add_apps` adds three store hosts, the ``app`` source entries of seven cities (one entry per app
and store; the options name the app, its Apple id / Android package and, for the sample web, the city's
population) and the truth rows of the app indicators.

=============================  ==========================================================================
host                           what it imitates
=============================  ==========================================================================
itunes.apple.com.test          Apple's public iTunes Search API: ``/lookup?id=…&country=cn`` and
                               ``/search?term=…&entity=software&country=cn`` answering Apple's documented
                               JSON (``resultCount``, ``results`` with ``trackId``, ``trackName``,
                               ``sellerName``, ``averageUserRating``, ``userRatingCount``, ``version``,
                               ``currentVersionReleaseDate`` in UTC, ``fileSizeBytes``, ``trackViewUrl``);
                               unknown or removed ids answer ``resultCount: 0``; content type
                               text/javascript like Apple's
sj.qq.com.test                 a server-rendered store (应用宝 style): GBK pages, labels and values in
                               separate elements, '1.2亿次下载' / '下载量：10万+' / '暂无评分', a taken-down
                               app answered with HTTP 200 and '该应用已下架', ``/search?q=`` result pages
appgallery.huawei.com.test     a single-page store (AppGallery style): ``/app/<id>`` is an empty shell
                               (needs_browser) whose script fetches ``/webedge/appinfo/<package>.json``
                               and writes the page: numbers above their labels ('4.6' / '评分'),
                               '3,456万 次安装', '超过1亿次安装'
=============================  ==========================================================================

Hard cases: an app removed from the store (Apple ``resultCount: 0`` and the Android page says 已下架:
absent in both, so it is not counted), an app nobody rated yet (Apple omits the rating fields, the
Android page says 暂无评分), Apple dates that fall on the next day in Beijing time, download counts in every
format (rounded 亿/万, '+' lower bounds, 超过, full-width digits, thousands separators), a city without a
known population (app_downloads_per_10k is not_applicable), cities without any app source.

Truth follows ``sgi/data/indicators.yaml``: ratings are weighted by rating counts over listings with at
least one rating; download counts are the numbers the texts state (lower bounds counted at their
bound); dates are Beijing dates; the 90-day trend is not_applicable on a first crawl.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from html import escape
from typing import Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sgi.sampleweb.model import RequestInfo, Resource, SampleWeb, Site, TruthRow

ITUNES_HOST = "itunes.apple.com.test"
YYB_HOST = "sj.qq.com.test"
HUAWEI_HOST = "appgallery.huawei.com.test"
CN = timezone(timedelta(hours=8))


class QueryRoutes(dict):
    """Resources by path; a path with a query string falls back to the resource of its bare path
    (an API answers any query; the body function reads the query)."""

    def get(self, key, default=None):
        if key in self:
            return self[key]
        bare = key.split("?", 1)[0]
        if bare != key and bare in self:
            return self[bare]
        return default


@dataclass
class AndroidSpec:
    store: str                      # yyb | huawei
    rating: Optional[float]         # None: no ratings yet
    rating_count_text: str          # as the page prints it
    rating_count: int               # what it means
    downloads_text: str
    downloads: int
    version: str
    updated: date
    size: str
    removed: bool = False


@dataclass
class AppSpec:
    city: str
    name: str
    developer: str
    apple_id: Optional[str]
    package: Optional[str]
    apple: Optional[dict] = None    # rating, count (None: fields omitted), version, released (Beijing datetime)
    apple_removed: bool = False
    android: list = field(default_factory=list)
    huawei_id: Optional[str] = None


def specs(today: date) -> list[AppSpec]:
    def _d(days: int) -> date:
        return today - timedelta(days=days)

    bj = lambda days, hh=10, mm=0: datetime.combine(_d(days), time(hh, mm), CN)   # noqa: E731
    return [
        AppSpec("440300", "i深圳", "深圳市政务服务和数据管理局", "1463587382", "com.pingan.smt",
                apple=dict(rating=4.71234, count=85231, version="5.2.1", released=bj(12, 9, 12)),
                android=[AndroidSpec("yyb", 4.1, "2.3万人评分", 23000, "1.2亿次下载", 120_000_000, "5.2.0", _d(19),
                                     "86.3M"),
                         AndroidSpec("huawei", 4.6, "12,345 条评论", 12345, "3,456万 次安装", 34_560_000, "5.2.1",
                                     _d(11), "96.5MB")],
                huawei_id="C100862471"),
        AppSpec("440300", "深i企", "深圳市中小企业服务局", "1525049215", None,
                apple=dict(rating=4.2, count=3120, version="2.8.0", released=bj(40))),
        AppSpec("330100", "杭州办事服务", "杭州市数据资源管理局", "1218479307", "com.hangzhou.bsfw",
                apple=dict(rating=3.86512, count=9876, version="3.1.4", released=bj(33, 20, 5)),
                android=[AndroidSpec("yyb", 3.5, "1,876人评分", 1876, "下载量：10万+", 100_000, "3.1.2", _d(45),
                                     "52.8M")]),
        AppSpec("510100", "天府市民云", "成都市网络理政办公室", "1326455891", "com.chengdu.tfsmy",
                apple=dict(rating=4.55, count=120456, version="4.0.3", released=bj(3, 1, 30)),
                android=[AndroidSpec("huawei", 4.4, "8.6万条评论", 86000, "超过1亿次安装", 100_000_000, "4.0.3",
                                     _d(4), "120.4MB")],
                huawei_id="C100234567"),
        AppSpec("420100", "武汉政务服务", "武汉市政务服务和大数据管理局", "1384527781", None,
                apple=dict(rating=3.2, count=542, version="1.9.8", released=bj(88))),
        AppSpec("420100", "武汉微政务", "武汉市人民政府办公厅", "1045678123", "com.wuhan.wzw",
                apple_removed=True,
                android=[AndroidSpec("yyb", None, "", 0, "", 0, "", _d(900), "", removed=True)]),
        AppSpec("370200", "爱山东·青岛", "青岛市大数据发展管理局", "1476541990", None,
                apple=dict(rating=3.9, count=2210, version="3.5.0", released=bj(21))),
        AppSpec("370200", "青岛政务通", "青岛市行政审批服务局", "6443210987", "com.qingdao.zwt",
                apple=dict(rating=None, count=None, version="1.0.0", released=bj(6)),
                android=[AndroidSpec("yyb", None, "暂无评分", 0, "5000+次下载", 5000, "1.0.0", _d(6), "31.2M")]),
        AppSpec("350200", "i厦门", "厦门市信息中心", "1294668522", "com.xmsmk.ixiamen",
                # released 18:30 UTC on the 27th before the reference date = 02:30 the next day in Beijing
                apple=dict(rating=4.48, count=30412, version="6.1.0", released=bj(2, 2, 30)),
                android=[AndroidSpec("yyb", 4.2, "4,512人评分", 4512, "12.3万次下载", 123_000, "6.0.9", _d(15),
                                     "143.7M"),
                         AndroidSpec("huawei", 4.7, "1,234 条评论", 1234, "５０００＋ 次安装", 5000, "6.1.0", _d(2),
                                     "150.2MB")],
                huawei_id="C100998877"),
        AppSpec("450100", "爱南宁", "南宁市大数据发展局", None, "com.nanning.ainanning",
                android=[AndroidSpec("yyb", 3.7, "２，３４５人评分", 2345, "１２．５万次下载", 125_000, "2.2.6", _d(70),
                                     "66.0M")]),
    ]


# Apps that are not government apps but come up in searches (the auditor must not confirm them).
DECOYS = [
    dict(trackId=1500000001, trackName="深圳地铁", sellerName="深圳市地铁集团有限公司", averageUserRating=4.0,
         userRatingCount=5000, version="3.0", days=30),
    dict(trackId=1500000002, trackName="深圳通+", sellerName="深圳市深圳通有限公司", averageUserRating=4.3,
         userRatingCount=20000, version="2.4", days=10),
    dict(trackId=1500000003, trackName="杭州公交", sellerName="杭州公共交通集团", averageUserRating=3.1,
         userRatingCount=800, version="1.2", days=100),
    dict(trackId=1500000004, trackName="随申办市民云", sellerName="上海市大数据中心", averageUserRating=4.6,
         userRatingCount=300000, version="7.0", days=5),
    dict(trackId=1500000005, trackName="浙里办", sellerName="浙江省大数据发展管理局", averageUserRating=4.5,
         userRatingCount=200000, version="7.9", days=8),
    dict(trackId=1500000006, trackName="粤省事", sellerName="广东省政务服务和数据管理局", averageUserRating=4.7,
         userRatingCount=400000, version="2.9", days=3),
]


# --------------------------------------------------------------------------------------------------
# Apple
# --------------------------------------------------------------------------------------------------

def apple_result(app: AppSpec) -> dict:
    a = app.apple
    released = a["released"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    slug = quote(app.name)
    r = {
        "isGameCenterEnabled": False, "features": ["iosUniversal"], "advisories": [],
        "supportedDevices": ["iPhone5s-iPhone5s", "iPadAir-iPadAir"], "kind": "software",
        "artworkUrl60": f"https://is1-ssl.mzstatic.com.test/image/thumb/{app.apple_id}/60x60bb.jpg",
        "artistViewUrl": f"https://apps.apple.com.test/cn/developer/id{int(app.apple_id) + 7}?uo=4",
        "screenshotUrls": [], "ipadScreenshotUrls": [], "appletvScreenshotUrls": [],
        "trackCensoredName": app.name, "trackViewUrl": f"https://apps.apple.com.test/cn/app/{slug}/id{app.apple_id}?uo=4",
        "contentAdvisoryRating": "4+", "trackContentRating": "4+", "minimumOsVersion": "12.0",
        "languageCodesISO2A": ["ZH", "EN"], "fileSizeBytes": str(40_000_000 + int(app.apple_id) % 90_000_000),
        "sellerUrl": "http://www.gov.cn.test/", "formattedPrice": "免费", "releaseNotes": "修复已知问题，优化用户体验。",
        "releaseDate": "2019-03-01T08:00:00Z", "primaryGenreName": "Lifestyle", "primaryGenreId": 6012,
        "genreIds": ["6012", "6000"], "bundleId": app.package or f"cn.gov.{app.apple_id}",
        "sellerName": app.developer, "trackId": int(app.apple_id), "trackName": app.name,
        "currentVersionReleaseDate": released, "isVppDeviceBasedLicensingEnabled": True,
        "currency": "CNY", "version": a["version"], "wrapperType": "software", "artistId": int(app.apple_id) + 7,
        "artistName": app.developer, "genres": ["生活", "商务"], "price": 0.00,
        "description": f"{app.name}是{app.developer}推出的政务服务应用，提供社保、公积金、交通、医疗等一站式服务。",
        "userRatingCountForCurrentVersion": 0,
    }
    if a["count"] is not None:
        r["averageUserRating"] = a["rating"]
        r["averageUserRatingForCurrentVersion"] = a["rating"]
        r["userRatingCount"] = a["count"]
        r["userRatingCountForCurrentVersion"] = a["count"]
    return r


def decoy_result(d: dict, today: date) -> dict:
    released = datetime.combine(today - timedelta(days=d["days"]), time(2, 0), timezone.utc)
    return {"wrapperType": "software", "kind": "software", "trackId": d["trackId"], "trackName": d["trackName"],
            "sellerName": d["sellerName"], "artistName": d["sellerName"], "averageUserRating": d["averageUserRating"],
            "userRatingCount": d["userRatingCount"], "version": d["version"],
            "currentVersionReleaseDate": released.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "trackViewUrl": f"https://apps.apple.com.test/cn/app/id{d['trackId']}?uo=4",
            "bundleId": f"com.example.{d['trackId']}", "fileSizeBytes": "50000000", "price": 0.0}


def itunes_site(apps: list[AppSpec], today: date) -> Site:
    listed = {a.apple_id: apple_result(a) for a in apps if a.apple_id and not a.apple_removed}
    searchable = list(listed.values()) + [decoy_result(d, today) for d in DECOYS]

    def answer(results: list[dict], query: dict) -> bytes:
        body = json.dumps({"resultCount": len(results), "results": results}, ensure_ascii=False, indent=None)
        cb = (query.get("callback") or [None])[0]
        text = f"\n\n\n{body}\n\n\n"          # Apple pads its answers with blank lines
        return (f"{cb}({text});" if cb else text).encode("utf-8")

    def lookup(info: RequestInfo) -> bytes:
        q = parse_qs(urlsplit(info.path).query)
        ids = [i for v in q.get("id", []) for i in v.split(",") if i]
        bundles = [b for v in q.get("bundleId", []) for b in v.split(",") if b]
        out = [listed[i] for i in ids if i in listed]
        out += [r for r in listed.values() if r["bundleId"] in bundles]
        return answer(out, q)

    def search(info: RequestInfo) -> bytes:
        q = parse_qs(urlsplit(info.path).query)
        term = unquote((q.get("term") or [""])[0]).replace("+", " ").strip()
        limit = int((q.get("limit") or ["50"])[0] or 50)
        if not term or (q.get("entity") or ["software"])[0] not in ("software", "iPadSoftware", "softwareDeveloper"):
            return answer([], q)
        words = [w for w in term.split() if w]
        hits = [r for r in searchable
                if all(w in r["trackName"] or w in r["sellerName"] or r["trackName"] in w for w in words)]
        return answer(hits[:limit], q)

    site = Site(host=ITUNES_HOST, city_code="", kind="app", https=True, template="itunes-api",
                notes="iTunes Search API: /lookup and /search answer any query string")
    site.resources = QueryRoutes()
    ctype = "text/javascript; charset=utf-8"
    site.resources["/lookup"] = Resource(lookup, content_type=ctype)
    site.resources["/search"] = Resource(search, content_type=ctype)
    site.robots_txt = "User-agent: *\nDisallow:\n"
    return site


# --------------------------------------------------------------------------------------------------
# 应用宝-style server-rendered store (GBK)
# --------------------------------------------------------------------------------------------------

YYB_HEAD = """<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{title}</title><meta name="keywords" content="{title},应用宝,安卓应用下载"></head>
<body><div class="com-head"><a href="/">首页</a> | <a href="/category/game">游戏</a> | <a href="/category/soft">软件</a>
 | <a href="/rank">排行榜</a> | <a href="/search?q=">搜索</a> <span class="login"><a href="/login">登录</a></span></div>
"""
YYB_FOOT = """<div class="com-foot"><p><a href="/about">关于应用宝</a> | <a href="/help">帮助中心</a> |
<a href="/privacy">隐私政策</a></p><p>Copyright &copy; 1998 - 2026 Tencent. All Rights Reserved. 应用宝 版权所有</p>
<p>客服电话：0755-83765566　粤B2-20090059</p></div></body></html>"""


def yyb_page(app: AppSpec, a: AndroidSpec, today: date) -> bytes:
    if a.removed:
        body = (f"<div class=\"det-main\"><div class=\"err-box\"><p class=\"err-tit\">抱歉，该应用已下架</p>"
                f"<p>您访问的应用暂时无法下载，看看其他热门应用吧。</p><ul class=\"hot\">"
                + "".join(f"<li><a href=\"/appdetail/com.hot.app{i}\">热门应用{i}</a></li>" for i in range(1, 7))
                + "</ul></div></div>")
        return (YYB_HEAD.format(title="应用宝-腾讯应用商店") + body + YYB_FOOT).encode("gbk")
    if a.rating is None:
        star = '<div class="det-star-box"><span class="det-star-tit">评分</span><div class="com-blue-star-num">暂无评分</div></div>'
    else:
        star = (f'<div class="det-star-box"><span class="det-star-tit">评分</span><div class="com-blue-star-num">'
                f'{a.rating}分</div><div class="com-blue-star"><div class="com-blue-star-light" '
                f'style="width:{int(a.rating * 20)}%"></div></div><div class="det-comment-num">{a.rating_count_text}</div></div>')
    dl = f'<div class="det-ins-num">{escape(a.downloads_text)}</div>'
    published = a.updated
    # epoch seconds of the update in an attribute, the visible date in 年月日
    stamp = int(datetime.combine(published, time(10, 0), CN).timestamp())
    body = f"""<div class="det-main-container"><div class="det-icon"><img src="/img/{app.package}.png" alt="{escape(app.name)}" ></div>
<div class="det-name"><div class="det-name-int">{escape(app.name)}</div></div>
{star}
{dl}<div class="det-size">{a.size}</div>
<div class="det-type-box"><a class="det-type-link" href="/category/life">生活</a></div>
<div class="det-othinfo-container J_Mod">
 <div class="det-othinfo-tit">版本号：</div><div class="det-othinfo-data">V{a.version}</div>
 <div class="det-othinfo-tit">更新时间：</div><div class="det-othinfo-data" id="J_ApkPublishTime" data-apkPublishTime="{stamp}">{published.year}年{published.month}月{published.day}日</div>
 <div class="det-othinfo-tit">开发商：</div><div class="det-othinfo-data">{escape(app.developer)}</div>
</div>
<div class="det-app-data-box"><div class="det-app-data-tit">应用信息</div>
<div class="det-app-data-info">{escape(app.name)}是{escape(app.developer)}官方推出的城市服务应用，汇聚政务服务、便民服务、
公共资源查询等功能，市民可随时随地办理社保、医保、公积金、户政、交通违法处理等业务。<br>
<p>权限：访问网络、读取位置信息</p></div>
<a class="det-down-btn" href="https://imtt.dd.qq.com.test/sjy.00001/{app.package}.apk">普通下载</a>
<a class="det-down-btn" href="/wap/{app.package}">安全下载</a>
</div></div>
<div class="det-like"><p>相关推荐</p><ul><li><a href="/appdetail/com.example.bus">城市公交</a></li>
<li><a href="/appdetail/com.example.metro">地铁出行</a></li></ul></div>
"""
    return (YYB_HEAD.format(title=f"{app.name}app下载-{app.name}安卓版下载-应用宝官网") + body + YYB_FOOT).encode("gbk")


def yyb_site(apps: list[AppSpec], today: date) -> Site:
    site = Site(host=YYB_HOST, city_code="", kind="app", template="yyb",
                notes="server-rendered GBK store pages; a taken-down app answers 200 with 已下架")
    site.resources = QueryRoutes()
    ctype = "text/html; charset=gb2312"
    entries = []
    for app in apps:
        for a in app.android:
            if a.store == "yyb":
                site.resources[f"/appdetail/{app.package}"] = Resource(yyb_page(app, a, today), content_type=ctype)
                if not a.removed:
                    entries.append((app.name, app.developer, app.package))
    site.resources["/"] = Resource((YYB_HEAD.format(title="应用宝官网") + "<p>腾讯应用宝，安卓手机应用下载。</p>"
                                    + YYB_FOOT).encode("gbk"), content_type=ctype)

    def search(info: RequestInfo) -> bytes:
        q = parse_qs(urlsplit(info.path).query)
        term = (q.get("q") or q.get("kw") or [""])[0].strip()
        hits = [e for e in entries if term and (term in e[0] or term in e[1] or e[0] in term)]
        items = "".join(f'<li class="search-item"><a class="name" href="/appdetail/{p}" title="{escape(n)}">{escape(n)}</a>'
                        f'<span class="dev">{escape(d)}</span></li>' for n, d, p in hits) or "<li>没有找到相关应用</li>"
        return (YYB_HEAD.format(title=f"{escape(term)}-应用宝搜索") + f'<ul class="search-list">{items}</ul>'
                + YYB_FOOT).encode("gbk")

    site.resources["/search"] = Resource(search, content_type=ctype)
    return site


# --------------------------------------------------------------------------------------------------
# AppGallery-style single-page store (needs a browser)
# --------------------------------------------------------------------------------------------------

HUAWEI_SHELL = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>华为应用市场</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><noscript>请启用JavaScript以浏览华为应用市场。</noscript><div id="app"></div>
<script>
(function(){
  var pkg = "__PKG__";
  function el(h){ var d = document.createElement('div'); d.innerHTML = h; return d; }
  var x = new XMLHttpRequest();
  x.open('GET', '/webedge/appinfo/' + pkg + '.json', true);
  x.onload = function(){
    var a = JSON.parse(x.responseText), root = document.getElementById('app');
    var nav = '<div class="topnav"><a href="/">首页</a><a href="/Featured">精品</a><a href="/Apps">应用</a>'
            + '<a href="/Games">游戏</a><a href="/Rank">排行</a><a href="/search">搜索</a></div>';
    var stats = a.noRating ? '<li><div class="num">暂无评分</div></li>'
        : '<li><div class="num">' + a.score + '</div><div class="lbl">评分</div></li>'
        + '<li><div class="num">' + a.commentsText + '</div></li>';
    stats += '<li><div class="num">' + a.downloadsText + '</div></li>';
    var info = '<div class="info-list"><div class="info-item"><span class="k">版本</span> <span class="v">' + a.version + '</span></div>'
        + '<div class="info-item"><span class="k">更新时间</span> <span class="v">' + a.releaseDate + '</span></div>'
        + '<div class="info-item"><span class="k">大小</span> <span class="v">' + a.size + '</span></div>'
        + '<div class="info-item"><span class="k">开发者：</span><span class="v">' + a.developer + '</span></div></div>';
    root.appendChild(el(nav + '<div class="detailhead"><h1 class="title">' + a.name + '</h1><p class="dev">' + a.developer
        + '</p><ul class="stats">' + stats + '</ul></div>' + info + '<div class="intro"><h2>应用介绍</h2><p>' + a.intro
        + '</p></div><div class="foot"><a href="/privacy">隐私声明</a><a href="/about">关于我们</a><span>华为终端有限公司 版权所有</span></div>'));
  };
  x.send();
})();
</script></body></html>"""


def huawei_info(app: AppSpec, a: AndroidSpec) -> dict:
    return {"name": app.name, "developer": app.developer, "noRating": a.rating is None,
            "score": f"{a.rating:.1f}" if a.rating is not None else "", "commentsText": a.rating_count_text,
            "downloadsText": a.downloads_text, "version": a.version, "releaseDate": a.updated.strftime("%Y/%m/%d"),
            "size": a.size, "package": app.package,
            "intro": (f"{app.name}由{app.developer}建设运营，是本市统一的移动政务服务平台，提供社保查询、公积金提取、"
                      f"出入境、不动产、交通出行、医疗挂号等数百项服务，实现“掌上办、指尖办”。平台持续优化适老化与无障碍体验，"
                      f"支持电子证照亮证、办件进度查询和12345热线诉求提交，让数据多跑路、群众少跑腿。")}


def huawei_site(apps: list[AppSpec]) -> Site:
    site = Site(host=HUAWEI_HOST, city_code="", kind="app", https=True, template="appgallery-spa",
                notes="/app/<id> is a shell filled by script from /webedge/appinfo/<package>.json")
    site.resources["/"] = Resource(HUAWEI_SHELL.replace("__PKG__", "").encode(), needs_browser=True)
    for app in apps:
        for a in app.android:
            if a.store == "huawei":
                site.resources[f"/app/{app.huawei_id}"] = Resource(
                    HUAWEI_SHELL.replace("__PKG__", app.package).encode(), needs_browser=True)
                site.resources[f"/webedge/appinfo/{app.package}.json"] = Resource(
                    json.dumps(huawei_info(app, a), ensure_ascii=False).encode(), content_type="application/json")
    return site


# --------------------------------------------------------------------------------------------------
# sources and truth
# --------------------------------------------------------------------------------------------------

def store_url(app: AppSpec, store: str) -> str:
    if store == "apple":
        return f"https://{ITUNES_HOST}/lookup?id={app.apple_id}&country=cn"
    if store == "yyb":
        return f"http://{YYB_HOST}/appdetail/{app.package}"
    return f"https://{HUAWEI_HOST}/app/{app.huawei_id}"


def source_entries(apps: list[AppSpec], population: dict[str, Optional[int]]) -> list[dict]:
    out = []
    domains = {"apple": "itunes.apple.com.test", "yyb": YYB_HOST, "huawei": HUAWEI_HOST}
    labels = {"apple": "App Store", "yyb": "应用宝", "huawei": "华为应用市场"}
    for app in apps:
        stores = (["apple"] if app.apple_id else []) + [a.store for a in app.android]
        for store in stores:
            options = {"app": app.name, "store": store}
            if app.apple_id:
                options["apple_id"] = app.apple_id
            if app.package:
                options["android_package"] = app.package
            if population.get(app.city):
                options["population"] = population[app.city]
            out.append({"city": app.city, "kind": "app", "name": f"{app.name}（{labels[store]}）",
                        "start_url": store_url(app, store), "allowed_domains": [domains[store]], "options": options})
    return out


def compute_truth(apps: list[AppSpec], today: date, population: dict[str, Optional[int]]) -> list[TruthRow]:
    period = today.isoformat()
    rows: list[TruthRow] = []
    for city in dict.fromkeys(a.city for a in apps):
        mine = [a for a in apps if a.city == city]
        listings = []          # (rating, count, downloads, release date) of listed apps
        found = 0
        for app in mine:
            here = []
            if app.apple_id and not app.apple_removed:
                a = app.apple
                here.append((a["rating"] if a["count"] else None, a["count"] or 0, None,
                             a["released"].astimezone(CN).date()))
            for s in app.android:
                if not s.removed:
                    here.append((s.rating, s.rating_count, s.downloads, s.updated))
            found += bool(here)
            listings += here

        def row(code, value, status="ok"):
            rows.append(TruthRow(city, code, period, value, status))

        row("app_count", found)
        rated = [(r, c) for r, c, _, _ in listings if r is not None and c]
        if rated:
            row("app_rating_mean", round(sum(r * c for r, c in rated) / sum(c for _, c in rated), 4))
        else:
            row("app_rating_mean", None, "absent")
        row("app_rating_count_total", sum(c for _, c, _, _ in listings))
        downloads = [d for _, _, d, _ in listings if d is not None]
        pop = population.get(city)
        if downloads:
            row("app_downloads_total", sum(downloads))
            if pop:
                row("app_downloads_per_10k", round(sum(downloads) / pop * 10000, 4))
            else:
                row("app_downloads_per_10k", None, "not_applicable")
        else:
            row("app_downloads_total", None, "absent")
            row("app_downloads_per_10k", None, "absent" if pop else "not_applicable")
        row("app_days_since_update", (today - max(d for _, _, _, d in listings)).days)
        row("app_rating_trend_90d", None, "not_applicable")
    return rows


NO_POPULATION = {"450100"}     # a city whose population the sample registry does not know


def add_apps(web: SampleWeb, rng: random.Random) -> None:
    """Add the store hosts, the app source entries and the app truth rows to ``web``."""
    today = web.reference_date
    apps = specs(today)
    codes = {c.code for c in web.cities}
    apps = [a for a in apps if a.city in codes]
    population = {c.code: (None if c.code in NO_POPULATION else c.population) for c in web.cities}
    web.add_site(itunes_site(apps, today))
    web.add_site(yyb_site(apps, today))
    web.add_site(huawei_site(apps))
    web.sources.extend(source_entries(apps, population))
    web.truth.extend(compute_truth(apps, today, population))
