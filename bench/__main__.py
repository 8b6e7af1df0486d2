"""Run every bench/bench_*.py (each exposes run() -> {name: {value, unit, target, ok}}) and write
bench/results.json. `python -m bench NAME ...` runs only the named modules."""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if argv:
        modules = [m for m in modules if any(a in m for a in argv)]
    results_path = HERE / "results.json"
    results: dict = {}       # this run's entries; merged into the file as it is when we write
    failed = False
    for name in modules:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            entries = importlib.import_module(f"bench.{name}").run()
        except Exception:
            traceback.print_exc()
            failed = True
            continue
        for key, entry in entries.items():
            entry["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            results[key] = entry
            print(f"   {key}: {entry['value']} {entry['unit']} (target {entry['target']}) "
                  f"{'ok' if entry['ok'] else 'MISSED'}", flush=True)
        print(f"   ({time.monotonic() - started:.1f} s)")
    # Re-read just before writing: another benchmark run may have written its entries meanwhile.
    merged = json.loads(results_path.read_text()) if results_path.exists() else {}
    merged.update(results)
    results_path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {results_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
