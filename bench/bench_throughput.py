"""Pages per minute of the demo crawl (sgi pipeline: parse, rules, WARC, SQLite) against a bare Scrapy
spider fetching the same pages from the same sample web in the same run; reported as a ratio.

Each side runs 3 times, alternating, and the medians are compared (the machine is shared and noisy).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

ROUNDS = 3


def run() -> dict:
    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-bench-") as tmp:
        tmp = Path(tmp)
        with serve_sample_web(tmp / "web") as running:
            settings = running.crawl_settings()
            (tmp / "settings.json").write_text(json.dumps(settings))
            full_rates, bare_rates = [], []
            for i in range(ROUNDS):
                db_url = f"sqlite:///{tmp / f'bench{i}.db'}"
                out = tmp / f"full{i}.json"
                subprocess.run([sys.executable, "-m", "bench.crawl_worker", "full", str(tmp / "settings.json"),
                                db_url, str(out)], check=True, env=_env(tmp / f"warc{i}"))
                full = json.loads(out.read_text())
                full_rates.append(full["responses"] / full["elapsed_s"] * 60)
                if i == 0:
                    with create_engine(db_url).connect() as conn:
                        urls = [r[0] for r in conn.execute(text("SELECT final_url FROM snapshot"))]
                    (tmp / "urls.txt").write_text("\n".join(urls))
                out = tmp / f"bare{i}.json"
                subprocess.run([sys.executable, "-m", "bench.crawl_worker", "bare", str(tmp / "settings.json"),
                                str(tmp / "urls.txt"), str(out)], check=True, env=_env(tmp / f"warc{i}"))
                bare = json.loads(out.read_text())
                bare_rates.append(bare["responses"] / bare["elapsed_s"] * 60)
    ratio = statistics.median(full_rates) / statistics.median(bare_rates)
    return {
        "throughput_ratio_vs_bare_scrapy": {
            "value": round(ratio, 3), "unit": "ratio of pages/min (median of 3)",
            "target": ">= 0.8 (issue 10)", "ok": ratio >= 0.8,
            "detail": {"sgi_pages_per_min": [round(r) for r in full_rates],
                       "bare_pages_per_min": [round(r) for r in bare_rates]},
        }
    }


def _env(warc_dir: Path) -> dict:
    import os

    env = dict(os.environ)
    env["SGI_ARCHIVE_DIR"] = str(warc_dir)
    return env


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
