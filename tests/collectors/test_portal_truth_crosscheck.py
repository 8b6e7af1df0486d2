"""Saved-page cases behind the portal rules that the sample-web cross-check (tests/test_demo_e2e.py)
disagreed on: each page is a small copy of markup seen on real city portals, read as a visitor would."""

from __future__ import annotations

import pytest

from collectors.portal import column_links, column_status, extract_portal, extract_portal_links, pattern_url
from tests.collectors.conftest import CRAWL_DATE, html_page

# A 新媒体矩阵 block whose Weibo entry is an icon: the account name is the only label, the link is the proof.
WEIBO_ICON = """<html><body><div class="w1200 block"><div class="hd"><h3>新媒体矩阵</h3></div><ul>
  <li><a href="{href}" target="_blank"><img src="/images/wb.png" alt="深圳发布" border="0"></a></li>
  <li><div class="qr-item"><img src="/images/wx_qr.png" alt="深圳发布微信公众号"><p>深圳发布微信公众号</p></div></li>
</ul></div></body></html>"""


@pytest.mark.parametrize("href", [
    "https://weibo.com/szfb",                 # the real account
    "https://weibo.com:443/szfb",             # explicit port
    "https://weibo.com.test/szfb",            # an RFC 6761 mirror of it (the sample web)
    "https://weibo.com.test:18630/szfb",      # ... as the sample server rewrites it, with its port
])
def test_weibo_account_icon_link_counts_on_real_and_mirrored_hosts(href):
    found = extract_portal(html_page(WEIBO_ICON.format(href=href)), CRAWL_DATE)["new_media_weibo"]
    assert found.value is True, found.evidence


@pytest.mark.parametrize("href", ["https://service.weibo.com.test:18630/share/share.php?url=x",
                                  "https://weibo.com.test/share/share.php?url=x",
                                  "https://weibo.example/szfb.com/"])
def test_weibo_share_links_and_look_alike_hosts_do_not_count(href):
    html = f'<html><body><a href="{href}" title="分享到新浪微博"><img src="/i/wb.png" alt=""></a></body></html>'
    assert extract_portal(html_page(html), CRAWL_DATE)["new_media_weibo"].value is False


def test_pattern_url_drops_port_and_reserved_suffix_only():
    assert pattern_url("https://weibo.com.test:18630/szfb?x=1") == "https://weibo.com/szfb?x=1"
    assert pattern_url("http://www.sz.gov.cn/cn/") == "http://www.sz.gov.cn/cn/"
    assert pattern_url("https://contest.gov.cn/a") == "https://contest.gov.cn/a"     # not a .test suffix
    assert pattern_url("/relative/path") == "/relative/path"


def test_zhuang_version_named_in_zhuang():
    # Guangxi portals label the Zhuang-language version with its own name, Sawcuengh (壮文).
    page = html_page("""<html><body><table><tr><td align=right><font size=2>
      <A HREF="/english/">English</A> | <A HREF="/zhuang/">Sawcuengh</A> | <A HREF="/member/login.asp">会员登录</A>
      </font></td></tr></table></body></html>""")
    found = extract_portal(page, CRAWL_DATE)["language_versions"]
    assert found.value == 2, found.evidence
    assert "za:" in found.evidence


def test_zhuang_version_by_its_path():
    page = html_page('<html><body><a href="/zhuangwen/index.html"><img src="/i/zw.png" alt=""></a>'
                     '<a href="/zhuang/">ᠵ</a></body></html>')
    assert extract_portal(page, CRAWL_DATE)["language_versions"].value == 1


def test_zhengwu_gongkai_section_counts_as_information_disclosure():
    # 政务公开 is the portal section that holds the 政府信息公开 专栏 (指南, 目录, 年报).
    page = html_page('<html><body><div class="mainNav"><ul><li><a href="/">首页</a></li>'
                     '<li><a href="/zwgk/index.html">政务公开</a></li><li><a href="/gzcy/">公众参与</a></li></ul></div></body></html>')
    assert extract_portal(page, CRAWL_DATE)["info_disclosure"].value is True


def test_policy_interpretation_link_is_a_policy_column_and_a_hub_page_reads_undated():
    home = html_page("""<html><body>
      <div class="block"><h3>解读回应</h3><ul><li><a href="/col/col1229064/index.html">政策解读</a></li></ul></div>
      <div class="bottom"><a href="/col/col1229802/index.html">隐私政策</a></div></body></html>""")
    assert [(c.url, c.kind) for c in column_links(home)] == [("https://www.test.gov.cn/col/col1229064/index.html", "policy")]
    hub = html_page("""<html><body><div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li></ul></div>
      <div class="container"><div class="position">当前位置：<a href="/">首页</a> &gt; 政策解读</div><h2>政策解读</h2>
      <div class="sub-block"><h3>解读</h3><ul><li><a href="/col/col1229065/index.html">图解</a></li></ul></div></div>
      </body></html>""", url="https://www.test.gov.cn/col/col1229064/index.html")
    assert column_status(hub, "policy", CRAWL_DATE) == (None, 1)       # undated: counts as not updated
    empty = html_page("""<html><body><div class="container"><h2>政策解读</h2><div class="sub-block"><h3>解读</h3>
      <ul><li><span class="txt">解读列表</span></li></ul></div></div></body></html>""")
    assert column_status(empty, "policy", CRAWL_DATE) == (None, 0)


def test_site_statement_page_is_followed():
    page = html_page('<html><body><div class="footer"><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a> | '
                     '<a href="/cdsrmzf/wzsm/index.shtml">网站声明</a></div></body></html>')
    assert "https://www.test.gov.cn/cdsrmzf/wzsm/index.shtml" in [u for u, _ in extract_portal_links(page)]
    statement = html_page('<html><body><h2>网站声明</h2><div class="sub-block"><h3>声明</h3><ul>'
                          '<li><span class="txt">个人信息保护</span></li></ul></div></body></html>')
    assert extract_portal(statement, CRAWL_DATE)["privacy_statement"].value is True
