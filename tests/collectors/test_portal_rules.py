"""Portal rules on saved pages (tests/fixtures/pages/portal, expectations in pages.yaml) and on
small inline pages for single edge cases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from collectors.base import ABSENT, OK, Finding
from collectors.lexicons import default_portal_lexicon, load_portal_lexicon, PORTAL_LEXICON_PATH
from collectors.portal import (RULE_VERSIONS, challenge_reason, column_links, column_status, detect_challenge,
                               extract_portal, extract_portal_links, is_empty_shell, merge_findings, page_type,
                               redirect_target, to_json)
from sgi.yamlconf import load_yaml
from tests.collectors.conftest import CRAWL_DATE, PORTAL_META, html_page, load_portal_page

PAGES = PORTAL_META["pages"]
EXPECTED = [(name, code, value) for name, meta in PAGES.items() for code, value in (meta.get("expected") or {}).items()]


@pytest.fixture(scope="module")
def findings_by_page():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = extract_portal(load_portal_page(name), CRAWL_DATE)
        return cache[name]
    return get


# --- every expectation written in pages.yaml ---------------------------------------------------

@pytest.mark.parametrize("name, code, expected", EXPECTED, ids=[f"{n}:{c}" for n, c, _ in EXPECTED])
def test_saved_page_expectation(findings_by_page, name, code, expected):
    finding = findings_by_page(name)[code]
    if isinstance(expected, float):
        assert finding.value == pytest.approx(expected, abs=1e-3), finding.evidence
    else:
        assert finding.value == expected, finding.evidence
    if expected is True or (isinstance(expected, str) and expected):
        assert finding.status == OK and finding.evidence
    if expected is False:
        assert finding.status == ABSENT and finding.evidence  # the reason for absence is given
    if expected is None:
        assert finding.status == ABSENT


COLUMNS = [(name, suffix, kind) for name, meta in PAGES.items() for suffix, kind in (meta.get("columns") or {}).items()]


@pytest.mark.parametrize("name, suffix, kind", COLUMNS, ids=[f"{n}:{s}" for n, s, _ in COLUMNS])
def test_column_links_find_the_columns(name, suffix, kind):
    found = {link.url: link.kind for link in column_links(load_portal_page(name))}
    matches = [k for url, k in found.items() if url.endswith(suffix)]
    assert matches == [kind], found


@pytest.mark.parametrize("name", [n for n, m in PAGES.items() if m.get("columns")])
def test_column_links_find_nothing_else(name):
    expected = PAGES[name]["columns"]
    for link in column_links(load_portal_page(name)):
        assert any(link.url.endswith(s) for s in expected), link


STATUS = [(name, meta["column_status"]) for name, meta in PAGES.items() if meta.get("column_status")]


@pytest.mark.parametrize("name, status", STATUS, ids=[n for n, _ in STATUS])
def test_column_status(name, status):
    kind, newest, count = status
    assert column_status(load_portal_page(name), kind, CRAWL_DATE) == (newest, count)


FOLLOW = [(name, suffix) for name, meta in PAGES.items() for suffix in (meta.get("follow") or [])]


@pytest.mark.parametrize("name, suffix", FOLLOW, ids=[f"{n}:{s}" for n, s in FOLLOW])
def test_follow_links(name, suffix):
    urls = [url for url, _ in extract_portal_links(load_portal_page(name))]
    assert any(url.endswith(suffix) for url in urls), urls


@pytest.mark.parametrize("name", list(PAGES))
def test_detect_challenge(name):
    page = load_portal_page(name)
    assert detect_challenge(page) is bool(PAGES[name].get("challenge", False)), challenge_reason(page)


# --- shape of the output -----------------------------------------------------------------------

def test_every_portal_code_is_returned_with_rule_id_and_version(findings_by_page):
    findings = findings_by_page("trs_city_home.html")
    assert set(findings) == set(RULE_VERSIONS)
    version = default_portal_lexicon().version
    for code, finding in findings.items():
        assert isinstance(finding, Finding)
        assert finding.code == code and finding.rule == f"portal.{code}"
        assert finding.rule_version.endswith(version)
        assert finding.url == "https://www.pc.gov.cn/"


def test_codes_are_registered_portal_indicators():
    registry = load_yaml(Path(__file__).resolve().parents[2] / "sgi" / "data" / "indicators.yaml")
    portal_codes = {i["code"] for i in registry["indicators"] if i["source"] == "portal"}
    assert set(RULE_VERSIONS) <= portal_codes
    assert set(default_portal_lexicon().features) <= portal_codes


def test_to_json_shape(findings_by_page):
    page = load_portal_page("trs_city_home.html")
    out = to_json(page, findings_by_page("trs_city_home.html"))
    assert out["url"] == "https://www.pc.gov.cn/"
    assert out["features"]["site_identifier"] == {"value": "4403000001", "evidence": out["features"]["site_identifier"]["evidence"]}
    assert set(out["features"]["site_map"]) == {"value", "evidence"}
    json.dumps(out, ensure_ascii=False)  # serialisable as is


def test_homepage_bytes_is_body_length(findings_by_page):
    page = load_portal_page("legacy_table_gb2312.html")
    assert findings_by_page("legacy_table_gb2312.html")["homepage_bytes"].value == len(page.body)


# --- hard cases, one by one --------------------------------------------------------------------

def test_gbk_page_declaring_utf8_is_read(findings_by_page):
    page = load_portal_page("gbk_declares_utf8.html")
    assert b"charset=\"utf-8\"" in page.body and page.encoding == "gb18030"
    assert findings_by_page("gbk_declares_utf8.html")["mayor_mailbox"].evidence.count("区长信箱") >= 1


def test_full_width_icp_is_normalised(findings_by_page):
    assert "京ＩＣＰ备".encode("gbk") in load_portal_page("gbk_declares_utf8.html").body
    assert findings_by_page("gbk_declares_utf8.html")["icp_record"].value == "京ICP备05060933号"


def test_share_buttons_are_not_government_accounts(findings_by_page):
    findings = findings_by_page("hanweb_article_share.html")
    for code in ("new_media_weibo", "new_media_wechat"):
        assert findings[code].value is False, findings[code].evidence


def test_share_exclusion_comes_from_the_lexicon(tmp_path):
    # Without share_exclusions the same article page would claim a Weibo account: the guard is data.
    text = PORTAL_LEXICON_PATH.read_text(encoding="utf-8")
    start = text.index("share_exclusions:")
    end = text.index("features:")
    lexicon_path = tmp_path / "portal.yaml"
    lexicon_path.write_text(text[:start] + "share_exclusions: []\n\n" + text[end:], encoding="utf-8")
    lexicon = load_portal_lexicon(lexicon_path)
    findings = extract_portal(load_portal_page("hanweb_article_share.html"), CRAWL_DATE, lexicon)
    assert findings["new_media_weibo"].value is True


def test_rules_read_the_lexicon_not_hard_coded_words(tmp_path):
    page = html_page('<html><body><a href="/dl/">网站导览</a></body></html>')
    assert extract_portal(page, CRAWL_DATE)["site_map"].value is False
    text = PORTAL_LEXICON_PATH.read_text(encoding="utf-8").replace(
        "keywords_zh: [网站地图, 站点地图, 网站导航图]", "keywords_zh: [网站地图, 站点地图, 网站导航图, 网站导览]")
    lexicon_path = tmp_path / "portal.yaml"
    lexicon_path.write_text(text, encoding="utf-8")
    finding = extract_portal(page, CRAWL_DATE, load_portal_lexicon(lexicon_path))["site_map"]
    assert finding.value is True and "网站导览" in finding.evidence


def test_document_write_widgets_are_read(findings_by_page):
    findings = findings_by_page("docwrite_widgets.html")
    assert "inline script" in findings["hotline_12345"].evidence
    assert "inline script" in findings["site_map"].evidence
    assert "mn:" in findings["language_versions"].evidence


def test_split_tags_feature_names(findings_by_page):
    findings = findings_by_page("split_tags.html")
    assert "政策" in findings["policy_interpretation"].evidence and "解读" in findings["policy_interpretation"].evidence
    assert "<em>网站</em>地图" in findings["site_map"].evidence


def test_img_alt_only_features(findings_by_page):
    findings = findings_by_page("img_alt_features.html")
    assert "alt=\"无障碍浏览\"" in findings["accessibility_mode"].evidence
    assert "alt=\"沧澜发布抖音号\"" in findings["new_media_douyin"].evidence


def test_meta_pubdate_does_not_override_visible_dates(findings_by_page):
    finding = findings_by_page("meta_pubdate_disagree.html")["homepage_freshness_days"]
    assert finding.value == 26 and "2026-05-20" in finding.evidence


def test_footer_dates_are_ignored():
    page = html_page("""<html><body>
      <ul class="news"><li><a href="/a/1.html">旧闻</a><span>2026-05-01</span></li></ul>
      <div class="footer"><a href="/wzdt/">网站地图</a> 网站更新于 2026-06-14 <a href="/x">联系我们</a> 2026-06-14</div>
      <footer><p><a href="/y">版权</a> 2026-06-13</p></footer>
    </body></html>""")
    assert extract_portal(page, CRAWL_DATE)["homepage_freshness_days"].value == 45


def test_header_clock_is_not_an_item_date():
    page = html_page("""<html><body>
      <div class="topbar"><span>今天是2026年6月15日 星期一</span><a href="/wza/">无障碍</a></div>
      <ul><li><a href="/a/1.html">县政府常务会议</a><span>2026-05-30</span></li></ul>
    </body></html>""")
    assert extract_portal(page, CRAWL_DATE)["homepage_freshness_days"].value == 16


def test_future_dates_are_ignored():
    page = html_page("""<html><body><ul>
      <li><a href="/a/1.html">关于征求意见的公告</a><span>2026-07-30</span></li>
      <li><a href="/a/2.html">工作动态</a><span>2026-06-10</span></li></ul></body></html>""")
    assert extract_portal(page, CRAWL_DATE)["homepage_freshness_days"].value == 5


def test_partial_dates_take_the_year_before_when_in_the_future():
    page = html_page("<html><body><ul><li><a href='/a.html'>年终总结</a><span>[12-28]</span></li></ul></body></html>")
    finding = extract_portal(page, date(2026, 1, 5))["homepage_freshness_days"]
    assert finding.value == 8 and "2025-12-28" in finding.evidence


def test_undated_page_is_absent_and_stale():
    page = html_page("<html><body><ul><li><a href='/a.html'>市情概况</a></li></ul></body></html>")
    findings = extract_portal(page, CRAWL_DATE)
    assert findings["homepage_freshness_days"].status == ABSENT and findings["homepage_freshness_days"].value is None
    assert findings["inspection_homepage_stale"].value is True


def test_fourteen_days_is_not_stale_fifteen_is():
    def stale(day):
        page = html_page(f"<html><body><ul><li><a href='/a.html'>动态</a><span>{day}</span></li></ul></body></html>")
        return extract_portal(page, CRAWL_DATE)["inspection_homepage_stale"].value
    assert stale("2026-06-01") is False
    assert stale("2026-05-31") is True


@pytest.mark.parametrize("html, expected", [
    ("<p>服务热线：12345</p>", True),
    ("<a href='/rx/'>12345热线</a>", True),
    ("<p>联系电话：0523-82812345</p>", False),
    ("<p>投诉电话 123456</p>", False),
    ("<ul class='num'><li>1</li><li>2</li><li>3</li><li>4</li><li>5</li></ul>", False),
    ("<p>文件编号 2023-12345-01</p>", False),
])
def test_hotline_12345_only_as_a_whole_number(html, expected):
    assert extract_portal(html_page(f"<html><body>{html}</body></html>"), CRAWL_DATE)["hotline_12345"].value is expected


def test_site_identifier_falls_back_to_meta_tag():
    page = html_page('<html><head><meta name="SiteIDCode" content="bm04000001"></head><body><p>主办</p></body></html>')
    finding = extract_portal(page, CRAWL_DATE)["site_identifier"]
    assert finding.value == "bm04000001" and "meta" in finding.evidence


def test_missing_site_identifier_is_absent_none(findings_by_page):
    finding = findings_by_page("iframe_home.html")["site_identifier"]
    assert finding.value is None and finding.status == ABSENT and "网站标识码" in finding.evidence


@pytest.mark.parametrize("header, expected", [
    ("max-age=31536000", True),
    ("max-age=0", False),
    (None, False),
])
def test_hsts(header, expected):
    headers = {"Strict-Transport-Security": header} if header else {}
    page = html_page("<html><body>x</body></html>", headers=headers)
    assert extract_portal(page, CRAWL_DATE)["portal_hsts"].value is expected


def test_hsts_needs_https():
    page = html_page("<html><body>x</body></html>", url="http://www.test.gov.cn/",
                     headers={"Strict-Transport-Security": "max-age=31536000"})
    findings = extract_portal(page, CRAWL_DATE)
    assert findings["portal_https"].value is False and findings["portal_hsts"].value is False


def test_search_form_with_unlabelled_input_and_search_action():
    page = html_page('<html><body><form action="/jsearch/search.do"><input type="text" name="w1"></form></body></html>')
    assert extract_portal(page, CRAWL_DATE)["site_search"].value is True


def test_login_form_is_not_a_search():
    page = html_page('<html><body><form action="/login.do"><input type="text" name="username"><input type="password" name="pwd">'
                     '<input type="submit" value="提交"></form></body></html>')
    assert extract_portal(page, CRAWL_DATE)["site_search"].value is False


def test_admin_login_is_not_personal_login():
    page = html_page('<html><body><a href="/admin/">后台登录</a> <a href="https://mail.test.gov.cn/">邮箱登录</a></body></html>')
    assert extract_portal(page, CRAWL_DATE)["personal_login"].value is False


def test_long_headline_mentioning_wechat_is_not_an_account():
    page = html_page('<html><body><ul><li><a href="/a.html">我市举办微信支付便民服务进社区活动暨数字生活节启动仪式</a></li></ul></body></html>')
    assert extract_portal(page, CRAWL_DATE)["new_media_wechat"].value is False


def test_language_select_options_are_counted():
    page = html_page("""<html><body><select onchange="window.open(this.value)">
      <option value="">多语种</option><option value="http://en.test.gov.cn/">English</option>
      <option value="http://jp.test.gov.cn/">日本語</option><option value="http://kr.test.gov.cn/">한국어</option>
      <option value="http://en.test.gov.cn/index.html">EN</option></select></body></html>""")
    assert extract_portal(page, CRAWL_DATE)["language_versions"].value == 3


def test_commented_out_links_do_not_count():
    page = html_page("<html><body><!-- <a href='/wzdt/'>网站地图</a> --><p>首页</p></body></html>")
    assert extract_portal(page, CRAWL_DATE)["site_map"].value is False


@pytest.mark.parametrize("name, expected", [
    ("trs_city_home.html", "home"),
    ("kaipu_xxgk_column.html", "column"),
    ("hanweb_column_empty.html", "column"),
    ("hanweb_article_share.html", "article"),
])
def test_page_type(name, expected):
    assert page_type(load_portal_page(name)) == expected


# --- merging the home page with followed sub-pages -----------------------------------------------

def test_merge_home_with_iframe_footer(findings_by_page):
    home, footer = findings_by_page("iframe_home.html"), findings_by_page("iframe_footer.html")
    merged = merge_findings([home, footer])
    assert merged["site_identifier"].value == "4307260001"
    assert merged["site_identifier"].url == "https://www.shimen.gov.cn/include/footer.html"
    assert "include/footer.html" in merged["site_map"].evidence
    assert merged["new_media_weibo"].value is True
    # home-page measurements stay the home page's even when the sub-page says otherwise
    assert merged["homepage_freshness_days"].value == 2
    assert merged["inspection_homepage_stale"].value is False
    assert merged["homepage_bytes"] == home["homepage_bytes"]
    # features absent everywhere stay absent
    assert merged["new_media_wechat"].value is False


def test_merge_keeps_present_home_feature_and_max_language_count(findings_by_page):
    home, other = findings_by_page("trs_city_home.html"), findings_by_page("docwrite_widgets.html")
    merged = merge_findings([home, other])
    assert merged["site_map"].url == "https://www.pc.gov.cn/"
    assert merged["language_versions"].value == 2
    assert merge_findings([]) == {}


# --- challenge and shell pages -----------------------------------------------------------------

def test_spa_shell_is_empty_shell_but_not_when_rendered():
    page = load_portal_page("spa_shell.html")
    assert is_empty_shell(page)
    rendered = type(page)(url=page.url, body=page.body, headers={}, status=200, rendered=True)
    assert not detect_challenge(rendered)


def test_ruishu_reason_names_the_script():
    assert "$_ts" in challenge_reason(load_portal_page("challenge_412_ruishu.html"))


def test_long_page_with_captcha_login_is_not_a_challenge():
    body = "<p>" + "市政府召开常务会议，研究部署近期重点工作。" * 40 + "</p>"
    page = html_page(f"<html><body>{body}<form><input name='yzm' placeholder='验证码'></form></body></html>")
    assert not detect_challenge(page)


def test_redirect_page_is_not_a_challenge():
    page = html_page('<html><head><meta http-equiv="refresh" content="0;url=/index.html"></head><body></body></html>')
    assert not detect_challenge(page) and not is_empty_shell(page)
    assert redirect_target(page) == "https://www.test.gov.cn/index.html"


def test_js_redirect_is_followable():
    page = html_page('<html><body><script>window.location.href="/sy/index.shtml";</script></body></html>')
    assert redirect_target(page) == "https://www.test.gov.cn/sy/index.shtml"
    assert not detect_challenge(page)


def test_language_version_by_url_of_an_icon_link():
    page = html_page('<html><body><a href="http://english.test.gov.cn/"><img src="/img/en.png"></a>'
                     '<a href="http://www.test.gov.cn/gate/big5/www.test.gov.cn/"><img src="/img/ft.png"></a></body></html>')
    assert extract_portal(page, CRAWL_DATE)["language_versions"].value == 2


def test_department_names_in_site_navigation_are_not_features():
    # 政府网站导航 <select> lists name departments such as 政务服务数据管理局: a department, not the service hall
    page = html_page("""<html><body><select onchange="window.open(this.value)">
      <option value="">部门网站</option><option value="http://zsj.test.gov.cn/">市政务服务数据管理局</option>
      <option value="http://xfj.test.gov.cn/">市信访局</option></select></body></html>""")
    assert extract_portal(page, CRAWL_DATE)["online_service_hall"].value is False


def test_search_box_without_form():
    page = html_page('<html><body><input id="kw" type="text"><button type="button" onclick="doSearch()">搜索</button></body></html>')
    assert extract_portal(page, CRAWL_DATE)["site_search"].value is True


def test_calendar_badge_dates():
    page = html_page("""<html><body><ul class="news">
      <li><div class="date"><span class="d">12</span><em>2026-06</em></div><a href="/n/1.html">区政府常务会议</a></li>
      <li><div class="date"><span class="d">03</span><em>2026-06</em></div><a href="/n/2.html">防汛工作会议</a></li>
    </ul></body></html>""")
    assert extract_portal(page, CRAWL_DATE)["homepage_freshness_days"].value == 3
    assert column_status(page, "news", CRAWL_DATE) == (date(2026, 6, 12), 2)


def test_short_article_titles_are_not_columns():
    page = html_page("""<html><body>
      <a href="/tzgg/202606/t20260601_1.html">端午放假通知</a>
      <a href="show.asp?id=3318">停水公告</a>
      <a href="/tzgg/">通知公告</a></body></html>""")
    assert [(c.url, c.kind) for c in column_links(page)] == [("https://www.test.gov.cn/tzgg/", "notice")]


@pytest.mark.parametrize("label", ["企业注册登记", "注册会计师查询", "《个人信息保护法》宣传"])
def test_look_alike_labels(label):
    findings = extract_portal(html_page(f"<html><body><a href='/x/'>{label}</a></body></html>"), CRAWL_DATE)
    assert findings["personal_login"].value is False and findings["privacy_statement"].value is False


def test_empty_column_with_related_links_list():
    page = html_page("""<html><body><div class="content"><h2>人事信息</h2><p>暂无信息</p></div>
      <div class="related"><ul><li><a href="http://www.gov.cn/">中国政府网</a></li><li><a href="http://www.zj.gov.cn/">省政府网</a></li>
      <li><a href="http://www.hz.gov.cn/">市政府网</a></li></ul></div></body></html>""")
    assert column_status(page, "notice", CRAWL_DATE) == (None, 0)


def test_undated_list_is_counted_but_has_no_date():
    page = html_page("""<html><body><div class="list"><ul>
      <li><a href="/zcwj/1.html">云岭市城市管理办法</a></li><li><a href="/zcwj/2.html">云岭市养犬管理规定</a></li>
    </ul></div></body></html>""")
    assert column_status(page, "policy", CRAWL_DATE) == (None, 2)


@pytest.mark.parametrize("script, expected", [
    ('<script src="//www.cniil.com/wza/jquery.wza.min.js"></script>', True),
    ('<script src="/static/aria.js?appid=abc"></script>', True),
    ('<script>document.write("<a href=\\"javascript:aria.start()\\"></a>")</script>', True),
    ('<script src="http://v3.jiathis.com/code/jia.js"></script>', False),
    ('<script src="/js/jquery.min.js"></script>', False),
])
def test_accessibility_widget_scripts(script, expected):
    page = html_page(f"<html><head>{script}</head><body><p>首页</p></body></html>")
    assert extract_portal(page, CRAWL_DATE)["accessibility_mode"].value is expected


def test_site_identifier_needs_digits():
    page = html_page("<html><body><p>网站标识码：abcdefghij</p></body></html>")
    assert extract_portal(page, CRAWL_DATE)["site_identifier"].value is None


def test_server_rendered_header_date_is_not_an_item():
    page = html_page("""<html><body>
      <div class="top"><span id="time">2026年6月15日</span><a href="/sethome">设为首页</a></div>
      <header><a href="/">首页</a> 2026-06-14</header>
      <ul class="top-news"><li><a href="/n/1.html">全市经济运行情况</a><span>2026-06-01</span></li></ul>
    </body></html>""")
    assert extract_portal(page, CRAWL_DATE)["homepage_freshness_days"].value == 14


def test_column_links_unpack_as_kind_and_url():
    links = column_links(load_portal_page("trs_city_home.html"))
    kind, url = links[0]
    assert (kind, url) == (links[0].kind, links[0].url) and links[0].name


@pytest.mark.parametrize("name, suffix", [
    ("trs_news_column.html", "/202606/t20260612_11987654.htm"),
    ("kaipu_xxgk_column.html", "/xxgk/zcwj/202605/c2b81f9a4e0d4f6b8f0f6a1d2e3c4b5a.shtml"),
    ("hanweb_datastore_column.html", "/art/2026/6/10/art_1229001_59012345.html"),
])
def test_first_article_link(name, suffix):
    from collectors.portal import first_article_link
    assert first_article_link(load_portal_page(name)).endswith(suffix)


def test_first_article_link_none_on_empty_column():
    from collectors.portal import first_article_link
    assert first_article_link(load_portal_page("hanweb_column_empty.html")) is None


def test_subpage_features_exclude_home_measurements():
    from collectors.portal import HOME_ONLY_CODES, SUBPAGE_FEATURES
    assert "site_map" in SUBPAGE_FEATURES and "site_identifier" in SUBPAGE_FEATURES
    assert not set(HOME_ONLY_CODES) & set(SUBPAGE_FEATURES)
