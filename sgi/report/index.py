"""`sgi report`: one self-contained HTML file over all cities, for the index team.

Ranking (sortable), tier counts, score distribution, regional and administrative-level comparison,
the top cities' stacked sub-scores, dimension correlations, data coverage per indicator, crawl health
per city and the auditors' active overrides. Scores come from :func:`scoring.run.score_database` with
``write_db=False`` (overrides applied, nothing written); plotly.js is inlined once, so the file works
opened from disk without the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from sqlalchemy import text

from scoring.framework import ROOT, Framework
from sgi.cities import LEVELS, REGIONS
from sgi.errors import SgiError
from sgi.report.common import (environment, figure_html, generated_at, is_missing, plot_text, plotly_js, records,
                               write_html)

OBSERVATION_STATUSES = ["ok", "absent", "blocked", "error", "not_applicable", "missing"]
STATUS_COLOURS = {"ok": "#2e7d32", "absent": "#9e9e9e", "blocked": "#c62828", "error": "#ef6c00",
                  "not_applicable": "#90caf9", "missing": "#eeeeee", "not_found": "#8d6e63",
                  "robots_denied": "#6a1b9a", "not_modified": "#66bb6a", "reused": "#a5d6a7"}
FETCH_STATUSES = ["ok", "not_modified", "reused", "not_found", "robots_denied", "blocked", "error"]
DIMENSION_COLOURS = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f"]


@dataclass
class IndexData:
    """Everything the template shows, computed once from the database."""

    framework: Framework
    period: str
    ranking: pd.DataFrame                  # one row per evaluated city, best first, unscored last
    dimensions: list[tuple[str, str]]      # (code, name_zh) of the index's top-level nodes
    node_scores: pd.DataFrame              # city x node path, values of the period
    coverage: pd.DataFrame                 # indicator rows, status shares
    health: pd.DataFrame                   # city rows, fetch-status shares of the latest run
    overrides: pd.DataFrame                # the auditors' active overrides
    database: str
    extra: dict = field(default_factory=dict)


# --- data -------------------------------------------------------------------------------------------
def collect(db_url: str, framework: str = "sgi-default") -> IndexData:
    from scoring.run import score_database
    from storage import db
    from storage.exports import observations_frame
    from storage.overrides import active_overrides

    result = score_database(db_url, framework=framework, write_db=False)
    if result is None:
        raise SgiError(f"no observations for any indicator of framework {framework}",
                       "crawl first (`sgi crawl` or `sgi demo`) or import tables (`sgi import`)")
    engine = db.ensure_schema(db_url)
    with engine.connect() as conn:
        cities = pd.read_sql(text("SELECT code, name, province, region, level FROM city"), conn)
    fw = result.framework
    period = report_period(result.scores)
    scores = result.scores[result.scores["period"] == period]
    dimensions = [(n.code, n.name_zh) for n in fw.root.children]
    overrides = active_overrides(db_url)
    ranking = ranking_frame(scores, cities, [c for c, _ in dimensions], overrides)
    node_scores = scores.pivot_table(index="city_code", columns="node", values="value", aggfunc="first")
    obs = observations_frame(db_url)
    coverage = coverage_frame(obs, fw.indicator_codes(), ranking["city_code"].tolist())
    health = crawl_health_frame(db_url, cities)
    return IndexData(framework=fw, period=period, ranking=ranking, dimensions=dimensions, node_scores=node_scores,
                     coverage=coverage, health=health, overrides=overrides, database=_database_label(db_url))


def report_period(scores: pd.DataFrame) -> str:
    """The latest period in which at least one city has an index score (else the latest period)."""
    totals = scores[(scores["node"] == ROOT) & scores["value"].notna()]
    periods = totals["period"] if not totals.empty else scores["period"]
    return str(max(periods.astype(str)))


def ranking_frame(scores: pd.DataFrame, cities: pd.DataFrame, dimension_codes: list[str],
                  overrides: pd.DataFrame) -> pd.DataFrame:
    """One row per evaluated city: rank, names, region, level, index, dimension scores, tier, coverage,
    active overrides. Cities without an index score (too little data) stay in, ranked last, score empty."""
    total = scores[scores["node"] == ROOT].set_index("city_code")
    frame = pd.DataFrame({"city_code": total.index.astype(str)})
    frame["rank"] = total["rank"].to_numpy(dtype=float)
    frame["total"] = total["value"].to_numpy(dtype=float)
    frame["tier"] = [None if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in total["tier"]]
    frame["coverage"] = total["coverage"].to_numpy(dtype=float)
    for code in dimension_codes:
        part = scores[scores["node"] == code].set_index("city_code")
        frame[code] = frame["city_code"].map(part["value"]).astype(float)
        frame[f"{code}_contribution"] = frame["city_code"].map(part["contribution"]).astype(float)
    info = cities.assign(code=cities["code"].astype(str)).set_index("code")
    for col in ("name", "province", "region", "level"):
        frame[col] = [info[col].get(c) if c in info.index else None for c in frame["city_code"]]
    frame["name"] = [n or c for n, c in zip(frame["name"], frame["city_code"])]
    counts = overrides["city_code"].value_counts() if not overrides.empty else pd.Series(dtype=int)
    frame["overrides"] = [int(counts.get(c, 0)) for c in frame["city_code"]]
    frame["_unscored"] = frame["total"].isna()
    frame = frame.sort_values(["_unscored", "rank", "city_code"]).drop(columns="_unscored")
    return frame.reset_index(drop=True)


def tier_counts(ranking: pd.DataFrame, framework: Framework) -> list[tuple[str, int]]:
    """(tier, number of cities) in the scheme's order, best first; then the cities without a score."""
    scheme = framework.tier_scheme()
    names = [name for name, _ in scheme.levels] if scheme else sorted(ranking["tier"].dropna().unique())
    counts = ranking["tier"].value_counts()
    rows = [(name, int(counts.get(name, 0))) for name in names]
    unscored = int(ranking["total"].isna().sum())
    if unscored:
        rows.append(("未评分 (not scored)", unscored))
    return rows


def coverage_frame(obs: pd.DataFrame, codes: list[str], city_codes: list[str]) -> pd.DataFrame:
    """Per indicator of the framework: share of the evaluated cities whose latest (effective) value is
    ok / absent / blocked / error / not_applicable, or that have no observation at all (missing)."""
    latest = obs[obs["indicator"].isin(codes) & obs["city_code"].isin(city_codes)]
    latest = latest.sort_values("period").drop_duplicates(["city_code", "indicator"], keep="last")
    grid = pd.MultiIndex.from_product([codes, city_codes], names=["indicator", "city_code"])
    status = latest.set_index(["indicator", "city_code"])["status"].reindex(grid).fillna("missing")
    counts = status.groupby(level="indicator").value_counts().unstack(fill_value=0)
    counts = counts.reindex(index=codes, columns=OBSERVATION_STATUSES, fill_value=0)
    shares = counts.div(max(len(city_codes), 1))
    from sgi import indicators as registry

    reg = registry.registry()
    shares.insert(0, "name_zh", [reg[c].name_zh if c in reg else c for c in codes])
    return shares.reset_index()


def crawl_health_frame(db_url: str, cities: pd.DataFrame) -> pd.DataFrame:
    """Per city, the latest crawl run that fetched anything for it: how many fetches, and the share of
    each fetch status (blocked / error are what make values missing), with one failed URL as example."""
    from storage import db

    sql = """
        SELECT s.city_code, s.run_id, r.run_key, s.fetch_status, s.final_url, s.error, s.http_status
        FROM snapshot s JOIN crawl_run r ON r.id = s.run_id
        WHERE s.city_code IS NOT NULL
          AND s.run_id = (SELECT max(s2.run_id) FROM snapshot s2 WHERE s2.city_code = s.city_code)
    """
    with db.get_engine(db_url).connect() as conn:
        snaps = pd.read_sql(text(sql), conn)
    columns = ["city_code", "name", "run_key", "fetches", *FETCH_STATUSES, "example_url", "example_problem"]
    if snaps.empty:
        return pd.DataFrame(columns=columns)
    names = cities.assign(code=cities["code"].astype(str)).set_index("code")["name"]
    rows = []
    for code, part in snaps.groupby("city_code", sort=True):
        shares = part["fetch_status"].value_counts(normalize=True)
        failed = part[part["fetch_status"].isin(["blocked", "error"])]
        example = failed.iloc[0] if not failed.empty else None
        row = {"city_code": code, "name": names.get(code, code), "run_key": part["run_key"].iloc[0],
               "fetches": len(part), **{s: float(shares.get(s, 0.0)) for s in FETCH_STATUSES},
               "example_url": None if example is None else example["final_url"],
               "example_problem": None if example is None else _problem(example)}
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _problem(snap) -> str:
    status = f"HTTP {int(snap['http_status'])} " if pd.notna(snap["http_status"]) else ""
    error = "" if is_missing(snap["error"]) else str(snap["error"])
    return f"{snap['fetch_status']}: {status}{error}".strip()


def _database_label(db_url: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    return url.database if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=True)


# --- figures ----------------------------------------------------------------------------------------
def _labels(frame: pd.DataFrame) -> list[str]:
    return [plot_text(n) for n in frame["name"]]


def fig_distribution(ranking: pd.DataFrame):
    scored = ranking[ranking["total"].notna()]
    fig = px.histogram(x=scored["total"], nbins=20, marginal="box", hover_name=_labels(scored),
                       labels={"x": "指数得分 index score"}, color_discrete_sequence=["#1565c0"])
    fig.update_layout(title="得分分布 Score distribution", yaxis_title="城市数 cities", bargap=0.05)
    return fig


def fig_tiers(counts: list[tuple[str, int]]):
    fig = go.Figure(go.Bar(x=[plot_text(n) for n, _ in counts], y=[c for _, c in counts], marker_color="#1565c0",
                           text=[c for _, c in counts], textposition="outside"))
    fig.update_layout(title="分级 Tier counts", yaxis_title="城市数 cities")
    return fig


def fig_groups(ranking: pd.DataFrame, column: str, order: tuple[str, ...], title: str):
    """Box plot (all points shown, hover names) of index scores by region or administrative level."""
    scored = ranking[ranking["total"].notna()]
    fig = go.Figure()
    for group in [g for g in order if g in set(scored[column])]:
        part = scored[scored[column] == group]
        fig.add_trace(go.Box(y=part["total"], name=f"{group} ({len(part)})", boxpoints="all", jitter=0.4,
                             pointpos=0, boxmean=True, text=_labels(part),
                             hovertemplate="%{text}: %{y:.1f}<extra></extra>"))
    fig.update_layout(title=title, yaxis_title="指数得分 index score", showlegend=False)
    return fig


def fig_top_stacked(ranking: pd.DataFrame, dimensions: list[tuple[str, str]], top_n: int):
    """The top cities' index as stacked contributions of the dimensions (like the published figures):
    each segment is the dimension's score times its weight in the index, so the bar is the index."""
    top = ranking[ranking["total"].notna()].head(top_n)
    fig = go.Figure()
    for i, (code, name) in enumerate(dimensions):
        fig.add_trace(go.Bar(x=_labels(top), y=top[f"{code}_contribution"], name=f"{name} {code}",
                             marker_color=DIMENSION_COLOURS[i % len(DIMENSION_COLOURS)],
                             customdata=np.stack([top[code].to_numpy(float)], axis=-1),
                             hovertemplate=f"%{{x}}<br>{name}: %{{customdata[0]:.1f}} "
                                           "(adds %{y:.1f})<extra></extra>"))
    fig.add_trace(go.Scatter(x=_labels(top), y=top["total"], mode="text", text=[f"{v:.1f}" for v in top["total"]],
                             textposition="top center", showlegend=False, hoverinfo="skip"))
    fig.update_layout(title=f"前{len(top)}名城市及分项得分 Top {len(top)} cities, stacked sub-scores",
                      barmode="stack", yaxis_title="对指数的贡献 contribution to the index",
                      legend=dict(orientation="h", y=-0.25))
    return fig


def fig_correlation(node_scores: pd.DataFrame, framework: Framework):
    """Pearson correlations between the index and its dimensions / sub-dimensions across cities."""
    paths = [n.path for n in framework.nodes() if not n.is_indicator and n.path in node_scores.columns]
    corr = node_scores[paths].astype(float).corr(min_periods=3)
    labels = [plot_text("指数 index" if p == ROOT else f"{framework.node(p).name_zh}") for p in paths]
    z = corr.to_numpy()
    text_cells = [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=np.where(np.isnan(z), None, z).tolist(), x=labels, y=labels, zmin=-1, zmax=1,
                               colorscale="RdBu", reversescale=True, text=text_cells, texttemplate="%{text}",
                               hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(title="维度相关性 Dimension correlations (Pearson, across cities)",
                      height=max(420, 36 * len(paths) + 160), yaxis_autorange="reversed")
    return fig


def fig_coverage(coverage: pd.DataFrame):
    labels = [plot_text(f"{n} ({c})") for n, c in zip(coverage["name_zh"], coverage["indicator"])]
    fig = go.Figure()
    for status in OBSERVATION_STATUSES:
        fig.add_trace(go.Bar(y=labels, x=coverage[status], name=status, orientation="h",
                             marker_color=STATUS_COLOURS[status],
                             hovertemplate="%{y}: %{x:.0%} " + status + "<extra></extra>"))
    fig.update_layout(title="指标数据覆盖 Data coverage per indicator (share of cities)", barmode="stack",
                      xaxis=dict(tickformat=".0%", range=[0, 1]), height=max(420, 18 * len(labels) + 160),
                      yaxis_autorange="reversed", legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"), margin=dict(t=110))
    return fig


def fig_health(health: pd.DataFrame):
    labels = [plot_text(n) for n in health["name"]]
    fig = go.Figure()
    for status in FETCH_STATUSES:
        if health[status].sum() == 0:
            continue
        fig.add_trace(go.Bar(y=labels, x=health[status], name=status, orientation="h",
                             marker_color=STATUS_COLOURS[status],
                             hovertemplate="%{y}: %{x:.0%} " + status + "<extra></extra>"))
    fig.update_layout(title="采集健康 Crawl health: fetch outcomes per city (latest run)", barmode="stack",
                      xaxis=dict(tickformat=".0%", range=[0, 1]), height=max(360, 26 * len(labels) + 160),
                      yaxis_autorange="reversed", legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"), margin=dict(t=110))
    return fig


# --- rendering --------------------------------------------------------------------------------------
def render(data: IndexData, top_n: int = 20) -> str:
    counts = tier_counts(data.ranking, data.framework)
    figures = {
        "distribution": fig_distribution(data.ranking),
        "tiers": fig_tiers(counts),
        "regions": fig_groups(data.ranking, "region", REGIONS, "区域比较 Regions (东部 / 中部 / 西部 / 东北)"),
        "levels": fig_groups(data.ranking, "level", LEVELS, "行政级别比较 Administrative level"),
        "top": fig_top_stacked(data.ranking, data.dimensions, top_n),
        "correlation": fig_correlation(data.node_scores, data.framework),
        "coverage": fig_coverage(data.coverage),
    }
    if not data.health.empty:
        figures["health"] = fig_health(data.health)
    charts = {name: figure_html(fig, f"fig-{name}") for name, fig in figures.items()}
    scored = data.ranking[data.ranking["total"].notna()]
    template = environment().get_template("index.html.j2")
    return template.render(
        fw=data.framework, period=data.period, ranking=records(data.ranking),
        dimensions=data.dimensions, tiers=counts, charts=charts, plotly_js=plotly_js(),
        coverage=records(data.coverage), statuses=OBSERVATION_STATUSES,
        health=records(data.health), fetch_statuses=FETCH_STATUSES,
        overrides=records(data.overrides), database=data.database, generated=generated_at(),
        n_cities=len(data.ranking), n_scored=len(scored),
        mean=scored["total"].mean() if len(scored) else None, median=scored["total"].median() if len(scored) else None,
    )


def build_index_report(db_url: str, output: str | Path, framework: str = "sgi-default", top_n: int = 20) -> Path:
    """Score the database (overrides applied, nothing written) and write the HTML report."""
    return write_html(output, render(collect(db_url, framework), top_n=top_n))
