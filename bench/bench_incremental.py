"""Incremental crawling on the sample web (issue 10): a second crawl with nothing changed against the
first (bytes the server sent, crawl time proper), and with 5% of pages changed, how many changes the
next crawl reads. One sample web serves all crawls (replayed bodies name its ports); each crawl runs in
its own process (tests/crawl_once.py).

Crawl dates: day 1, then day 2 (list pages due, leaf pages not: the revisit policy), then day 3 after
the change, when the changed pages that are due are revisited; changes to leaf pages wait for their
revisit date, so pickup is reported over the pages due on day 3 and, by a crawl on the date every
changed page is due, over all of them.

The nothing-changed next-day pair is also run against sites that take time to answer
(incremental_speedup_with_latency, LATENCY_MS): on the plain sample web every answer comes at once, so
both crawls are bound by the crawler's own CPU on this machine. And it is run with the politeness a
nightly crawl ships with (incremental_speedup_shipped_politeness: the sample web's settings turn the
download delay and AutoThrottle off), where a crawl's time is set by the requests asked of its busiest host.

Where the second crawl's time goes is reported with it (per spider: pages by fetch status, fresh browser
renders, when its first and last answers came; the longest request chains on one host; CPU seconds of
the crawl process and the machine's load, since a CPU-bound crawl on a shared machine is slowed by it).
A same-day rerun (nothing due: every page answered from the archive) is a separate, labelled entry: it
is not the "nothing changed, next day" case of the target.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

DAY = date(2026, 6, 30)
CHANGED_SHARE = 0.05
# The same two crawls against a sample web whose sites take time to answer, as government sites do
# (a median of this many ms per answer, differing by site: sgi.sampleweb.server.ResponseLatency).
LATENCY_MS = 120

# What the measurements of 2026-11-22 showed (see the per-spider and chain figures next to them).
BYTES_WHY = ("What the second crawl still moves: the first page of each list API that cannot be asked "
             "conditionally (POST list APIs; CKAN's package_search, which sends no validators), due daily "
             "because new items appear there; the later pages of a list come from the archive while its "
             "first page is unchanged (role more_pages). Pages with validators cost a 304; leaf pages are "
             "not asked at all.")
SPEED_WHY = ("Both crawls are CPU-bound in one Python thread (cpu_*_s: the crawl process and its browser; "
             "load_1min: the machine is shared). The second crawl answers the ~1,000 pages not due from "
             "the archive (spiders/incremental.py: no request sent) and still reads each of them through "
             "Scrapy's downloader and the page rules, recording its snapshot, journal and observation rows "
             "as evidence of this run (the inline answers and the page-rule memo that skipped part of this "
             "work went in issue 21: with the shipped politeness they saved < 20 % of the next-day crawl). "
             "The same-day rerun (incremental_same_day_rerun: "
             "nothing due; robots.txt, 404s and server errors are still asked) is that floor. On top of it "
             "the next-day crawl sends ~165 requests that are due: conditional GETs of home, column and list "
             "pages (304s), list APIs that cannot be asked conditionally, the list pages whose rows re-check "
             "unreplied messages (second_crawl_chains), and the renders due daily (two single-page shells, a "
             "JS challenge, app-store pages; fresh_renders_at_s: the browser starts with the crawl). CPU cuts "
             "that are not particular to incremental crawls (garbage collector, log records, upserts) speed "
             "the first crawl as much, which holds the ratio. incremental_speedup_with_latency: the same pair "
             "against sites that take time to answer; incremental_speedup_shipped_politeness: with the download delay "
             "and AutoThrottle a nightly crawl ships with.")


def _crawl(tmp: Path, key: str, as_of: date) -> dict:
    out = tmp / f"{key}.json"
    cpu_before, load_before = _children_cpu_s(), os.getloadavg()[0]
    subprocess.run([sys.executable, "-m", "tests.crawl_once", str(tmp / "settings.json"), f"sqlite:///{tmp / 'b.db'}",
                    key, as_of.isoformat(), "", str(out)], check=True, capture_output=True,
                   env={**os.environ, "SGI_ARCHIVE_DIR": str(tmp / "warc")})
    result = json.loads(out.read_text())
    # CPU of the crawl process and its children (Playwright driver, Chromium), start-up included.
    result["cpu_s"] = round(_children_cpu_s() - cpu_before, 1)
    result["load_1min"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    return result


def _next_day_pair(tmp: Path, running, settings: dict) -> tuple[dict, dict, list, list]:
    """Day 1, then the next day with nothing changed, against a running sample web: both crawls' results
    and the requests the sample web logged during each."""
    (tmp / "settings.json").write_text(json.dumps(settings))
    log = running.server.log
    m0 = len(log)
    first = _crawl(tmp, "day1", DAY)
    m1 = len(log)
    second = _crawl(tmp, "day2", DAY + timedelta(days=1))
    return first, second, log[m0:m1], log[m1:]


def _children_cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


FROM_ARCHIVE = ("reused", "not_modified")


def _where_time_went(con, run_key: str) -> dict:
    """Per spider of one run: pages by fetch status, fresh browser renders, and when (seconds after the
    run started) its first and last answers were recorded; the fresh renders' times."""
    started = con.execute("SELECT started_at FROM crawl_run WHERE run_key = ?", (run_key,)).fetchone()[0]
    t0 = datetime.fromisoformat(str(started))
    spiders: dict = {}
    renders = []
    for spider, status, rendered, fetched_at, url in con.execute(
            "SELECT s.spider, s.fetch_status, s.rendered, s.fetched_at, s.requested_url FROM snapshot s "
            "JOIN crawl_run r ON r.id = s.run_id WHERE r.run_key = ?", (run_key,)):
        at = (datetime.fromisoformat(str(fetched_at)).replace(tzinfo=None) - t0.replace(tzinfo=None)).total_seconds()
        entry = spiders.setdefault(spider, {"pages": {}, "fresh_renders": 0, "first_answer_s": at, "last_answer_s": at})
        entry["pages"][status] = entry["pages"].get(status, 0) + 1
        entry["first_answer_s"] = min(entry["first_answer_s"], at)
        entry["last_answer_s"] = max(entry["last_answer_s"], at)
        if rendered and status not in FROM_ARCHIVE:
            entry["fresh_renders"] += 1
            renders.append((round(at, 1), spider, url.split("//", 1)[-1][:80]))
    for entry in spiders.values():
        entry["first_answer_s"] = round(entry["first_answer_s"], 1)
        entry["last_answer_s"] = round(entry["last_answer_s"], 1)
    return {"spiders": spiders, "fresh_renders_at_s": sorted(renders)}


def _chains(entries, n: int = 5) -> list:
    """The most requests to one host and path (pagination, one request after the other), with the
    seconds from the first request to the last answer."""
    groups: dict = {}
    for r in entries:
        groups.setdefault((r.host, r.method, r.path.split("?")[0]), []).append(r)
    out = []
    for (host, method, path), rs in groups.items():
        span = max(r.at for r in rs) - min(r.started or r.at for r in rs)
        out.append({"where": f"{method} {host}{path}", "requests": len(rs), "span_s": round(span, 1),
                    "conditional": sum(r.conditional for r in rs), "bytes": sum(r.bytes_sent for r in rs)})
    return sorted(out, key=lambda c: -c["requests"])[:n]


def _received(entries) -> int:
    """Body bytes the crawler took in. The sample web logs what it set out to send; a policy attachment
    over the crawler's size cap is cancelled on its Content-Length header, so it counts 0."""
    from sgi.sampleweb.policy import ATTACHMENT_CAP_BYTES

    return sum(r.bytes_sent for r in entries if r.bytes_sent <= ATTACHMENT_CAP_BYTES)


def _heaviest(entries, n: int = 8) -> list:
    from collections import Counter

    by_path = Counter()
    for r in entries:
        by_path[f"{r.host}{r.path.split('?')[0]} {r.status}"] += r.bytes_sent
    return by_path.most_common(n)


def run() -> dict:
    from sgi.sampleweb.mutate import changeable_pages, mutate_fraction
    from sgi.sampleweb.runner import serve_sample_web
    from storage.frontier import KnownUrl, crawl_clock
    from storage.store import page_identity

    with tempfile.TemporaryDirectory(prefix="sgi-bench-inc-") as tmp:
        tmp = Path(tmp)
        with serve_sample_web(tmp / "web") as running:
            first, second, log1, log2 = _next_day_pair(tmp, running, running.crawl_settings())
            log = running.server.log
            m2 = len(log)
            bytes1, bytes2 = _received(log1), _received(log2)
            heaviest = _heaviest(log2)
            chains2 = _chains(log2)
            # Same day again: nothing is due, every page comes from the archive (a separate entry).
            again = _crawl(tmp, "day2-again", DAY + timedelta(days=1))
            m3 = len(log)
            bytes_again = _received(log[m2:m3])
            con = sqlite3.connect(tmp / "b.db")
            time_first, time_second, time_again = (_where_time_went(con, k) for k in ("day1", "day2", "day2-again"))
            fetched = {page_identity(u) for (u,) in con.execute(
                "SELECT requested_url FROM snapshot WHERE fetch_status = 'ok' AND http_status = 200")}
            pages = [p for p in changeable_pages(running.web)
                     if f"http://{p[0]}{p[1]}" in fetched or f"https://{p[0]}{p[1]}" in fetched]
            changed = mutate_fraction(running.web, CHANGED_SHARE, seed=20260630, among=pages)
            due_day3 = crawl_clock(DAY + timedelta(days=2))
            states = {k: KnownUrl({"next_due_at": datetime.fromisoformat(d)}, None).due(due_day3)
                      for k, d in con.execute("SELECT url_key, next_due_at FROM url_state")}
            third = _crawl(tmp, "day3", DAY + timedelta(days=2))
            # Later, when every changed page is due (leaf pages wait for their revisit date): read?
            later_day = max([datetime.fromisoformat(d).date() for k, d in con.execute(
                "SELECT url_key, next_due_at FROM url_state") if any(
                    k in (f"http://{h}{p}", f"https://{h}{p}") for h, p in changed)] + [DAY + timedelta(days=3)])
            later = _crawl(tmp, "later", later_day)
            latest = {page_identity(u): d for u, d in con.execute(
                "SELECT s.requested_url, s.digest FROM snapshot s JOIN crawl_run r ON r.id = s.run_id "
                "WHERE r.run_key = 'later' AND s.digest IS NOT NULL")}
            before = {page_identity(u): d for u, d in con.execute(
                "SELECT s.requested_url, s.digest FROM snapshot s JOIN crawl_run r ON r.id = s.run_id "
                "WHERE r.run_key = 'day1' AND s.fetch_status = 'ok'")}
            after = {page_identity(u): (st, d) for u, st, d in con.execute(
                "SELECT s.requested_url, s.fetch_status, s.digest FROM snapshot s JOIN crawl_run r "
                "ON r.id = s.run_id WHERE r.run_key = 'day3'")}
            con.close()
    picked, due, picked_due, picked_later = 0, 0, 0, 0
    for host, path in changed:
        key = next((k for k in (f"http://{host}{path}", f"https://{host}{path}") if k in before), None)
        picked_later += bool(key and latest.get(key) and latest[key] != before[key])
        is_due = any(states.get(k, True) for k in (f"http://{host}{path}", f"https://{host}{path}") if k in states)
        got = after.get(key)
        hit = bool(got and got[0] == "ok" and got[1] != before[key])
        picked += hit
        due += is_due
        picked_due += hit and is_due
    byte_ratio = bytes2 / bytes1
    time_ratio = first["elapsed_s"] / max(second["elapsed_s"], 1e-9)
    return {
        "incremental_bytes_ratio": {
            "value": round(byte_ratio, 3), "unit": "bytes sent, 2nd crawl / 1st (nothing changed, next day)",
            "target": "<= 0.10 (issue 10)", "ok": byte_ratio <= 0.10,
            "detail": {"bytes_first": bytes1, "bytes_second": bytes2, "requests_first": len(log1),
                       "requests_second": len(log2), "heaviest_second": heaviest,
                       "note": "answers over the 10 MB attachment cap count 0 body bytes: the crawler "
                               "cancels them on their Content-Length header",
                       "why": BYTES_WHY},
        },
        "incremental_speedup": {
            "value": round(time_ratio, 2), "unit": "crawl time 1st / 2nd (nothing changed, next day)",
            "target": "none: context (no download delay, so CPU-bound on loopback); issue 10's target is incremental_speedup_shipped_politeness", "ok": True,
            "detail": {"elapsed_first_s": round(first["elapsed_s"], 1), "elapsed_second_s": round(second["elapsed_s"], 1),
                       "elapsed_third_s": round(third["elapsed_s"], 1),
                       "cpu_first_s": first["cpu_s"], "cpu_second_s": second["cpu_s"],
                       "load_1min_first": first["load_1min"], "load_1min_second": second["load_1min"],
                       "reused_second": second.get("reused"),
                       "first_crawl": time_first, "second_crawl": time_second, "second_crawl_chains": chains2,
                       "why": SPEED_WHY},
        },
        "incremental_same_day_rerun": {
            "value": round(first["elapsed_s"] / max(again["elapsed_s"], 1e-9), 2),
            "unit": "crawl time 1st / a rerun on the 2nd crawl's date (nothing due: all from the archive)",
            "target": "none (context for incremental_speedup; not the issue's next-day case)", "ok": True,
            "detail": {"elapsed_s": round(again["elapsed_s"], 1), "cpu_s": again["cpu_s"],
                       "load_1min": again["load_1min"], "bytes": bytes_again, "requests": m3 - m2,
                       "bytes_ratio": round(bytes_again / bytes1, 3), "crawl": time_again},
        },
        "incremental_changes_picked_up": {
            "value": f"{picked_due}/{due}; {picked_later}/{len(changed)} once due",
            "unit": "changed pages due for a revisit that the next crawl read; all changed pages read by the "
                    "crawl on the date every one of them is due",
            "target": "all (issue 10)", "ok": due > 0 and picked_due == due and picked_later == len(changed),
            "detail": {"changed_pages": len(changed), "changeable_pages": len(pages), "picked_up_total": picked,
                       "not_due_yet": len(changed) - due,
                       "picked_up_once_due": f"{picked_later}/{len(changed)}",
                       "once_due_crawl_date": later_day.isoformat(), "once_due_elapsed_s": round(later["elapsed_s"], 1),
                       "note": "pages not due yet on the next crawl (leaf pages on longer intervals) are read on "
                               "their revisit date: the crawl of once_due_crawl_date read every change"},
        },
        **_with_latency(),
        **_with_shipped_politeness(),
    }


def _with_latency() -> dict:
    """The nothing-changed next-day case against sites that take LATENCY_MS to answer."""
    from sgi.sampleweb.runner import serve_sample_web

    with tempfile.TemporaryDirectory(prefix="sgi-bench-inc-lat-") as tmp:
        tmp = Path(tmp)
        with serve_sample_web(tmp / "web", latency_ms=LATENCY_MS) as running:
            first, second, _, _ = _next_day_pair(tmp, running, running.crawl_settings())
    ratio = first["elapsed_s"] / max(second["elapsed_s"], 1e-9)
    return {"incremental_speedup_with_latency": {
        "value": round(ratio, 2),
        "unit": f"crawl time 1st / 2nd (nothing changed, next day), sites answering in ~{LATENCY_MS} ms",
        "target": "none: context (no download delay, so CPU-bound on loopback); issue 10's target is incremental_speedup_shipped_politeness", "ok": True,
        "detail": {"elapsed_first_s": round(first["elapsed_s"], 1), "elapsed_second_s": round(second["elapsed_s"], 1),
                   "requests_first": first["requests"], "requests_second": second["requests"],
                   "cpu_first_s": first["cpu_s"], "cpu_second_s": second["cpu_s"],
                   "latency": f"median {LATENCY_MS} ms per answer, per site x0.2-5 (log-normal), per answer "
                              "+-30%; per-host concurrency as in the other entries (the sample web's crawl "
                              "settings), no download delay"},
    }}


# The sample web's crawl settings turn the politeness a nightly crawl ships with off (its sites are our
# own loopback server); these are the ones they override.
POLITENESS_OVERRIDES = ("DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED", "CONCURRENT_REQUESTS_PER_DOMAIN")


def _with_shipped_politeness() -> dict:
    """The nothing-changed next-day case with the politeness a nightly crawl runs with (spiders/settings.py:
    a download delay per host with jitter, AutoThrottle, at most 2 requests per host in flight), so the
    crawl's time is set by how many requests each host is asked, as on the real web."""
    from urllib.parse import urlsplit

    from sgi.sampleweb.runner import serve_sample_web
    from spiders import settings as shipped

    with tempfile.TemporaryDirectory(prefix="sgi-bench-inc-polite-") as tmp:
        tmp = Path(tmp)
        with serve_sample_web(tmp / "web") as running:
            settings = {k: v for k, v in running.crawl_settings().items() if k not in POLITENESS_OVERRIDES}
            first, second, log1, log2 = _next_day_pair(tmp, running, settings)

    def busiest(entries) -> list:
        per_host: dict[str, int] = {}
        for r in entries:
            host = urlsplit(f"http://{r.host}").hostname or r.host
            per_host[host] = per_host.get(host, 0) + 1
        return sorted(per_host.items(), key=lambda kv: -kv[1])[:3]

    ratio = first["elapsed_s"] / max(second["elapsed_s"], 1e-9)
    return {"incremental_speedup_shipped_politeness": {
        "value": round(ratio, 2),
        "unit": "crawl time 1st / 2nd (nothing changed, next day), with the politeness settings a nightly "
                "crawl ships with",
        "target": ">= 5 (issue 10)", "ok": ratio >= 5,
        "detail": {"elapsed_first_s": round(first["elapsed_s"], 1), "elapsed_second_s": round(second["elapsed_s"], 1),
                   "requests_first": len(log1), "requests_second": len(log2),
                   "busiest_hosts_first": busiest(log1), "busiest_hosts_second": busiest(log2),
                   "cpu_first_s": first["cpu_s"], "cpu_second_s": second["cpu_s"],
                   "settings": {"DOWNLOAD_DELAY": shipped.DOWNLOAD_DELAY,
                                "DOWNLOAD_DELAY_JITTER": shipped.DOWNLOAD_DELAY_JITTER,
                                "AUTOTHROTTLE_ENABLED": shipped.AUTOTHROTTLE_ENABLED,
                                "CONCURRENT_REQUESTS_PER_DOMAIN": shipped.CONCURRENT_REQUESTS_PER_DOMAIN},
                   "note": "each host is asked one request after the other at the delay, hosts in parallel: "
                           "a crawl takes about as long as its busiest host's requests x the delay"},
    }}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
