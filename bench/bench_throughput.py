"""Pages per minute of the demo crawl (sgi pipeline: parse, rules, WARC, SQLite) against bare Scrapy
spiders making the same fetches to the same sample web, reported as a ratio (issue 10: >= 0.8).

What "the same" means here (see bench/crawl_worker.py):
  * the bare side fetches exactly the requests the sgi run made (its snapshot rows: requested URL, in
    fetch order, per spider, retries included), following redirects the same way;
  * pages sgi rendered in Chromium are rendered by the bare side too, with the same launch options and
    page methods (included in both, so the browser's cost is not counted against either side);
  * same concurrency: one bare spider per sgi spider in one process, the same CONCURRENT_REQUESTS,
    per-host limit, robots.txt handling and DNS resolver.
The sgi side also walks the site (a list page must be read before its detail pages are known); the bare
side knows every URL up front. That is part of the pipeline's real cost and stays in the ratio.

Each side runs ROUNDS times (env SGI_BENCH_ROUNDS, default 3), alternating, and the medians are compared
(the machine is shared and noisy).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

ROUNDS = int(os.environ.get("SGI_BENCH_ROUNDS", "3"))
# Politeness waits (429/503 backoff, Retry-After, robots.txt Crawl-delay) are off on both sides: a bare
# Scrapy spider has none, the sample web is ours, and bench_politeness measures them. The sgi side would
# otherwise wait out a backoff on the sample web's always-503 host, which is not pipeline cost.
NO_WAITING = {"SGI_BACKOFF_BASE": 0, "SGI_MAX_RETRY_AFTER": 0, "SGI_MAX_CRAWL_DELAY": 0}


def fetches_of(db_url: str) -> dict[str, list[dict]]:
    """What the sgi run fetched, per spider, in order: requested URL and whether it was rendered."""
    out: dict[str, list[dict]] = {}
    with create_engine(db_url).connect() as conn:
        rows = conn.execute(text("SELECT spider, requested_url, rendered FROM snapshot "
                                 "WHERE requested_url LIKE 'http%' ORDER BY fetched_at"))
        for spider, url, rendered in rows:
            out.setdefault(spider, []).append({"url": url, "render": bool(rendered)})
    return out


def _rate(result: dict) -> float:
    return result["responses"] / result["elapsed_s"] * 60


def run() -> dict:
    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-bench-") as tmp:
        tmp = Path(tmp)
        with serve_sample_web(tmp / "web") as running:
            settings = {**running.crawl_settings(), **NO_WAITING}
            (tmp / "settings.json").write_text(json.dumps(settings))
            full_runs, bare_runs, same_runs = [], [], []
            for i in range(ROUNDS):
                db_url = f"sqlite:///{tmp / f'bench{i}.db'}"
                out = tmp / f"full{i}.json"
                subprocess.run([sys.executable, "-m", "bench.crawl_worker", "full", str(tmp / "settings.json"),
                                db_url, str(out)], check=True, env=_env(tmp / f"warc{i}"))
                full_runs.append(json.loads(out.read_text()))
                if i == 0:
                    (tmp / "fetches.json").write_text(json.dumps(fetches_of(db_url)))
                out = tmp / f"bare{i}.json"
                subprocess.run([sys.executable, "-m", "bench.crawl_worker", "bare", str(tmp / "settings.json"),
                                str(tmp / "fetches.json"), str(out)], check=True, env=_env(tmp / f"warc{i}"))
                bare_runs.append(json.loads(out.read_text()))
                out = tmp / f"same{i}.json"
                subprocess.run([sys.executable, "-m", "bench.crawl_worker", "bare-transport",
                                str(tmp / "settings.json"), str(tmp / "fetches.json"), str(out)], check=True,
                               env=_env(tmp / f"warc{i}"))
                same_runs.append(json.loads(out.read_text()))
                print(f"   round {i + 1}: sgi {_rate(full_runs[-1]):.0f} pages/min "
                      f"({full_runs[-1]['responses']} in {full_runs[-1]['elapsed_s']:.1f} s), bare "
                      f"{_rate(bare_runs[-1]):.0f} pages/min ({bare_runs[-1]['responses']} in "
                      f"{bare_runs[-1]['elapsed_s']:.1f} s), bare with sgi's scheduling "
                      f"{_rate(same_runs[-1]):.0f} pages/min ({same_runs[-1]['responses']} in "
                      f"{same_runs[-1]['elapsed_s']:.1f} s)", flush=True)
    full_rates = [_rate(r) for r in full_runs]
    bare_rates = [_rate(r) for r in bare_runs]
    same_rates = [_rate(r) for r in same_runs]
    ratio = statistics.median(full_rates) / statistics.median(bare_rates)
    strict = statistics.median(full_rates) / statistics.median(same_rates)
    return {
        "throughput_ratio_vs_bare_same_scheduling": {
            "value": round(strict, 3), "unit": f"ratio of pages/min (median of {ROUNDS})",
            "target": ">= 0.8 (issue 10's target, applied to the stricter comparison)", "ok": strict >= 0.8,
            "detail": {"bare_pages_per_min": [round(r) for r in same_rates],
                       "bare_elapsed_s": [round(r["elapsed_s"], 1) for r in same_runs],
                       "bare_responses": [r["responses"] for r in same_runs],
                       "comparison": "as throughput_ratio_vs_bare_scrapy, with sgi's scheduler queue and "
                                     "downloader on the bare side too (spiders/politeness.py): what parsing, "
                                     "rules, WARC and SQLite cost, apart from scheduling"},
        },
        "throughput_ratio_vs_bare_scrapy": {
            "value": round(ratio, 3), "unit": f"ratio of pages/min (median of {ROUNDS})",
            "target": ">= 0.8 (issue 10)", "ok": ratio >= 0.8,
            "detail": {"sgi_pages_per_min": [round(r) for r in full_rates],
                       "bare_pages_per_min": [round(r) for r in bare_rates],
                       "sgi_elapsed_s": [round(r["elapsed_s"], 1) for r in full_runs],
                       "bare_elapsed_s": [round(r["elapsed_s"], 1) for r in bare_runs],
                       "responses": [r["responses"] for r in full_runs],
                       "bare_responses": [r["responses"] for r in bare_runs],
                       "note": "stock Scrapy's scheduler and downloader on the bare side: slower here than "
                               "sgi's (a few hosts' backlogs hold the global limit), hence a ratio above 1; "
                               "throughput_ratio_vs_bare_same_scheduling compares the pipeline alone",
                       "comparison": "same fetches (retries included), rendered pages rendered on both sides, "
                                     "same concurrency, robots.txt and resolver; politeness waits off on both "
                                     "sides (backoff, Retry-After, Crawl-delay)"},
        }
    }


def _env(warc_dir: Path) -> dict:
    env = dict(os.environ)
    env["SGI_ARCHIVE_DIR"] = str(warc_dir)
    return env


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
