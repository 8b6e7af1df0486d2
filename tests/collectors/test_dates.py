from datetime import date

import pytest

from collectors.dates import find_dates, parse_cn_date, parse_split_date

CTX = date(2026, 6, 15)


@pytest.mark.parametrize("text, expected", [
    ("2023-05-01", date(2023, 5, 1)),
    ("2023-5-1", date(2023, 5, 1)),
    ("2023年5月1日", date(2023, 5, 1)),
    ("2023 年 05 月 01 日", date(2023, 5, 1)),
    ("2023年05月01日 10:22", date(2023, 5, 1)),
    ("2023/5/1 10:22", date(2023, 5, 1)),
    ("2023/05/01", date(2023, 5, 1)),
    ("2023.05.01", date(2023, 5, 1)),
    ("2023.5.1", date(2023, 5, 1)),
    ("20230501", date(2023, 5, 1)),
    ("[2023-05-01]", date(2023, 5, 1)),
    ("(2023年5月1日)", date(2023, 5, 1)),
    ("发布时间：2023-05-01 09:30:12", date(2023, 5, 1)),
    ("２０２３－０５－０１", date(2023, 5, 1)),          # full-width digits and dash
    ("２０２３年５月１日", date(2023, 5, 1)),
    ("./202305/t20230501_1234567.htm", date(2023, 5, 1)),  # TRS URL
    ("/art/2023/5/1/art_1229_456.html", date(2023, 5, 1)),  # Hanweb URL
    ("成文日期：2023-04-28 发布日期：2023-05-01", date(2023, 4, 28)),  # first date in reading order
])
def test_full_dates(text, expected):
    assert parse_cn_date(text) == expected


@pytest.mark.parametrize("text, context, expected", [
    ("5月1日", CTX, date(2026, 5, 1)),
    ("06-12", CTX, date(2026, 6, 12)),
    ("[06-12]", CTX, date(2026, 6, 12)),
    ("6-12", CTX, date(2026, 6, 12)),
    ("06/12", CTX, date(2026, 6, 12)),
    ("０６－１２", CTX, date(2026, 6, 12)),
    ("12-28", date(2026, 1, 5), date(2025, 12, 28)),  # later than the context date: last year
    ("12月28日", date(2026, 1, 5), date(2025, 12, 28)),
    ("06-15", CTX, date(2026, 6, 15)),                  # the context day itself stays
])
def test_partial_dates_take_the_year_from_context(text, context, expected):
    assert parse_cn_date(text, context_date=context) == expected


def test_partial_date_with_context_year_only():
    assert parse_cn_date("5月1日", context_year=2024) == date(2024, 5, 1)


@pytest.mark.parametrize("text", ["5月1日", "06-12", "[06-12]"])
def test_partial_dates_need_context(text):
    assert parse_cn_date(text) is None


@pytest.mark.parametrize("text", [
    "2023-02-30",            # no such day
    "2023-13-01",            # no such month
    "电话：20230501",        # a phone number that looks like a date
    "0523-82812345",
    "云政发〔2026〕12号",
    "浏览次数：20230501",    # a count after a colon: compact dates are read only as stand-alone tokens
    "ID 120230501",          # longer digit run
    "",
    None,
])
def test_not_dates(text):
    assert parse_cn_date(text) is None


def test_compact_date_inside_longer_number_is_not_a_date():
    assert list(find_dates("文件编号 2023050112")) == []


def test_find_dates_yields_all_in_order():
    text = "2026-06-12 市政府常务会议；2026年6月10日 调研；2026/6/9"
    assert list(find_dates(text)) == [date(2026, 6, 12), date(2026, 6, 10), date(2026, 6, 9)]


def test_find_dates_skips_ranges_fractions_and_times_in_running_text():
    text = "第3-5条，占1/2，会议于10:22开始"
    assert list(find_dates(text, context_date=CTX)) == []


def test_find_dates_partial_in_running_text_needs_two_digits():
    assert list(find_dates("[06-12] 关于 3-5 号楼", context_date=CTX)) == [date(2026, 6, 12)]


def test_time_part_is_not_read_as_partial_date():
    assert list(find_dates("2023/5/1 10:22", context_date=CTX)) == [date(2023, 5, 1)]


@pytest.mark.parametrize("text, expected", [
    ("12 2026-06", date(2026, 6, 12)),
    ("12日 2026年06月", date(2026, 6, 12)),
    ("2026.06 12", date(2026, 6, 12)),
    ("２０２６－０６　１２", date(2026, 6, 12)),
])
def test_split_calendar_badges(text, expected):
    assert parse_split_date(text) == expected


@pytest.mark.parametrize("text", ["第12期 2026-06", "12 2026-13", "2026-06", "12", "共12条 2026-06 更多"])
def test_split_badge_must_be_the_whole_text(text):
    assert parse_split_date(text) is None
