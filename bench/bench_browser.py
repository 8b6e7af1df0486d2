"""Browser (issue 10): 500 renders of sample-web pages through our Playwright setup (scrapy-playwright
with the project's settings: one shared Chromium, images / media / fonts aborted, contexts recycled every
SGI_BROWSER_RECYCLE_PAGES renders). Reports rendered pages per minute and the peak RSS of the whole
process tree (the crawl process, the Playwright driver and every Chromium process), sampled every 0.2 s;
target: peak under 1.5 GB.

Summing RSS over processes counts memory they share (Chromium's code, shared memory) once per process,
so the figure is an upper bound of what the tree really uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RENDERS = 500
TARGET_BYTES = 1.5 * 1024 ** 3
SAMPLE_EVERY_S = 0.2


def render_urls(running, count: int = RENDERS) -> list[str]:
    """Plain HTML pages of the sample web (no faults, challenges or redirects), repeated to `count`."""
    urls = []
    for host, site in sorted(running.web.sites.items()):
        if site.js_challenge or site.fault:
            continue
        for path, resource in sorted(site.resources.items()):
            if (resource.content_type.startswith("text/html") and resource.status == 200 and not resource.fault
                    and not resource.redirect_to and not callable(resource.body)):
                urls.append(running.server.url(host, path))
    return [urls[i % len(urls)] for i in range(count)]


def tree_memory(proc, pss: bool = False) -> tuple[int, int]:
    """(summed RSS, or PSS with pss=True, of the process and its descendants; number of processes)."""
    import psutil

    total, procs = 0, [proc, *proc.children(recursive=True)]
    for p in procs:
        try:
            total += p.memory_full_info().pss if pss else p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total, len(procs)


def run() -> dict:
    import psutil

    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-bench-browser-") as tmp:
        tmp = Path(tmp)
        with serve_sample_web(tmp / "web") as running:
            urls = render_urls(running)
            settings = {**running.crawl_settings(), "SGI_ARCHIVE_DIR": str(tmp / "warc")}
            (tmp / "settings.json").write_text(json.dumps(settings))
            (tmp / "urls.txt").write_text("\n".join(urls))
            child = subprocess.Popen([sys.executable, "-m", "bench.politeness_worker", "render",
                                      str(tmp / "settings.json"), str(tmp / "urls.txt"), str(tmp / "out.json")])
            proc = psutil.Process(child.pid)
            peak, peak_pss, peak_procs, samples = 0, 0, 0, 0
            while child.poll() is None:
                rss, procs = tree_memory(proc)
                peak, peak_procs = max(peak, rss), max(peak_procs, procs)
                if samples % 5 == 0:   # PSS (shared pages split between their users) once a second: costlier
                    peak_pss = max(peak_pss, tree_memory(proc, pss=True)[0])
                samples += 1
                time.sleep(SAMPLE_EVERY_S)
            assert child.returncode == 0, f"render worker failed ({child.returncode})"
            out = json.loads((tmp / "out.json").read_text())
    stats = out["stats"]
    rendered = out["rendered"] or 0
    per_min = rendered / out["elapsed_s"] * 60 if out["elapsed_s"] else 0.0
    return {
        "browser_peak_rss_mb": {
            "value": round(peak / 1024 ** 2), "unit": f"MB, peak RSS of the process tree over {RENDERS} renders",
            "target": "< 1536 MB (issue 10)", "ok": peak < TARGET_BYTES and rendered == RENDERS,
            "detail": {"rendered": rendered, "samples": samples, "peak_pss_mb": round(peak_pss / 1024 ** 2),
                       "peak_processes": peak_procs,
                       "recycle_every": settings.get("SGI_BROWSER_RECYCLE_PAGES", 50),
                       "contexts": stats.get("playwright/context_count"),
                       "max_concurrent_contexts": stats.get("playwright/context_count/max_concurrent"),
                       "max_concurrent_pages": stats.get("playwright/page_count/max_concurrent"),
                       "browsers": stats.get("playwright/browser_count"),
                       "aborted_subrequests": stats.get("playwright/request_count/aborted")},
        },
        "browser_renders_per_min": {
            "value": round(per_min, 1), "unit": "rendered pages per minute (crawl time incl. browser start)",
            "target": "reported (issue 10)", "ok": rendered == RENDERS,
            "detail": {"rendered": rendered, "elapsed_s": round(out["elapsed_s"], 1),
                       "crawler_cpu_s": round(out["cpu_s"], 1)},
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
