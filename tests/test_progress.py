"""Her progress page: sessions done per week against the prescription."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from programs.models import Prescription, SessionLog

pytestmark = pytest.mark.django_db


def log(enrolment, stage_slug, *days, n=1):
    item = Prescription.objects.get(stage__slug=stage_slug, position=n)
    for day in days:
        SessionLog.objects.create(enrolment=enrolment, prescription=item, local_date=day)


def weeks_of(response):
    return {w["tally"].week: w["tally"] for w in response.context["weeks"]}


def test_counts_days_per_week_against_the_prescription(member, make_enrolment, clock):
    enrolment = make_enrolment()
    log(enrolment, "breathing", date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 9))
    log(
        enrolment,
        "deep-core",
        date(2026, 3, 9),
        date(2026, 3, 10),
        date(2026, 3, 11),
        date(2026, 3, 12),
    )
    clock("2026-03-12 20:00", "Europe/London")
    weeks = weeks_of(member.get(reverse("progress", args=[enrolment.pk])))
    assert set(weeks) == {1, 2}
    assert (weeks[1].done, weeks[1].expected) == (2, 14)  # breathing 7 days a week, twice each
    # Week 2: breathing once of 7 each; deep core 3 of 3 (the 4th day is not extra credit) + 0 of 3.
    assert (weeks[2].done, weeks[2].expected) == (1 + 3, 14 + 6)


def test_a_pause_stretches_the_week(member, make_enrolment, clock):
    enrolment = make_enrolment()
    enrolment.pause(datetime(2026, 3, 4, 12, tzinfo=UTC))
    enrolment.resume(datetime(2026, 3, 7, 12, tzinfo=UTC))
    log(enrolment, "breathing", date(2026, 3, 11))  # would be week 2 without the pause
    clock("2026-03-12 20:00", "Europe/London")
    weeks = weeks_of(member.get(reverse("progress", args=[enrolment.pk])))
    assert (weeks[1].first, weeks[1].last) == (date(2026, 3, 2), date(2026, 3, 11))
    assert weeks[1].done == 1
    assert set(weeks) == {1, 2}


def test_page_lists_exercise_rows(member, make_enrolment, clock):
    enrolment = make_enrolment()
    log(enrolment, "breathing", date(2026, 3, 2))
    clock("2026-03-03 09:00", "Europe/London")
    content = member.get(reverse("progress", args=[enrolment.pk])).content.decode()
    assert "Breathing 1" in content
    assert "1 of 7" in content
    assert "Week 1 (this week)" in content


def test_before_the_start_there_is_nothing_yet(member, make_enrolment, clock):
    enrolment = make_enrolment(start_date=date(2026, 3, 20))
    clock("2026-03-10 09:00", "Europe/London")
    assert b"hasn't started yet" in member.get(reverse("progress", args=[enrolment.pk])).content


def test_progress_queries_do_not_grow_with_weeks_or_logs(member, make_enrolment, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    enrolment = make_enrolment()
    counts = []
    for when in ["2026-03-03 09:00", "2026-04-10 09:00"]:
        clock(when, "Europe/London")
        with CaptureQueriesContext(connection) as queries:
            member.get(reverse("progress", args=[enrolment.pk]))
        counts.append(len(queries))
        if len(counts) == 1:
            log(enrolment, "breathing", date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 30))
    assert counts[0] == counts[1]


def test_a_stage_opened_early_changes_no_week_before_it(member, make_enrolment, clock):
    from programs.models import StageOverride

    enrolment = make_enrolment()
    for day in range(2, 23):  # weeks 1 to 3, every exercise on her list each day
        log(enrolment, "breathing", date(2026, 3, day), n=1)
        log(enrolment, "breathing", date(2026, 3, day), n=2)
    log(enrolment, "deep-core", date(2026, 3, 9), date(2026, 3, 11), date(2026, 3, 13), n=1)
    log(enrolment, "deep-core", date(2026, 3, 9), date(2026, 3, 11), date(2026, 3, 13), n=2)
    log(enrolment, "deep-core", date(2026, 3, 16), date(2026, 3, 18), date(2026, 3, 20), n=1)
    log(enrolment, "deep-core", date(2026, 3, 16), date(2026, 3, 18), date(2026, 3, 20), n=2)
    clock("2026-03-23 20:00", "Europe/London")
    url = reverse("progress", args=[enrolment.pk])
    before = weeks_of(member.get(url))
    StageOverride.objects.create(
        enrolment=enrolment,
        stage=enrolment.program.stages.get(slug="glutes"),
        action="open",
        created_at=datetime(2026, 3, 23, 12, tzinfo=UTC),  # day 21, the first of week 4
    )
    response = member.get(url)
    after = weeks_of(response)
    for week in (1, 2, 3):
        assert after[week] == before[week]
    assert (after[3].done, after[3].expected) == (14 + 6, 14 + 6)
    assert "Glutes 1" not in [
        row[0].exercise.name for w in response.context["weeks"][1:] for row in w["rows"]
    ]


def test_closed_stages_say_why(member, make_enrolment, clock):
    from programs.models import Stage

    Stage.objects.filter(slug="glutes").update(loaded=True)
    clock("2026-03-01 12:00", "Europe/London")
    enrolment = make_enrolment(weeks_postpartum=1)
    clock("2026-03-10 09:00", "Europe/London")
    content = member.get(reverse("progress", args=[enrolment.pk])).content.decode()
    assert "Still to come" in content
    assert "Opens 6 weeks after birth, on Sunday 5 April" in content


def test_charts_calendar_and_streak_in_her_zone(member, make_enrolment, clock):
    enrolment = make_enrolment()
    log(enrolment, "breathing", date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4))
    enrolment.checkins.create(submitted_at=datetime(2026, 3, 3, 23, 30, tzinfo=UTC), pain=6, week=1)
    enrolment.checkins.create(submitted_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC), pain=3, week=1)
    clock("2026-03-05 09:00", "Europe/London")
    response = member.get(reverse("progress", args=[enrolment.pk]))
    content = response.content.decode()
    assert response.context["calendar"].first == date(2026, 3, 1)
    assert [d.number for d in response.context["calendar"].days if d.trained] == [2, 3, 4]
    assert "You trained on 3 of the last 7 days. 3 days in a row" in content
    assert '<title id="pain-chart-title">' in content
    assert "3 Mar: 6, 4 Mar: 3" in content  # her days, her values
    assert "week 1:" in content
    assert "?month=2026-02" not in content  # she started in March


def test_an_earlier_month_and_a_bad_one(member, make_enrolment, clock):
    enrolment = make_enrolment()
    log(enrolment, "breathing", date(2026, 3, 30))
    clock("2026-04-02 09:00", "Europe/London")
    url = reverse("progress", args=[enrolment.pk])
    march = member.get(url, {"month": "2026-03"})
    assert [d.number for d in march.context["calendar"].days if d.trained] == [30]
    assert march.context["next_month"] == date(2026, 4, 1)
    assert 'href="?month=2026-04"' in march.content.decode()
    # A bad month is ignored, as a bad filter is on the dashboard, and she is told.
    for bad in ["2026-13", "March", "2026-05", "2025-12", "2026-3", "<b>"]:
        response = member.get(url, {"month": bad})
        assert response.status_code == 200, bad
        assert response.context["calendar"].first == date(2026, 4, 1)
        assert "Showing this month instead: " in response.content.decode()
        assert "<b>" not in response.content.decode()


def test_progress_runs_a_constant_number_of_queries(
    member, make_enrolment, clock, django_assert_num_queries
):
    enrolment = make_enrolment()
    clock("2026-03-20 09:00", "Europe/London")
    url = reverse("progress", args=[enrolment.pk])
    member.get(url)  # warm the session and the site caches

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert member.get(url).status_code == 200
        return len(queries)

    few = count()
    days = [date(2026, 3, d) for d in range(2, 20)]
    log(enrolment, "breathing", *days)
    log(enrolment, "deep-core", *days[7:])
    for d in days:
        enrolment.checkins.create(
            submitted_at=datetime(d.year, d.month, d.day, 9, tzinfo=UTC), pain=2, week=1
        )
    assert count() == few
    with django_assert_num_queries(few):
        member.get(url, {"month": "2026-03"})
