"""The city indicators over listings, and the 90-day rating trend over stored snapshots."""

from datetime import date

import pytest

from collectors.apps import BLOCKED, ERROR, OK, ABSENT, CityApp, Listing, city_findings, rating_trend

D = date(2026, 6, 30)


def L(store, app_id, status=OK, **kw):
    return Listing(store=store, app_id=app_id, status=status, **kw)


def test_weighted_mean_counts_and_downloads():
    apps = [CityApp("a", [L("apple", "1", rating=4.0, rating_count=300, release_date=date(2026, 6, 1)),
                          L("yyb", "p", rating=3.0, rating_count=100, downloads=5000, downloads_note="lower bound",
                            release_date=date(2026, 6, 20))]),
            CityApp("new", [L("apple", "2", rating=None, rating_count=0, release_date=date(2026, 6, 10))]),
            CityApp("gone", [L("apple", "3", ABSENT)])]
    f = city_findings(apps, D, population=1_000_000)
    assert (f["app_count"].value, f["app_count"].status) == (2, OK)
    assert f["app_rating_mean"].value == pytest.approx(3.75)
    assert f["app_rating_count_total"].value == 400
    assert f["app_downloads_total"].value == 5000 and "lower bound" in f["app_downloads_total"].evidence
    assert f["app_downloads_per_10k"].value == pytest.approx(50.0)
    assert f["app_days_since_update"].value == 10


def test_unknown_population_is_not_applicable():
    apps = [CityApp("a", [L("yyb", "p", rating=3.0, rating_count=1, downloads=10)])]
    f = city_findings(apps, D, population=None)
    assert f["app_downloads_per_10k"].status == "not_applicable" and f["app_downloads_per_10k"].value is None


def test_a_blocked_store_never_becomes_zero():
    apps = [CityApp("a", [L("apple", "1", rating=4.0, rating_count=10), L("yyb", "p", BLOCKED)]),
            CityApp("b", [L("yyb", "q", ERROR)])]
    f = city_findings(apps, D, population=100)
    # app a is known to exist; app b is unknown, so the count is not known
    assert f["app_count"].status == ERROR and f["app_count"].value is None
    for code in ("app_rating_mean", "app_rating_count_total", "app_downloads_total", "app_downloads_per_10k",
                 "app_days_since_update"):
        assert f[code].status == BLOCKED and f[code].value is None


def test_count_is_known_when_the_unread_app_is_in_another_store():
    apps = [CityApp("a", [L("apple", "1", rating=4.0, rating_count=10), L("yyb", "p", ERROR)])]
    f = city_findings(apps, D, population=100)
    assert (f["app_count"].value, f["app_count"].status) == (1, OK)
    assert f["app_rating_mean"].status == ERROR


def test_no_ratings_anywhere_is_absent():
    f = city_findings([CityApp("a", [L("apple", "1", rating=None, rating_count=0)])], D, None)
    assert f["app_rating_mean"].status == ABSENT and f["app_rating_count_total"].value == 0
    assert f["app_downloads_total"].status == ABSENT


def test_rating_trend():
    history = [dict(store="apple", app_id="1", crawl_date="2026-04-15", status="ok", rating=4.0, rating_count=100),
               dict(store="apple", app_id="1", crawl_date="2026-05-15", status="ok", rating=4.2, rating_count=100),
               dict(store="apple", app_id="1", crawl_date="2026-01-01", status="ok", rating=1.0, rating_count=100),
               dict(store="yyb", app_id="p", crawl_date="2026-04-15", status="ok", rating=3.0, rating_count=100)]
    current = [dict(store="apple", app_id="1", status="ok", rating=4.5, rating_count=300),
               dict(store="yyb", app_id="p", status="ok", rating=3.0, rating_count=100)]
    f = rating_trend(history, current, D)
    # base day 2026-04-15 (earliest within 90 days): (4.0*100+3.0*100)/200 = 3.5; now (4.5*300+3*100)/400 = 4.125
    assert f.status == OK and f.value == pytest.approx(0.625)
    assert rating_trend([], current, D).status == "not_applicable"
    assert rating_trend(history[2:3], current, D).status == "not_applicable"     # older than 90 days
