"""What every sgi HTML report shares: the Jinja2 environment (autoescape on), plotly.js inline once,
figures as <div>s, JSON that is safe inside <script>, and text safe for Plotly labels.

Crawled text (titles, snippets, city names from a database) is untrusted. Templates print it through
autoescape only; nothing crawled is ever marked safe. The few strings marked safe here are produced by
Plotly (figure JSON it escapes itself) or by :func:`script_json` (escaped for a script context).
"""

from __future__ import annotations

import html
import json
import math
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}
# Script-context escapes: '<' (no </script> or <!--), '>' and '&' (no entities), and the two line
# separators JavaScript source cannot hold in a string literal.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def environment() -> Environment:
    """Templates under sgi/report/templates, every {{ value }} HTML-escaped, unknown names an error."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = fmt_number
    env.filters["pct"] = fmt_share
    env.filters["sort_key"] = sort_key
    return env


@lru_cache(maxsize=1)
def plotly_js() -> Markup:
    """plotly.js itself (a few MB), to inline once per report so it opens offline from disk."""
    from plotly.offline import get_plotlyjs

    # The bundle holds no '</script' today; the replace keeps it so if a future build does (in a string).
    return Markup(get_plotlyjs().replace("</script", "<\\/script"))


def figure_html(fig, div_id: str) -> Markup:
    """A Plotly figure as a <div> plus the script that draws it (plotly.js must already be loaded).
    Plotly writes its JSON with '<' and '/' escaped, so labels cannot close the script."""
    import plotly.io as pio

    fig.update_layout(template="plotly_white",
                      font=dict(family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"))
    if fig.layout.margin.t is None:      # a figure with a legend on top asks for more room itself
        fig.update_layout(margin=dict(l=60, r=20, t=50, b=60))
    return Markup(pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG))


def script_json(obj: Any) -> Markup:
    """JSON for a <script> block: json.dumps with every character that could end or confuse the
    script context escaped as \\uXXXX (the data stays the same for JSON.parse / JS)."""
    text = json.dumps(obj, ensure_ascii=False, default=str, allow_nan=False)
    for char, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return Markup(text)


def plot_text(value: Any) -> str:
    """Text for Plotly labels and hovers: Plotly reads a small HTML subset (<b>, <a href>, <br>) in
    strings, so untrusted text is entity-escaped (Plotly shows the entities as the original characters)."""
    return html.escape("" if value is None else str(value), quote=True)


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows for a template, with every missing cell (NaN, NA, NaT) as None so `is none` tests hold."""
    return [{k: (None if is_missing(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def fmt_number(value: Any, digits: int = 1) -> str:
    """Numbers for people: fixed decimals; missing is an em dash, never 0."""
    if is_missing(value):
        return "—"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def fmt_share(value: Any, digits: int = 0) -> str:
    return "—" if is_missing(value) else f"{100 * float(value):.{digits}f}%"


def sort_key(value: Any) -> str:
    """The data-sort attribute of a table cell: a plain number for numbers, '' for missing (sorted last)."""
    if is_missing(value):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    return str(value)


def generated_at() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def write_html(path: str | Path, content: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path
