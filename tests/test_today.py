"""The Today page and logging sessions from it."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from programs import delivery, planning
from programs.models import Enrolment, Prescription, SessionLog

pytestmark = pytest.mark.django_db


def today_url(enrolment):
    return reverse("today", args=[enrolment.pk])


def log_url(enrolment, prescription):
    return reverse("log_session", args=[enrolment.pk, prescription.pk])


def prescription(stage_slug, n=1):
    return Prescription.objects.get(stage__slug=stage_slug, position=n)


def test_shows_week_and_todays_exercises(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    response = member.get(today_url(enrolment))
    assert response.status_code == 200
    assert b"Week 2 of 6" in response.content
    assert b"Deep Core 1" in response.content
    assert b"Breathing 1" in response.content  # ongoing stage stays on the list
    assert b"Information, not medical advice." in response.content


def test_locked_stage_shows_the_local_date_it_opens(member, make_enrolment, clock):
    enrolment = make_enrolment(timezone="Pacific/Kiritimati")
    clock("2026-03-10 09:00", "Pacific/Kiritimati")
    response = member.get(today_url(enrolment))
    assert "Opens Monday 23 March" in response.content.decode()
    assert "Pacific/Kiritimati" in response.content.decode()


def test_before_the_start_says_when_it_starts(member, make_enrolment, clock):
    enrolment = make_enrolment(start_date=date(2026, 3, 20))
    clock("2026-03-10 09:00", "Europe/London")
    response = member.get(today_url(enrolment))
    assert b"Your program starts Friday 20 March" in response.content
    assert b"Mark done" not in response.content


def test_after_the_end_says_complete(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-04-20 09:00", "Europe/London")
    response = member.get(today_url(enrolment))
    assert b"completed the program" in response.content


def test_not_cleared_shows_only_breathing_and_asks_for_clearance(member, make_enrolment, clock):
    enrolment = make_enrolment(cleared_at=None, caesarean=True)
    clock("2026-03-20 09:00", "Europe/London")
    content = member.get(today_url(enrolment)).content.decode()
    assert "Only the breathing stage is open for now" in content
    assert "Opens once you're cleared to exercise" in content
    assert "heavier than your baby" in content
    assert "Deep Core 1" not in content


def test_confirming_clearance_opens_stages_whose_week_has_come(member, make_enrolment, clock):
    clock("2026-03-20 09:00", "Europe/London")
    enrolment = make_enrolment(cleared_at=None)
    response = member.post(reverse("clearance", args=[enrolment.pk]), {"confirm": "on"})
    assert response.status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.cleared_at == datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    assert b"Deep Core 1" in member.get(today_url(enrolment)).content


def test_clearance_without_the_tick_changes_nothing(member, make_enrolment, clock):
    enrolment = make_enrolment(cleared_at=None)
    clock("2026-03-20 09:00", "Europe/London")
    response = member.post(reverse("clearance", args=[enrolment.pk]), {}, follow=True)
    assert b"Tick the box" in response.content
    enrolment.refresh_from_db()
    assert enrolment.cleared_at is None


def test_mark_done_without_javascript_redirects_back(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 23:30", "Europe/London")
    item = prescription("deep-core")
    response = member.post(log_url(enrolment, item), {"action": "done"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#ex-{item.pk}")
    log = SessionLog.objects.get()
    assert log.local_date == date(2026, 3, 10)


def test_log_uses_her_local_date_not_utc(member, make_enrolment, clock):
    enrolment = make_enrolment(timezone="America/Los_Angeles")
    clock("2026-03-11 02:00", "UTC")  # still the 10th in Los Angeles
    member.post(log_url(enrolment, prescription("deep-core")), {"action": "done"})
    assert SessionLog.objects.get().local_date == date(2026, 3, 10)


def test_mark_done_twice_keeps_one_log(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    for _ in range(2):
        member.post(log_url(enrolment, prescription("deep-core")), {"action": "done"})
    assert SessionLog.objects.count() == 1


def test_mark_done_with_htmx_returns_the_updated_item(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    item = prescription("deep-core")
    response = member.post(log_url(enrolment, item), {"action": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert content.strip().startswith("<li")
    assert "Done today" in content
    assert "This week: 1 of 3 days" in content
    assert "<html" not in content


def test_undo_removes_todays_log_only(member, make_enrolment, clock):
    enrolment = make_enrolment()
    item = prescription("deep-core")
    SessionLog.objects.create(enrolment=enrolment, prescription=item, local_date=date(2026, 3, 9))
    clock("2026-03-10 09:00", "Europe/London")
    member.post(log_url(enrolment, item), {"action": "done"})
    member.post(log_url(enrolment, item), {"action": "undo"})
    assert list(SessionLog.objects.values_list("local_date", flat=True)) == [date(2026, 3, 9)]


def test_cannot_log_a_locked_stage(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    response = member.post(
        log_url(enrolment, prescription("glutes")), {"action": "done"}, follow=True
    )
    assert b"That stage is not open yet." in response.content
    assert not SessionLog.objects.exists()


def test_cannot_log_while_paused(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    enrolment.pause(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    response = member.post(
        log_url(enrolment, prescription("breathing")), {"action": "done"}, follow=True
    )
    assert b"paused" in response.content
    assert not SessionLog.objects.exists()


def test_cannot_log_a_prescription_from_another_program(member, make_enrolment, clock):
    from programs.models import Program, Stage

    enrolment = make_enrolment()
    other = Program.objects.create(slug="other", name="Other", summary="x", weeks=2)
    stage = Stage.objects.create(
        program=other, position=1, slug="s", title="S", unlock_week=1, goal="g"
    )
    foreign = Prescription.objects.create(
        stage=stage, exercise=prescription("breathing").exercise, reps=5, days_per_week=2
    )
    clock("2026-03-10 09:00", "Europe/London")
    assert member.post(log_url(enrolment, foreign), {"action": "done"}).status_code == 404
    assert not SessionLog.objects.exists()


def test_log_needs_post(member, make_enrolment):
    enrolment = make_enrolment()
    assert member.get(log_url(enrolment, prescription("breathing"))).status_code == 405


def test_another_womans_page_is_not_found(client, other_user, make_enrolment):
    enrolment = make_enrolment()
    client.force_login(other_user)
    assert client.get(today_url(enrolment)).status_code == 404
    assert client.post(log_url(enrolment, prescription("breathing"))).status_code == 404
    assert client.post(reverse("pause", args=[enrolment.pk])).status_code == 404
    assert client.get(reverse("progress", args=[enrolment.pk])).status_code == 404


def test_logged_out_is_sent_to_log_in(client, make_enrolment):
    enrolment = make_enrolment()
    response = client.get(today_url(enrolment))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_today_page_queries_do_not_grow_with_stages_or_logs(member, make_enrolment, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    enrolment = make_enrolment()

    def count_queries(when):
        clock(when, "Europe/London")
        with CaptureQueriesContext(connection) as queries:
            response = member.get(today_url(enrolment))
        assert response.status_code == 200
        return len(queries), response.content

    early, _ = count_queries("2026-03-03 09:00")  # week 1: one stage
    for item in Prescription.objects.all():
        for day in range(23, 31):
            SessionLog.objects.create(
                enrolment=enrolment, prescription=item, local_date=date(2026, 3, day)
            )
    late, content = count_queries("2026-03-31 09:00")  # week 5: every stage, many logs
    assert b"Glutes 2" in content
    assert early == late


def test_today_redirect_opens_her_program(member, make_enrolment):
    enrolment = make_enrolment()
    assert member.get(reverse("today_redirect"))["Location"] == today_url(enrolment)


def test_today_redirect_without_a_program_goes_to_the_catalogue(member):
    assert member.get(reverse("today_redirect"))["Location"] == reverse("home")


def test_withdrawn_program_says_so_and_offers_no_logging(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    enrolment.withdraw(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    content = member.get(today_url(enrolment)).content
    assert b"You left this program" in content
    assert b"Mark done" not in content
    assert Enrolment.objects.get().status == "withdrawn"


def test_locked_stages_say_why_when_held_or_kept_closed(member, make_enrolment, clock):
    from programs.models import Hold, StageOverride

    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    StageOverride.objects.create(
        enrolment=enrolment,
        stage=enrolment.program.stages.get(slug="deep-core"),
        action="hold",
        created_at=datetime(2026, 3, 10, tzinfo=UTC),
    )
    Hold.objects.create(enrolment=enrolment, tier=1, started_at=datetime(2026, 3, 10, tzinfo=UTC))
    content = member.get(today_url(enrolment)).content.decode()
    assert "Your coach is keeping this stage closed for now" in content
    assert "opens once the hold is cleared" in content
    assert "New stages are on hold" in content


@pytest.mark.parametrize("page", ["today", "progress", "checkin"])
def test_an_enrolment_with_an_unknown_zone_sends_her_to_choose_again(member, make_enrolment, page):
    enrolment = make_enrolment()
    Enrolment.objects.filter(pk=enrolment.pk).update(timezone="Europe/Londn")
    response = member.get(reverse(page, args=[enrolment.pk]), follow=True)
    assert response.redirect_chain == [(reverse("preferences", args=[enrolment.pk]), 302)]
    assert "Please choose your time zone again" in response.content.decode()


# An urgent hold stops exercise


def urgent_hold(enrolment, tier=2):
    from programs.models import Hold

    return Hold.objects.create(
        enrolment=enrolment, tier=tier, started_at=datetime(2026, 3, 10, 8, tzinfo=UTC)
    )


def test_an_urgent_hold_shows_the_advice_first_and_alone(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    urgent_hold(enrolment)
    content = member.get(today_url(enrolment)).content.decode()
    assert "Please stop exercising and get medical help now" in content
    assert content.index("get medical help now") < content.index("Week 2 of 6")
    for exercise in ("Mark done", "Breathing 1", "Deep Core 1", "Earlier stages", "Coming up"):
        assert exercise not in content
    assert "New stages are on hold" not in content
    assert "Quick relief" not in content  # no stretches to try either


def test_a_warning_hold_keeps_her_exercises_and_no_urgent_advice(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    urgent_hold(enrolment, tier=1)
    content = member.get(today_url(enrolment)).content.decode()
    assert "get medical help now" not in content
    assert "Mark done" in content
    assert "Deep Core 1" in content
    assert "Quick relief" in content


def test_once_the_urgent_hold_is_cleared_her_exercises_come_back(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    hold = urgent_hold(enrolment)
    hold.cleared_at = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    hold.save()
    content = member.get(today_url(enrolment)).content.decode()
    assert "get medical help now" not in content
    assert "Mark done" in content


@pytest.mark.parametrize("action", ["done", "undo"])
def test_logging_is_refused_under_an_urgent_hold(member, make_enrolment, clock, action):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    item = prescription("breathing")
    SessionLog.objects.create(enrolment=enrolment, prescription=item, local_date=date(2026, 3, 9))
    urgent_hold(enrolment)
    response = member.post(log_url(enrolment, item), {"action": action}, follow=True)
    assert "Your exercises come back once the hold is cleared" in response.content.decode()
    assert list(SessionLog.objects.values_list("local_date", flat=True)) == [date(2026, 3, 9)]


def test_logging_under_a_warning_hold_still_works(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    urgent_hold(enrolment, tier=1)
    response = member.post(log_url(enrolment, prescription("breathing")), follow=True)
    assert "Your exercises come back once the hold is cleared" not in response.content.decode()
    assert SessionLog.objects.count() == 1


# Safe timing, said on the page


def test_a_loaded_stage_says_it_opens_six_weeks_after_birth(member, make_enrolment, clock):
    from programs.models import Stage

    Stage.objects.filter(slug="glutes").update(loaded=True)
    clock("2026-03-01 12:00", "Europe/London")
    enrolment = make_enrolment(weeks_postpartum=1)  # born about 22 February
    clock("2026-03-24 09:00", "Europe/London")  # week 4: glutes' week
    content = member.get(today_url(enrolment)).content.decode()
    assert "Opens 6 weeks after birth, on Sunday 5 April" in content
    assert "Glutes 1" not in content
    clock("2026-04-05 09:00", "Europe/London")
    assert "Glutes 1" in member.get(today_url(enrolment)).content.decode()


def test_a_stage_waiting_after_a_late_clearance_says_a_week_after_the_previous(
    member, make_enrolment, clock
):
    clock("2026-03-25 09:00", "Europe/London")  # week 4
    enrolment = make_enrolment(cleared_at=datetime(2026, 3, 25, 9, tzinfo=UTC))
    content = member.get(today_url(enrolment)).content.decode()
    assert "Deep Core 1" in content  # opened at her clearance
    assert "Opens a week after the previous stage, on Wednesday 1 April" in content
    assert "Glutes 1" not in content


def test_after_a_caesarean_lifting_waits_for_clearance_on_the_page_and_in_logging(
    member, make_enrolment, clock
):
    from programs.models import Exercise

    Exercise.objects.filter(slug="breathing-2").update(lifting=True)
    clock("2026-03-03 09:00", "Europe/London")
    enrolment = make_enrolment(caesarean=True, cleared_at=None)
    content = member.get(today_url(enrolment)).content.decode()
    assert "Breathing 1" in content
    assert "lifting waits until you've been cleared to exercise: Breathing 2" in content
    assert f'id="ex-{prescription("breathing", 2).pk}"' not in content
    response = member.post(log_url(enrolment, prescription("breathing", 2)), follow=True)
    assert "lifting waits until you have been cleared" in response.content.decode()
    assert SessionLog.objects.count() == 0


def test_without_a_caesarean_a_lifting_exercise_is_on_her_list(member, make_enrolment, clock):
    from programs.models import Exercise

    Exercise.objects.filter(slug="breathing-2").update(lifting=True)
    clock("2026-03-03 09:00", "Europe/London")
    enrolment = make_enrolment(caesarean=False, cleared_at=None)
    content = member.get(today_url(enrolment)).content.decode()
    assert "Breathing 2" in content
    assert "lifting waits" not in content


# A clearance earlier than 6 weeks after birth is confirmed first


def test_an_early_clearance_asks_her_to_confirm_and_saves_nothing_without(
    member, make_enrolment, clock
):
    clock("2026-03-03 09:00", "Europe/London")
    enrolment = make_enrolment(cleared_at=None, weeks_postpartum=2)
    page = member.get(today_url(enrolment)).content.decode()
    assert "less than 6 weeks since your baby was born" in page
    response = member.post(
        reverse("clearance", args=[enrolment.pk]), {"confirm": "on"}, follow=True
    )
    assert "clearance to exercise usually comes at a check 6 weeks after birth" in (
        response.content.decode()
    )
    enrolment.refresh_from_db()
    assert enrolment.cleared_at is None
    member.post(reverse("clearance", args=[enrolment.pk]), {"confirm": "on", "confirm_early": "on"})
    enrolment.refresh_from_db()
    assert enrolment.cleared_at == datetime(2026, 3, 3, 9, tzinfo=UTC)


def test_a_clearance_after_six_weeks_needs_no_second_confirmation(member, make_enrolment, clock):
    clock("2026-03-03 09:00", "Europe/London")
    enrolment = make_enrolment(cleared_at=None, weeks_postpartum=8)
    page = member.get(today_url(enrolment)).content.decode()
    assert "less than 6 weeks since your baby was born" not in page
    member.post(reverse("clearance", args=[enrolment.pk]), {"confirm": "on"})
    enrolment.refresh_from_db()
    assert enrolment.cleared_at is not None


# The page lists what the session email lists


def _part(content: str, heading_id: str) -> str:
    """The page from that heading to the next h2."""
    parts = content.split(f'id="{heading_id}"')
    return parts[1].split("<h2")[0] if len(parts) > 1 else ""


def _due_on_page(content: str) -> list[str]:
    return re.findall(r"<h4>(.*?)</h4>", _part(content, "due-today-heading"))


def _listed_in_email(body: str) -> list[str]:
    exercises = body.split("Not now? Remind me again:")[0]  # the snooze links come after
    return [line[2:].split(":")[0] for line in exercises.splitlines() if line.startswith("- ")]


@pytest.mark.parametrize(
    ("day", "due"),
    [
        ("2026-03-10", ["Breathing 1", "Breathing 2"]),  # a rest day for deep core
        ("2026-03-11", ["Breathing 1", "Breathing 2", "Deep Core 1", "Deep Core 2"]),
    ],
)
def test_today_lists_what_the_session_email_lists(member, make_enrolment, clock, day, due):
    enrolment = make_enrolment(coach=None)
    # A session the day before, so the morning's email is the session reminder, not a nudge.
    SessionLog.objects.create(
        enrolment=enrolment,
        prescription=prescription("breathing"),
        local_date=date.fromisoformat(day) - timedelta(days=1),
    )
    planning.plan_all(clock(f"{day} 07:00", "Europe/London"))
    sent_at = clock(f"{day} 08:00", "Europe/London") + timedelta(seconds=30)
    delivery.send_due(clock=lambda: sent_at)
    [email] = [m for m in mail.outbox if m.subject == "Today's exercises"]
    content = member.get(today_url(enrolment)).content.decode()
    assert _due_on_page(content) == _listed_in_email(email.body) == due
    also = _part(content, "also-heading")
    assert ("Also on your list this week" in content) == ("Deep Core 1" not in due)
    assert ("Deep Core 1" in also) == ("Deep Core 1" not in due)
    assert "Breathing 1" not in also


def test_today_shows_which_due_exercises_are_done(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    member.post(log_url(enrolment, prescription("breathing", 1)))
    due = _part(member.get(today_url(enrolment)).content.decode(), "due-today-heading")
    first, second = due.split('id="ex-')[1:3]
    assert "Done today" in first and "Mark done" not in first
    assert "Mark done" in second and "Done today" not in second


def test_a_paused_program_has_nothing_due(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    member.post(reverse("pause", args=[enrolment.pk]))
    content = member.get(today_url(enrolment)).content.decode()
    assert _due_on_page(content) == []
    assert "Nothing is due while your program is paused." in content
    assert "Breathing 1" in _part(content, "also-heading")
    assert "On your list this week" in content
    assert "Also on your list this week" not in content
