"""The classifier on how real documents are titled (issue 20): the quoted document's title is the subject,
the issuer never counts, real terms are known, and look-alikes that share words are not digital."""

from __future__ import annotations

import pytest

from collectors import policy


@pytest.mark.parametrize("title, focus", [
    ("某省人民政府办公厅关于印发《某省政务服务“好差评”管理办法》的通知", "某省政务服务“好差评”管理办法 的通知"),
    ("解读《某省人民政府办公厅关于印发加快推进5G发展若干措施的通知》", "印发加快推进5G发展若干措施的通知"),
    ("工业和信息化部关于加强外商投资电信企业事中事后监管的通知", "加强外商投资电信企业事中事后监管的通知"),
    ("某部《关于施行修改后专利法的相关审查业务处理暂行办法》的公告", "施行修改后专利法的相关审查业务处理暂行办法 的公告"),
    ("国家文物局关于印发《博物馆运行评估办法》《博物馆运行评估标准》的通知", "博物馆运行评估办法 博物馆运行评估标准 的通知"),
    ("某局关于发布《药品追溯码标识规范》等2项信息化标准的公告", "药品追溯码标识规范 等2项信息化标准的公告"),
    ("某市数字经济发展规划", "某市数字经济发展规划"),
])
def test_title_focus_is_the_quoted_title_or_what_follows_guanyu(title, focus):
    assert policy.title_focus(title) == focus


@pytest.mark.parametrize("title, group", [
    ("某省人民政府办公厅关于推进政务新媒体健康有序发展的实施意见", "digital_gov"),
    ("某市人民政府办公厅关于2025年第一季度全市政府网站与政务新媒体抽查情况的通报", "digital_gov"),
    ("关于深化“一网通办”改革的实施方案", "digital_gov"),
    ("某省推进政务数据共享工作方案", "digital_gov"),
    ("关于印发《某市电子证照管理暂行办法》的通知", "digital_gov"),
    ("某省政务云管理办法", "digital_gov"),
    ("关于加快推进“互联网+监管”工作的实施意见", "digital_gov"),
    ("关于加强全省电子政务外网建设管理工作的指导意见", "digital_gov"),
    ("某市“一网统管”建设三年行动计划", "digital_ecosystem"),
    ("关于推进两化融合管理体系贯标工作的通知", "digital_ecosystem"),
    ("某省信息化发展规划", "digital_ecosystem"),
    ("关于开展数字人民币试点工作的通知", "digital_ecosystem"),
    ("关于加快推进5G网络建设的若干措施", "digital_ecosystem"),
])
def test_real_terms_decide_the_group(title, group):
    cls = policy.classify(title, "")
    assert policy.main_group(cls) == group, cls.rules
    # The evidence names the term, where it was found and its weight.
    assert any("title '" in r and ">=" in r for r in cls.rules), cls.rules


@pytest.mark.parametrize("title", [
    "某省人民政府办公厅关于印发2025年全省政务公开工作要点的通知",
    "关于开展2025年度“双随机、一公开”抽查工作的通知",
    "工业和信息化部办公厅关于组织开展2025年工业节能诊断服务工作的通知",
    "某省工业和信息化厅关于启用新印章的通知",
    "关于规范电子烟产品寄递的通告",
    "某省人民政府关于张云等同志职务任免的通知",
])
def test_look_alikes_sharing_words_are_not_digital(title):
    cls = policy.classify(title, "")
    assert cls.groups == [], cls.rules


def test_interpretation_is_not_a_policy_but_keeps_the_topic_it_explains():
    cls = policy.classify("解读《某省政务服务“好差评”管理办法》", "政务服务政务服务政务服务")
    assert not cls.is_policy
    assert cls.categories == ["ip_gov_service"]
    assert cls.rules[0].startswith("not_policy") and "interpretation" in cls.rules[0]


def test_body_only_mention_stays_below_threshold_for_a_neutral_title():
    cls = policy.classify("关于做好2025年防汛抗旱工作的通知", "运用信息化手段提高预警能力。")
    assert cls.categories == []


def test_the_governments_own_use_of_a_technology_is_digital_government():
    cls = policy.classify("某省人民政府办公厅关于推进政务区块链应用的指导意见", "")
    assert policy.main_group(cls) == "digital_gov" and cls.categories == ["dg_overall"]
    assert any("'政务·区块链'" in r for r in cls.rules), cls.rules
    # without 政务 the same word is the digital economy
    assert policy.main_group(policy.classify("关于加快区块链产业发展的意见", "")) == "digital_ecosystem"
    assert policy.main_group(policy.classify("关于印发全国一体化政务大数据体系建设指南的通知", "")) == "digital_gov"


def test_bench_metrics_and_clean_skip(monkeypatch):
    from bench import bench_policy_classifier as bench

    pairs = [("digital_gov", "digital_gov"), ("digital_gov", "neither"), ("neither", "digital_gov"),
             ("digital_ecosystem", "digital_ecosystem"), ("neither", "neither")]
    m = bench.metrics(pairs)
    assert m["groups"]["digital_gov"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["groups"]["digital_ecosystem"]["f1"] == 1.0 and m["macro_f1"] == 0.75
    assert m["confusion"]["digital_gov"] == {"digital_gov": 1, "digital_ecosystem": 0, "neither": 1}
    monkeypatch.setattr(bench, "dataset_dir", lambda: None)
    assert bench.run() == {}


def test_generic_words_in_a_long_body_do_not_make_a_digital_document():
    body = ("推进住房公积金信息化建设，依托互联网提供查询服务，运用信息技术提高效率，加强信息安全。" * 5
            + "做好政务服务工作，推进数字化管理。" * 3)
    cls = policy.classify("关于调整住房公积金缴存基数的通知", body)
    assert cls.categories == [], cls.rules
    # the same words in the title's subject decide it
    assert policy.main_group(policy.classify("某省信息化发展规划", "")) == "digital_ecosystem"


def test_title_only_must_name_lexicon_terms():
    from sgi.errors import ConfigError
    from sgi.yamlconf import load_yaml

    data = load_yaml(str(policy.LEXICON_PATH))
    with pytest.raises(ConfigError, match="title_only"):
        policy.parse_lexicon({**data, "title_only": ["信息化", "不是词条"]}, "x.yaml")


def test_the_issuer_is_evidence_for_its_group_but_never_alone():
    # 共享交换 (weight 1) in the title's subject is 3 < 6; a 大数据管理局 issuing it (the 发文机关 field, or the
    # title's head before 关于) is the missing evidence, and the rule names it.
    weak = "关于规范共享交换工作的通知"
    assert policy.classify(weak, "").categories == []
    by_field = policy.classify(weak, "", issuer="某省大数据管理局")
    assert by_field.categories == ["data_management"], by_field.rules
    assert any("issuer '大数据管理局' 1x3" in r for r in by_field.rules), by_field.rules
    by_head = policy.classify("某省大数据管理局" + weak, "")
    assert by_head.categories == ["data_management"], by_head.rules
    # never alone: the agency's holiday notice is no digital policy
    assert policy.classify("某省大数据管理局关于2025年春节放假安排的通知", "", issuer="某省大数据管理局").categories == []
    # the issuer's group only: a 工业和信息化部 issuer does not make a digital-government document
    assert policy.classify(weak, "", issuer="工业和信息化部").categories == []


def test_issuers_need_a_group_and_a_weight():
    from sgi.errors import ConfigError
    from sgi.yamlconf import load_yaml

    data = load_yaml(str(policy.LEXICON_PATH))
    with pytest.raises(ConfigError, match="issuer"):
        policy.parse_lexicon({**data, "issuers": {"数据局": ["dg_overall", 1]}}, "x.yaml")


def test_the_external_lexicon_loads_and_every_term_family_has_its_source():
    """bench/data/policy_lexicon_external.yaml (the out-of-sample lexicon): each category's comment cites
    source tags, and every tag is in the provenance file beside it."""
    import re
    from pathlib import Path

    from sgi.yamlconf import load_yaml

    data_dir = Path(__file__).resolve().parents[2] / "bench" / "data"
    path = data_dir / "policy_lexicon_external.yaml"
    lex = policy.parse_lexicon(load_yaml(str(path)), str(path))
    assert set(lex.categories) == set(policy.CATEGORY_CODES)
    text = path.read_text(encoding="utf-8")
    provenance = (data_dir / "policy_lexicon_external.PROVENANCE.md").read_text(encoding="utf-8")
    listed = set()
    for line in provenance.splitlines():
        cells = line.split("|")
        if len(cells) < 3:
            continue
        for item in re.split(r",\s*", cells[1].strip()):
            m = re.fullmatch(r"([A-Z])(\d+)[–-]\1?(\d+)", item)
            listed |= {f"{m[1]}{n}" for n in range(int(m[2]), int(m[3]) + 1)} if m else {item}
    for code in policy.CATEGORY_CODES:
        block = text[text.index(f"  {code}:"):]
        comment = block[:block.index("terms:")]
        tags = re.findall(r"\[([A-Z]\d*|I20)\]", comment)
        assert tags, f"{code} cites no source"
        for tag in tags:
            assert tag in listed, f"{code}: source tag {tag} is not in the provenance file"
