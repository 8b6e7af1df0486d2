"""`sgi apps …`: app discovery for the app registry (the ``app`` entries of the source file).

``sgi apps discover CITY`` searches the stores (Apple's iTunes Search API and an Android store's search
page; the sample web's with ``--sample-web``) by the city's name and the common government-app name
patterns, and prints the candidates with the source entries an auditor could confirm into the source
file. It never writes the source file: confirming is a person's decision.
"""

from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from typing import Callable, List, Optional
from urllib.parse import quote, urlsplit

import typer
from rich.table import Table

from sgi.cli import app, err, out

apps_app = typer.Typer(help="Government apps (the app registry of the source file).", no_args_is_help=True)
app.add_typer(apps_app, name="apps")

ITUNES_SEARCH = "https://itunes.apple.com/search?term={term}&entity=software&country=cn&limit=50"
ANDROID_SEARCH = {"yyb": "https://sj.qq.com/search?q={term}"}
SAMPLE_HOSTS = {"itunes.apple.com": "itunes.apple.com.test", "sj.qq.com": "sj.qq.com.test"}

# Province-wide app names cities use (the city's own app often lives inside them).
PROVINCE_APPS = {
    "上海": ["随申办"], "浙江": ["浙里办"], "广东": ["粤省事", "粤商通"], "山东": ["爱山东"], "重庆": ["渝快办"],
    "北京": ["北京通", "京通"], "天津": ["津心办"], "河北": ["冀时办"], "山西": ["三晋通"], "内蒙古": ["蒙速办"],
    "辽宁": ["辽事通"], "吉林": ["吉事办"], "黑龙江": ["黑龙江全省事"], "江苏": ["苏服办"], "安徽": ["皖事通"],
    "福建": ["闽政通"], "江西": ["赣服通"], "河南": ["豫事办"], "湖北": ["鄂汇办"], "湖南": ["湘易办"],
    "广西": ["智桂通"], "海南": ["海易办"], "四川": ["天府通办"], "贵州": ["贵人服务"], "云南": ["一部手机办事通"],
    "西藏": ["西藏政务"], "陕西": ["秦务员"], "甘肃": ["甘快办"], "青海": ["青松办"], "宁夏": ["我的宁夏"],
    "新疆": ["新疆政务服务"],
}
CITY_PATTERNS = ["{s}", "i{s}", "我的{s}", "爱{s}", "{s}通", "{s}办事", "{s}政务", "{s}市民云", "{s}政务服务", "{s}市民"]
OFFICIAL = re.compile(r"(人民政府|政务|数据|大数据|局|委员会|办公室|办公厅|中心|管理|服务中心|市民卡)")


def search_terms(short_name: str, province: str) -> list[str]:
    terms = [p.format(s=short_name) for p in CITY_PATTERNS]
    prov = next((v for k, v in PROVINCE_APPS.items() if province.startswith(k)), [])
    return list(dict.fromkeys(terms + prov))


@dataclass
class Candidate:
    store: str
    app_id: str
    name: str
    developer: str
    rating: Optional[float]
    rating_count: Optional[int]
    url: str
    term: str

    @property
    def official(self) -> bool:
        return bool(OFFICIAL.search(self.developer or ""))


def discover(short_name: str, province: str, fetch: Callable[[str], tuple[int, bytes]],
             stores: tuple[str, ...] = ("apple", "yyb")) -> list[Candidate]:
    """Search the stores for every term; candidates (deduplicated by store and id) whose name or
    developer mentions the city, or that match a province app name."""
    from collectors.apps import android_search, apple_search
    from collectors.page import Page

    found: dict[tuple[str, str], Candidate] = {}
    for term in search_terms(short_name, province):
        if "apple" in stores:
            status, body = fetch(ITUNES_SEARCH.format(term=quote(term)))
            if status == 200:
                for l in apple_search(body):
                    found.setdefault(("apple", l.app_id), Candidate("apple", l.app_id, l.name or "", l.developer or "",
                                                                    l.rating, l.rating_count, l.url or "", term))
        for store, pattern in ANDROID_SEARCH.items():
            if store not in stores:
                continue
            url = pattern.format(term=quote(term))
            status, body = fetch(url)
            if status == 200:
                for name, link in android_search(Page(url=url, body=body)):
                    pkg = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
                    found.setdefault((store, pkg), Candidate(store, pkg, name, "", None, None, link, term))
    province_apps = {a for k, v in PROVINCE_APPS.items() if province.startswith(k) for a in v}
    keep = [c for c in found.values()
            if short_name in c.name or short_name in c.developer or any(p in c.name for p in province_apps)]
    return sorted(keep, key=lambda c: (not c.official, c.store, -(c.rating_count or 0)))


def _real_fetch(url: str) -> tuple[int, bytes]:
    import urllib.request

    req = urllib.request.Request(url, headers={"User-Agent": "sgi-app-discovery (+https://github.com/)"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.read()
    except Exception as exc:  # one failed search must not end discovery
        err.print(f"[yellow]search failed:[/] {url}: {exc}")
        return 0, b""


def _sample_fetcher(running) -> Callable[[str], tuple[int, bytes]]:
    """Fetch a store URL from the running sample web: real store hosts map to their .test twins."""
    import http.client

    def fetch(url: str) -> tuple[int, bytes]:
        parts = urlsplit(url)
        host = SAMPLE_HOSTS.get(parts.hostname or "", parts.hostname or "")
        scheme = "https" if running.web.sites[host].https else "http"
        port = running.server.port_for(scheme)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if scheme == "https":
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                               context=ssl._create_unverified_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": f"{host}:{port}"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    return fetch


def _entry(city_code: str, c: Candidate) -> dict:
    if c.store == "apple":
        url = f"https://itunes.apple.com/lookup?id={c.app_id}&country=cn"
        options = {"app": c.name, "store": "apple", "apple_id": c.app_id}
    else:
        url = c.url
        options = {"app": c.name, "store": c.store, "android_package": c.app_id}
    return {"city": city_code, "kind": "app", "name": f"{c.name}（{c.store}）", "start_url": url, "options": options}


@apps_app.command("discover")
def discover_cmd(city: str = typer.Argument(..., help="city code or name"),
                 sample_web: bool = typer.Option(False, "--sample-web", help="search the sample web's stores"),
                 as_json: bool = typer.Option(False, "--json", help="print candidates as JSON")):
    """Propose government-app candidates for a city (printed for an auditor; nothing is written)."""
    import tempfile

    from sgi.cities import lookup

    info = lookup(city)
    if sample_web:
        from sgi.sampleweb.runner import serve_sample_web

        with tempfile.TemporaryDirectory(prefix="sgi-apps-") as tmp, serve_sample_web(tmp) as running:
            candidates = discover(info.short_name, info.province, _sample_fetcher(running))
    else:
        candidates = discover(info.short_name, info.province, _real_fetch)
    if as_json:
        out.print_json(json.dumps([dict(c.__dict__, official=c.official, entry=_entry(info.code, c))
                                   for c in candidates], ensure_ascii=False))
        return
    table = Table(title=f"app candidates for {info.code} {info.name} (not written: confirm into the source file)")
    for col in ("store", "id", "name", "developer", "rating", "ratings", "official?", "found by"):
        table.add_column(col, overflow="fold")
    for c in candidates:
        table.add_row(c.store, c.app_id, c.name, c.developer, "" if c.rating is None else f"{c.rating:.2f}",
                      "" if c.rating_count is None else str(c.rating_count), "yes" if c.official else "check",
                      c.term)
    out.print(table)
    if candidates:
        import yaml

        out.print("# source entries to review and copy into the source file (kind app):")
        out.print(yaml.safe_dump([_entry(info.code, c) for c in candidates], allow_unicode=True, sort_keys=False),
                  highlight=False, markup=False)
    else:
        out.print("no candidates found")
