import pytest

from sgi.errors import ConfigError
from sgi.indicators import load_indicators, registry


def test_shipped_registry_is_valid_and_covers_the_issue_codes():
    reg = registry()
    for code in ("portal_reachable", "portal_https", "site_search", "broken_link_ratio", "opendata_datasets",
                 "reply_rate", "policy_digital_gov", "app_rating_mean"):
        assert code in reg
    assert all(i.direction in (-1, 0, 1) for i in reg.values())
    assert reg["broken_link_ratio"].direction == -1


def test_bad_unit_names_file_and_line(tmp_path):
    path = tmp_path / "ind.yaml"
    path.write_text(
        "indicators:\n"
        "  - {code: a, name_zh: 甲, name_en: A, unit: bool, direction: 1, source: portal, dimension: capability,\n"
        "     period: crawl_date, rule: r}\n"
        "  - code: b\n"
        "    name_zh: 乙\n"
        "    name_en: B\n"
        "    unit: furlongs\n"
        "    direction: 1\n"
        "    source: portal\n"
        "    dimension: capability\n"
        "    period: crawl_date\n"
        "    rule: r\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_indicators(path)
    assert f"{path}:7" in str(info.value) and "furlongs" in str(info.value)


def test_yaml_syntax_error_and_duplicates_name_the_line(tmp_path):
    path = tmp_path / "ind.yaml"
    path.write_text("indicators:\n  - {code: a,\n  - oops: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_indicators(path)
    assert str(path) in str(info.value) and ":" in str(info.value).split(str(path))[1]
    dup = tmp_path / "dup.yaml"
    dup.write_text("indicators: []\nindicators: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dup.yaml:2: duplicate key"):
        load_indicators(dup)
