"""Metadata read from real detail pages (issue 20): the reference pages from www.jiangxi.gov.cn against
expected values written by hand (tests/fixtures/policy/real/expected.json), and the main CMS layouts
(TRS 信息公开 tables, Hanweb/大汉 grids, definition lists, info boxes above the title, <meta> tags)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from collectors import policy
from collectors.page import Page

FIXTURES = Path(__file__).parents[1] / "fixtures" / "policy" / "real"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "real-policies" / "pages"
EXPECTED = {k: v for k, v in json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8")).items()
            if not k.startswith("_")}
FIELDS = ("title", "doc_number", "issuer", "index_number", "subject", "written_date", "published_date")


def _read(path: Path, url: str):
    page = Page(url, path.read_bytes(), {"Content-Type": "text/html; charset=utf-8"})
    doc = policy.parse_detail(page, province="江西省")
    got = {k: getattr(doc, k) for k in FIELDS}
    for k in ("written_date", "published_date"):
        got[k] = got[k].isoformat() if got[k] else None
    return got


def _manifest(folder: Path) -> dict:
    with open(folder / "manifest.csv", encoding="utf-8", newline="") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


STORED = sorted(_manifest(FIXTURES))


def test_stored_copies_are_the_reference_pages_unchanged():
    for name, row in _manifest(FIXTURES).items():
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == row["sha256"], name


@pytest.mark.parametrize("name", STORED)
def test_stored_reference_page_metadata(name):
    row = _manifest(FIXTURES)[name]
    assert _read(FIXTURES / name, row["url"]) == EXPECTED[name]


@pytest.mark.skipif(not (REFERENCE / "manifest.csv").exists(), reason="../shared/reference/real-policies not here")
def test_every_reference_page_metadata():
    manifest = _manifest(REFERENCE)
    assert set(manifest) == set(EXPECTED)
    wrong = {}
    for name, row in manifest.items():
        got = _read(REFERENCE / name, row["url"])
        if got != EXPECTED[name]:
            wrong[name] = {k: (got[k], EXPECTED[name][k]) for k in FIELDS if got[k] != EXPECTED[name][k]}
    assert not wrong, wrong


# --- the main CMS layouts (constructed pages, each in the shape of one family) -----------------------

def _doc(html: str, **place):
    return policy.parse_detail(Page("http://www.example.gov.cn.test/art/1.html", html.encode("utf-8"),
                                    {"Content-Type": "text/html; charset=utf-8"}), **place)


BODY = '<div id="zoom"><p>各区人民政府，市政府各部门：</p><p>' + "为进一步做好有关工作，现通知如下。" * 5 + "</p>"


def test_trs_table_empty_value_cell_is_empty_and_generation_date_is_not_the_written_date():
    doc = _doc("""<html><head><title>关于做好有关工作的通知</title></head><body><table class="xxgk">
<tr><td>索&nbsp;引&nbsp;号：</td><td>11330100002/2025-00012</td><td>主题分类：</td><td>综合政务</td></tr>
<tr><td>发布机构：</td><td>市数据资源局</td><td>生成日期：</td><td>2025-03-02</td></tr>
<tr><td>文&nbsp;&nbsp;号：</td><td></td><td>成文日期：</td><td></td></tr>
<tr><td>名&nbsp;&nbsp;称：</td><td colspan="3">关于做好有关工作的通知</td></tr></table>""" + BODY
               + "<p>杭州市数据资源局</p><p>2025年2月26日</p></div></body></html>", province="浙江省", city="杭州市")
    assert doc.doc_number is None and doc.doc_number_raw is None
    assert doc.issuer == "杭州市数据资源局"
    assert doc.written_date.isoformat() == "2025-02-26"          # the signature date, not 生成日期 2025-03-02
    assert doc.title == "关于做好有关工作的通知" and doc.subject == "综合政务"


def test_hanweb_grid_labels_above_values():
    doc = _doc("""<html><head><title>x</title></head><body><table class="xxgk_table">
<tr><th>索引号</th><th>发布机构</th><th>发文字号</th><th>成文日期</th></tr>
<tr><td>113501000041/2024-01234</td><td>省大数据管理局</td><td>闽数管〔２０２４〕７号</td><td>2024年05月06日</td></tr>
</table><h1>关于印发《某省公共数据资源目录管理办法》的通知</h1>""" + BODY + "</div></body></html>", province="福建省")
    assert doc.index_number == "113501000041/2024-01234"
    assert doc.issuer == "福建省大数据管理局"
    assert doc.doc_number == "闽数管〔2024〕7号"
    assert doc.written_date.isoformat() == "2024-05-06"


def test_definition_list_and_meta_tags():
    doc = _doc("""<html><head><title>某市人民政府</title><meta name="ArticleTitle" content="某市政务云管理办法">
<meta name="PubDate" content="2023-08-09 10:00"><meta name="ContentSource" content="市政务服务数据管理局"></head><body>
<dl class="info"><dt>文号：</dt><dd>某府规【2023】5号</dd><dt>成文日期：</dt><dd>2023-08-01</dd></dl>""" + BODY
               + "</div></body></html>", city="深圳市")
    assert doc.title == "某市政务云管理办法"
    assert doc.published_date.isoformat() == "2023-08-09"
    assert doc.issuer == "深圳市政务服务数据管理局"                 # from <meta ContentSource>, qualified
    assert doc.doc_number == "某府规〔2023〕5号" and doc.is_normative
    assert doc.written_date.isoformat() == "2023-08-01"


def test_info_box_above_the_title_with_an_empty_field():
    doc = _doc("""<html><head><title>通知</title></head><body><div class="article">
<div class="info"><span>发布时间：2022-11-03</span><span>文号：</span><span>发文机关：区政务服务中心</span></div>
<h1>关于推进“一网通办”的通知</h1>""" + BODY + "</div></div></body></html>")
    assert doc.doc_number is None
    assert doc.issuer == "区政务服务中心"
    assert doc.published_date.isoformat() == "2022-11-03"
    assert doc.written_date is None                                # no 成文日期, no signature: not the page date


@pytest.mark.parametrize("raw", ["赣府厅发〔2020〕4号", "赣府厅发[2020]4号", "赣府厅发【2020】4号", "赣府厅发﹝2020﹞4号",
                                 "赣府厅发［２０２０］４号", "赣府厅发（2020）04号", "赣府厅发〔２０２０〕第４号"])
def test_doc_number_bracket_forms(raw):
    assert policy.normalize_doc_number(raw) == "赣府厅发〔2020〕4号"


def test_issuer_keeps_its_place():
    assert policy.qualify_issuer("省政府办公厅", "江西省") == "江西省政府办公厅"
    assert policy.qualify_issuer("市大数据局", "广东省", "深圳市") == "深圳市大数据局"
    assert policy.qualify_issuer("江西省人民政府", "江西省") == "江西省人民政府"
    assert policy.qualify_issuer("省政府办公厅") == "省政府办公厅"          # place unknown: as written


def test_cli_extract_policy_with_the_city_qualifies_the_issuer():
    import subprocess
    import sys

    name = "art_4969_1495208.html"        # 发文机关: 省政府办公厅, 文号 cell empty
    proc = subprocess.run([sys.executable, "-m", "sgi", "extract", "policy", str(FIXTURES / name), "--url",
                           _manifest(FIXTURES)[name]["url"], "--city", "南昌", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["issuer"] == "江西省政府办公厅" and data["doc_number"] is None
    assert data["written_date"] == "2020-02-03" and data["groups"] == ["digital_gov"]
