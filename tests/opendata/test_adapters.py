"""Adapters and indicator rules of collectors/opendata.py on saved answers (tests/fixtures/opendata/)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from collectors import opendata as od
from collectors.base import ABSENT, OK
from collectors.page import Page

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "opendata"
CRAWL = date(2026, 6, 30)
SZ = "http://opendata.sz.gov.cn.test/"
HZ = "http://data.hangzhou.gov.cn.test/"
CD = "http://data.chengdu.gov.cn.test/oportal/catalog/index?page=1"
CKAN = {"adapter": "ckan", "page_size": 1000}
HZ_OPTS = {"adapter": "jsonapi", "list_url": "/api/dataset/list", "method": "POST", "body": "json", "paging": "page",
           "page_param": "pageNo", "size_param": "pageSize", "page_size": 100, "first_page": 1,
           "params": {"orderBy": "updateDate"}, "items": "data.list", "total": "data.total",
           "error": "code != `200`", "error_message": "msg",
           "fields": {"dataset_id": "resId", "title": "resTitle", "publisher": "orgName", "topic": "domainName",
                      "formats": "fileFormats", "api": "apiCount > `0`", "record_count": "dataCount",
                      "created": "createDate", "updated": "updateDate", "frequency": "updateCycle",
                      "views": "visitCount", "downloads": "downloadCount"}}
CD_OPTS = {"adapter": "html", "list_url": "/oportal/catalog/index?page={page}",
           "detail_link": r"/catalog/detail/\d+\.html", "id_pattern": r"/detail/(\d+)\.html"}


def raw(name: str) -> bytes:
    return (FIX / name).read_bytes()


def gbk_page(name: str, url: str) -> Page:
    return Page(url=url, body=raw(name), headers={"Content-Type": "text/html; charset=gbk"}, status=200)


# --- values ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("2021年3月5日", date(2021, 3, 5)), ("2021/3/5", date(2021, 3, 5)), ("2021-03-05", date(2021, 3, 5)),
    ("2021-03-05T08:01:02.123456", date(2021, 3, 5)), ("2021-03-05 08:01:02", date(2021, 3, 5)),
    ("20210305", date(2021, 3, 5)), (1614945600000, date(2021, 3, 5)), ("暂无", None), (None, None), ("", None)])
def test_dates_as_platforms_write_them(text, expected):
    assert od.to_date(text) == expected


def test_formats_counts_and_flags():
    assert od.to_formats("csv,xlsx") == ["CSV", "XLSX"]
    assert od.to_formats(["CSV", "json", "csv"]) == ["CSV", "JSON"]
    assert od.to_formats("XML、PDF") == ["XML", "PDF"]
    assert od.to_formats([{"format": ".csv"}]) == ["CSV"]
    assert od.to_int("1,234条") == 1234 and od.to_int("1.5万") == 15000 and od.to_int(None) is None
    assert od.to_bool("是") and not od.to_bool("否") and od.to_bool(True) and not od.to_bool(0)
    assert od.api_offered(["CSV", "API"]) and not od.api_offered(["CSV"])


def test_sector_mapping_is_data():
    assert od.sector_of("交通出行") == "transport"
    assert od.sector_of("医疗卫生") == "health"
    assert od.sector_of("社保就业") == "social_security"
    assert od.sector_of("其他") is None and od.sector_of(None) is None
    assert len(od.lexicon()["sectors"]) == 12


# --- CKAN ---------------------------------------------------------------------------------------------------
def test_ckan_first_request_asks_package_search_with_rows_and_start():
    spec = od.first_request(SZ, CKAN)
    assert spec.url.startswith(SZ + "api/3/action/package_search?")
    assert "start=0" in spec.url and "rows=1000" in spec.url and spec.method == "GET"


def test_ckan_silent_page_size_cap_advances_by_items_returned():
    state = od.PagingState()
    first = od.first_request(SZ, CKAN)
    result = od.parse_json_answer(raw("ckan_search_start0.json"), SZ, CKAN, first, state)
    assert result.error is None and result.total == 327
    assert len(result.records) == 100                       # asked 1000, got the server's cap
    assert result.next is not None and "start=100" in result.next.url
    ds = result.records[0]
    assert ds.publisher and ds.topic and ds.formats and ds.url.startswith(SZ + "dataset/")
    assert ds.created is not None and ds.updated is not None and ds.updated >= ds.created
    assert any(r.api for r in result.records) and any(r.licence for r in result.records)
    assert any(r.downloads is None for r in result.records) or any(r.downloads is not None for r in result.records)


def test_ckan_last_and_empty_pages_stop():
    state = od.PagingState()
    od.parse_json_answer(raw("ckan_search_start0.json"), SZ, CKAN, od.json_request(SZ, CKAN, 0), state)
    state.seen.update(f"page-2-and-3-{i}" for i in range(200))     # pages start=100 and 200, not saved
    last = od.parse_json_answer(raw("ckan_search_start300.json"), SZ, CKAN, od.json_request(SZ, CKAN, 300), state)
    assert len(last.records) == 27 and last.next is None and last.stop_reason.startswith("short page")
    empty = od.parse_json_answer(raw("ckan_search_start327.json"), SZ, CKAN, od.json_request(SZ, CKAN, 327),
                                 od.PagingState())
    assert empty.records == [] and empty.next is None and empty.stop_reason == "empty page"


def test_ckan_error_object():
    result = od.parse_json_answer(raw("ckan_package_show_missing.json"), SZ, CKAN, od.first_request(SZ, CKAN),
                                  od.PagingState())
    assert result.error and "Not found" in result.error


# --- POST JSON (declarative) ---------------------------------------------------------------------------------------
def test_post_json_request_body_and_mapping():
    spec = od.first_request(HZ, HZ_OPTS)
    assert spec.method == "POST" and spec.url == HZ + "api/dataset/list"
    assert json.loads(spec.body) == {"orderBy": "updateDate", "pageNo": 1, "pageSize": 100}
    state = od.PagingState()
    result = od.parse_json_answer(raw("hangzhou_page1.json"), HZ, HZ_OPTS, spec, state)
    assert len(result.records) == 50 and result.total == 2200      # capped at 50, total overstated
    assert result.next.page == 2 and json.loads(result.next.body)["pageNo"] == 2
    assert all(r.publisher and r.topic for r in result.records)


def test_post_json_error_object_in_a_200_answer():
    result = od.parse_json_answer(raw("hangzhou_page7.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 7),
                                  od.PagingState())
    assert result.error and "系统繁忙" in result.error and result.records == [] and result.next is None
    retry = od.parse_json_answer(raw("hangzhou_page7_retry.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 7),
                                 od.PagingState())
    assert retry.error is None and len(retry.records) == 50


def test_error_body_of_another_platform_shape():
    opts = {"adapter": "jsonapi", "list_url": "/api/catalog/page", "items": "result.records",
            "error": "success == `false`", "error_message": "errorMsg", "fields": {"dataset_id": "id"}}
    result = od.parse_json_answer(raw("lanzhou_error.json"), "http://x.test/", opts,
                                  od.first_request("http://x.test/", opts), od.PagingState())
    assert result.error and "鉴权失败" in result.error


def test_post_json_duplicates_short_page_and_overstated_total():
    state = od.PagingState()
    p1 = od.parse_json_answer(raw("hangzhou_page1.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 1), state)
    p6 = od.parse_json_answer(raw("hangzhou_page6.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 6), state)
    assert p1.next and p6.next
    # page 6 starts with the last two items of page 5 (served again)
    assert len({r.dataset_id for r in p6.records}) == 50
    # A short page while the reported total is not reached does not end the harvest ...
    state.seen.update(f"x{i}" for i in range(1000))
    p44 = od.parse_json_answer(raw("hangzhou_page44.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 44), state)
    assert 0 < len(p44.records) < 50 and p44.next is not None and p44.next.page == 45
    # ... the empty page after it does.
    p45 = od.parse_json_answer(raw("hangzhou_page45.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 45), state)
    assert p45.next is None and p45.stop_reason == "empty page"


def test_page_adding_nothing_new_stops():
    state = od.PagingState()
    spec = od.json_request(HZ, HZ_OPTS, 1)
    od.parse_json_answer(raw("hangzhou_page1.json"), HZ, HZ_OPTS, spec, state)
    again = od.parse_json_answer(raw("hangzhou_page1.json"), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 2), state)
    assert again.next is None and again.stop_reason == "page added no new dataset"


def test_max_pages_bounds_a_runaway_catalogue():
    opts = dict(HZ_OPTS, max_pages=1)
    result = od.parse_json_answer(raw("hangzhou_page1.json"), HZ, opts, od.json_request(HZ, opts, 1), od.PagingState())
    assert result.next is None and result.stop_reason.startswith("max_pages")


def test_dates_without_a_value_and_mixed_formats_in_one_catalogue():
    records = []
    for name in ("hangzhou_page1.json", "hangzhou_page6.json", "hangzhou_page7_retry.json", "hangzhou_page44.json"):
        records += od.parse_json_answer(raw(name), HZ, HZ_OPTS, od.json_request(HZ, HZ_OPTS, 1), od.PagingState()).records
    raw_dates = [item["updateDate"] for name in ("hangzhou_page1.json", "hangzhou_page6.json")
                 for item in json.loads(raw(name))["data"]["list"]]
    assert any(isinstance(v, str) and "年" in v for v in raw_dates)
    assert any(isinstance(v, str) and "/" in v for v in raw_dates)
    assert any(isinstance(v, int) for v in raw_dates)
    parsed = [r for r in records if r.updated]
    assert len(parsed) >= len(records) - 2      # only datasets without a date stay undated


# --- HTML (GBK) --------------------------------------------------------------------------------------------------
def test_html_list_page_gbk_links_and_next_page():
    state = od.PagingState()
    spec = od.first_request(CD, CD_OPTS)
    assert spec.url == "http://data.chengdu.gov.cn.test/oportal/catalog/index?page=1"
    page = gbk_page("chengdu_list_p1.html", spec.url)
    result = od.parse_html_list(page, CD, CD_OPTS, spec, state)
    assert len(result.details) == 15 and result.total == 135
    assert all(d.url.endswith(".html") and d.dataset_id.isdigit() for d in result.details)
    assert result.next.url.endswith("index?page=2")


def test_html_repeated_row_and_last_page():
    state = od.PagingState()
    p1 = gbk_page("chengdu_list_p1.html", "http://data.chengdu.gov.cn.test/oportal/catalog/index?page=1")
    od.parse_html_list(p1, CD, CD_OPTS, od.RequestSpec(p1.url, page=1), state)
    p4 = gbk_page("chengdu_list_p4.html", "http://data.chengdu.gov.cn.test/oportal/catalog/index?page=4")
    r4 = od.parse_html_list(p4, CD, CD_OPTS, od.RequestSpec(p4.url, page=4), state)
    assert len(r4.details) == 16 and r4.next is not None     # one row repeated from page 3
    p9 = gbk_page("chengdu_list_p9.html", "http://data.chengdu.gov.cn.test/oportal/catalog/index?page=9")
    r9 = od.parse_html_list(p9, CD, CD_OPTS, od.RequestSpec(p9.url, page=9), state)
    assert r9.details and r9.next is None and r9.stop_reason == "no link to a next page"


def test_html_detail_page_labels():
    page = gbk_page("chengdu_detail_first.html", "http://data.chengdu.gov.cn.test/oportal/catalog/detail/20210005.html")
    ds = od.parse_html_detail(page, "20210005")
    assert ds.dataset_id == "20210005" and ds.title and ds.publisher.startswith("市")
    assert ds.topic and ds.formats and ds.record_count and ds.views is not None and ds.downloads is not None
    assert ds.created and ds.updated and ds.frequency
    assert ds.licence is None                        # 开放类型 is not a licence
    nodate = od.parse_html_detail(gbk_page("chengdu_detail_nodate.html", "http://data.chengdu.gov.cn.test/d/1.html"), "1")
    assert nodate.created is None and nodate.updated is None and nodate.title


# --- indicators --------------------------------------------------------------------------------------------------
def _ds(i, **kw):
    base = dict(dataset_id=str(i), publisher="市交通运输局", topic="交通运输", formats=["CSV"],
                updated=date(2026, 1, 1), downloads=10)
    base.update(kw)
    return od.Dataset(**base)


def test_catalogue_findings_follow_the_rule_sentences():
    records = [_ds(1), _ds(1, downloads=None),                        # a duplicate id counts once
               _ds(2, publisher="市卫生健康委员会", topic="医疗卫生", formats=["PDF"], api=True, downloads=30),
               _ds(3, formats=["API"], api=True, updated=None, created=None, downloads=None),
               _ds(4, updated=date(2020, 6, 30), topic="其他", licence="CC-BY 4.0")]
    f = od.catalogue_findings(records, CRAWL)
    assert f["opendata_platform"].value is True
    assert f["opendata_datasets"].value == 4
    assert f["opendata_apis"].value == 2
    assert f["opendata_publishers"].value == 2
    assert f["opendata_machine_readable_share"].value == 0.5
    assert f["opendata_updated_1y_share"].value == round(2 / 3, 4)       # undated dataset left out
    assert f["opendata_median_age_days"].value == float((CRAWL - date(2026, 1, 1)).days)
    assert f["opendata_downloads_per_dataset"].value == round((10 + 30 + 10) / 3, 2)
    assert f["opendata_topic_coverage"].value == round(2 / 12, 4)
    assert f["opendata_licence"].value is True and f["opendata_licence"].status == OK


def test_no_licence_no_dates_no_downloads_are_absent_not_zero():
    f = od.catalogue_findings([_ds(1, updated=None, downloads=None)], CRAWL)
    assert f["opendata_licence"].status == ABSENT and f["opendata_licence"].value is False
    for code in ("opendata_updated_1y_share", "opendata_median_age_days", "opendata_downloads_per_dataset"):
        assert f[code].status == ABSENT and f[code].value is None
    assert od.catalogue_findings([_ds(1)], CRAWL, terms_found=True, terms_evidence="terms")["opendata_licence"].value


def test_options_are_validated():
    assert od.validate_options(CKAN) == [] and od.validate_options(HZ_OPTS) == [] and od.validate_options(CD_OPTS) == []
    assert any("list_url" in p for p in od.validate_options({"adapter": "jsonapi", "fields": {"dataset_id": "id"}}))
    assert any("JMESPath" in p for p in od.validate_options({"adapter": "jsonapi", "list_url": "/x",
                                                             "fields": {"dataset_id": "id[["}}))
    assert od.validate_options({"adapter": "soap"})
