"""The sample web's open-data platforms (数据开放平台) and their ground truth.

:func:`add_opendata` adds five platforms, one per adapter shape plus two that fail:

======  ===========================  =======  ================================================================
city    host                         adapter  what makes it hard
======  ===========================  =======  ================================================================
440300  opendata.sz.gov.cn.test      ckan     CKAN action API (package_search / package_show /
                                              organization_list, CKAN-shaped answers); ``rows`` silently capped
                                              at 100 whatever is asked; datasets with PDF-only resources, API
                                              resources, licence on some datasets, downloads only in extras on
                                              some, one dataset without metadata dates
330100  data.hangzhou.gov.cn.test    jsonapi  single-page catalogue (empty shell + app.js) whose data comes from
                                              a paged POST JSON API: 2,150 datasets, ``pageSize`` capped at 50
                                              silently, ``total`` claims 2,200, pages repeat items of the page
                                              before, dates as '2021年3月5日', '2021/3/5', ISO and epoch ms, some
                                              datasets without any date, page 7 answers HTTP 200 with
                                              {"code": 500, "msg": "系统繁忙"} the first time it is asked;
                                              licence only on a separate terms page
510100  data.chengdu.gov.cn.test     html     server-rendered GBK catalogue (declared gb2312), 15 per page,
                                              ``?page=N`` in the query string and a 下一页 link, '共135条' while 130
                                              exist, page 4 repeats the last row of page 3, detail pages as
                                              th/td tables with unclosed cells, '2021年3月5日' / '2021/3/5'
                                              dates, '暂无' dates on one dataset; no licence anywhere
370200  data.qingdao.gov.cn.test     ckan     down for the run (503 on everything): truth ``error``
620100  data.lanzhou.gov.cn.test     jsonapi  every answer is HTTP 200 with {"success": false, "errorMsg": ...}:
                                              truth ``error``
======  ===========================  =======  ================================================================

Cities without a platform (武汉, 南宁, 哈尔滨, 厦门) get no opendata rows at all.

Truth follows the rules of ``sgi/data/indicators.yaml`` (and the sector list of
``collectors/lexicons/opendata_rules.yaml``), computed here from the generated datasets, not by the
collectors: each generated dataset knows its sector, formats and dates.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from sgi.sampleweb.model import Fault, RequestInfo, Resource, SampleWeb, Site, TruthRow

N_SECTORS = 12        # the fixed sector list (collectors/lexicons/opendata_rules.yaml)
MR = {"CSV", "JSON", "XML", "XLS", "XLSX"}

# Topic labels as platforms write them -> the fixed sector they belong to (None: not in the list).
TOPIC_LABELS = {
    "交通运输": "transport", "交通出行": "transport", "医疗卫生": "health", "卫生健康": "health",
    "教育科技": "education", "教育文化": "education", "社保就业": "social_security", "民政服务": "social_security",
    "生态环境": "environment", "资源环境": "environment", "信用服务": "credit", "经济建设": "economy",
    "财税金融": "economy", "农业农村": "agriculture", "文化休闲": "culture_tourism", "公共安全": "public_safety",
    "城建住房": "urban_construction", "机构团体": "government", "其他": None, "综合": None,
}
DEPARTMENTS = ["市交通运输局", "市卫生健康委员会", "市教育局", "市人力资源和社会保障局", "市生态环境局", "市发展和改革委员会",
               "市财政局", "市农业农村局", "市文化广电旅游局", "市应急管理局", "市住房和城乡建设局", "市民政局",
               "市市场监督管理局", "市统计局", "市公安局", "市自然资源和规划局", "市水务局", "市气象局"]
SUBJECTS = ["公交线路", "医疗机构名录", "中小学名录", "社保经办网点", "空气质量监测", "企业信用评价", "规上工业产值",
            "农产品价格", "景区名录", "应急避难场所", "保障性住房项目", "养老机构", "停车场信息", "药店名录",
            "河道水质", "气象观测", "行政许可信息", "行政处罚信息", "地铁站点", "充电桩分布"]
FREQUENCIES = ["每日", "每周", "每月", "每季度", "每年", "不定期", "实时"]


@dataclass
class GenDataset:
    dataset_id: str
    title: str
    publisher: str
    topic: str
    formats: list
    api: bool
    records: int
    created: Optional[date]
    updated: Optional[date]
    frequency: str
    views: int
    downloads: Optional[int]
    licence: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @property
    def last(self) -> Optional[date]:
        return self.updated or self.created


def _gen_datasets(rng: random.Random, ref: date, n: int, prefix: str, topics: list[str], *, no_dates: set = frozenset(),
                  downloads_missing: float = 0.0, licence: Optional[list] = None, departments: int = 12,
                  api_share: float = 0.2) -> list[GenDataset]:
    depts = rng.sample(DEPARTMENTS, departments)
    out = []
    for i in range(n):
        fmts_choice = rng.random()
        if fmts_choice < 0.18:
            formats = [rng.choice(["PDF", "DOC", "DOCX", "JPG"])]
        elif fmts_choice < 0.25:
            formats = ["PDF", "DOCX"]
        else:
            formats = rng.sample(["CSV", "JSON", "XML", "XLSX", "XLS", "PDF"], rng.randint(1, 3))
        api = rng.random() < api_share
        created = ref - timedelta(days=rng.randint(30, 2200))
        updated = min(ref, created + timedelta(days=rng.randint(0, 900)))
        if i in no_dates:
            created = updated = None
        downloads = None if rng.random() < downloads_missing else rng.randint(0, 5000)
        out.append(GenDataset(
            dataset_id=f"{prefix}{i + 1:05d}", title=f"{rng.choice(SUBJECTS)}（{i + 1}）",
            publisher=depts[i % len(depts)] if i < len(depts) else rng.choice(depts),
            topic=rng.choice(topics), formats=formats, api=api, records=rng.randint(10, 200000),
            created=created, updated=updated, frequency=rng.choice(FREQUENCIES), views=rng.randint(10, 90000),
            downloads=downloads, licence=(rng.choice(licence) if licence and rng.random() < 0.6 else None)))
    return out


def truth_rows(city: str, period: str, ds: list[GenDataset], ref: date, licence_published: bool) -> list[TruthRow]:
    """The opendata_* values of one catalogue, by the registry's rule sentences."""
    n = len(ds)
    rows = [TruthRow(city, "opendata_platform", period, True),
            TruthRow(city, "opendata_datasets", period, n),
            TruthRow(city, "opendata_apis", period, sum(d.api for d in ds)),
            TruthRow(city, "opendata_publishers", period, len({d.publisher for d in ds})),
            TruthRow(city, "opendata_machine_readable_share", period,
                     round(sum(1 for d in ds if set(d.formats) & MR) / n, 4))]
    ages = [(ref - d.last).days for d in ds if d.last]
    rows.append(TruthRow(city, "opendata_updated_1y_share", period, round(sum(a <= 365 for a in ages) / len(ages), 4)))
    rows.append(TruthRow(city, "opendata_median_age_days", period, float(statistics.median(ages))))
    dl = [d.downloads for d in ds if d.downloads is not None]
    rows.append(TruthRow(city, "opendata_downloads_per_dataset", period, round(sum(dl) / len(dl), 2)))
    sectors = {TOPIC_LABELS[d.topic] for d in ds if TOPIC_LABELS.get(d.topic)}
    rows.append(TruthRow(city, "opendata_topic_coverage", period, round(len(sectors) / N_SECTORS, 4)))
    rows.append(TruthRow(city, "opendata_licence", period, bool(licence_published),
                         "ok" if licence_published else "absent"))
    return rows


class RoutedResources(dict):
    """Resources keyed by path, plus routes keyed by path without query: GET APIs take any query string."""

    def __init__(self, *args, routes: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.routes = routes or {}

    def get(self, key, default=None):
        found = super().get(key)
        if found is not None:
            return found
        return self.routes.get(str(key).split("?")[0], default)


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _query(info: RequestInfo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(info.path).query).items()}


def _int(text, default):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


# --- CKAN ---------------------------------------------------------------------------------------------------
CKAN_ROWS_CAP = 100


def _ckan_iso(d: Optional[date], rng: random.Random) -> Optional[str]:
    if d is None:
        return None
    return f"{d.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}"


def _ckan_package(d: GenDataset, host: str, rng: random.Random, orgs: dict) -> dict:
    slug = d.dataset_id.lower()
    resources = [{"id": f"{slug}-r{j}", "package_id": d.extra["uuid"], "format": f, "name": f"{d.title}.{f.lower()}",
                  "url": f"http://{host}/dataset/{slug}/resource/{j}/download", "size": rng.randint(2000, 9000000),
                  "mimetype": None} for j, f in enumerate(d.formats)]
    if d.api:
        resources.append({"id": f"{slug}-api", "package_id": d.extra["uuid"], "format": "API", "name": "数据接口",
                          "url": f"http://{host}/api/service/{slug}", "size": None, "mimetype": None})
    extras = [{"key": "update_frequency", "value": d.frequency}, {"key": "record_count", "value": str(d.records)}]
    if d.downloads is not None:
        extras.append({"key": "downloads", "value": str(d.downloads)})
    org = orgs[d.publisher]
    return {
        "id": d.extra["uuid"], "name": slug, "title": d.title, "type": "dataset", "state": "active", "private": False,
        "author": None, "maintainer": None, "notes": f"{d.title}，由{d.publisher}提供。",
        "license_id": d.extra.get("license_id"), "license_title": d.licence,
        "metadata_created": d.extra.get("created_iso"), "metadata_modified": d.extra.get("modified_iso"),
        "num_resources": len(resources), "num_tags": 0, "tags": [], "resources": resources,
        "organization": {"id": org["id"], "name": org["name"], "title": d.publisher, "type": "organization",
                         "is_organization": True, "state": "active"},
        "groups": [{"id": f"g-{zlib.crc32(d.topic.encode()) % 10000:04d}", "name": d.topic, "display_name": d.topic,
                    "title": d.topic}],
        "extras": extras, "tracking_summary": {"total": d.views, "recent": d.views // 10}, "url": "",
    }


def _add_ckan(web: SampleWeb, rng: random.Random, city: str, host: str, n: int, down: bool) -> list[GenDataset]:
    ref = web.reference_date
    topics = [t for t in TOPIC_LABELS if t not in ("教育文化", "交通出行", "卫生健康", "资源环境", "民政服务")]
    ds = _gen_datasets(rng, ref, n, "sz-od-", topics, no_dates={17}, downloads_missing=0.1,
                       licence=["Creative Commons Attribution", "开放数据许可协议（CC-BY 4.0）"], departments=14)
    orgs = {}
    for i, dept in enumerate(sorted({d.publisher for d in ds})):
        orgs[dept] = {"id": f"org-{i:03d}", "name": f"org-{i:03d}", "title": dept}
    for i, d in enumerate(ds):
        d.extra["uuid"] = f"{rng.getrandbits(32):08x}-{i:04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-" \
                          f"{rng.getrandbits(48):012x}"
        d.extra["created_iso"] = _ckan_iso(d.created, rng)
        d.extra["modified_iso"] = _ckan_iso(d.updated, rng)
        if d.licence:
            d.extra["license_id"] = "cc-by" if "Creative" in d.licence else "odc-cn"
    # CKAN's default sort is by relevance then metadata_modified desc; order is fixed here.
    packages = [_ckan_package(d, host, rng, orgs) for d in ds]
    by_id = {p["id"]: p for p in packages} | {p["name"]: p for p in packages}
    help_url = f"http://{host}/api/3/action/help_show?name="

    def package_search(info: RequestInfo) -> bytes:
        q = _query(info)
        rows = max(0, min(_int(q.get("rows"), 10), CKAN_ROWS_CAP))   # the cap: silently, like many portals
        start = max(0, _int(q.get("start"), 0))
        return _json({"help": help_url + "package_search", "success": True,
                      "result": {"count": len(packages), "sort": "score desc, metadata_modified desc",
                                 "facets": {}, "results": packages[start:start + rows], "search_facets": {}}})

    def package_show(info: RequestInfo) -> bytes:
        pkg = by_id.get(_query(info).get("id", ""))
        if pkg is None:
            return _json({"help": help_url + "package_show", "success": False,
                          "error": {"message": "Not found", "__type": "Not Found Error"}})
        return _json({"help": help_url + "package_show", "success": True, "result": pkg})

    def organization_list(info: RequestInfo) -> bytes:
        return _json({"help": help_url + "organization_list", "success": True,
                      "result": sorted(o["name"] for o in orgs.values())})

    api = "application/json;charset=utf-8"
    routes = {"/api/3/action/package_search": Resource(package_search, api),
              "/api/3/action/package_show": Resource(package_show, api),
              "/api/3/action/organization_list": Resource(organization_list, api)}
    home = (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>开放数据平台</title></head><body>"
            f"<h1>开放数据平台</h1><p>共 {len(ds)} 个数据集</p><a href='/dataset'>数据集</a>"
            f"<a href='/api/3/action/package_search'>API</a></body></html>").encode()
    site = Site(host=host, city_code=city, kind="opendata", template="ckan",
                resources=RoutedResources({"/": Resource(home)}, routes=routes),
                notes="CKAN 2.9 action API; rows capped at 100 silently")
    if down:
        site.fault = Fault(status=503)
        site.notes += "; down for the run (503)"
    web.add_site(site)
    web.sources.append({"city": city, "kind": "opendata", "name": f"{_name(web, city)}开放数据平台 (CKAN)",
                        "start_url": f"http://{host}/", "allowed_domains": [host],
                        "options": {"adapter": "ckan", "page_size": 1000}})
    return ds


# --- POST JSON single-page catalogue ---------------------------------------------------------------------------------
HZ_PAGE_CAP = 50
HZ_ERROR_PAGE = 7


def _hz_date(d: Optional[date], style: int, rng: random.Random):
    if d is None:
        return None
    if style == 0:
        return f"{d.year}年{d.month}月{d.day}日"
    if style == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 2:
        return f"{d.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    ts = datetime(d.year, d.month, d.day, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    return int(ts.timestamp() * 1000)


def _add_post_json(web: SampleWeb, rng: random.Random, city: str, host: str, n: int) -> list[GenDataset]:
    ref = web.reference_date
    topics = [t for t in TOPIC_LABELS if t not in ("交通运输", "医疗卫生", "教育科技", "资源环境", "公共安全")]
    no_dates = set(rng.sample(range(n), 9))
    ds = _gen_datasets(rng, ref, n, "", topics, no_dates=no_dates, downloads_missing=0.05, departments=18,
                       api_share=0.35)
    items = []
    for i, d in enumerate(ds):
        d.dataset_id = f"{rng.getrandbits(40):010x}{i:05d}"
        style = rng.randint(0, 3)
        items.append({"resId": d.dataset_id, "resTitle": d.title, "orgName": d.publisher, "domainName": d.topic,
                      "fileFormats": ",".join(f.lower() for f in d.formats), "apiCount": (rng.randint(1, 3) if d.api else 0),
                      "dataCount": d.records, "createDate": _hz_date(d.created, style, rng),
                      "updateDate": _hz_date(d.updated, style, rng), "updateCycle": d.frequency,
                      "visitCount": d.views, "downloadCount": d.downloads, "openType": "无条件开放"})
    # The served sequence repeats items: after every 5th page the next page starts with the last two
    # items of the page before (new datasets published while paging push older ones down).
    served: list = []
    for i, item in enumerate(items):
        if i and i % (HZ_PAGE_CAP * 5) == 0:
            served.extend(items[i - 2:i])
        served.append(item)
    claimed_total = n + 50
    lock = threading.Lock()
    asked = {"error_page": 0}

    def list_api(info: RequestInfo) -> bytes:
        if info.method != "POST":
            return _json({"code": 405, "msg": "请求方式错误", "data": None})
        try:
            req = json.loads(info.body.decode("utf-8") or "{}")
        except ValueError:
            return _json({"code": 400, "msg": "参数格式错误", "data": None})
        page = max(1, _int(req.get("pageNo"), 1))
        size = max(1, min(_int(req.get("pageSize"), 10), HZ_PAGE_CAP))
        if page == HZ_ERROR_PAGE:
            with lock:
                asked["error_page"] += 1
                first = asked["error_page"] == 1
            if first:
                return _json({"code": 500, "msg": "系统繁忙，请稍后再试", "data": None})
        rows = served[(page - 1) * size: page * size]
        return _json({"code": 200, "msg": "success", "data": {"total": claimed_total, "pageNo": page,
                                                              "pageSize": size, "list": rows}})

    shell = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>杭州市公共数据开放平台</title>"
             "<script src='/static/js/app.js'></script></head><body><div id='app'></div></body></html>").encode()
    app_js = ("fetch('/api/dataset/list',{method:'POST',headers:{'Content-Type':'application/json'},"
              "body:JSON.stringify({pageNo:1,pageSize:10,orderBy:'updateDate'})}).then(r=>r.json())"
              ".then(j=>{document.getElementById('app').innerText=j.data.list.map(x=>x.resTitle).join('\\n')});").encode()
    terms = ("<html><head><meta charset='utf-8'><title>平台使用协议</title></head><body><h1>杭州市公共数据开放平台"
             "使用协议</h1><p>本协议是您与平台之间关于使用开放数据的约定。数据使用者可以免费获取、使用和传播无条件开放数据，"
             "应注明数据来源，不得歪曲数据。</p></body></html>").encode()
    site = Site(host=host, city_code=city, kind="opendata", template="spa-post-json",
                resources={"/": Resource(shell, needs_browser=True),
                           "/static/js/app.js": Resource(app_js, "application/javascript"),
                           "/api/dataset/list": Resource(list_api, "application/json;charset=UTF-8"),
                           "/portal/terms.html": Resource(terms)},
                notes="POST JSON API, pageSize capped at 50, total overstated, repeated items, one error body")
    web.add_site(site)
    web.sources.append({"city": city, "kind": "opendata", "name": f"{_name(web, city)}公共数据开放平台",
                        "start_url": f"http://{host}/", "allowed_domains": [host],
                        "options": {"adapter": "jsonapi", "list_url": "/api/dataset/list", "method": "POST",
                                    "body": "json", "paging": "page", "page_param": "pageNo",
                                    "size_param": "pageSize", "page_size": 100, "first_page": 1,
                                    "params": {"orderBy": "updateDate"}, "items": "data.list",
                                    "total": "data.total", "error": "code != `200`", "error_message": "msg",
                                    "terms_url": "/portal/terms.html",
                                    "dataset_url": "/portal/dataset/{dataset_id}",
                                    "fields": {"dataset_id": "resId", "title": "resTitle", "publisher": "orgName",
                                               "topic": "domainName", "formats": "fileFormats",
                                               "api": "apiCount > `0`", "record_count": "dataCount",
                                               "created": "createDate", "updated": "updateDate",
                                               "frequency": "updateCycle", "views": "visitCount",
                                               "downloads": "downloadCount"}}})
    return ds


# --- GBK server-rendered catalogue ------------------------------------------------------------------------------------
CD_PER_PAGE = 15


def _add_html(web: SampleWeb, rng: random.Random, city: str, host: str, n: int) -> list[GenDataset]:
    ref = web.reference_date
    topics = list(TOPIC_LABELS)[:14] + ["其他"]
    ds = _gen_datasets(rng, ref, n, "", topics, no_dates={41}, downloads_missing=0.0, departments=10)
    for i, d in enumerate(ds):
        d.dataset_id = str(20210000 + 37 * i + 5)
    pages = [ds[i:i + CD_PER_PAGE] for i in range(0, n, CD_PER_PAGE)]
    last = len(pages)
    resources: dict[str, Resource] = {}

    def cd_date(d: Optional[date], k: int) -> str:
        if d is None:
            return "暂无"
        return f"{d.year}年{d.month}月{d.day}日" if k % 2 else f"{d.year}/{d.month}/{d.day}"

    for p, chunk in enumerate(pages, start=1):
        shown = list(chunk)
        if p == 4:
            shown = [pages[2][-1]] + shown          # the last row of page 3 again
        rows = "".join(
            f"<TR><TD class=t><a href='/oportal/catalog/detail/{d.dataset_id}.html' target=_blank>{d.title}</a>"
            f"<TD>{d.publisher}<TD>{cd_date(d.updated, j)}</TR>\n" for j, d in enumerate(shown))
        nums = "".join(f"<a href='/oportal/catalog/index?page={k}'>{k}</a> " if k != p else f"<b>{k}</b> "
                       for k in range(1, last + 1))
        prev = f"<a href='/oportal/catalog/index?page={p - 1}'>上一页</a> " if p > 1 else ""
        nxt = f"<a href='/oportal/catalog/index?page={p + 1}'>下一页</a>" if p < last else "<span>下一页</span>"
        html = (f"<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
                f"<title>成都市公共数据开放平台-数据目录</title></head><body>"
                f"<div class=top><a href='/'>首页</a> | <a href='/oportal/catalog/index?page=1'>数据目录</a></div>"
                f"<div class=count>共135条数据 第{p}/{last}页</div>"
                f"<TABLE class=list><TR><TH>数据集名称<TH>数据提供方<TH>更新时间</TR>\n{rows}</TABLE>"
                f"<div class=pages>{prev}{nums}{nxt}</div></body></html>")
        resources[f"/oportal/catalog/index?page={p}"] = Resource(html.encode("gbk"), "text/html; charset=gbk")
    for j, d in enumerate(ds):
        fmts = "、".join(d.formats)
        html = (f"<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
                f"<title>{d.title}-成都市公共数据开放平台</title></head><body>"
                f"<div class=crumb>首页 &gt; 数据目录 &gt; 详情</div><h2>{d.title}</h2>"
                f"<table class=info border=1>"
                f"<tr><th>数据集名称<td>{d.title}<th>数据提供方<td>{d.publisher}</tr>"
                f"<tr><th>所属领域<td>{d.topic}<th>数据格式<td>{fmts}</tr>"
                f"<tr><th>接口服务<td>{'是' if d.api else '否'}<th>数据量<td>{d.records}条</tr>"
                f"<tr><th>发布时间<td>{cd_date(d.created, j + 1)}<th>更新时间<td>{cd_date(d.updated, j)}</tr>"
                f"<tr><th>更新频率<td>{d.frequency}<th>浏览量<td>{d.views}</tr>"
                f"<tr><th>下载量<td>{d.downloads}<th>开放类型<td>无条件开放</tr>"
                f"</table><div class=foot>主办：成都市大数据中心 电话：028-12345678</div></body></html>")
        resources[f"/oportal/catalog/detail/{d.dataset_id}.html"] = Resource(html.encode("gbk"),
                                                                             "text/html; charset=gbk")
    resources["/"] = Resource(("<html><head><meta charset='gbk'><title>成都市公共数据开放平台</title></head><body>"
                               "<a href='/oportal/catalog/index?page=1'>数据目录</a></body></html>").encode("gbk"),
                              "text/html; charset=gbk")
    web.add_site(Site(host=host, city_code=city, kind="opendata", template="html-gbk", resources=resources,
                      notes="GBK list + detail, ?page=N, overstated count, repeated row, 暂无 dates"))
    web.sources.append({"city": city, "kind": "opendata", "name": f"{_name(web, city)}公共数据开放平台",
                        "start_url": f"http://{host}/oportal/catalog/index?page=1", "allowed_domains": [host],
                        "options": {"adapter": "html", "list_url": "/oportal/catalog/index?page={page}",
                                    "detail_link": r"/catalog/detail/\d+\.html", "id_pattern": r"/detail/(\d+)\.html"}})
    return ds


def _add_error_body(web: SampleWeb, city: str, host: str) -> None:
    def api(info: RequestInfo) -> bytes:
        return _json({"success": False, "errorCode": "AUTH_401", "errorMsg": "接口鉴权失败，请刷新页面后重试",
                      "result": None})

    web.add_site(Site(host=host, city_code=city, kind="opendata", template="jsonapi-error",
                      resources=RoutedResources({"/": Resource(b"<html><body><div id=app></div></body></html>",
                                                               needs_browser=True)},
                                                routes={"/api/catalog/page": Resource(api, "application/json")}),
                      notes="every answer is HTTP 200 with an error object"))
    web.sources.append({"city": city, "kind": "opendata", "name": f"{_name(web, city)}数据开放平台",
                        "start_url": f"http://{host}/", "allowed_domains": [host],
                        "options": {"adapter": "jsonapi", "list_url": "/api/catalog/page", "method": "GET",
                                    "page_param": "current", "size_param": "size", "page_size": 20,
                                    "items": "result.records", "total": "result.total",
                                    "error": "success == `false`", "error_message": "errorMsg",
                                    "fields": {"dataset_id": "id", "title": "name"}}})


def _name(web: SampleWeb, code: str) -> str:
    return next((c.name for c in web.cities if c.code == code), code)


# --- entry ---------------------------------------------------------------------------------------------------------
PLATFORM_HOSTS = {"440300": "opendata.sz.gov.cn.test", "330100": "data.hangzhou.gov.cn.test",
                  "510100": "data.chengdu.gov.cn.test", "370200": "data.qingdao.gov.cn.test",
                  "620100": "data.lanzhou.gov.cn.test"}
DOWN = ("370200", "620100")


def add_opendata(web: SampleWeb, rng: random.Random) -> None:
    ref = web.reference_date
    period = ref.isoformat()
    codes = {c.code for c in web.cities}
    if not {"440300", "330100", "510100"} <= codes:
        return
    sz = _add_ckan(web, random.Random(rng.random()), "440300", PLATFORM_HOSTS["440300"], 327, down=False)
    web.truth.extend(truth_rows("440300", period, sz, ref, licence_published=any(d.licence for d in sz)))
    hz = _add_post_json(web, random.Random(rng.random()), "330100", PLATFORM_HOSTS["330100"], 2150)
    web.truth.extend(truth_rows("330100", period, hz, ref, licence_published=True))
    cd = _add_html(web, random.Random(rng.random()), "510100", PLATFORM_HOSTS["510100"], 130)
    web.truth.extend(truth_rows("510100", period, cd, ref, licence_published=False))
    if "370200" in codes:
        _add_ckan(web, random.Random(rng.random()), "370200", PLATFORM_HOSTS["370200"], 40, down=True)
        web.truth.extend(TruthRow("370200", code, period, None, "error") for code in CODES)
    if "620100" in codes:
        _add_error_body(web, "620100", PLATFORM_HOSTS["620100"])
        web.truth.extend(TruthRow("620100", code, period, None, "error") for code in CODES)


CODES = ("opendata_platform", "opendata_datasets", "opendata_apis", "opendata_publishers",
         "opendata_machine_readable_share", "opendata_updated_1y_share", "opendata_median_age_days",
         "opendata_downloads_per_dataset", "opendata_topic_coverage", "opendata_licence")
