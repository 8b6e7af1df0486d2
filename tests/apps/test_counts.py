"""Chinese store count formats -> (number, note on its precision)."""

import pytest

from collectors.apps import parse_count, parse_size

FORMS = [
    ("1.2亿次安装", 120_000_000, "rounded to 10^7"),
    ("3,456万", 34_560_000, "rounded to 10^4"),
    ("5000+", 5000, "lower bound"),
    ("10万+", 100_000, "lower bound"),
    ("1,234", 1234, "exact"),
    ("超过1亿", 100_000_000, "lower bound"),
    ("12.3万次下载", 123_000, "rounded to 10^3"),
    ("１２３４５", 12345, "exact"),                    # full-width digits
    ("１２．５万次下载", 125_000, "rounded to 10^3"),   # full-width digits and point
    ("５０００＋ 次安装", 5000, "lower bound"),          # full-width plus
    ("２，３４５人评分", 2345, "exact"),                # full-width comma
    ("1.2万+", 12_000, "lower bound"),
    ("100万以上", 1_000_000, "lower bound"),
    ("1千万", 10_000_000, "rounded to 10^7"),
    ("5千", 5000, "rounded to 10^3"),
    ("10M+", 10_000_000, "lower bound"),
    ("1B+", 1_000_000_000, "lower bound"),
    ("2.5k", 2500, "rounded to 10^2"),
    ("约3万", 30_000, "approximate"),
    ("10万余次", 100_000, "lower bound"),
    ("1,234,567次安装", 1_234_567, "exact"),
    ("0", 0, "exact"),
    ("1.2 亿", 120_000_000, "rounded to 10^7"),
    ("5百万+", 5_000_000, "lower bound"),
    ("逾50万", 500_000, "lower bound"),
    ("下载量：10万+", 100_000, "lower bound"),
    ("8.6万条评论", 86_000, "rounded to 10^3"),
    ("3,456万 次安装", 34_560_000, "rounded to 10^4"),
    ("1.25亿", 125_000_000, "rounded to 10^6"),
    ("12万", 120_000, "rounded to 10^4"),
]


@pytest.mark.parametrize("text,number,note", FORMS)
def test_count_forms(text, number, note):
    assert parse_count(text) == (number, note)


def test_at_least_twenty_forms():
    assert len(FORMS) >= 20


@pytest.mark.parametrize("text", ["暂无", "", "-", "暂无评分"])
def test_no_number(text):
    assert parse_count(text) == (None, "no number")


def test_sizes():
    assert parse_size("86.3M") == int(86.3 * 1024 ** 2)
    assert parse_size("1.2 GB") == int(1.2 * 1024 ** 3)
    assert parse_size("523KB") == 523 * 1024
