"""Pausing, resuming and leaving a program."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from programs.models import Enrolment, Pause

pytestmark = pytest.mark.django_db


def post(client, name, enrolment, **kwargs):
    return client.post(reverse(name, args=[enrolment.pk]), **kwargs)


def test_pause_stops_the_program_clock(member, make_enrolment, clock):
    enrolment = make_enrolment()
    paused_at = clock("2026-03-05 20:00", "Europe/London")
    post(member, "pause", enrolment)
    enrolment.refresh_from_db()
    assert enrolment.status == "paused"
    assert Pause.objects.get().started_at == paused_at
    clock("2026-03-25 09:00", "Europe/London")
    content = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "Week 1 of 6" in content
    assert "Your program is paused" in content
    assert "opens after you resume" in content


def test_resume_shifts_unlocks_by_the_paused_days(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-05 20:00", "Europe/London")
    post(member, "pause", enrolment)
    resumed_at = clock("2026-03-08 09:00", "Europe/London")
    post(member, "resume", enrolment)
    enrolment.refresh_from_db()
    assert enrolment.status == "active"
    assert Pause.objects.get().ended_at == resumed_at
    # Week 2 was due on 9 March; three paused days move it to the 12th.
    content = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "Opens Thursday 12 March" in content


def test_pausing_twice_is_refused_with_a_message(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-05 20:00", "Europe/London")
    post(member, "pause", enrolment)
    response = post(member, "pause", enrolment, follow=True)
    assert b"Only an active program can be paused." in response.content
    assert Pause.objects.count() == 1


def test_resuming_an_active_program_is_refused(member, make_enrolment):
    enrolment = make_enrolment()
    response = post(member, "resume", enrolment, follow=True)
    assert b"This program is not paused." in response.content
    assert Enrolment.objects.get().status == "active"


def test_pause_needs_post(member, make_enrolment):
    assert member.get(reverse("pause", args=[make_enrolment().pk])).status_code == 405


def test_withdraw_asks_first(member, make_enrolment):
    enrolment = make_enrolment()
    response = member.get(reverse("withdraw", args=[enrolment.pk]))
    assert b"Leave Test program?" in response.content
    assert Enrolment.objects.get().status == "active"


def test_withdraw_ends_the_program_and_any_pause(member, make_enrolment, clock):
    enrolment = make_enrolment()
    enrolment.pause(datetime(2026, 3, 4, tzinfo=UTC))
    left_at = clock("2026-03-06 10:00", "Europe/London")
    response = post(member, "withdraw", enrolment)
    assert response["Location"] == reverse("home")
    enrolment.refresh_from_db()
    assert enrolment.status == "withdrawn"
    assert enrolment.withdrawn_at == left_at
    assert Pause.objects.get().ended_at == left_at


def test_withdrawing_twice_is_refused(member, make_enrolment):
    enrolment = make_enrolment()
    enrolment.withdraw(datetime(2026, 3, 4, tzinfo=UTC))
    response = post(member, "withdraw", enrolment, follow=True)
    assert b"already ended" in response.content


def test_pause_rolls_back_if_saving_fails(make_enrolment, monkeypatch):
    enrolment = make_enrolment()

    def broken_save(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Enrolment, "save", broken_save)
    with pytest.raises(RuntimeError):
        enrolment.pause(datetime(2026, 3, 4, tzinfo=UTC))
    assert not Pause.objects.exists()
