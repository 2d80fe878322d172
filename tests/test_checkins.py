"""The weekly check-in: the form, the signed link, red flags and holds."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils.html import escape

from programs import checkins, links, reminders, roles, safety
from programs.models import CheckIn, Hold, Notification

pytestmark = pytest.mark.django_db


def answers(**overrides):
    data = {
        "pain": "2",
        "pain_sites": ["low_back"],
        "warning_signs": [],
        "urgent_signs": [],
        "sessions_felt": "right",
        "note": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def enrolment(make_enrolment, coach, clock):
    clock("2026-03-10 09:00", "Europe/London")
    return make_enrolment(coach=coach)


def checkin_url(enrolment):
    return reverse("checkin", args=[enrolment.pk])


def test_the_form_asks_every_question_urgent_ones_first(member, enrolment):
    content = member.get(checkin_url(enrolment)).content.decode()
    # Day 9: the week asked about is the one that ended, week 1.
    assert "How was week 1?" in content
    for name in ["pain", "pain_sites", "warning_signs", "urgent_signs", "sessions_felt", "note"]:
        assert f'name="{name}"' in content
    assert content.index('name="urgent_signs"') < content.index('name="pain"')
    assert content.index('name="urgent_signs"') < content.index('name="warning_signs"')
    for label in [*safety.URGENT_SIGNS.values(), *safety.WARNING_SIGNS.values()]:
        assert str(escape(label)) in content


def test_a_calm_check_in_is_saved_and_holds_nothing(member, enrolment):
    response = member.post(checkin_url(enrolment), answers())
    assert b"check-in saved" in response.content
    checkin = CheckIn.objects.get()
    assert (checkin.week, checkin.pain, checkin.pain_sites, checkin.tier) == (1, 2, ["low_back"], 0)
    assert not Hold.objects.exists()
    assert not Notification.objects.filter(kind="coach_alert").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pain": "11"}, "Select a valid choice"),
        ({"pain": ""}, "This field is required"),
        ({"pain": "two"}, "Select a valid choice"),
        ({"warning_signs": ["made_up"]}, "Select a valid choice"),
        ({"sessions_felt": ""}, "This field is required"),
        ({"note": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_answers_get_a_message_and_change_nothing(member, enrolment, overrides, message):
    response = member.post(checkin_url(enrolment), answers(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CheckIn.objects.exists()
    assert not Hold.objects.exists()


def test_a_warning_sign_holds_new_stages_tells_her_whom_to_see_and_alerts_her_coach(
    member, enrolment, coach
):
    response = member.post(checkin_url(enrolment), answers(warning_signs=["leaking"]))
    content = response.content.decode()
    assert "pelvic-health physiotherapist or your GP" in content
    assert safety.WARNING_SIGNS["leaking"] in content
    hold = Hold.objects.get()
    assert (hold.tier, hold.cleared_at) == (1, None)
    alert = Notification.objects.get(kind="coach_alert")
    assert (alert.recipient, alert.status) == (coach, "pending")
    today = member.get(reverse("today", args=[enrolment.pk])).content.decode()
    assert "New stages are on hold" in today


def test_an_urgent_sign_shows_the_urgent_screen_first(member, enrolment, settings):
    settings.EMERGENCY_NUMBER = "999"
    response = member.post(checkin_url(enrolment), answers(urgent_signs=["breathless"]))
    content = response.content.decode()
    main = content[content.index('<main id="main">') :]
    assert main.index("Stop exercising and get medical help now") < main.index("Back to today")
    assert 'href="tel:999"' in content
    assert Hold.objects.get().tier == 2
    assert Notification.objects.get(kind="coach_alert").key.startswith("urgent-")


def test_pain_rising_two_points_since_last_week_is_a_red_flag(member, enrolment, clock):
    member.post(checkin_url(enrolment), answers(pain="2"))
    clock("2026-03-15 09:00", "Europe/London")  # day 14: week 2's check-in
    member.post(checkin_url(enrolment), answers(pain="4"))
    assert list(CheckIn.objects.values_list("week", "tier")) == [(1, 0), (2, 1)]
    assert Hold.objects.count() == 1


def test_a_more_serious_answer_the_same_week_raises_the_hold_and_alerts_again(member, enrolment):
    member.post(checkin_url(enrolment), answers(warning_signs=["heaviness"]))
    response = member.post(checkin_url(enrolment), answers(urgent_signs=["calf"]))
    assert b"Stop exercising and get medical help now" in response.content
    hold = Hold.objects.get()
    assert hold.tier == 2
    checkin = CheckIn.objects.get()
    keys = Notification.objects.filter(kind="coach_alert").values_list("key", flat=True)
    assert sorted(keys) == [
        f"flag-{checkin.pk}-hold-{hold.pk}",
        f"urgent-{checkin.pk}-hold-{hold.pk}",
    ]


def test_a_hold_stops_the_program_clock_until_cleared(member, enrolment, coach, client, clock):
    member.post(checkin_url(enrolment), answers(warning_signs=["numbness"]))
    clock("2026-03-20 09:00", "Europe/London")
    enrolment.refresh_from_db()
    snap = enrolment.snapshot(datetime(2026, 3, 20, 9, tzinfo=UTC))
    assert snap.held and snap.week == 2
    client.force_login(coach)
    response = client.post(reverse("clear_hold", args=[enrolment.pk]))
    assert response.status_code == 302
    hold = Hold.objects.get()
    assert (hold.cleared_by, hold.cleared_at) == (coach, datetime(2026, 3, 20, 9, tzinfo=UTC))
    snap = enrolment.snapshot(datetime(2026, 3, 20, 9, 1, tzinfo=UTC))
    assert not snap.held
    assert snap.week == 2  # the ten held days did not count


def test_another_coach_cannot_clear_the_hold(member, enrolment, client, django_user_model):
    member.post(checkin_url(enrolment), answers(warning_signs=["numbness"]))
    stranger = django_user_model.objects.create_user("other@example.com", "other@example.com")
    roles.make_coach(stranger)
    client.force_login(stranger)
    assert client.post(reverse("clear_hold", args=[enrolment.pk])).status_code == 404
    assert Hold.objects.get().cleared_at is None


def test_the_enrollee_cannot_clear_her_own_hold(member, enrolment):
    member.post(checkin_url(enrolment), answers(warning_signs=["numbness"]))
    assert member.post(reverse("clear_hold", args=[enrolment.pk])).status_code == 403


def test_staff_can_clear_any_hold(member, enrolment, client, django_user_model):
    member.post(checkin_url(enrolment), answers(warning_signs=["numbness"]))
    staff = django_user_model.objects.create_user("s@example.com", "s@example.com", is_staff=True)
    client.force_login(staff)
    client.post(reverse("clear_hold", args=[enrolment.pk]))
    assert Hold.objects.get().cleared_by == staff


def test_clearing_when_there_is_no_hold_says_so(enrolment, client, coach):
    client.force_login(coach)
    response = client.post(reverse("clear_hold", args=[enrolment.pk]), follow=True)
    assert b"There is no hold to clear." in response.content


# The signed link from the email


def test_the_emailed_link_opens_the_form_without_logging_in(client, enrolment):
    url = links.checkin_url(enrolment.pk, 1).removeprefix("http://127.0.0.1:8000")
    response = client.get(url)
    assert b"How was week 1?" in response.content
    client.post(url, answers())
    assert CheckIn.objects.get().week == 1


def test_a_tampered_link_is_refused(client, enrolment):
    url = links.checkin_url(enrolment.pk, 1)
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = signing.dumps({"e": enrolment.pk + 1, "w": 1}, salt="wrong-salt", compress=True)
    for bad in [token[:-2] + "xx", forged, "nonsense"]:
        response = client.get(reverse("checkin_link", args=[bad]))
        assert response.status_code == 400
        assert b"This link is not valid." in response.content
    assert client.post(reverse("checkin_link", args=[forged]), answers()).status_code == 400
    assert not CheckIn.objects.exists()


def test_an_expired_link_is_refused(client, enrolment):
    url = links.checkin_url(enrolment.pk, 1).removeprefix("http://127.0.0.1:8000")
    with time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=UTC) + timedelta(days=9), tick=False):
        response = client.post(url, answers())
    assert response.status_code == 400
    assert b"This check-in link has expired." in response.content
    assert not CheckIn.objects.exists()


def test_a_link_for_a_program_she_left_says_so(client, enrolment):
    url = links.checkin_url(enrolment.pk, 1).removeprefix("http://127.0.0.1:8000")
    enrolment.withdraw(datetime(2026, 3, 10, 9, tzinfo=UTC))
    assert client.get(url).status_code == 410


def test_nobody_else_sees_the_check_in_form_of_her_program(client, enrolment, other_user):
    client.force_login(other_user)
    assert client.get(checkin_url(enrolment)).status_code == 404


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The link throttle counts in a cache that may outlive one test."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


def link_path(enrolment, week=1):
    return links.checkin_url(enrolment.pk, week).removeprefix("http://127.0.0.1:8000")


# One check-in per program week


def test_the_first_check_in_is_offered_on_day_7_not_before(member, make_enrolment, clock):
    clock("2026-03-07 09:00", "Europe/London")  # day 6 of week 1
    enrolment = make_enrolment()
    early = member.get(checkin_url(enrolment)).content.decode()
    assert "Your first check-in comes at the end of week 1" in early
    assert 'name="pain"' not in early
    assert member.post(checkin_url(enrolment), answers()).status_code == 200
    assert not CheckIn.objects.exists()
    clock("2026-03-08 09:00", "Europe/London")  # day 7
    on_time = member.get(checkin_url(enrolment)).content.decode()
    assert "How was week 1?" in on_time
    assert "Your first check-in comes" not in on_time


def test_the_check_in_email_is_planned_on_day_7_of_each_week(make_enrolment):
    enrolment = make_enrolment()  # starts Monday 2 March, reminders at 08:00 London
    recipient = reminders.Recipient(facts=enrolment.facts(), reminder_time=enrolment.reminder_time)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    planned = reminders.plan(recipient, start, start + timedelta(days=15))
    checkins_due = [(p.key, p.due_at) for p in planned if p.kind.key == "checkin"]
    assert checkins_due == [
        ("week-1", datetime(2026, 3, 8, 8, tzinfo=UTC)),
        ("week-2", datetime(2026, 3, 15, 8, tzinfo=UTC)),
    ]


def test_answering_again_the_same_week_changes_that_week_and_shows_her_answers(
    member, enrolment, clock
):
    member.post(checkin_url(enrolment), answers(pain="3", note="first words"))
    later = clock("2026-03-11 10:00", "Europe/London")
    page = member.get(checkin_url(enrolment)).content.decode()
    assert "You checked in for week 1" in page
    assert re.search(r'<input[^>]*name="pain"[^>]*value="3"[^>]*checked', page)
    assert not re.search(r'<input[^>]*name="pain"[^>]*value="1"[^>]*checked', page)
    assert "first words" in page
    member.post(checkin_url(enrolment), answers(pain="1", note="second words"))
    checkin = CheckIn.objects.get()
    assert (checkin.week, checkin.pain, checkin.note) == (1, 1, "second words")
    assert checkin.updated_at == later
    assert checkin.submitted_at < later


def test_the_same_red_flag_again_raises_no_second_hold_or_alert(member, enrolment):
    member.post(checkin_url(enrolment), answers(warning_signs=["leaking"]))
    response = member.post(checkin_url(enrolment), answers(warning_signs=["leaking"], pain="3"))
    assert Hold.objects.count() == 1
    assert Notification.objects.filter(kind__in=["coach_alert", "clinic_alert"]).count() == 1
    # Still true, from the row her first answers queued.
    assert "Your coach, Dana, has been sent an alert." in response.content.decode()


def test_the_same_answers_after_her_hold_was_cleared_raise_nothing_new(member, enrolment, coach):
    member.post(checkin_url(enrolment), answers(warning_signs=["leaking"]))
    checkins.clear_hold(enrolment, coach, datetime(2026, 3, 10, 10, tzinfo=UTC))
    response = member.post(checkin_url(enrolment), answers(warning_signs=["leaking"]))
    assert Hold.objects.filter(cleared_at__isnull=True).count() == 0
    assert Notification.objects.filter(kind="coach_alert").count() == 1
    assert "has been sent an alert" not in response.content.decode()


def test_a_new_sign_after_her_hold_was_cleared_alerts_her_coach_again(member, enrolment, coach):
    member.post(checkin_url(enrolment), answers(warning_signs=["leaking"]))
    checkins.clear_hold(enrolment, coach, datetime(2026, 3, 10, 10, tzinfo=UTC))
    Notification.objects.filter(kind="coach_alert").update(status="sent")
    response = member.post(checkin_url(enrolment), answers(warning_signs=["leaking", "heaviness"]))
    assert Hold.objects.filter(cleared_at__isnull=True).count() == 1
    assert Notification.objects.filter(kind="coach_alert", status="pending").count() == 1
    assert "Your coach, Dana, has been sent an alert." in response.content.decode()


def test_a_past_week_can_be_read_but_not_changed(member, enrolment, clock):
    member.post(checkin_url(enrolment), answers(pain="2"))
    clock("2026-03-15 09:00", "Europe/London")  # week 2's check-in is now the one asked
    path = link_path(enrolment, 1)
    page = member.get(path)
    assert b"can no longer be changed" in page.content
    assert b"2 out of 10" in page.content
    assert member.post(path, answers(pain="9")).status_code == 409
    assert CheckIn.objects.get().pain == 2


# The emailed link: bound to her and her week


def test_another_logged_in_person_is_refused_the_link(client, enrolment, other_user, coach):
    path = link_path(enrolment)
    for person in (other_user, coach):
        client.force_login(person)
        page = client.get(path)
        assert page.status_code == 403
        assert b"This check-in link is for someone else" in page.content
        assert b'name="pain"' not in page.content
        assert client.post(path, answers(warning_signs=["leaking"])).status_code == 403
    assert not CheckIn.objects.exists()
    assert not Hold.objects.exists()
    assert not Notification.objects.filter(kind="coach_alert").exists()


def test_she_can_use_her_own_link_while_logged_in(member, enrolment):
    member.post(link_path(enrolment), answers())
    assert CheckIn.objects.get().week == 1


def test_a_replayed_link_adds_nothing_and_shows_no_answers_logged_out(client, enrolment):
    path = link_path(enrolment)
    client.post(path, answers(warning_signs=["leaking"], note="private words"))
    for _ in range(3):
        response = client.post(path, answers(warning_signs=["heaviness"]))
        assert response.status_code == 409
        assert b"already checked in for week 1" in response.content
    page = client.get(path).content.decode()
    assert "Log in to see your answers" in page
    assert "private words" not in page and 'name="pain"' not in page
    assert CheckIn.objects.get().warning_signs == ["leaking"]
    assert Hold.objects.count() == 1
    assert Notification.objects.filter(kind="coach_alert").count() == 1


def test_posting_to_a_link_is_throttled(member, enrolment):
    path = link_path(enrolment)
    for _ in range(5):
        assert member.post(path, answers(pain="")).status_code == 200  # invalid, still counted
    response = member.post(path, answers())
    assert response.status_code == 429
    assert b"used too many times in the last hour" in response.content
    assert not CheckIn.objects.exists()
    # Opening it is not throttled, and another week's link has its own count.
    assert member.get(path).status_code == 200
    assert member.post(link_path(enrolment, 2), answers()).status_code == 200


# What she is told: only what a row proves


def test_with_a_coach_the_page_names_her_coach(member, enrolment):
    content = member.post(checkin_url(enrolment), answers(warning_signs=["leaking"])).content
    content = content.decode()
    assert Notification.objects.filter(kind="coach_alert").exists()
    assert "Your coach, Dana, has been sent an alert." in content
    assert "The clinic team has been sent an alert." not in content


def test_without_a_coach_or_clinic_address_no_one_is_said_to_be_told(
    member, make_enrolment, clock, settings
):
    settings.CLINIC_ALERT_EMAIL = ""
    clock("2026-03-10 09:00", "Europe/London")
    enrolment = make_enrolment(coach=None)
    content = member.post(checkin_url(enrolment), answers(warning_signs=["leaking"])).content
    content = content.decode()
    assert not Notification.objects.filter(kind__in=["coach_alert", "clinic_alert"]).exists()
    assert "has been sent an alert" not in content
    assert "has been told" not in content
    assert "Please contact your midwife, GP or a pelvic-health physiotherapist yourself" in content


def test_without_a_coach_the_clinic_team_is_named_when_its_row_exists(
    member, make_enrolment, clock, settings
):
    settings.CLINIC_ALERT_EMAIL = "clinic@example.org"
    clock("2026-03-10 09:00", "Europe/London")
    enrolment = make_enrolment(coach=None)
    content = member.post(checkin_url(enrolment), answers(urgent_signs=["calf"])).content
    content = content.decode()
    assert Notification.objects.filter(kind="clinic_alert").exists()
    assert "The clinic team has been sent an alert." in content
    assert "Your coach" not in content


def test_a_later_escalation_is_not_said_to_have_been_sent(member, enrolment, settings):
    settings.CLINIC_ALERT_EMAIL = "clinic@example.org"
    content = member.post(checkin_url(enrolment), answers(warning_signs=["leaking"])).content
    content = content.decode()
    assert "Your coach, Dana, has been sent an alert." in content
    assert "The clinic team has been sent an alert." not in content


def test_told_counts_only_coach_alerts_and_clinic_alerts_due_now(enrolment, coach):
    now = datetime(2026, 3, 10, 9, tzinfo=UTC)
    coach_row = Notification(kind="coach_alert", recipient=coach, due_at=now)
    later = Notification(kind="clinic_alert", address="c@example.org", due_at=now + timedelta(1))
    due = Notification(kind="clinic_alert", address="c@example.org", due_at=now)
    assert checkins.told([], now) == {
        "coach_alerted": False,
        "coach_name": "",
        "clinic_alerted": False,
    }
    assert checkins.told([coach_row, later], now)["clinic_alerted"] is False
    assert checkins.told([coach_row, due], now) == {
        "coach_alerted": True,
        "coach_name": "Dana",
        "clinic_alerted": True,
    }


# The signs in full


def test_thoughts_of_harm_get_a_gentle_screen_with_the_crisis_line(member, enrolment, settings):
    settings.CRISIS_LINE = "Crisisline 0800 000 111"
    content = member.post(checkin_url(enrolment), answers(urgent_signs=["harm"])).content.decode()
    main = content[content.index('<main id="main">') :]
    assert main.index("You are not in trouble") < main.index("Back to today")
    assert "call Crisisline 0800 000 111" in main
    assert "your GP or midwife" in main
    assert "Stop exercising and get medical help now" not in main
    assert Hold.objects.get().tier == 2


def test_the_harm_screen_without_a_crisis_line_still_names_gp_and_midwife(
    member, enrolment, settings
):
    settings.CRISIS_LINE = ""
    content = member.post(checkin_url(enrolment), answers(urgent_signs=["harm"])).content.decode()
    assert "Please talk to someone today: your GP or midwife." in content
    assert "call ," not in content


def test_a_physical_urgent_sign_comes_before_the_harm_screen(member, enrolment, settings):
    settings.CRISIS_LINE = "Crisisline 0800 000 111"
    response = member.post(checkin_url(enrolment), answers(urgent_signs=["harm", "weak_legs"]))
    main = response.content.decode()
    main = main[main.index('<main id="main">') :]
    assert main.index("Stop exercising and get medical help now") < main.index("not in trouble")
    assert safety.URGENT_SIGNS["weak_legs"] in main


def test_low_mood_alone_is_a_gentle_referral_that_holds_nothing(member, enrolment):
    response = member.post(checkin_url(enrolment), answers(warning_signs=["low_mood"]))
    content = response.content.decode()
    assert "talk to your GP or health visitor" in content
    assert "Your exercises carry on" in content
    assert "no new stages will open" not in content
    assert CheckIn.objects.get().tier == 1  # her coach sees it on her check-in
    assert not Hold.objects.exists()
    assert "has been sent an alert" not in content


@pytest.mark.parametrize("sign", ["saddle_numbness", "cannot_pass_urine", "perineal_wound"])
def test_the_new_urgent_signs_hold_the_program_urgently(member, enrolment, sign):
    content = member.post(checkin_url(enrolment), answers(urgent_signs=[sign])).content.decode()
    assert "Stop exercising and get medical help now" in content
    assert Hold.objects.get().tier == 2


@pytest.mark.parametrize("sign", ["pelvic_girdle", "sex_pain"])
def test_the_new_warning_signs_hold_new_stages(member, enrolment, sign):
    member.post(checkin_url(enrolment), answers(warning_signs=[sign]))
    assert Hold.objects.get().tier == 1
