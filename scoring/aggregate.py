"""Aggregation: combine normalised indicators level by level up the framework tree (Handbook step 6).

Three rules, chosen per framework:

* ``arithmetic``: weighted arithmetic mean of the children (fully compensatory; COINr ``a_amean``).
* ``geometric``: weighted geometric mean (partly compensatory; a zero child gives 0; COINr ``a_gmean``).
* ``points``: Tsinghua-style sums of points. Each node has ``max_points``; a leaf earns
  ``max_points x fraction`` (fraction = its 0..1 normalised value) and a node's points are the sum of its
  children's. Internally this is the arithmetic mean of fractions with weights max_points / parent's
  max_points, multiplied by the node's max_points when reported, so one engine serves all three rules.

Missing children are never zeros: a node is the weighted mean over its *available* children, with the
weights rescaled to sum to 1 ("reweight"), and becomes missing itself when the share of applicable
indicators below it that are available falls under ``min_coverage`` (COINr's ``dat_thresh``).

The engine is vectorised: leaf values may carry a leading "draw" axis and weights one row per draw, so
the Monte Carlo in :mod:`scoring.uncertainty` aggregates hundreds of weight sets in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.framework import Framework, Node


# --------------------------------------------------------------------------- elementary operators

def weighted_arithmetic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over the last axis, ignoring NaN children (weights rescaled over the available)."""
    v = np.asarray(values, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), v.shape)
    m = ~np.isnan(v)
    den = np.where(m, w, 0.0).sum(axis=-1)
    num = np.where(m, w * np.where(m, v, 0.0), 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_geometric(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted geometric mean over the last axis, ignoring NaN; any available zero child gives 0.
    Negative values are an error (geometric means need a ratio scale, e.g. min-max or efficacy)."""
    v = np.asarray(values, dtype=float)
    if np.nanmin(v, initial=0.0) < 0:
        raise ValueError("geometric aggregation needs non-negative values (use min-max, rank or efficacy)")
    w = np.broadcast_to(np.asarray(weights, dtype=float), v.shape)
    m = ~np.isnan(v)
    pos = m & (v > 0)
    zero_hit = (m & (v <= 0) & (w > 0)).any(axis=-1)
    den = np.where(m, w, 0.0).sum(axis=-1)
    logs = np.where(pos, w * np.log(np.where(pos, v, 1.0)), 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, np.exp(logs / np.where(den > 0, den, 1.0)), np.nan)
    return np.where(zero_hit & (den > 0), 0.0, out)


def points_sum(points: np.ndarray, max_points: np.ndarray | None = None, tolerance: float = 0.05) -> np.ndarray:
    """Sum of children's points over the last axis (NaN if any child is missing: a points total with a
    hole is not comparable). If ``max_points`` is given, children above their maximum (beyond
    ``tolerance``, for published figures rounded to 0.1) are an error."""
    p = np.asarray(points, dtype=float)
    if max_points is not None:
        over = p > np.asarray(max_points, dtype=float) + tolerance
        if np.any(over):
            raise ValueError(f"{int(over.sum())} child scores exceed their max_points")
    return p.sum(axis=-1)


# --------------------------------------------------------------------------- the compiled tree

@dataclass
class Plan:
    """The framework tree flattened for vectorised aggregation.

    Columns of a value array: the L leaves first (``leaf_codes`` order), then the internal nodes in
    post-order (children before parents); the root is the last column. ``edges`` index the local
    weight of every non-root node (``edge_weight``), so a draw of weights is one row of length E.
    """
    leaf_codes: list[str]
    leaf_paths: list[str]
    node_paths: list[str]                 # internal nodes, post-order, root last
    children: list[np.ndarray]            # per internal node: column indices of its children
    child_edges: list[np.ndarray]         # per internal node: edge indices of its children
    edge_paths: list[str]                 # path of the child node of each edge
    edge_weight: np.ndarray               # nominal local weights (E,)
    edge_parent: np.ndarray               # internal-node index of the parent of each edge (E,)
    leaf_sets: list[np.ndarray]           # per internal node: leaf indices below it
    max_points: np.ndarray                # per internal node (NaN unless points)
    method: str
    min_coverage: float

    @property
    def n_leaves(self) -> int:
        return len(self.leaf_codes)

    @property
    def all_paths(self) -> list[str]:
        return self.leaf_paths + self.node_paths

    def column_of(self, path: str) -> int:
        return self.all_paths.index(path)


def compile_plan(framework: Framework, min_coverage: float | None = None) -> Plan:
    leaves = framework.indicators()
    leaf_index = {n.path: i for i, n in enumerate(leaves)}
    internal: list[Node] = []

    def post(node: Node) -> None:
        for c in node.children:
            if not c.is_indicator:
                post(c)
        internal.append(node)
    post(framework.root)
    node_index = {n.path: len(leaves) + k for k, n in enumerate(internal)}
    col = {**leaf_index, **node_index}
    edge_paths: list[str] = []
    edge_weight: list[float] = []
    edge_parent: list[int] = []
    children, child_edges, leaf_sets = [], [], []
    for k, node in enumerate(internal):
        idx, eds = [], []
        for c in node.children:
            idx.append(col[c.path])
            eds.append(len(edge_paths))
            edge_paths.append(c.path)
            edge_weight.append(c.weight)
            edge_parent.append(k)
        children.append(np.array(idx, dtype=int))
        child_edges.append(np.array(eds, dtype=int))
        leaf_sets.append(np.array([leaf_index[l.path] for l in node.leaves()], dtype=int))
    return Plan(
        leaf_codes=[n.code for n in leaves], leaf_paths=[n.path for n in leaves],
        node_paths=[n.path for n in internal], children=children, child_edges=child_edges,
        edge_paths=edge_paths, edge_weight=np.array(edge_weight), edge_parent=np.array(edge_parent, dtype=int),
        leaf_sets=leaf_sets,
        max_points=np.array([n.max_points if n.max_points is not None else np.nan for n in internal]),
        method="arithmetic" if framework.aggregation == "points" else framework.aggregation,
        min_coverage=framework.missing.min_coverage if min_coverage is None else min_coverage,
    )


def leaf_coverage(plan: Plan, available: np.ndarray, applicable: np.ndarray) -> np.ndarray:
    """Share of applicable leaves that are available, per unit and internal node: (U, I).
    NaN where no leaf below the node is applicable."""
    av = available.astype(float)
    ap = applicable.astype(float)
    out = np.empty((available.shape[0], len(plan.node_paths)))
    for k, ls in enumerate(plan.leaf_sets):
        n_ap = ap[:, ls].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = np.where(n_ap > 0, av[:, ls].sum(axis=1) / np.where(n_ap > 0, n_ap, 1), np.nan)
    return out


def aggregate_tree(plan: Plan, leaf_values: np.ndarray, coverage: np.ndarray,
                   edge_weights: np.ndarray | None = None) -> np.ndarray:
    """Aggregate leaves up the tree.

    leaf_values: (U, L), NaN = missing, or (D, U, L) for D draws.
    coverage: (U, I) from :func:`leaf_coverage`; a node with coverage < plan.min_coverage (or NaN) is NaN.
    edge_weights: (E,) or (D, E); default the nominal weights.
    Returns all columns (leaves then internal nodes): (U, L + I) or (D, U, L + I). Internal values are
    weighted means on the leaves' scale (fractions for points frameworks; see :func:`report_scale`).
    """
    W = plan.edge_weight if edge_weights is None else np.asarray(edge_weights, dtype=float)
    batched = W.ndim == 2
    V = np.asarray(leaf_values, dtype=float)
    U = V.shape[-2]
    shape = ((W.shape[0],) if batched else ()) + (U, plan.n_leaves + len(plan.node_paths))
    if batched and V.ndim == 2:
        V = np.broadcast_to(V, (W.shape[0],) + V.shape)
    A = np.empty(shape)
    A[..., : plan.n_leaves] = V
    too_thin = ~(coverage >= plan.min_coverage)            # (U, I), NaN coverage -> True
    geometric = plan.method == "geometric"
    V2 = np.asarray(leaf_values, dtype=float) if batched and np.ndim(leaf_values) == 2 else None
    for k, (cols, eds) in enumerate(zip(plan.children, plan.child_edges)):
        w = W[..., eds]                                     # (C,) or (D, C)
        if V2 is not None and cols.max() < plan.n_leaves:
            # Leaf groups: the children are the same for every draw, so the weighted sums are matrix
            # products (U, C) @ (C, D) instead of (D, U, C) temporaries -- most of the work in a draw.
            child2 = V2[:, cols]
            m = ~np.isnan(child2)
            transform = np.log(np.where(m & (child2 > 0), child2, 1.0)) if geometric else np.where(m, child2, 0.0)
            num = (transform @ w.T).T                        # (D, U)
            den = (m.astype(float) @ w.T).T
            with np.errstate(invalid="ignore", divide="ignore"):
                val = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
            if geometric:
                val = np.exp(val)
                zero = (m & (child2 <= 0)).astype(float) @ (w.T > 0).astype(float)
                val = np.where((zero.T > 0) & (den > 0), 0.0, val)
            A[..., plan.n_leaves + k] = np.where(too_thin[:, k], np.nan, val)
            continue
        child = A[..., cols]                                # (..., U, C)
        if batched:
            w = w[:, None, :]
        if geometric:
            val = weighted_geometric(child, w)
        else:
            val = weighted_arithmetic(child, w)
        A[..., plan.n_leaves + k] = np.where(too_thin[:, k], np.nan, val)
    return A


def effective_weights(plan: Plan, values: np.ndarray, edge_weights: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the weight of each leaf (U, L) and internal node (U, I) in the root after reweighting
    over available children: the product of rescaled local weights along the path, zero for anything
    missing or under a missing node. For arithmetic / points aggregation root = sum_i eff_i * leaf_i
    exactly (and likewise over the children of any node)."""
    W = plan.edge_weight if edge_weights is None else edge_weights
    U = values.shape[0]
    L = plan.n_leaves
    eff_nodes = np.zeros((U, len(plan.node_paths)))
    eff_nodes[:, -1] = np.where(np.isnan(values[:, -1]), 0.0, 1.0)
    eff_leaves = np.zeros((U, L))
    for k in range(len(plan.node_paths) - 1, -1, -1):       # root first (reverse post-order)
        cols, eds = plan.children[k], plan.child_edges[k]
        m = ~np.isnan(values[:, cols])
        w = np.where(m, W[eds][None, :], 0.0)
        den = w.sum(axis=1, keepdims=True)
        share = np.where(den > 0, w / np.where(den > 0, den, 1.0), 0.0) * eff_nodes[:, [k]]
        for j, c in enumerate(cols):
            if c < L:
                eff_leaves[:, c] = share[:, j]
            else:
                eff_nodes[:, c - L] = share[:, j]
    return eff_leaves, eff_nodes


def report_scale(plan: Plan, framework: Framework) -> np.ndarray:
    """Multiplier from internal (mean) values to reported values per internal node: max_points for a
    points framework, else 1."""
    if framework.is_points:
        return np.nan_to_num(plan.max_points, nan=1.0)
    return np.ones(len(plan.node_paths))
