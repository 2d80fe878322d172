"""The weekly check-in: the form, the signed link, red flags and holds."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from programs import links, roles, safety
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


def test_the_form_asks_every_question(member, enrolment):
    content = member.get(checkin_url(enrolment)).content.decode()
    assert "How was week 2?" in content
    for name in ["pain", "pain_sites", "warning_signs", "urgent_signs", "sessions_felt", "note"]:
        assert f'name="{name}"' in content
    assert safety.URGENT_SIGNS["calf"] in content


def test_a_calm_check_in_is_saved_and_holds_nothing(member, enrolment):
    response = member.post(checkin_url(enrolment), answers())
    assert b"check-in saved" in response.content
    checkin = CheckIn.objects.get()
    assert (checkin.week, checkin.pain, checkin.pain_sites, checkin.tier) == (2, 2, ["low_back"], 0)
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


def test_pain_rising_two_points_since_last_time_is_a_red_flag(member, enrolment):
    member.post(checkin_url(enrolment), answers(pain="2"))
    member.post(checkin_url(enrolment), answers(pain="4"))
    assert list(CheckIn.objects.values_list("tier", flat=True)) == [0, 1]
    assert Hold.objects.count() == 1


def test_a_second_red_flag_keeps_one_hold_and_raises_its_tier(member, enrolment):
    member.post(checkin_url(enrolment), answers(warning_signs=["heaviness"]))
    member.post(checkin_url(enrolment), answers(urgent_signs=["calf"]))
    hold = Hold.objects.get()
    assert hold.tier == 2


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
