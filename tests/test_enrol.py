"""Enrolling in a program: the form's rules and what it saves."""

from datetime import UTC, date, datetime, time

import pytest
from django.urls import reverse

from programs.models import Enrolment

pytestmark = pytest.mark.django_db


def enrol_url(program):
    return reverse("enrol", args=[program.slug])


def answers(**overrides):
    data = {
        "start_date": "2026-03-10",
        "timezone": "Europe/London",
        "reminder_time": "07:30",
        "weeks_postpartum": "9",
        "caesarean": "False",
        "cleared": "True",
    }
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def now(clock):
    return clock("2026-03-10 09:00", "Europe/London")


def test_logged_out_is_sent_to_log_in(client, program):
    response = client.get(enrol_url(program))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_form_shows_every_question(member, program):
    content = member.get(enrol_url(program)).content.decode()
    for name in [
        "start_date",
        "timezone",
        "reminder_time",
        "weeks_postpartum",
        "caesarean",
        "cleared",
    ]:
        assert f'name="{name}"' in content
    assert 'value="2026-03-10"' in content  # today by default


def test_enrolling_saves_her_answers(member, program, user, now):
    response = member.post(enrol_url(program), answers())
    enrolment = Enrolment.objects.get()
    assert response["Location"] == reverse("today", args=[enrolment.pk])
    assert enrolment.user == user
    assert enrolment.start_date == date(2026, 3, 10)
    assert enrolment.timezone == "Europe/London"
    assert enrolment.reminder_time == time(7, 30)
    assert enrolment.weeks_postpartum == 9
    assert enrolment.caesarean is False
    assert enrolment.cleared_at == now
    assert enrolment.status == "active"


def test_not_cleared_saves_no_clearance(member, program):
    member.post(enrol_url(program), answers(cleared="False", caesarean="True"))
    enrolment = Enrolment.objects.get()
    assert enrolment.cleared_at is None
    assert enrolment.caesarean is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_date", "2026-03-09", "Choose today"),
        ("start_date", "2026-06-01", "within the next 60 days"),
        ("start_date", "not-a-date", "Enter a valid date"),
        ("timezone", "Mars/Olympus_Mons", "Select a valid choice"),
        ("timezone", "", "Choose your time zone."),
        ("reminder_time", "25:00", "Enter a valid time"),
        ("weeks_postpartum", "-1", "greater than or equal to 0"),
        ("weeks_postpartum", "105", "0 to 104"),
        ("weeks_postpartum", "lots", "Enter a whole number"),
        ("caesarean", "", "This field is required"),
        ("cleared", "maybe", "Select a valid choice"),
    ],
)
def test_bad_answer_gets_a_message_and_saves_nothing(member, program, field, value, message):
    response = member.post(enrol_url(program), answers(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Enrolment.objects.exists()


def test_start_date_is_judged_in_her_time_zone(member, program, clock):
    clock("2026-03-10 11:00", "UTC")  # already the 11th in Kiritimati (UTC+14)
    response = member.post(
        enrol_url(program), answers(start_date="2026-03-10", timezone="Pacific/Kiritimati")
    )
    assert "Choose today" in response.content.decode()
    member.post(enrol_url(program), answers(start_date="2026-03-11", timezone="Pacific/Kiritimati"))
    assert Enrolment.objects.get().start_date == date(2026, 3, 11)


def test_a_second_enrolment_in_the_same_program_is_refused(member, program, make_enrolment):
    existing = make_enrolment()
    response = member.post(enrol_url(program), answers())
    assert response["Location"] == reverse("today", args=[existing.pk])
    assert Enrolment.objects.count() == 1


def test_the_form_refuses_a_duplicate_even_if_the_page_was_already_open(program, user):
    from programs.forms import EnrolmentForm

    Enrolment.objects.create(
        user=user,
        program=program,
        start_date=date(2026, 3, 10),
        timezone="UTC",
        weeks_postpartum=8,
        caesarean=False,
    )
    form = EnrolmentForm(answers(), user=user, program=program)
    assert not form.is_valid()
    assert "already enrolled" in str(form.non_field_errors())


def test_after_withdrawing_she_can_enrol_again(member, program, make_enrolment):
    make_enrolment().withdraw(datetime(2026, 3, 9, tzinfo=UTC))
    member.post(enrol_url(program), answers())
    assert Enrolment.objects.filter(status="active").count() == 1
    assert Enrolment.objects.count() == 2


def test_unpublished_program_cannot_be_joined(member, program):
    program.is_published = False
    program.save()
    assert member.get(enrol_url(program)).status_code == 404


# A clearance earlier than 6 weeks after birth is confirmed with her first


def test_cleared_two_weeks_after_birth_asks_her_to_confirm_and_saves_nothing(member, program):
    response = member.post(enrol_url(program), answers(weeks_postpartum="2"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Your baby was born 2 weeks ago: clearance to exercise usually comes" in content
    assert 'name="confirm_early"' in content
    assert not Enrolment.objects.exists()


def test_cleared_two_weeks_after_birth_and_confirmed_is_saved(member, program, now):
    member.post(enrol_url(program), answers(weeks_postpartum="2", confirm_early="on"))
    assert Enrolment.objects.get().cleared_at == now


def test_cleared_six_weeks_after_birth_needs_no_confirmation(member, program):
    response = member.post(enrol_url(program), answers(weeks_postpartum="6"))
    assert response.status_code == 302
    assert Enrolment.objects.get().cleared_at is not None


def test_not_cleared_two_weeks_after_birth_needs_no_confirmation(member, program):
    response = member.post(enrol_url(program), answers(weeks_postpartum="2", cleared="False"))
    assert response.status_code == 302
    assert Enrolment.objects.get().cleared_at is None


def test_the_confirmation_is_not_asked_of_everyone(member, program):
    assert 'name="confirm_early"' not in member.get(enrol_url(program)).content.decode()


def test_her_birth_date_is_estimated_from_her_enrolment_in_her_zone(member, program, clock):
    clock("2026-03-10 23:30", "America/New_York")  # already 11 March in UTC
    member.post(
        enrol_url(program),
        answers(start_date="2026-03-10", timezone="America/New_York", weeks_postpartum="9"),
    )
    assert Enrolment.objects.get().birth_date == date(2026, 1, 6)  # 10 March less 9 weeks
