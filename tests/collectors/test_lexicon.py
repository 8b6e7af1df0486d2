"""The portal lexicon loads, and every mistake an auditor can make names the file and the line."""

from __future__ import annotations

import re

import pytest

from collectors.lexicons import PORTAL_FEATURES, PORTAL_LEXICON_PATH, default_portal_lexicon, load_portal_lexicon
from sgi.errors import ConfigError

SHIPPED = PORTAL_LEXICON_PATH.read_text(encoding="utf-8")


def line_number(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in text")


def write(tmp_path, text: str):
    path = tmp_path / "portal.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_broken(tmp_path, old: str, new: str) -> tuple[ConfigError, str]:
    assert old in SHIPPED, old
    text = SHIPPED.replace(old, new, 1)
    with pytest.raises(ConfigError) as info:
        load_portal_lexicon(write(tmp_path, text))
    return info.value, text


def test_shipped_lexicon_loads_with_every_feature():
    lexicon = default_portal_lexicon()
    assert set(lexicon.features) == set(PORTAL_FEATURES)
    assert lexicon.version
    assert {"en", "zh-Hant", "ja", "ko", "ru", "mn", "bo", "ug"} <= {lang.code for lang in lexicon.languages}
    assert all(lexicon.meta_tags[t] for t in ("home", "column", "article"))


def test_share_widgets_are_exclusions_and_wza_scripts_are_known():
    lexicon = default_portal_lexicon()
    exclusions = [p.pattern for p in lexicon.share_exclusions]
    for sample in ("http://service.weibo.com/share/share.php?url=x", "分享到微博", "bdsharebuttonbox", "jiathis_style", "分享到微信"):
        assert any(re.search(p, sample, re.I) for p in exclusions), sample
    scripts = lexicon.features["accessibility_mode"].scripts
    for src in ("//www.cniil.com/wza/jquery.wza.min.js", "https://x.gov.cn/aria/aria.js?appid=1", "/wza/wza.js", "https://a.gov.cn/assist/js/assist.js"):
        assert any(p.search(src) for p in scripts), src
    assert not any(p.search("http://v3.jiathis.com/code/jia.js") for p in scripts)  # share, not accessibility


def test_bad_regex_names_file_and_line(tmp_path):
    err, text = load_broken(tmp_path, "url_patterns: ['sitemap',", "url_patterns: ['sitemap(',")
    assert err.path == str(tmp_path / "portal.yaml")
    assert err.line == line_number(text, "'sitemap('")
    assert "bad regex" in err.message and f"portal.yaml:{err.line}" in str(err)


def test_unknown_feature_names_its_line(tmp_path):
    err, text = load_broken(tmp_path, "  site_map:\n", "  site_mapp:\n")
    assert err.line == line_number(text, "site_mapp:") and "unknown feature 'site_mapp'" in err.message


def test_keywords_as_a_string_instead_of_a_list(tmp_path):
    err, text = load_broken(tmp_path, "keywords_zh: [网站地图, 站点地图, 网站导航图]", "keywords_zh: 网站地图")
    assert err.line == line_number(text, "keywords_zh: 网站地图") and "list of strings" in err.message


def test_chinese_word_in_keywords_en(tmp_path):
    err, text = load_broken(tmp_path, "keywords_en: [site map, sitemap]", "keywords_en: [site map, 网站地图]")
    assert err.line == line_number(text, "keywords_en: [site map, 网站地图]") and "not ASCII" in err.message


def test_unknown_field_in_a_feature(tmp_path):
    err, text = load_broken(tmp_path, "    max_label_chars: 12\n", "    max_label_char: 12\n")
    assert err.line == line_number(text, "max_label_char: 12") and "unknown field 'max_label_char'" in err.message


def test_missing_feature(tmp_path):
    start = SHIPPED.index("  site_map:\n")
    end = SHIPPED.index("  privacy_statement:\n")
    with pytest.raises(ConfigError) as info:
        load_portal_lexicon(write(tmp_path, SHIPPED[:start] + SHIPPED[end:]))
    assert "features missing: site_map" in info.value.message
    assert info.value.line == line_number(SHIPPED[:start] + SHIPPED[end:], "features:")


def test_duplicate_feature_key(tmp_path):
    text = SHIPPED.replace("  privacy_statement:\n", "  site_map:\n", 1)
    with pytest.raises(ConfigError) as info:
        load_portal_lexicon(write(tmp_path, text))
    assert "duplicate key 'site_map'" in info.value.message
    assert info.value.line == line_number(SHIPPED, "  privacy_statement:")


def test_bad_boolean(tmp_path):
    err, text = load_broken(tmp_path, "    text_blocks: true\n    max_label_chars: 14", "    text_blocks: yes please\n    max_label_chars: 14")
    assert err.line == line_number(text, "text_blocks: yes please") and "true or false" in err.message


def test_duplicate_language_code(tmp_path):
    err, text = load_broken(tmp_path, "  - {code: ja,", "  - {code: en,")
    assert "duplicate language code 'en'" in err.message
    assert err.line == [i for i, l in enumerate(text.splitlines(), 1) if "{code: en," in l][1]


def test_missing_version(tmp_path):
    version_line = re.search(r'^version: .*\n', SHIPPED, re.M).group(0)   # whatever the shipped version is
    err, _ = load_broken(tmp_path, version_line, "")
    assert "version" in err.message


def test_yaml_syntax_error_names_line(tmp_path):
    err, text = load_broken(tmp_path, "keywords_zh: [网站地图, 站点地图, 网站导航图]", "keywords_zh: [网站地图, 站点地图")
    assert "YAML syntax error" in err.message and err.line is not None
    assert abs(err.line - line_number(text, "keywords_zh: [网站地图, 站点地图")) <= 2


def test_bad_challenge_status(tmp_path):
    err, text = load_broken(tmp_path, "statuses: [412, 521, 429]", "statuses: [412, teapot]")
    assert err.line == line_number(text, "statuses: [412, teapot]")


def test_missing_file_names_path(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_portal_lexicon(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value)
