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
* the first lexicon (v1, written with the sample web, before real documents were read) as the baseline.

Honesty note, also stored in the results: the v2 term list was written from the README's group
definitions and domain knowledge with the whole development set visible, so its figures on this set are
in-sample for the term list; the held-out figures are held-out for the tuned parameters and for the
learned model. The project is measured on other jurisdictions' documents it never sees.
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

def predict(rows: list[dict], lex=None) -> list[tuple[str, str]]:
    from collectors import policy

    lex = lex or policy.load_lexicon()
    out = []
    for r in rows:
        cls = policy.classify(r["title"], r.get("body_excerpt") or "", lex)
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


# --- the benchmark ---------------------------------------------------------------------------------

def evaluate(rows: list[dict]) -> dict:
    from collectors import policy

    lex = policy.load_lexicon()
    by_side = {s: [r for r in rows if side_of(r) == s] for s in SIDES}
    report: dict = {"rows": len(rows), "lexicon_version": lex.version}
    report["all"] = metrics(predict(rows, lex))
    report["by_side"] = {s: metrics(predict(rs, lex)) for s, rs in by_side.items()}
    report["by_jurisdiction"] = {j: metrics(predict([r for r in rows if r["jurisdiction"] == j], lex))
                                 for j in sorted({r["jurisdiction"] for r in rows})}
    held = {}
    for train, test in (("national", "jiangxi"), ("jiangxi", "national")):
        t, w = tune(by_side[train], lex)
        tuned = replace(lex, threshold=t, title_weight=w)
        model = NgramModel().fit(by_side[train])
        held[f"{train}->{test}"] = {
            "lexicon_tuned": {"threshold": t, "title_weight": w, **metrics(predict(by_side[test], tuned))},
            "ngram_model": metrics(model.predict(by_side[test])),
        }
    report["held_out"] = held
    v1 = REPO / "bench" / "data" / "policy_lexicon_v1.yaml"
    if v1.is_file():
        from sgi.yamlconf import load_yaml

        old = policy.parse_lexicon(load_yaml(str(v1)), str(v1))
        report["baseline_lexicon_v1"] = {s: metrics(predict(rs, old)) for s, rs in by_side.items()}
    report["note"] = ("v2 terms were written from the dataset README's group definitions and domain knowledge with "
                      "the whole set visible: lexicon figures are in-sample for the term list; 'held_out' tunes the "
                      "free parameters (and trains the n-gram model) on one side and measures on the other")
    return report


def run() -> dict:
    folder = dataset_dir()
    if folder is None:
        print("   skipped: the development set (../shared/reference/real-policies) is not here")
        return {}
    report = evaluate(load_rows(folder))
    held = report["held_out"]
    macro = {k: v["lexicon_tuned"]["macro_f1"] for k, v in held.items()}
    dg = {k: v["lexicon_tuned"]["groups"]["digital_gov"] for k, v in held.items()}
    worst_macro = min(macro.values())
    dg_ok = all(d["recall"] >= TARGET_DG and d["precision"] >= TARGET_DG for d in dg.values())
    return {
        "policy_classifier_macro_f1_heldout": {
            "value": worst_macro, "unit": "macro-F1 (digital_gov, digital_ecosystem), worse of the two held-out "
                                          "directions (tuned on one jurisdiction, measured on the other)",
            "target": f">= {TARGET_MACRO_F1} (issue 20)", "ok": worst_macro >= TARGET_MACRO_F1,
            "detail": report},
        "policy_classifier_dg_recall_heldout": {
            "value": min(d["recall"] for d in dg.values()),
            "unit": "digital_gov recall, worse held-out direction (precision: "
                    + ", ".join(f"{k} {d['precision']}" for k, d in dg.items()) + ")",
            "target": f"recall >= {TARGET_DG} at precision >= {TARGET_DG} (issue 20)", "ok": dg_ok,
            "detail": {k: d for k, d in dg.items()}},
    }


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(REPO))
    folder = dataset_dir()
    if folder is None:
        print("development set not found")
    else:
        print(json.dumps(evaluate(load_rows(folder)), ensure_ascii=False, indent=1))
