"""Framework files load, validate, and report errors with file, line and node path."""

from __future__ import annotations

import math

import pytest

from sgi.errors import ConfigError
from sgi.indicators import registry

from scoring.framework import ROOT, load_framework, shipped_frameworks

SHIPPED = ["sgi-default", "tsinghua-dgdi-2020", "ruc-sgi-2025", "cstc-smart-2021"]


def test_all_four_frameworks_are_shipped():
    assert set(SHIPPED) <= set(shipped_frameworks())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_framework_loads_and_validates(name):
    fw = load_framework(name)
    assert fw.id == name
    reg = registry()
    codes = fw.indicator_codes()
    assert len(codes) == len(set(codes))
    for leaf in fw.indicators():
        assert leaf.code in reg or leaf.code in fw.external, leaf.path
        assert leaf.direction in (-1, 1)
    for node in fw.nodes():
        if node.children:
            if fw.is_points:
                assert math.isclose(sum(c.max_points for c in node.children), node.max_points, abs_tol=1e-6), node.path
            assert math.isclose(sum(c.weight for c in node.children), 1.0, abs_tol=1e-6), node.path


def test_load_by_path_equals_load_by_name():
    by_name = load_framework("ruc-sgi-2025")
    by_path = load_framework(by_name.source)
    assert by_path.indicator_codes() == by_name.indicator_codes()


def test_published_tree_shapes():
    ruc = load_framework("ruc-sgi-2025")
    depth = lambda fw, d: [n for n in fw.nodes() if not n.is_indicator and n.depth == d]   # noqa: E731
    assert len(depth(ruc, 1)) == 3 and len(depth(ruc, 2)) == 8 and len(depth(ruc, 3)) == 26
    assert len(ruc.indicators()) == 44
    assert [round(n.weight, 2) for n in depth(ruc, 1)] == [0.30, 0.35, 0.35]
    assert ruc.node("value_goal/outcome_sharing/economic_quality/ruc_income_gap_coefficient").direction == -1
    assert ruc.normalisation.method == "efficacy_coefficient" and ruc.normalisation.range == (60.0, 100.0)

    cstc = load_framework("cstc-smart-2021")
    assert len(depth(cstc, 1)) == 5 and len(depth(cstc, 2)) == 16 and len(cstc.indicators()) == 52
    assert [n.weight for n in depth(cstc, 1)] == [0.10, 0.15, 0.25, 0.20, 0.30]

    thu = load_framework("tsinghua-dgdi-2020")
    assert thu.is_points and thu.root.max_points == 100
    assert {n.code: n.max_points for n in depth(thu, 1)} == {"organization": 10, "institution": 15,
                                                               "capability": 45, "effect": 30}
    assert thu.node("effect/penetration").max_points == 7.5

    default = load_framework("sgi-default")
    assert [n.code for n in depth(default, 1)] == ["capability", "effect", "institution"]
    assert not default.external     # our own index uses crawled registry indicators only
    assert default.node("capability/platform_management/site_search").direction == 1
    assert default.node("capability/platform_management/broken_link_ratio").direction == -1   # from the registry


# ------------------------------------------------------------------------------ validation errors

GOOD_HEAD = "id: bad\nname_zh: 坏\n"


def _write(tmp_path, body: str):
    p = tmp_path / "bad.yaml"
    p.write_text(GOOD_HEAD + body, encoding="utf-8")
    return p


def _error(tmp_path, body: str) -> ConfigError:
    p = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_framework(p)
    err = info.value
    assert err.path == str(p)
    assert str(p) in str(err)
    return err


def test_weights_not_summing_to_one(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - code: capability
    weight: 0.5
    indicators: [site_search]
  - code: effect
    weight: 0.4
    indicators: [reply_rate]
""")
    assert err.line == 3            # the `dimensions:` list
    assert "sum to 0.9" in err.message


def test_nested_weights_error_names_node_path_and_line(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - code: capability
    children:
      - code: platform_management
        indicators:
          - {code: site_search, weight: 0.7}
          - {code: site_map, weight: 0.7}
""")
    assert err.line == 7            # the `indicators:` list of platform_management
    assert "capability/platform_management" in err.message


def test_weights_within_tolerance_are_accepted(tmp_path):
    p = _write(tmp_path, """\
dimensions:
  - {code: capability, weight: 0.3333333, indicators: [site_search]}
  - {code: effect, weight: 0.6666667, indicators: [reply_rate]}
""")
    assert len(load_framework(p).indicators()) == 2


def test_unknown_indicator_code_names_line_and_path(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - code: capability
    children:
      - code: platform_management
        indicators:
          - site_search
          - {code: site_serach}
""")
    assert err.line == 9
    assert "capability/platform_management/site_serach" in err.message
    assert "unknown indicator" in err.message


def test_external_indicator_is_accepted_only_when_declared(tmp_path):
    body = """\
dimensions:
  - code: capability
    indicators: [site_search, {code: thu_baidu_index}]
"""
    err = _error(tmp_path, body)
    assert "thu_baidu_index" in err.message
    p = _write(tmp_path, "external_indicators:\n  - {code: thu_baidu_index, name_zh: 百度指数}\n" + body)
    fw = load_framework(p)
    assert fw.node("capability/thu_baidu_index").external


def test_duplicate_node_code(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - code: capability
    children:
      - {code: portal, indicators: [site_search]}
  - code: effect
    children:
      - {code: portal, indicators: [reply_rate]}
""")
    assert err.line == 9
    assert "duplicate node code 'portal'" in err.message and "effect/portal" in err.message


def test_indicator_used_twice(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - code: capability
    indicators: [site_search, {code: reply_rate}]
  - code: effect
    indicators:
      - {code: reply_rate}
""")
    assert err.line == 8
    assert "used twice" in err.message and "effect/reply_rate" in err.message


def test_recursive_tree_is_rejected_with_a_line(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - &loop
    code: capability
    children:
      - *loop
""")
    assert err.line is not None


def test_reused_subtree_via_alias_is_a_duplicate(tmp_path):
    err = _error(tmp_path, """\
dimensions:
  - &cap
    code: capability
    indicators: [site_search]
  - *cap
""")
    assert "duplicate node code" in err.message


def test_descriptive_indicator_cannot_be_scored(tmp_path):
    err = _error(tmp_path, "dimensions:\n  - {code: capability, indicators: [{code: homepage_bytes}]}\n")
    assert "descriptive" in err.message and err.line == 4


def test_points_framework_children_must_add_up(tmp_path):
    err = _error(tmp_path, """\
aggregation: points
dimensions:
  - code: institution
    max_points: 15
    children:
      - {code: gov_policy, max_points: 7.5, indicators: [policy_digital_gov]}
      - {code: eco_policy, max_points: 5, indicators: [policy_digital_ecosystem]}
""")
    assert "institution" in err.message and "12.5" in err.message and err.line == 7


def test_points_framework_ignores_weight_sums_and_splits_points(tmp_path):
    p = _write(tmp_path, """\
aggregation: points
dimensions:
  - {code: organization, max_points: 10, indicators: [site_search, site_map]}
  - {code: capability, max_points: 30, indicators: [reply_rate]}
""")
    fw = load_framework(p)
    assert fw.root.max_points == 40
    assert fw.node("organization/site_map").max_points == 5
    assert fw.node(ROOT).children[0].weight == pytest.approx(0.25)


def test_unknown_field_and_bad_method(tmp_path):
    err = _error(tmp_path, "aggregation: median\ndimensions:\n  - {code: c, indicators: [site_search]}\n")
    assert err.line == 3 and "aggregation" in err.message
    err = _error(tmp_path, "dimensions:\n  - {code: c, wieght: 1, indicators: [site_search]}\n")
    assert "wieght" in err.message and err.line == 4


def test_unknown_framework_name():
    with pytest.raises(ConfigError) as info:
        load_framework("no-such-framework")
    assert "sgi-default" in (info.value.hint or "")


def test_points_framework_rejects_efficacy_and_geometric_rejects_zscore(tmp_path):
    err = _error(tmp_path, "aggregation: points\nnormalisation: efficacy_coefficient\n"
                           "dimensions:\n  - {code: c, max_points: 10, indicators: [site_search]}\n")
    assert "points framework" in err.message and err.line == 4
    err = _error(tmp_path, "aggregation: geometric\nnormalisation: {method: zscore}\n"
                           "dimensions:\n  - {code: c, indicators: [site_search]}\n")
    assert "geometric" in err.message


def test_expert_weights_from_a_separate_file(tmp_path):
    (tmp_path / "w.yaml").write_text("weights:\n  capability: 0.7\n  effect: 0.3\n", encoding="utf-8")
    p = _write(tmp_path, """\
weights: {method: expert, file: w.yaml}
dimensions:
  - {code: capability, weight: 0.5, indicators: [site_search]}
  - {code: effect, weight: 0.5, indicators: [reply_rate]}
""")
    fw = load_framework(p)
    assert fw.node("capability").weight == 0.7 and fw.node("effect").weight == 0.3
    (tmp_path / "w.yaml").write_text("weights:\n  capability: 0.7\n  effect: 0.7\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="sum to 1.4"):
        load_framework(p)
    (tmp_path / "w.yaml").write_text("weights:\n  capability: 1.0\n  nowhere: 0.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nowhere"):
        load_framework(p)
