"""Benchmark: the policy classifier on real documents (issue 20).

Development set: ``../shared/reference/real-policies/policy-titles-dev.csv`` beside the repository (302 real
documents from the State Council library and jiangxi.gov.cn with a hand label digital_gov /
digital_ecosystem / neither; see its README). Set SGI_REAL_POLICIES to another folder holding it; when
it is absent the benchmark is skipped (no entries). Nothing of it is copied into the repository.

What is measured, on title + body excerpt (what a list or detail page gives):

* per group (digital_gov, digital_ecosystem): precision, recall, F1; macro-F1 over the two groups; the
  3x3 confusion matrix (rows = label, columns = prediction; a document's prediction is its main group,
  :func:`collectors.policy.main_group`); a breakdown by jurisdiction (国务院 / 国务院部门 / 江西省);
* a generalisation protocol over the two sources, national (国务院 + 国务院部门) and Jiangxi: the free
  parameters (threshold, title weight) are tuned on one side and measured on the other, both directions;
  beside it a character n-gram logistic regression trained on one side and measured on the other, the
  statistical alternative, so the lexicon is compared with a learned model on held-out rows;
* a term ablation per direction: the lexicon without the v2 terms that fire only on the held-out side,
  once keeping the terms the annotation guide (the README's 'Label groups') or the issue names, once
  without that exception (pessimistic); the first is the reported held-out figure;
* the first lexicon's terms (v1, written with the sample web before real documents were read) read by the
  current code, as the baseline (the code before issue 20 scored 0.544 national, 0.197 Jiangxi macro-F1).

* the out-of-sample protocol (the figure that is truly out of sample): a second lexicon,
  ``bench/data/policy_lexicon_external.yaml``, written only from vocabulary outside the development set (the
  national guidance documents on digital government and the digital economy, and the terms issue 20
  names; provenance beside it) without reading any row, frozen as first measured, is read by the shipped
  code on ALL rows (none of them was used to write it); its free parameters are then also tuned on one
  jurisdiction and measured on the other (both directions). Its figure is reported without the lexicon's
  `issuers` section (added after it was frozen) and, beside it, with it; and by annotator confidence.
  The shipped lexicon merged the external terms it lacked; its own figures stay in-sample.

Honesty note, also stored in the results: the v2 term list was written from the README's group
definitions and domain knowledge with the whole development set visible, so its figures on this set are
in-sample for the term list; the term ablation estimates what a writer who had not seen the held-out
side would reach, and the learned model is held out by construction. The project is measured on other
jurisdictions' documents it never sees.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELS = ("digital_gov", "digital_ecosystem", "neither")
GROUPS = ("digital_gov", "digital_ecosystem")
SIDES = {"national": ("国务院", "国务院部门"), "jiangxi": ("江西省",)}
TARGET_MACRO_F1 = 0.85
TARGET_DG = 0.85


def dataset_dir() -> Path | None:
    """The development set's folder: $SGI_REAL_POLICIES, else ../shared/reference/real-policies beside the
    repository (a git worktree's parent or the main checkout's), else None."""
    candidates = []
    if os.environ.get("SGI_REAL_POLICIES"):
        candidates.append(Path(os.environ["SGI_REAL_POLICIES"]))
    for base in (REPO, *REPO.parents):
        candidates.append(base.parent / "shared" / "reference" / "real-policies")
        candidates.append(base / "shared" / "reference" / "real-policies")
        if len(candidates) > 8:
            break
    for path in candidates:
        if (path / "policy-titles-dev.csv").is_file():
            return path
    return None


def load_rows(folder: Path) -> list[dict]:
    with open(folder / "policy-titles-dev.csv", encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r.get("label_group") in LABELS]


def side_of(row: dict) -> str:
    return next(s for s, js in SIDES.items() if row["jurisdiction"] in js)


# --- metrics ------------------------------------------------------------------------------------

def metrics(pairs: list[tuple[str, str]]) -> dict:
    """pairs: (label, prediction). Per-group P/R/F1, macro-F1, confusion matrix."""
    out = {"n": len(pairs), "groups": {}}
    f1s = []
    for g in GROUPS:
        tp = sum(1 for y, p in pairs if y == g and p == g)
        fp = sum(1 for y, p in pairs if y != g and p == g)
        fn = sum(1 for y, p in pairs if y == g and p != g)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        f1s.append(f1)
        out["groups"][g] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3),
                            "support": tp + fn}
    out["macro_f1"] = round(sum(f1s) / len(f1s), 3)
    counts = Counter(pairs)
    out["confusion"] = {y: {p: counts[(y, p)] for p in LABELS} for y in LABELS}
    return out


# --- the shipped classifier -------------------------------------------------------------------------

def predict(rows: list[dict], lex=None, issuer: bool = True) -> list[tuple[str, str]]:
    """(label, main group) per row; ``issuer``: the row's 发文机关 is passed as evidence (the lexicon's
    `issuers`; without it the issuer in the title's head still counts unless the lexicon has none)."""
    from collectors import policy

    lex = lex or policy.load_lexicon()
    out = []
    for r in rows:
        cls = policy.classify(r["title"], r.get("body_excerpt") or "", lex, issuer=r.get("issuer") if issuer else None)
        out.append((r["label_group"], policy.main_group(cls, lex) or "neither"))
    return out


GRID = [(t, w) for t in (4, 5, 6, 7, 8, 9) for w in (2, 3, 4)]


def tune(rows: list[dict], lex) -> tuple[float, float]:
    """The (threshold, title_weight) of GRID with the best macro-F1 on rows (ties: the shipped values)."""
    best = None
    for t, w in GRID:
        cand = replace(lex, threshold=float(t), title_weight=float(w))
        score = metrics(predict(rows, cand))["macro_f1"]
        key = (score, (t, w) == (lex.threshold, lex.title_weight))
        if best is None or key > best[0]:
            best = (key, (float(t), float(w)))
    return best[1]


# --- term ablation: as if the lexicon had been written without seeing the held-out side ---------------

def _fired_terms(rows: list[dict], lex) -> set[str]:
    from collectors import policy

    out: set[str] = set()
    for r in rows:
        out |= set(policy._hits(policy.title_focus(r["title"]), lex)) | set(policy._hits(r.get("body_excerpt") or "", lex))
    return out


# The terms issue 20 names (written before the lexicon v2, from knowledge of the domain, not of rows).
ISSUE_TERMS = ("政务新媒体", "政府网站", "一网通办", "一网统管", "数据共享", "电子证照", "政务云", "互联网+监管", "两化融合", "信息化",
               "数字人民币", "政务公开", "双随机、一公开", "公开招聘")


def guide_text(folder: Path) -> str:
    """The annotation guide: the 'Label groups' section of the development set's README."""
    readme = (folder / "README.md").read_text(encoding="utf-8") if (folder / "README.md").is_file() else ""
    start = readme.find("## Label groups")
    end = readme.find("## Counts", start)
    return readme[start:end] if start >= 0 else ""


def ablated_lexicon(lex, v1, train: list[dict], test: list[dict], known: str = ""):
    """The shipped lexicon without every category term that v2 added (not in v1) and that fires on the
    held-out side only, as if the lexicon had been written without seeing that side. With ``known`` (the
    annotation guide and the issue's term list), terms named there are kept: a writer knows them without
    reading any row. Without it the ablation is pessimistic (it drops 政府网站, 5G ...)."""
    from collectors import policy
    from sgi.yamlconf import load_yaml

    old_terms = set(v1.term_index)
    category_terms = {t for t, cats in lex.term_index.items() if cats}
    known = policy.fold(known)
    drop = {t for t in _fired_terms(test, lex) - _fired_terms(train, lex)
            if t in category_terms and t not in old_terms and t not in known}
    data = load_yaml(str(policy.LEXICON_PATH))
    cats = {code: {**entry, "terms": {t: w for t, w in entry["terms"].items() if policy.fold(str(t)) not in drop}}
            for code, entry in data["categories"].items()}
    for code, entry in cats.items():
        if not entry["terms"]:
            entry["terms"] = {"\u0000": 1}     # a category keeps one unmatchable term (the loader needs one)
    title_only = [t for t in data.get("title_only") or [] if policy.fold(str(t)) not in drop]
    return policy.parse_lexicon({**data, "categories": cats, "title_only": title_only}, "ablated"), sorted(drop)


# --- a character n-gram logistic regression (the statistical alternative) ---------------------------

def _features(title: str, body: str) -> Counter:
    from collectors.policy import title_focus

    text = re.sub(r"[\s\"'“”‘’《》（）()、，。：:]", "", unicodedata.normalize("NFKC", title_focus(title)))
    feats = Counter()
    for n in (2, 3):
        for i in range(len(text) - n + 1):
            feats[text[i:i + n]] += 1
    return feats


class NgramModel:
    """One-vs-rest logistic regression on character 2-3-grams of the title's subject, trained by plain
    gradient descent with L2; every prediction can list the n-grams and weights that decided it."""

    def __init__(self, epochs: int = 60, rate: float = 0.5, l2: float = 1e-3):
        self.epochs, self.rate, self.l2 = epochs, rate, l2
        self.weights: dict[str, dict[str, float]] = {}
        self.bias: dict[str, float] = {}

    def fit(self, rows: list[dict]) -> "NgramModel":
        data = [(_features(r["title"], r.get("body_excerpt") or ""), r["label_group"]) for r in rows]
        for g in GROUPS:
            w: dict[str, float] = {}
            b = 0.0
            pos = sum(1 for _f, y in data if y == g) or 1
            neg = len(data) - pos or 1
            for _ in range(self.epochs):
                for feats, y in data:
                    z = b + sum(w.get(k, 0.0) * v for k, v in feats.items())
                    p = 1 / (1 + math.exp(-max(-30, min(30, z))))
                    target = 1.0 if y == g else 0.0
                    scale = len(data) / (2 * (pos if target else neg))    # balanced classes
                    grad = (p - target) * scale
                    for k, v in feats.items():
                        w[k] = w.get(k, 0.0) - self.rate * (grad * v + self.l2 * w.get(k, 0.0))
                    b -= self.rate * grad
            self.weights[g], self.bias[g] = w, b
        return self

    def predict_one(self, title: str, body: str) -> str:
        feats = _features(title, body)
        z = {g: self.bias[g] + sum(self.weights[g].get(k, 0.0) * v for k, v in feats.items()) for g in GROUPS}
        g = max(z, key=z.get)
        return g if z[g] > 0 else "neither"

    def predict(self, rows: list[dict]) -> list[tuple[str, str]]:
        return [(r["label_group"], self.predict_one(r["title"], r.get("body_excerpt") or "")) for r in rows]


# --- the out-of-sample protocol: a lexicon from external vocabulary only -----------------------------

EXTERNAL_LEXICON = REPO / "bench" / "data" / "policy_lexicon_external.yaml"


def external_lexicon():
    from collectors import policy
    from sgi.yamlconf import load_yaml

    return policy.parse_lexicon(load_yaml(str(EXTERNAL_LEXICON)), str(EXTERNAL_LEXICON))


def evaluate_external(rows: list[dict]) -> dict:
    """The external lexicon (written from outside vocabulary, no row read) on all rows, by side and by
    jurisdiction: out of sample for every row. Then its (threshold, title_weight) tuned on one side and
    measured on the other, as for the shipped lexicon."""
    with_issuer = external_lexicon()
    lex = replace(with_issuer, issuers=())      # as frozen at e19f92e (the issuers section came after)
    by_side = {s: [r for r in rows if side_of(r) == s] for s in SIDES}
    out: dict = {"lexicon": str(EXTERNAL_LEXICON.relative_to(REPO)), "version": lex.version,
                 "all": metrics(predict(rows, lex)),
                 "with_issuer_evidence": {"all": metrics(predict(rows, with_issuer)),
                                          **{s: metrics(predict(rs, with_issuer)) for s, rs in by_side.items()}},
                 "by_side": {s: metrics(predict(rs, lex)) for s, rs in by_side.items()},
                 "by_jurisdiction": {j: metrics(predict([r for r in rows if r["jurisdiction"] == j], lex))
                                     for j in sorted({r["jurisdiction"] for r in rows})},
                 # the annotator's confidence: low/medium rows are the README's borderline conventions
                 "by_confidence": {c: metrics(predict([r for r in rows if r.get("confidence") == c], lex))
                                   for c in ("high", "medium", "low")}}
    out["held_out_tuned"] = {}
    for train, test in (("national", "jiangxi"), ("jiangxi", "national")):
        t, w = tune(by_side[train], lex)
        out["held_out_tuned"][f"{train}->{test}"] = {
            "threshold": t, "title_weight": w, **metrics(predict(by_side[test], replace(lex, threshold=t, title_weight=w)))}
    return out


# --- the benchmark ---------------------------------------------------------------------------------

def evaluate(rows: list[dict], known: str = "") -> dict:
    """The report; ``known`` is the annotation guide's text (see :func:`ablated_lexicon`)."""
    from collectors import policy

    lex = policy.load_lexicon()
    by_side = {s: [r for r in rows if side_of(r) == s] for s in SIDES}
    report: dict = {"rows": len(rows), "lexicon_version": lex.version}
    report["all"] = metrics(predict(rows, lex))
    report["by_side"] = {s: metrics(predict(rs, lex)) for s, rs in by_side.items()}
    report["by_jurisdiction"] = {j: metrics(predict([r for r in rows if r["jurisdiction"] == j], lex))
                                 for j in sorted({r["jurisdiction"] for r in rows})}
    from sgi.yamlconf import load_yaml

    v1_path = REPO / "bench" / "data" / "policy_lexicon_v1.yaml"
    v1 = policy.parse_lexicon(load_yaml(str(v1_path)), str(v1_path))
    held = {}
    for train, test in (("national", "jiangxi"), ("jiangxi", "national")):
        t, w = tune(by_side[train], lex)
        tuned = replace(lex, threshold=t, title_weight=w)
        model = NgramModel().fit(by_side[train])
        ablated, dropped = ablated_lexicon(lex, v1, by_side[train], by_side[test])
        guided, guided_dropped = ablated_lexicon(lex, v1, by_side[train], by_side[test],
                                                 known + " " + " ".join(ISSUE_TERMS))
        # Terms of the external-vocabulary lexicon are known without reading any row, too.
        external, external_dropped = ablated_lexicon(lex, v1, by_side[train], by_side[test],
                                                     known + " " + " ".join(ISSUE_TERMS) + " " + " ".join(external_lexicon().term_index))
        held[f"{train}->{test}"] = {
            "lexicon_tuned": {"threshold": t, "title_weight": w, **metrics(predict(by_side[test], tuned))},
            "lexicon_without_test_only_terms": {
                "dropped_terms": dropped, **metrics(predict(by_side[test], replace(ablated, threshold=t, title_weight=w)))},
            "lexicon_without_test_only_terms_not_in_guide": {
                "dropped_terms": guided_dropped,
                **metrics(predict(by_side[test], replace(guided, threshold=t, title_weight=w)))},
            "lexicon_without_test_only_terms_not_in_guide_or_external": {
                "dropped_terms": external_dropped,
                **metrics(predict(by_side[test], replace(external, threshold=t, title_weight=w)))},
            "ngram_model": metrics(model.predict(by_side[test])),
        }
    report["held_out"] = held
    report["external_lexicon"] = evaluate_external(rows)
    report["baseline_lexicon_v1"] = {s: metrics(predict(rs, v1)) for s, rs in by_side.items()}
    report["note"] = ("v2 terms were written from the dataset README's group definitions and domain knowledge with "
                      "the whole set visible: lexicon figures are in-sample for the term list; 'held_out' tunes the "
                      "free parameters (and trains the n-gram model) on one side and measures on the other, and "
                      "removes the terms only the held-out side's rows motivated (keeping those the annotation "
                      "guide or the issue names, or not: pessimistic)")
    return report


def run() -> dict:
    folder = dataset_dir()
    if folder is None:
        print("   skipped: the development set (../shared/reference/real-policies) is not here")
        return {}
    report = evaluate(load_rows(folder), guide_text(folder))
    held = report["held_out"]
    # The held-out figure: parameters tuned on the other side, and the lexicon without the terms only the
    # held-out side's rows motivated (terms the annotation guide or the issue names are kept).
    guided = {k: v["lexicon_without_test_only_terms_not_in_guide"] for k, v in held.items()}
    worst_macro = min(v["macro_f1"] for v in guided.values())
    dg = {k: v["groups"]["digital_gov"] for k, v in guided.items()}
    dg_ok = all(d["recall"] >= TARGET_DG and d["precision"] >= TARGET_DG for d in dg.values())
    shipped = report["all"]
    ext = report["external_lexicon"]
    ext_dg = ext["all"]["groups"]["digital_gov"]
    ext_tuned = ext["held_out_tuned"]
    return {
        "policy_classifier_macro_f1_out_of_sample": {
            "value": ext["all"]["macro_f1"],
            "unit": "macro-F1 on all 302 development rows of the lexicon written from external vocabulary only "
                    "(bench/data/policy_lexicon_external.yaml; no row read: truly out of sample); by side: "
                    + ", ".join(f"{s} {v['macro_f1']}" for s, v in ext["by_side"].items())
                    + "; parameters tuned on the other side: "
                    + ", ".join(f"{k} {v['macro_f1']}" for k, v in ext_tuned.items()),
            "target": f">= {TARGET_MACRO_F1} (issue 20)", "ok": ext["all"]["macro_f1"] >= TARGET_MACRO_F1,
            "detail": ext},
        "policy_classifier_dg_out_of_sample": {
            "value": ext_dg["recall"],
            "unit": f"digital_gov recall (precision {ext_dg['precision']}, n={ext_dg['support']}) on all rows, "
                    "external lexicon (out of sample); by side: "
                    + ", ".join(f"{s} R {v['groups']['digital_gov']['recall']} P {v['groups']['digital_gov']['precision']} "
                                f"(n={v['groups']['digital_gov']['support']})" for s, v in ext["by_side"].items()),
            "target": f"recall >= {TARGET_DG} at precision >= {TARGET_DG} (issue 20)",
            "ok": ext_dg["recall"] >= TARGET_DG and ext_dg["precision"] >= TARGET_DG,
            "detail": {s: v["groups"]["digital_gov"] for s, v in ext["by_side"].items()}},
        "policy_classifier_macro_f1": {
            "value": shipped["macro_f1"],
            "unit": "macro-F1 (digital_gov, digital_ecosystem) of the shipped lexicon on all 302 development rows "
                    "(in-sample for its term list: written with the set visible); by side: "
                    + ", ".join(f"{s} {v['macro_f1']}" for s, v in report["by_side"].items()),
            "target": f">= {TARGET_MACRO_F1} (issue 20)", "ok": shipped["macro_f1"] >= TARGET_MACRO_F1,
            "detail": report},
        "policy_classifier_macro_f1_heldout": {
            "value": worst_macro,
            "unit": "macro-F1, worse of the two directions: parameters tuned on one jurisdiction, measured on the "
                    "other with the terms only the held-out side motivated removed; "
                    + ", ".join(f"{k} {v['macro_f1']}" for k, v in guided.items()),
            "target": f">= {TARGET_MACRO_F1} (issue 20)", "ok": worst_macro >= TARGET_MACRO_F1,
            "detail": {k: {n: v[n]["macro_f1"] for n in v} for k, v in held.items()}},
        "policy_classifier_dg_recall_heldout": {
            "value": min(d["recall"] for d in dg.values()),
            "unit": "digital_gov recall, worse held-out direction (as above); "
                    + ", ".join(f"{k} R {d['recall']} P {d['precision']} (n={d['support']})" for k, d in dg.items()),
            "target": f"recall >= {TARGET_DG} at precision >= {TARGET_DG} (issue 20)", "ok": dg_ok,
            "detail": dg},
    }


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(REPO))
    folder = dataset_dir()
    if folder is None:
        print("development set not found")
    else:
        print(json.dumps(evaluate(load_rows(folder), guide_text(folder)), ensure_ascii=False, indent=1))
