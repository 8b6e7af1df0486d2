"""Profile one sgi crawl of the sample web (not a benchmark: a tool for finding where the time goes).

  python -m bench.profile_crawl [--out FILE.prof] [--top N] [--incremental]

Starts the sample web in this process and runs a crawl in a subprocess under cProfile, then prints the
top functions by cumulative and internal time. Open FILE.prof with snakeviz/pstats for more.

--incremental: crawl day 1 unprofiled, then profile the next day's crawl with nothing changed (the case
of bench_incremental's speed-up target).
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="where to keep the .prof file")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--incremental", action="store_true", help="profile the next-day crawl")
    args = parser.parse_args(argv)
    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-profile-") as tmp:
        tmp = Path(tmp)
        prof = Path(args.out) if args.out else tmp / "crawl.prof"
        env = dict(os.environ, SGI_ARCHIVE_DIR=str(tmp / "warc"))
        with serve_sample_web(tmp / "web") as running:
            out = tmp / "result.json"
            if args.incremental:
                from bench.bench_incremental import DAY
                from datetime import timedelta

                (tmp / "settings.json").write_text(json.dumps(running.crawl_settings()))
                once = [sys.executable, "-m", "tests.crawl_once", str(tmp / "settings.json"),
                        f"sqlite:///{tmp / 'profile.db'}"]
                subprocess.run(once + ["day1", DAY.isoformat(), "", str(out)], check=True, env=env)
                print("day 1:", out.read_text())
                cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "tests.crawl_once", *once[3:],
                       "day2", (DAY + timedelta(days=1)).isoformat(), "", str(out)]
            else:
                from bench.bench_throughput import NO_WAITING

                (tmp / "settings.json").write_text(json.dumps({**running.crawl_settings(), **NO_WAITING}))
                cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "bench.crawl_worker", "full",
                       str(tmp / "settings.json"), f"sqlite:///{tmp / 'profile.db'}", str(out)]
            subprocess.run(cmd, check=True, env=env)
            print(out.read_text())
        stats = pstats.Stats(str(prof))
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
