"""Detail-page fields on saved pages: the central government's layout, a GBK provincial 信息公开 page,
a fragment without <html>/<head>, and the CLI's JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from collectors import policy
from collectors.page import Page

FIX = Path(__file__).parent.parent / "fixtures" / "policy"
KEYS = ["url", "title", "doc_number", "issuer", "index_number", "written_date", "published_date", "categories",
        "groups", "rules"]


def parse(name: str, url: str = "http://www.example.gov.cn.test/a/t1.html", content_type=None):
    page = Page.from_file(str(FIX / name), url, content_type)
    doc = policy.parse_detail(page)
    return doc, policy.classify(doc.title or "", doc.body)


def test_gov_cn_zhengceku_metadata_table():
    doc, cls = parse("zhengceku.html", "https://www.gov.cn/zhengce/content/2022-10/28/content_5722322.htm")
    assert doc.title == "国务院办公厅关于印发全国一体化政务大数据体系建设指南的通知"
    assert doc.doc_number == "国办函〔2022〕102号"
    assert doc.issuer == "国务院办公厅"
    assert doc.index_number == "000014349/2022-00114"
    assert doc.subject == "国务院组织机构\\其他"
    assert doc.written_date.isoformat() == "2022-09-13"
    assert doc.published_date.isoformat() == "2022-10-28"
    assert "data_management" in cls.categories and "digital_gov" in cls.groups
    assert doc.body.startswith("国办函〔2022〕102号") and "责任编辑" not in doc.body and "ICP" not in doc.body


def test_provincial_gbk_page_with_th_labels_and_full_width_brackets():
    raw = (FIX / "provincial_xxgk_gbk.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    doc, cls = parse("provincial_xxgk_gbk.html")
    assert doc.title.startswith("广西壮族自治区人民政府办公厅关于印发广西数字政府建设")
    assert doc.doc_number == "桂政办发〔2021〕123号"          # printed as 桂政办发［2021］123号
    assert doc.issuer == "广西壮族自治区人民政府办公厅"
    assert doc.index_number == "000014349/2021-12345"
    assert doc.written_date.isoformat() == "2021-11-22"      # 生成日期
    assert doc.published_date.isoformat() == "2021-12-03"    # 发布时间 line
    assert doc.validity == "有效"
    assert cls.categories == ["dg_overall"]
    assert [u for u, _ in doc.attachments] == ["http://www.example.gov.cn.test/zwgk/wjk/P020211203512345678901.pdf"]


def test_fragment_without_html_or_head():
    doc, cls = parse("fragment.html")
    assert doc.title == "关于印发《某市新型智慧城市建设行动计划（2024—2026年）》的通知"
    assert doc.doc_number == "某府办〔2024〕7号"
    assert doc.published_date.isoformat() == "2024-03-05"
    assert doc.issuer is None and doc.index_number is None
    assert doc.written_date.isoformat() == "2024-03-01"      # no 成文日期 field: the date under the signature
    assert cls.categories == ["smart_city"]            # a title-only match: the body only repeats the title


@pytest.mark.parametrize("raw, want", [
    ("深府办规〔2021〕3号", "深府办规〔2021〕3号"),
    ("深府办规[2021]3号", "深府办规〔2021〕3号"),
    ("深府办规［2021］03号", "深府办规〔2021〕3号"),
    ("深府办规（2021）3号", "深府办规〔2021〕3号"),
    ("深府办规(2021) 3 号", "深府办规〔2021〕3号"),
    ("深府办规【2021】第3号", "深府办规〔2021〕3号"),
    ("发文字号：国办发〔2024〕12号", "国办发〔2024〕12号"),
    ("无", None),
    ("", None),
])
def test_document_number_brackets_are_normalised(raw, want):
    assert policy.normalize_doc_number(raw) == want


def test_validity_values():
    assert policy._validity("失效", "") == "失效"
    assert policy._validity("已废止", "") == "废止"
    assert policy._validity("现行有效", "") == "有效"
    assert policy._validity(None, "【已失效】关于……的通知") == "失效"
    assert policy._validity(None, "关于……的通知") is None


@pytest.mark.parametrize("name", ["zhengceku.html", "provincial_xxgk_gbk.html", "fragment.html"])
def test_cli_extract_policy_json_shape(name):
    proc = subprocess.run([sys.executable, "-m", "sgi", "extract", "policy", str(FIX / name), "--url",
                           "https://www.gov.cn/zhengce/content/x.htm", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert list(data) == KEYS
    assert data["url"] == "https://www.gov.cn/zhengce/content/x.htm"
    for key in ("written_date", "published_date"):
        assert data[key] is None or (len(data[key]) == 10 and data[key][4] == "-" and data[key][7] == "-")
    assert isinstance(data["categories"], list) and set(data["groups"]) <= {"digital_gov", "digital_ecosystem"}
    assert all(isinstance(r, str) for r in data["rules"]) and data["rules"]


def test_sample_web_detail_templates_read_every_field(policy_web):
    """Every detail page of the three sample templates (gkml table, xxgk label list, GBK td labels)."""
    from tests.policy.conftest import served_page

    web, labels = policy_web
    n = 0
    for url in labels:
        doc = policy.parse_detail(served_page(web, url))
        assert doc.title and doc.published_date and doc.written_date and doc.issuer and doc.index_number, url
        assert doc.doc_number is None or "〔" in doc.doc_number
        n += 1
    assert n >= 200


def test_sample_web_issuers_written_without_their_city_keep_it(policy_web):
    """The sample pages write a city department as real pages do ('市大数据局'); read with the city's place
    the issuer is the full name the generator gave it (truth as data, sgi.sampleweb.policy.ISSUERS)."""
    from sgi.cities import lookup
    from sgi.sampleweb import policy as gen
    from tests.policy.conftest import served_page

    web, labels = policy_web
    assert set(gen.ISSUERS) == set(labels)
    short = 0
    for url, issuer in gen.ISSUERS.items():
        city = lookup(next(s.code for s in gen.CITIES if f".{s.slug}.gov" in url))
        doc = policy.parse_detail(served_page(web, url), province=city.province, city=city.name)
        assert doc.issuer == issuer, url
        short += any(v.startswith("市") for k, v in doc.fields_found.items() if "发文机关" in k)
    assert short >= 10                     # many pages really write the short form


def test_sample_web_written_date_is_the_cheng_wen_date_not_the_generation_date(policy_web):
    """xxgk and GBK pages list 生成日期 (a day after publication) before 成文日期, as TRS pages do."""
    from sgi.sampleweb import policy as gen
    from tests.policy.conftest import served_page

    web, labels = policy_web
    assert len(gen.WRITTEN) == len(labels)
    with_generation_date = 0
    for url, written in gen.WRITTEN.items():
        page = served_page(web, url)
        with_generation_date += "生成日期" in page.text
        assert policy.parse_detail(page).written_date == written, url
    assert with_generation_date >= 100


def test_title_is_not_the_site_banner():
    html = ("<html><head><title>关于做好2026年防汛工作的通知_某市人民政府</title></head><body>"
            "<h1>某市人民政府门户网站</h1><div class='main'><h2>关于做好2026年防汛工作的通知</h2>"
            "<div class='zw'><p>各区：现将有关事项通知如下。各区要加强组织领导，落实防汛责任。</p></div></div></body></html>")
    doc = policy.parse_detail(Page("http://a.test/x.html", html.encode()))
    assert doc.title == "关于做好2026年防汛工作的通知"


def test_label_value_in_one_cell_and_inline_spans():
    html = ("<table><tr><td>索引号：11440300/2024-00012</td><td>发布机构：某市发展和改革委员会</td></tr>"
            "<tr><td>发文字号：某发改规（2024）2号</td><td>成文日期：2024年02月01日</td></tr></table>"
            "<h1>某市发展和改革委员会关于印发某市数字经济高质量发展若干措施的通知</h1>"
            "<div id='zoom'><p>各有关单位：为加快数字经济发展，推进数字产业化和产业数字化，制定本措施。</p></div>")
    doc = policy.parse_detail(Page("http://a.test/y.html", html.encode()))
    assert doc.index_number == "11440300/2024-00012" and doc.issuer == "某市发展和改革委员会"
    assert doc.doc_number == "某发改规〔2024〕2号" and doc.is_normative
    assert doc.written_date.isoformat() == "2024-02-01"
    assert policy.classify(doc.title, doc.body).categories == ["digital_economy"]
