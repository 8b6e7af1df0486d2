"""Composite-index scoring for sgi: frameworks, normalisation, weights, aggregation, tiers, audit and
uncertainty, run as an explicit, logged pipeline (after the JRC COINr package and the OECD/JRC Handbook).

Public entry points (imported lazily, so ``import scoring.framework`` stays light):

* :func:`scoring.pipeline.run_scoring` -> :class:`scoring.pipeline.ScoreResult`
* :func:`scoring.framework.load_framework`, :func:`scoring.framework.shipped_frameworks`
"""

from __future__ import annotations

from typing import Any

__all__ = ["run_scoring", "ScoreResult", "load_framework", "shipped_frameworks", "Framework"]

_EXPORTS = {"run_scoring": "scoring.pipeline", "ScoreResult": "scoring.pipeline",
            "load_framework": "scoring.framework", "shipped_frameworks": "scoring.framework",
            "Framework": "scoring.framework"}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scoring' has no attribute {name!r}")
