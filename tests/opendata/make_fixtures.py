"""Regenerate the saved answers in tests/fixtures/opendata/ from the sample web (no server needed):
``.venv/bin/python -m tests.opendata.make_fixtures``. The tests read the saved bytes, so a change in
the generator does not silently change what the adapter tests prove."""

from __future__ import annotations

import json
from pathlib import Path

from sgi.sampleweb.generate import build_sample_web
from sgi.sampleweb.model import RequestInfo

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "opendata"


def answer(web, host: str, path: str, method: str = "GET", body: bytes = b"") -> bytes:
    site = web.sites[host]
    res = site.resources.get(path)
    info = RequestInfo(method=method, path=path, headers={}, body=body)
    return res.body(info) if callable(res.body) else res.body


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    web = build_sample_web()
    sz, hz, cd, lz = ("opendata.sz.gov.cn.test", "data.hangzhou.gov.cn.test", "data.chengdu.gov.cn.test",
                      "data.lanzhou.gov.cn.test")
    files = {
        "ckan_search_start0.json": answer(web, sz, "/api/3/action/package_search?start=0&rows=1000"),
        "ckan_search_start300.json": answer(web, sz, "/api/3/action/package_search?start=300&rows=1000"),
        "ckan_search_start327.json": answer(web, sz, "/api/3/action/package_search?start=327&rows=1000"),
        "ckan_package_show_missing.json": answer(web, sz, "/api/3/action/package_show?id=nope"),
        "lanzhou_error.json": answer(web, lz, "/api/catalog/page?current=1&size=20"),
        "chengdu_list_p1.html": answer(web, cd, "/oportal/catalog/index?page=1"),
        "chengdu_list_p4.html": answer(web, cd, "/oportal/catalog/index?page=4"),
        "chengdu_list_p9.html": answer(web, cd, "/oportal/catalog/index?page=9"),
    }
    # Hangzhou: the 7th page errors the first time it is asked, so ask it twice.
    for page in (1, 6, 7, 7, 44, 45):
        body = json.dumps({"orderBy": "updateDate", "pageNo": page, "pageSize": 100}).encode()
        data = answer(web, hz, "/api/dataset/list", "POST", body)
        name = f"hangzhou_page{page}.json"
        if name in files:
            name = f"hangzhou_page{page}_retry.json"
        files[name] = data
    details = sorted(k for k in web.sites[cd].resources if "/detail/" in k)
    files["chengdu_detail_first.html"] = answer(web, cd, details[0])
    nodate = "/oportal/catalog/detail/%d.html" % (20210000 + 37 * 41 + 5)
    files["chengdu_detail_nodate.html"] = answer(web, cd, nodate)
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(files)} files to {OUT}")


if __name__ == "__main__":
    main()
