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
