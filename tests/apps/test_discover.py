"""`sgi apps discover CITY` proposes candidates from the stores' searches and writes nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from sgi.cli_apps import search_terms
from sgi.sources import default_path


def test_search_terms_use_the_city_name_and_the_province_app():
    terms = search_terms("深圳", "广东省")
    assert {"深圳", "i深圳", "深圳政务", "粤省事"} <= set(terms)
    assert "随申办" in search_terms("上海", "上海市") and "浙里办" in search_terms("杭州", "浙江省")
    assert "爱山东" in search_terms("青岛", "山东省") and "渝快办" in search_terms("重庆", "重庆市")


@pytest.mark.slow
def test_discover_on_the_sample_web_prints_and_never_writes():
    before = hashlib.sha256(default_path().read_bytes()).hexdigest()
    proc = subprocess.run([sys.executable, "-m", "sgi", "apps", "discover", "深圳", "--sample-web", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout)
    keys = {(c["store"], c["app_id"]) for c in found}
    assert ("apple", "1463587382") in keys and ("yyb", "com.pingan.smt") in keys      # i深圳
    assert ("apple", "1525049215") in keys                                             # 深i企
    metro = next(c for c in found if c["name"] == "深圳地铁")
    assert metro["official"] is False                                                  # left to the auditor
    isz = next(c for c in found if c["app_id"] == "1463587382")
    assert isz["official"] and isz["entry"]["kind"] == "app" and isz["entry"]["options"]["apple_id"] == "1463587382"
    assert "itunes.apple.com/lookup?id=1463587382" in isz["entry"]["start_url"]
    assert hashlib.sha256(default_path().read_bytes()).hexdigest() == before


@pytest.mark.slow
def test_discover_table_output():
    proc = subprocess.run([sys.executable, "-m", "sgi", "apps", "discover", "440300", "--sample-web"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not written" in proc.stdout and "i深圳" in proc.stdout and "kind: app" in proc.stdout
