"""The source file: the shipped list, validation errors with file and line, CSV files."""

from __future__ import annotations

import textwrap

import pytest

from sgi.cities import load_cities
from sgi.errors import ConfigError, SgiError
from sgi.sources import (KINDS, Source, default_path, load_sources, registrable_domain, sources_for,
                         sources_from_entries)

GOOD_ENTRY = """\
sources:
  - city: 440300
    kind: portal
    name: 深圳市人民政府门户网站
    start_url: https://www.sz.gov.cn/
"""


def write(tmp_path, text: str, name: str = "sources.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    assert err.value.path == str(path)
    return err.value


# -- the shipped file ---------------------------------------------------------------------------------

def test_shipped_file_covers_exactly_the_36_top_level_cities():
    sources = load_sources()
    top = {c.code for c in load_cities() if c.level in ("直辖市", "副省级", "省会")}
    assert len(top) == 36
    assert len(sources) == 36
    assert {s.city_code for s in sources} == top
    assert all(s.kind == "portal" and not s.verified for s in sources)
    assert all(s.start_url.startswith("https://") and s.start_url.endswith(".gov.cn/") for s in sources)
    assert all(s.file == str(default_path()) and s.line for s in sources)


def test_shipped_file_examples():
    by_city = {s.city_code: s for s in load_sources()}
    assert by_city["440300"].start_url == "https://www.sz.gov.cn/"
    assert by_city["440300"].allowed_domains == ("sz.gov.cn",)
    assert by_city["110000"].start_url == "https://www.beijing.gov.cn/"


def test_sources_for_filters_by_city_and_kind_in_the_given_order():
    found = sources_for(["440100", "440300", "999999"])
    assert [s.city_code for s in found] == ["440100", "440300"]
    assert sources_for(["440300"], kinds=["opendata"]) == []
    with pytest.raises(SgiError, match="unknown source kind"):
        sources_for(["440300"], kinds=["blog"])


# -- a good file --------------------------------------------------------------------------------------

def test_full_entry(tmp_path):
    path = write(tmp_path, """\
        sources:
          - city: 深圳
            kind: opendata
            name: 深圳市政府数据开放平台
            start_url: https://opendata.sz.gov.cn/data/dataSet/toDataSet
            allowed_domains: [opendata.sz.gov.cn, SZ.gov.cn]
            verified: true
            options: {api: /api/list, page_size: 10}
            notes: 列表页由脚本加载
          - city: 广州市
            kind: portal
            name: 广州市人民政府门户网站
            start_url: http://www.gz.gov.cn
        """)
    sz, gz = load_sources(path)
    assert sz == Source(city_code="440300", kind="opendata", name="深圳市政府数据开放平台",
                        start_url="https://opendata.sz.gov.cn/data/dataSet/toDataSet",
                        allowed_domains=("opendata.sz.gov.cn", "sz.gov.cn"), verified=True,
                        options={"api": "/api/list", "page_size": 10}, notes="列表页由脚本加载",
                        file=str(path), line=2)
    assert (gz.city_code, gz.allowed_domains, gz.verified, gz.options, gz.notes, gz.line) == \
        ("440100", ("gz.gov.cn",), False, {}, "", 10)


def test_empty_source_list(tmp_path):
    assert load_sources(write(tmp_path, "sources: []\n")) == []


@pytest.mark.parametrize("host, domain", [
    ("www.sz.gov.cn", "sz.gov.cn"), ("opendata.sz.gov.cn", "sz.gov.cn"), ("www.beijing.gov.cn", "beijing.gov.cn"),
    ("www.example.com", "example.com"), ("WWW.Example.COM", "example.com"), ("www.sz.gov.cn.test", "sz.gov.cn.test"),
    ("127.0.0.1", "127.0.0.1"), ("localhost", "localhost"), ("a.b.example.com.cn", "example.com.cn"),
])
def test_registrable_domain(host, domain):
    assert registrable_domain(host) == domain


def test_sample_web_style_entries_without_lines():
    entries = [{"city": "440300", "kind": "portal", "name": "样例", "start_url": "http://www.sz.gov.cn.test:8080/"}]
    (source,) = sources_from_entries(entries, file="<sample web>")
    assert source.allowed_domains == ("sz.gov.cn.test",) and source.line is None


# -- each validation error names the right line ------------------------------------------------------

BAD_FILES = {
    "unknown key": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
            verfied: true
        """, 6, "unknown field 'verfied'"),
    "missing key": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
          - city: 440100
            kind: portal
            name: y
            start_url: https://www.gz.gov.cn/
        """, 2, "missing start_url"),
    "unknown kind": ("""\
        sources:
          - city: 440300
            name: x
            start_url: https://www.sz.gov.cn/
            kind: blog
        """, 5, "unknown kind 'blog'"),
    "unknown city": ("""\
        sources:
          - kind: portal
            city: 不存在市
            name: x
            start_url: https://www.sz.gov.cn/
        """, 3, "unknown city"),
    "ambiguous city": ("""\
        sources:
          - kind: portal
            name: x
            city: 张家
            start_url: https://www.sz.gov.cn/
        """, 4, "matches 2 cities"),
    "not http": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: ftp://www.sz.gov.cn/
        """, 5, "not an http(s) URL"),
    "no host": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: www.sz.gov.cn/index.html
        """, 5, "not an http(s) URL"),
    "tab in the URL": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: "https://www.sz.gov.cn/a\\tb/"
        """, 5, "not an http(s) URL"),
    "user name before the host": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: http://www.sz.gov.cn@127.0.0.1:22/
        """, 5, "user name or password"),
    "bad port": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: http://www.sz.gov.cn:http/
        """, 5, "invalid port"),
    "domains not a list": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
            allowed_domains: sz.gov.cn
        """, 6, "must be a non-empty list"),
    "domain with scheme": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
            allowed_domains:
              - sz.gov.cn
              - https://www.gd.gov.cn/
        """, 6, "is not a host name"),
    "host outside domains": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            allowed_domains: [gd.gov.cn]
            start_url: https://www.sz.gov.cn/
        """, 6, "outside allowed_domains"),
    "domain suffix is not a subdomain": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.fakesz.gov.cn/
            allowed_domains: [sz.gov.cn]
        """, 5, "outside allowed_domains"),
    "duplicate": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
          - city: 深圳
            kind: portal
            name: y
            start_url: HTTPS://WWW.SZ.GOV.CN
        """, 6, "duplicate source"),
    "verified not bool": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
            verified: maybe
        """, 6, "verified must be true or false"),
    "options not a mapping": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
            options: [a, b]
        """, 6, "options must be a mapping"),
    "entry not a mapping": ("""\
        sources:
          - city: 440300
            kind: portal
            name: x
            start_url: https://www.sz.gov.cn/
          - just a string
        """, None, "source #2 must be a mapping, got 'just a string'"),
    "unknown top-level key": (GOOD_ENTRY + "extra: 1\n", 6, "unknown top-level key"),
    "no sources list": ("source:\n  - city: 440300\n", 1, "'sources' list"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_validation_errors_name_the_line(tmp_path, case):
    text, line, message = BAD_FILES[case]
    err = config_error(write(tmp_path, text))
    assert message in err.message
    assert err.line == line
    if line:
        assert f"sources.yaml:{line}:" in err.message


def test_duplicate_message_names_the_first_entry(tmp_path):
    err = config_error(write(tmp_path, BAD_FILES["duplicate"][0]))
    assert "first at line 2" in err.message


def test_same_url_for_another_kind_is_not_a_duplicate(tmp_path):
    text = GOOD_ENTRY + GOOD_ENTRY.replace("sources:\n", "").replace("portal", "policy")
    assert [s.kind for s in load_sources(write(tmp_path, text))] == ["portal", "policy"]


def test_missing_and_empty_files(tmp_path):
    assert "file not found" in config_error(tmp_path / "nope.yaml").message
    assert "empty" in config_error(write(tmp_path, "")).message


def test_restricted_city_list(tmp_path):
    only_gz = [c for c in load_cities() if c.code == "440100"]
    with pytest.raises(ConfigError, match="unknown city"):
        load_sources(write(tmp_path, GOOD_ENTRY), cities=only_gz)


# -- CSV ----------------------------------------------------------------------------------------------

CSV_HEADER = "city,kind,name,start_url,allowed_domains,verified,notes\n"


def test_csv(tmp_path):
    path = write(tmp_path, CSV_HEADER
                 + "440300,portal,深圳市人民政府门户网站,https://www.sz.gov.cn/,,false,\n"
                 + "\n"
                 + '广州,opendata,广州市政府数据统一开放平台,https://data.gz.gov.cn/,data.gz.gov.cn gz.gov.cn,true,"a, b"\n',
                 name="sources.csv")
    sz, gz = load_sources(path)
    assert (sz.city_code, sz.allowed_domains, sz.verified, sz.line, sz.options) == \
        ("440300", ("sz.gov.cn",), False, 2, {})
    assert (gz.city_code, gz.kind, gz.allowed_domains, gz.verified, gz.notes, gz.line) == \
        ("440100", "opendata", ("data.gz.gov.cn", "gz.gov.cn"), True, "a, b", 4)


def test_csv_with_byte_order_mark_and_fewer_columns(tmp_path):
    path = tmp_path / "sources.csv"
    path.write_text("\ufeffcity,kind,name,start_url\n440300,portal,x,https://www.sz.gov.cn/\n", encoding="utf-8")
    (source,) = load_sources(path)
    assert source.city_code == "440300"


@pytest.mark.parametrize("rows, line, message", [
    ("440300,portal,x,https://www.sz.gov.cn/,,,\n440300,blog,x,https://www.sz.gov.cn/,,,\n", 3, "unknown kind"),
    ("440300,portal,x,https://www.sz.gov.cn/,,,\n" * 2, 3, "duplicate source"),
    ('440300,portal,"two\nlines",https://www.sz.gov.cn/,,,\n无此市,portal,x,https://a.cn/,,,\n', 4, "unknown city"),
    ("440300,portal,x,https://www.sz.gov.cn/,gd.gov.cn,,\n", 2, "outside allowed_domains"),
    ("440300,portal,x,https://www.sz.gov.cn/,,perhaps,\n", 2, "verified must be true or false"),
    ("440300,portal,x,https://www.sz.gov.cn/,,,,extra\n", 2, "cells but the header has"),
    ("440300,portal,x,,,,\n", 2, "missing start_url"),
])
def test_csv_errors_name_the_line(tmp_path, rows, line, message):
    err = config_error(write(tmp_path, CSV_HEADER + rows, name="sources.csv"))
    assert message in err.message
    assert err.line == line and f"sources.csv:{line}:" in err.message


def test_csv_header_errors(tmp_path):
    err = config_error(write(tmp_path, "city,kind,name,url\n", name="sources.csv"))
    assert err.line == 1 and "unknown column 'url'" in err.message
    err = config_error(write(tmp_path, "city,kind,name\n", name="sources.csv"))
    assert err.line == 1 and "start_url" in err.message


def test_csv_not_utf8(tmp_path):
    path = tmp_path / "sources.csv"
    path.write_bytes((CSV_HEADER + "深圳,portal,x,https://www.sz.gov.cn/,,,\n").encode("gbk"))
    assert "UTF-8" in config_error(path).message


def test_kinds():
    assert KINDS == ("portal", "opendata", "mailbox", "policy", "app")
