"""Mailbox rules on saved pages and answers: lists, details, JSON, dates, personal data, statistics."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from collectors import mailbox as rules
from collectors.page import Page

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "mailbox"
CRAWL = date(2026, 6, 30)


def page(name: str, url: str, ctype: str | None = None) -> Page:
    return Page.from_file(str(FIX / name), url, ctype)


# --- personal data ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "请回电13812345678", "手机：138 1234 5678", "+86-13912345678", "电话0771-2812345", "座机（0771）2812345",
    "(0755)88881234转123", "0771 2812345", "电话07712812345", "身份证450102199001011234", "身份证号45010219900101123X",
    "身份证45010219900101123x", "邮箱 zhang.san@qq.com", "ab_c@mail.gov.cn.test", "１３８１２３４５６７８",
])
def test_scrub_removes_phones_ids_and_emails(text):
    out = rules.scrub_pii(text)
    assert not rules.find_pii(out, token_boundary=False), out
    assert "[" in out


def test_scrub_keeps_ordinary_numbers_and_dates():
    text = "2026年6月30日 第12345号 工单GD2026061500 热线12345 2026-06-30 10:22 共3页"
    assert rules.scrub_pii(text) == rules.fold_text(text)


def test_scan_ignores_digit_runs_inside_hex_digests():
    assert rules.find_pii("a13812345678f0c9") == []
    assert rules.find_pii("x 13812345678 y") == [("phone", "13812345678")]


# --- list pages -------------------------------------------------------------------------------------

def test_html_list_without_dates_reads_ids_status_and_category():
    p = page("hz_list_p2.html", "http://hd.hangzhou.gov.cn.test/mail/list.jsp?pageNo=2")
    msgs = rules.parse_html_list(p, CRAWL, {"detail_link": r"detail\.jsp\?id="})
    assert len(msgs) == 20
    assert all(m.message_id.startswith("HZ") and m.submitted is None for m in msgs)
    assert {m.status for m in msgs} <= {"replied", "in_progress", "not_replied"}
    assert all(m.category in ("咨询", "投诉", "建议", "求助") for m in msgs)
    assert rules.next_page_url(p).endswith("/mail/list.jsp?pageNo=3")


def test_gbk_table_with_header_row_and_partial_dates():
    p = page("nn_list_p1.html", "http://www.nn12345.gov.cn.test/gsgk/index_1.html", "text/html")
    msgs = rules.parse_html_list(p, CRAWL, {"detail_link": "detail/"})
    assert len(msgs) == 20 and all(m.message_id.startswith("GD") for m in msgs)
    assert all(m.submitted is not None for m in msgs)
    for m in msgs:
        assert (m.reply_date is not None) == (m.status == "replied") or m.status == "replied"
        assert m.submitted <= CRAWL
    assert rules.page_count(p) == 19
    assert rules.page_urls("index_{i}.html", 3) == ["index_1.html", "index_2.html"]


def test_handmade_list_with_th_header_and_flagged_reply():
    p = page("handmade_list_th.html", "http://sjxx.example.test/sjxx/list.php")
    msgs = {m.message_id: m for m in rules.parse_html_list(p, CRAWL)}
    assert set(msgs) == {"88121", "88120", "88119"}
    assert msgs["88121"].title == "关于幼儿园收费标准的咨询"          # title attribute beats the cut text
    assert msgs["88121"].submitted == date(2026, 6, 11) and msgs["88121"].reply_date == date(2026, 6, 15)
    assert msgs["88120"].status == "not_replied" and msgs["88120"].reply_date is None
    assert msgs["88119"].date_flag == rules.REPLY_BEFORE_SUBMIT
    assert rules.page_count(p) == 35
    assert rules.scrub_pii(msgs["88120"].title) == "反映某路段货车超载(电话[电话])"


# --- detail pages -----------------------------------------------------------------------------------

def test_detail_page_dates_department_and_reply_length():
    d = rules.parse_detail(page("hz_detail_replied.html", "http://hd.hangzhou.gov.cn.test/mail/detail.jsp?id=HZ2981"), CRAWL)
    assert d.submitted == date(2026, 6, 18) and d.reply_date == date(2026, 6, 29)
    assert d.department == "市医疗保障局" and d.reply_length == 89 and d.status == "replied"


def test_detail_page_unreplied_has_no_reply():
    d = rules.parse_detail(page("hz_detail_unreplied.html", "http://hd.hangzhou.gov.cn.test/mail/detail.jsp?id=HZ2322"), CRAWL)
    assert d.submitted == date(2026, 6, 28)
    assert d.reply_date is None and d.reply_length is None and d.status != "replied"


def test_gbk_detail_reply_text():
    d = rules.parse_detail(page("nn_detail_replied.html", "http://www.nn12345.gov.cn.test/gsgk/detail/GD3279.html",
                                "text/html"), CRAWL)
    assert d.reply_length == 48


def test_handmade_detail_dl_and_div_labels():
    d = rules.parse_detail(page("handmade_detail_dl.html", "http://x.example.test/ly/318.html"), CRAWL)
    assert d.submitted == date(2025, 11, 3)
    assert d.reply_date == date(2025, 11, 10)          # '11月10日': year from the crawl date context
    assert d.department == "市城市管理局"
    assert d.reply_length == rules.text_length("您好！经核查，该路段路灯线路老化，已于11月8日完成维修。感谢您的监督！")


# --- JSON answers -----------------------------------------------------------------------------------

def test_json_answer_with_default_mapping():
    data = json.loads((FIX / "rmw_api_page.json").read_text(encoding="utf-8"))
    msgs, total = rules.parse_json_list(data, CRAWL)
    assert total == 400 and len(msgs) == 20
    for m, raw in zip(msgs, data["responseData"]["list"]):
        assert m.message_id == str(raw["tid"]) and m.submitted is not None
        if raw["answerInfo"]:
            assert m.replied and m.reply_length == rules.text_length(raw["answerInfo"]["answerContent"])
            assert m.reply_date.isoformat() == raw["answerInfo"]["answerTime"][:10]
        else:
            assert not m.replied


def test_json_error_answer_is_an_error_not_an_empty_board():
    with pytest.raises(rules.ApiError):
        rules.parse_json_list({"result": "fail", "message": "非法请求"}, CRAWL)


def test_json_custom_mapping_and_millisecond_dates():
    data = {"code": 0, "data": {"rows": [{"id": "a1", "subject": "问", "created": 1748736000000,
                                          "state": "已办结", "replyAt": "2025/6/3 10:22", "reply": "好的 谢谢"}]}}
    fields = {"ok_field": "code", "ok_value": "0", "list": "data.rows", "total": None, "id": "id",
              "title": "subject", "submitted": "created", "status": "state", "reply_date": "replyAt",
              "reply_text": "reply", "category": None, "department": None}
    (m,), _ = rules.parse_json_list(data, CRAWL, fields)
    assert m.submitted == date(2025, 6, 1) and m.reply_date == date(2025, 6, 3) and m.reply_length == 4


def test_signing_recipe_matches_the_sample_server():
    """The spider's recipe (key read from the page script, md5(path + t + body + key)) is accepted; an
    unsigned or stale request is refused with an error answer, which parse_json_list turns into ApiError."""
    import hashlib
    import re
    import time

    from sgi.sampleweb.generate import build_sample_web
    from sgi.sampleweb.mailbox import API_PATH
    from sgi.sampleweb.model import RequestInfo

    script = (FIX / "rmw_app.js").read_text()
    key = re.search(r"SIGN_KEY\s*=\s*[\"']([^\"']+)", script).group(1)
    answer = build_sample_web().sites["liuyan.people.com.cn.test"].resources[API_PATH].body
    body = json.dumps({"fid": 539, "page": 2, "rows": 20, "orderType": 1}, separators=(",", ":"))

    def ask(t: str, sign: str) -> bytes:
        return answer(RequestInfo("POST", API_PATH, {"x-timestamp": t, "x-sign": sign}, body.encode()))

    t = str(int(time.time() * 1000))
    msgs, total = rules.parse_json_list(ask(t, hashlib.md5((API_PATH + t + body + key).encode()).hexdigest()), CRAWL)
    assert total == 400 and len(msgs) == 20
    with pytest.raises(rules.ApiError):
        rules.parse_json_list(ask(t, "0" * 32), CRAWL)
    stale = str(int(time.time() * 1000) - 3_600_000)
    with pytest.raises(rules.ApiError):
        rules.parse_json_list(ask(stale, hashlib.md5((API_PATH + stale + body + key).encode()).hexdigest()), CRAWL)


# --- dates and statistics ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,want", [("2023-05-01", date(2023, 5, 1)), ("2023年5月1日", date(2023, 5, 1)),
                                       ("2023/5/1 10:22", date(2023, 5, 1)), ("5月1日", date(2026, 5, 1)),
                                       ("12月30日", date(2025, 12, 30))])
def test_date_forms(text, want):
    assert rules.parse_cn_date(text, context_date=CRAWL) == want


def test_nearest_rank_percentile():
    assert rules.nearest_rank(list(range(1, 11)), 0.9) == 9
    assert rules.nearest_rank(list(range(1, 12)), 0.9) == 10     # ceil(9.9) = 10th value
    assert rules.nearest_rank([5], 0.9) == 5
    assert rules.nearest_rank([], 0.9) is None


def test_board_stats_rules():
    M = rules.Message
    msgs = [M("1", status="replied", submitted=date(2025, 1, 1), reply_date=date(2025, 1, 11), reply_length=100),
            M("2", status="replied", submitted=date(2025, 2, 1), reply_date=date(2025, 3, 3), reply_length=50),
            M("3", status="replied", submitted=date(2025, 3, 1), reply_date=date(2025, 2, 1)).check_dates(),
            M("4", status="in_progress", submitted=date(2025, 4, 1)),
            M("5", status="replied", submitted=None),                       # undated: in no period
            M("6", status="replied", submitted=date(2024, 12, 31), reply_date=date(2025, 1, 2))]
    st = rules.board_stats(msgs, rules.Period("2025", date(2025, 1, 1), date(2025, 12, 31)), population=2_000_000)
    v = st.values()
    assert v["messages_total"] == 4 and v["reply_rate"] == 0.75 and st.flagged == 1
    assert st.delays == [10, 30]
    assert v["reply_delay_median_days"] == 20.0 and v["reply_delay_p90_days"] == 30.0
    assert v["replied_within_15d_share"] == 0.25 and v["reply_length_median"] == 75.0
    assert v["messages_per_10k"] == 0.02


def test_periods():
    keys = [p.key for p in rules.periods(CRAWL, 1)]
    assert keys == ["2025", "2026", "R365:2026-06-30"]
    r = rules.periods(CRAWL, 1)[-1]
    assert (r.end - r.start).days == 364


def test_no_population_is_not_applicable():
    st = rules.Stats(3, 1, 0, [1], 1, [5], population=None)
    by = {f.code: f for f in rules.findings(st, ["b"], population_known=False)}
    assert by["messages_per_10k"].status == "not_applicable" and by["messages_per_10k"].value is None
    assert by["messages_total"].status == "ok" and by["messages_total"].value == 3
