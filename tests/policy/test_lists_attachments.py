"""List pages in the three pagination styles, attachments (real PDF / DOCX, corrupt, oversized), dedup,
work reports and the lexicon's validation."""

from __future__ import annotations

import json
from datetime import date

import pytest

from collectors import policy
from collectors.page import Page
from sgi.errors import ConfigError
from sgi.sampleweb import policy as gen
from tests.policy.conftest import served_page

REF = date(2026, 6, 30)


def test_trs_pages_written_by_script(policy_web):
    web, _ = policy_web
    page = served_page(web, "http://xxgk.sz.gov.cn.test/zcwj/index.html")
    style, urls = policy.pagination(page)
    assert style == "trs"
    assert urls[0] == "http://xxgk.sz.gov.cn.test/zcwj/index.html"
    assert urls[1:3] == ["http://xxgk.sz.gov.cn.test/zcwj/index_1.html", "http://xxgk.sz.gov.cn.test/zcwj/index_2.html"]
    items = policy.parse_list(page, REF)
    assert len(items) == gen.PAGE_SIZE and all(i.date for i in items)
    assert all(i.url.startswith("http://xxgk.sz.gov.cn.test/") for i in items)


def test_query_pages_follow_next_link(policy_web):
    web, _ = policy_web
    page = served_page(web, "http://xxgk.hangzhou.gov.cn.test/zcwj/list.html?page=1")
    style, urls = policy.pagination(page)
    assert style == "next" and urls == ["http://xxgk.hangzhou.gov.cn.test/zcwj/list.html?page=2"]
    items = policy.parse_list(page, REF)
    assert len(items) == gen.PAGE_SIZE
    last = served_page(web, "http://xxgk.hangzhou.gov.cn.test/zcwj/list.html?page=3")
    assert policy.pagination(last) == ("none", [])


def test_json_api_list(policy_web):
    web, _ = policy_web
    src = next(s for s in web.sources if s["kind"] == "policy" and s["city"] == "510100")
    api = src["options"]["api"]
    url = "http://xxgk.chengdu.gov.cn.test" + api["url"].replace("{page}", "1")
    page = served_page(web, url)
    items, total = policy.parse_api_list(page.body, src["start_url"], api, REF)
    assert total == 29 and len(items) == gen.PAGE_SIZE
    assert items[0].url.startswith("http://xxgk.chengdu.gov.cn.test/") and items[0].date


def test_pdf_and_docx_text():
    text, reason = policy.attachment_text(gen.make_pdf(["附件1 重点任务分工表", "序号 任务 责任单位"]), "pdf")
    assert reason is None and "重点任务分工表" in text and "责任单位" in text
    text, reason = policy.attachment_text(gen.make_docx(["附件2", "名词解释"]), "docx")
    assert reason is None and text == "附件2\n名词解释"
    # A DOCX served under a wrong extension is recognised by its content.
    text, reason = policy.attachment_text(gen.make_docx(["申报材料清单"]), "doc")
    assert reason is None and text == "申报材料清单"


def test_corrupt_and_unsupported_attachments_give_reasons():
    text, reason = policy.attachment_text(gen.CORRUPT_PDF, "pdf")
    assert text is None and reason.startswith("corrupt:")
    text, reason = policy.attachment_text(b"<html>not a pdf</html>", "pdf")
    assert text is None and reason.startswith("corrupt:")
    text, reason = policy.attachment_text(b"\xd0\xcf\x11\xe0" + bytes(100), "doc")
    assert text is None and reason.startswith("unsupported format")


def test_big_attachment_is_generated_per_request_not_stored(policy_web):
    web, _ = policy_web
    res = web.sites["file.xm.gov.cn.test"].resources["/upload/2025/scan_50mb.pdf"]
    assert callable(res.body) and not web.sites["file.xm.gov.cn.test"].gzip


def _doc(url, number=None, title="关于某事项的通知", body="", published=None):
    d = policy.PolicyDoc(url=url, title=title, doc_number=number, body=body, published_date=published)
    return d


def test_dedupe_by_number_and_near_duplicate_text():
    body = "".join(gen.GENERIC[:6])
    docs = [
        _doc("http://a.test/zcwj/1.html", "深府〔2024〕1号", published=date(2024, 1, 2)),
        _doc("http://a.test/bmwj/1.html", policy.normalize_doc_number("深府[2024]1号"), published=date(2024, 1, 4)),
        _doc("http://a.test/zcwj/2.html", None, body=body, published=date(2024, 2, 1)),
        _doc("http://a.test/bmwj/2.html", None, body="（转载）" + body + "来源：市政府门户网站", published=date(2024, 2, 2)),
        _doc("http://a.test/zcwj/3.html", None, title="另一份文件", body="完全不同的内容，关于住房公积金提取。" * 5),
    ]
    groups = policy.dedupe(docs)
    assert len(groups) == 3
    by_first = {g[0].url: [d.url for d in g] for g in groups}
    # The earliest publication is canonical, the repost's URL is kept in the group.
    assert by_first["http://a.test/zcwj/1.html"] == ["http://a.test/zcwj/1.html", "http://a.test/bmwj/1.html"]
    assert by_first["http://a.test/zcwj/2.html"] == ["http://a.test/zcwj/2.html", "http://a.test/bmwj/2.html"]


def test_work_report_frequency_and_title():
    value, n, chars = policy.env_term_frequency("坚持生态优先、绿色发展，深入打好污染防治攻坚战。生态环境持续改善。")
    # 绿色发展, 污染防治, 生态环境 (one term, longest first); 生态优先 is not a term
    assert n == 3 and chars == 33 and value == round(3 * 10000 / 33, 4)
    assert policy.is_work_report_title("2026年杭州市政府工作报告") == 2026
    assert policy.is_work_report_title("图解：2026年政府工作报告") is None
    assert policy.is_work_report_title("关于印发某某办法的通知") is None


def test_lexicon_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\ngroups:\n  digital_gov: [dg_overall, nonsense]\n  digital_ecosystem: []\n"
                   "categories: {}\nenv_terms: [环保]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        policy.load_lexicon(str(bad))
    assert "nonsense" in str(exc.value)
    lex = policy.load_lexicon()
    assert set(lex.categories) == set(policy.CATEGORY_CODES)
    assert {c.group for c in lex.categories.values()} == {"digital_gov", "digital_ecosystem"}


def test_doc_key_ignores_scheme_and_port():
    assert policy.doc_key(None, "http://a.gov.cn.test:18630/x/1.html?id=2") == \
        policy.doc_key(None, "https://a.gov.cn.test/x/1.html?id=2")
    assert policy.doc_key("深府〔2024〕1号", "http://x") == "no:深府〔2024〕1号"
