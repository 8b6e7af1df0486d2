"""Profile one sgi crawl of the sample web (not a benchmark: a tool for finding where the time goes).

  python -m bench.profile_crawl [--bare] [--out FILE.prof] [--spider NAME ...]

Starts the sample web in this process, runs bench.crawl_worker in a subprocess under cProfile and prints
the top functions by cumulative and internal time. Open FILE.prof with snakeviz/pstats for more.
"""

from __future__ import annotations

import argparse
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None, help="where to keep the .prof file")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-profile-") as tmp:
        tmp = Path(tmp)
        prof = Path(args.out) if args.out else tmp / "crawl.prof"
        with serve_sample_web(tmp / "web") as running:
            from bench.bench_throughput import NO_WAITING

            (tmp / "settings.json").write_text(json.dumps({**running.crawl_settings(), **NO_WAITING}))
            out = tmp / "result.json"
            env_cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "bench.crawl_worker", "full",
                       str(tmp / "settings.json"), f"sqlite:///{tmp / 'profile.db'}", str(out)]
            import os
            env = dict(os.environ, SGI_ARCHIVE_DIR=str(tmp / "warc"))
            subprocess.run(env_cmd, check=True, env=env)
            print(out.read_text())
        stats = pstats.Stats(str(prof))
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
