"""The classifier on the sample web's labelled set (>= 200 documents): precision and recall >= 0.95,
the hard cases one by one, and per-city counts from the pages alone (no crawl) against the truth."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from collectors import policy
from tests.policy.conftest import served_page


def _classified(policy_web):
    web, labels = policy_web
    out = {}
    for url, (is_policy, cats) in labels.items():
        doc = policy.parse_detail(served_page(web, url))
        out[url] = (doc, policy.classify(doc.title or "", doc.body), is_policy, set(cats))
    return out


@pytest.fixture(scope="module")
def classified(policy_web):
    return _classified(policy_web)


def test_precision_and_recall_on_the_labelled_set(classified):
    assert len(classified) >= 200
    tp = fp = fn = 0
    per_cat = defaultdict(Counter)
    wrong = []
    for url, (doc, cls, is_policy, want) in classified.items():
        got = set(cls.categories)
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
        for c in got & want:
            per_cat[c]["tp"] += 1
        for c in got - want:
            per_cat[c]["fp"] += 1
        for c in want - got:
            per_cat[c]["fn"] += 1
        if got != want or cls.is_policy != is_policy:
            wrong.append(f"{doc.title}: want {sorted(want)} got {sorted(got)} ({'; '.join(cls.rules)})")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"\nlabelled set: {len(classified)} documents, {tp + fn} (document, category) labels: "
          f"precision {precision:.3f} recall {recall:.3f}")
    for c in policy.CATEGORY_CODES:
        s = per_cat[c]
        print(f"  {c:16s} tp {s['tp']:3d} fp {s['fp']:2d} fn {s['fn']:2d}")
    for w in wrong:
        print("  MISS", w)
    assert precision >= 0.95 and recall >= 0.95


def _find(classified, pred):
    found = [v for v in classified.values() if pred(v[0])]
    assert found
    return found


def test_hard_case_passing_mention_is_not_a_category(classified):
    cases = _find(classified, lambda d: any(s in d.body for s in ("运用大数据等技术手段", "探索运用人工智能",
                                                                    "纳入智慧城市平台")))
    for doc, cls, is_policy, want in cases:
        assert is_policy and not want
        assert cls.is_policy and cls.categories == [], (doc.title, cls.rules)


def test_hard_case_meeting_notice_on_smart_cities_is_not_a_policy(classified):
    cases = _find(classified, lambda d: "推进会的通知" in (d.title or ""))
    for doc, cls, *_ in cases:
        assert not cls.is_policy and cls.categories == [] and cls.rules[0].startswith("not_policy")


def test_hard_case_interpretation_is_not_a_policy(classified):
    for doc, cls, *_ in _find(classified, lambda d: "解读" in (d.title or "")):
        assert not cls.is_policy


def test_hard_case_expired_document_keeps_its_category_and_validity(classified):
    cases = _find(classified, lambda d: d.validity == "失效")
    for doc, cls, is_policy, want in cases:
        assert set(cls.categories) == want and want


def test_hard_case_title_only_match(classified):
    cases = _find(classified, lambda d: "印发给你们，请认真组织实施" in d.body and len(d.body) < 200)
    for doc, cls, is_policy, want in cases:
        assert set(cls.categories) == want and len(want) == 1
        code = next(iter(want))
        assert any(r.startswith(code) and "title" in r for r in cls.rules)


def test_agency_names_are_neutral():
    cls = policy.classify("关于做好2026年住房公积金年度结息工作的通知",
                          "市大数据管理局、市政务服务数据管理局负责系统保障。市大数据局配合。" * 3)
    assert cls.categories == []


def test_title_match_beats_body_only_threshold():
    lex = policy.load_lexicon()
    assert lex.title_weight > 1 and lex.body_only_threshold > lex.threshold
    assert policy.classify("某市大数据发展行动计划", "").categories == ["big_data"]
    assert policy.classify("关于做好有关工作的通知", "运用大数据手段。").categories == []


def test_per_city_counts_from_pages_match_the_truth(policy_web, classified):
    """The spider's counting (dedupe, then count per period) on the pages alone, every city."""
    web, labels = policy_web
    from sgi.sampleweb import policy as gen

    truth = {(t.city_code, t.indicator, t.period): t.value for t in web.truth if t.indicator.startswith("policy_")}
    by_city = defaultdict(list)
    for site in web.sites.values():
        if site.kind != "policy":
            continue
        for path in site.resources:
            if path.startswith(("/zcwj/20", "/bmwj/")):
                doc = policy.parse_detail(served_page(web, f"http://{site.host}{path}"))
                by_city[site.city_code].append(doc)
    lines = []
    for spec in gen.CITIES:
        groups = policy.dedupe(by_city[spec.code])
        assert len(groups) == sum(1 for u in labels if f".{spec.slug}.gov" in u), spec.code
        counts = Counter()
        for g in groups:
            cls = policy.classify(g[0].title or "", g[0].body)
            if cls.is_policy:
                counts["policy_docs_total"] += 1
                for c in cls.categories:
                    counts[f"policy_cat_{c}"] += 1
        line = []
        for code in ["policy_docs_total"] + [f"policy_cat_{c}" for c in policy.CATEGORY_CODES]:
            want = truth[(spec.code, code, web.reference_date.isoformat())]
            line.append(f"{code.replace('policy_cat_', '')}={counts[code]}/{want}")
            assert counts[code] == want, (spec.code, code)
        lines.append(f"{spec.code} " + " ".join(line))
    print("\ncumulative counts got/truth per city:\n" + "\n".join(lines))
