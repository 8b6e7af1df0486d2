"""The city registry: built from GB/T 2260 codes, with regions and levels from sgi/data."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from sgi.cities import (CityInfo, LEVELS, REGIONS, load_cities, load_city_levels, load_regions, lookup,
                        resolve_many, search, short_name_of)
from sgi.errors import ConfigError, SgiError


@pytest.fixture(scope="module")
def cities() -> list[CityInfo]:
    return load_cities()


def test_all_prefecture_level_and_higher_cities(cities):
    assert len(cities) == 337
    assert Counter(c.admin_type for c in cities) == {"直辖市": 4, "地级市": 293, "自治州": 30, "地区": 7, "盟": 3}


def test_codes_are_unique_six_digit_and_mainland_only(cities):
    codes = [c.code for c in cities]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 6 and code.isdigit() and code.endswith("00") for code in codes)
    assert not any(code[:2] in ("71", "81", "82") for code in codes)
    assert not any("直辖" in c.name for c in cities)


def test_names_and_short_names_are_unique(cities):
    assert len({c.name for c in cities}) == len(cities)
    assert len({c.short_name for c in cities}) == len(cities)


def test_levels(cities):
    by_level = Counter(c.level for c in cities)
    assert by_level == {"直辖市": 4, "副省级": 15, "省会": 17, "地级": 301}
    assert set(by_level) == set(LEVELS)
    assert {c.name for c in cities if c.level == "直辖市"} == {"北京市", "天津市", "上海市", "重庆市"}
    assert {c.short_name for c in cities if c.level == "副省级"} == set(
        "哈尔滨 长春 沈阳 大连 济南 青岛 南京 杭州 宁波 厦门 武汉 广州 深圳 成都 西安".split())
    assert {c.short_name for c in cities if c.level == "省会"} == set(
        "石家庄 太原 呼和浩特 合肥 福州 南昌 郑州 长沙 南宁 海口 贵阳 昆明 拉萨 兰州 西宁 银川 乌鲁木齐".split())


def test_every_province_has_exactly_one_capital(cities):
    # 10 sub-provincial cities are capitals too (all but 大连 青岛 宁波 厦门 深圳).
    not_capitals = {"210200", "370200", "330200", "350200", "440300"}
    capitals = [c for c in cities if c.level == "省会" or (c.level == "副省级" and c.code not in not_capitals)]
    provinces = {c.province_code for c in cities if c.level != "直辖市"}
    assert len(provinces) == 27
    assert sorted(c.province_code for c in capitals) == sorted(provinces)


def test_regions(cities):
    assert Counter(c.region for c in cities) == {"东部": 88, "中部": 82, "西部": 131, "东北": 36}
    assert {c.province for c in cities if c.region == "东北"} == {"辽宁省", "吉林省", "黑龙江省"}
    assert lookup("重庆").region == "西部"
    assert lookup("海口").region == "东部"
    assert len(load_regions()) == 31 and set(load_regions().values()) == set(REGIONS)


def test_city_fields():
    sz = lookup("440300")
    assert sz == CityInfo(code="440300", name="深圳市", short_name="深圳", province="广东省", province_code="440000",
                          region="东部", level="副省级", admin_type="地级市", population=None)
    bj = lookup("北京")
    assert (bj.province, bj.province_code, bj.level, bj.admin_type) == ("北京市", "110000", "直辖市", "直辖市")


@pytest.mark.parametrize("name, short", [
    ("深圳市", "深圳"), ("大兴安岭地区", "大兴安岭"), ("锡林郭勒盟", "锡林郭勒"), ("延边朝鲜族自治州", "延边"),
    ("恩施土家族苗族自治州", "恩施"), ("西双版纳傣族自治州", "西双版纳"), ("伊犁哈萨克自治州", "伊犁"),
    ("克孜勒苏柯尔克孜自治州", "克孜勒苏"), ("海西蒙古族藏族自治州", "海西"), ("博尔塔拉蒙古自治州", "博尔塔拉"),
])
def test_short_names(name, short):
    assert short_name_of(name) == short


def test_short_names_of_autonomous_prefectures_carry_no_nationality(cities):
    for city in cities:
        if city.admin_type == "自治州":
            assert "族" not in city.short_name and "自治" not in city.short_name, city.name
            assert 2 <= len(city.short_name) <= 4, city.name


@pytest.mark.parametrize("query", ["深圳", "深圳市", "440300", 440300, " 深圳 "])
def test_lookup_by_code_name_and_short_name(query):
    assert lookup(query).code == "440300"


def test_lookup_other_forms():
    assert lookup("延边").code == "222400"
    assert lookup("延边州").code == "222400"           # the usual spoken form of an autonomous prefecture
    assert lookup("延边朝鲜族自治州").code == "222400"
    assert lookup("呼伦贝尔").code == "150700"
    assert lookup("吉林市").code == "220200"
    assert lookup("海南藏族自治州").code == "632500"


def test_lookup_ambiguous_names_list_the_candidates():
    with pytest.raises(SgiError) as err:
        lookup("张家")                                  # 张家口市 and 张家界市
    assert "张家口市 (130700" in err.value.message and "张家界市 (430800" in err.value.message
    assert err.value.hint


def test_lookup_ambiguous_test_with_injected_cities(cities):
    # Two cities sharing a short name: the shipped data has none, but the rule must still hold.
    twin = replace(lookup("朝阳"), code="999900", province="某省", province_code="990000")
    with pytest.raises(SgiError, match="matches 2 cities") as err:
        lookup("朝阳", cities=[*cities, twin])
    assert "211300" in err.value.message and "999900" in err.value.message


@pytest.mark.parametrize("query, city_code", [("吉林", "220200"), ("海南", "632500")])
def test_lookup_refuses_a_short_name_that_is_also_a_province(query, city_code):
    with pytest.raises(SgiError, match="province") as err:
        lookup(query)
    assert city_code in err.value.hint


@pytest.mark.parametrize("query", ["不存在市", "999999", "", "朝阳区"])
def test_lookup_unknown(query):
    with pytest.raises(SgiError) as err:
        lookup(query)
    assert "sgi cities" in err.value.hint


def test_search():
    assert [c.code for c in search("深圳")] == ["440300"]
    assert len(search("广东")) == 21
    assert [c.code for c in search("4403")] == ["440300"]
    assert len(search("东北")) == 36
    assert len(search("副省级")) == 15
    assert len(search("自治州")) == 30
    assert len(search("")) == 337
    assert search("没有这个") == []


def test_resolve_many_keeps_order_and_drops_duplicates():
    found = resolve_many(["深圳", "广州市,440300", "北京 上海"])
    assert [c.code for c in found] == ["440300", "440100", "110000", "310000"]


def test_resolve_many_reports_every_bad_name():
    with pytest.raises(SgiError) as err:
        resolve_many(["深圳", "无此市", "张家"])
    assert "无此市" in err.value.message and "张家" in err.value.message


def test_load_cities_is_cached_but_returns_a_fresh_list():
    first, second = load_cities(), load_cities()
    assert first == second and first is not second
    assert first[0] is second[0]


def test_city_levels_file_is_checked_against_the_division_names(tmp_path):
    bad = tmp_path / "levels.yaml"
    bad.write_text('副省级:\n  "440300": 深圳市\n  "440400": 深圳市\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_city_levels({"440300": "深圳市", "440400": "珠海市"}, bad)
    assert err.value.line == 3 and "珠海市" in err.value.message


def test_regions_file_rejects_unknown_regions(tmp_path):
    bad = tmp_path / "regions.yaml"
    bad.write_text('"11": 东部\n"12": 南部\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_regions(bad)
    assert err.value.line == 2
