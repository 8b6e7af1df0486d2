"""Scoring frameworks: the tree, weights and method choices of a composite index, read from YAML.

A framework file says *what* is combined and *how*, so that an index can be rebuilt from the file alone
(the OECD/JRC Handbook's step 1, "theoretical framework", made explicit). Everything is checked on load,
and every problem is a :class:`~sgi.errors.ConfigError` naming the file, the line and the node path
(e.g. ``capability/platform_management/site_search``), because auditors edit these files by hand.

File layout (see ``scoring/frameworks/sgi-default.yaml`` for a commented example)::

    id: my-index
    name_zh: ...
    aggregation: arithmetic          # arithmetic | geometric | points
    normalisation: {method: minmax, range: [0, 100], scope: panel, treat_outliers: false}
    missing: {rule: reweight, min_coverage: 0.5, group_by: level}    # reweight | impute_group_median | carry_forward | fail
    weights: expert                  # expert (this file, or {method: expert, file: w.yaml}) | equal | entropy | critic | pca
    tiers:
      cities: {by: rank_share, levels: [{name_zh: A, top_share: 0.1}, ...]}
      provinces: {by: score, levels: [{name_zh: A, min: 70}, ...]}
    external_indicators:             # imported figures that are not in the crawler's registry
      - {code: thu_party_gov_bodies, name_zh: 党政机构, direction: 1}
    dimensions:                      # the tree; a node has `children` (sub-nodes) and/or `indicators` (leaves)
      - code: capability
        name_zh: 治理能力
        weight: 0.5                  # or max_points: 45 in a points framework
        children: [...]
        indicators: [site_search, {code: broken_link_ratio, weight: 0.5, direction: -1}]

Weights are local (relative to the parent). If no sibling declares a weight the siblings share equally;
if some do, all must, and they must sum to 1 (tolerance 1e-6). In a points framework every node carries
``max_points`` (declared or split equally from the parent) and siblings' points must add up to the parent's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sgi.errors import ConfigError
from sgi.indicators import registry
from sgi.yamlconf import line_of, load_yaml

WEIGHT_TOLERANCE = 1e-6
AGGREGATIONS = ("arithmetic", "geometric", "points")
NORMALISATIONS = ("efficacy_coefficient", "minmax", "zscore", "rank", "distance_to_target", "none")
MISSING_RULES = ("reweight", "impute_group_median", "carry_forward", "fail")
GROUP_COLUMNS = ("region", "level", "province")
TIER_KINDS = ("score", "rank_share")
WEIGHT_METHODS = ("expert", "equal", "entropy", "critic", "pca")

FRAMEWORKS_DIR = Path(__file__).resolve().parent / "frameworks"

_TOP_KEYS = {"id", "name_zh", "name_en", "description", "source", "unit", "scale", "aggregation", "normalisation",
             "missing", "tiers", "default_tiers", "weights", "external_indicators", "dimensions", "uncertainty",
             "published_figures", "published_tables"}
_NODE_KEYS = {"code", "name_zh", "name_en", "weight", "max_points", "children", "indicators", "note",
              "published_mean", "measure"}
_LEAF_KEYS = {"code", "name_zh", "weight", "max_points", "direction", "target", "note", "measure"}
_EXTERNAL_KEYS = {"code", "name_zh", "name_en", "direction", "unit", "note", "source"}


@dataclass(frozen=True)
class ExternalIndicator:
    """An indicator the crawler cannot measure; its values come from imported tables."""
    code: str
    name_zh: str
    direction: int = 1
    unit: str = "index"


@dataclass
class Node:
    """One node of the framework tree. Leaves (``is_indicator``) are indicator codes."""
    code: str
    name_zh: str
    path: str
    weight: float                      # local weight within the parent (siblings sum to 1)
    max_points: float | None = None    # points frameworks only
    children: list["Node"] = field(default_factory=list)
    is_indicator: bool = False
    direction: int = 1
    target: float | None = None
    external: bool = False
    line: int | None = None

    def walk(self) -> Iterator["Node"]:
        """Depth-first, parents before children (the order scores are reported in)."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> list["Node"]:
        return [n for n in self.walk() if n.is_indicator]

    @property
    def depth(self) -> int:
        return 0 if self.path == ROOT else self.path.count("/") + 1


ROOT = "total"     # the index node, named as storage.models.Score expects


@dataclass(frozen=True)
class TierScheme:
    """How scores become named tiers: by score thresholds (``min``) or by rank share (``top_share``)."""
    name: str
    by: str                              # 'score' | 'rank_share'
    levels: tuple[tuple[str, float], ...]  # (tier name, min score or cumulative top share), best first


@dataclass(frozen=True)
class MissingRule:
    rule: str = "reweight"
    min_coverage: float = 0.5
    group_by: str = "level"
    fallback: str = "reweight"           # what handles gaps an imputation could not fill


@dataclass(frozen=True)
class NormalisationSpec:
    method: str = "minmax"
    range: tuple[float, float] = (0.0, 100.0)
    scope: str = "panel"                 # thresholds over all cities and years ('panel') or per year ('period')
    treat_outliers: bool = False


@dataclass(frozen=True)
class UncertaintySpec:
    """Default Monte Carlo settings; a framework may override them in an ``uncertainty:`` block."""
    weight_noise: float = 0.25
    normalisations: tuple[str, ...] = ("framework", "minmax", "rank")
    imputations: tuple[str, ...] = ("framework", "impute_group_median")


@dataclass
class Framework:
    id: str
    name_zh: str
    source: str
    root: Node
    aggregation: str
    normalisation: NormalisationSpec
    missing: MissingRule
    tiers: dict[str, TierScheme]
    default_tiers: str | None
    weight_method: str
    external: dict[str, ExternalIndicator]
    uncertainty: UncertaintySpec
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_points(self) -> bool:
        return self.aggregation == "points"

    def nodes(self) -> list[Node]:
        return list(self.root.walk())

    def indicators(self) -> list[Node]:
        return self.root.leaves()

    def indicator_codes(self) -> list[str]:
        return [n.code for n in self.indicators()]

    def node(self, path: str) -> Node:
        for n in self.root.walk():
            if n.path == path:
                return n
        raise KeyError(path)

    def tier_scheme(self, name: str | None = None) -> TierScheme | None:
        name = name or self.default_tiers
        return self.tiers.get(name) if name else None


# ------------------------------------------------------------------------------------------------ loading

def shipped_frameworks() -> list[str]:
    return sorted(p.stem for p in FRAMEWORKS_DIR.glob("*.yaml"))


def resolve(name_or_path: str | Path) -> Path:
    """A shipped framework name (``sgi-default``) or a path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.exists():
            raise ConfigError(str(p), None, "framework file not found")
        return p
    shipped = FRAMEWORKS_DIR / f"{name_or_path}.yaml"
    if shipped.exists():
        return shipped
    raise ConfigError(str(name_or_path), None, "no such framework",
                      f"shipped frameworks: {', '.join(shipped_frameworks())}; or give a path to a YAML file")


def load_framework(name_or_path: "str | Path | Framework") -> Framework:
    """Load and validate a framework (a shipped name or a file path). A Framework passes through."""
    if isinstance(name_or_path, Framework):
        return name_or_path
    path = resolve(name_or_path)
    data = load_yaml(path)
    builder = _Builder(str(path), data)
    framework = builder.build()
    if builder.weights_file:
        # expert weights kept in a separate file (e.g. from a budget-allocation exercise or AHP)
        from scoring.weights import apply_expert_weights, load_expert_weights
        apply_expert_weights(framework, load_expert_weights(builder.weights_file), builder.weights_file)
        framework.meta["weights_file"] = builder.weights_file
    return framework


class _At:
    """A stand-in carrying just a line number, for errors that point at a key rather than a mapping."""
    def __init__(self, line: int | None):
        self.line = line


class _Builder:
    def __init__(self, path: str, data: Any):
        self.path = path
        self.data = data
        self.seen_nodes: dict[str, str] = {}
        self.seen_indicators: dict[str, str] = {}
        self.node_objs: dict[str, Any] = {}
        self.weights_file: str | None = None
        self.registry = registry()

    def error(self, obj: Any, message: str, key: str | None = None, hint: str | None = None) -> ConfigError:
        return ConfigError(self.path, line_of(obj, key) if key else line_of(obj), message, hint)

    # -- top level
    def build(self) -> Framework:
        d = self.data
        if not isinstance(d, dict):
            raise self.error(d, "a framework file must be a mapping")
        for key in d:
            if key not in _TOP_KEYS:
                raise self.error(d, f"unknown top-level field {key!r}", key,
                                 f"allowed: {', '.join(sorted(_TOP_KEYS))}")
        for key in ("id", "dimensions"):
            if key not in d:
                raise self.error(d, f"framework is missing {key!r}")
        aggregation = d.get("aggregation", "arithmetic")
        if aggregation not in AGGREGATIONS:
            raise self.error(d, f"aggregation {aggregation!r} is not one of {list(AGGREGATIONS)}", "aggregation")
        self.points = aggregation == "points"
        self.external = self._externals(d.get("external_indicators") or [])
        dims = d["dimensions"]
        if not isinstance(dims, list) or not dims:
            raise self.error(d, "dimensions must be a non-empty list", "dimensions")
        root = Node(code=ROOT, name_zh=str(d.get("name_zh", d["id"])), path=ROOT, weight=1.0, line=line_of(d))
        root.children = self._children(d, [], root, top_level=True)
        self._finalise(root, d)     # weights / points top-down, once the whole tree is known
        if self.points:
            root.max_points = sum(c.max_points for c in root.children)
        tiers, default_tiers = self._tiers(d)
        normalisation = self._normalisation(d)
        if self.points and normalisation.method not in ("minmax", "rank", "distance_to_target", "none"):
            raise self.error(d, f"a points framework needs a 0..1 normalisation (minmax, rank, distance_to_target "
                                f"or none), not {normalisation.method}", "normalisation")
        if aggregation == "geometric" and normalisation.method in ("zscore",):
            raise self.error(d, "geometric aggregation needs non-negative values; z-scores are not", "normalisation")
        return Framework(
            id=str(d["id"]), name_zh=str(d.get("name_zh", d["id"])), source=self.path, root=root,
            aggregation=aggregation, normalisation=normalisation, missing=self._missing(d),
            tiers=tiers, default_tiers=default_tiers, weight_method=self._weight_method(d),
            external=self.external, uncertainty=self._uncertainty(d),
            meta={k: d[k] for k in ("description", "unit", "scale", "published_figures", "published_tables", "source")
                  if k in d},
        )

    def _externals(self, entries: Any) -> dict[str, ExternalIndicator]:
        out: dict[str, ExternalIndicator] = {}
        for e in entries:
            if isinstance(e, str):
                e = {"code": e, "name_zh": e}
            if not isinstance(e, dict) or "code" not in e:
                raise self.error(entries, "each external indicator needs at least a code")
            for key in e:
                if key not in _EXTERNAL_KEYS:
                    raise self.error(e, f"external indicator {e.get('code')}: unknown field {key!r}", key)
            code = str(e["code"])
            if code in self.registry:
                raise self.error(e, f"external indicator {code!r} is already a registry indicator",
                                 hint="use the registry code directly, without declaring it external")
            if code in out:
                raise self.error(e, f"external indicator {code!r} is declared twice")
            direction = e.get("direction", 1)
            if direction not in (-1, 1):
                raise self.error(e, f"external indicator {code}: direction must be 1 or -1", "direction")
            out[code] = ExternalIndicator(code, str(e.get("name_zh", code)), int(direction), str(e.get("unit", "index")))
        return out

    # -- tree
    def _children(self, obj: Any, path: list[str], parent: Node, top_level: bool = False,
                  ancestors: tuple[int, ...] = ()) -> list[Node]:
        """Build the children of ``parent`` from its mapping: sub-nodes (``children``, or ``dimensions``
        at the top) and indicator leaves (``indicators``)."""
        nodes: list[Node] = []
        specs: list[tuple[Any, bool, Any]] = []
        blocks = (("dimensions", False),) if top_level else (("children", False), ("indicators", True))
        for key, is_leaf in blocks:
            block = obj.get(key) if isinstance(obj, dict) else None
            if block is None:
                continue
            if not isinstance(block, list):
                raise self.error(obj, f"{'/'.join(path) or 'framework'}: {key} must be a list", key)
            specs.extend((entry, is_leaf, block) for entry in block)
        for entry, is_leaf, block in specs:
            if isinstance(entry, dict) and id(entry) in ancestors:
                raise self.error(entry, f"{'/'.join(path)}: the tree contains a cycle (a node includes itself)")
            if is_leaf:
                nodes.append(self._leaf(entry, path, block))
            else:
                nodes.append(self._node(entry, path, ancestors + (id(obj),)))
        if not nodes:
            raise self.error(obj, f"{'/'.join(path) or 'framework'}: node has no children or indicators")
        self.node_objs[parent.path] = obj
        return nodes

    def _finalise(self, node: Node, obj: Any) -> None:
        path = [] if node.path == ROOT else node.path.split("/")
        self._check_weights(obj, node.children, path, node)
        for child in node.children:
            if not child.is_indicator:
                self._finalise(child, self.node_objs[child.path])

    def _node(self, entry: Any, path: list[str], ancestors: tuple[int, ...]) -> Node:
        if not isinstance(entry, dict):
            raise self.error(entry, f"{'/'.join(path) or 'framework'}: a node must be a mapping with a code")
        if "code" not in entry:
            raise self.error(entry, f"{'/'.join(path) or 'framework'}: node {entry.get('name_zh', '')!r} has no code")
        code = str(entry["code"])
        node_path = "/".join(path + [code])
        for key in entry:
            if key not in _NODE_KEYS:
                raise self.error(entry, f"{node_path}: unknown field {key!r}", key,
                                 f"allowed: {', '.join(sorted(_NODE_KEYS))}")
        if code in self.seen_nodes:
            raise self.error(entry, f"{node_path}: duplicate node code {code!r} (already used at {self.seen_nodes[code]})")
        if code in self.registry or code in self.external or code == ROOT:
            raise self.error(entry, f"{node_path}: node code {code!r} clashes with an indicator code or {ROOT!r}")
        self.seen_nodes[code] = node_path
        node = Node(code=code, name_zh=str(entry.get("name_zh", code)), path=node_path,
                    weight=self._number(entry, "weight", node_path), max_points=self._number(entry, "max_points", node_path),
                    line=line_of(entry))
        node.children = self._children(entry, path + [code], node, ancestors=ancestors)
        return node

    def _leaf(self, entry: Any, path: list[str], block: Any) -> Node:
        """An indicator leaf. Plain-string entries carry no line of their own, so errors cite their list."""
        if isinstance(entry, str):
            entry_obj, code = None, entry
        elif isinstance(entry, dict) and "code" in entry:
            entry_obj, code = entry, str(entry["code"])
            for key in entry:
                if key not in _LEAF_KEYS:
                    raise self.error(entry, f"{'/'.join(path + [code])}: unknown field {key!r}", key,
                                     f"allowed: {', '.join(sorted(_LEAF_KEYS))}")
        else:
            raise self.error(entry, f"{'/'.join(path)}: an indicator is a code or a mapping with a code")
        leaf_path = "/".join(path + [code])
        where = entry_obj if entry_obj is not None else block
        if code in self.registry:
            ind = self.registry[code]
            direction, name, external = ind.direction, ind.name_zh, False
        elif code in self.external:
            ext = self.external[code]
            direction, name, external = ext.direction, ext.name_zh, True
        else:
            raise self.error(where, f"{leaf_path}: unknown indicator code {code!r}",
                             hint="use a code from sgi/data/indicators.yaml or declare it under external_indicators")
        if code in self.seen_indicators:
            raise self.error(where, f"{leaf_path}: indicator {code!r} is used twice (also at {self.seen_indicators[code]})")
        self.seen_indicators[code] = leaf_path
        if entry_obj is not None and "direction" in entry_obj:
            direction = entry_obj["direction"]
            if direction not in (-1, 1):
                raise self.error(entry_obj, f"{leaf_path}: direction must be 1 or -1", "direction")
        if direction == 0:
            raise self.error(where, f"{leaf_path}: indicator {code!r} is descriptive (direction 0) and cannot be scored",
                             hint="give it a direction (1 or -1) in the framework if you really mean to score it")
        get = (lambda k: self._number(entry_obj, k, leaf_path)) if entry_obj is not None else (lambda k: None)
        return Node(code=code, name_zh=str((entry_obj or {}).get("name_zh", name)), path=leaf_path,
                    weight=get("weight"), max_points=get("max_points"), is_indicator=True,
                    direction=int(direction), target=get("target"), external=external,
                    line=line_of(entry_obj) if entry_obj is not None else line_of(where))

    def _number(self, obj: Any, key: str, node_path: str) -> float | None:
        if obj is None or key not in obj or obj[key] is None:
            return None
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(obj, f"{node_path}: {key} must be a number, got {value!r}", key)
        if key in ("weight", "max_points") and value < 0:
            raise self.error(obj, f"{node_path}: {key} must not be negative", key)
        return float(value)

    def _check_weights(self, obj: Any, nodes: list[Node], path: list[str], parent: Node) -> None:
        where = "/".join(path) or "framework"
        # weight problems are reported at the line of the list that holds the siblings
        list_key = next((k for k in ("dimensions", "children", "indicators") if isinstance(obj, dict) and k in obj), None)
        line_obj = _At(line_of(obj, list_key) if list_key else line_of(obj))
        if self.points:
            declared = [n.max_points for n in nodes if n.max_points is not None]
            parent_points = parent.max_points
            if parent_points is None:        # top level: dimension points define the total
                if len(declared) != len(nodes):
                    raise self.error(line_obj, f"{where}: in a points framework every dimension needs max_points")
                parent_points = sum(declared)
            free = [n for n in nodes if n.max_points is None]
            rest = parent_points - sum(declared)
            if free:
                if rest <= WEIGHT_TOLERANCE:
                    raise self.error(line_obj, f"{where}: children's max_points leave nothing for {free[0].path}")
                for n in free:
                    n.max_points = rest / len(free)
            elif abs(rest) > WEIGHT_TOLERANCE:
                raise self.error(line_obj, f"{where}: children's max_points sum to {sum(declared):g}, "
                                           f"not the node's {parent_points:g}")
            for n in nodes:
                n.weight = n.max_points / parent_points if parent_points else 1.0 / len(nodes)
            return
        weights = [n.weight for n in nodes]
        if all(w is None for w in weights):
            for n in nodes:
                n.weight = 1.0 / len(nodes)
            return
        if any(w is None for w in weights):
            missing = next(n for n in nodes if n.weight is None)
            raise self.error(line_obj, f"{missing.path}: some siblings have weights and this one has none",
                             hint="give every child of a node a weight, or none (equal weights)")
        total = sum(weights)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise self.error(line_obj, f"{where}: weights of {', '.join(n.code for n in nodes)} sum to {total:.6g}, not 1",
                             hint="local weights must sum to 1 within each parent (tolerance 1e-6)")

    # -- method blocks
    def _normalisation(self, d: dict) -> NormalisationSpec:
        raw = d.get("normalisation", "minmax")
        if isinstance(raw, str):
            raw_d: dict = {"method": raw}
        elif isinstance(raw, dict):
            raw_d = raw
        else:
            raise self.error(d, "normalisation must be a method name or a mapping", "normalisation")
        method = raw_d.get("method", "minmax")
        aliases = {"efficacy_coefficient_60_40": "efficacy_coefficient", "efficacy": "efficacy_coefficient",
                   "min_max": "minmax", "minmax_100": "minmax", "percentile": "rank"}
        method = aliases.get(method, method)
        if method not in NORMALISATIONS:
            raise self.error(raw if isinstance(raw, dict) else d, f"normalisation {method!r} is not one of {list(NORMALISATIONS)}",
                             "method" if isinstance(raw, dict) else "normalisation")
        if "range" in raw_d:
            rng = raw_d["range"]
            if not (isinstance(rng, list) and len(rng) == 2 and rng[0] < rng[1]):
                raise self.error(raw_d, "normalisation range must be [low, high] with low < high", "range")
            rng_t = (float(rng[0]), float(rng[1]))
        elif method == "efficacy_coefficient":
            rng_t = (60.0, 100.0)
        elif self.points or raw_d.get("method") == "minmax_01":
            rng_t = (0.0, 1.0)
        else:
            rng_t = (0.0, 1.0) if d.get("scale") == "0..1" else (0.0, 100.0)
        if self.points:
            rng_t = (0.0, 1.0)   # points frameworks multiply a 0..1 fraction by max_points
        scope = raw_d.get("scope", "panel")
        if scope not in ("panel", "period"):
            raise self.error(raw_d, "normalisation scope must be 'panel' or 'period'", "scope")
        return NormalisationSpec(method, rng_t, scope, bool(raw_d.get("treat_outliers", False)))

    def _missing(self, d: dict) -> MissingRule:
        raw = d.get("missing", {"rule": "reweight"})
        if isinstance(raw, str):
            raw = {"rule": raw}
        rule = raw.get("rule", "reweight")
        if rule not in MISSING_RULES:
            raise self.error(raw, f"missing-data rule {rule!r} is not one of {list(MISSING_RULES)}", "rule")
        cov = raw.get("min_coverage", 0.5)
        if not isinstance(cov, (int, float)) or not 0 <= cov <= 1:
            raise self.error(raw, "min_coverage must be a number in [0, 1]", "min_coverage")
        group_by = raw.get("group_by", "level")
        if group_by not in GROUP_COLUMNS:
            raise self.error(raw, f"group_by must be one of {list(GROUP_COLUMNS)}", "group_by")
        fallback = raw.get("fallback", "reweight")
        if fallback not in ("reweight", "fail"):
            raise self.error(raw, "fallback must be 'reweight' or 'fail'", "fallback")
        return MissingRule(rule, float(cov), group_by, fallback)

    def _tiers(self, d: dict) -> tuple[dict[str, TierScheme], str | None]:
        raw = d.get("tiers")
        if raw is None:
            return {}, None
        if isinstance(raw, list):          # a single unnamed scheme
            raw = {"default": {"levels": raw}}
        schemes: dict[str, TierScheme] = {}
        for name, spec in raw.items():
            if isinstance(spec, list):
                spec_levels, by = spec, None
            else:
                spec_levels, by = spec.get("levels"), spec.get("by")
            if not spec_levels:
                raise self.error(raw, f"tiers.{name}: no levels", name)
            if by is None:
                by = "rank_share" if "top_share" in spec_levels[0] else "score"
            if by not in TIER_KINDS:
                raise self.error(spec, f"tiers.{name}: by must be one of {list(TIER_KINDS)}", "by")
            key = "top_share" if by == "rank_share" else "min"
            levels = []
            for lv in spec_levels:
                if key not in lv or "name_zh" not in lv:
                    raise self.error(lv, f"tiers.{name}: each level needs name_zh and {key}")
                levels.append((str(lv["name_zh"]), float(lv[key])))
            vals = [v for _, v in levels]
            ordered = vals == sorted(vals) if by == "rank_share" else vals == sorted(vals, reverse=True)
            if not ordered or len(set(vals)) != len(vals):
                raise self.error(spec_levels, f"tiers.{name}: levels must be listed best first with strictly "
                                              f"{'increasing top_share' if by == 'rank_share' else 'decreasing min'}")
            if by == "rank_share" and abs(vals[-1] - 1.0) > 1e-9:
                raise self.error(spec_levels, f"tiers.{name}: the last level must have top_share 1.0")
            schemes[str(name)] = TierScheme(str(name), by, tuple(levels))
        default = d.get("default_tiers", next(iter(schemes)))
        if default not in schemes:
            raise self.error(d, f"default_tiers {default!r} is not a tier scheme", "default_tiers")
        return schemes, default

    def _weight_method(self, d: dict) -> str:
        raw = d.get("weights", "expert")
        method = raw.get("method", "expert") if isinstance(raw, dict) else raw
        if method not in WEIGHT_METHODS:
            raise self.error(d, f"weights method {method!r} is not one of {list(WEIGHT_METHODS)}", "weights")
        if isinstance(raw, dict) and raw.get("file"):
            if method != "expert":
                raise self.error(raw, "a weights file only goes with method: expert", "file")
            self.weights_file = str((Path(self.path).parent / str(raw["file"])).resolve())
        return method

    def _uncertainty(self, d: dict) -> UncertaintySpec:
        raw = d.get("uncertainty")
        if not raw:
            return UncertaintySpec()
        base = UncertaintySpec()
        noise = raw.get("weight_noise", base.weight_noise)
        if not isinstance(noise, (int, float)) or not 0 <= noise < 1:
            raise self.error(raw, "uncertainty.weight_noise must be in [0, 1)", "weight_noise")
        norms = tuple(raw.get("normalisations", base.normalisations))
        for n in norms:
            if n != "framework" and n not in NORMALISATIONS:
                raise self.error(raw, f"uncertainty: unknown normalisation {n!r}", "normalisations")
        imps = tuple(raw.get("imputations", base.imputations))
        for m in imps:
            if m != "framework" and m not in MISSING_RULES:
                raise self.error(raw, f"uncertainty: unknown imputation {m!r}", "imputations")
        return UncertaintySpec(float(noise), norms, imps)
